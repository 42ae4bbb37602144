//! The remote-write data path against a fake receiver whose answers each test scripts:
//! what arrives, retries, drops, and resuming from the WAL after a restart.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use prom::labels::Labels;
use prom::sample::{Batch, Sample};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use super::args::Args;
use super::{RemoteWrite, NAME};
use crate::component::args::{decode_checked, evaluated};
use crate::component::Component;
use crate::prometheus::receiver::Appendable;
use crate::prometheus::series_store;

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Request {
    headers: String,
    batch: Batch,
    status: u16,
}

/// A remote-write receiver answering the scripted statuses in turn (the last one repeats).
struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<Request>>>,
    script: Arc<Mutex<Vec<u16>>>,
}

async fn receiver(script: Vec<u16>) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(Mutex::new(script));
    let (g, sc) = (got.clone(), script.clone());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let (g, sc) = (g.clone(), sc.clone());
            tokio::spawn(async move {
                loop {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 65536];
                    let head_end = loop {
                        let n = s.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                    };
                    let headers = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
                    let len: usize = headers.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
                    while buf.len() < head_end + len {
                        let n = s.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let body = prom::remote::decompress(&buf[head_end..head_end + len], 1 << 30).unwrap_or_default();
                    let batch = prom::remote::proto::decode_v1(&body).unwrap_or_default();
                    let status = {
                        let mut sc = sc.lock().unwrap_or_else(|e| e.into_inner());
                        if sc.len() > 1 {
                            sc.remove(0)
                        } else {
                            sc.first().copied().unwrap_or(204)
                        }
                    };
                    g.lock().unwrap_or_else(|e| e.into_inner()).push(Request { headers, batch, status });
                    let resp = format!("HTTP/1.1 {status} X\r\nContent-Length: 4\r\n\r\nnope");
                    if s.write_all(resp.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Receiver { port, got, script }
}

impl Receiver {
    fn requests(&self) -> Vec<Request> {
        self.got.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn samples(&self) -> Vec<(String, f64)> {
        self.requests().iter().flat_map(|r| r.batch.samples.iter().map(|s| (s.labels.to_string(), s.v)).collect::<Vec<_>>()).collect()
    }
}

fn component(id: &str, port: u16, extra: &str) -> Arc<RemoteWrite> {
    let src = format!(
        "prometheus.remote_write \"t\" {{\n  external_labels = {{ cluster = \"c1\" }}\n  endpoint {{\n    url = \"http://127.0.0.1:{port}/api/v1/write\"\n    queue_config {{\n      batch_send_deadline = \"50ms\"\n      min_backoff = \"10ms\"\n      max_backoff = \"20ms\"\n    }}\n{extra}\n  }}\n}}\n"
    );
    let args: Args = decode_checked(NAME, &evaluated(&src).expect("evaluates")).expect("valid");
    RemoteWrite::new(crate::component::detached_context(id), args).expect("builds")
}

fn batch(name: &str, v: f64) -> Batch {
    let (series, labels) = series_store().intern(Labels::new([("__name__", name), ("job", "j")]));
    Batch { samples: vec![Sample { series, labels, t: 1_700_000_000_000 + v as i64, v }], ..Batch::default() }
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..200 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

fn fresh(id: &str) -> String {
    let id = format!("{id}-{}", std::process::id());
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(&id));
    id
}

#[tokio::test]
async fn samples_arrive_with_external_labels_and_the_protocol_headers() {
    let r = receiver(vec![204]).await;
    let rw = component(&fresh("rw-arrive"), r.port, "");
    let stop = CancellationToken::new();
    let task = tokio::spawn(rw.clone().run(stop.clone()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    rw.writer.append(&batch("up", 1.0)).expect("appends");
    wait_until("the sample", || !r.samples().is_empty()).await;
    assert_eq!(r.samples(), [(r#"{__name__="up", cluster="c1", job="j"}"#.to_string(), 1.0)]);
    let h = &r.requests()[0].headers;
    for want in ["content-encoding: snappy", "content-type: application/x-protobuf", "x-prometheus-remote-write-version: 0.1.0", "user-agent: alloy/v"] {
        assert!(h.contains(want), "{want} in {h}");
    }
    stop.cancel();
    let _ = task.await;
}

#[tokio::test]
async fn a_400_drops_the_batch_and_a_500_is_retried_until_it_succeeds() {
    let r = receiver(vec![400, 204]).await;
    let rw = component(&fresh("rw-400"), r.port, "");
    let stop = CancellationToken::new();
    let task = tokio::spawn(rw.clone().run(stop.clone()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    rw.writer.append(&batch("dropped", 1.0)).expect("appends");
    wait_until("the refused request", || r.requests().len() == 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(r.requests().len(), 1, "a 400 is not retried");
    let failed = rw.ctx.registry().render();
    assert!(failed.contains("prometheus_remote_storage_samples_failed_total{component_id=\"rw-400"), "{failed}");

    *r.script.lock().unwrap_or_else(|e| e.into_inner()) = vec![500, 500, 429, 204];
    rw.writer.append(&batch("retried", 2.0)).expect("appends");
    wait_until("the retried sample to be accepted", || r.requests().len() == 5).await;
    let reqs = r.requests();
    assert!(reqs[1..].iter().all(|q| q.batch.samples[0].labels.metric_name() == Some("retried")));
    assert!(!reqs[1].headers.contains("retry-attempt"));
    assert!(reqs[2].headers.contains("retry-attempt: 1") && reqs[4].headers.contains("retry-attempt: 3"), "{:?}", reqs[4].headers);
    stop.cancel();
    let _ = task.await;
}

#[tokio::test]
async fn what_an_outage_holds_back_is_sent_after_a_restart() {
    let r = receiver(vec![503]).await;
    let id = fresh("rw-restart");
    let rw = component(&id, r.port, "");
    let stop = CancellationToken::new();
    let task = tokio::spawn(rw.clone().run(stop.clone()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    for i in 0..5 {
        rw.writer.append(&batch("during_outage", f64::from(i))).expect("appends");
    }
    wait_until("attempts during the outage", || r.requests().len() >= 2).await;
    stop.cancel();
    let _ = task.await;
    drop(rw);

    *r.script.lock().unwrap_or_else(|e| e.into_inner()) = vec![204];
    let rw = component(&id, r.port, "");
    let stop = CancellationToken::new();
    let task = tokio::spawn(rw.clone().run(stop.clone()));
    wait_until("the held-back samples", || accepted(&r) == [0, 1, 2, 3, 4]).await;
    stop.cancel();
    let _ = task.await;
}

/// The distinct values of the samples in requests the receiver accepted.
fn accepted(r: &Receiver) -> Vec<i64> {
    let mut values: Vec<i64> =
        r.requests().iter().filter(|q| q.status == 204).flat_map(|q| q.batch.samples.iter().map(|s| s.v as i64).collect::<Vec<_>>()).collect();
    values.sort_unstable();
    values.dedup();
    values
}

#[tokio::test]
async fn a_corrupt_wal_segment_is_skipped_with_a_warning_and_the_component_starts() {
    let id = fresh("rw-corrupt");
    let wal = std::env::temp_dir().join(&id).join("wal");
    std::fs::create_dir_all(&wal).expect("wal dir");
    std::fs::write(wal.join("00000000"), b"\x07garbage that is no record at all").expect("segment");
    let r = receiver(vec![204]).await;
    let rw = component(&id, r.port, "");
    let metrics = rw.ctx.registry().render();
    let corrupt = metrics.lines().find(|l| l.starts_with("prometheus_tsdb_wal_corruptions_total{")).unwrap_or_default().to_string();
    assert!(corrupt.ends_with(" 1"), "{corrupt}");
    let stop = CancellationToken::new();
    let task = tokio::spawn(rw.clone().run(stop.clone()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    rw.writer.append(&batch("after_repair", 1.0)).expect("appends");
    wait_until("the sample written after the repair", || !r.samples().is_empty()).await;
    stop.cancel();
    let _ = task.await;
}
