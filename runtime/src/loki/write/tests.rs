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
    /// Answer 503 to everything.
    down: bool,
    /// Wait this long before answering.
    delay: Duration,
}

async fn receiver(script: &[u16]) -> (String, Arc<Mutex<Received>>) {
    let state = Arc::new(Mutex::new(Received { script: script.iter().copied().collect(), ..Received::default() }));
    let s = state.clone();
    let app = axum::Router::new().route(
        "/loki/api/v1/push",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let s = s.clone();
            async move {
                let delay = s.lock().unwrap_or_else(|e| e.into_inner()).delay;
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
                st.attempts += 1;
                let status = if st.down { 503 } else { st.script.pop_front().unwrap_or(204) };
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

// The WAL (`wal.rs`).

/// A context of its own (a fresh data directory), named after the test.
fn wal_context(name: &str) -> Context {
    let ctx = detached_context(&format!("loki.write.{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(ctx.data_path());
    ctx
}

/// Another context with the same data directory: the component after a restart.
fn restarted(ctx: &Context) -> Context {
    detached_context(ctx.id())
}

/// `loki.write` with the WAL and quick timings; `endpoints` are (name, url).
fn wal_config(endpoints: &[(&str, &str)], endpoint_extra: &str, wal_extra: &str) -> String {
    let mut out = String::new();
    for (name, url) in endpoints {
        out.push_str(&format!(
            "  endpoint {{\n    name = \"{name}\"\n    url = \"{url}\"\n    batch_wait = \"30ms\"\n    min_backoff_period = \"10ms\"\n    max_backoff_period = \"40ms\"\n    max_backoff_retries = 0\n{endpoint_extra}\n    queue_config {{\n      drain_timeout = \"200ms\"\n    }}\n  }}\n"
        ));
    }
    out.push_str(&format!(
        "  wal {{\n    enabled = true\n    drain_timeout = \"300ms\"\n    min_read_frequency = \"10ms\"\n    max_read_frequency = \"50ms\"\n{wal_extra}\n  }}"
    ));
    out
}

type Started = (CancellationToken, tokio::task::JoinHandle<Result<(), ComponentError>>, super::super::receiver::LogsReceiver, Arc<Write>);

async fn start_wal(ctx: Context, body: &str) -> Started {
    let v = evaluated(&format!("loki.write \"w\" {{\n{body}\n}}\n")).expect("evaluates");
    let c = writer(ctx, &v).expect("builds");
    let handle = c.inbox.receiver().clone();
    let stop = CancellationToken::new();
    let task = tokio::spawn(c.clone().run(stop.clone()));
    (stop, task, handle, c)
}

async fn stop_wal(started: Started) {
    started.0.cancel();
    started.1.await.expect("joins").expect("stops cleanly");
}

fn sent_lines(got: &Arc<Mutex<Received>>) -> Vec<String> {
    let g = got.lock().unwrap_or_else(|e| e.into_inner());
    g.requests.iter().flat_map(|(_, streams)| streams.iter().flat_map(|s| s.entries.iter().map(|e| e.line.clone()))).collect()
}

fn set_down(got: &Arc<Mutex<Received>>, down: bool) {
    got.lock().unwrap_or_else(|e| e.into_inner()).down = down;
}

fn attempts(got: &Arc<Mutex<Received>>) -> usize {
    got.lock().map(|g| g.attempts).unwrap_or(0)
}

fn wal_segments(ctx: &Context) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(wal::dir(ctx))
        .expect("wal dir")
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .collect();
    names.sort();
    names
}

fn saved_progress(ctx: &Context, endpoint: &str) -> Option<prom::wal::Position> {
    prom::wal::Progress::new(wal::dir(ctx), endpoint).load().ok().flatten()
}

fn metric(ctx: &Context, name: &str) -> Option<f64> {
    let metrics = ctx.registry().render();
    metrics.lines().filter(|l| l.starts_with(name)).filter_map(|l| l.rsplit(' ').next()).filter_map(|v| v.parse::<f64>().ok()).reduce(|a, b| a + b)
}

async fn eventually_within(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let until = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < until {
        if ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let path = e.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(e.file_name()));
        } else {
            std::fs::copy(&path, to.join(e.file_name())).expect("copy");
        }
    }
}

fn numbered(job: &str, from: i64, n: i64) -> Vec<Entry> {
    (from..from + n).map(|i| entry(&[("job", job)], i, &format!("line {i}"))).collect()
}

fn line_names(from: i64, n: i64) -> Vec<String> {
    (from..from + n).map(|i| format!("line {i}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_entries_survive_a_restart_with_the_endpoint_down_then_arrive_exactly_once() {
    let (url, got) = receiver(&[]).await;
    set_down(&got, true);
    let ctx = wal_context("wal-restart");
    let body = wal_config(&[("ep", &url)], "", "");
    let run = start_wal(ctx.clone(), &body).await;
    for i in 0..5 {
        run.2.send(numbered("a", i, 1)).await.expect("sent");
        // Acknowledged means written: the line is in the segment when the send returns.
        let segment = std::fs::read(wal::dir(&ctx).join("00000000")).expect("segment");
        let needle = format!("line {i}");
        assert!(segment.windows(needle.len()).any(|w| w == needle.as_bytes()), "line {i} is in the WAL");
    }
    eventually("attempts against the endpoint that is down", || attempts(&got) >= 2).await;
    stop_wal(run).await;
    assert_eq!(sent_lines(&got), Vec::<String>::new());
    assert_eq!(metric(&ctx, "loki_write_dropped_entries_total"), None, "what stays in the WAL is not dropped");

    set_down(&got, false);
    let ctx = restarted(&ctx);
    let run = start_wal(ctx.clone(), &body).await;
    eventually("the five lines", || sent_lines(&got).len() >= 5).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop_wal(run).await;
    assert_eq!(sent_lines(&got), line_names(0, 5), "each line once, in order");
    assert_eq!(metric(&ctx, "loki_write_sent_entries_total"), Some(5.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_a_killed_process_loses_nothing_and_resends_only_what_was_not_finished() {
    let (url, got) = receiver(&[]).await;
    let ctx = wal_context("wal-kill");
    let body = wal_config(&[("ep", &url)], "", "");
    let run = start_wal(ctx.clone(), &body).await;
    run.2.send(numbered("a", 0, 2)).await.expect("sent");
    eventually("the first two lines", || sent_lines(&got).len() == 2).await;
    let log = run.3.log.lock().unwrap_or_else(|e| e.into_inner()).clone().expect("the WAL is open");
    eventually("the progress saved at the end of the log", || saved_progress(&ctx, "ep") == Some(log.position())).await;
    set_down(&got, true);
    run.2.send(numbered("a", 2, 2)).await.expect("sent");
    let tried = attempts(&got);
    eventually("the next batch being retried", || attempts(&got) >= tried + 2).await;
    // What `kill -9` leaves: the files as they are now (appends and saves are single writes
    // and renames, so the page cache holds them whole).
    let killed = wal_context("wal-kill-after");
    copy_dir(ctx.data_path(), killed.data_path());
    stop_wal(run).await;

    let got_before = sent_lines(&got);
    set_down(&got, false);
    let run = start_wal(killed.clone(), &body).await;
    eventually("the unfinished lines", || sent_lines(&got).len() >= got_before.len() + 2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop_wal(run).await;
    assert_eq!(sent_lines(&got), line_names(0, 4), "the first batch was finished before the kill: not sent again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_segments_are_removed_once_every_endpoint_has_passed_them() {
    let (fast_url, fast) = receiver(&[]).await;
    let (slow_url, slow) = receiver(&[]).await;
    set_down(&slow, true);
    let ctx = wal_context("wal-segments");
    let body = wal_config(&[("fast", &fast_url), ("slow", &slow_url)], "", "    max_segment_age = \"1s\"");
    // Two runs: two segments (each start writes a new one).
    let run = start_wal(ctx.clone(), &body).await;
    run.2.send(numbered("a", 0, 1)).await.expect("sent");
    eventually("the fast endpoint's line", || sent_lines(&fast).len() == 1).await;
    stop_wal(run).await;
    let ctx = restarted(&ctx);
    let run = start_wal(ctx.clone(), &body).await;
    run.2.send(numbered("a", 1, 1)).await.expect("sent");
    eventually("the fast endpoint's second line", || sent_lines(&fast).len() == 2).await;
    // Older than max_segment_age, passed by the fast endpoint, not by the slow one: kept.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(wal_segments(&ctx), ["00000000", "00000001"]);
    assert_eq!(metric(&ctx, "loki_write_wal_writer_reclaimed_space"), Some(0.0));

    set_down(&slow, false);
    eventually("the slow endpoint's lines", || sent_lines(&slow).len() == 2).await;
    // Both passed: the closed segment goes, and the quiet one being written is closed and goes.
    eventually_within("the old segments removed", 5, || wal_segments(&ctx) == ["00000002"]).await;
    // The metrics are set just after the files go.
    eventually("the reclaim metrics", || metric(&ctx, "loki_write_wal_writer_last_reclaimed_segment") == Some(1.0)).await;
    assert!(metric(&ctx, "loki_write_wal_writer_reclaimed_space").is_some_and(|b| b > 0.0));
    run.2.send(numbered("a", 2, 1)).await.expect("sent");
    eventually("both endpoints' third line", || sent_lines(&fast).len() == 3 && sent_lines(&slow).len() == 3).await;
    stop_wal(run).await;
    assert_eq!(sent_lines(&fast), line_names(0, 3));
    assert_eq!(sent_lines(&slow), line_names(0, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_a_truncated_final_record_is_skipped_with_a_warning() {
    let (url, got) = receiver(&[]).await;
    set_down(&got, true);
    let ctx = wal_context("wal-torn");
    let body = wal_config(&[("ep", &url)], "", "");
    let run = start_wal(ctx.clone(), &body).await;
    run.2.send(numbered("a", 0, 1)).await.expect("sent");
    run.2.send(numbered("a", 1, 1)).await.expect("sent");
    stop_wal(run).await;
    // A crash in the middle of the last write: its record is cut short.
    let segment = wal::dir(&ctx).join("00000000");
    let len = std::fs::metadata(&segment).expect("segment").len();
    std::fs::OpenOptions::new().write(true).open(&segment).expect("open").set_len(len - 3).expect("truncate");

    set_down(&got, false);
    let ctx = restarted(&ctx);
    let run = start_wal(ctx.clone(), &body).await;
    eventually("the line before the torn record", || !sent_lines(&got).is_empty()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    run.2.send(numbered("a", 2, 1)).await.expect("sent");
    eventually("a line written after the restart", || sent_lines(&got).len() == 2).await;
    stop_wal(run).await;
    assert_eq!(sent_lines(&got), ["line 0", "line 2"]);
    assert_eq!(metric(&ctx, "prometheus_tsdb_wal_corruptions_total"), Some(1.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_two_endpoints_at_different_speeds_each_get_everything_once() {
    let (fast_url, fast) = receiver(&[]).await;
    let (slow_url, slow) = receiver(&[]).await;
    slow.lock().unwrap_or_else(|e| e.into_inner()).delay = Duration::from_millis(100);
    let ctx = wal_context("wal-speeds");
    // Small batches: one or two lines each, so the slow endpoint needs many requests.
    let body = wal_config(&[("fast", &fast_url), ("slow", &slow_url)], "    batch_size = \"12B\"", "");
    let run = start_wal(ctx.clone(), &body).await;
    for i in 0..10 {
        run.2.send(numbered("a", 3 * i, 3)).await.expect("sent");
    }
    // The producer was not held back by the slow endpoint: its sends are in the WAL.
    assert!(sent_lines(&slow).len() < 30, "the slow endpoint is still behind");
    eventually_within("the fast endpoint's lines", 10, || sent_lines(&fast).len() >= 30).await;
    eventually_within("the slow endpoint's lines", 20, || sent_lines(&slow).len() >= 30).await;
    let log = run.3.log.lock().unwrap_or_else(|e| e.into_inner()).clone().expect("the WAL is open");
    let end = log.position();
    eventually("both progress files at the end of the log", || saved_progress(&ctx, "fast") == Some(end) && saved_progress(&ctx, "slow") == Some(end)).await;
    stop_wal(run).await;
    assert_eq!(sent_lines(&fast), line_names(0, 30));
    assert_eq!(sent_lines(&slow), line_names(0, 30));
}

const KILL_ENV: &str = "ALLOY_LOKI_WAL_TEST_KILL_ID";
const KILL_URL_ENV: &str = "ALLOY_LOKI_WAL_TEST_KILL_URL";

/// Run as a child process (the test binary itself): `loki.write` with the WAL, sent one
/// numbered line at a time, each acknowledged on stdout once its send returned, until killed.
async fn kill_child(id: &str, url: &str) {
    use std::io::Write as _;
    let run = start_wal(detached_context(id), &wal_config(&[("ep", url)], "", "")).await;
    let out = std::io::stdout();
    for n in 0..100_000 {
        run.2.send(numbered("a", n, 1)).await.expect("sent");
        let mut out = out.lock();
        writeln!(out, "ack {n}").expect("stdout");
        out.flush().expect("stdout");
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_kill9_loses_no_acknowledged_entry() {
    if let (Ok(id), Ok(url)) = (std::env::var(KILL_ENV), std::env::var(KILL_URL_ENV)) {
        return kill_child(&id, &url).await;
    }
    use std::io::BufRead as _;
    let (url, got) = receiver(&[]).await;
    set_down(&got, true);
    let ctx = wal_context("wal-kill9");
    let exe = std::env::current_exe().expect("test binary");
    let mut child = std::process::Command::new(&exe)
        .args(["loki::write::tests::wal_kill9_loses_no_acknowledged_entry", "--exact", "--nocapture", "--test-threads", "1"])
        .env(KILL_ENV, ctx.id())
        .env(KILL_URL_ENV, &url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("piped");
    let acked = tokio::task::spawn_blocking(move || {
        let mut acked = None;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line.strip_prefix("ack ").and_then(|n| n.parse::<i64>().ok()) {
                acked = Some(n);
                if n >= 300 {
                    child.kill().expect("SIGKILL");
                    break;
                }
            }
        }
        let _ = child.wait();
        acked
    })
    .await
    .expect("joins")
    .expect("acknowledged lines");
    assert!(acked >= 300, "the child was killed while sending");

    set_down(&got, false);
    let run = start_wal(restarted(&ctx), &wal_config(&[("ep", &url)], "", "")).await;
    eventually_within("every acknowledged line", 10, || sent_lines(&got).len() as i64 > acked).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop_wal(run).await;
    let lines = sent_lines(&got);
    // Lines appended after the last acknowledgement the parent read may be there too.
    assert_eq!(lines[..=acked as usize], line_names(0, acked + 1), "each acknowledged line once, in order");
    assert_eq!(lines[acked as usize + 1..], line_names(acked + 1, lines.len() as i64 - acked - 1), "then what the child wrote before dying");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_new_arguments_restart_the_readers_where_they_left_off() {
    let (url, got) = receiver(&[]).await;
    let ctx = wal_context("wal-update");
    let run = start_wal(ctx.clone(), &wal_config(&[("ep", &url)], "", "")).await;
    run.2.send(numbered("a", 0, 2)).await.expect("sent");
    eventually("the first lines", || sent_lines(&got).len() == 2).await;
    set_down(&got, true);
    run.2.send(numbered("a", 2, 2)).await.expect("sent");
    let tried = attempts(&got);
    eventually("the next batch being retried", || attempts(&got) >= tried + 2).await;
    // New arguments: the batch being retried is left to the WAL, and the new reader starts
    // where the old one's sender had got to.
    let v = evaluated(&format!("loki.write \"w\" {{\n{}\n}}\n", wal_config(&[("ep", &url)], "    tenant_id = \"t2\"", ""))).expect("evaluates");
    run.3.update(v).expect("updates");
    set_down(&got, false);
    run.2.send(numbered("a", 4, 1)).await.expect("sent");
    eventually("the lines after the update", || sent_lines(&got).len() >= 5).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop_wal(run).await;
    assert_eq!(sent_lines(&got), line_names(0, 5));
    let tenants: Vec<String> = got.lock().map(|g| g.requests.iter().map(|(t, _)| t.clone()).collect()).unwrap_or_default();
    assert_eq!(tenants.last().map(String::as_str), Some("t2"), "sent with the new arguments: {tenants:?}");
    assert_eq!(metric(&ctx, "loki_write_dropped_entries_total"), None);
}
