//! The scrape loop against a local HTTP server whose answers each test sets.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use prom::labels::Labels;
use prom::sample::{is_stale, Batch};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::scrape_loop::{Loop, Status};
use super::target::{populate, TargetDefaults};
use super::Settings;
use crate::http_client::HttpClientConfig;
use crate::prometheus::receiver::{Collect, Fanout};

/// What the server answers: status, content type, extra headers, body, delay.
#[derive(Clone)]
struct Answer {
    status: u16,
    content_type: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delay: Duration,
}

fn text(body: &str) -> Answer {
    Answer { status: 200, content_type: "text/plain; version=0.0.4".into(), headers: vec![], body: body.as_bytes().to_vec(), delay: Duration::ZERO }
}

/// Serves the current answer; returns the port and a handle to change it. Requests'
/// header blocks are recorded.
async fn server(answer: Answer) -> (u16, Arc<Mutex<Answer>>, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let current = Arc::new(Mutex::new(answer));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (c, r) = (current.clone(), requests.clone());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let (c, r) = (c.clone(), r.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = s.read(&mut buf).await.unwrap_or(0);
                r.lock().unwrap_or_else(|e| e.into_inner()).push(String::from_utf8_lossy(&buf[..n]).to_string());
                let a = c.lock().unwrap_or_else(|e| e.into_inner()).clone();
                tokio::time::sleep(a.delay).await;
                let mut head = format!("HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n", a.status, a.body.len());
                if !a.content_type.is_empty() {
                    head.push_str(&format!("Content-Type: {}\r\n", a.content_type));
                }
                for (k, v) in &a.headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(&a.body).await;
            });
        }
    });
    (port, current, requests)
}

fn settings() -> Settings {
    Settings {
        accept: "text/plain;version=0.0.4;q=0.3,*/*;q=0.2".into(),
        fallback: None,
        honor_labels: false,
        honor_timestamps: true,
        track_timestamps_staleness: false,
        scrape_native_histograms: false,
        enable_compression: true,
        body_size_limit: 0,
        sample_limit: 0,
        label_limit: 0,
        label_name_length_limit: 0,
        label_value_length_limit: 0,
        extra_metrics: false,
        legacy_names: true,
        client: HttpClientConfig::default(),
    }
}

fn new_loop(port: u16, s: Settings, extra: &[(&str, &str)]) -> (Loop, Arc<Collect>) {
    let mut t: BTreeMap<String, String> = extra.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    t.insert("__address__".into(), format!("127.0.0.1:{port}"));
    let d = TargetDefaults {
        job: "test".into(),
        interval: Duration::from_secs(60),
        timeout: Duration::from_millis(500),
        metrics_path: "/metrics".into(),
        scheme: "http".into(),
        params: BTreeMap::new(),
        scrape_native_histograms: false,
        scrape_classic_histograms: false,
        convert_classic_histograms_to_nhcb: false,
    };
    let target = populate(&t, &d).expect("target");
    let (collect, handle) = Collect::handle();
    (Loop::new(target, Arc::new(s), Arc::new(Fanout::new(vec![handle]))), collect)
}

async fn scrape(l: &mut Loop, c: &Collect) -> Batch {
    l.scrape_once(&reqwest::Client::new(), SystemTime::now()).await;
    c.take().pop().unwrap_or_default()
}

fn value(b: &Batch, name: &str) -> Option<f64> {
    b.samples.iter().find(|s| s.labels.metric_name() == Some(name)).map(|s| s.v)
}

fn status(l: &Loop) -> Status {
    l.status.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

#[tokio::test]
async fn samples_get_target_labels_and_conflicts_are_kept_as_exported() {
    let (port, _, requests) = server(text("# TYPE a counter\na_total{job=\"mine\",x=\"1\"} 3\nb 2.5 1700000000000\n")).await;
    let (mut l, c) = new_loop(port, settings(), &[("env", "prod")]);
    let b = scrape(&mut l, &c).await;
    let a = b.samples.iter().find(|s| s.labels.metric_name() == Some("a_total")).expect("a");
    assert_eq!(
        a.labels,
        Labels::new([
            ("__name__", "a_total"),
            ("env", "prod"),
            ("exported_job", "mine"),
            ("instance", &*format!("127.0.0.1:{port}")),
            ("job", "test"),
            ("x", "1")
        ])
    );
    assert_eq!(a.v, 3.0);
    let bs = b.samples.iter().find(|s| s.labels.metric_name() == Some("b")).expect("b");
    assert_eq!(bs.t, 1_700_000_000_000, "the exposition's timestamp is honoured");
    assert_eq!(value(&b, "up"), Some(1.0));
    assert_eq!(value(&b, "scrape_samples_scraped"), Some(2.0));
    assert_eq!(value(&b, "scrape_series_added"), Some(2.0));
    assert_eq!(status(&l).health, "up");
    let req = requests.lock().unwrap_or_else(|e| e.into_inner())[0].to_lowercase();
    assert!(req.contains("accept: text/plain;version=0.0.4;q=0.3,*/*;q=0.2"), "{req}");
    assert!(req.contains("x-prometheus-scrape-timeout-seconds: 0.5"), "{req}");
    assert!(req.contains("accept-encoding: gzip"), "{req}");
}

#[tokio::test]
async fn honor_labels_keeps_the_exposed_values() {
    let (port, _, _) = server(text("a{job=\"mine\"} 1\n")).await;
    let mut s = settings();
    s.honor_labels = true;
    let (mut l, c) = new_loop(port, s, &[]);
    let b = scrape(&mut l, &c).await;
    assert_eq!(b.samples[0].labels.get("job"), Some("mine"));
    assert_eq!(b.samples[0].labels.get("exported_job"), None);
}

#[tokio::test]
async fn a_vanished_series_gets_a_stale_marker_and_a_failed_scrape_marks_everything() {
    let (port, answer, _) = server(text("a 1\nb 2\n")).await;
    let (mut l, c) = new_loop(port, settings(), &[]);
    scrape(&mut l, &c).await;
    *answer.lock().unwrap_or_else(|e| e.into_inner()) = text("a 1\n");
    let b = scrape(&mut l, &c).await;
    let stale: Vec<&str> = b.samples.iter().filter(|s| is_stale(s.v)).filter_map(|s| s.labels.metric_name()).collect();
    assert_eq!(stale, ["b"]);
    assert_eq!(value(&b, "scrape_series_added"), Some(0.0));
    answer.lock().unwrap_or_else(|e| e.into_inner()).status = 500;
    let b = scrape(&mut l, &c).await;
    let stale: Vec<&str> = b.samples.iter().filter(|s| is_stale(s.v)).filter_map(|s| s.labels.metric_name()).collect();
    assert_eq!(stale, ["a"]);
    assert_eq!(value(&b, "up"), Some(0.0));
    assert_eq!(status(&l).last_error, "server returned HTTP status 500 Internal Server Error");
}

#[tokio::test]
async fn malformed_exposition_fails_the_scrape_with_the_parser_message() {
    let (port, _, _) = server(text("a{b='c'} 1\n")).await;
    let (mut l, c) = new_loop(port, settings(), &[]);
    let b = scrape(&mut l, &c).await;
    assert_eq!(value(&b, "up"), Some(0.0));
    assert_eq!(b.samples.len(), 5, "only the report series");
    assert!(status(&l).last_error.contains("expected label value"), "{}", status(&l).last_error);
}

#[tokio::test]
async fn limits_and_timeouts_fail_the_scrape() {
    let (port, answer, _) = server(text("a 1\nb 2\nc 3\n")).await;
    let mut s = settings();
    s.sample_limit = 2;
    s.extra_metrics = true;
    let (mut l, c) = new_loop(port, s.clone(), &[]);
    let b = scrape(&mut l, &c).await;
    assert_eq!((value(&b, "up"), status(&l).last_error.as_str()), (Some(0.0), "sample limit exceeded"));
    assert_eq!(value(&b, "scrape_sample_limit"), Some(2.0));

    s.sample_limit = 0;
    s.body_size_limit = 5;
    let (mut l, c) = new_loop(port, s.clone(), &[]);
    let b = scrape(&mut l, &c).await;
    assert_eq!(status(&l).last_error, "body size limit exceeded");
    assert_eq!(value(&b, "scrape_body_size_bytes"), Some(-1.0));

    answer.lock().unwrap_or_else(|e| e.into_inner()).delay = Duration::from_secs(3);
    let (mut l, c) = new_loop(port, settings(), &[]);
    let started = std::time::Instant::now();
    let b = scrape(&mut l, &c).await;
    assert!(started.elapsed() < Duration::from_secs(2), "the timeout (500ms) ends the scrape");
    assert_eq!(value(&b, "up"), Some(0.0));
    assert_eq!(status(&l).last_error, "context deadline exceeded");
}

#[tokio::test]
async fn gzip_bodies_and_a_missing_content_type_with_a_fallback() {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b"z 7\n").unwrap_or_default();
    let body = e.finish().unwrap_or_default();
    let answer = Answer { status: 200, content_type: String::new(), headers: vec![("Content-Encoding".into(), "gzip".into())], body, delay: Duration::ZERO };
    let (port, _, _) = server(answer).await;
    let (mut l, c) = new_loop(port, settings(), &[]);
    scrape(&mut l, &c).await;
    assert!(status(&l).last_error.contains("blank Content-Type"), "{}", status(&l).last_error);
    let mut s = settings();
    s.fallback = prom::exposition::ScrapeProtocol::parse("PrometheusText0.0.4");
    let (mut l, c) = new_loop(port, s, &[]);
    let b = scrape(&mut l, &c).await;
    assert_eq!(value(&b, "z"), Some(7.0));
}

#[tokio::test]
async fn invalid_label_values_and_names_are_refused_under_legacy_names() {
    let (port, _, _) = server(text("# TYPE x gauge\nx{a=\"1\"} 1\n")).await;
    let mut s = settings();
    s.label_value_length_limit = 0;
    s.label_limit = 2;
    let (mut l, c) = new_loop(port, s, &[]);
    let b = scrape(&mut l, &c).await;
    assert_eq!(value(&b, "up"), Some(0.0));
    assert!(status(&l).last_error.starts_with("label_limit exceeded"), "{}", status(&l).last_error);
}
