//! `ordering_criteria`: of the matched files, keep the `top_n` first after sorting. Each path
//! must match `regex` (files that do not are left out); `sort_by` blocks sort by a named
//! capture (`regex_key`) as a number, as text or as a strptime `layout` timestamp in
//! `location`, or by modification time (newest first); a file whose capture does not parse is
//! left out. Later `sort_by` blocks decide before earlier ones, as upstream's sorts run in
//! order. `group_by` is not implemented (refused by name).

use std::cmp::Ordering as Cmp;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::SystemTime;

use loki::process::time::Layout;
use loki::process::tz::Zone;

use crate::component::{Arguments, Reader};
use crate::otelcol::stanza::time::{parse_in_zone, strptime_to_go};

#[derive(Clone)]
enum Key {
    Numeric(String),
    Alphabetical(String),
    Timestamp(String, Layout, Zone),
    Mtime,
}

#[derive(Clone)]
struct SortBy {
    key: Key,
    ascending: bool,
}

impl Default for SortBy {
    fn default() -> Self {
        SortBy { key: Key::Mtime, ascending: true }
    }
}

impl Arguments for SortBy {
    fn decode(r: &mut Reader<'_>) -> Self {
        let sort_type: String = r.get("sort_type");
        let regex_key: String = r.get("regex_key");
        let layout: String = r.get("layout");
        let location: String = r.get("location");
        let ascending = r.get("ascending");
        let needs_key = sort_type != "mtime";
        if needs_key && regex_key.is_empty() {
            r.error("regex_key", format!("{sort_type} sort: regex key must be specified"));
        }
        let key = match sort_type.as_str() {
            "numeric" => Key::Numeric(regex_key),
            "alphabetical" => Key::Alphabetical(regex_key),
            "mtime" => Key::Mtime,
            "timestamp" => {
                let zone = Zone::load(&location).unwrap_or_else(|e| {
                    r.error("location", format!("timestamp sort: load location {location}: {e}"));
                    Zone::utc()
                });
                let go = if layout.is_empty() {
                    r.error("layout", "timestamp sort: layout must be specified");
                    String::new()
                } else {
                    strptime_to_go(&layout).unwrap_or_else(|e| {
                        r.error("layout", format!("timestamp sort: {e}"));
                        String::new()
                    })
                };
                Key::Timestamp(regex_key, Layout::new(&go), zone)
            }
            other => {
                r.error("sort_type", format!("invalid sort_type {other:?}: expected \"numeric\", \"alphabetical\", \"timestamp\" or \"mtime\""));
                Key::Mtime
            }
        };
        SortBy { key, ascending }
    }
}

/// The `ordering_criteria` block.
#[derive(Clone, Default)]
pub struct Ordering {
    regex: Option<regex::Regex>,
    top_n: usize,
    sorts: Vec<SortBy>,
}

impl Arguments for Ordering {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["group_by"]);
        let text: String = r.get("regex");
        let top_n: i64 = r.get("top_n");
        let sorts: Vec<SortBy> = r.blocks("sort_by");
        if top_n < 0 {
            r.error("top_n", "'top_n' must be a positive integer");
        }
        let needs_regex = sorts.iter().any(|s| !matches!(s.key, Key::Mtime));
        let regex = if text.is_empty() {
            if needs_regex {
                r.error("regex", "'regex' must be specified when 'sort_by' is specified");
            }
            None
        } else {
            regex::Regex::new(&text).map_err(|e| r.error("regex", format!("compile regex: {e}"))).ok()
        };
        // Upstream reads a top_n of 0 as its default, 1.
        Ordering { regex, top_n: (top_n.max(1)) as usize, sorts }
    }
}

/// A file and what its path's regex captured.
struct Item {
    path: PathBuf,
    captures: BTreeMap<String, String>,
}

/// The value a sort compares, or why the file is left out.
#[derive(PartialEq, PartialOrd)]
enum Value {
    Int(i64),
    Text(String),
    Time(i128),
}

fn value_of(key: &Key, item: &Item) -> Option<Value> {
    let capture = |k: &str| item.captures.get(k).cloned();
    Some(match key {
        Key::Numeric(k) => Value::Int(capture(k)?.parse().ok()?),
        Key::Alphabetical(k) => Value::Text(capture(k)?),
        Key::Timestamp(k, layout, zone) => Value::Time(i128::from(parse_in_zone(layout, &capture(k)?, zone).ok()?)),
        Key::Mtime => {
            let t = std::fs::metadata(&item.path).and_then(|m| m.modified()).ok()?;
            let since = t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i128);
            Value::Time(since)
        }
    })
}

impl Ordering {
    /// The files kept, in order.
    pub fn apply(&self, paths: Vec<PathBuf>) -> Vec<PathBuf> {
        if self.sorts.is_empty() {
            return paths;
        }
        let mut items: Vec<Item> = paths
            .into_iter()
            .filter_map(|path| {
                let Some(re) = &self.regex else { return Some(Item { path, captures: BTreeMap::new() }) };
                let text = path.to_string_lossy().into_owned();
                let caps = re.captures(&text)?;
                let captures = re.capture_names().flatten().filter_map(|n| Some((n.to_string(), caps.name(n)?.as_str().to_string()))).collect();
                Some(Item { path, captures })
            })
            .collect();
        for sort in &self.sorts {
            let mut keyed: Vec<(Value, Item)> = items.into_iter().filter_map(|it| Some((value_of(&sort.key, &it)?, it))).collect();
            // mtime always puts the newest first, as upstream's does.
            let ascending = sort.ascending && !matches!(sort.key, Key::Mtime);
            keyed.sort_by(|(a, _), (b, _)| {
                let o = a.partial_cmp(b).unwrap_or(Cmp::Equal);
                if ascending {
                    o
                } else {
                    o.reverse()
                }
            });
            items = keyed.into_iter().map(|(_, it)| it).collect();
        }
        items.truncate(self.top_n);
        items.into_iter().map(|it| it.path).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ordering(body: &str) -> Result<Ordering, Vec<String>> {
        let text = format!("otelcol.receiver.filelog \"t\" {{\n include = [\"/x\"]\n ordering_criteria {{\n{body}\n }}\n output {{}}\n}}\n");
        let v = crate::component::args::evaluated(&text).expect("evaluates");
        let args: super::super::Args =
            crate::component::args::decode(super::super::NAME, &v).map_err(|e| e.iter().map(crate::component::args::describe).collect::<Vec<_>>())?;
        Ok(args.ordering)
    }

    fn paths(names: &[&str]) -> Vec<PathBuf> {
        names.iter().map(|n| PathBuf::from(format!("/logs/{n}"))).collect()
    }

    fn names(p: Vec<PathBuf>) -> Vec<String> {
        p.into_iter().map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()).collect()
    }

    #[test]
    fn sorts_keep_the_top_n_and_leave_out_what_does_not_parse() {
        let files = paths(&["app.9.log", "app.10.log", "app.x.log", "other.txt", "app.2.log"]);
        let o =
            ordering("regex = \"app\\\\.(?P<n>[^.]+)\\\\.log$\"\n top_n = 2\n sort_by {\n sort_type = \"numeric\"\n regex_key = \"n\"\n ascending = false\n }")
                .expect("valid");
        assert_eq!(names(o.apply(files.clone())), ["app.10.log", "app.9.log"]);

        let o = ordering("regex = \"app\\\\.(?P<n>[^.]+)\\\\.log$\"\n top_n = 4\n sort_by {\n sort_type = \"alphabetical\"\n regex_key = \"n\"\n }")
            .expect("valid");
        assert_eq!(names(o.apply(files)), ["app.10.log", "app.2.log", "app.9.log", "app.x.log"]);

        let files = paths(&["x-20240102.log", "x-20231231.log", "x-20240101.log"]);
        let o = ordering(
            "regex = \"x-(?P<d>\\\\d+)\\\\.log\"\n sort_by {\n sort_type = \"timestamp\"\n regex_key = \"d\"\n layout = \"%Y%m%d\"\n ascending = false\n }",
        )
        .expect("valid");
        assert_eq!(names(o.apply(files)), ["x-20240102.log"], "top_n defaults to 1");
    }

    #[test]
    fn mtime_puts_the_newest_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = dir.path().join("old.log");
        let new = dir.path().join("new.log");
        std::fs::write(&new, "n").expect("write");
        std::fs::write(&old, "o").expect("write");
        let f = std::fs::File::options().write(true).open(&old).expect("open");
        f.set_modified(SystemTime::now() - std::time::Duration::from_secs(600)).expect("mtime");
        let o = ordering("top_n = 2\n sort_by {\n sort_type = \"mtime\"\n }").expect("valid");
        assert_eq!(o.apply(vec![old.clone(), new.clone()]), [new, old]);
    }

    #[test]
    fn bad_criteria_are_refused() {
        let cases = [
            ("sort_by {\n sort_type = \"numeric\"\n regex_key = \"n\"\n }", "ordering_criteria.regex: 'regex' must be specified"),
            (
                "regex = \"(?P<n>\\\\d+)\"\n sort_by {\n sort_type = \"numeric\"\n }",
                "ordering_criteria.sort_by[0].regex_key: numeric sort: regex key must be specified",
            ),
            ("regex = \"(\"\n sort_by {\n sort_type = \"mtime\"\n }", "ordering_criteria.regex: compile regex"),
            ("sort_by {\n sort_type = \"size\"\n }", "ordering_criteria.sort_by[0].sort_type: invalid sort_type \"size\""),
            (
                "regex = \"(?P<d>.+)\"\n sort_by {\n sort_type = \"timestamp\"\n regex_key = \"d\"\n }",
                "ordering_criteria.sort_by[0].layout: timestamp sort: layout must be specified",
            ),
            (
                "group_by = \"(?P<g>.+)\"\n sort_by {\n sort_type = \"mtime\"\n }",
                "ordering_criteria.group_by: argument \"group_by\" is not supported by this runtime yet",
            ),
        ];
        for (body, want) in cases {
            let errs = ordering(body).err().unwrap_or_default();
            assert!(errs.iter().any(|e| e.starts_with(want)), "{body}: expected {want:?}, got {errs:?}");
        }
    }
}
