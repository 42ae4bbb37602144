//! Prometheus → Alloy: global settings, scrape configs with their service
//! discovery, relabel and metric-relabel rules, and remote_write.

pub(crate) mod sd;

use crate::builder::{Block, Expr, File, Stmt};
use crate::defaults::{relabel as rd, remote_write as rwd, scrape as sc};
use crate::diag::{Diagnostics, Severity};
use crate::http::{self, HttpClient};
use crate::values::{base2_bytes, parse_prom_duration, sanitize_identifier};
use crate::yaml::{self, Errors, Fields, Node};
use crate::Conversion;

const GLOBAL_SCRAPE_INTERVAL: i64 = 60_000_000_000;
const GLOBAL_SCRAPE_TIMEOUT: i64 = 10_000_000_000;
const GLOBAL_EVALUATION_INTERVAL: i64 = 60_000_000_000;

/// One relabel rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub source_labels: Vec<String>,
    pub separator: String,
    pub regex: String,
    pub modulus: u64,
    pub target_label: String,
    pub replacement: String,
    pub action: String,
}

pub fn read_rules(n: &Node, errs: &mut Errors) -> Vec<Rule> {
    yaml::seq(n, "[]*relabel.Config", errs)
        .iter()
        .map(|item| {
            let mut f = Fields::new(item, "relabel.plain", errs);
            let separator = f.string_or("separator", &rd::separator(), errs);
            let regex = f.string_or("regex", &rd::regex(), errs);
            let target_label = f.string_or("target_label", "", errs);
            let replacement = f.string_or("replacement", &rd::replacement(), errs);
            let action = f.string_or("action", &rd::action(), errs).to_lowercase();
            let source_labels = f.get("source_labels").map(|n| yaml::strings(n, errs)).unwrap_or_default();
            let modulus = f.get("modulus").map(|n| yaml::uint(n, "uint64", errs)).unwrap_or(0);
            f.finish(errs);
            Rule { source_labels, separator, regex, modulus, target_label, replacement, action }
        })
        .collect()
}

pub fn rule_block(name: &str, r: &Rule) -> Block {
    let mut b = Block::new(name, None);
    b.opt_strings("source_labels", &r.source_labels)
        .opt_str("separator", &r.separator, &rd::separator())
        .opt_str("regex", &r.regex, &rd::regex())
        .opt_int("modulus", r.modulus as i64, 0)
        .opt_str("target_label", &r.target_label, "")
        .opt_str("replacement", &r.replacement, &rd::replacement())
        .opt_str("action", &r.action, &rd::action());
    b
}

fn unsupported(diags: &mut Diagnostics, what: &str) {
    unsupported_at(diags, what, None);
}

/// [`unsupported`] about the YAML key at `at`.
fn unsupported_at(diags: &mut Diagnostics, what: &str, at: Option<(u32, u32)>) {
    diags.add_at(Severity::Error, format!("The converter does not support converting the provided {what} config."), at, Vec::new());
}

/// Alloy's HTTP client has no TLS `max_version`. Upstream drops `http_headers` without a word;
/// we report them like the other unsupported client settings.
pub(crate) fn check_max_version(client: &HttpClient, diags: &mut Diagnostics) {
    if !client.tls.max_version.is_empty() {
        unsupported(diags, "HTTP Client max_version");
    }
    check_http_headers(client, diags);
}

pub(crate) fn check_http_headers(client: &HttpClient, diags: &mut Diagnostics) {
    if client.has_http_headers {
        unsupported(diags, "HTTP Client http_headers");
    }
}

/// A Prometheus duration in nanoseconds; an invalid one is a hard error.
pub(crate) fn dur(n: &Node, errs: &mut Errors) -> i64 {
    let text = yaml::string(n, errs);
    match parse_prom_duration(&text) {
        Some(v) => v,
        None => {
            errs.hard(format!("not a valid duration string: {text:?}"));
            0
        }
    }
}

/// Global settings scrape configs inherit.
struct Global {
    scrape_interval: i64,
    scrape_timeout: i64,
    scrape_protocols: Option<Vec<String>>,
    limits: [u64; 5],
    body_size_limit: u64,
    external_labels: Vec<(String, String)>,
}

fn read_body_size(n: &Node, errs: &mut Errors) -> u64 {
    let text = yaml::string(n, errs);
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: u64 = num.parse().unwrap_or(0);
    let mult: u64 = match unit {
        "" | "B" => 1,
        "KB" | "KiB" | "K" => 1 << 10,
        "MB" | "MiB" | "M" => 1 << 20,
        "GB" | "GiB" | "G" => 1 << 30,
        "TB" | "TiB" | "T" => 1 << 40,
        _ => {
            errs.hard(format!("units: unknown unit {unit} in {text}"));
            1
        }
    };
    num * mult
}

const LIMIT_KEYS: [&str; 5] = ["sample_limit", "target_limit", "label_limit", "label_name_length_limit", "label_value_length_limit"];

/// Where scrape configs are forwarded when they have no metric relabel rules.
const REMOTE_RECEIVER: &str = "prometheus.remote_write.default.receiver";

/// What the scrape configs produce, gathered for the file's block order.
#[derive(Default)]
struct Ctx {
    validation: Diagnostics,
    job_names: std::collections::HashSet<String>,
    discovery: Vec<Block>,
    discovery_relabel: Vec<Block>,
    scrapes: Vec<Block>,
    relabels: Vec<Block>,
    infos: Vec<(String, String)>,
}

pub fn convert(input: &[u8]) -> Conversion {
    crate::convert_yaml(input, "Prometheus", build)
}

fn build(root: &Node, errs: &mut Errors) -> Result<(File, Diagnostics), String> {
    let mut top = Fields::new(root, "config.plain", errs);
    let mut validation = Diagnostics::new();

    // global
    let mut g = Global {
        scrape_interval: GLOBAL_SCRAPE_INTERVAL,
        scrape_timeout: GLOBAL_SCRAPE_TIMEOUT,
        scrape_protocols: None,
        limits: [0; 5],
        body_size_limit: 0,
        external_labels: Vec::new(),
    };
    let mut evaluation_interval = GLOBAL_EVALUATION_INTERVAL;
    let mut query_log_file = String::new();
    // Where the global keys diagnosed below are.
    let (mut evaluation_at, mut query_log_at) = (None, None);
    if let Some(n) = top.get("global") {
        let mut f = Fields::new(n, "config.plain", errs);
        (evaluation_at, query_log_at) = (f.key_at("evaluation_interval"), f.key_at("query_log_file"));
        let mut timeout_set = false;
        if let Some(v) = f.get("scrape_interval") {
            g.scrape_interval = dur(v, errs);
        }
        if let Some(v) = f.get("scrape_timeout") {
            g.scrape_timeout = dur(v, errs);
            timeout_set = true;
        }
        if let Some(v) = f.get("evaluation_interval") {
            evaluation_interval = dur(v, errs);
        }
        if let Some(v) = f.get("external_labels") {
            g.external_labels = yaml::string_map(v, errs);
        }
        if let Some(v) = f.get("query_log_file") {
            query_log_file = yaml::string(v, errs);
        }
        if let Some(v) = f.get("scrape_protocols") {
            g.scrape_protocols = Some(yaml::strings(v, errs));
        }
        if let Some(v) = f.get("body_size_limit") {
            g.body_size_limit = read_body_size(v, errs);
        }
        for (i, k) in LIMIT_KEYS.iter().enumerate() {
            if let Some(v) = f.get(k) {
                g.limits[i] = yaml::uint(v, "uint", errs);
            }
        }
        for k in [
            "rule_query_offset",
            "keep_dropped_targets",
            "metric_name_validation_scheme",
            "metric_name_escaping_scheme",
            "scrape_failure_log_file",
            "always_scrape_classic_histograms",
            "convert_classic_histograms_to_nhcb",
            "extra_scrape_metrics",
            "scrape_native_histograms",
        ] {
            f.ignore(k);
        }
        f.finish(errs);
        if !timeout_set && g.scrape_timeout > g.scrape_interval {
            g.scrape_timeout = g.scrape_interval;
        }
        if g.scrape_timeout > g.scrape_interval {
            errs.hard("global scrape timeout greater than scrape interval");
        }
    }
    if evaluation_interval != GLOBAL_EVALUATION_INTERVAL {
        unsupported_at(&mut validation, "global evaluation_interval", evaluation_at);
    }
    if !query_log_file.is_empty() {
        unsupported_at(&mut validation, "global query_log_file", query_log_at);
    }

    // alerting, rule_files
    if let Some(n) = top.get("alerting") {
        let has = n.get("alertmanagers").is_some_and(|a| !yaml::seq(a, "", &mut Errors::default()).is_empty())
            || n.get("alert_relabel_configs").is_some_and(|a| !yaml::seq(a, "", &mut Errors::default()).is_empty());
        if has {
            unsupported_at(&mut validation, "alerting", top.key_at("alerting"));
        }
    }
    if top.get("rule_files").is_some_and(|n| !yaml::strings(n, errs).is_empty()) {
        unsupported_at(&mut validation, "rule_files", top.key_at("rule_files"));
    }

    let mut ctx = Ctx::default();
    if let Some(n) = top.get("scrape_configs") {
        for item in yaml::seq(n, "[]*config.ScrapeConfig", errs) {
            scrape_config(item, &g, &mut ctx, errs)?;
        }
    }
    validation.extend(std::mem::take(&mut ctx.validation));

    if let Some(n) = top.get("storage") {
        if has_content(n) {
            unsupported_at(&mut validation, "storage", top.key_at("storage"));
        }
    }
    if let Some(n) = top.get("tracing") {
        if has_content(n) {
            unsupported_at(&mut validation, "tracing", top.key_at("tracing"));
        }
    }

    // remote_write
    let mut remote = None;
    if let Some(n) = top.get("remote_write") {
        let items = yaml::seq(n, "[]*config.RemoteWriteConfig", errs);
        if !items.is_empty() {
            let mut b = Block::new("prometheus.remote_write", Some("default"));
            b.opt_map("external_labels", &g.external_labels);
            let mut names = Vec::new();
            for item in items {
                let (endpoint, name) = remote_write(item, &mut validation, errs);
                names.push(name);
                b.block(endpoint);
            }
            remote = Some((b, names));
        }
    }
    if top.get("remote_read").is_some_and(|n| !yaml::seq(n, "", &mut Errors::default()).is_empty()) {
        unsupported_at(&mut validation, "remote_read", top.key_at("remote_read"));
    }
    for k in ["scrape_config_files", "runtime", "otlp"] {
        top.ignore(k);
    }
    top.finish(errs);

    let mut diags = validation;
    let all_labels: Vec<String> = ctx.discovery.iter().chain(&ctx.discovery_relabel).chain(&ctx.relabels).map(Block::full_name).collect();
    for (job, label) in &ctx.infos {
        let mut detail = format!("\tA prometheus.scrape.{label} component");
        for full in &all_labels {
            let lbl = full.rsplit('.').next().unwrap_or_default();
            if lbl.starts_with(label.as_str()) {
                detail.push_str(&format!("\n\tA {full} component"));
            }
        }
        diags.add_with_detail(Severity::Info, format!("Converted scrape_configs job_name {job:?} into..."), detail);
    }
    if remote.is_none() && !ctx.scrapes.is_empty() {
        // Upstream forwards to `prometheus.remote_write.default` even when it writes no such
        // block, a reference that fails validation; with nowhere to send them, nothing is.
        for b in ctx.scrapes.iter_mut().chain(ctx.relabels.iter_mut()) {
            for stmt in &mut b.body {
                if let Stmt::Attr(name, Expr::Array(items)) = stmt {
                    if name == "forward_to" {
                        items.retain(|e| !matches!(e, Expr::Raw(r) if r == REMOTE_RECEIVER));
                    }
                }
            }
        }
        diags.add(
            Severity::Info,
            "no remote_write is configured: the scraped metrics are forwarded nowhere (forward_to = []) rather than to an undefined prometheus.remote_write.default as upstream's converter writes",
        );
    }
    let mut file = File::default();
    file.blocks.extend(ctx.discovery);
    file.blocks.extend(ctx.discovery_relabel);
    file.blocks.extend(ctx.scrapes);
    file.blocks.extend(ctx.relabels);
    if let Some((b, names)) = remote {
        diags.add_with_detail(
            Severity::Info,
            format!("Converted {} remote_write[s] {:?} into...", names.len(), names.join(",")),
            "\tA prometheus.remote_write.default component",
        );
        file.blocks.push(b);
    }
    Ok((file, diags))
}

fn has_content(n: &Node) -> bool {
    match &n.kind {
        yaml::Kind::Map(e) => e.iter().any(|(_, v)| has_content(v)),
        yaml::Kind::Seq(items) => !items.is_empty(),
        yaml::Kind::Scalar { .. } => !n.is_null(),
    }
}

fn scrape_config(item: &Node, g: &Global, ctx: &mut Ctx, errs: &mut Errors) -> Result<(), String> {
    let mut f = Fields::new(item, "config.plain", errs);
    let job = f.string("job_name", errs);
    if job.is_empty() {
        errs.hard("job_name is empty");
        return Ok(());
    }
    if !ctx.job_names.insert(job.clone()) {
        errs.hard(format!("found multiple scrape configs with job name {job:?}"));
    }
    let label = sanitize_identifier(&job).map_err(|_| {
        format!("failed to convert scrape config: the job_name {job:?} is an Alloy keyword and cannot be used as a component label; rename the job")
    })?;

    let honor_labels = f.boolean("honor_labels", false, errs);
    let honor_timestamps = f.boolean("honor_timestamps", true, errs);
    let track_staleness = f.boolean("track_timestamps_staleness", false, errs);
    let mut params: Vec<(String, Vec<String>)> = Vec::new();
    if let Some(n) = f.get("params") {
        if let yaml::Kind::Map(entries) = &n.kind {
            for (k, v) in entries {
                params.push((yaml::string(k, errs), yaml::strings(v, errs)));
            }
        }
    }
    let interval = f.get("scrape_interval").map(|n| dur(n, errs)).unwrap_or(g.scrape_interval);
    let timeout = f.get("scrape_timeout").map(|n| dur(n, errs)).unwrap_or(g.scrape_timeout.min(interval));
    if timeout > interval {
        errs.hard(format!("scrape timeout greater than scrape interval for scrape config with job name {job:?}"));
    }
    let protocols = f.get("scrape_protocols").map(|n| yaml::strings(n, errs)).or_else(|| g.scrape_protocols.clone());
    let failure_log = f.string("scrape_failure_log_file", errs);
    let metrics_path = f.string_or("metrics_path", "/metrics", errs);
    let scheme = f.string_or("scheme", "http", errs);
    let body_size = f.get("body_size_limit").map(|n| read_body_size(n, errs)).unwrap_or(g.body_size_limit);
    let mut limits = g.limits;
    for (i, k) in LIMIT_KEYS.iter().enumerate() {
        if let Some(v) = f.get(k) {
            limits[i] = yaml::uint(v, "uint", errs);
        }
    }
    let keep_dropped = f.get("keep_dropped_targets").map(|n| yaml::uint(n, "uint", errs)).unwrap_or(0);
    let classic = f.boolean("always_scrape_classic_histograms", false, errs);
    let nhcb = f.boolean("convert_classic_histograms_to_nhcb", false, errs);
    let compression = f.boolean("enable_compression", true, errs);
    let bucket_limit = f.get("native_histogram_bucket_limit").map(|n| yaml::uint(n, "uint", errs)).unwrap_or(0);
    let min_factor = f.get("native_histogram_min_bucket_factor").map(|n| yaml::float(n, errs)).unwrap_or(0.0);
    let fallback = f.string("scrape_fallback_protocol", errs);
    let client: HttpClient = http::read_inline(&mut f, errs);
    let relabel = f.get("relabel_configs").map(|n| read_rules(n, errs)).unwrap_or_default();
    let metric_relabel = f.get("metric_relabel_configs").map(|n| read_rules(n, errs)).unwrap_or_default();
    for k in ["metric_name_validation_scheme", "metric_name_escaping_scheme", "scrape_native_histograms", "extra_scrape_metrics", "honor_metadata"] {
        f.ignore(k);
    }

    // Service discovery: keys sorted by name, static configs last.
    let mut sd_blocks: Vec<Block> = Vec::new();
    let mut targets: Vec<Expr> = Vec::new();
    let mut sd_diags = Diagnostics::new();
    for kind in sd::KINDS {
        let Some(list) = f.get(&format!("{kind}_sd_configs")) else { continue };
        for (i, cfg) in yaml::seq(list, "discovery.Configs", errs).iter().enumerate() {
            let sd_label = if i == 0 { label.clone() } else { format!("{label}_{}", i + 1) };
            let Some(out) = sd::convert(kind, cfg, &sd_label, errs) else {
                let at = f.key_at(&format!("{kind}_sd_configs"));
                sd_diags.add_at(Severity::Error, format!("The converter does not support converting the provided {kind} service discovery."), at, Vec::new());
                continue;
            };
            sd_diags.extend(out.diags);
            targets.push(Expr::raw(format!("{}.{sd_label}.targets", out.block.name)));
            sd_blocks.push(out.block);
        }
    }
    if let Some(list) = f.get("static_configs") {
        for group in read_static_groups(list, errs) {
            for t in group.targets() {
                targets.push(Expr::Array(vec![Expr::string_map(&t)]));
            }
        }
    }
    // Where the keys diagnosed below are.
    let at: std::collections::HashMap<&str, Option<(u32, u32)>> =
        ["track_timestamps_staleness", "native_histogram_bucket_limit", "keep_dropped_targets"].into_iter().map(|k| (k, f.key_at(k))).collect();
    f.finish(errs);

    // Validation (in upstream's order).
    let validation = &mut ctx.validation;
    if track_staleness {
        unsupported_at(validation, "scrape_configs track_timestamps_staleness", at["track_timestamps_staleness"]);
    }
    if bucket_limit != 0 {
        unsupported_at(validation, "scrape_configs native_histogram_bucket_limit", at["native_histogram_bucket_limit"]);
    }
    if keep_dropped != 0 {
        unsupported_at(validation, "scrape_configs keep_dropped_targets", at["keep_dropped_targets"]);
    }
    check_max_version(&client, validation);
    validation.extend(sd_diags);

    let mut forward_to = REMOTE_RECEIVER.to_string();
    if !metric_relabel.is_empty() {
        let mut b = Block::new("prometheus.relabel", Some(&label));
        b.attr("forward_to", Expr::Array(vec![Expr::raw(REMOTE_RECEIVER)]));
        for r in &metric_relabel {
            b.block(rule_block("rule", r));
        }
        ctx.relabels.push(b);
        forward_to = format!("prometheus.relabel.{label}.receiver");
    }
    let mut targets_expr = match targets.len() {
        0 => Expr::Array(Vec::new()),
        1 => targets.pop().unwrap_or(Expr::Array(Vec::new())),
        _ => Expr::Call("array.concat".into(), targets),
    };
    ctx.discovery.extend(sd_blocks);
    if !relabel.is_empty() {
        let mut b = Block::new("discovery.relabel", Some(&label));
        b.attr("targets", targets_expr);
        for r in &relabel {
            b.block(rule_block("rule", r));
        }
        ctx.discovery_relabel.push(b);
        targets_expr = Expr::raw(format!("discovery.relabel.{label}.output"));
    }

    let mut b = Block::new("prometheus.scrape", Some(&label));
    b.attr("targets", targets_expr).attr("forward_to", Expr::Array(vec![Expr::raw(forward_to)])).opt_str("job_name", &job, "");
    b.opt_bool("honor_labels", honor_labels, false).opt_bool("honor_timestamps", honor_timestamps, sc::honor_timestamps()).opt_bool(
        "track_timestamps_staleness",
        track_staleness,
        false,
    );
    if !params.is_empty() {
        let mut entries: Vec<(String, Expr)> = params.iter().map(|(k, v)| (k.clone(), Expr::strings(v))).collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        b.attr("params", Expr::Object(entries));
    }
    b.opt_bool("scrape_classic_histograms", classic, false)
        .opt_str("scrape_failure_log_file", &failure_log, "")
        .opt_duration("scrape_interval", interval, sc::scrape_interval())
        .opt_duration("scrape_timeout", timeout, sc::scrape_timeout());
    if let Some(p) = &protocols {
        if p.iter().map(String::as_str).ne(sc::scrape_protocols().iter().map(String::as_str)) {
            b.attr("scrape_protocols", Expr::strings(p));
        }
    }
    b.opt_str("metrics_path", &metrics_path, &sc::metrics_path()).opt_str("scheme", &scheme, sc::SCHEME);
    if body_size != 0 {
        b.attr("body_size_limit", Expr::Str(base2_bytes(body_size)));
    }
    for (i, k) in LIMIT_KEYS.iter().enumerate() {
        b.opt_int(k, limits[i] as i64, 0);
    }
    http::write_all(&mut b, &client);
    b.opt_str("scrape_fallback_protocol", if fallback.is_empty() { "PrometheusText0.0.4" } else { &fallback }, "PrometheusText0.0.4")
        .opt_bool("convert_classic_histograms_to_nhcb", nhcb, false)
        .opt_bool("enable_compression", compression, sc::enable_compression())
        .opt_int("native_histogram_bucket_limit", bucket_limit as i64, 0)
        .opt_float("native_histogram_min_bucket_factor", min_factor, 0.0);
    ctx.scrapes.push(b);
    ctx.infos.push((job, label));
    Ok(())
}

/// One `static_configs` entry: target addresses and the labels they share.
pub(crate) struct StaticGroup {
    pub addresses: Vec<String>,
    pub labels: Vec<(String, String)>,
}

impl StaticGroup {
    /// Each target's label set: the group labels with its `__address__`.
    pub fn targets(&self) -> Vec<Vec<(String, String)>> {
        self.addresses
            .iter()
            .map(|a| {
                let mut entries = self.labels.clone();
                entries.retain(|(k, _)| k != "__address__");
                entries.push(("__address__".into(), a.clone()));
                entries
            })
            .collect()
    }
}

pub(crate) fn read_static_groups(list: &Node, errs: &mut Errors) -> Vec<StaticGroup> {
    yaml::seq(list, "[]*targetgroup.Group", errs)
        .iter()
        .map(|group| {
            let mut sf = Fields::new(group, "targetgroup.plain", errs);
            let addresses = sf.get("targets").map(|n| yaml::strings(n, errs)).unwrap_or_default();
            let labels = sf.get("labels").map(|n| yaml::string_map(n, errs)).unwrap_or_default();
            sf.finish(errs);
            StaticGroup { addresses, labels }
        })
        .collect()
}

/// One remote_write entry → an `endpoint` block and its name.
fn remote_write(item: &Node, validation: &mut Diagnostics, errs: &mut Errors) -> (Block, String) {
    let mut f = Fields::new(item, "config.plain", errs);
    let url = f.string("url", errs);
    if url.is_empty() {
        errs.hard("url for remote_write is empty");
    }
    let name = f.string("name", errs);
    let timeout = f.get("remote_timeout").map(|n| dur(n, errs)).unwrap_or(rwd::remote_timeout());
    let headers = f.get("headers").map(|n| yaml::string_map(n, errs)).unwrap_or_default();
    let send_exemplars = f.boolean("send_exemplars", true, errs);
    let send_native = f.boolean("send_native_histograms", false, errs);
    let protobuf = f.string_or("protobuf_message", &rwd::protobuf_message(), errs);
    let round_robin = f.boolean("round_robin_dns", false, errs);
    let client = http::read_inline(&mut f, errs);
    let relabels = f.get("write_relabel_configs").map(|n| read_rules(n, errs)).unwrap_or_default();

    let mut b = Block::new("endpoint", None);
    b.opt_str("name", &name, "").attr("url", Expr::Str(url));
    b.opt_duration("remote_timeout", timeout, rwd::remote_timeout()).opt_map("headers", &headers);
    b.opt_bool("send_exemplars", send_exemplars, rwd::send_exemplars()).opt_bool("send_native_histograms", send_native, false).opt_str(
        "protobuf_message",
        &protobuf,
        &rwd::protobuf_message(),
    );
    http::write_all(&mut b, &client);

    let mut q = Block::new("queue_config", None);
    {
        let mut g = Fields::new(f.get("queue_config").unwrap_or(&NULL), "config.plain", errs);
        let mut int = |k: &str, d: i64, errs: &mut Errors| g.get(k).map(|n| yaml::int(n, "int", errs)).unwrap_or(d);
        let capacity = int("capacity", rwd::capacity(), errs);
        let max_shards = int("max_shards", rwd::max_shards(), errs);
        let min_shards = int("min_shards", rwd::min_shards(), errs);
        let max_samples = int("max_samples_per_send", rwd::max_samples_per_send(), errs);
        q.opt_int("capacity", capacity, rwd::capacity())
            .opt_int("max_shards", max_shards, rwd::max_shards())
            .opt_int("min_shards", min_shards, rwd::min_shards())
            .opt_int("max_samples_per_send", max_samples, rwd::max_samples_per_send());
        let mut d = |k: &str, def: i64, errs: &mut Errors| g.get(k).map(|n| dur(n, errs)).unwrap_or(def);
        let deadline = d("batch_send_deadline", rwd::batch_send_deadline(), errs);
        let min_backoff = d("min_backoff", rwd::min_backoff(), errs);
        let max_backoff = d("max_backoff", rwd::max_backoff(), errs);
        let age = d("sample_age_limit", 0, errs);
        let retry = g.boolean("retry_on_http_429", rwd::retry_on_http_429(), errs);
        q.opt_duration("batch_send_deadline", deadline, rwd::batch_send_deadline())
            .opt_duration("min_backoff", min_backoff, rwd::min_backoff())
            .opt_duration("max_backoff", max_backoff, rwd::max_backoff())
            .opt_bool("retry_on_http_429", retry, rwd::retry_on_http_429())
            .opt_duration("sample_age_limit", age, 0);
        g.finish(errs);
    }
    b.block(q);
    let mut m = Block::new("metadata_config", None);
    {
        let mut g = Fields::new(f.get("metadata_config").unwrap_or(&NULL), "config.plain", errs);
        let send = g.boolean("send", rwd::metadata_send(), errs);
        let interval = g.get("send_interval").map(|n| dur(n, errs)).unwrap_or(rwd::metadata_send_interval());
        let max = g.get("max_samples_per_send").map(|n| yaml::int(n, "int", errs)).unwrap_or(rwd::metadata_max_samples_per_send());
        g.finish(errs);
        m.opt_bool("send", send, rwd::metadata_send()).opt_duration("send_interval", interval, rwd::metadata_send_interval()).opt_int(
            "max_samples_per_send",
            max,
            rwd::metadata_max_samples_per_send(),
        );
    }
    b.block(m);
    for r in &relabels {
        b.block(rule_block("write_relabel_config", r));
    }
    if let Some(n) = f.get("sigv4") {
        let mut g = Fields::new(n, "sigv4.SigV4Config", errs);
        let mut sb = Block::new("sigv4", None);
        for k in ["region", "access_key", "secret_key", "profile", "role_arn", "external_id"] {
            let v = g.string(k, errs);
            sb.opt_str(k, &v, "");
        }
        let fips = g.boolean("use_fips_sts_endpoint", false, errs);
        sb.opt_bool("use_fips_sts_endpoint", fips, false);
        let svc = g.string("service_name", errs);
        sb.opt_str("service_name", &svc, "");
        g.finish(errs);
        b.block(sb);
    }
    if let Some(n) = f.get("azuread") {
        b.block(azuread(n, errs));
    }
    if let Some(n) = f.get("google_iam") {
        let mut g = Fields::new(n, "googleiam.Config", errs);
        let file = g.string("credentials_file", errs);
        g.finish(errs);
        let mut gb = Block::new("google_iam", None);
        gb.opt_str("credentials_file", &file, "");
        b.block(gb);
    }
    b.opt_bool("round_robin_dns", round_robin, false);
    f.finish(errs);
    check_max_version(&client, validation);
    (b, name)
}

static NULL: Node = Node { kind: yaml::Kind::Scalar { text: String::new(), quoted: false }, line: 0, col: 0, source: 0 };

fn azuread(n: &Node, errs: &mut Errors) -> Block {
    let mut g = Fields::new(n, "azuread.AzureADConfig", errs);
    let mut b = Block::new("azuread", None);
    let sub = |g: &mut Fields, k: &str, keys: &[&str], errs: &mut Errors| -> Option<Block> {
        let node = g.get(k)?;
        let mut h = Fields::new(node, "azuread.plain", errs);
        let mut blk = Block::new(k, None);
        for key in keys {
            let v = h.string(key, errs);
            if *key == "token_file_path" {
                blk.opt_str(key, &v, "");
            } else {
                blk.attr(key, Expr::Str(v));
            }
        }
        h.finish(errs);
        Some(blk)
    };
    if let Some(x) = sub(&mut g, "managed_identity", &["client_id"], errs) {
        b.block(x);
    }
    if let Some(x) = sub(&mut g, "workload_identity", &["client_id", "tenant_id", "token_file_path"], errs) {
        b.block(x);
    }
    if let Some(x) = sub(&mut g, "oauth", &["client_id", "client_secret", "tenant_id"], errs) {
        b.block(x);
    }
    if let Some(x) = sub(&mut g, "sdk", &["tenant_id"], errs) {
        b.block(x);
    }
    let cloud = g.string_or("cloud", &rwd::azuread_cloud(), errs);
    b.opt_str("cloud", &cloud, &rwd::azuread_cloud());
    let scope = g.string("scope", errs);
    b.opt_str("scope", &scope, "");
    g.finish(errs);
    b
}
