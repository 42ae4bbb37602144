//! Promtail clients → `loki.write` (one endpoint each).

use super::go_dur;
use crate::builder::{Block, Expr};
use crate::diag::{Diagnostics, Severity};
use crate::http::{self, HttpClient};
use crate::values::base2_bytes;
use crate::yaml::{self, Errors, Fields, Node};

const SEC: i64 = 1_000_000_000;
const BATCH_WAIT: i64 = SEC;
const BATCH_SIZE: i64 = 1 << 20;
const MIN_BACKOFF: i64 = 500_000_000;
const MAX_BACKOFF: i64 = 5 * 60 * SEC;
const MAX_RETRIES: i64 = 10;
const TIMEOUT: i64 = 10 * SEC;

pub struct Client {
    pub url: String,
    name: String,
    batch_wait: i64,
    batch_size: i64,
    http: HttpClient,
    headers: Option<Vec<(String, String)>>,
    min_backoff: i64,
    max_backoff: i64,
    max_retries: i64,
    external_labels: Vec<(String, String)>,
    timeout: i64,
    tenant_id: String,
    drop_rate_limited_batches: bool,
}

pub fn read_client(n: &Node, errs: &mut Errors) -> Client {
    let mut f = Fields::new(n, "client.raw", errs);
    let mut c = Client {
        url: f.string("url", errs),
        name: f.string("name", errs),
        batch_wait: f.get("batchwait").map(|v| go_dur(v, errs)).unwrap_or(BATCH_WAIT),
        batch_size: f.get("batchsize").map(|v| yaml::int(v, "int", errs)).unwrap_or(BATCH_SIZE),
        http: HttpClient::default(),
        headers: f.get("headers").map(|v| yaml::string_map(v, errs)),
        min_backoff: MIN_BACKOFF,
        max_backoff: MAX_BACKOFF,
        max_retries: MAX_RETRIES,
        external_labels: f.get("external_labels").map(|v| yaml::string_map(v, errs)).unwrap_or_default(),
        timeout: f.get("timeout").map(|v| go_dur(v, errs)).unwrap_or(TIMEOUT),
        tenant_id: f.string("tenant_id", errs),
        drop_rate_limited_batches: f.boolean("drop_rate_limited_batches", false, errs),
    };
    if let Some(b) = f.get("backoff_config") {
        let mut g = Fields::new(b, "backoff.Config", errs);
        if let Some(v) = g.get("min_period") {
            c.min_backoff = go_dur(v, errs);
        }
        if let Some(v) = g.get("max_period") {
            c.max_backoff = go_dur(v, errs);
        }
        if let Some(v) = g.get("max_retries") {
            c.max_retries = yaml::int(v, "int", errs);
        }
        g.finish(errs);
    }
    c.http = http::read_inline(&mut f, errs);
    f.finish(errs);
    c
}

/// `loki.write "<label>"` for one client.
pub fn loki_write(c: &Client, label: &str, max_streams: i64, diags: &mut Diagnostics) -> Block {
    if c.batch_size < 0 {
        diags.add(Severity::Error, format!("failed to parse BatchSize for client config {}: units: invalid size \"{}B\"", c.name, c.batch_size));
    }
    crate::prometheus::check_http_headers(&c.http, diags);
    let mut e = Block::new("endpoint", None);
    e.opt_str("name", &c.name, "").attr("url", Expr::str(&c.url));
    e.opt_duration("batch_wait", c.batch_wait, BATCH_WAIT);
    if c.batch_size != BATCH_SIZE {
        e.attr("batch_size", Expr::Str(base2_bytes(c.batch_size.max(0) as u64)));
    }
    e.opt_duration("remote_timeout", c.timeout, TIMEOUT);
    if let Some(h) = &c.headers {
        e.attr("headers", Expr::string_map(h));
    }
    e.opt_duration("min_backoff_period", c.min_backoff, MIN_BACKOFF)
        .opt_duration("max_backoff_period", c.max_backoff, MAX_BACKOFF)
        .opt_int("max_backoff_retries", c.max_retries, MAX_RETRIES)
        .opt_str("tenant_id", &c.tenant_id, "")
        .opt_bool("retry_on_http_429", !c.drop_rate_limited_batches, true);
    http::write_all(&mut e, &c.http);
    let mut b = Block::new("loki.write", Some(label));
    b.block(e);
    b.attr("external_labels", Expr::string_map(&c.external_labels));
    b.opt_int("max_streams", max_streams, 0);
    b
}
