//! Installing a lowered graph over the running one and evaluating its nodes: scopes from
//! dependencies' exports, build or update components, health and diagnostics.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use analyzer::FileReport;
use eval::{Object, Scope, Value};
use syntax::Diagnostic;

use super::graph::{Kind, Lowered};
use super::node::{Change, NodeShared};
use super::{tasks, Node, Shared, State};
use crate::component::{Context, ContextInner, Health, HealthState};
use crate::metrics::Registry;

/// Replaces the graph: nodes with an unchanged ID keep their component, arguments and
/// exports; new IDs get fresh nodes. Returns the tasks of removed nodes (dependants first),
/// for the caller to stop.
pub(crate) fn install(shared: &Shared, st: &mut State, lowered: Lowered) -> Vec<(String, tasks::Task)> {
    // The running nodes are in graph order already.
    let old_order: Vec<String> = st.nodes.iter().map(|n| n.spec.id.clone()).collect();
    let mut old: HashMap<String, Node> = std::mem::take(&mut st.nodes).into_iter().map(|n| (n.spec.id.clone(), n)).collect();
    let mut nodes = Vec::with_capacity(lowered.nodes.len());
    for spec in lowered.nodes {
        match old.remove(&spec.id) {
            Some(prev) if prev.spec.expose_metrics == spec.expose_metrics => nodes.push(Node { spec, ..prev }),
            replaced => {
                // Toggling a foreach's `enable_metrics` recreates its children, as upstream does.
                if let Some(prev) = replaced {
                    old.insert(spec.id.clone(), prev);
                }
                let node_shared = NodeShared::new(&spec.id, shared.changed_tx.clone());
                nodes.push(Node { spec, shared: node_shared, component: None, args: None, evaluated_at: None });
            }
        }
    }
    let mut removed = Vec::new();
    for id in old_order.iter().rev() {
        if let Some(gone) = old.remove(id) {
            shared.registry.remove_component(&gone.spec.local_id, &gone.spec.component_path());
            if let Some(t) = st.tasks.remove(id) {
                removed.push((id.clone(), t));
            }
        }
    }
    st.index = nodes.iter().enumerate().map(|(i, n)| (n.spec.id.clone(), i)).collect();
    st.nodes = nodes;
    st.dependants.clear();
    for (from, tos) in &lowered.deps {
        for to in tos {
            st.dependants.entry(to.clone()).or_default().push(from.clone());
        }
    }
    st.deps = lowered.deps;
    let index = &st.index;
    st.foreach.retain(|id, _| index.contains_key(id));
    super::module::forget_removed_exports(st);
    removed
}

/// Evaluates every node in dependency order; failures do not stop the walk. Returns the
/// failures as file reports.
pub(crate) fn evaluate_all(shared: &Shared, st: &mut State) -> Vec<FileReport> {
    let mut failures: Vec<(usize, Diagnostic)> = Vec::new();
    let mut configs = std::collections::HashSet::new();
    // Nodes that failed in this pass without exports to show: their dependants would only
    // repeat the failure as "field does not exist" at every reference.
    let mut broken: std::collections::HashSet<String> = std::collections::HashSet::new();
    for i in 0..st.nodes.len() {
        if st.nodes[i].spec.kind == Kind::Config {
            configs.insert(st.nodes[i].spec.name.clone());
        }
        let failed_dep = st.deps.get(&st.nodes[i].spec.id).into_iter().flatten().find(|d| broken.contains(*d)).cloned();
        if let Some(dep) = failed_dep {
            let node = &st.nodes[i];
            node.shared.set_eval_health(Health::new(HealthState::Unhealthy, format!("not evaluated: its dependency {dep} failed to evaluate")));
            broken.insert(node.spec.id.clone());
            continue;
        }
        if let Err(d) = evaluate_node(shared, st, i) {
            if st.nodes[i].shared.exports().is_null() {
                broken.insert(st.nodes[i].spec.id.clone());
            }
            failures.push((i, d));
        }
    }
    // A config block the configuration no longer has: its defaults apply again.
    for reg in shared.registrations.configs().filter(|r| !configs.contains(r.name)) {
        if let Some(Err(e)) = reg.apply.map(|apply| apply(&shared.services, None)) {
            tracing::error!(block = reg.name, "failed to restore the defaults: {e}");
        }
    }
    super::graph::reports(failures.into_iter().map(|(i, d)| (&*st.nodes[i].spec.source, d)))
}

/// Re-evaluates the direct dependants of `changed`, in graph order.
pub(crate) fn evaluate_dependants(shared: &Shared, changed: &[Change]) {
    let mut st = shared.lock();
    // Dependant -> when the earliest of its changed dependencies changed.
    let mut targets: HashMap<String, Instant> = HashMap::new();
    for (id, at) in changed {
        for d in st.dependants.get(id).into_iter().flatten() {
            let t = targets.entry(d.clone()).or_insert(*at);
            *t = (*t).min(*at);
        }
    }
    // A dependant evaluated after the change (in the load that caused it, say) already saw it.
    let order: Vec<usize> =
        (0..st.nodes.len()).filter(|&i| targets.get(&st.nodes[i].spec.id).is_some_and(|at| st.nodes[i].evaluated_at.is_none_or(|e| e <= *at))).collect();
    for i in order {
        let start = Instant::now();
        if let Some(at) = targets.get(&st.nodes[i].spec.id) {
            shared.metrics.dependencies_wait_seconds.observe(start.duration_since(*at).as_secs_f64());
        }
        if let Err(d) = evaluate_node(shared, &mut st, i) {
            let src = &st.nodes[i].spec.source;
            let at = src.parsed.lines.line_col(d.span.start);
            tracing::error!(node_id = %st.nodes[i].spec.id, "failed to evaluate dependant: {}:{at}: {}", src.path, d.message);
        }
        shared.metrics.evaluation_seconds.observe(start.elapsed().as_secs_f64());
    }
}

/// The scope of node `i`: `module_path` plus the exports of its dependencies in the same
/// module, nested by local ID parts (`local.file.x.content`, `argument.x.value`).
fn scope_for(st: &State, i: usize) -> Scope {
    #[derive(Default)]
    struct Tree {
        leaf: Option<Value>,
        children: BTreeMap<String, Tree>,
    }
    fn to_value(t: Tree) -> Value {
        if let Some(v) = t.leaf {
            return v;
        }
        let mut o = Object::new();
        for (k, c) in t.children {
            o.insert(k, to_value(c));
        }
        Value::object(o)
    }
    let mut root = Tree::default();
    let spec = &st.nodes[i].spec;
    for dep in st.deps.get(&spec.id).map(Vec::as_slice).unwrap_or_default() {
        let Some(&j) = st.index.get(dep) else { continue };
        // A module sees only the modules visible from it (a foreach child also sees its
        // foreach's); other edges across modules only order the evaluation.
        let dep_spec = &st.nodes[j].spec;
        if !spec.visible.contains(&dep_spec.module) {
            continue;
        }
        let exports = match st.nodes[j].shared.exports() {
            Value::Null => Value::object(Object::new()),
            v => v,
        };
        let mut t = &mut root;
        for part in dep_spec.local_id.split('.') {
            t = t.children.entry(part.to_string()).or_default();
        }
        t.leaf = Some(exports);
    }
    let mut scope = Scope::new();
    scope.set("module_path", Value::string(spec.module_path.as_str()));
    for (name, item) in &spec.vars {
        scope.set(name.as_str(), item.clone());
    }
    for (k, t) in root.children {
        scope.set(k, to_value(t));
    }
    scope
}

/// Evaluates node `i`; the error is a positioned diagnostic.
fn evaluate_node(shared: &Shared, st: &mut State, i: usize) -> Result<(), Diagnostic> {
    st.nodes[i].evaluated_at = Some(Instant::now());
    let scope = scope_for(st, i);
    let spec = &st.nodes[i].spec;
    let fallback = spec.block.name_span;
    let evaluate_args = || analyzer::args::evaluate_block(&spec.name, &spec.block, &spec.source.parsed.lines, &scope).map_err(|e| e.to_diagnostic(fallback));
    let result = match spec.kind {
        Kind::Config => {
            let apply = shared.registrations.get(&spec.name).and_then(|r| r.apply);
            return evaluate_args()
                .and_then(|v| check_args(shared, spec, &v).map(|()| v))
                .and_then(|v| match apply {
                    Some(apply) => {
                        apply(&shared.services, Some(&v)).map_err(|e| Diagnostic::error(fallback, format!("Failed to evaluate node for config block: {e}")))
                    }
                    None => Ok(()),
                })
                .map_err(|d| d.with_code("eval"));
        }
        Kind::Instance | Kind::Argument | Kind::Export => super::module::evaluate(shared, st, i, &scope),
        Kind::Foreach => super::foreach::evaluate(shared, st, i, &scope),
        Kind::Component => match evaluate_args() {
            Err(d) => Err(d),
            // Arguments a running component already has were checked when they arrived.
            Ok(args) if st.nodes[i].component.is_some() && st.nodes[i].args.as_ref().is_some_and(|old| eval::value::values_equal(old, &args)) => Ok(()),
            Ok(args) => match check_args(shared, &st.nodes[i].spec, &args) {
                Err(d) => Err(d),
                Ok(()) => build_or_update(shared, &mut st.nodes[i], args).map_err(|m| Diagnostic::error(fallback, m)),
            },
        },
    };
    let node = &st.nodes[i];
    match &result {
        Ok(()) => node.shared.set_eval_health(Health::new(HealthState::Healthy, "component evaluated")),
        Err(d) => node.shared.set_eval_health(Health::new(HealthState::Unhealthy, format!("component evaluation failed: {}", d.message))),
    }
    result.map_err(|d| d.with_code("eval"))
}

/// The component's own argument rules, as `alloy validate` runs them (`analyzer::rules`):
/// the first problem, placed where the value is written.
fn check_args(shared: &Shared, spec: &super::graph::NodeSpec, args: &Value) -> Result<(), Diagnostic> {
    let Some(reg) = shared.registrations.get(&spec.name) else { return Ok(()) };
    match (reg.check)(&spec.name, args).first() {
        None => Ok(()),
        Some(e) => Err(e.to_diagnostic(&spec.block)),
    }
}

/// Builds the component on its first successful evaluation, else updates it (the caller
/// skips arguments that did not change).
fn build_or_update(shared: &Shared, node: &mut Node, args: Value) -> Result<(), String> {
    match &node.component {
        None => {
            let Some(build) = shared.registrations.get(node.spec.name.as_str()).and_then(|r| r.build) else {
                return Err(format!("component \"{}\" is not supported by this runtime yet", node.spec.name));
            };
            let ctx = Context {
                inner: Arc::new(ContextInner {
                    id: node.spec.id.clone(),
                    local_id: node.spec.local_id.clone(),
                    component_path: node.spec.component_path(),
                    data_path: shared.options.storage_path.join(&node.spec.id),
                    registry: if node.spec.expose_metrics { shared.registry.clone() } else { Registry::new() },
                    host: node.shared.clone(),
                    live: shared.services.get::<crate::livedebugging::Hub>(),
                }),
            };
            let component = build(ctx, args.clone()).map_err(|e| format!("Failed to build component: building component: {e}"))?;
            node.component = Some(component);
            node.args = Some(args);
            Ok(())
        }
        Some(c) => {
            c.update(args.clone()).map_err(|e| format!("Failed to build component: updating component: {e}"))?;
            node.args = Some(args);
            Ok(())
        }
    }
}
