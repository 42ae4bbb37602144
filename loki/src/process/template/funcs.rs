//! The functions templates may call: Go's builtins, upstream's overrides, and sprig's text
//! functions that make sense for a log line. Arguments are converted as Go converts them for a
//! typed parameter (a `string` parameter refuses an int); sprig's `interface{}` parameters take
//! anything and convert with spf13/cast's rules.

use std::collections::BTreeMap;

use prom::relabel::{GoRegex, Template as Expansion};
use sha2::{Digest, Sha256};
use sha3::Sha3_256;

use super::convert::{boolean, empty, equal, float, int, is_nil, less, string, strval, to_f64, to_i64};
use super::{fmt, sprig, TVal};

/// The functions templates may call (checked when the template is parsed, as Go does).
pub(super) const FUNCTIONS: &[&str] = &[
    // Go's builtins.
    "and",
    "or",
    "not",
    "len",
    "index",
    "print",
    "printf",
    "println",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    // Upstream's overrides.
    "ToLower",
    "ToUpper",
    "Replace",
    "Trim",
    "TrimLeft",
    "TrimRight",
    "TrimPrefix",
    "TrimSuffix",
    "TrimSpace",
    "Hash",
    "Sha2Hash",
    "regexReplaceAll",
    "regexReplaceAllLiteral",
    // sprig: strings.
    "lower",
    "upper",
    "trim",
    "trimAll",
    "trimall",
    "trimPrefix",
    "trimSuffix",
    "title",
    "untitle",
    "substr",
    "trunc",
    "abbrev",
    "abbrevboth",
    "repeat",
    "nospace",
    "initials",
    "replace",
    "contains",
    "hasPrefix",
    "hasSuffix",
    "quote",
    "squote",
    "cat",
    "indent",
    "nindent",
    "plural",
    "toString",
    "b64enc",
    "b64dec",
    "sha256sum",
    "adler32sum",
    // sprig: regular expressions.
    "regexMatch",
    "regexFind",
    "regexFindAll",
    "regexSplit",
    "regexQuoteMeta",
    // sprig: lists.
    "split",
    "splitList",
    "splitn",
    "join",
    "toStrings",
    "list",
    "first",
    "last",
    // sprig: numbers.
    "atoi",
    "int",
    "int64",
    "float64",
    "add",
    "add1",
    "sub",
    "mul",
    "div",
    "mod",
    "max",
    "min",
    "biggest",
    "floor",
    "ceil",
    "round",
    // sprig: defaults.
    "default",
    "empty",
    "coalesce",
    "all",
    "any",
    "ternary",
];

fn arity(name: &str, a: &[TVal], n: usize) -> Result<(), String> {
    if a.len() == n {
        Ok(())
    } else {
        Err(format!("wrong number of args for {name}: want {n} got {}", a.len()))
    }
}

fn at_least(name: &str, a: &[TVal], n: usize) -> Result<(), String> {
    if a.len() >= n {
        Ok(())
    } else {
        Err(format!("wrong number of args for {name}: want at least {n} got {}", a.len()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Go's `regexp.MustCompile`: an invalid expression fails the template.
fn regex(re: &str) -> Result<GoRegex, String> {
    GoRegex::new(re).map_err(|e| format!("regexp: Compile({}): {e}", syntax::quote::go_quote(re)))
}

fn str_list(items: Vec<String>) -> TVal {
    TVal::List(items.into_iter().map(TVal::Str).collect())
}

fn indexed(parts: Vec<String>) -> TVal {
    TVal::StrMap(parts.into_iter().enumerate().map(|(i, p)| (format!("_{i}"), p)).collect::<BTreeMap<_, _>>())
}

/// sprig's `strslice`: a list's non-nil elements as strings; nil is empty; anything else one.
fn strslice(v: &TVal) -> Vec<String> {
    match v {
        TVal::List(items) => items.iter().filter(|i| !is_nil(i)).map(strval).collect(),
        TVal::Nil => Vec::new(),
        other => vec![strval(other)],
    }
}

pub(super) fn call(name: &str, a: &[TVal]) -> Result<TVal, String> {
    let s = |i: usize| a.get(i).ok_or_else(|| format!("missing argument for {name}")).and_then(string);
    let n = |i: usize| a.get(i).ok_or_else(|| format!("missing argument for {name}")).and_then(int);
    let str1 = |f: &dyn Fn(&str) -> String| -> Result<TVal, String> {
        arity(name, a, 1)?;
        Ok(TVal::Str(f(s(0)?)))
    };
    Ok(match name {
        // Go's builtins.
        "not" => {
            arity(name, a, 1)?;
            TVal::Bool(!a[0].truthy())
        }
        "and" => a.iter().find(|v| !v.truthy()).or(a.last()).cloned().unwrap_or(TVal::Nil),
        "or" => a.iter().find(|v| v.truthy()).or(a.last()).cloned().unwrap_or(TVal::Nil),
        "len" => {
            arity(name, a, 1)?;
            TVal::Int(match &a[0] {
                TVal::Str(s) => s.len(),
                TVal::List(l) => l.len(),
                TVal::Map(m) => m.len(),
                TVal::StrMap(m) => m.len(),
                other => return Err(format!("len of type {}", other.type_name())),
            } as i64)
        }
        "index" => {
            at_least(name, a, 1)?;
            let mut item = a[0].clone();
            for key in &a[1..] {
                item = index(&item, key)?;
            }
            item
        }
        "print" => TVal::Str(fmt::sprint(a)),
        "println" => TVal::Str(fmt::sprintln(a)),
        "printf" => {
            at_least(name, a, 1)?;
            TVal::Str(fmt::sprintf(s(0)?, &a[1..]))
        }
        "eq" => {
            at_least(name, a, 2)?;
            let mut found = false;
            for other in &a[1..] {
                if equal(&a[0], other)? {
                    found = true;
                    break;
                }
            }
            TVal::Bool(found)
        }
        "ne" | "lt" | "le" | "gt" | "ge" => {
            arity(name, a, 2)?;
            TVal::Bool(match name {
                "ne" => !equal(&a[0], &a[1])?,
                "lt" => less(&a[0], &a[1])?,
                "le" => less(&a[0], &a[1])? || equal(&a[0], &a[1])?,
                "gt" => !(less(&a[0], &a[1])? || equal(&a[0], &a[1])?),
                _ => !less(&a[0], &a[1])?,
            })
        }
        // Upstream's overrides and sprig's string functions.
        "ToLower" | "lower" => str1(&|x| x.to_lowercase())?,
        "ToUpper" | "upper" => str1(&|x| x.to_uppercase())?,
        "TrimSpace" | "trim" => str1(&|x| x.trim().to_string())?,
        "title" => str1(&sprig::title)?,
        "untitle" => str1(&sprig::untitle)?,
        "nospace" => str1(&sprig::nospace)?,
        "initials" => str1(&sprig::initials)?,
        "b64enc" => str1(&|x| sprig::b64enc(x.as_bytes()))?,
        "b64dec" => str1(&sprig::b64dec)?,
        "sha256sum" => str1(&|x| hex(&Sha256::digest(x.as_bytes())))?,
        "adler32sum" => str1(&|x| sprig::adler32(x.as_bytes()).to_string())?,
        "regexQuoteMeta" => str1(&sprig::quote_meta)?,
        "Replace" => {
            arity(name, a, 4)?;
            let (src, old, new, count) = (s(0)?, s(1)?, s(2)?, n(3)?);
            TVal::Str(if count < 0 { src.replace(old, new) } else { src.replacen(old, new, count as usize) })
        }
        "replace" => {
            arity(name, a, 3)?;
            TVal::Str(s(2)?.replace(s(0)?, s(1)?))
        }
        "Trim" | "TrimLeft" | "TrimRight" | "trimAll" | "trimall" => {
            arity(name, a, 2)?;
            // Upstream's take (s, cutset); sprig's (cutset, s).
            let (v, cut) = if name.starts_with('T') { (s(0)?, s(1)?) } else { (s(1)?, s(0)?) };
            let in_cut = |c: char| cut.contains(c);
            TVal::Str(
                match name {
                    "TrimLeft" => v.trim_start_matches(in_cut),
                    "TrimRight" => v.trim_end_matches(in_cut),
                    _ => v.trim_matches(in_cut),
                }
                .to_string(),
            )
        }
        "TrimPrefix" | "TrimSuffix" | "trimPrefix" | "trimSuffix" => {
            arity(name, a, 2)?;
            let (v, affix) = if name.starts_with('T') { (s(0)?, s(1)?) } else { (s(1)?, s(0)?) };
            let cut = if name.ends_with("Prefix") { v.strip_prefix(affix) } else { v.strip_suffix(affix) };
            TVal::Str(cut.unwrap_or(v).to_string())
        }
        "Sha2Hash" | "Hash" => {
            arity(name, a, 2)?;
            let input = format!("{}{}", s(0)?, s(1)?);
            TVal::Str(if name == "Hash" { hex(&Sha3_256::digest(input.as_bytes())) } else { hex(&Sha256::digest(input.as_bytes())) })
        }
        "regexReplaceAll" | "regexReplaceAllLiteral" => {
            arity(name, a, 3)?;
            let re = regex(s(0)?)?;
            let repl = if name.ends_with("Literal") { s(2)?.replace('$', "$$") } else { s(2)?.to_string() };
            TVal::Str(re.replace_all(s(1)?, &Expansion::new(&repl, &re)))
        }
        "contains" | "hasPrefix" | "hasSuffix" => {
            arity(name, a, 2)?;
            let (sub, v) = (s(0)?, s(1)?);
            TVal::Bool(match name {
                "contains" => v.contains(sub),
                "hasPrefix" => v.starts_with(sub),
                _ => v.ends_with(sub),
            })
        }
        "substr" => {
            arity(name, a, 3)?;
            TVal::Str(sprig::substr(n(0)?, n(1)?, s(2)?)?)
        }
        "trunc" => {
            arity(name, a, 2)?;
            TVal::Str(sprig::trunc(n(0)?, s(1)?))
        }
        "abbrev" => {
            arity(name, a, 2)?;
            let (width, v) = (n(0)?, s(1)?);
            TVal::Str(if width < 4 { v.to_string() } else { sprig::abbreviate(v, 0, width) })
        }
        "abbrevboth" => {
            arity(name, a, 3)?;
            let (left, right, v) = (n(0)?, n(1)?, s(2)?);
            TVal::Str(if right < 4 || (left > 0 && right < 7) { v.to_string() } else { sprig::abbreviate(v, left, right) })
        }
        "repeat" => {
            arity(name, a, 2)?;
            let count = usize::try_from(n(0)?).map_err(|_| "strings: negative Repeat count")?;
            TVal::Str(s(1)?.repeat(count))
        }
        "indent" | "nindent" => {
            arity(name, a, 2)?;
            let pad = " ".repeat(usize::try_from(n(0)?).map_err(|_| "strings: negative Repeat count")?);
            let text = format!("{pad}{}", s(1)?.replace('\n', &format!("\n{pad}")));
            TVal::Str(if name == "nindent" { format!("\n{text}") } else { text })
        }
        "plural" => {
            arity(name, a, 3)?;
            TVal::Str(if n(2)? == 1 { s(0)? } else { s(1)? }.to_string())
        }
        "quote" => TVal::Str(a.iter().filter(|v| !is_nil(v)).map(|v| syntax::quote::go_quote(&strval(v))).collect::<Vec<_>>().join(" ")),
        "squote" => TVal::Str(a.iter().filter(|v| !is_nil(v)).map(|v| format!("'{}'", fmt::value(v))).collect::<Vec<_>>().join(" ")),
        "cat" => TVal::Str(a.iter().filter(|v| !is_nil(v)).map(fmt::value).collect::<Vec<_>>().join(" ")),
        "toString" => {
            arity(name, a, 1)?;
            TVal::Str(strval(&a[0]))
        }
        // Regular expressions.
        "regexMatch" => {
            arity(name, a, 2)?;
            let text = s(1)?;
            TVal::Bool(GoRegex::new(s(0)?).is_ok_and(|re| re.is_match(text)))
        }
        "regexFind" => {
            arity(name, a, 2)?;
            let re = regex(s(0)?)?;
            TVal::Str(re.regex().find(s(1)?).map_or("", |m| m.as_str()).to_string())
        }
        "regexFindAll" => {
            arity(name, a, 3)?;
            let (re, text) = (regex(s(0)?)?, s(1)?);
            str_list(sprig::find_all(&re, text, n(2)?).into_iter().map(|(b, e)| text[b..e].to_string()).collect())
        }
        "regexSplit" => {
            arity(name, a, 3)?;
            str_list(sprig::regex_split(&regex(s(0)?)?, s(1)?, n(2)?))
        }
        // Lists.
        "split" => {
            arity(name, a, 2)?;
            indexed(sprig::split(s(1)?, s(0)?, -1))
        }
        "splitn" => {
            arity(name, a, 3)?;
            indexed(sprig::split(s(2)?, s(0)?, n(1)?))
        }
        "splitList" => {
            arity(name, a, 2)?;
            str_list(sprig::split(s(1)?, s(0)?, -1))
        }
        "join" => {
            arity(name, a, 2)?;
            TVal::Str(strslice(&a[1]).join(s(0)?))
        }
        "toStrings" => {
            arity(name, a, 1)?;
            str_list(strslice(&a[0]))
        }
        "list" => TVal::List(a.to_vec()),
        "first" | "last" => {
            arity(name, a, 1)?;
            match &a[0] {
                TVal::List(l) => (if name == "first" { l.first() } else { l.last() }).cloned().unwrap_or(TVal::Nil),
                other => return Err(format!("Cannot find {name} on type {}", other.type_name())),
            }
        }
        // Numbers.
        "atoi" => {
            arity(name, a, 1)?;
            TVal::Int(sprig::atoi(s(0)?))
        }
        "int" | "int64" => {
            arity(name, a, 1)?;
            TVal::Int(to_i64(&a[0]))
        }
        "float64" => {
            arity(name, a, 1)?;
            TVal::Float(to_f64(&a[0]))
        }
        "add" => TVal::Int(a.iter().map(to_i64).fold(0i64, i64::wrapping_add)),
        "add1" => {
            arity(name, a, 1)?;
            TVal::Int(to_i64(&a[0]).wrapping_add(1))
        }
        "mul" => {
            at_least(name, a, 1)?;
            TVal::Int(a.iter().map(to_i64).fold(1i64, i64::wrapping_mul))
        }
        "sub" | "div" | "mod" => {
            arity(name, a, 2)?;
            let (x, y) = (to_i64(&a[0]), to_i64(&a[1]));
            TVal::Int(match name {
                "sub" => x.wrapping_sub(y),
                _ if y == 0 => return Err("runtime error: integer divide by zero".into()),
                "div" => x.wrapping_div(y),
                _ => x.wrapping_rem(y),
            })
        }
        "max" | "biggest" | "min" => {
            at_least(name, a, 1)?;
            let values = a.iter().map(to_i64);
            TVal::Int(if name == "min" { values.min() } else { values.max() }.unwrap_or(0))
        }
        "floor" | "ceil" => {
            arity(name, a, 1)?;
            let f = to_f64(&a[0]);
            TVal::Float(if name == "floor" { f.floor() } else { f.ceil() })
        }
        "round" => {
            if !(2..=3).contains(&a.len()) {
                return Err(format!("wrong number of args for round: want 2 or 3 got {}", a.len()));
            }
            let round_on = a.get(2).map(float).transpose()?.unwrap_or(0.5);
            TVal::Float(sprig::round(to_f64(&a[0]), n(1)?, round_on))
        }
        // Defaults.
        "default" => {
            at_least(name, a, 1)?;
            match a.get(1) {
                Some(given) if !empty(given) => given.clone(),
                _ => a[0].clone(),
            }
        }
        "empty" => {
            arity(name, a, 1)?;
            TVal::Bool(empty(&a[0]))
        }
        "coalesce" => a.iter().find(|v| !empty(v)).cloned().unwrap_or(TVal::Nil),
        "all" => TVal::Bool(a.iter().all(|v| !empty(v))),
        "any" => TVal::Bool(a.iter().any(|v| !empty(v))),
        "ternary" => {
            arity(name, a, 3)?;
            if boolean(&a[2])? {
                a[0].clone()
            } else {
                a[1].clone()
            }
        }
        _ => return Err(format!("function {name:?} not defined")),
    })
}

/// Go's `index` of one key.
fn index(item: &TVal, key: &TVal) -> Result<TVal, String> {
    let position = |len: usize| -> Result<usize, String> {
        match key {
            TVal::Int(i) => usize::try_from(*i).ok().filter(|i| *i < len).ok_or_else(|| format!("error calling index: index out of range: {i}")),
            other => Err(format!("error calling index: cannot index slice/array with type {}", other.type_name())),
        }
    };
    Ok(match item {
        TVal::Map(m) => m.get(string(key).map_err(|e| format!("error calling index: {e}"))?).cloned().unwrap_or(TVal::Nil),
        TVal::StrMap(m) => TVal::Str(m.get(string(key).map_err(|e| format!("error calling index: {e}"))?).cloned().unwrap_or_default()),
        TVal::List(l) => l[position(l.len())?].clone(),
        TVal::Str(s) => TVal::Int(i64::from(s.as_bytes()[position(s.len())?])),
        TVal::Nil => return Err("error calling index: index of untyped nil".into()),
        other => return Err(format!("error calling index: can't index item of type {}", other.type_name())),
    })
}
