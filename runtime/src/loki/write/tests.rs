//! `loki.write` against a push receiver on loopback that decodes what it gets with the
//! `loki::push` decoder and answers with scripted statuses.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use loki::push::{decode_request, WireStream};
use prom::Labels;

use super::*;
use crate::component::args::evaluated;
use crate::component::detached_context;

#[derive(Default)]
struct Received {
    /// (X-Scope-OrgID, streams) per accepted request.
    requests: Vec<(String, Vec<WireStream>)>,
    /// Statuses to answer with, in order; then 204.
    script: VecDeque<u16>,
    attempts: usize,
}

async fn receiver(script: &[u16]) -> (String, Arc<Mutex<Received>>) {
    let state = Arc::new(Mutex::new(Received { script: script.iter().copied().collect(), ..Received::default() }));
    let s = state.clone();
    let app = axum::Router::new().route(
        "/loki/api/v1/push",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let s = s.clone();
            async move {
                let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
                st.attempts += 1;
                let status = st.script.pop_front().unwrap_or(204);
                if status == 204 {
                    assert_eq!(headers.get("content-encoding").and_then(|v| v.to_str().ok()), Some("snappy"));
                    assert_eq!(headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/x-protobuf"));
                    let tenant = headers.get("x-scope-orgid").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                    st.requests.push((tenant, decode_request(&body).expect("a valid push request")));
                }
                (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), "boom\nsecond line")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/loki/api/v1/push"), state)
}

/// The component, running; its context's registry holds its metrics.
async fn start(body: &str) -> (CancellationToken, tokio::task::JoinHandle<Result<(), ComponentError>>, super::super::receiver::LogsReceiver) {
    start_in(detached_context("loki.write.w"), body).await
}

async fn start_in(ctx: Context, body: &str) -> (CancellationToken, tokio::task::JoinHandle<Result<(), ComponentError>>, super::super::receiver::LogsReceiver) {
    let v = evaluated(&format!("loki.write \"w\" {{\n{body}\n}}\n")).expect("evaluates");
    let c = writer(ctx, &v).expect("builds");
    let handle = c.inbox.receiver().clone();
    let stop = CancellationToken::new();
    let task = tokio::spawn(c.run(stop.clone()));
    (stop, task, handle)
}

fn entry(labels: &[(&str, &str)], ts: i64, line: &str) -> Entry {
    Entry::new(Labels::new(labels.iter().copied()), ts, line)
}

async fn eventually(what: &str, mut ok: impl FnMut() -> bool) {
    for _ in 0..200 {
        if ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_arrive_batched_per_tenant_with_external_labels_under_their_own() {
    let (url, got) = receiver(&[]).await;
    let (stop, task, rx) = start(&format!(
        "  endpoint {{\n    url = \"{url}\"\n    batch_wait = \"50ms\"\n    tenant_id = \"default-tenant\"\n  }}\n  external_labels = {{ cluster = \"c1\", job = \"ignored\" }}"
    ))
    .await;
    let mut tenanted = entry(&[("job", "b"), ("__tenant_id__", "team-x")], 3, "to team x");
    tenanted.set_metadata("trace_id", "abc");
    rx.send(vec![entry(&[("job", "a")], 1, "one"), entry(&[("job", "a")], 2, "two"), tenanted]).await.expect("sent");
    eventually("two requests", || got.lock().map(|g| g.requests.len() == 2).unwrap_or(false)).await;
    stop.cancel();
    task.await.expect("joins").expect("stops cleanly");
    let g = got.lock().expect("lock");
    let by_tenant = |t: &str| g.requests.iter().find(|(tenant, _)| tenant == t).map(|(_, s)| s.clone()).unwrap_or_default();
    let default = by_tenant("default-tenant");
    assert_eq!(default.len(), 1);
    assert_eq!(default[0].labels, r#"{cluster="c1", job="a"}"#);
    assert_eq!(default[0].entries.iter().map(|e| (e.timestamp_ns, e.line.as_str())).collect::<Vec<_>>(), [(1, "one"), (2, "two")]);
    let team = by_tenant("team-x");
    assert_eq!(team[0].labels, r#"{cluster="c1", job="b"}"#, "the tenant label is taken out");
    assert_eq!(team[0].entries[0].structured_metadata, vec![("trace_id".to_string(), "abc".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_batch_is_sent_before_it_grows_past_batch_size() {
    let (url, got) = receiver(&[]).await;
    let (stop, task, rx) = start(&format!("  endpoint {{\n    url = \"{url}\"\n    batch_wait = \"10s\"\n    batch_size = 10\n  }}")).await;
    rx.send(vec![entry(&[("job", "a")], 1, "123456"), entry(&[("job", "a")], 2, "abcdef"), entry(&[("job", "a")], 3, "xyz")]).await.expect("sent");
    eventually("the first batch", || got.lock().map(|g| g.requests.len() == 1).unwrap_or(false)).await;
    stop.cancel();
    task.await.expect("joins").expect("stops cleanly");
    let g = got.lock().expect("lock");
    let lines: Vec<Vec<&str>> = g.requests.iter().map(|(_, s)| s[0].entries.iter().map(|e| e.line.as_str()).collect()).collect();
    assert_eq!(lines, [vec!["123456"], vec!["abcdef", "xyz"]], "the second batch is sent when the component stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_and_client_errors_dropped_and_counted() {
    let (url, got) = receiver(&[500, 503, 204, 400]).await;
    let ctx = detached_context("loki.write.w");
    let (stop, task, rx) = start_in(
        ctx.clone(),
        &format!("  endpoint {{\n    url = \"{url}\"\n    batch_wait = \"20ms\"\n    min_backoff_period = \"10ms\"\n    max_backoff_period = \"20ms\"\n  }}"),
    )
    .await;
    rx.send(vec![entry(&[("job", "a")], 1, "retried")]).await.expect("sent");
    eventually("delivery after two 5xx", || got.lock().map(|g| g.requests.len() == 1).unwrap_or(false)).await;
    rx.send(vec![entry(&[("job", "a")], 2, "refused")]).await.expect("sent");
    eventually("the 400 attempt", || got.lock().map(|g| g.attempts == 4).unwrap_or(false)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.cancel();
    task.await.expect("joins").expect("stops cleanly");
    let g = got.lock().expect("lock");
    assert_eq!(g.attempts, 4, "no retry after the 400");
    assert_eq!(g.requests.len(), 1);
    assert_eq!(g.requests[0].1[0].entries[0].line, "retried");
    let metrics = ctx.registry().render();
    let value = |name: &str, needle: &str| {
        metrics.lines().find(|l| l.starts_with(name) && l.contains(needle)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse::<f64>().ok())
    };
    assert_eq!(value("loki_write_dropped_entries_total", "reason=\"ingester_error\""), Some(1.0), "{metrics}");
    assert_eq!(value("loki_write_dropped_bytes_total", "reason=\"ingester_error\""), Some(7.0), "{metrics}");
    assert_eq!(value("loki_write_sent_entries_total", "host="), Some(1.0), "{metrics}");
    assert_eq!(value("loki_write_batch_retries_total", "host="), Some(2.0), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_end_after_max_backoff_retries() {
    let (url, got) = receiver(&[500, 500, 500, 500, 500]).await;
    let (stop, task, rx) = start(&format!(
        "  endpoint {{\n    url = \"{url}\"\n    batch_wait = \"20ms\"\n    min_backoff_period = \"5ms\"\n    max_backoff_period = \"5ms\"\n    max_backoff_retries = 2\n  }}"
    ))
    .await;
    rx.send(vec![entry(&[("job", "a")], 1, "lost")]).await.expect("sent");
    eventually("three attempts", || got.lock().map(|g| g.attempts == 3).unwrap_or(false)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.cancel();
    task.await.expect("joins").expect("stops cleanly");
    assert_eq!(got.lock().map(|g| g.attempts).unwrap_or(0), 3, "one attempt and two retries");
}

#[test]
fn routing_keeps_the_entry_labels_over_external_ones() {
    let (tenant, e) = route(entry(&[("job", "a"), ("__tenant_id__", "t1")], 5, "x"), &[("job".into(), "ext".into()), ("env".into(), "p".into())], "dflt");
    assert_eq!(tenant, "t1");
    assert_eq!(e.labels, Labels::new([("job", "a"), ("env", "p")]));
    let (tenant, _) = route(entry(&[("job", "a")], 5, "x"), &[], "dflt");
    assert_eq!(tenant, "dflt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_capacity_holds_producers_until_a_batch_is_sent() {
    let (url, got) = receiver(&[]).await;
    let (stop, task, rx) =
        start(&format!("  endpoint {{\n    url = \"{url}\"\n    batch_wait = \"200ms\"\n    queue_config {{\n      capacity = \"10B\"\n    }}\n  }}")).await;
    // Each line fills most of the 10 bytes: the second waits until the first batch went out,
    // so the two arrive in two requests (with room, one batch would hold both).
    rx.send(vec![entry(&[("job", "a")], 1, "12345678")]).await.expect("sent");
    rx.send(vec![entry(&[("job", "a")], 2, "abcdefgh")]).await.expect("sent");
    eventually("both lines", || got.lock().map(|g| g.requests.len() == 2).unwrap_or(false)).await;
    stop.cancel();
    task.await.expect("joins").expect("stops cleanly");
    let g = got.lock().expect("lock");
    let lines: Vec<Vec<&str>> = g.requests.iter().map(|(_, s)| s[0].entries.iter().map(|e| e.line.as_str()).collect()).collect();
    assert_eq!(lines, [vec!["12345678"], vec!["abcdefgh"]]);
}
