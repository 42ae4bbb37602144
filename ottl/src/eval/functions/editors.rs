//! The editors: functions that change the item (a path they write, a map they edit).

use super::metrics::{aggregate, extract_metric, metric_editor};
use super::{err, glob_match, Args};
use crate::ast::Call;
use crate::eval::expr::{path_get, path_set};
use crate::eval::item::Item;
use crate::eval::value::Value;
use crate::eval::EvalError;

fn map_of(v: Value, what: &str) -> Result<Option<Vec<(String, Value)>>, EvalError> {
    match v {
        Value::Map(m) => Ok(Some(m)),
        Value::Nil => Ok(None),
        other => err(format!("{what}: the target is a {}, not a map", other.type_name())),
    }
}

pub fn editor(c: &Call, item: &mut Item) -> Result<(), EvalError> {
    let a = Args::new(c)?;
    let name = c.name.as_str();
    match name {
        "set" => {
            let v = a.value(1, item)?;
            if !matches!(v, Value::Nil) {
                path_set(a.path(0)?, item, v)?;
            }
            return Ok(());
        }
        "append" => {
            let target = a.path(0)?;
            let mut list = match path_get(target, item)? {
                Value::Nil => Vec::new(),
                Value::List(l) => l,
                single => vec![single],
            };
            if a.arg(1).is_some() {
                list.push(a.value(1, item)?);
            }
            list.extend(a.values(2, item)?);
            return path_set(target, item, Value::List(list));
        }
        "replace_pattern" | "replace_match" => {
            let target = a.path(0)?;
            let Value::Str(s) = path_get(target, item)? else { return Ok(()) };
            let replacement = a.string(2, item)?;
            let r = a.replacer(3);
            let out = if name == "replace_pattern" {
                r.replace_regex(a.regex(1)?, &s, &replacement)
            } else if glob_match(a.lit_str(1).unwrap_or(""), &s) {
                r.finish(replacement)
            } else {
                s.clone()
            };
            if out != s {
                path_set(target, item, Value::Str(out))?;
            }
            return Ok(());
        }
        "convert_sum_to_gauge" | "convert_gauge_to_sum" | "scale_metric" => return metric_editor(&a, item),
        "extract_sum_metric" | "extract_count_metric" => return extract_metric(&a, item),
        "aggregate_on_attributes" => return aggregate(&a, item),
        _ => {}
    }
    // The rest edit a map in place.
    let target = a.path(0)?;
    // Deleting one attribute needs no conversion of the map.
    if let (Some((owner, crate::catalog::Field::Attributes)), true, "delete_key") = (target.resolved, target.keys.is_empty(), name) {
        let key = a.string(1, item)?;
        item.attributes_mut(owner)?.retain(|kv| kv.key != key);
        return Ok(());
    }
    let Some(mut map) = map_of(path_get(target, item)?, name)? else { return Ok(()) };
    match name {
        "delete_key" => {
            let key = a.string(1, item)?;
            map.retain(|(k, _)| *k != key);
        }
        "delete_matching_keys" => {
            let re = a.regex(1)?;
            map.retain(|(k, _)| !re.is_match(k));
        }
        "keep_keys" => {
            let keys = a.lit_strs(1);
            map.retain(|(k, _)| keys.contains(&k.as_str()));
        }
        "keep_matching_keys" => {
            let re = a.regex(1)?;
            map.retain(|(k, _)| re.is_match(k));
        }
        "limit" => {
            let n = a.lit_int(1).unwrap_or(0);
            let priority = a.lit_strs(2);
            let Ok(n) = usize::try_from(n) else { return err(format!("limit: the limit {n} cannot be negative")) };
            if priority.len() > n {
                return err(format!("limit: {} priority keys are more than the limit {n}", priority.len()));
            }
            if map.len() > n {
                let (mut first, rest): (Vec<_>, Vec<_>) = map.into_iter().partition(|(k, _)| priority.contains(&k.as_str()));
                first.truncate(n);
                let room = n - first.len();
                first.extend(rest.into_iter().take(room));
                map = first;
            }
        }
        "merge_maps" => {
            let Some(source) = map_of(a.value(1, item)?, name)? else { return Ok(()) };
            let strategy = a.lit_str(2).unwrap_or("upsert");
            for (k, v) in source {
                match (map.iter_mut().find(|(ek, _)| *ek == k), strategy) {
                    (Some((_, existing)), "update" | "upsert") => *existing = v,
                    (None, "insert" | "upsert") => map.push((k, v)),
                    _ => {}
                }
            }
        }
        "replace_all_patterns" => {
            let re = a.regex(2)?;
            let replacement = a.string(3, item)?;
            let r = a.replacer(4);
            let by_key = a.lit_str(1) == Some("key");
            for (k, v) in &mut map {
                if by_key {
                    *k = r.replace_regex(re, k, &replacement);
                } else if let Value::Str(s) = v {
                    *s = r.replace_regex(re, s, &replacement);
                }
            }
        }
        "replace_all_matches" => {
            let pattern = a.lit_str(1).unwrap_or("");
            let replacement = a.string(2, item)?;
            let r = a.replacer(3);
            for (_, v) in &mut map {
                if let Value::Str(s) = v {
                    if glob_match(pattern, s) {
                        *s = r.finish(replacement.clone());
                    }
                }
            }
        }
        "truncate_all" => {
            let limit = a.lit_int(1).unwrap_or(0);
            let Ok(limit) = usize::try_from(limit) else { return err(format!("truncate_all: the limit {limit} cannot be negative")) };
            for (_, v) in &mut map {
                if let Value::Str(s) = v {
                    if s.len() > limit {
                        let mut cut = limit;
                        while !s.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        s.truncate(cut);
                    }
                }
            }
        }
        "flatten" => {
            let prefix = a.lit_str(1).unwrap_or("");
            let depth = a.lit_int(2).unwrap_or(100);
            if depth < 0 {
                return err(format!("flatten: the depth {depth} cannot be negative"));
            }
            let resolve = matches!(a.value(3, item)?, Value::Bool(true));
            let mut out = Vec::new();
            flatten_into(&mut out, prefix, map, depth, resolve);
            map = out;
        }
        other => return err(format!("{other} is not an editor")),
    }
    path_set(target, item, Value::Map(map))
}

fn flatten_into(out: &mut Vec<(String, Value)>, prefix: &str, entries: Vec<(String, Value)>, depth: i64, resolve: bool) {
    let join = |k: &str| if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
    for (k, v) in entries {
        let key = join(&k);
        match v {
            Value::Map(m) if depth > 0 => flatten_into(out, &key, m, depth - 1, resolve),
            Value::List(l) if depth > 0 => {
                let indexed = l.into_iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect();
                flatten_into(out, &key, indexed, depth - 1, resolve);
            }
            v => insert_flat(out, key, v, resolve),
        }
    }
}

/// A flattened entry; with `resolve`, a key already present gets the first free `.N` suffix.
fn insert_flat(out: &mut Vec<(String, Value)>, key: String, v: Value, resolve: bool) {
    match out.iter().position(|(k, _)| *k == key) {
        None => out.push((key, v)),
        Some(i) if !resolve => out[i].1 = v,
        Some(_) => {
            let free = (0..).map(|n| format!("{key}.{n}")).find(|k| !out.iter().any(|(ek, _)| ek == k)).unwrap_or(key);
            out.push((free, v));
        }
    }
}
