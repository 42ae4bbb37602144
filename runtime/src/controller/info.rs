//! What the HTTP API shows about components, read from the running graph.

use std::collections::BTreeSet;

use analyzer::catalog::Catalog;
use analyzer::types::{Capsule, Ty};

use super::graph::Kind;
use super::{Shared, State};
use crate::component::Health;

#[derive(Clone, Debug)]
pub struct ComponentInfo {
    /// The component name (`local.file`).
    pub name: String,
    pub local_id: String,
    /// "" for the root, else the custom component instance's global ID.
    pub module_id: String,
    pub label: Option<String>,
    pub references_to: Vec<String>,
    pub referenced_by: Vec<String>,
    pub data_flow_edges_to: Vec<String>,
    /// What flows along each of `data_flow_edges_to`, in the same order: `traces`, `metrics`,
    /// `logs` (several joined by `,` for an OTLP output carrying more than one), `profiles`,
    /// `targets` or `values`.
    pub data_flow_signals: Vec<String>,
    /// Modules this component runs (a custom component's, or a `foreach`'s children).
    pub created_module_ids: Vec<String>,
    pub health: Health,
    /// Present in detail responses: the last changes of the health, oldest first.
    pub health_history: Vec<Health>,
    /// Present in detail responses.
    pub arguments: Option<eval::Value>,
    pub exports: Option<eval::Value>,
    pub debug_info: Option<eval::Value>,
    /// What the user wrote the component as, when the configuration was generated.
    pub origin: Option<String>,
    /// The component publishes to live debugging.
    pub live_debugging: bool,
}

/// The receiver capsule component `name` exports, if data flows *into* it through its exports.
fn receiver_capsule(name: &str) -> Option<Capsule> {
    Catalog::get().lookup(name).and_then(|c| {
        c.exports.iter().find_map(|(_, t)| match t {
            Ty::Capsule(c @ (Capsule::OtelConsumer | Capsule::MetricsReceiver | Capsule::LogsReceiver | Capsule::ProfilesReceiver)) => Some(*c),
            _ => None,
        })
    })
}

fn is_receiver(name: &str) -> bool {
    receiver_capsule(name).is_some()
}

/// What flows from a node with arguments `from_args` and exports `from_name`'s, to the
/// component `to_name` with global ID `to_global`.
fn edge_signal(from_name: &str, from_args: Option<&eval::Value>, to_name: &str, to_global: &str) -> String {
    match receiver_capsule(to_name) {
        Some(Capsule::MetricsReceiver) => "metrics".into(),
        Some(Capsule::LogsReceiver) => "logs".into(),
        Some(Capsule::ProfilesReceiver) => "profiles".into(),
        // An OTLP consumer takes any signal: the sender's `output` lists say which.
        Some(_) => {
            let output = from_args.and_then(|a| a.as_object()).and_then(|o| o.get("output").cloned());
            let signals: Vec<&str> = ["traces", "metrics", "logs"]
                .into_iter()
                .filter(|signal| {
                    let list = output.as_ref().and_then(|o| o.as_object()).and_then(|o| o.get(signal).cloned());
                    list.is_some_and(|l| l.items().any(|item| matches!(&item, eval::Value::Capsule(c) if c.0.owner() == Some(to_global))))
                })
                .collect();
            if signals.is_empty() {
                "otlp".into()
            } else {
                signals.join(",")
            }
        }
        // The receiver references the sender's exports: discovery targets, or plain values.
        None => {
            let exports_targets = Catalog::get().lookup(from_name).is_some_and(|c| c.exports.iter().any(|(n, _)| n == "targets"));
            if exports_targets {
                "targets".into()
            } else {
                "values".into()
            }
        }
    }
}

/// Nodes the API shows: components and custom component instances.
fn shown(kind: Kind) -> bool {
    matches!(kind, Kind::Component | Kind::Instance | Kind::Foreach)
}

/// What the user wrote components as (`alloy otel`'s collector IDs), by local ID.
type OriginMap = std::collections::HashMap<String, String>;

fn origins(shared: &Shared) -> OriginMap {
    shared.options.origins.read().unwrap_or_else(|e| e.into_inner()).clone()
}

fn info(st: &State, i: usize, detail: bool, origins: &OriginMap, modules: &BTreeSet<String>) -> ComponentInfo {
    let node = &st.nodes[i];
    let id = &node.spec.id;
    // Neighbours in the same module, by local ID.
    let neighbour =
        |x: &String| st.index.get(x).map(|&j| &st.nodes[j].spec).filter(|s| shown(s.kind) && s.module == node.spec.module).map(|s| s.local_id.clone());
    let mut references_to: Vec<String> = st.deps.get(id).into_iter().flatten().filter_map(neighbour).collect();
    let mut referenced_by: Vec<String> = st.dependants.get(id).into_iter().flatten().filter_map(neighbour).collect();
    references_to.sort();
    references_to.dedup();
    referenced_by.sort();
    referenced_by.dedup();
    let module_prefix = if node.spec.module.is_empty() { String::new() } else { format!("{}/", node.spec.module) };
    let global = |local: &String| format!("{module_prefix}{local}");
    let name_of = |x: &String| st.index.get(&global(x)).map(|&j| st.nodes[j].spec.name.as_str()).unwrap_or("");
    // A reference A -> B carries data A -> B when B exports a receiver, else B -> A.
    let mut data_flow: Vec<String> = references_to.iter().filter(|b| is_receiver(name_of(b))).cloned().collect();
    if !is_receiver(&node.spec.name) {
        data_flow.extend(referenced_by.iter().cloned());
    }
    data_flow.sort();
    data_flow.dedup();
    let data_flow_signals = data_flow
        .iter()
        .map(|to| {
            let to_global = global(to);
            let to_name = st.index.get(&to_global).map(|&j| st.nodes[j].spec.name.as_str()).unwrap_or("");
            edge_signal(&node.spec.name, node.args.as_ref(), to_name, &to_global)
        })
        .collect();
    // A custom component runs the module named by its ID; a foreach one per child below it.
    // Modules sort after their owner's ID and before anything not starting with it.
    let created_module_ids = modules
        .range::<str, _>((std::ops::Bound::Included(id.as_str()), std::ops::Bound::Unbounded))
        .take_while(|m| m.starts_with(id.as_str()))
        .filter(|m| {
            m.as_str() == id.as_str()
                || m.strip_prefix(id.as_str()).and_then(|r| r.strip_prefix('/')).is_some_and(|r| !r.contains('/') && node.spec.kind == Kind::Foreach)
        })
        .cloned()
        .collect();
    ComponentInfo {
        name: node.spec.name.clone(),
        local_id: node.spec.local_id.clone(),
        module_id: node.spec.module.clone(),
        label: node.spec.label.clone(),
        references_to,
        referenced_by,
        data_flow_edges_to: data_flow,
        data_flow_signals,
        created_module_ids,
        health: node.shared.health(),
        health_history: if detail { node.shared.health_history() } else { Vec::new() },
        arguments: if detail { node.args.clone() } else { None },
        exports: if detail { Some(node.shared.exports()) } else { None },
        debug_info: if detail { node.component.as_ref().and_then(|c| c.debug_info()) } else { None },
        origin: if node.spec.module.is_empty() { origins.get(&node.spec.local_id).cloned() } else { None },
        live_debugging: node.shared.live_debugging(),
    }
}

/// The components of the root module.
pub(crate) fn list(shared: &Shared) -> Vec<ComponentInfo> {
    let origins = origins(shared);
    let st = shared.lock();
    module(&st, "", &origins)
}

fn module(st: &State, module: &str, origins: &OriginMap) -> Vec<ComponentInfo> {
    let modules = module_ids(st);
    (0..st.nodes.len()).filter(|&i| shown(st.nodes[i].spec.kind) && st.nodes[i].spec.module == module).map(|i| info(st, i, false, origins, &modules)).collect()
}

/// Every module that has nodes.
fn module_ids(st: &State) -> BTreeSet<String> {
    st.nodes.iter().filter(|n| !n.spec.module.is_empty()).map(|n| n.spec.module.clone()).collect()
}

/// The components of a module (a custom component instance's, or a foreach child's); None
/// when no node lives in that module.
pub(crate) fn module_list(shared: &Shared, module_id: &str) -> Option<Vec<ComponentInfo>> {
    let st = shared.lock();
    if module_id.is_empty() || !st.nodes.iter().any(|n| n.spec.module == module_id) {
        return None;
    }
    Some(module(&st, module_id, &OriginMap::new()))
}

/// The modules directly under a `foreach` node: one per child.
pub(crate) fn child_modules(shared: &Shared, id: &str) -> Vec<String> {
    let st = shared.lock();
    let prefix = format!("{id}/");
    let mut seen = std::collections::HashSet::new();
    st.nodes
        .iter()
        .filter(|n| n.spec.module.strip_prefix(&prefix).is_some_and(|rest| !rest.contains('/')))
        .map(|n| n.spec.module.clone())
        .filter(|m| seen.insert(m.clone()))
        .collect()
}

/// One component by global ID (`MODULE/LOCAL` inside a module).
pub(crate) fn detail(shared: &Shared, id: &str) -> Option<ComponentInfo> {
    let origins = origins(shared);
    let st = shared.lock();
    let &i = st.index.get(id)?;
    shown(st.nodes[i].spec.kind).then(|| info(&st, i, true, &origins, &module_ids(&st)))
}
