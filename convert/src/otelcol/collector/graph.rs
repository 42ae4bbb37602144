//! A resolved collector configuration as Alloy components wired the way the collector wires
//! its pipelines (unlike `alloy convert`, which follows upstream's converter and groups
//! pipelines by name):
//! - a receiver, exporter or connector is one component per ID, however many pipelines use it;
//! - a processor is one component per pipeline that lists it, as the collector builds them;
//! - a receiver (or a connector used as one) sends each signal to the first stage of every
//!   pipeline of that signal that lists it; a pipeline's last stage sends to all its exporters.
//!
//! Labels keep the collector IDs recognisable: `otlp/in` is `otelcol.receiver.otlp "in"`, a
//! processor `batch/x` in pipeline `traces/a` is `otelcol.processor.batch "traces_a__x"`.

use std::collections::HashMap;

use crate::builder::{Expr, File};
use crate::diag::{Diagnostics, Severity};
use crate::otelcol::components::{self, CKind};
use crate::otelcol::config::{self, Config, Def, Pipeline};
use crate::otelcol::pipeline::{render, SIGNALS};
use crate::values::sanitize_identifier;

use super::{ConfigError, Pos, Resolved};

/// One collector component and the Alloy component that runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped {
    /// `receiver`, `processor`, `exporter`, `connector` or `extension`.
    pub kind: &'static str,
    /// The collector ID, `type[/name]`.
    pub id: String,
    /// For a processor, the pipeline it belongs to.
    pub pipeline: Option<String>,
    /// The Alloy component ID, `otelcol.receiver.otlp.in`.
    pub alloy: String,
    /// Where the collector ID is written.
    pub at: Pos,
}

impl Mapped {
    /// How the collector names the component in its logs: `receiver/otlp/in`, and
    /// `processor/batch (pipeline traces)` for a processor.
    pub fn collector_name(&self) -> String {
        match &self.pipeline {
            Some(p) => format!("{}/{} (pipeline {p})", self.kind, self.id),
            None => format!("{}/{}", self.kind, self.id),
        }
    }
}

/// The Alloy configuration that runs a collector configuration.
#[derive(Clone, Debug)]
pub struct Engine {
    pub alloy: String,
    pub components: Vec<Mapped>,
    /// Each component's YAML, by index in `components`.
    yaml: Vec<crate::yaml::Node>,
    /// Settings that were accepted but have a note (unset environment variables).
    pub warnings: Vec<ConfigError>,
    /// The Alloy configuration an enabled `alloyengine` extension adds.
    pub alloy_engine: Option<super::alloyengine::AlloyEngine>,
    /// Where `service.telemetry.metrics` asks the collector's own metrics to be served.
    pub telemetry_addr: Option<(String, Pos)>,
}

impl Engine {
    /// The collector component behind an Alloy component ID.
    pub fn by_alloy_id(&self, alloy: &str) -> Option<&Mapped> {
        self.components.iter().find(|m| m.alloy == alloy)
    }

    /// The YAML a component was configured with.
    pub fn yaml_of(&self, m: &Mapped) -> Option<&crate::yaml::Node> {
        self.components.iter().position(|c| c == m).and_then(|i| self.yaml.get(i))
    }
}

/// Every collector component type this mapping knows: (kind, type, Alloy component).
pub fn catalogue() -> Vec<(&'static str, &'static str, &'static str)> {
    let kinds = [CKind::Receiver, CKind::Processor, CKind::Exporter, CKind::Connector, CKind::Extension];
    let mut out = Vec::new();
    for kind in kinds {
        for ty in components::types(kind) {
            if let Some(c) = components::lookup(kind, ty) {
                out.push((kind.as_str(), ty, c.alloy));
            }
        }
    }
    out
}

/// Builds the engine's Alloy configuration. `runs` says whether this binary runs an Alloy
/// component (by name); a component it does not run is an error at the component's ID.
pub fn build(resolved: &Resolved, runs: &dyn Fn(&str) -> bool) -> Result<Engine, Vec<ConfigError>> {
    let mut root = resolved.root.clone();
    let alloy_engine = super::alloyengine::extract(&mut root)?;
    let unknown = unknown_types(&root, runs);
    if !unknown.is_empty() {
        return Err(unknown);
    }
    let cfg = config::load_tree(&root, true).map_err(|e| vec![ConfigError { message: e.message, at: e.at }])?;
    let mut b = Builder {
        cfg: &cfg,
        runs,
        file: File::default(),
        components: Vec::new(),
        yaml: Vec::new(),
        errors: Vec::new(),
        labels: HashMap::new(),
        telemetry_addr: None,
        extensions: extension_handlers(&cfg),
    };
    b.check_signals();
    b.telemetry();
    b.extensions();
    b.receivers();
    b.processors();
    b.exporters();
    b.connectors();
    if !b.errors.is_empty() {
        return Err(b.errors);
    }
    let mut diags = Diagnostics::new();
    let alloy = crate::finish_with(&b.file, &mut diags, str::to_string).unwrap_or_default();
    if let Some(d) = diags.iter().find(|d| d.severity >= Severity::Error) {
        return Err(vec![ConfigError::new(d.summary.clone())]);
    }
    Ok(Engine { alloy, components: b.components, yaml: b.yaml, warnings: resolved.warnings.clone(), alloy_engine, telemetry_addr: b.telemetry_addr })
}

/// Every component whose type this binary does not run, at its ID: unknown to the mapping
/// (listing the types it runs, as the collector lists its factories), or known but not run.
fn unknown_types(root: &crate::yaml::Node, runs: &dyn Fn(&str) -> bool) -> Vec<ConfigError> {
    let kinds = [
        ("receivers", CKind::Receiver),
        ("processors", CKind::Processor),
        ("exporters", CKind::Exporter),
        ("connectors", CKind::Connector),
        ("extensions", CKind::Extension),
    ];
    let mut errors = Vec::new();
    for (section, kind) in kinds {
        let Some(crate::yaml::Kind::Map(entries)) = root.get(section).map(|n| &n.kind) else { continue };
        for (k, _) in entries {
            let id = k.scalar().unwrap_or_default();
            let ty = config::id_ty(id);
            match components::lookup(kind, ty) {
                Some(c) if runs(c.alloy) => {}
                Some(c) => errors.push(ConfigError::at(format!("error decoding '{section}': {ty:?} ({}) is not supported by this build", c.alloy), k.pos())),
                None if ty.is_empty() || id.ends_with('/') => {}
                None => {
                    let valid: Vec<&str> = components::types(kind).into_iter().filter(|t| components::lookup(kind, t).is_some_and(|c| runs(c.alloy))).collect();
                    let hint = analyzer::suggest::did_you_mean(ty, valid.iter().copied()).map(|h| format!("; {h}")).unwrap_or_default();
                    let msg = format!("error decoding '{section}': unknown type: {ty:?} for id: {id:?} (valid values: [{}]){hint}", valid.join(" "));
                    errors.push(ConfigError::at(msg, k.pos()));
                }
            }
        }
    }
    errors
}

struct Builder<'a> {
    cfg: &'a Config,
    runs: &'a dyn Fn(&str) -> bool,
    file: File,
    components: Vec<Mapped>,
    yaml: Vec<crate::yaml::Node>,
    errors: Vec<ConfigError>,
    /// Alloy ID → the collector component that took it, to refuse two IDs on one label.
    labels: HashMap<String, String>,
    telemetry_addr: Option<(String, Pos)>,
    /// Enabled extension ID → `<alloy>.<label>`, for components that name one.
    extensions: HashMap<String, String>,
}

/// Where the engine parts from `alloy convert`'s output for the filelog receiver: it carries the
/// stanza `operators` and the header's `metadata_operators` that upstream's converter leaves
/// out with a warning (the runtime reads them as lists of maps).
/// Returns the starts of the converter warnings that no longer apply.
fn carry_untranslated(alloy: &str, def: &Def, block: &mut crate::builder::Block) -> Vec<&'static str> {
    use crate::builder::Stmt;
    use crate::otelcol::schema::{any, value};
    if alloy != "otelcol.receiver.filelog" {
        return Vec::new();
    }
    if let Some(ops) = value(&def.node, "operators") {
        block.body.push(Stmt::Attr("operators".into(), any(ops).expr()));
    }
    if let Some(meta) = value(&def.node, "header.metadata_operators") {
        for stmt in &mut block.body {
            if let Stmt::Block(h) = stmt {
                if h.name == "header" {
                    h.body.retain(|s| !matches!(s, Stmt::Attr(n, _) if n == "metadata_operators"));
                    h.body.push(Stmt::Attr("metadata_operators".into(), any(meta).expr()));
                }
            }
        }
    }
    vec!["operators cannot currently be translated", "header metadata_operators cannot currently be translated"]
}

/// Enabled extension ID → `<alloy>.<label>`.
fn extension_handlers(cfg: &Config) -> HashMap<String, String> {
    let alloy = |id: &str| components::lookup(CKind::Extension, config::id_ty(id)).map(|c| c.alloy);
    cfg.service_extensions.iter().filter_map(|id| Some((id.clone(), format!("{}.{}", alloy(id)?, label_of(config::id_name(id)))))).collect()
}

/// `a[0].b` → `a.b`: list items share their fields.
fn strip_indices(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => in_index = true,
            ']' => in_index = false,
            _ if !in_index => out.push(c),
            _ => {}
        }
    }
    out
}

/// `name` or `default`, as an Alloy label.
fn label_of(name: &str) -> String {
    let raw = if name.is_empty() { "default" } else { name };
    sanitize_identifier(raw).unwrap_or_else(|_| format!("{raw}_"))
}

/// A processor's label: its pipeline, then its own name after `__`.
fn processor_label(pipeline: &Pipeline, name: &str) -> String {
    let p = if pipeline.name.is_empty() { pipeline.signal.clone() } else { format!("{}_{}", pipeline.signal, pipeline.name) };
    let raw = if name.is_empty() { p } else { format!("{p}__{name}") };
    sanitize_identifier(&raw).unwrap_or(raw)
}

fn signal_index(signal: &str) -> Option<usize> {
    SIGNALS.iter().position(|s| *s == signal)
}

impl Builder<'_> {
    fn alloy_name(&self, kind: CKind, id: &str) -> Option<&'static str> {
        components::lookup(kind, config::id_ty(id)).map(|c| c.alloy)
    }

    /// `<alloy>.<label>.input` of what a pipeline's exporter list names.
    fn exporter_input(&self, id: &str) -> Option<Expr> {
        let kind = if self.cfg.is_connector(id) { CKind::Connector } else { CKind::Exporter };
        Some(Expr::raw(format!("{}.{}.input", self.alloy_name(kind, id)?, label_of(config::id_name(id)))))
    }

    /// The inputs that take what enters a pipeline after its receivers.
    fn pipeline_entry(&self, p: &Pipeline) -> Vec<Expr> {
        match p.processors.first() {
            Some(first) => self.processor_input(p, first).into_iter().collect(),
            None => p.exporters.iter().filter_map(|e| self.exporter_input(e)).collect(),
        }
    }

    fn processor_input(&self, p: &Pipeline, id: &str) -> Option<Expr> {
        Some(Expr::raw(format!("{}.{}.input", self.alloy_name(CKind::Processor, id)?, processor_label(p, config::id_name(id)))))
    }

    /// Where a receiver (or a connector used as one) sends each signal.
    fn receiver_outputs(&self, id: &str) -> [Vec<Expr>; 3] {
        let mut out: [Vec<Expr>; 3] = Default::default();
        for p in self.cfg.pipelines.iter().filter(|p| p.receivers.iter().any(|r| r == id)) {
            let Some(i) = signal_index(&p.signal) else { continue };
            for e in self.pipeline_entry(p) {
                if !out[i].contains(&e) {
                    out[i].push(e);
                }
            }
        }
        out
    }

    /// Renders `def` as `label`, refusing what this binary does not run and any setting the
    /// component does not read.
    fn add(&mut self, kind: CKind, def: &Def, label: String, pipeline: Option<&Pipeline>, output: Option<[Vec<Expr>; 3]>) {
        let section = format!("{}s", kind.as_str());
        let Some(alloy) = self.alloy_name(kind, &def.id) else { return };
        if !(self.runs)(alloy) {
            let msg = format!("error decoding '{section}': {:?} ({alloy}) is not supported by this build", def.ty());
            self.errors.push(ConfigError::at(msg, def.at));
            return;
        }
        let Some(mut r) = render(kind, def, &label, output, &self.extensions) else { return };
        let carried = carry_untranslated(alloy, def, &mut r.block);
        for (path, at) in &r.unread {
            let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
            // The keys the component reads at the same place, for a did-you-mean.
            let parent_plain = strip_indices(parent);
            let siblings = r.known.iter().filter_map(|k| match k.rsplit_once('.') {
                Some((p, last)) if p == parent_plain => Some(last),
                None if parent_plain.is_empty() => Some(k.as_str()),
                _ => None,
            });
            let hint = analyzer::suggest::did_you_mean(key, siblings).map(|h| format!("; {h}")).unwrap_or_default();
            let msg = format!("error decoding '{section}': error reading configuration for {:?}: '{parent}' has invalid keys: {key}{hint}", def.id);
            self.errors.push(ConfigError::at(msg, *at));
        }
        for (problem, at) in &r.invalid {
            let key = crate::otelcol::schema::key_at(&def.node, *at).unwrap_or_default();
            let msg = format!("error decoding '{section}': error reading configuration for {:?}: {}", def.id, problem.message(&key));
            self.errors.push(ConfigError::at(msg, *at));
        }
        for d in r.diags.iter().filter(|d| d.severity >= Severity::Warning && !carried.iter().any(|c| d.summary.starts_with(c))) {
            self.errors.push(ConfigError::at(d.summary.clone(), def.at));
        }
        let alloy_id = format!("{alloy}.{label}");
        let taken_by = format!("{}/{}", kind.as_str(), def.id);
        if let Some(other) = self.labels.insert(alloy_id.clone(), taken_by.clone()) {
            let msg = format!("{taken_by} and {other} would both run as {alloy_id}: rename one of them");
            self.errors.push(ConfigError::at(msg, def.at));
        }
        self.file.blocks.extend(r.before);
        self.file.blocks.push(r.block);
        let pipeline = pipeline.map(Pipeline::id);
        self.components.push(Mapped { kind: kind.as_str(), id: def.id.clone(), pipeline, alloy: alloy_id, at: def.at });
        self.yaml.push(def.node.clone());
    }

    /// Every component of a pipeline must handle the pipeline's signal (a connector: take it
    /// in where it is an exporter, give it out where it is a receiver), as the collector checks
    /// when it builds pipelines.
    fn check_signals(&mut self) {
        for p in &self.cfg.pipelines {
            let lists: [(&str, &Vec<String>); 3] = [("receivers", &p.receivers), ("processors", &p.processors), ("exporters", &p.exporters)];
            for (list, ids) in lists {
                for id in ids {
                    let connector = self.cfg.is_connector(id);
                    let kind = match list {
                        _ if connector => CKind::Connector,
                        "receivers" => CKind::Receiver,
                        "processors" => CKind::Processor,
                        _ => CKind::Exporter,
                    };
                    let Some(alloy) = self.alloy_name(kind, id) else { continue };
                    // A connector takes a pipeline's data in where it is listed as an exporter.
                    let into = !(connector && list == "receivers");
                    if super::signals::handles(alloy, &p.signal, into) {
                        continue;
                    }
                    let handled: Vec<&str> = super::signals::of(alloy).unwrap_or_default().iter().map(|(s, _)| *s).collect();
                    let what = if connector { format!("connector {id:?} as {}", &list[..list.len() - 1]) } else { format!("{} {id:?}", kind.as_str()) };
                    let msg = format!("service::pipelines::{}: {what} does not support {} (it handles {})", p.id(), p.signal, handled.join(", "));
                    self.errors.push(ConfigError::at(msg, p.position_of(list, id)));
                }
            }
        }
    }

    /// `service.telemetry`: the log level and format become the `logging` block; what the
    /// YAML sets beyond that is refused by name (the collector's defaults, such as log
    /// sampling and its metrics reader, are not settings the user made).
    fn telemetry(&mut self) {
        let t = &self.cfg.telemetry;
        let mut diags = Diagnostics::new();
        crate::otelcol::telemetry::convert(t, &mut self.file, &mut diags);
        let set = |path: &str| crate::otelcol::schema::value(t, path).is_some_and(|n| !matches!(&n.kind, crate::yaml::Kind::Seq(v) if v.is_empty()));
        for d in diags.iter() {
            let what = d.summary.split("service/telemetry/").nth(1).and_then(|r| r.split(' ').next()).unwrap_or_default();
            let explicit = match d.severity {
                // The metrics endpoint is this engine's own (below).
                _ if what.starts_with("metrics/") => false,
                Severity::Critical | Severity::Error => true,
                Severity::Warning => set(&what.replace('/', ".")),
                Severity::Info => false,
            };
            if explicit {
                let msg = format!("service::telemetry::{}: not supported by this build", what.replace('/', "::"));
                self.errors.push(ConfigError { message: msg, at: Some(t.pos()).filter(|p| p.line > 0) });
            }
        }
        self.telemetry_addr = self.metrics_endpoint();
    }

    /// Where the collector serves its own metrics: `metrics.address`, or the one pull reader
    /// with a Prometheus exporter; `level: none` turns it off. Other readers are refused.
    fn metrics_endpoint(&mut self) -> Option<(String, Pos)> {
        use crate::otelcol::schema::{text, value};
        use crate::yaml::Kind;
        let resource_key = match &self.cfg.telemetry.kind {
            Kind::Map(entries) => entries.iter().find(|(k, v)| k.scalar() == Some("resource") && matches!(&v.kind, Kind::Map(e) if !e.is_empty())),
            _ => None,
        };
        if let Some((k, _)) = resource_key {
            self.errors.push(ConfigError::at("service::telemetry::resource: not supported by this build", k.pos()));
        }
        let m = value(&self.cfg.telemetry, "metrics")?;
        if let Kind::Map(entries) = &m.kind {
            for (k, _) in entries.iter().filter(|(k, _)| !matches!(k.scalar(), Some("level" | "address" | "readers"))) {
                let msg = format!("service::telemetry::metrics::{}: not supported by this build", text(k));
                self.errors.push(ConfigError::at(msg, k.pos()));
            }
        }
        // The runtime counts what it counts: the collector's `basic` and `detailed` sets are
        // not reproduced, so only the default and `none` are taken.
        match value(m, "level").map(text).as_deref() {
            Some("none") => return None,
            None | Some("normal") => {}
            Some(other) => {
                let at = value(m, "level").map_or(m.pos(), |l| l.pos());
                self.errors
                    .push(ConfigError::at(format!("service::telemetry::metrics::level: {other:?} is not supported by this build (normal and none are)"), at));
            }
        }
        let mut found: Vec<(String, Pos)> = Vec::new();
        if let Some(a) = value(m, "address") {
            found.push((text(a), a.pos()));
        }
        if let Some(Kind::Seq(readers)) = value(m, "readers").map(|r| &r.kind) {
            for (i, r) in readers.iter().enumerate() {
                match value(r, "pull.exporter.prometheus") {
                    Some(p) => {
                        let host = value(p, "host").map(text).unwrap_or_else(|| "localhost".into());
                        let port = value(p, "port").map(text).unwrap_or_else(|| "8888".into());
                        let host = if host.contains(':') { format!("[{host}]") } else { host };
                        found.push((format!("{host}:{port}"), p.pos()));
                    }
                    None => {
                        let msg =
                            format!("service::telemetry::metrics::readers::{i}: only a pull reader with a prometheus exporter is supported by this build");
                        self.errors.push(ConfigError::at(msg, r.pos()));
                    }
                }
            }
        }
        if let [_, (_, at), ..] = found.as_slice() {
            self.errors.push(ConfigError::at("service::telemetry::metrics: only one metrics endpoint is supported by this build", *at));
        }
        found.into_iter().next()
    }

    fn extensions(&mut self) {
        for id in &self.cfg.service_extensions {
            if let Some(def) = self.cfg.find(CKind::Extension, id) {
                self.add(CKind::Extension, def, label_of(def.name()), None, None);
            }
        }
    }

    /// Receivers used by some pipeline, in the order the YAML defines them.
    fn receivers(&mut self) {
        for def in &self.cfg.receivers {
            if self.cfg.pipelines.iter().any(|p| p.receivers.contains(&def.id)) {
                let out = self.receiver_outputs(&def.id);
                self.add(CKind::Receiver, def, label_of(def.name()), None, Some(out));
            }
        }
    }

    fn processors(&mut self) {
        for p in &self.cfg.pipelines {
            for (i, id) in p.processors.iter().enumerate() {
                let Some(def) = self.cfg.find(CKind::Processor, id) else { continue };
                let next = match p.processors.get(i + 1) {
                    Some(next) => self.processor_input(p, next).into_iter().collect(),
                    None => p.exporters.iter().filter_map(|e| self.exporter_input(e)).collect(),
                };
                let mut out: [Vec<Expr>; 3] = Default::default();
                if let Some(s) = signal_index(&p.signal) {
                    out[s] = next;
                }
                self.add(CKind::Processor, def, processor_label(p, def.name()), Some(p), Some(out));
            }
        }
    }

    fn exporters(&mut self) {
        for def in &self.cfg.exporters {
            if self.cfg.pipelines.iter().any(|p| p.exporters.contains(&def.id)) {
                self.add(CKind::Exporter, def, label_of(def.name()), None, None);
            }
        }
    }

    fn connectors(&mut self) {
        for def in &self.cfg.connectors {
            let used_as = |list: fn(&Pipeline) -> &Vec<String>| self.cfg.pipelines.iter().any(|p| list(p).contains(&def.id));
            let (exported_to, received_from) = (used_as(|p| &p.exporters), used_as(|p| &p.receivers));
            if exported_to != received_from {
                let (role, other) = if exported_to { ("exporter", "receiver") } else { ("receiver", "exporter") };
                let msg = format!("connectors::{}: connector {:?} used as {role} in a pipeline but not used in any supported {other} pipeline", def.id, def.id);
                self.errors.push(ConfigError::at(msg, def.at));
                continue;
            }
            if exported_to {
                let out = self.receiver_outputs(&def.id);
                self.add(CKind::Connector, def, label_of(def.name()), None, Some(out));
            }
        }
    }
}

#[cfg(test)]
mod tests;
