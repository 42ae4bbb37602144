//! `otelcol.processor.redaction`: removes attributes whose keys are not allowed, masks
//! values matching `blocked_values` (and every value of keys matching
//! `blocked_key_patterns`) with `****` or their hash, on resources, spans, span events, log
//! records (attributes and body) and metric data points. `summary` records what changed
//! in upstream's `redaction.*` attributes (`debug`: keys and counts, `info`: counts).

use std::sync::Arc;

use md5::Md5;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::metric;
use regex::Regex;
use sha1::{Digest, Sha1};
use sha3::Sha3_256;

use crate::component::{Arguments, ComponentError, Context, Reader, Registration};
use crate::otelcol::consumer::{ConsumeError, Output};
use crate::otelcol::pdata::{Payload, Signal};
use crate::otelcol::processor::rewrite::{self, invalid, ProcessorArgs, Transform};

const NAME: &str = "otelcol.processor.redaction";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], rewrite::build::<Args>);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Hash {
    #[default]
    Stars,
    Md5,
    Sha1,
    Sha3,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Summary {
    #[default]
    Silent,
    Info,
    Debug,
}

#[derive(Clone, Debug, Default)]
struct Config {
    allow_all_keys: bool,
    allowed_keys: Vec<String>,
    ignored_keys: Vec<String>,
    blocked_values: Vec<Regex>,
    allowed_values: Vec<Regex>,
    blocked_key_patterns: Vec<Regex>,
    hash: Hash,
    summary: Summary,
}

/// The component's arguments.
#[derive(Default)]
pub struct Args {
    config: Config,
    output: Output,
}

fn regexes(r: &mut Reader<'_>, name: &'static str, what: &str) -> Vec<Regex> {
    let mut out = Vec::new();
    for p in r.get::<Vec<String>>(name) {
        match Regex::new(&p) {
            Ok(re) => out.push(re),
            Err(e) => r.error(name, format!("failed to process {what} list: error parsing regexp {p:?}: {e}")),
        }
    }
    out
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics", "hmac_key", "ignored_key_patterns", "redact_all_types", "url_sanitizer", "db_sanitizer"]);
        let hash = match r.get::<String>("hash_function").to_ascii_lowercase().as_str() {
            "" => Hash::Stars,
            "md5" => Hash::Md5,
            "sha1" => Hash::Sha1,
            "sha3" => Hash::Sha3,
            other @ ("hmac-sha256" | "hmac-sha512") => {
                r.error("hash_function", format!("hash function {} is not supported by this runtime yet", syntax::quote::go_quote(other)));
                Hash::Stars
            }
            other => {
                r.error("hash_function", format!("unknown HashFunction {}, allowed functions are md5, sha1 and sha3", syntax::quote::go_quote(other)));
                Hash::Stars
            }
        };
        let summary = match r.get::<String>("summary").as_str() {
            "debug" => Summary::Debug,
            "info" => Summary::Info,
            _ => Summary::Silent,
        };
        let config = Config {
            allow_all_keys: r.get("allow_all_keys"),
            allowed_keys: r.get("allowed_keys"),
            ignored_keys: r.get("ignored_keys"),
            blocked_values: regexes(r, "blocked_values", "block"),
            allowed_values: regexes(r, "allowed_values", "allow"),
            blocked_key_patterns: regexes(r, "blocked_key_patterns", "block keys"),
            hash,
            summary,
        };
        Args { config, output: r.block_or_default("output") }
    }
}

/// The summary attributes: always allowed, so a second pass keeps them.
const SUMMARY_KEYS: &[&str] =
    &["redaction.redacted.keys", "redaction.redacted.count", "redaction.masked.keys", "redaction.masked.count", "redaction.ignored.count"];

/// The summary attribute names of one place (attributes or a log body).
struct Names {
    redacted: (&'static str, &'static str),
    masked: (&'static str, &'static str),
    allowed: (&'static str, &'static str),
    ignored: &'static str,
}

const ATTRS: Names = Names {
    redacted: ("redaction.redacted.keys", "redaction.redacted.count"),
    masked: ("redaction.masked.keys", "redaction.masked.count"),
    allowed: ("redaction.allowed.keys", "redaction.allowed.count"),
    ignored: "redaction.ignored.count",
};

const BODY: Names = Names {
    redacted: ("redaction.body.redacted.keys", "redaction.body.redacted.count"),
    masked: ("redaction.body.masked.keys", "redaction.body.masked.count"),
    allowed: ("redaction.body.allowed.keys", "redaction.body.allowed.count"),
    ignored: "redaction.body.ignored.count",
};

/// What one pass found, by key.
#[derive(Default)]
struct Found {
    redacted: Vec<String>,
    masked: Vec<String>,
    allowed: Vec<String>,
    ignored: Vec<String>,
}

fn string(s: String) -> AnyValue {
    AnyValue { value: Some(any_value::Value::StringValue(s)) }
}

/// The string of a string value; other values count as empty, as upstream reads them.
fn str_of(v: &Option<AnyValue>) -> &str {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s,
        _ => "",
    }
}

impl Config {
    fn redacts_key(&self, k: &str) -> bool {
        !self.allow_all_keys && !self.allowed_keys.iter().any(|a| a == k) && !SUMMARY_KEYS.contains(&k)
    }

    fn ignores_key(&self, k: &str) -> bool {
        self.ignored_keys.iter().any(|i| i == k)
    }

    fn masks_key(&self, k: &str) -> bool {
        self.blocked_key_patterns.iter().any(|re| re.is_match(k))
    }

    fn allows_value(&self, v: &str) -> bool {
        self.allowed_values.iter().any(|re| re.is_match(v))
    }

    fn mask(&self, v: &str, re: &Regex) -> String {
        re.replace_all(v, |c: &regex::Captures| {
            let m = c.get(0).map_or("", |m| m.as_str()).as_bytes();
            match self.hash {
                Hash::Stars => "****".to_string(),
                Hash::Md5 => crate::otelcol::hex(&Md5::digest(m)),
                Hash::Sha1 => crate::otelcol::hex(&Sha1::digest(m)),
                Hash::Sha3 => crate::otelcol::hex(&Sha3_256::digest(m)),
            }
        })
        .into_owned()
    }

    fn mask_all(&self, v: &str) -> String {
        // Every value of a blocked key: what `.*` matches (each line), as upstream masks it.
        match &*MATCH_ALL {
            Some(re) => self.mask(v, re),
            None => "****".to_string(),
        }
    }

    /// `blocked_values` masking: `None` when nothing matched.
    fn mask_blocked(&self, v: &str) -> Option<String> {
        let mut out = v.to_string();
        for re in &self.blocked_values {
            if re.is_match(&out) {
                out = self.mask(&out, re);
            }
        }
        (out != v).then_some(out)
    }

    fn attributes(&self, attrs: &mut Vec<KeyValue>) {
        let mut f = Found::default();
        for kv in attrs.iter_mut() {
            let k = kv.key.clone();
            if self.ignores_key(&k) {
                f.ignored.push(k);
            } else if self.redacts_key(&k) {
                f.redacted.push(k);
            } else if self.allows_value(str_of(&kv.value)) {
                f.allowed.push(k);
            } else if self.masks_key(&k) {
                kv.value = Some(string(self.mask_all(str_of(&kv.value))));
                f.masked.push(k);
            } else if let Some(m) = self.mask_blocked(str_of(&kv.value)) {
                kv.value = Some(string(m));
                f.masked.push(k);
            }
        }
        attrs.retain(|kv| !f.redacted.contains(&kv.key));
        self.summarize(f, attrs, &ATTRS);
    }

    /// A log body: map keys are checked like attribute keys (paths `a.b`, `[0]`), and
    /// scalar values against the value lists.
    fn body(&self, body: &mut Option<AnyValue>, attrs: &mut Vec<KeyValue>) {
        let mut f = Found::default();
        let Some(v) = body.as_mut() else { return };
        match v.value.as_mut() {
            Some(any_value::Value::KvlistValue(kvs)) => self.body_map(None, &mut kvs.values, &mut f),
            Some(any_value::Value::ArrayValue(items)) => {
                for (i, item) in items.values.iter_mut().enumerate() {
                    self.body_value(format!("[{i}]"), item, &mut f);
                }
            }
            _ => {
                let text = crate::otelcol::processor::attributes::value_text(v);
                if self.allows_value(&text) {
                    f.allowed.push("body".into());
                } else if let Some(m) = self.mask_blocked(&text) {
                    *v = string(m);
                    f.masked.push("body".into());
                }
            }
        }
        self.summarize(f, attrs, &BODY);
    }

    fn body_map(&self, path: Option<&str>, kvs: &mut Vec<KeyValue>, f: &mut Found) {
        let at = |k: &str| path.map_or_else(|| k.to_string(), |p| format!("{p}.{k}"));
        let mut redacted = Vec::new();
        for kv in kvs.iter_mut() {
            let k = kv.key.clone();
            if self.ignores_key(&k) {
                f.ignored.push(at(&k));
            } else if self.redacts_key(&k) {
                redacted.push(k);
            } else if self.masks_key(&k) {
                kv.value = Some(string(self.mask_all(str_of(&kv.value))));
                f.masked.push(at(&k));
            } else if let Some(v) = kv.value.as_mut() {
                self.body_value(at(&k), v, f);
            }
        }
        kvs.retain(|kv| !redacted.contains(&kv.key));
        f.redacted.extend(redacted.iter().map(|k| at(k)));
    }

    fn body_value(&self, path: String, v: &mut AnyValue, f: &mut Found) {
        match v.value.as_mut() {
            Some(any_value::Value::KvlistValue(kvs)) => self.body_map(Some(&path), &mut kvs.values, f),
            Some(any_value::Value::ArrayValue(items)) => {
                for (i, item) in items.values.iter_mut().enumerate() {
                    self.body_value(format!("{path}.[{i}]"), item, f);
                }
            }
            _ => {
                let text = crate::otelcol::processor::attributes::value_text(v);
                if self.allows_value(&text) {
                    f.allowed.push(path);
                } else if let Some(m) = self.mask_blocked(&text) {
                    *v = string(m);
                    f.masked.push(path);
                }
            }
        }
    }

    fn summarize(&self, f: Found, attrs: &mut Vec<KeyValue>, names: &Names) {
        self.add_summary(f.redacted, attrs, Some(names.redacted.0), names.redacted.1);
        self.add_summary(f.masked, attrs, Some(names.masked.0), names.masked.1);
        self.add_summary(f.allowed, attrs, Some(names.allowed.0), names.allowed.1);
        self.add_summary(f.ignored, attrs, None, names.ignored);
    }

    /// Adds the sorted keys (debug) and the count (debug, info) to what earlier passes wrote.
    fn add_summary(&self, mut keys: Vec<String>, attrs: &mut Vec<KeyValue>, keys_attr: Option<&str>, count_attr: &str) {
        if keys.is_empty() || self.summary == Summary::Silent {
            return;
        }
        let mut count = keys.len() as i64;
        if let (Summary::Debug, Some(name)) = (self.summary, keys_attr) {
            if let Some(kv) = attrs.iter().find(|kv| kv.key == name) {
                keys.extend(str_of(&kv.value).split(',').filter(|s| !s.is_empty()).map(String::from));
            }
            keys.sort();
            put(attrs, name, string(keys.join(",")));
        }
        if let Some(Some(any_value::Value::IntValue(n))) =
            attrs.iter().find(|kv| kv.key == count_attr).map(|kv| kv.value.as_ref().and_then(|v| v.value.clone()))
        {
            count += n;
        }
        put(attrs, count_attr, AnyValue { value: Some(any_value::Value::IntValue(count)) });
    }
}

static MATCH_ALL: std::sync::LazyLock<Option<Regex>> = std::sync::LazyLock::new(|| Regex::new(".*").ok());

fn put(attrs: &mut Vec<KeyValue>, key: &str, value: AnyValue) {
    match attrs.iter_mut().find(|kv| kv.key == key) {
        Some(kv) => kv.value = Some(value),
        None => attrs.push(KeyValue { key: key.into(), value: Some(value), ..Default::default() }),
    }
}

fn point_attributes(data: Option<&mut metric::Data>) -> Vec<&mut Vec<KeyValue>> {
    match data {
        Some(metric::Data::Gauge(g)) => g.data_points.iter_mut().map(|p| &mut p.attributes).collect(),
        Some(metric::Data::Sum(s)) => s.data_points.iter_mut().map(|p| &mut p.attributes).collect(),
        Some(metric::Data::Histogram(h)) => h.data_points.iter_mut().map(|p| &mut p.attributes).collect(),
        Some(metric::Data::ExponentialHistogram(h)) => h.data_points.iter_mut().map(|p| &mut p.attributes).collect(),
        Some(metric::Data::Summary(s)) => s.data_points.iter_mut().map(|p| &mut p.attributes).collect(),
        None => Vec::new(),
    }
}

impl Transform for Config {
    fn process(&self, data: Payload) -> Result<Option<Payload>, ConsumeError> {
        let md = data.metadata().clone();
        let out = match data.signal() {
            Signal::Traces => {
                let mut req = data.decode_traces().map_err(invalid)?;
                for rs in &mut req.resource_spans {
                    if let Some(r) = rs.resource.as_mut() {
                        self.attributes(&mut r.attributes);
                    }
                    for s in rs.scope_spans.iter_mut().flat_map(|ss| ss.spans.iter_mut()) {
                        self.attributes(&mut s.attributes);
                        for e in &mut s.events {
                            self.attributes(&mut e.attributes);
                        }
                    }
                }
                Payload::from_traces(&req)
            }
            Signal::Logs => {
                let mut req = data.decode_logs().map_err(invalid)?;
                for rl in &mut req.resource_logs {
                    if let Some(r) = rl.resource.as_mut() {
                        self.attributes(&mut r.attributes);
                    }
                    for l in rl.scope_logs.iter_mut().flat_map(|sl| sl.log_records.iter_mut()) {
                        self.attributes(&mut l.attributes);
                        self.body(&mut l.body, &mut l.attributes);
                    }
                }
                Payload::from_logs(&req)
            }
            Signal::Metrics => {
                let mut req = data.decode_metrics().map_err(invalid)?;
                for rm in &mut req.resource_metrics {
                    if let Some(r) = rm.resource.as_mut() {
                        self.attributes(&mut r.attributes);
                    }
                    for m in rm.scope_metrics.iter_mut().flat_map(|sm| sm.metrics.iter_mut()) {
                        for attrs in point_attributes(m.data.as_mut()) {
                            self.attributes(attrs);
                        }
                    }
                }
                Payload::from_metrics(&req)
            }
        };
        Ok(Some(out.with_metadata(md)))
    }
}

impl ProcessorArgs for Args {
    const NAME: &'static str = NAME;

    fn into_parts(self, _ctx: &Context) -> Result<(Arc<dyn Transform>, Output), ComponentError> {
        Ok((Arc::new(self.config), self.output))
    }
}

#[cfg(test)]
mod tests;
