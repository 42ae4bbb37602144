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
    /// Signals whose pipelines get their own copies of the group's processors, with the
    /// suffix of the copies' labels: a pipeline fed (through connectors) from another pipeline
    /// of the group that shares a processor would otherwise close a cycle in the Alloy graph.
    split: BTreeMap<&'a str, String>,
}

impl<'a> Group<'a> {
    fn pipeline(&self, signal: &str) -> Option<&'a Pipeline> {
        self.by_signal.get(signal).copied()
    }

    /// The label of processor `id` in the `signal` pipeline.
    fn processor_label(&self, signal: &str, id: &str) -> String {
        let base = label(&self.name, id_name(id));
        match self.split.get(signal) {
            Some(suffix) => format!("{base}_{suffix}"),
            None => base,
        }
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
    split_cycles(cfg, &mut groups);
    Ok(groups)
}

/// Marks the pipelines that need their own processor copies ([`Group::split`]). Pipelines are
/// linked through connectors (one exports to a connector another receives from), across groups;
/// a pipeline reachable from another pipeline of its group with which it shares a processor is
/// split. The collector gives every pipeline its own processor instances, so copies keep its
/// behaviour.
fn split_cycles(cfg: &Config, groups: &mut [Group]) {
    let nodes: Vec<(usize, &Pipeline)> =
        groups.iter().enumerate().flat_map(|(i, g)| SIGNALS.iter().filter_map(move |s| g.pipeline(s).map(|p| (i, p)))).collect();
    if !cfg.pipelines.iter().any(|p| p.receivers.iter().any(|r| cfg.is_connector(r))) {
        return;
    }
    let feeds = |a: &Pipeline, b: &Pipeline| a.exporters.iter().any(|e| cfg.is_connector(e) && b.receivers.contains(e));
    // Transitive closure over the (few) pipelines.
    let n = nodes.len();
    let mut reach: Vec<Vec<bool>> = (0..n).map(|a| (0..n).map(|b| feeds(nodes[a].1, nodes[b].1)).collect()).collect();
    for k in 0..n {
        let via = reach[k].clone();
        for row in reach.iter_mut().filter(|row| row[k]) {
            for (to, &r) in row.iter_mut().zip(&via) {
                *to |= r;
            }
        }
    }
    let taken: HashSet<String> = groups.iter().flat_map(|g| g.merged(|p| &p.processors).into_iter().map(|id| label(&g.name, id_name(id)))).collect();
    let mut marks: Vec<(usize, &str)> = Vec::new();
    for (b, (gi, pb)) in nodes.iter().enumerate() {
        let shares = |pa: &Pipeline| pa.processors.iter().any(|id| pb.processors.contains(id));
        if (0..n).any(|a| a != b && nodes[a].0 == *gi && reach[a][b] && shares(nodes[a].1)) {
            marks.push((*gi, pb.signal.as_str()));
        }
    }
    for (gi, signal) in marks {
        let g = &groups[gi];
        // A suffix whose labels no other processor has.
        let mut suffix = signal.to_string();
        while g.pipeline(signal).is_some_and(|p| p.processors.iter().any(|id| taken.contains(&format!("{}_{suffix}", label(&g.name, id_name(id)))))) {
            suffix.push_str("_copy");
        }
        groups[gi].split.insert(signal, suffix);
    }
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
            .map(|c| vec![Expr::raw(format!("{}.{}.input", c.alloy, g.processor_label(signal, proc_id)))])
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
            append(CKind::Extension, def, &label("", def.name()), None, &extensions, file, diags);
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
            append(CKind::Receiver, def, &label(&g.name, def.name()), Some(dests), &extensions, file, diags);
        }
        for id in g.merged(|p| &p.processors) {
            let Some(def) = cfg.find(CKind::Processor, id) else { continue };
            // Shared by the pipelines that are not split; each split one has its own copy.
            let shared = SIGNALS.map(|s| if g.split.contains_key(s) { Vec::new() } else { destinations(cfg, g, s, id, true) });
            if SIGNALS.iter().any(|s| !g.split.contains_key(s) && g.processor_at.get(s).is_some_and(|at| at.contains_key(id))) {
                append(CKind::Processor, def, &label(&g.name, def.name()), Some(shared), &extensions, file, diags);
            }
        }
        for (&signal, suffix) in &g.split {
            let Some(p) = g.pipeline(signal) else { continue };
            let mut seen = HashSet::new();
            for id in p.processors.iter().filter(|id| seen.insert(id.as_str())) {
                let Some(def) = cfg.find(CKind::Processor, id) else { continue };
                let dests = SIGNALS.map(|s| if s == signal { destinations(cfg, g, s, id, true) } else { Vec::new() });
                let own = format!("{}_{suffix}", label(&g.name, def.name()));
                append(CKind::Processor, def, &own, Some(dests), &extensions, file, diags);
                diags.add(
                    Severity::Info,
                    format!(
                        "processor/{id}: the {signal} pipeline{} has its own copy, labelled {own:?}: it receives from a connector fed through the same processor, and one shared component would make a cycle (upstream's converter emits the cycle)",
                        if g.name.is_empty() { String::new() } else { format!(" {:?}", g.name) }
                    ),
                );
            }
        }
        for id in g.merged(|p| &p.exporters) {
            if cfg.is_connector(id) {
                continue;
            }
            let Some(def) = cfg.find(CKind::Exporter, id) else { continue };
            append(CKind::Exporter, def, &label(&g.name, def.name()), None, &extensions, file, diags);
        }
        // Upstream emits every connector for every group, in map order; here only those the
        // group's pipelines use, sorted by ID.
        let mut connectors: Vec<&Def> = cfg.connectors.iter().filter(|d| g.used.contains(d.id.as_str())).collect();
        connectors.sort_by(|a, b| a.id.cmp(&b.id));
        for def in connectors {
            let dests = SIGNALS.map(|s| destinations(cfg, g, s, &def.id, false));
            append(CKind::Connector, def, &label(&g.name, def.name()), Some(dests), &extensions, file, diags);
        }
    }
    Ok(())
}

/// Converts one component and appends it (and any blocks it needs before it).
fn append(kind: CKind, def: &Def, label: &str, output: Option<[Vec<Expr>; 3]>, extensions: &HashMap<String, String>, file: &mut File, diags: &mut Diagnostics) {
    let Some(r) = render(kind, def, label, output, extensions) else { return };
    file.blocks.extend(r.before);
    let mut ctx_diags = r.diags;
    // Upstream drops settings its converters do not read without a word.
    for (path, at) in r.unread {
        let notes = unread_hint(&path, &r.known);
        ctx_diags.add_at(Severity::Warning, format!("{}: the setting {path:?} is not converted", r.instance), Some((at.line as u32, at.col as u32)), notes);
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
    if let Some(note) = components::lookup(kind, def.ty()).and_then(|c| c.deviation) {
        diags.add(Severity::Info, format!("{}: {note}", r.instance));
    }
    diags.add(Severity::Info, format!("Converted {} into {full}", r.instance));
}

/// `did you mean "x"?` for an unread setting that is a near miss of a setting its converter
/// reads (same parent path).
fn unread_hint(path: &str, known: &[String]) -> Vec<String> {
    let (parent, key) = path.rsplit_once('.').map_or(("", path), |(p, k)| (p, k));
    let siblings = known.iter().filter_map(|k| {
        let (p, name) = k.rsplit_once('.').map_or(("", k.as_str()), |(p, n)| (p, n));
        (p == parent).then_some(name)
    });
    analyzer::suggest::did_you_mean(key, siblings).into_iter().collect()
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

/// Renders `def` as the Alloy block `label`, with `output` wired when the component has one;
/// `None` for a type without a converter.
pub(super) fn render(kind: CKind, def: &Def, label: &str, output: Option<[Vec<Expr>; 3]>, extensions: &HashMap<String, String>) -> Option<Rendered> {
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
    if let (Some(dests), Output::Wired) = (output, conv.output) {
        let picked = conv.signals.map(|s| s.map(|i| dests[i].clone()).unwrap_or_default());
        block.body.push(Stmt::Block(output_block(picked)));
    }
    let known = if unread.is_empty() { Vec::new() } else { schema::known_paths(&(conv.fields)()) };
    Some(Rendered { instance, before, block, unread, known, diags: ctx.diags, invalid: ctx.invalid })
}
