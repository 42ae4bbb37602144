//! One Promtail scrape config → its components, created lazily in upstream's order: service
//! discovery first, then the sources; `loki.process` (pipeline stages), `discovery.relabel`
//! (relabel rules as targets and rules) and `loki.relabel` appear when a source first needs
//! them.

use std::collections::HashSet;

use super::{go_dur, sources, stages, Global};
use crate::builder::{Block, Expr, File};
use crate::diag::{Diagnostics, Severity};
use crate::prometheus::{self, rule_block, sd, Rule};
use crate::values::sanitize_identifier;
use crate::yaml::{self, Errors, Fields, Node};

/// SD kinds in the order upstream appends them; `static` marks where static targets are read.
const SD_ORDER: [&str; 15] = [
    "azure",
    "consul",
    "digitalocean",
    "dockerswarm",
    "dns",
    "ec2",
    "file",
    "gce",
    "kubernetes",
    "marathon",
    "nerve",
    "openstack",
    "serverset",
    "static",
    "triton",
];

/// Push and pull sources, in the order upstream appends them (docker SD comes last).
const SOURCES: [&str; 11] =
    ["cloudflare", "journal", "loki_push_api", "syslog", "gcplog", "windows_events", "kafka", "azure_event_hubs", "gelf", "heroku_drain", "docker_sd_configs"];

/// The component state of one scrape config.
pub struct Scrape<'a> {
    pub file: &'a mut File,
    pub diags: &'a mut Diagnostics,
    pub global: &'a Global,
    pub label: String,
    stages: Option<&'a Node>,
    relabel: Vec<Rule>,
    targets: Vec<Expr>,
    process_receivers: Option<Vec<String>>,
    /// (targets after relabelling, relabel rules expression).
    relabeled: Option<(Expr, String)>,
    loki_relabel: Option<String>,
}

fn receivers_expr(r: &[String]) -> Expr {
    Expr::Array(r.iter().map(|s| Expr::raw(s.clone())).collect())
}

impl<'a> Scrape<'a> {
    /// Where logs go before the writers: the job's `loki.process` when it has stages.
    pub fn process_receivers(&mut self) -> Vec<String> {
        if let Some(r) = &self.process_receivers {
            return r.clone();
        }
        let limit_stages = stages::limits_stages(&self.global.limits);
        let has_stages = self.stages.is_some_and(|n| matches!(&n.kind, yaml::Kind::Seq(items) if !items.is_empty()));
        let r = if !has_stages && limit_stages.is_empty() {
            self.global.write_receivers.clone()
        } else {
            let mut b = Block::new("loki.process", Some(&self.label));
            b.attr("forward_to", receivers_expr(&self.global.write_receivers));
            for s in limit_stages {
                b.block(s);
            }
            if let Some(n) = self.stages {
                for s in stages::convert_all(n, self.diags) {
                    b.block(s);
                }
            }
            self.file.blocks.push(b);
            vec![format!("loki.process.{}.receiver", self.label)]
        };
        self.process_receivers = Some(r.clone());
        r
    }

    pub fn forward_to(&mut self) -> Expr {
        receivers_expr(&self.process_receivers())
    }

    /// All discovered targets as one expression.
    fn joined_targets(&self) -> Expr {
        match self.targets.len() {
            0 => Expr::Array(Vec::new()),
            1 => self.targets[0].clone(),
            _ => Expr::Call("array.concat".into(), self.targets.clone()),
        }
    }

    fn relabeled(&mut self) -> (Expr, String) {
        if let Some(r) = &self.relabeled {
            return r.clone();
        }
        let r = if self.relabel.is_empty() {
            (self.joined_targets(), "null".to_string())
        } else {
            let mut b = Block::new("discovery.relabel", Some(&self.label));
            b.attr("targets", self.joined_targets());
            for r in &self.relabel {
                b.block(rule_block("rule", r));
            }
            self.file.blocks.push(b);
            let name = format!("discovery.relabel.{}", self.label);
            (Expr::raw(format!("{name}.output")), format!("{name}.rules"))
        };
        self.relabeled = Some(r.clone());
        r
    }

    /// `discovery.relabel.<job>.rules`, or `null` without relabel rules.
    pub fn relabel_rules(&mut self) -> Expr {
        Expr::raw(self.relabeled().1)
    }

    /// The forward_to of sources that relabel through `loki.relabel` (cloudflare, windows).
    pub fn loki_relabel_forward(&mut self) -> Expr {
        if self.relabel.is_empty() {
            return self.forward_to();
        }
        if self.loki_relabel.is_none() {
            let mut b = Block::new("loki.relabel", Some(&self.label));
            b.attr("forward_to", self.forward_to());
            for r in &self.relabel {
                b.block(rule_block("rule", r));
            }
            self.file.blocks.push(b);
            self.loki_relabel = Some(format!("[loki.relabel.{}.receiver]", self.label));
        }
        Expr::raw(self.loki_relabel.clone().unwrap_or_default())
    }

    /// `<job>` for the first, `<job>_2`… after.
    pub fn indexed_label(&self, i: usize) -> String {
        if i == 0 {
            self.label.clone()
        } else {
            format!("{}_{}", self.label, i + 1)
        }
    }

    /// Appends the SDs of `sds`, which lists each kind once, in `SD_ORDER`.
    fn append_sds(&mut self, sds: &[(&str, &'a Node)], errs: &mut Errors) {
        let mut literals: Vec<Expr> = Vec::new();
        let mut validation = Diagnostics::new();
        for &(kind, list) in sds {
            if kind == "static" {
                for group in prometheus::read_static_groups(list, errs) {
                    let mut group = group;
                    if group.addresses.is_empty() {
                        group.addresses.push("localhost".into());
                    }
                    for t in group.targets() {
                        literals.push(Expr::string_map(&t));
                    }
                }
                continue;
            }
            for (i, cfg) in yaml::seq(list, "[]discovery.Config", errs).iter().enumerate() {
                let label = self.indexed_label(i);
                let Some(mut out) = sd::convert(kind, cfg, &label, errs) else { continue };
                if kind == "kubernetes" && cfg.get("role").and_then(Node::scalar) == Some("pod") {
                    add_node_selector(&mut out.block);
                }
                self.targets.push(Expr::raw(format!("{}.{label}.targets", out.block.name)));
                self.file.blocks.push(out.block);
                validation.extend(out.diags);
            }
        }
        if !literals.is_empty() {
            self.targets.push(Expr::Array(literals));
        }
        self.diags.extend(validation);
    }

    fn append_consulagent(&mut self, list: &Node, errs: &mut Errors) {
        for (i, cfg) in yaml::seq(list, "[]*consulagent.SDConfig", errs).iter().enumerate() {
            let label = self.indexed_label(i);
            let b = sources::consulagent(cfg, &label, self.diags, errs);
            self.file.blocks.push(b);
            self.targets.push(Expr::raw(format!("discovery.consulagent.{label}.targets")));
        }
    }

    fn append_file_source(&mut self, encoding: &str, decompression: Option<&Node>, errs: &mut Errors) {
        if self.targets.is_empty() {
            return;
        }
        let forward_to = self.forward_to();
        let (targets, _) = self.relabeled();
        let mut b = Block::new("loki.source.file", Some(&self.label));
        b.attr("targets", targets).attr("forward_to", forward_to).opt_str("encoding", encoding, "");
        if let Some(n) = decompression {
            let mut f = Fields::new(n, "scrapeconfig.DecompressionConfig", errs);
            let enabled = f.boolean("enabled", false, errs);
            let delay = f.get("initial_delay").map(|v| go_dur(v, errs)).unwrap_or(0);
            let format = f.string("format", errs);
            f.finish(errs);
            let mut d = Block::new("decompression", None);
            d.attr("enabled", Expr::Bool(enabled)).opt_duration("initial_delay", delay, 0).attr("format", Expr::Str(format));
            b.block(d);
        }
        let (min, max) = self.global.file_watch;
        let default_poll = super::DEFAULT_POLL_FREQUENCY;
        if (min, max) != (default_poll, default_poll) {
            let mut w = Block::new("file_watch", None);
            w.opt_duration("min_poll_frequency", min, default_poll).opt_duration("max_poll_frequency", max, default_poll);
            b.block(w);
        }
        let mut m = Block::new("file_match", None);
        m.attr("enabled", Expr::Bool(true)).opt_duration("sync_period", self.global.target_sync_period, super::DEFAULT_SYNC_PERIOD);
        b.block(m);
        b.opt_str("legacy_positions_file", &self.global.positions_file, "");
        self.file.blocks.push(b);
    }
}

/// Promtail reads only the pods of its own node: an extra field selector on `role: pod`.
fn add_node_selector(b: &mut Block) {
    let mut sel = Block::new("selectors", None);
    sel.attr("role", Expr::str("pod")).attr("field", Expr::raw(r#""spec.nodeName=" + coalesce(sys.env("HOSTNAME"), constants.hostname)"#));
    let at = b.body.iter().position(|s| matches!(s, crate::builder::Stmt::Block(x) if x.name == "attach_metadata")).unwrap_or(b.body.len());
    b.body.insert(at, crate::builder::Stmt::Block(sel));
}

/// Converts one scrape config and appends its components to `file`.
pub fn append(file: &mut File, node: &Node, global: &Global, job_names: &mut HashSet<String>, diags: &mut Diagnostics, errs: &mut Errors) {
    let mut f = Fields::new(node, "scrapeconfig.plain", errs);
    let job = f.string("job_name", errs);
    let stages_node = f.get("pipeline_stages");
    let relabel = f.get("relabel_configs").map(|n| prometheus::read_rules(n, errs)).unwrap_or_default();
    let encoding = f.string("encoding", errs);
    let decompression = f.get("decompression");
    let mut sds: Vec<(&str, &Node)> = Vec::new();
    for kind in SD_ORDER {
        let key = if kind == "static" { "static_configs".to_string() } else { format!("{kind}_sd_configs") };
        if let Some(n) = f.get(&key) {
            sds.push((kind, n));
        }
    }
    let consulagent = f.get("consulagent_sd_configs");
    let sources: Vec<(&str, &Node)> = SOURCES.iter().filter_map(|k| f.get(k).map(|n| (*k, n))).collect();
    f.finish(errs);

    if job.is_empty() {
        errs.hard("job_name is empty");
        return;
    }
    if !job_names.insert(job.clone()) {
        errs.hard(format!("found multiple scrape configs with job name {job:?}"));
        return;
    }
    let label = match sanitize_identifier(&job) {
        Ok(l) => l,
        Err(e) => {
            diags.add(Severity::Critical, format!("failed to sanitize job name: {e}"));
            return;
        }
    };
    let mut s =
        Scrape { file, diags, global, label, stages: stages_node, relabel, targets: Vec::new(), process_receivers: None, relabeled: None, loki_relabel: None };
    s.append_sds(&sds, errs);
    // Prometheus' azure loader words this error differently in Promtail's vendored copy.
    if let Some(h) = &mut errs.hard {
        if let Some(rest) = h.strip_prefix("unknown authentication_method ") {
            *h = format!("unknown authentication_type {}", rest.replace("Supported methods are", "Supported types are"));
        }
    }
    if let Some(n) = consulagent {
        s.append_consulagent(n, errs);
    }
    s.append_file_source(&encoding, decompression, errs);
    for (kind, n) in sources {
        sources::append(&mut s, kind, n, errs);
    }
}
