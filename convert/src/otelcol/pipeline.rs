//! Pipeline groups, emission order, labels and `output` wiring.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::builder::{Block, Expr, File, Stmt};
use crate::diag::{Diagnostics, Severity};
use crate::values::sanitize_identifier;

use super::components::{self, CKind, Output};
use super::config::{id_name, id_ty, Config, Def, Pipeline};
use super::{schema, Ctx};

pub(super) const SIGNALS: [&str; 3] = ["metrics", "logs", "traces"];

/// The pipelines sharing one name, by signal, with the lookups wiring needs (sets rather than
/// scans of the lists, which were quadratic in the number of components).
#[derive(Default)]
struct Group<'a> {
    name: String,
    by_signal: HashMap<&'a str, &'a Pipeline>,
    /// Per signal: the receivers, and where each processor first is.
    receivers: HashMap<&'a str, HashSet<&'a str>>,
    processor_at: HashMap<&'a str, HashMap<&'a str, usize>>,
    /// Every receiver and exporter of the group's pipelines.
    used: HashSet<&'a str>,
}

impl<'a> Group<'a> {
    fn pipeline(&self, signal: &str) -> Option<&'a Pipeline> {
        self.by_signal.get(signal).copied()
    }

    /// The first-occurrence merge of one list over metrics, logs, traces.
    fn merged(&self, list: impl Fn(&'a Pipeline) -> &'a [String]) -> Vec<&'a str> {
        let mut out: Vec<&str> = Vec::new();
        let mut seen = HashSet::new();
        for s in SIGNALS {
            if let Some(p) = self.pipeline(s) {
                for id in list(p) {
                    if seen.insert(id.as_str()) {
                        out.push(id);
                    }
                }
            }
        }
        out
    }
}

/// A component's label from its group and ID name.
pub fn label(group: &str, name: &str) -> String {
    let raw = if group.is_empty() && name.is_empty() {
        "default".to_string()
    } else {
        format!("{}_{}", if group.is_empty() { "default" } else { group }, if name.is_empty() { "default" } else { name })
    };
    // Labels built this way always contain `_` or are `default`, never a bare keyword.
    sanitize_identifier(&raw).unwrap_or(raw)
}

fn groups(cfg: &Config) -> Result<Vec<Group<'_>>, String> {
    let mut by_name: BTreeMap<&str, Group> = BTreeMap::new();
    for p in &cfg.pipelines {
        if !SIGNALS.contains(&p.signal.as_str()) {
            return Err(format!("failed to interpret config: unknown pipeline type {:?}", p.signal));
        }
        let g = by_name.entry(&p.name).or_insert_with(|| Group { name: p.name.clone(), ..Group::default() });
        g.by_signal.insert(&p.signal, p);
    }
    let mut groups: Vec<Group> = by_name.into_values().collect();
    for g in &mut groups {
        for (&signal, p) in &g.by_signal {
            g.receivers.insert(signal, p.receivers.iter().map(String::as_str).collect());
            let at = g.processor_at.entry(signal).or_default();
            for (i, id) in p.processors.iter().enumerate() {
                at.entry(id.as_str()).or_insert(i);
            }
            g.used.extend(p.receivers.iter().chain(&p.exporters).map(String::as_str));
        }
    }
    Ok(groups)
}

/// `<alloy name>.<label>.input` of an exporter or connector in `group`.
fn input_of(cfg: &Config, group: &str, id: &str) -> Option<Expr> {
    let kind = if cfg.is_connector(id) { CKind::Connector } else { CKind::Exporter };
    let conv = components::lookup(kind, id_ty(id))?;
    Some(Expr::raw(format!("{}.{}.input", conv.alloy, label(group, id_name(id)))))
}

/// Where a receiver, connector or processor sends `signal` in the group's pipeline.
fn destinations(cfg: &Config, g: &Group, signal: &str, id: &str, as_processor: bool) -> Vec<Expr> {
    let Some(p) = g.pipeline(signal) else { return Vec::new() };
    let next_processor = if as_processor {
        match g.processor_at.get(signal).and_then(|at| at.get(id)) {
            Some(i) => p.processors.get(i + 1),
            None => return Vec::new(),
        }
    } else {
        if !g.receivers.get(signal).is_some_and(|r| r.contains(id)) {
            return Vec::new();
        }
        p.processors.first()
    };
    match next_processor {
        Some(proc_id) => components::lookup(CKind::Processor, id_ty(proc_id))
            .map(|c| vec![Expr::raw(format!("{}.{}.input", c.alloy, label(&g.name, id_name(proc_id))))])
            .unwrap_or_default(),
        None => p.exporters.iter().filter_map(|e| input_of(cfg, &g.name, e)).collect(),
    }
}

fn output_block(dests: [Vec<Expr>; 3]) -> Block {
    let mut out = Block::new("output", None);
    for (signal, d) in SIGNALS.iter().zip(dests) {
        if !d.is_empty() {
            out.attr(signal, Expr::Array(d));
        }
    }
    out
}

/// Emits every converted component in upstream's order into `file`.
pub fn emit(cfg: &Config, file: &mut File, diags: &mut Diagnostics) -> Result<(), String> {
    let groups = groups(cfg)?;

    // Extensions, in `service.extensions` order, labelled without a group.
    let mut extensions = HashMap::new();
    for id in &cfg.service_extensions {
        if let Some(conv) = components::lookup(CKind::Extension, id_ty(id)) {
            extensions.insert(id.clone(), format!("{}.{}", conv.alloy, label("", id_name(id))));
        }
    }
    for id in &cfg.service_extensions {
        if let Some(def) = cfg.find(CKind::Extension, id) {
            append(CKind::Extension, def, "", None, &extensions, file, diags);
        }
    }

    // Receivers belong to the first group (and list) that mentions them.
    let mut seen = HashSet::new();
    let mut owned: Vec<Vec<&str>> = Vec::new();
    for g in &groups {
        let mut lists: HashMap<&str, Vec<&str>> = HashMap::new();
        for s in ["metrics", "traces", "logs"] {
            let mut kept = Vec::new();
            if let Some(p) = g.pipeline(s) {
                for r in &p.receivers {
                    if cfg.is_connector(r) {
                        continue;
                    }
                    if seen.insert(r.as_str()) {
                        kept.push(r.as_str());
                    }
                }
            }
            lists.insert(s, kept);
        }
        let mut merged: Vec<&str> = Vec::new();
        let mut in_merged = HashSet::new();
        for s in SIGNALS {
            for r in &lists[s] {
                if in_merged.insert(*r) {
                    merged.push(r);
                }
            }
        }
        owned.push(merged);
    }
    // The groups whose pipelines receive from each receiver, in group order.
    let mut receiving: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, g) in groups.iter().enumerate() {
        let mut ids: HashSet<&str> = HashSet::new();
        for s in SIGNALS {
            if let Some(p) = g.pipeline(s) {
                ids.extend(p.receivers.iter().map(String::as_str));
            }
        }
        for id in ids {
            receiving.entry(id).or_default().push(i);
        }
    }

    for (g, receivers) in groups.iter().zip(&owned) {
        for id in receivers {
            let Some(def) = cfg.find(CKind::Receiver, id) else { continue };
            // A receiver's output gathers destinations from every group.
            let from = receiving.get(id).map_or(&[][..], Vec::as_slice);
            let dests = SIGNALS.map(|s| from.iter().flat_map(|&i| destinations(cfg, &groups[i], s, id, false)).collect());
            append(CKind::Receiver, def, &g.name, Some(dests), &extensions, file, diags);
        }
        for id in g.merged(|p| &p.processors) {
            let Some(def) = cfg.find(CKind::Processor, id) else { continue };
            let dests = SIGNALS.map(|s| destinations(cfg, g, s, id, true));
            append(CKind::Processor, def, &g.name, Some(dests), &extensions, file, diags);
        }
        for id in g.merged(|p| &p.exporters) {
            if cfg.is_connector(id) {
                continue;
            }
            let Some(def) = cfg.find(CKind::Exporter, id) else { continue };
            append(CKind::Exporter, def, &g.name, None, &extensions, file, diags);
        }
        // Upstream emits every connector for every group, in map order; here only those the
        // group's pipelines use, sorted by ID.
        let mut connectors: Vec<&Def> = cfg.connectors.iter().filter(|d| g.used.contains(d.id.as_str())).collect();
        connectors.sort_by(|a, b| a.id.cmp(&b.id));
        for def in connectors {
            let dests = SIGNALS.map(|s| destinations(cfg, g, s, &def.id, false));
            append(CKind::Connector, def, &g.name, Some(dests), &extensions, file, diags);
        }
    }
    Ok(())
}

/// Converts one component and appends it (and any blocks it needs before it).
fn append(kind: CKind, def: &Def, group: &str, output: Option<[Vec<Expr>; 3]>, extensions: &HashMap<String, String>, file: &mut File, diags: &mut Diagnostics) {
    let Some(r) = render(kind, def, &label(group, def.name()), output, extensions, Wiring::Upstream) else { return };
    file.blocks.extend(r.before);
    let mut ctx_diags = r.diags;
    // Upstream drops settings its converters do not read without a word.
    for (path, _) in r.unread {
        ctx_diags.add(Severity::Warning, format!("{}: the setting {path:?} is not converted", r.instance));
    }
    // Upstream's collector refuses these before converting; reading them as zero would
    // silently change the pipeline (a timeout of 0s, TLS turned on).
    for (problem, at) in &r.invalid {
        let key = schema::key_at(&def.node, *at).unwrap_or_default();
        ctx_diags.add(Severity::Error, format!("{}: line {}: column {}: {}", r.instance, at.line, at.col, problem.message(&key)));
    }
    let full = r.block.full_name();
    file.blocks.push(r.block);
    diags.extend(ctx_diags);
    diags.add(Severity::Info, format!("Converted {} into {full}", r.instance));
}

/// One collector component rendered as an Alloy block.
pub(super) struct Rendered {
    /// `kind/id`, for messages.
    pub instance: String,
    /// Blocks the component needs before it (a bearer token's `local.file`).
    pub before: Vec<Block>,
    pub block: Block,
    /// YAML paths below the component that no field reads, with where their keys are.
    pub unread: Vec<(String, crate::yaml::Pos)>,
    /// The YAML paths the component's fields read.
    pub known: Vec<String>,
    pub diags: Diagnostics,
    /// Values that do not read as their field's type, with where they are.
    pub invalid: Vec<(schema::Invalid, crate::yaml::Pos)>,
}

/// Whose `output` rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Wiring {
    /// Upstream's converter: the components it never wires ([`Output::Missing`]) get no `output`.
    Upstream,
    /// The collector engine: every component with an output is wired.
    Collector,
}

/// Renders `def` as the Alloy block `label`, with `output` wired when the component has one;
/// `None` for a type without a converter.
pub(super) fn render(
    kind: CKind,
    def: &Def,
    label: &str,
    output: Option<[Vec<Expr>; 3]>,
    extensions: &HashMap<String, String>,
    wiring: Wiring,
) -> Option<Rendered> {
    let conv = components::lookup(kind, def.ty())?;
    let instance = format!("{}/{}", kind.as_str(), def.id);
    let mut ctx = Ctx { extensions, instance: instance.clone(), diags: Diagnostics::new(), invalid: Vec::new() };
    let mut block = Block::new(conv.alloy, Some(label));
    let (before, unread) = schema::tracking(&def.node, || {
        if let Some(check) = conv.check {
            check(&def.node, &mut ctx);
        }
        block.body = schema::render(&(conv.fields)(), &def.node, &mut ctx);
        conv.before.map(|before| before(&def.node, label)).unwrap_or_default()
    });
    let wired = conv.output == Output::Wired || (conv.output == Output::Missing && wiring == Wiring::Collector);
    if let (Some(dests), true) = (output, wired) {
        let picked = conv.signals.map(|s| s.map(|i| dests[i].clone()).unwrap_or_default());
        block.body.push(Stmt::Block(output_block(picked)));
    }
    let known = if unread.is_empty() { Vec::new() } else { schema::known_paths(&(conv.fields)()) };
    Some(Rendered { instance, before, block, unread, known, diags: ctx.diags, invalid: ctx.invalid })
}
