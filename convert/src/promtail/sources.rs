//! Promtail's push and pull sources → `loki.source.*`, and the consul agent SD. Field order
//! and defaults follow each Alloy component's arguments; a value equal to the Alloy default is
//! left out.

use super::scrape::Scrape;
use super::{go_dur, server};
use crate::builder::{Block, Expr};
use crate::diag::{Diagnostics, Severity};
use crate::http::{self, HttpClient};
use crate::prometheus::dur as prom_dur;
use crate::values::base2_bytes;
use crate::yaml::{self, Errors, Fields, Node};

const SEC: i64 = 1_000_000_000;

pub fn append(s: &mut Scrape, kind: &str, n: &Node, errs: &mut Errors) {
    match kind {
        "cloudflare" => cloudflare(s, n, errs),
        "journal" => journal(s, n, errs),
        "loki_push_api" => push_api(s, n, errs),
        "syslog" => syslog(s, n, errs),
        "gcplog" => gcplog(s, n, errs),
        "windows_events" => windows_events(s, n, errs),
        "kafka" => kafka(s, n, errs),
        "azure_event_hubs" => azure_event_hubs(s, n, errs),
        "gelf" => gelf(s, n, errs),
        "heroku_drain" => heroku(s, n, errs),
        "docker_sd_configs" => docker(s, n, errs),
        _ => {}
    }
}

/// `model.LabelSet` as an object (always printed: the converted map is never nil).
fn labels(f: &mut Fields, errs: &mut Errors) -> Expr {
    Expr::string_map(&f.get("labels").map(|n| yaml::string_map(n, errs)).unwrap_or_default())
}

fn journal(s: &mut Scrape, n: &Node, errs: &mut Errors) {
    let mut f = Fields::new(n, "scrapeconfig.JournalTargetConfig", errs);
    let max_age_text = f.string("max_age", errs);
    let json = f.boolean("json", false, errs);
    let labels = labels(&mut f, errs);
    let path = f.string("path", errs);
    f.string("matches", errs);
    f.finish(errs);
    let mut max_age = 7 * 3600 * SEC;
    if !max_age_text.is_empty() {
        match eval::decode::Duration::parse(&max_age_text) {
            Ok(d) => max_age = d.nanos,
            Err(e) => s.diags.add(Severity::Error, format!("failed to parse max_age duration for journal config: {e}, will use default")),
        }
    }
    let forward_to = s.forward_to();
    let rules = s.relabel_rules();
    let mut b = Block::new("loki.source.journal", Some(&s.label));
    b.opt_bool("format_as_json", json, false)
        .opt_duration("max_age", max_age, 7 * 3600 * SEC)
        .opt_str("path", &path, "")
        .attr("relabel_rules", rules)
        .attr("forward_to", forward_to)
        .attr("labels", labels);
    s.file.blocks.push(b);
}

fn push_api(s: &mut Scrape, n: &Node, errs: &mut Errors) {
    let mut f = Fields::new(n, "scrapeconfig.PushTargetConfig", errs);
    let srv = f.get("server").map(|v| server::read_node(v, errs)).unwrap_or_default();
    let labels = labels(&mut f, errs);
    let keep_timestamp = f.boolean("use_incoming_timestamp", false, errs);
    let max_send = f.get("max_send_msg_size").map(|v| yaml::int(v, "int", errs)).unwrap_or(0);
    f.finish(errs);
    server::validate(&srv, s.diags);
    let forward_to = s.forward_to();
    let rules = s.relabel_rules();
    let mut b = Block::new("loki.source.api", Some(&s.label));
    server::write(&mut b, &srv);
    b.attr("forward_to", forward_to).attr("labels", labels).attr("relabel_rules", rules).opt_bool("use_incoming_timestamp", keep_timestamp, false);
    if max_send != 100 << 20 {
        b.attr("max_send_message_size", Expr::Str(base2_bytes(max_send.max(0) as u64)));
    }
    s.file.blocks.push(b);
}

fn tls_config(f: &mut Fields, key: &str, errs: &mut Errors) -> http::Tls {
    f.get(key).map(|n| http::read_tls(n, errs)).unwrap_or_default()
}

fn syslog(s: &mut Scrape, n: &Node, errs: &mut Errors) {
    let mut f = Fields::new(n, "scrapeconfig.SyslogTargetConfig", errs);
    let address = f.string("listen_address", errs);
    let protocol = f.string("listen_protocol", errs);
    let idle = f.get("idle_timeout").map(|v| go_dur(v, errs)).unwrap_or(0);
    let structured = f.boolean("label_structured_data", false, errs);
    let labels = labels(&mut f, errs);
    let incoming = f.boolean("use_incoming_timestamp", false, errs);
    let rfc5424_message = f.boolean("use_rfc5424_message", false, errs);
    let format = f.string("syslog_format", errs);
    let max_len = f.get("max_message_length").map(|v| yaml::int(v, "int", errs)).unwrap_or(0);
    let tls = tls_config(&mut f, "tls_config", errs);
    let raw_options = f.get("raw_format_options").map(|v| {
        let mut g = Fields::new(v, "scrapeconfig.SyslogRawFormatOptions", errs);
        let b = g.boolean("use_null_terminator_delimiter", false, errs);
        g.finish(errs);
        b
    });
    let cisco = f.get("rfc3164_cisco_components").map(|v| {
        let mut g = Fields::new(v, "scrapeconfig.SyslogRFC3164CiscoComponents", errs);
        let keys = ["enable_all", "message_counter", "sequence_number", "hostname", "second_fractions"];
        let vals: Vec<(&str, bool)> = keys.iter().map(|k| (*k, g.boolean(k, false, errs))).collect();
        g.finish(errs);
        vals
    });
    f.finish(errs);
    let format = match format.as_str() {
        "" | "rfc5424" => "rfc5424",
        "rfc3164" => "rfc3164",
        "raw" => "raw",
        other => {
            s.diags.add(Severity::Critical, format!("unknown syslog format {other:?}"));
            return;
        }
    };
    let mut l = Block::new("listener", None);
    l.attr("address", Expr::Str(address))
        .opt_str("protocol", &protocol, "tcp")
        .opt_duration("idle_timeout", idle, 120 * SEC)
        .opt_bool("label_structured_data", structured, false)
        .attr("labels", labels)
        .opt_bool("use_incoming_timestamp", incoming, false)
        .opt_bool("use_rfc5424_message", rfc5424_message, false)
        .opt_int("max_message_length", max_len, 8192);
    l.opt_block(http::tls_block(&tls));
    l.opt_str("syslog_format", format, "rfc5424");
    if let Some(v) = raw_options {
        let mut r = Block::new("raw_format_options", None);
        r.opt_bool("use_null_terminator_delimiter", v, false);
        l.block(r);
    }
    if let Some(vals) = cisco {
        let mut c = Block::new("rfc3164_cisco_components", None);
        for (k, v) in vals {
            c.opt_bool(k, v, false);
        }
        l.block(c);
    }
    // Promtail has no such settings; the converted zeroes differ from Alloy's defaults.
    l.attr("udp_queue_size", Expr::Int(0)).attr("udp_host_cache_size", Expr::Int(0));
    let forward_to = s.forward_to();
    let rules = s.relabel_rules();
    let mut b = Block::new("loki.source.syslog", Some(&s.label));
    b.block(l).attr("forward_to", forward_to).attr("relabel_rules", rules);
    s.file.blocks.push(b);
}

fn gcplog(s: &mut Scrape, n: &Node, errs: &mut Errors) {
    let mut f = Fields::new(n, "scrapeconfig.GcplogTargetConfig", errs);
    let project = f.string("project_id", errs);
    let subscription = f.string("subscription", errs);
    let labels = labels(&mut f, errs);
    let incoming = f.boolean("use_incoming_timestamp", false, errs);
    let kind = f.string("subscription_type", errs);
    let push_timeout = f.get("push_timeout").map(|v| go_dur(v, errs)).unwrap_or(0);
    let srv = f.get("server").map(|v| server::read_node(v, errs)).unwrap_or_default();
    let full_line = f.boolean("use_full_line", false, errs);
    f.finish(errs);
    let mut target = None;
    match kind.as_str() {
        "" | "pull" => {
            let mut p = Block::new("pull", None);
            p.attr("project_id", Expr::Str(project))
                .attr("subscription", Expr::Str(subscription))
                .attr("labels", labels)
                .opt_bool("use_incoming_timestamp", incoming, false)
                .opt_bool("use_full_line", full_line, false);
            target = Some(p);
        }
        "push" => {
            server::validate(&srv, s.diags);
            let mut p = Block::new("push", None);
            server::write(&mut p, &srv);
            p.opt_duration("push_timeout", push_timeout, 0).attr("labels", labels).opt_bool("use_incoming_timestamp", incoming, false).opt_bool(
                "use_full_line",
                full_line,
                false,
            );
            target = Some(p);
        }
        _ => s.diags.add(Severity::Error, "gcplog.subscription_type must be one of 'pull' or 'push'"),
    }
    let forward_to = s.forward_to();
    let rules = s.relabel_rules();
    let mut b = Block::new("loki.source.gcplog", Some(&s.label));
    if let Some(t) = target {
        b.block(t);
    }
    b.attr("forward_to", forward_to).attr("relabel_rules", rules);
    s.file.blocks.push(b);
}

fn windows_events(s: &mut Scrape, n: &Node, errs: &mut Errors) {
    let mut f = Fields::new(n, "scrapeconfig.WindowsEventsTargetConfig", errs);
    let locale = f.get("locale").map(|v| yaml::uint(v, "uint32", errs)).unwrap_or(0);
    let name = f.string("eventlog_name", errs);
    let query = f.string("xpath_query", errs);
    let incoming = f.boolean("use_incoming_timestamp", false, errs);
    let bookmark = f.string("bookmark_path", errs);
    let poll = f.get("poll_interval").map(|v| go_dur(v, errs)).unwrap_or(0);
    let exclude_data = f.boolean("exclude_event_data", false, errs);
    let exclude_message = f.boolean("exclude_event_message", false, errs);
    let exclude_user = f.boolean("exclude_user_data", false, errs);
    let labels = labels(&mut f, errs);
    f.finish(errs);
    let forward_to = s.loki_relabel_forward();
    let mut b = Block::new("loki.source.windowsevent", Some(&s.label));
    b.opt_int("locale", locale as i64, 0)
        .opt_str("eventlog_name", &name, "")
        .opt_str("xpath_query", &query, "*")
        .opt_duration("poll_interval", poll, 3 * SEC)
        .opt_bool("exclude_event_data", exclude_data, false)
        .opt_bool("exclude_user_data", exclude_user, false)
        .opt_bool("exclude_event_message", exclude_message, false)
        .opt_bool("use_incoming_timestamp", incoming, false)
        .attr("forward_to", forward_to)
        .attr("labels", labels)
        .opt_str("legacy_bookmark_path", &bookmark, "");
    s.file.blocks.push(b);
}

fn kafka(s: &mut Scrape, n: &Node, errs: &mut Errors) {
    let mut f = Fields::new(n, "scrapeconfig.KafkaTargetConfig", errs);
    let labels = labels(&mut f, errs);
    let incoming = f.boolean("use_incoming_timestamp", false, errs);
    let brokers = f.get("brokers").map(|v| yaml::strings(v, errs)).unwrap_or_default();
    let group_id = f.string("group_id", errs);
    let topics = f.get("topics").map(|v| yaml::strings(v, errs)).unwrap_or_default();
    let version = f.string("version", errs);
    let assignor = f.string("assignor", errs);
    let mut auth_type = String::new();
    let mut auth_tls = http::Tls::default();
    let (mut mechanism, mut user, mut password, mut use_tls) = (String::new(), String::new(), String::new(), false);
    let mut sasl_tls = http::Tls::default();
    if let Some(a) = f.get("authentication") {
        let mut g = Fields::new(a, "scrapeconfig.KafkaAuthentication", errs);
        auth_type = g.string("type", errs);
        auth_tls = tls_config(&mut g, "tls_config", errs);
        if let Some(sasl) = g.get("sasl_config") {
            let mut h = Fields::new(sasl, "scrapeconfig.KafkaSASLConfig", errs);
            mechanism = h.string("mechanism", errs);
            user = h.string("user", errs);
            password = h.string("password", errs);
            use_tls = h.boolean("use_tls", false, errs);
            // The SASL TLS settings are inlined in Promtail's YAML.
            sasl_tls = http::read_tls_fields(&mut h, errs);
            h.finish(errs);
        }
        g.finish(errs);
    }
    f.finish(errs);
    let mut b = Block::new("loki.source.kafka", Some(&s.label));
    b.attr("brokers", Expr::strings(&brokers))
        .attr("topics", Expr::strings(&topics))
        .opt_str("group_id", &group_id, "loki.source.kafka")
        .opt_str("assignor", &assignor, "range")
        .opt_str("version", &version, "2.2.1");
    // The block is compared whole with Alloy's default (type "none", mechanism "PLAIN"), then
    // its fields with zero values.
    let default_auth = auth_type == "none" && mechanism == "PLAIN" && !use_tls && user.is_empty() && password.is_empty();
    let tls_zero = |t: &http::Tls| *t == http::Tls::default();
    if !(default_auth && tls_zero(&auth_tls) && tls_zero(&sasl_tls)) {
        let mut a = Block::new("authentication", None);
        a.opt_str("type", &auth_type, "");
        a.opt_block(http::tls_block(&auth_tls));
        let mut sc = Block::new("sasl_config", None);
        sc.opt_str("mechanism", &mechanism, "").opt_str("user", &user, "").opt_str("password", &password, "").opt_bool("use_tls", use_tls, false);
        sc.opt_block(http::tls_block(&sasl_tls));
        a.opt_block(sc);
        b.block(a);
    }
    b.opt_bool("use_incoming_timestamp", incoming, false).attr("labels", labels);
    let forward_to = s.forward_to();
    let rules = s.relabel_rules();
    b.attr("forward_to", forward_to).attr("relabel_rules", rules);
    s.file.blocks.push(b);
}

fn azure_event_hubs(s: &mut Scrape, n: &Node, errs: &mut Errors) {
    let mut f = Fields::new(n, "scrapeconfig.AzureEventHubsTargetConfig", errs);
    let labels = f.get("labels").map(|v| yaml::string_map(v, errs)).unwrap_or_default();
    let incoming = f.boolean("use_incoming_timestamp", false, errs);
    let hubs = f.get("event_hubs").map(|v| yaml::strings(v, errs)).unwrap_or_default();
    let connection = f.string("connection_string", errs);
    let namespace = f.string("fully_qualified_namespace", errs);
    let group_id = f.string("group_id", errs);
    let disallow = f.boolean("disallow_custom_messages", false, errs);
    f.finish(errs);
    let forward_to = s.forward_to();
    let rules = s.relabel_rules();
    let mut b = Block::new("loki.source.azure_event_hubs", Some(&s.label));
    b.attr("fully_qualified_namespace", Expr::Str(namespace)).attr("event_hubs", Expr::strings(&hubs));
    let mut a = Block::new("authentication", None);
    // `mechanism` is required, so printed even though Promtail has no such setting.
    a.attr("mechanism", Expr::str("")).opt_str("connection_string", &connection, "");
    b.block(a);
    b.opt_str("group_id", &group_id, "loki.source.azure_event_hubs")
        .opt_bool("use_incoming_timestamp", incoming, false)
        .opt_bool("disallow_custom_messages", disallow, false)
        .attr("relabel_rules", rules);
    let default_labels = [("job".to_string(), "loki.source.azure_event_hubs".to_string())];
    if labels.as_slice() != default_labels.as_slice() {
        b.attr("labels", Expr::string_map(&labels));
    }
    // Promtail has no assignor: the empty value differs from Alloy's "range".
    b.attr("assignor", Expr::str("")).attr("forward_to", forward_to);
    s.file.blocks.push(b);
}

fn gelf(s: &mut Scrape, n: &Node, errs: &mut Errors) {
    let mut f = Fields::new(n, "scrapeconfig.GelfTargetConfig", errs);
    let address = f.string("listen_address", errs);
    f.get("labels").map(|v| yaml::string_map(v, errs));
    let incoming = f.boolean("use_incoming_timestamp", false, errs);
    f.finish(errs);
    let forward_to = s.forward_to();
    let rules = s.relabel_rules();
    let mut b = Block::new("loki.source.gelf", Some(&s.label));
    b.opt_str("listen_address", &address, "0.0.0.0:12201")
        .opt_bool("use_incoming_timestamp", incoming, false)
        .attr("relabel_rules", rules)
        .attr("forward_to", forward_to);
    s.file.blocks.push(b);
}

fn cloudflare(s: &mut Scrape, n: &Node, errs: &mut Errors) {
    let mut f = Fields::new(n, "scrapeconfig.CloudflareConfig", errs);
    let token = f.string("api_token", errs);
    let zone = f.string("zone_id", errs);
    let labels = labels(&mut f, errs);
    let workers = f.get("workers").map(|v| yaml::int(v, "int", errs)).unwrap_or(0);
    let pull_range = f.get("pull_range").map(|v| prom_dur(v, errs)).unwrap_or(0);
    let fields_type = f.string("fields_type", errs);
    // Upstream does not convert additional_fields; they are only read (for type errors).
    let _ = f.get("additional_fields").map(|v| yaml::strings(v, errs));
    f.finish(errs);
    let forward_to = s.loki_relabel_forward();
    let mut b = Block::new("loki.source.cloudflare", Some(&s.label));
    b.attr("api_token", Expr::Str(token))
        .attr("zone_id", Expr::Str(zone))
        .attr("labels", labels)
        .opt_int("workers", workers, 3)
        .opt_duration("pull_range", pull_range, 60 * SEC)
        .opt_str("fields_type", &fields_type, "default");
    b.attr("forward_to", forward_to);
    s.file.blocks.push(b);
}

fn heroku(s: &mut Scrape, n: &Node, errs: &mut Errors) {
    let mut f = Fields::new(n, "scrapeconfig.HerokuDrainTargetConfig", errs);
    let srv = f.get("server").map(|v| server::read_node(v, errs)).unwrap_or_default();
    let labels = labels(&mut f, errs);
    let incoming = f.boolean("use_incoming_timestamp", false, errs);
    f.finish(errs);
    let forward_to = s.forward_to();
    let rules = s.relabel_rules();
    let mut b = Block::new("loki.source.heroku", Some(&s.label));
    server::write(&mut b, &srv);
    b.attr("labels", labels).opt_bool("use_incoming_timestamp", incoming, false).attr("forward_to", forward_to).attr("relabel_rules", rules);
    s.file.blocks.push(b);
}

/// `docker_sd_configs` → `discovery.docker` + `loki.source.docker` per entry.
fn docker(s: &mut Scrape, n: &Node, errs: &mut Errors) {
    for (i, cfg) in yaml::seq(n, "[]*moby.DockerSDConfig", errs).iter().enumerate() {
        let label = s.indexed_label(i);
        let mut f = Fields::new(cfg, "moby.plain", errs);
        let host = f.string("host", errs);
        let port = f.get("port").map(|v| yaml::int(v, "int", errs)).unwrap_or(80);
        let host_networking_host = f.string_or("host_networking_host", "localhost", errs);
        let refresh = f.get("refresh_interval").map(|v| prom_dur(v, errs)).unwrap_or(60 * SEC);
        let match_first = f.boolean("match_first_network", true, errs);
        let mut filters = Vec::new();
        if let Some(list) = f.get("filters") {
            for item in yaml::seq(list, "[]moby.Filter", errs) {
                let mut g = Fields::new(item, "moby.Filter", errs);
                let name = g.string("name", errs);
                let values = g.get("values").map(|v| yaml::strings(v, errs)).unwrap_or_default();
                g.finish(errs);
                filters.push((name, values));
            }
        }
        let client = http::read_inline(&mut f, errs);
        f.finish(errs);
        crate::prometheus::check_http_headers(&client, s.diags);

        let mut d = Block::new("discovery.docker", Some(&label));
        d.attr("host", Expr::str(&host))
            .opt_int("port", port, 80)
            .opt_str("host_networking_host", &host_networking_host, "localhost")
            .opt_duration("refresh_interval", refresh, 60 * SEC)
            .opt_bool("match_first_network", match_first, true);
        for (name, values) in &filters {
            let mut fb = Block::new("filter", None);
            fb.attr("name", Expr::str(name)).attr("values", Expr::strings(values));
            d.block(fb);
        }
        http::write_all(&mut d, &client);
        s.file.blocks.push(d);

        let forward_to = s.forward_to();
        let rules = s.relabel_rules();
        let mut b = Block::new("loki.source.docker", Some(&label));
        b.attr("host", Expr::str(&host))
            .attr("targets", Expr::raw(format!("discovery.docker.{label}.targets")))
            .attr("forward_to", forward_to)
            .attr("relabel_rules", rules);
        // `http_headers` are not converted, so they alone leave the client at its default.
        if (HttpClient { has_http_headers: false, ..client.clone() }) != HttpClient::default() {
            let mut h = Block::new("http_client_config", None);
            http::write_all(&mut h, &client);
            b.block(h);
        }
        b.opt_duration("refresh_interval", refresh, 60 * SEC);
        s.file.blocks.push(b);
    }
}

/// `consulagent_sd_configs` entry → `discovery.consulagent`.
pub fn consulagent(n: &Node, label: &str, diags: &mut Diagnostics, errs: &mut Errors) -> Block {
    let mut f = Fields::new(n, "consulagent.plain", errs);
    let server = f.string_or("server", "localhost:8500", errs);
    let token = f.string("token", errs);
    let datacenter = f.string("datacenter", errs);
    let tag_separator = f.string_or("tag_separator", ",", errs);
    let scheme = f.string_or("scheme", "http", errs);
    let username = f.string("username", errs);
    let password = f.string("password", errs);
    f.boolean("allow_stale", true, errs);
    let refresh = f.get("refresh_interval").map(|v| prom_dur(v, errs)).unwrap_or(30 * SEC);
    let services = f.get("services").map(|v| yaml::strings(v, errs)).unwrap_or_default();
    let tags = f.get("tags").map(|v| yaml::strings(v, errs)).unwrap_or_default();
    let node_meta = f.get("node_meta").map(|v| yaml::string_map(v, errs)).unwrap_or_default();
    let tls = tls_config(&mut f, "tls_config", errs);
    f.finish(errs);
    if server.trim().is_empty() {
        errs.hard("consulagent SD configuration requires a server address");
    }
    if !node_meta.is_empty() {
        diags.add(Severity::Warning, "node_meta is not used by discovery.consulagent and will be ignored");
    }
    let mut b = Block::new("discovery.consulagent", Some(label));
    b.opt_str("server", &server, "localhost:8500")
        .opt_str("token", &token, "")
        .opt_str("datacenter", &datacenter, "")
        .opt_str("tag_separator", &tag_separator, ",")
        .opt_str("scheme", &scheme, "http")
        .opt_str("username", &username, "")
        .opt_str("password", &password, "")
        .opt_duration("refresh_interval", refresh, 30 * SEC)
        .opt_strings("services", &services)
        .opt_strings("tags", &tags);
    b.opt_block(http::tls_block(&tls));
    b
}
