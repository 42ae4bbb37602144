//! `severity_parser` and the parsers' `severity` sub-block: maps the value at `parse_from`
//! to an OpenTelemetry severity number through a `preset` (`default`, `otel`/`aliases`,
//! `none`) plus the `mapping` written (a severity name → a value, a list of values, a
//! `{min, max}` range or `2xx`..`5xx`). Values match case-insensitively; one that matches
//! nothing leaves the severity unspecified. The severity text is the value parsed, or the
//! level's name with `overwrite_text`.

use std::collections::HashMap;

use super::config::Conf;
use super::entry::{Entry, Field, Severity, Val};
use super::{standalone, Apply, Operator};

/// Level names with their numbers (the log data model's).
const LEVELS: [(&str, Severity); 24] = [
    ("trace", 1),
    ("trace2", 2),
    ("trace3", 3),
    ("trace4", 4),
    ("debug", 5),
    ("debug2", 6),
    ("debug3", 7),
    ("debug4", 8),
    ("info", 9),
    ("info2", 10),
    ("info3", 11),
    ("info4", 12),
    ("warn", 13),
    ("warn2", 14),
    ("warn3", 15),
    ("warn4", 16),
    ("error", 17),
    ("error2", 18),
    ("error3", 19),
    ("error4", 20),
    ("fatal", 21),
    ("fatal2", 22),
    ("fatal3", 23),
    ("fatal4", 24),
];

/// The text upstream gives each level (`overwrite_text`).
fn level_text(s: Severity) -> String {
    LEVELS.iter().find(|(_, n)| *n == s).map_or_else(|| "UNDEFINED".to_string(), |(name, _)| name.to_uppercase())
}

fn preset(name: &str) -> Option<HashMap<String, Severity>> {
    let mut m = HashMap::new();
    match name {
        "none" => {}
        "otel" | "aliases" | "default" | "" => {
            for (name, n) in LEVELS {
                m.insert(name.to_string(), n);
                m.insert(n.to_string(), n);
            }
            if name == "default" || name.is_empty() {
                for (alias, n) in [("warning", 13), ("warning2", 14), ("warning3", 15), ("warning4", 16), ("err", 17), ("err2", 18), ("err3", 19), ("err4", 20)]
                {
                    m.insert(alias.to_string(), n);
                }
            }
        }
        _ => return None,
    }
    Some(m)
}

pub struct SeverityParser {
    parse_from: Field,
    mapping: HashMap<String, Severity>,
    overwrite_text: bool,
}

/// The values one mapping entry stands for.
fn values_of(v: &Val) -> Result<Vec<String>, String> {
    let range = |lo: i64, hi: i64| (lo.min(hi)..=lo.max(hi)).map(|i| i.to_string()).collect::<Vec<_>>();
    Ok(match v {
        Val::Str(s) => match s.as_str() {
            "2xx" => range(200, 299),
            "3xx" => range(300, 399),
            "4xx" => range(400, 499),
            "5xx" => range(500, 599),
            _ => vec![s.to_lowercase()],
        },
        Val::Int(i) => vec![i.to_string()],
        Val::Double(d) if d.fract() == 0.0 => vec![(*d as i64).to_string()],
        Val::List(items) => items.iter().map(values_of).collect::<Result<Vec<_>, _>>()?.concat(),
        Val::Map(m) => match (m.get("min").and_then(Val::as_f64), m.get("max").and_then(Val::as_f64)) {
            (Some(lo), Some(hi)) if (hi - lo).abs() <= 100_000.0 => range(lo as i64, hi as i64),
            _ => return Err("a range is {min = N, max = M} (at most 100000 values)".into()),
        },
        _ => return Err("type cannot be parsed as a severity".into()),
    })
}

impl SeverityParser {
    pub fn read(c: &mut Conf<'_>) -> SeverityParser {
        if !c.has("parse_from") {
            c.error("", "missing required field 'parse_from'");
        }
        let parse_from = c.field_or("parse_from", Field::body());
        let name = c.string_or("preset", "default");
        let mut mapping = preset(&name).unwrap_or_else(|| {
            c.error("preset", format!("unknown preset {name:?}: expected \"default\", \"otel\", \"aliases\" or \"none\""));
            HashMap::new()
        });
        if let Some(v) = c.value("mapping") {
            match v {
                Val::Map(m) => {
                    let known = preset("aliases").unwrap_or_default();
                    for (level, values) in m {
                        let Some(&n) = known.get(&level.to_lowercase()) else {
                            c.error("mapping", format!("unrecognized severity {level:?}"));
                            continue;
                        };
                        match values_of(values) {
                            Ok(vs) => mapping.extend(vs.into_iter().map(|v| (v, n))),
                            Err(e) => c.error("mapping", format!("{level}: {e}")),
                        }
                    }
                }
                _ => c.error("mapping", "mapping must be an object"),
            }
        }
        let overwrite_text = c.bool_or("overwrite_text", false);
        SeverityParser { parse_from, mapping, overwrite_text }
    }
}

impl Apply for SeverityParser {
    fn apply(&self, e: &mut Entry) -> Result<(), String> {
        let v = self.parse_from.get(e).ok_or_else(|| format!("log entry does not have the expected parse_from field {}", self.parse_from))?;
        let text = v.to_text().ok_or("type cannot be parsed as a severity")?;
        let severity = self.mapping.get(&text.to_lowercase()).copied().unwrap_or(0);
        e.severity = severity;
        e.severity_text = if self.overwrite_text { level_text(severity) } else { text };
        Ok(())
    }
}

pub fn build(c: &mut Conf<'_>) -> Box<dyn Operator> {
    standalone(SeverityParser::read(c))
}
