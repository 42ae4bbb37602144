//! Custom components (`declare`) at run time. The lowering expands each instance in place, so
//! a module's nodes live in the one graph with IDs under the instance's. What is
//! left here is the plumbing between an instance and its module:
//! * the instance node evaluates its attributes (in the enclosing module's scope) into the
//!   module's arguments, checked against the declare's `argument` blocks;
//! * `argument "X"` exports `{value = …}`: the instance's value, else the block's `default`;
//! * `export "Y"` writes its `value` into the instance's exports, which the enclosing module
//!   references as `NAME.LABEL.Y`.
//!
//! An instance whose arguments change notifies its dependants, which include its argument
//! nodes; an export whose value changes changes the instance's exports, which notifies the
//! instance's dependants. Unchanged components inside keep running, as in upstream.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use eval::{Object, Scope, Value};
use syntax::ast::Stmt;
use syntax::Diagnostic;

use super::graph::Kind;
use super::{Shared, State};

/// Evaluates an instance, argument or export node.
pub(crate) fn evaluate(shared: &Shared, st: &mut State, i: usize, scope: &Scope) -> Result<(), Diagnostic> {
    match st.nodes[i].spec.kind {
        Kind::Instance => instance(shared, st, i, scope),
        Kind::Argument => argument(st, i, scope),
        Kind::Export => export(st, i, scope),
        Kind::Component | Kind::Config | Kind::Foreach => Ok(()),
    }
}

fn instance(shared: &Shared, st: &mut State, i: usize, scope: &Scope) -> Result<(), Diagnostic> {
    let node = &mut st.nodes[i];
    let spec = &node.spec;
    let Some(def) = spec.declare.clone() else {
        return Err(Diagnostic::error(spec.block.name_span, format!("the definition of custom component \"{}\" is missing", spec.name)));
    };
    let declared = def.arguments();
    for stmt in &spec.block.body {
        let (name, span) = match stmt {
            Stmt::Attribute(a) => (a.name.name.as_str(), a.name.span),
            Stmt::Block(b) => (b.name.as_str(), b.name_span),
        };
        if !declared.iter().any(|(d, _)| d == name) {
            return Err(Diagnostic::error(span, format!("Provided argument \"{name}\" is not defined in the module")));
        }
    }
    let args = analyzer::args::evaluate_block(&spec.name, &spec.block, &spec.source.parsed.lines, scope).map_err(|e| e.to_diagnostic(spec.block.name_span))?;
    let provided = args.as_object().map(|o| o.keys().map(|k| k.to_string()).collect::<HashSet<_>>()).unwrap_or_default();
    if let Some((missing, _)) = declared.iter().find(|(name, optional)| !optional && !provided.contains(name)) {
        return Err(Diagnostic::error(spec.block.name_span, format!("missing required argument \"{missing}\" to module")));
    }
    let changed = node.args.as_ref().is_some_and(|old| !eval::value::values_equal(old, &args));
    node.args = Some(args);
    if changed {
        // The argument nodes depend on the instance: re-evaluate them with the new values.
        let _ = shared.changed_tx.send((spec.id.clone(), Instant::now()));
    }
    Ok(())
}

/// The instance node of the module that node `i` belongs to.
fn instance_of(st: &State, i: usize) -> Option<usize> {
    st.index.get(&st.nodes[i].spec.module).copied()
}

fn argument(st: &mut State, i: usize, scope: &Scope) -> Result<(), Diagnostic> {
    let label = st.nodes[i].spec.label.clone().unwrap_or_default();
    let given = instance_of(st, i).and_then(|j| st.nodes[j].args.as_ref()).and_then(|a| a.as_object().and_then(|o| o.get(&label).cloned()));
    let node = &mut st.nodes[i];
    let value = match given {
        Some(v) => v,
        None => {
            let spec = &node.spec;
            let block =
                analyzer::args::evaluate_block("argument", &spec.block, &spec.source.parsed.lines, scope).map_err(|e| e.to_diagnostic(spec.block.name_span))?;
            block.as_object().and_then(|o| o.get("default").cloned()).unwrap_or(Value::Null)
        }
    };
    let mut exports = Object::ordered();
    exports.insert("value", value);
    node.shared.set_exports(Value::object(exports));
    Ok(())
}

fn export(st: &mut State, i: usize, scope: &Scope) -> Result<(), Diagnostic> {
    let spec = &st.nodes[i].spec;
    let label = spec.label.clone().unwrap_or_default();
    let block = analyzer::args::evaluate_block("export", &spec.block, &spec.source.parsed.lines, scope).map_err(|e| e.to_diagnostic(spec.block.name_span))?;
    let value = block.as_object().and_then(|o| o.get("value").cloned()).unwrap_or(Value::Null);
    let Some(j) = instance_of(st, i) else { return Ok(()) };
    let instance = &st.nodes[j].shared;
    let mut exports = instance.exports().as_object().map(|o| o.into_owned()).unwrap_or_else(Object::ordered);
    exports.insert(label, value);
    instance.set_exports(Value::object(exports));
    Ok(())
}

/// After a reload: drops exports of instances whose `export` block is gone.
pub(crate) fn forget_removed_exports(st: &State) {
    let mut labels: HashMap<&str, HashSet<&str>> = HashMap::new();
    for n in st.nodes.iter().filter(|n| n.spec.kind == Kind::Export) {
        labels.entry(n.spec.module.as_str()).or_default().insert(n.spec.label.as_deref().unwrap_or(""));
    }
    for n in st.nodes.iter().filter(|n| n.spec.kind == Kind::Instance) {
        let Some(current) = n.shared.exports().as_object().map(|o| o.into_owned()) else { continue };
        let keep = labels.get(n.spec.id.as_str());
        if current.keys().all(|k| keep.is_some_and(|l| l.contains(k.as_str()))) {
            continue;
        }
        let mut kept = Object::ordered();
        for (k, v) in current.iter().filter(|(k, _)| keep.is_some_and(|l| l.contains(k.as_str()))) {
            kept.insert(k.clone(), v.clone());
        }
        n.shared.set_exports(Value::object(kept));
    }
}
