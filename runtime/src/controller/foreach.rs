//! `foreach`: one child module per item of `collection`, each running the
//! `template` with the item bound to `var`. The foreach node evaluates its attributes into
//! [`Items`]; when they differ from what the graph was lowered with, the controller lowers
//! again, so children are ordinary nodes under `foreach.L/foreach_<fingerprint>_<n>/`, and
//! children whose ID stays keep running.

use std::collections::HashMap;

use eval::{Scope, Value};
use sha2::{Digest, Sha256};
use syntax::ast::{Block, Stmt};
use syntax::Diagnostic;

use super::State;

/// What a foreach expands to: the variable name and, per child, its module name and item.
#[derive(Clone, Debug, Default)]
pub struct Items {
    pub var: String,
    pub children: Vec<(String, Value)>,
    /// `enable_metrics`: whether the children's components register their metrics.
    pub enable_metrics: bool,
}

impl PartialEq for Items {
    fn eq(&self, other: &Self) -> bool {
        self.var == other.var
            && self.enable_metrics == other.enable_metrics
            && self.children.len() == other.children.len()
            && self.children.iter().zip(&other.children).all(|((a, x), (b, y))| a == b && eval::value::values_equal(x, y))
    }
}

/// Evaluates foreach node `i`; a change of its items sets the controller's re-lowering flag.
pub(crate) fn evaluate(shared: &super::Shared, st: &mut State, i: usize, scope: &Scope) -> Result<(), Diagnostic> {
    let spec = &st.nodes[i].spec;
    if !spec.block.body.iter().any(|s| matches!(s, Stmt::Block(b) if b.name == "template")) {
        return Err(Diagnostic::error(spec.block.name_span, "the block template is missing in the foreach block"));
    }
    // The template is evaluated in the children, with the variable bound.
    let attributes = Block { body: spec.block.body.iter().filter(|s| matches!(s, Stmt::Attribute(_))).cloned().collect(), ..spec.block.clone() };
    let args = analyzer::args::evaluate_block("foreach", &attributes, &spec.source.parsed.lines, scope).map_err(|e| e.to_diagnostic(spec.block.name_span))?;
    let obj = args.as_object().map(|o| o.into_owned()).unwrap_or_default();
    let text = |name: &str| match obj.get(name) {
        Some(Value::String(s)) => Some(s.to_string_lossy().into_owned()),
        _ => None,
    };
    let Some(var) = text("var") else {
        return Err(Diagnostic::error(spec.block.name_span, "missing required attribute \"var\""));
    };
    let collection = match obj.get("collection") {
        Some(Value::Array(items)) => items.clone(),
        _ => return Err(Diagnostic::error(spec.block.name_span, "collection must be an array")),
    };
    let id_field = text("id").filter(|s| !s.is_empty());
    let hash_strings = matches!(obj.get("hash_string_id"), Some(Value::Bool(true)));
    let enable_metrics = matches!(obj.get("enable_metrics"), Some(Value::Bool(true)));
    let items = Items { var, children: children(&collection, id_field.as_deref(), hash_strings), enable_metrics };
    let id = spec.id.clone();
    if st.foreach.get(&id) != Some(&items) {
        st.foreach.insert(id, items);
        shared.foreach_changed.store(true, std::sync::atomic::Ordering::Release);
    }
    Ok(())
}

/// Child module names in collection order: `foreach_<fingerprint>_<n>`, `n` counting equal
/// fingerprints from 1.
fn children(collection: &[Value], id_field: Option<&str>, hash_strings: bool) -> Vec<(String, Value)> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    collection
        .iter()
        .map(|item| {
            let keyed = id_field.and_then(|f| item.as_object().and_then(|o| o.get(f).cloned()));
            let fp = fingerprint(keyed.as_ref().unwrap_or(item), hash_strings);
            let n = seen.entry(fp.clone()).or_insert(0);
            *n += 1;
            (format!("foreach_{fp}_{n}"), item.clone())
        })
        .collect()
}

/// Strings with every character but ASCII letters and digits replaced by `_` (or their
/// SHA-256 with `hash_string_id`), integers and booleans as written, floats with six decimals
/// and `_` for the point, anything else the SHA-256 of its rendering.
fn fingerprint(v: &Value, hash_strings: bool) -> String {
    let sha = |text: &str| format!("{:x}", Sha256::digest(text.as_bytes()));
    match v {
        Value::String(s) => {
            let s = s.to_string_lossy();
            if hash_strings {
                sha(&s)
            } else {
                s.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
            }
        }
        Value::Bool(b) => b.to_string(),
        Value::Number(eval::Number::Int(i)) => i.to_string(),
        Value::Number(eval::Number::Uint(u)) => u.to_string(),
        Value::Number(eval::Number::Float(f)) => format!("{f:.6}").replace('.', "_"),
        other => sha(&format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_are_named_by_fingerprint_and_count() {
        let items = [Value::string("a.b"), Value::int(3), Value::string("a-b"), Value::Bool(true)];
        let names: Vec<String> = children(&items, None, false).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["foreach_a_b_1", "foreach_3_1", "foreach_a_b_2", "foreach_true_1"]);
        let hashed = children(&[Value::string("x")], None, true);
        assert_eq!(hashed[0].0, "foreach_2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881_1");
    }
}
