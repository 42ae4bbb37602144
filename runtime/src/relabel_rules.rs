//! `rule` blocks (and `write_relabel_config`): decoded into the `prom` relabel engine's
//! rules, each validated with upstream's messages where it is written; and the
//! `RelabelRules` capsule that `discovery.relabel`, `prometheus.relabel` (and later
//! `loki.relabel`) export as `rules`.

use std::fmt;
use std::sync::Arc;

use eval::{CapsuleValue, Value};
use prom::relabel::{Action, Rule, RuleConfig};

use crate::component::{Arguments, Reader};

/// One `rule` block, compiled; `None` when it failed validation (the error is recorded).
#[derive(Default)]
pub struct RuleArgs(pub Option<Rule>);

impl Arguments for RuleArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        let action_text: String = r.get("action");
        let action = match Action::parse(&action_text) {
            Ok(a) => Some(a),
            Err(e) => {
                r.error("action", e);
                None
            }
        };
        let config = RuleConfig {
            source_labels: r.get("source_labels"),
            separator: r.get("separator"),
            regex: r.get("regex"),
            modulus: r.get("modulus"),
            target_label: r.get("target_label"),
            replacement: r.get("replacement"),
            action: action.unwrap_or(Action::Replace),
        };
        if action.is_none() || !r.known("regex") {
            return RuleArgs(None);
        }
        match Rule::new(config) {
            Ok(rule) => RuleArgs(Some(rule)),
            Err(e) => {
                r.error("", e);
                RuleArgs(None)
            }
        }
    }
}

/// Reads the repeated `name` blocks into rules (failed ones are errors already recorded).
pub fn read_rules(r: &mut Reader<'_>, name: &'static str) -> Vec<Rule> {
    r.blocks::<RuleArgs>(name).into_iter().filter_map(|a| a.0).collect()
}

/// The `RelabelRules` capsule.
#[derive(Clone)]
pub struct RulesHandle(pub Arc<Vec<Rule>>);

pub const RULES_TYPE: &str = "RelabelRules";

impl RulesHandle {
    pub fn to_value(&self) -> Value {
        Value::Capsule(eval::Capsule::new(self.clone()))
    }
}

impl fmt::Debug for RulesHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelabelRules({} rules)", self.0.len())
    }
}

impl CapsuleValue for RulesHandle {
    fn type_name(&self) -> &str {
        RULES_TYPE
    }

    /// Equal rule lists are no change for dependants.
    fn equals(&self, other: &dyn CapsuleValue) -> bool {
        other.as_any().downcast_ref::<RulesHandle>().is_some_and(|o| Arc::ptr_eq(&self.0, &o.0) || *self.0 == *o.0)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl eval::Decode for RulesHandle {
    fn decode(v: &Value) -> Result<Self, eval::ValueError> {
        eval::decode::decode_capsule::<RulesHandle>(v, RULES_TYPE)
    }
}
