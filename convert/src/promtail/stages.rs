//! Promtail pipeline stages → `stage.*` blocks of `loki.process`. Stages are untyped in
//! Promtail's YAML (decoded later with mapstructure), so they are read loosely here: keys match
//! case-insensitively, unknown keys are ignored, and a bad value drops the stage with an Error.

use super::value::{go_fmt, go_type, parse_byte_size, resolve, Scalar};
use super::Limits;
use crate::builder::{Block, Expr};
use crate::diag::{Diagnostics, Severity};
use crate::values::base2_bytes;
use crate::yaml::{Kind, Node};

const SEC: i64 = 1_000_000_000;

/// The global `limits_config` stages every `loki.process` starts with.
pub fn limits_stages(l: &Limits) -> Vec<Block> {
    let mut out = Vec::new();
    if l.readline_rate_enabled {
        let mut b = Block::new("stage.limit", None);
        b.attr("rate", Expr::Float(l.readline_rate)).attr("burst", Expr::Int(l.readline_burst)).opt_bool("drop", l.readline_rate_drop, false);
        out.push(b);
    }
    if l.max_line_size > 0 {
        let size = Expr::Str(base2_bytes(l.max_line_size));
        if l.max_line_size_truncate {
            let mut rule = Block::new("rule", None);
            rule.attr("limit", size);
            let mut b = Block::new("stage.truncate", None);
            b.block(rule);
            out.push(b);
        } else {
            let mut b = Block::new("stage.drop", None);
            b.attr("longer_than", size);
            out.push(b);
        }
    }
    out
}

/// Converts a `pipeline_stages` list; stages that cannot be converted are reported and left out.
pub fn convert_all(n: &Node, diags: &mut Diagnostics) -> Vec<Block> {
    match &n.kind {
        Kind::Seq(items) => items.iter().filter_map(|st| convert(st, diags)).collect(),
        _ => Vec::new(),
    }
}

fn convert(st: &Node, diags: &mut Diagnostics) -> Option<Block> {
    let Kind::Map(entries) = &st.kind else {
        diags.add(
            Severity::Critical,
            format!("invalid input YAML config, make sure each stage of your pipeline is a YAML object (must end with a `:`), check stage `- {}`", go_fmt(st)),
        );
        return None;
    };
    if entries.len() != 1 {
        diags.add(Severity::Critical, format!("each pipeline stage must contain exactly one key, got: {}", go_fmt(st)));
        return None;
    }
    let (name, cfg) = (&entries[0].0, &entries[0].1);
    let stage = name.scalar().unwrap_or_default();
    if let Some((_, known)) = STAGE_KEYS.iter().find(|(s, _)| *s == stage) {
        warn_unknown(&format!("pipeline_stages.{stage}"), known, cfg, diags);
    }
    let result = match stage {
        "json" => json(cfg),
        "logfmt" => logfmt(cfg),
        "regex" => regex(cfg),
        "replace" => replace(cfg),
        "metrics" => return metrics(cfg, diags),
        "labels" => label_map(cfg, "stage.labels", false),
        "structured_metadata" => label_map(cfg, "stage.structured_metadata", true),
        "static_labels" => label_map(cfg, "stage.static_labels", false),
        "labeldrop" => label_list(cfg, "stage.label_drop"),
        "labelallow" => label_list(cfg, "stage.label_keep"),
        "timestamp" => timestamp(cfg),
        "output" => output(cfg),
        "docker" => Ok(Block::new("stage.docker", None)),
        "decolorize" => Ok(Block::new("stage.decolorize", None)),
        "cri" => cri(cfg),
        "match" => return match_stage(cfg, diags),
        "template" => template(cfg),
        "tenant" => tenant(cfg),
        "drop" => return drop(cfg, diags),
        "sampling" => sampling(cfg),
        "limit" => limit(cfg),
        "multiline" => return multiline(cfg, diags),
        "pack" => pack(cfg),
        "eventlogmessage" => eventlogmessage(cfg),
        "geoip" => geoip(cfg),
        _ => {
            diags.add(Severity::Error, format!("The converter does not support converting the provided pipeline stage: {}", go_fmt(st)));
            return None;
        }
    };
    match result {
        Ok(b) => Some(b),
        Err(e) => {
            diags.add(Severity::Error, format!("invalid pipeline stage config: {} - {e}", go_fmt(cfg)));
            None
        }
    }
}

/// The settings of the stages whose configuration is a struct (Promtail's mapstructure tags).
const STAGE_KEYS: &[(&str, &[&str])] = &[
    ("json", &["expressions", "source", "drop_malformed"]),
    ("logfmt", &["mapping", "source"]),
    ("regex", &["expression", "source"]),
    ("replace", &["expression", "source", "replace"]),
    ("timestamp", &["source", "format", "fallback_formats", "location", "action_on_failure"]),
    ("output", &["source"]),
    ("cri", &["max_partial_lines", "max_partial_line_size", "max_partial_line_size_truncate"]),
    ("match", &["pipeline_name", "selector", "stages", "action", "drop_counter_reason"]),
    ("template", &["source", "template"]),
    ("tenant", &["label", "source", "value"]),
    ("drop", &["drop_counter_reason", "source", "value", "separator", "expression", "older_than", "longer_than"]),
    ("sampling", &["drop_counter_reason", "rate"]),
    ("limit", &["rate", "burst", "drop", "by_label_name", "max_distinct_labels"]),
    ("multiline", &["firstline", "max_lines", "max_wait_time"]),
    ("pack", &["labels", "ingest_timestamp"]),
    ("eventlogmessage", &["source", "drop_invalid_labels", "overwrite_existing"]),
    ("geoip", &["db", "source", "db_type"]),
];

/// Upstream's decoding ignores keys a stage (or metric) does not have; they are reported here,
/// under `path`, so that nothing the user wrote disappears silently (a misspelt key changes
/// what the stage does).
fn warn_unknown(path: &str, known: &[&str], cfg: &Node, diags: &mut Diagnostics) {
    let Kind::Map(entries) = &cfg.kind else { return };
    for (k, _) in entries {
        let key = go_fmt(k);
        if !known.iter().any(|kn| kn.eq_ignore_ascii_case(&key)) {
            diags.add(Severity::Warning, format!("{path}: unknown setting {key:?} (line {}) is ignored; expected one of: {}", k.line, known.join(", ")));
        }
    }
}

/// A stage's settings as mapstructure reads them. `weak` allows scalar conversions
/// (`WeakDecode`), as upstream uses for some stages.
struct Cfg<'a> {
    entries: &'a [(Node, Node)],
    weak: bool,
}

fn decode_error(key: &str, expected: &str, v: &Node) -> String {
    format!(
        "decoding failed due to the following error(s):\n\n'{key}' expected type '{expected}', got unconvertible type '{}', value: '{}'",
        go_type(v),
        go_fmt(v)
    )
}

/// mapstructure's error for settings that are not a mapping (it names the Go kind).
fn not_a_map(n: &Node) -> String {
    let kind = if matches!(n.kind, Kind::Seq(_)) { "slice" } else { go_type(n) };
    format!("decoding failed due to the following error(s):\n\n'' expected a map, got '{kind}'")
}

impl<'a> Cfg<'a> {
    fn new(n: &'a Node, weak: bool) -> Result<Cfg<'a>, String> {
        match &n.kind {
            Kind::Map(entries) => Ok(Cfg { entries, weak }),
            _ if n.is_null() => Ok(Cfg { entries: &[], weak }),
            _ => Err(not_a_map(n)),
        }
    }

    fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries.iter().rev().find(|(k, _)| k.scalar().is_some_and(|s| s.eq_ignore_ascii_case(key))).map(|(_, v)| v).filter(|v| !v.is_null())
    }

    /// A string field (absent → `None`).
    fn string(&self, key: &str) -> Result<Option<String>, String> {
        let Some(v) = self.get(key) else { return Ok(None) };
        match resolve(v) {
            Some(Scalar::Str(s)) => Ok(Some(s)),
            Some(Scalar::Bool(_) | Scalar::Int(_) | Scalar::Float(_)) if self.weak => Ok(Some(go_fmt(v))),
            _ => Err(decode_error(key, "string", v)),
        }
    }

    fn str_or_empty(&self, key: &str) -> Result<String, String> {
        Ok(self.string(key)?.unwrap_or_default())
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, String> {
        let Some(v) = self.get(key) else { return Ok(None) };
        match resolve(v) {
            Some(Scalar::Bool(b)) => Ok(Some(b)),
            Some(Scalar::Int(i)) if self.weak => Ok(Some(i != 0)),
            Some(Scalar::Str(s)) if self.weak => match s.as_str() {
                "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(Some(true)),
                "0" | "f" | "F" | "false" | "FALSE" | "False" | "" => Ok(Some(false)),
                _ => Err(decode_error(key, "bool", v)),
            },
            _ => Err(decode_error(key, "bool", v)),
        }
    }

    fn int(&self, key: &str, ty: &str) -> Result<Option<i64>, String> {
        let Some(v) = self.get(key) else { return Ok(None) };
        match resolve(v) {
            Some(Scalar::Int(i)) => Ok(Some(i)),
            Some(Scalar::Float(f)) if self.weak || f.fract() == 0.0 => Ok(Some(f as i64)),
            Some(Scalar::Str(s)) if self.weak => s.parse().map(Some).map_err(|_| decode_error(key, ty, v)),
            _ => Err(decode_error(key, ty, v)),
        }
    }

    fn float(&self, key: &str) -> Result<Option<f64>, String> {
        let Some(v) = self.get(key) else { return Ok(None) };
        match resolve(v) {
            Some(Scalar::Int(i)) => Ok(Some(i as f64)),
            Some(Scalar::Float(f)) => Ok(Some(f)),
            Some(Scalar::Str(s)) if self.weak => s.parse().map(Some).map_err(|_| decode_error(key, "float64", v)),
            _ => Err(decode_error(key, "float64", v)),
        }
    }

    fn strings(&self, key: &str) -> Result<Option<Vec<String>>, String> {
        let Some(v) = self.get(key) else { return Ok(None) };
        match &v.kind {
            Kind::Seq(items) => items
                .iter()
                .map(|i| match resolve(i) {
                    Some(Scalar::Str(s)) => Ok(s),
                    Some(Scalar::Bool(_) | Scalar::Int(_) | Scalar::Float(_)) if self.weak => Ok(go_fmt(i)),
                    _ => Err(decode_error(key, "string", i)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            _ => Err(decode_error(key, "[]string", v)),
        }
    }

    /// A `map[string]*string` (`None` values print as `null`), or `map[string]string` when
    /// `nullable` is false (nulls become "").
    fn map(&self, key: &str, nullable: bool) -> Result<Option<Expr>, String> {
        let Some(v) = self.get(key) else { return Ok(None) };
        map_expr(v, key, nullable).map(Some)
    }
}

fn map_expr(v: &Node, key: &str, nullable: bool) -> Result<Expr, String> {
    let Kind::Map(entries) = &v.kind else { return Err(decode_error(key, "map[string]string", v)) };
    let mut out: Vec<(String, Expr)> = Vec::new();
    for (k, val) in entries {
        let name = go_fmt(k);
        let value = match resolve(val) {
            Some(Scalar::Null) if nullable => Expr::raw("null"),
            Some(Scalar::Null) => Expr::str(""),
            Some(Scalar::Str(s)) => Expr::Str(s),
            _ => return Err(decode_error(&format!("{key}[{name}]"), "string", val)),
        };
        out.retain(|(k, _)| *k != name);
        out.push((name, value));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Expr::Object(out))
}

fn json(n: &Node) -> Result<Block, String> {
    let c = Cfg::new(n, false)?;
    let mut b = Block::new("stage.json", None);
    if let Some(e) = c.map("expressions", false)? {
        b.attr("expressions", e);
    }
    if let Some(s) = c.string("source")? {
        b.attr("source", Expr::Str(s));
    }
    b.opt_bool("drop_malformed", c.boolean("drop_malformed")?.unwrap_or(false), false);
    Ok(b)
}

fn logfmt(n: &Node) -> Result<Block, String> {
    let c = Cfg::new(n, false)?;
    let mut b = Block::new("stage.logfmt", None);
    if let Some(m) = c.map("mapping", false)? {
        b.attr("mapping", m);
    }
    b.opt_str("source", &c.str_or_empty("source")?, "");
    Ok(b)
}

fn regex(n: &Node) -> Result<Block, String> {
    let c = Cfg::new(n, false)?;
    let mut b = Block::new("stage.regex", None);
    b.attr("expression", Expr::Str(c.str_or_empty("expression")?));
    if let Some(s) = c.string("source")? {
        b.attr("source", Expr::Str(s));
    }
    Ok(b)
}

fn replace(n: &Node) -> Result<Block, String> {
    let c = Cfg::new(n, false)?;
    let mut b = Block::new("stage.replace", None);
    b.attr("expression", Expr::Str(c.str_or_empty("expression")?)).opt_str("source", &c.str_or_empty("source")?, "").opt_str(
        "replace",
        &c.str_or_empty("replace")?,
        "",
    );
    Ok(b)
}

/// labels, static_labels and structured_metadata: the stage's settings are the map itself.
fn label_map(n: &Node, name: &str, optional: bool) -> Result<Block, String> {
    let mut b = Block::new(name, None);
    if n.is_null() {
        if !optional {
            b.attr("values", Expr::raw("null"));
        }
        return Ok(b);
    }
    b.attr("values", map_expr(n, "", true)?);
    Ok(b)
}

fn label_list(n: &Node, name: &str) -> Result<Block, String> {
    let mut b = Block::new(name, None);
    let values = match &n.kind {
        Kind::Seq(items) => items.iter().map(go_fmt).collect::<Vec<_>>(),
        _ if n.is_null() => Vec::new(),
        _ => return Err(decode_error("", "[]string", n)),
    };
    b.attr("values", Expr::strings(&values));
    Ok(b)
}

fn timestamp(n: &Node) -> Result<Block, String> {
    let c = Cfg::new(n, false)?;
    let mut b = Block::new("stage.timestamp", None);
    b.attr("source", Expr::Str(c.str_or_empty("source")?)).attr("format", Expr::Str(c.str_or_empty("format")?));
    if let Some(f) = c.strings("fallback_formats")? {
        b.attr("fallback_formats", Expr::strings(&f));
    }
    if let Some(l) = c.string("location")? {
        b.attr("location", Expr::Str(l));
    }
    b.opt_str("action_on_failure", &c.str_or_empty("action_on_failure")?, "");
    Ok(b)
}

fn output(n: &Node) -> Result<Block, String> {
    let c = Cfg::new(n, false)?;
    let mut b = Block::new("stage.output", None);
    b.attr("source", Expr::Str(c.str_or_empty("source")?));
    Ok(b)
}

fn cri(n: &Node) -> Result<Block, String> {
    let c = Cfg::new(n, false)?;
    let mut lines = c.int("max_partial_lines", "int")?.unwrap_or(0);
    if lines == 0 {
        lines = 100;
    }
    let size = match c.get("max_partial_line_size") {
        None => 0,
        Some(v) => match resolve(v) {
            Some(Scalar::Int(i)) if i >= 0 => i as u64,
            Some(Scalar::Str(s)) => parse_byte_size(&s)?,
            _ => return Err(decode_error("max_partial_line_size", "flagext.ByteSize", v)),
        },
    };
    let mut b = Block::new("stage.cri", None);
    b.opt_int("max_partial_lines", lines, 100).opt_int("max_partial_line_size", size as i64, 0).opt_bool(
        "max_partial_line_size_truncate",
        c.boolean("max_partial_line_size_truncate")?.unwrap_or(false),
        false,
    );
    Ok(b)
}

fn match_stage(n: &Node, diags: &mut Diagnostics) -> Option<Block> {
    let parsed = (|| -> Result<_, String> {
        let c = Cfg::new(n, false)?;
        Ok((c.string("pipeline_name")?, c.str_or_empty("selector")?, c.get("stages"), c.str_or_empty("action")?, c.string("drop_counter_reason")?))
    })();
    let (pipeline_name, selector, stages, action, drop_reason) = match parsed {
        Ok(x) => x,
        Err(e) => {
            diags.add(Severity::Error, format!("invalid pipeline stage config: {} - {e}", go_fmt(n)));
            return None;
        }
    };
    let mut b = Block::new("stage.match", None);
    b.attr("selector", Expr::Str(selector));
    if let Some(s) = stages {
        for sub in convert_all(s, diags) {
            b.block(sub);
        }
    }
    b.opt_str("action", &action, "").opt_str("pipeline_name", &pipeline_name.unwrap_or_default(), "").opt_str(
        "drop_counter_reason",
        &drop_reason.unwrap_or_default(),
        "",
    );
    Some(b)
}

fn template(n: &Node) -> Result<Block, String> {
    let c = Cfg::new(n, false)?;
    let mut b = Block::new("stage.template", None);
    b.attr("source", Expr::Str(c.str_or_empty("source")?)).attr("template", Expr::Str(c.str_or_empty("template")?));
    Ok(b)
}

fn tenant(n: &Node) -> Result<Block, String> {
    let c = Cfg::new(n, false)?;
    let mut b = Block::new("stage.tenant", None);
    b.opt_str("label", &c.str_or_empty("label")?, "").opt_str("source", &c.str_or_empty("source")?, "").opt_str("value", &c.str_or_empty("value")?, "");
    Ok(b)
}

fn drop(n: &Node, diags: &mut Diagnostics) -> Option<Block> {
    let fail = |diags: &mut Diagnostics, msg: String| {
        diags.add(Severity::Error, msg);
        None
    };
    let c = match Cfg::new(n, true) {
        Ok(c) => c,
        Err(e) => return fail(diags, format!("invalid pipeline stage config: {} - {e}", go_fmt(n))),
    };
    let strings = (|| -> Result<_, String> {
        Ok((
            c.str_or_empty("drop_counter_reason")?,
            c.str_or_empty("value")?,
            c.str_or_empty("separator")?,
            c.str_or_empty("expression")?,
            c.string("older_than")?,
            c.string("longer_than")?,
        ))
    })();
    let (reason, value, separator, expression, older_than, longer_than) = match strings {
        Ok(x) => x,
        Err(e) => return fail(diags, format!("invalid pipeline stage config: {} - {e}", go_fmt(n))),
    };
    let source = match c.get("source") {
        None => String::new(),
        Some(v) => match &v.kind {
            Kind::Seq(items) => {
                let mut parts = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match resolve(item) {
                        Some(Scalar::Str(s)) => parts.push(s),
                        _ => return fail(diags, format!("invalid pipeline_stages.drop.source[{i}] field type '{}': {}", go_type(item), go_fmt(item))),
                    }
                }
                parts.join(",")
            }
            _ => match resolve(v) {
                Some(Scalar::Str(s)) => s,
                _ => return fail(diags, format!("invalid pipeline_stages.drop.source field type '{}': {}", go_type(v), go_fmt(v))),
            },
        },
    };
    let older = match older_than {
        None => 0,
        Some(t) => match eval::decode::Duration::parse(&t) {
            Ok(d) => d.nanos,
            Err(e) => return fail(diags, format!("invalid pipeline_stages.drop.older_than field: {e}")),
        },
    };
    let longer = match longer_than {
        None => 0,
        Some(t) => match parse_byte_size(&t) {
            Ok(v) => v,
            Err(e) => return fail(diags, format!("invalid pipeline_stages.drop.longer_than field: {e}")),
        },
    };
    let mut b = Block::new("stage.drop", None);
    b.opt_str("drop_counter_reason", &reason, "")
        .opt_str("source", &source, "")
        .opt_str("value", &value, "")
        .opt_str("separator", &separator, "")
        .opt_str("expression", &expression, "")
        .opt_duration("older_than", older, 0);
    if longer != 0 {
        b.attr("longer_than", Expr::Str(base2_bytes(longer)));
    }
    Some(b)
}

fn sampling(n: &Node) -> Result<Block, String> {
    let c = Cfg::new(n, true)?;
    let mut b = Block::new("stage.sampling", None);
    let reason = c.string("drop_counter_reason")?.unwrap_or_else(|| "sampling_stage".into());
    b.opt_str("drop_counter_reason", &reason, "sampling_stage").attr("rate", Expr::Float(c.float("rate")?.unwrap_or(0.0)));
    Ok(b)
}

fn limit(n: &Node) -> Result<Block, String> {
    let c = Cfg::new(n, true)?;
    let mut b = Block::new("stage.limit", None);
    b.attr("rate", Expr::Float(c.float("rate")?.unwrap_or(0.0)))
        .attr("burst", Expr::Int(c.int("burst", "int")?.unwrap_or(0)))
        .opt_bool("drop", c.boolean("drop")?.unwrap_or(false), false)
        .opt_str("by_label_name", &c.str_or_empty("by_label_name")?, "")
        .opt_int("max_distinct_labels", c.int("max_distinct_labels", "int")?.unwrap_or(0), 0);
    Ok(b)
}

fn multiline(n: &Node, diags: &mut Diagnostics) -> Option<Block> {
    let parsed = (|| -> Result<_, String> {
        let c = Cfg::new(n, true)?;
        Ok((c.str_or_empty("firstline")?, c.int("max_lines", "uint64")?.unwrap_or(0), c.string("max_wait_time")?))
    })();
    let (firstline, max_lines, wait) = match parsed {
        Ok(x) => x,
        Err(e) => {
            diags.add(Severity::Error, format!("invalid pipeline stage config: {} - {e}", go_fmt(n)));
            return None;
        }
    };
    let mut max_wait = 0;
    if let Some(w) = wait {
        match eval::decode::Duration::parse(&w) {
            Ok(d) => max_wait = d.nanos,
            Err(_) => diags.add(Severity::Error, format!("invalid pipeline_stages.multiline.max_wait_time: {w}")),
        }
    }
    // Unset values are zero in the converted config, which differs from Alloy's defaults.
    let mut b = Block::new("stage.multiline", None);
    b.attr("firstline", Expr::Str(firstline)).opt_int("max_lines", max_lines, 128).opt_duration("max_wait_time", max_wait, 3 * SEC);
    Some(b)
}

fn pack(n: &Node) -> Result<Block, String> {
    let c = Cfg::new(n, true)?;
    let mut b = Block::new("stage.pack", None);
    b.attr("labels", Expr::strings(&c.strings("labels")?.unwrap_or_default())).opt_bool(
        "ingest_timestamp",
        c.boolean("ingest_timestamp")?.unwrap_or(false),
        true,
    );
    Ok(b)
}

fn eventlogmessage(n: &Node) -> Result<Block, String> {
    let c = Cfg::new(n, false)?;
    let mut b = Block::new("stage.eventlogmessage", None);
    let source = c.string("source")?.unwrap_or_else(|| "message".into());
    b.opt_str("source", &source, "message").opt_bool("drop_invalid_labels", c.boolean("drop_invalid_labels")?.unwrap_or(false), false).opt_bool(
        "overwrite_existing",
        c.boolean("overwrite_existing")?.unwrap_or(false),
        false,
    );
    Ok(b)
}

fn geoip(n: &Node) -> Result<Block, String> {
    let c = Cfg::new(n, false)?;
    let mut b = Block::new("stage.geoip", None);
    b.attr("db", Expr::Str(c.str_or_empty("db")?));
    b.attr("source", c.string("source")?.map_or(Expr::raw("null"), Expr::Str));
    b.opt_str("db_type", &c.str_or_empty("db_type")?, "");
    Ok(b)
}

/// `metrics`: one `metric.<type>` block per metric, sorted by name.
fn metrics(n: &Node, diags: &mut Diagnostics) -> Option<Block> {
    let err = |diags: &mut Diagnostics, e: String| {
        diags.add(Severity::Error, format!("invalid pipeline stage config: {} - {e}", go_fmt(n)));
        None
    };
    let entries: &[(Node, Node)] = match &n.kind {
        Kind::Map(e) => e,
        _ if n.is_null() => &[],
        _ => return err(diags, not_a_map(n)),
    };
    let mut named: Vec<(String, &Node)> = entries.iter().map(|(k, v)| (go_fmt(k), v)).collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let mut b = Block::new("stage.metrics", None);
    for (name, m) in named {
        const METRIC_KEYS: [&str; 6] = ["type", "description", "source", "prefix", "max_idle_duration", "config"];
        warn_unknown(&format!("pipeline_stages.metrics.{name}"), &METRIC_KEYS, m, diags);
        let parsed = (|| -> Result<_, String> {
            let c = Cfg::new(m, false)?;
            Ok((
                c.str_or_empty("type")?,
                c.str_or_empty("description")?,
                c.str_or_empty("source")?,
                c.str_or_empty("prefix")?,
                c.string("max_idle_duration")?,
                c.get("config"),
            ))
        })();
        let (kind, description, source, prefix, idle, config) = match parsed {
            Ok(x) => x,
            Err(e) => return err(diags, e),
        };
        let mut max_idle = 0;
        if let Some(t) = idle {
            match eval::decode::Duration::parse(&t) {
                Ok(d) => max_idle = d.nanos,
                Err(e) => {
                    diags.add(Severity::Error, format!("failed to parse duration: {t} - {e}"));
                    return None;
                }
            }
        }
        let kind = kind.to_lowercase();
        if !matches!(kind.as_str(), "counter" | "gauge" | "histogram") {
            continue;
        }
        let mut mb = Block::new(format!("metric.{kind}"), None);
        mb.attr("name", Expr::Str(name)).opt_str("description", &description, "").opt_str("source", &source, "").opt_str("prefix", &prefix, "").opt_duration(
            "max_idle_duration",
            max_idle,
            5 * 60 * SEC,
        );
        let result = match kind.as_str() {
            "counter" => counter(config, &mut mb),
            "gauge" => gauge(config, &mut mb),
            _ => histogram(config, &mut mb),
        };
        if let Err(e) = result {
            diags.add(Severity::Error, format!("failed to create {kind} metric process stage: {e}"));
            return None;
        }
        b.block(mb);
    }
    Some(b)
}

fn metric_config(config: Option<&Node>) -> Result<Cfg<'_>, String> {
    match config {
        Some(n) => Cfg::new(n, false),
        None => Ok(Cfg { entries: &[], weak: false }),
    }
}

fn counter(config: Option<&Node>, mb: &mut Block) -> Result<(), String> {
    let c = metric_config(config)?;
    let value = c.string("value")?;
    let action = c.str_or_empty("action")?.to_lowercase();
    let match_all = c.boolean("match_all")?;
    let count_bytes = c.boolean("count_entry_bytes")?;
    if action.is_empty() {
        return Err("counter action must be defined as either `inc` or `add`".into());
    }
    if action != "inc" && action != "add" {
        return Err(format!("action {action} is not valid, action must be either `inc` or `add`"));
    }
    if match_all == Some(true) && value.is_some() {
        return Err("`match_all: true` cannot be combined with `value`, please remove `match_all` or `value`".into());
    }
    if count_bytes == Some(true) && match_all != Some(true) {
        return Err("`count_entry_bytes: true` can only be set with `match_all: true`".into());
    }
    if count_bytes == Some(true) && action != "add" {
        return Err("`count_entry_bytes: true` can only be used with `action: add`".into());
    }
    mb.opt_str("value", &value.unwrap_or_default(), "").attr("action", Expr::Str(action)).opt_bool("match_all", match_all.unwrap_or(false), false).opt_bool(
        "count_entry_bytes",
        count_bytes.unwrap_or(false),
        false,
    );
    Ok(())
}

fn gauge(config: Option<&Node>, mb: &mut Block) -> Result<(), String> {
    let c = metric_config(config)?;
    let value = c.string("value")?;
    let action = c.str_or_empty("action")?.to_lowercase();
    if action.is_empty() {
        return Err("gauge action must be defined as `set`, `inc`, `dec`, `add`, or `sub`".into());
    }
    if !matches!(action.as_str(), "set" | "inc" | "dec" | "add" | "sub") {
        return Err(format!("action {action} is not valid, action must be `set`, `inc`, `dec`, `add`, or `sub`"));
    }
    mb.opt_str("value", &value.unwrap_or_default(), "").attr("action", Expr::Str(action));
    Ok(())
}

fn histogram(config: Option<&Node>, mb: &mut Block) -> Result<(), String> {
    let c = metric_config(config)?;
    let value = c.string("value")?;
    let buckets = match c.get("buckets") {
        None => Vec::new(),
        Some(v) => match &v.kind {
            Kind::Seq(items) => items
                .iter()
                .map(|i| match resolve(i) {
                    Some(Scalar::Int(x)) => Ok(Expr::Float(x as f64)),
                    Some(Scalar::Float(x)) => Ok(Expr::Float(x)),
                    _ => Err(decode_error("buckets", "float64", i)),
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(decode_error("buckets", "[]float64", v)),
        },
    };
    mb.opt_str("value", &value.unwrap_or_default(), "").attr("buckets", Expr::Array(buckets));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(src: &str) -> (Vec<String>, String) {
        let n = crate::yaml::parse(src.as_bytes()).unwrap();
        let mut diags = Diagnostics::new();
        let blocks = convert_all(&n, &mut diags);
        let file = crate::builder::File {
            blocks: blocks
                .into_iter()
                .map(|mut b| {
                    b.label = None;
                    b
                })
                .collect(),
        };
        (diags.iter().map(ToString::to_string).collect(), file.raw_text())
    }

    #[test]
    fn unknown_and_malformed_stages() {
        let (d, _) = stage("- nope: {a: 1}\n- just_a_string\n- {a: 1, b: 2}\n");
        assert_eq!(
            d,
            [
                "(Error) The converter does not support converting the provided pipeline stage: map[nope:map[a:1]]",
                "(Critical) invalid input YAML config, make sure each stage of your pipeline is a YAML object (must end with a `:`), check stage `- just_a_string`",
                "(Critical) each pipeline stage must contain exactly one key, got: map[a:1 b:2]",
            ]
        );
    }

    #[test]
    fn unknown_stage_settings_are_warned_about() {
        let (d, text) = stage("- regex:\n    expresion: x\n    source: z\n");
        assert_eq!(d, ["(Warning) pipeline_stages.regex: unknown setting \"expresion\" (line 2) is ignored; expected one of: expression, source"]);
        assert!(text.contains("source = \"z\""), "{text}");
        let (d, _) = stage("- labels:\n    anything: x\n- metrics:\n    m:\n      type: counter\n      descripton: d\n      config: {action: inc}\n");
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].starts_with("(Warning) pipeline_stages.metrics.m: unknown setting \"descripton\" (line 6)"), "{d:?}");
    }

    #[test]
    fn multiline_and_pack_print_converted_zeroes() {
        let (d, text) = stage("- multiline: {firstline: '^x'}\n- pack: {labels: [a]}\n");
        assert!(d.is_empty());
        assert!(text.contains("max_lines = 0"), "{text}");
        assert!(text.contains("max_wait_time = \"0s\""), "{text}");
        assert!(text.contains("ingest_timestamp = false"), "{text}");
    }
}
