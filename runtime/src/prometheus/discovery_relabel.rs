//! `discovery.relabel`: relabels targets with its `rule` blocks and exports the survivors as
//! `output` (a target left with no labels is still exported) and the rules as `rules`.
//! Expanded replace targets are checked as UTF-8 names here, unlike the metrics components.

use std::collections::BTreeMap;
use std::sync::Arc;

use eval::{Object, Value};
use prom::labels::Labels;
use prom::relabel::{process_labels, NameValidation, Rule};

use super::rules::{read_rules, RulesHandle};
use crate::component::args::decode_checked;
use crate::component::{Arguments, Component, ComponentError, Context, Reader, Registration};
use crate::livedebugging::DataType;

const NAME: &str = "discovery.relabel";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["output", "rules"], build);

#[derive(Default)]
pub struct Args {
    pub targets: Vec<BTreeMap<String, String>>,
    pub rules: Vec<Rule>,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        Args { targets: r.get("targets"), rules: read_rules(r, "rule") }
    }
}

/// The relabelled targets, in input order.
pub fn relabel_targets(targets: &[BTreeMap<String, String>], rules: &[Rule]) -> Vec<BTreeMap<String, String>> {
    targets
        .iter()
        .filter_map(|t| {
            let labels = Labels::new(t.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            process_labels(rules, &labels, NameValidation::Utf8)
        })
        .map(|l| l.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        .collect()
}

/// The exports, and each input target's fate for live debugging (`in => out`).
fn exports(ctx: &Context, args: Args) -> Value {
    let tap = ctx.tap();
    let relabelled = relabel_targets(&args.targets, &args.rules);
    if tap.listening() {
        let render = || {
            let lines: Vec<String> = args
                .targets
                .iter()
                .map(|t| {
                    let labels = Labels::new(t.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                    match process_labels(&args.rules, &labels, NameValidation::Utf8) {
                        Some(out) => format!("{labels} => {out}"),
                        None => format!("{labels} => (dropped)"),
                    }
                })
                .collect();
            lines.join("\n")
        };
        tap.publish(DataType::Target, relabelled.len() as u64, &[], render);
    }
    let output: Vec<Value> =
        relabelled.into_iter().map(|t| Value::Object(Arc::new(t.into_iter().map(|(k, v)| (k.into(), Value::string(v))).collect()))).collect();
    let mut o = Object::new();
    o.insert("output", Value::Array(Arc::from(output)));
    o.insert("rules", RulesHandle(Arc::new(args.rules)).to_value());
    Value::object(o)
}

struct DiscoveryRelabel {
    ctx: Context,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    ctx.set_exports(exports(&ctx, args));
    Ok(Arc::new(DiscoveryRelabel { ctx }))
}

impl Component for DiscoveryRelabel {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        self.ctx.set_exports(exports(&self.ctx, args));
        Ok(())
    }
}
