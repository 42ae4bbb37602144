//! `otelcol.processor.span`: renames spans from their attributes (`name.from_attributes`),
//! extracts attributes from their names (`name.to_attributes`) and sets their status, for
//! the spans an `include` block matches and an `exclude` block does not (matching as the
//! attributes processor does). Metrics and logs pass through untouched.

use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{Span, Status};
use regex::Regex;

use crate::component::{Arguments, ComponentError, Context, Reader, Registration};
use crate::otelcol::consumer::{ConsumeError, Output};
use crate::otelcol::pdata::{Payload, Signal};
use crate::otelcol::processor::attributes::{Item, MatchProperties};
use crate::otelcol::processor::rewrite::{self, invalid, ProcessorArgs, Transform};

const NAME: &str = "otelcol.processor.span";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], rewrite::build::<Args>);

/// One `to_attributes` rule: a pattern and the names of its capture groups (by index).
#[derive(Clone, Debug)]
struct Rule {
    re: Regex,
}

#[derive(Clone, Debug, Default)]
struct ToAttributes {
    rules: Vec<Rule>,
    break_after_match: bool,
    keep_original_name: bool,
}

impl Arguments for ToAttributes {
    fn decode(r: &mut Reader<'_>) -> Self {
        let patterns: Vec<String> = r.get("rules");
        let mut rules = Vec::new();
        for p in patterns {
            match Regex::new(&p) {
                Ok(re) => rules.push(Rule { re }),
                Err(e) => r.error("rules", format!("invalid regexp pattern {p}: {e}")),
            }
        }
        ToAttributes { rules, break_after_match: r.get("break_after_match"), keep_original_name: r.get("keep_original_name") }
    }
}

#[derive(Clone, Debug, Default)]
struct Name {
    from_attributes: Vec<String>,
    separator: String,
    to_attributes: Option<ToAttributes>,
}

impl Arguments for Name {
    fn decode(r: &mut Reader<'_>) -> Self {
        Name { from_attributes: r.get("from_attributes"), separator: r.get("separator"), to_attributes: r.block("to_attributes") }
    }
}

/// The status to set: its code and (for errors) description.
#[derive(Clone, Debug, Default)]
struct SetStatus {
    code: i32,
    description: String,
}

impl Arguments for SetStatus {
    fn decode(r: &mut Reader<'_>) -> Self {
        let code: String = r.get("code");
        let description: String = r.get("description");
        let code = match code.as_str() {
            "Ok" => StatusCode::Ok,
            "Error" => StatusCode::Error,
            "Unset" => StatusCode::Unset,
            _ => {
                r.error("code", "status code must be one of \"Ok\", \"Error\" or \"Unset\"");
                StatusCode::Unset
            }
        };
        if code != StatusCode::Error && !description.is_empty() {
            r.error("description", "status description should only be set when status code is set as \"Error\"");
        }
        SetStatus { code: code as i32, description }
    }
}

#[derive(Clone, Debug, Default)]
struct Config {
    name: Option<Name>,
    status: Option<SetStatus>,
    include: Option<MatchProperties>,
    exclude: Option<MatchProperties>,
}

/// The component's arguments.
#[derive(Default)]
pub struct Args {
    config: Config,
    output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics"]);
        let config = Config { name: r.block("name"), status: r.block("status"), include: r.block("include"), exclude: r.block("exclude") };
        Args { config, output: r.block_or_default("output") }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        let renames = self.config.name.as_ref().is_some_and(|n| !n.from_attributes.is_empty() || n.to_attributes.as_ref().is_some_and(|t| !t.rules.is_empty()));
        r.check(
            renames || self.config.status.is_some(),
            &["name"],
            "error creating \"span\" processor: either \"from_attributes\" or \"to_attributes\" must be specified in \"name\" or \"status\" must be specified",
        );
    }
}

/// An attribute value as the new name writes it.
fn name_part(v: Option<&AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        _ => "<unknown-attribute-type>".to_string(),
    }
}

fn put_str(attrs: &mut Vec<KeyValue>, key: &str, value: &str) {
    let v = AnyValue { value: Some(any_value::Value::StringValue(value.to_string())) };
    match attrs.iter_mut().find(|kv| kv.key == key) {
        Some(kv) => kv.value = Some(v),
        None => attrs.push(KeyValue { key: key.into(), value: Some(v), ..Default::default() }),
    }
}

impl Config {
    /// The new name from `from_attributes`, when the span has all of them.
    fn from_attributes(name: &Name, s: &mut Span) {
        if name.from_attributes.is_empty() || s.attributes.is_empty() {
            return;
        }
        let mut parts = Vec::with_capacity(name.from_attributes.len());
        for key in &name.from_attributes {
            let Some(kv) = s.attributes.iter().find(|kv| &kv.key == key) else { return };
            parts.push(name_part(kv.value.as_ref()));
        }
        s.name = parts.join(&name.separator);
    }

    /// Named groups of each matching rule become attributes and `{group}` in the name.
    fn to_attributes(to: &ToAttributes, s: &mut Span) {
        if s.name.is_empty() {
            return;
        }
        for rule in &to.rules {
            let old = s.name.clone();
            let Some(caps) = rule.re.captures(&old) else { continue };
            let mut name = String::with_capacity(old.len());
            let mut at = 0;
            for (i, group) in rule.re.capture_names().enumerate().skip(1) {
                let (Some(group), Some(m)) = (group, caps.get(i)) else { continue };
                put_str(&mut s.attributes, group, m.as_str());
                name.push_str(&old[at..m.start()]);
                name.push('{');
                name.push_str(group);
                name.push('}');
                at = m.end();
            }
            name.push_str(&old[at..]);
            if !to.keep_original_name {
                s.name = name;
            }
            if to.break_after_match {
                break;
            }
        }
    }

    fn apply(&self, s: &mut Span) {
        if let Some(n) = &self.name {
            Config::from_attributes(n, s);
            if let Some(to) = &n.to_attributes {
                Config::to_attributes(to, s);
            }
        }
        if let Some(st) = &self.status {
            let message = if st.code == StatusCode::Error as i32 { st.description.clone() } else { String::new() };
            s.status = Some(Status { code: st.code, message });
        }
    }
}

impl Transform for Config {
    fn process(&self, data: Payload) -> Result<Option<Payload>, ConsumeError> {
        if data.signal() != Signal::Traces {
            return Ok(Some(data));
        }
        let md = data.metadata().clone();
        let mut req = data.decode_traces().map_err(invalid)?;
        for rs in &mut req.resource_spans {
            for ss in &mut rs.scope_spans {
                for s in &mut ss.spans {
                    let it = Item::span(rs.resource.as_ref(), ss.scope.as_ref(), s);
                    if self.include.as_ref().is_none_or(|m| m.matches(&it)) && !self.exclude.as_ref().is_some_and(|m| m.matches(&it)) {
                        self.apply(s);
                    }
                }
            }
        }
        Ok(Some(Payload::from_traces(&req).with_metadata(md)))
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
