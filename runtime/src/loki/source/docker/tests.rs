//! `loki.source.docker` against the stand-in daemon (`docker_engine::fake`).

use loki::Entry;
use prom::relabel::{Action, RuleConfig};
use serde_json::json;
use tokio::sync::mpsc;

use super::*;
use crate::docker_engine::fake::{Fake, STDERR, STDOUT};
use crate::loki::receiver::{channel, Entries};

/// 2024-01-01T00:00:00Z in nanoseconds.
const T0: i64 = 1_704_067_200_000_000_000;

fn context(test: &str) -> Context {
    let id = format!("loki.source.docker.{test}-{}", std::process::id());
    let ctx = crate::component::detached_context(&id);
    let _ = std::fs::remove_dir_all(ctx.data_path());
    ctx
}

fn rule(source: &str, target: &str) -> Rule {
    Rule::new(RuleConfig { source_labels: vec![source.into()], target_label: target.into(), action: Action::Replace, ..RuleConfig::default() }).expect("rule")
}

/// `stream` and `container` labels from the meta labels, as a user's rules would.
fn rules() -> Vec<Rule> {
    vec![rule("__meta_docker_container_log_stream", "stream"), rule("__meta_docker_container_name", "container")]
}

fn container(fake: &Fake, id: &str, name: &str, tty: bool) {
    fake.add_container(json!({"Id": id, "Names": [format!("/{name}")], "Labels": {}, "HostConfig": {"NetworkMode": "bridge"}}), tty);
}

fn targets(ids: &[(&str, &str)]) -> String {
    let items: Vec<String> =
        ids.iter().map(|(id, name)| format!("{{\"__meta_docker_container_id\" = {id:?}, \"__meta_docker_container_name\" = \"/{name}\"}}")).collect();
    format!("[{}]", items.join(", "))
}

fn args(host: &str, targets: &str, rules: Vec<Rule>) -> (Value, mpsc::Receiver<Entries>) {
    let text = format!("loki.source.docker \"t\" {{\n  host = {host:?}\n  forward_to = []\n  targets = {targets}\n  labels = {{job = \"docker\"}}\n}}\n");
    let mut v = crate::component::args::evaluated(&text).expect("evaluates");
    let (handle, out) = channel("test.out", 64);
    if let Value::Object(o) = &mut v {
        let o = Arc::make_mut(o);
        o.insert("forward_to", Value::array(vec![handle.to_value()]));
        o.insert("relabel_rules", RulesHandle(Arc::new(rules)).to_value());
    }
    (v, out)
}

type Started = (Arc<DockerSource>, CancellationToken, tokio::task::JoinHandle<Result<(), ComponentError>>, mpsc::Receiver<Entries>);

fn start(ctx: Context, host: &str, targets: &str) -> Started {
    let (v, out) = args(host, targets, rules());
    let c = DockerSource::new(ctx, &v, Duration::from_millis(50)).expect("builds");
    let stop = CancellationToken::new();
    let task = tokio::spawn(c.clone().run(stop.clone()));
    (c, stop, task, out)
}

async fn entries(out: &mut mpsc::Receiver<Entries>, n: usize) -> Vec<Entry> {
    let mut got = Vec::new();
    while got.len() < n {
        match tokio::time::timeout(Duration::from_secs(5), out.recv()).await {
            Ok(Some(batch)) => got.extend(batch),
            _ => break,
        }
    }
    got
}

fn lines(got: &[Entry]) -> Vec<&str> {
    got.iter().map(|e| e.line.as_str()).collect()
}

async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..250 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A host that keeps the component's last health.
#[derive(Default)]
struct Recorded(Mutex<Option<crate::component::Health>>);

impl crate::component::Host for Recorded {
    fn set_exports(&self, _: Value) {}

    fn set_health(&self, health: crate::component::Health) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(health);
    }
}

impl Recorded {
    fn health(&self) -> Option<(HealthState, String)> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|h| (h.state, h.message.clone()))
    }
}

fn recorded(id: &str) -> (Context, Arc<Recorded>) {
    let host = Arc::new(Recorded::default());
    let inner = crate::component::ContextInner {
        id: id.to_string(),
        local_id: id.to_string(),
        component_path: "/".to_string(),
        data_path: std::env::temp_dir().join(id),
        registry: crate::metrics::Registry::new(),
        host: host.clone(),
        live: crate::livedebugging::Hub::new(),
    };
    let ctx = Context { inner: Arc::new(inner) };
    let _ = std::fs::remove_dir_all(ctx.data_path());
    (ctx, host)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_arrive_with_labels_timestamps_and_streams() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = Fake::start(dir.path());
    container(&fake, "app1", "app", false);
    container(&fake, "tty1", "console", true);
    fake.log("app1", STDOUT, T0 + 1, "hello from stdout");
    fake.log("app1", STDERR, T0 + 2, "oops on stderr");
    fake.log("tty1", STDOUT, T0 + 3, "typed on a tty");
    let (c, stop, task, mut out) = start(context("labels"), &fake.host(), &targets(&[("app1", "app"), ("tty1", "console")]));

    let mut got = entries(&mut out, 3).await;
    got.sort_by_key(|e| e.timestamp_ns);
    assert_eq!(lines(&got), ["hello from stdout", "oops on stderr", "typed on a tty"]);
    assert_eq!(got.iter().map(|e| e.timestamp_ns - T0).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(got[0].labels, Labels::new([("job", "docker"), ("stream", "stdout"), ("container", "/app")]));
    assert_eq!(got[1].labels, Labels::new([("job", "docker"), ("stream", "stderr"), ("container", "/app")]));
    assert_eq!(got[2].labels, Labels::new([("job", "docker"), ("stream", "stdout"), ("container", "/console")]));

    // Followed: a line logged now arrives too.
    fake.log("app1", STDOUT, T0 + 4, "later");
    assert_eq!(lines(&entries(&mut out, 1).await), ["later"]);
    let requested = fake.requests().into_iter().find(|r| r.starts_with("/containers/app1/logs")).expect("logs requested");
    assert_eq!(requested, "/containers/app1/logs?stdout=1&stderr=1&follow=1&timestamps=1");
    until("four entries counted", || c.entries.get() == 4).await;
    stop.cancel();
    task.await.expect("joins").expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_from_the_positions_without_duplicates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = Fake::start(dir.path());
    container(&fake, "app1", "app", false);
    fake.log("app1", STDOUT, T0 + 100, "one");
    fake.log("app1", STDOUT, T0 + 200, "two");
    let ctx = context("resume");
    let (_c, stop, task, mut out) = start(ctx.clone(), &fake.host(), &targets(&[("app1", "app")]));
    assert_eq!(lines(&entries(&mut out, 2).await), ["one", "two"]);
    stop.cancel();
    task.await.expect("joins").expect("stops");
    let saved = std::fs::read_to_string(ctx.data_path().join("positions.yml")).expect("positions saved");
    let labels = r#"{__meta_docker_container_id="app1", __meta_docker_container_name="/app", job="docker"}"#;
    assert_eq!(saved, format!("positions:\n  ? path: 'cursor-app1'\n    labels: '{labels}'\n  : \"1704067200.000000200\"\n"));

    // Logged while stopped, within the same second as the last line read.
    fake.log("app1", STDOUT, T0 + 300, "three");
    let (_c, stop, task, mut out) = start(ctx, &fake.host(), &targets(&[("app1", "app")]));
    assert_eq!(lines(&entries(&mut out, 1).await), ["three"]);
    assert!(tokio::time::timeout(Duration::from_millis(300), out.recv()).await.is_err(), "nothing sent twice");
    let resumed = fake.requests().into_iter().rfind(|r| r.starts_with("/containers/app1/logs")).expect("logs requested");
    assert!(resumed.ends_with("&since=1704067200.000000200"), "{resumed}");
    stop.cancel();
    task.await.expect("joins").expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_going_away_is_reported_and_following_resumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = Fake::start(dir.path());
    container(&fake, "app1", "app", false);
    fake.log("app1", STDOUT, T0 + 1, "before");
    let (ctx, health) = recorded(&format!("loki.source.docker.away-{}", std::process::id()));
    let (v, mut out) = args(&fake.host(), &targets(&[("app1", "app")]), rules());
    let c = DockerSource::new(ctx, &v, Duration::from_millis(50)).expect("builds");
    let stop = CancellationToken::new();
    let task = tokio::spawn(c.clone().run(stop.clone()));
    assert_eq!(lines(&entries(&mut out, 1).await), ["before"]);

    fake.stop();
    // First the stream breaks, then the daemon cannot be reached.
    let expected = format!("1 of 1 containers failing; container app1: cannot connect to the Docker daemon at {} (is the docker daemon running?)", fake.host());
    until("unhealthy", || health.health().is_some_and(|h| h.0 == HealthState::Unhealthy && h.1.starts_with(&expected))).await;

    fake.log("app1", STDOUT, T0 + 2, "while away");
    fake.resume();
    assert_eq!(lines(&entries(&mut out, 1).await), ["while away"]);
    until("healthy", || health.health().is_some_and(|h| h.0 == HealthState::Healthy)).await;
    stop.cancel();
    task.await.expect("joins").expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_counted_and_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = Fake::start(dir.path());
    container(&fake, "app1", "app", false);
    fake.log("app1", STDOUT, T0 + 1, "good");
    // A line without a timestamp (a frame the daemon would not send).
    let mut frame = vec![STDOUT, 0, 0, 0, 0, 0, 0, 9];
    frame.extend_from_slice(b"no stamp\n");
    fake.raw("app1", frame);
    fake.log_bytes("app1", STDOUT, T0 + 2, b"caf\xe9 latin-1\n".to_vec());
    // A frame cut short by the end of the stream (the container stops).
    fake.raw("app1", vec![STDERR, 0, 0, 0, 0, 0, 0, 50, b'x']);
    fake.set_running("app1", false, "2024-01-01T00:01:00Z");
    // A header announcing 4 GiB: the stream is corrupt.
    container(&fake, "app2", "other", false);
    fake.log("app2", STDOUT, T0 + 3, "fine");
    fake.raw("app2", vec![STDOUT, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);

    let (c, stop, task, mut out) = start(context("bad"), &fake.host(), &targets(&[("app1", "app"), ("app2", "other")]));
    let mut got = entries(&mut out, 3).await;
    got.sort_by_key(|e| e.timestamp_ns);
    assert_eq!(lines(&got), ["good", "caf\u{fffd} latin-1", "fine"]);
    let status = |id: &str| c.tailers.lock().unwrap_or_else(|e| e.into_inner()).values().find(|t| t.id == id).map(|t| t.status()).unwrap_or_default();
    until("the corrupt stream reported", || status("app2").last_error.contains("over the 1049600-byte limit: the log stream is corrupt")).await;
    // no stamp, cut frame, oversized frame.
    until("three parsing errors", || c.errors.get() >= 3).await;
    assert!(tokio::time::timeout(Duration::from_millis(300), out.recv()).await.is_err(), "nothing sent twice");
    stop.cancel();
    task.await.expect("joins").expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_come_and_go_and_duplicates_are_followed_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = Fake::start(dir.path());
    container(&fake, "a", "a", false);
    container(&fake, "b", "b", false);
    fake.log("a", STDOUT, T0 + 1, "a1");
    fake.log("b", STDOUT, T0 + 2, "b1");
    let dup = "[{\"__meta_docker_container_id\" = \"a\", \"__meta_docker_port_private\" = \"80\"}, {\"__meta_docker_container_id\" = \"a\", \"__meta_docker_port_private\" = \"81\"}]";
    let (c, stop, task, mut out) = start(context("targets"), &fake.host(), dup);
    assert_eq!(lines(&entries(&mut out, 1).await), ["a1"]);
    let info = |c: &DockerSource| eval::render::render(&c.debug_info().expect("debug info"));
    until("one follower", || info(&c).matches("is_running").count() == 1).await;

    // The new arguments name another receiver too: entries go there.
    let (v, mut out2) = args(&fake.host(), &targets(&[("b", "b")]), rules());
    c.update(v).expect("updates");
    assert_eq!(lines(&entries(&mut out2, 1).await), ["b1"]);
    until("a forgotten", || {
        let p = c.positions.lock().unwrap_or_else(|e| e.into_inner());
        !p.offsets.keys().any(|k| k.0 == "cursor-a") && p.offsets.keys().any(|k| k.0 == "cursor-b")
    })
    .await;
    until("b followed alone", || info(&c).matches("is_running").count() == 1 && info(&c).contains("\"b\"")).await;
    drop(out);
    stop.cancel();
    task.await.expect("joins").expect("stops");
}

#[test]
fn fingerprints_are_prometheus_ones() {
    // model.LabelSet{}.Fingerprint() and model.LabelSet{"a": "b"}.Fingerprint() in Go.
    assert_eq!(fingerprint(&BTreeMap::new()), 0xcbf2_9ce4_8422_2325);
    let one: BTreeMap<String, String> = [("a".to_string(), "b".to_string())].into();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in [b'a', 0xff, b'b', 0xff] {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    assert_eq!(fingerprint(&one), h);
}

#[test]
fn cursors() {
    assert_eq!(Cursor::parse("1704067200"), Some(Cursor(T0)));
    assert_eq!(Cursor::parse("1704067200.5"), Some(Cursor(T0 + 500_000_000)));
    assert_eq!(Cursor(T0 + 5).render(), "1704067200.000000005");
    assert_eq!(Cursor::parse("x"), None);
    assert_eq!(Cursor::parse("1.1234567891"), None);
}

#[test]
fn settings_refused_or_wrong() {
    let errors = |body: &str| {
        let v = crate::component::args::evaluated(&format!("loki.source.docker \"t\" {{\n  forward_to = []\n  targets = []\n{body}\n}}\n")).expect("evaluates");
        crate::component::args::check::<Args>(NAME, &v).iter().map(crate::component::args::describe).collect::<Vec<_>>()
    };
    assert!(errors("  host = \"unix:///var/run/docker.sock\"").is_empty());
    assert_eq!(
        errors("  host = \"npipe:////./pipe/docker_engine\""),
        ["host: unable to parse docker host \"npipe:////./pipe/docker_engine\": protocol \"npipe\" is not supported (expected unix, tcp, http or https)"]
    );
    assert_eq!(errors("  host = \"tcp://127.0.0.1:2375\"\n  refresh_interval = \"0s\""), ["refresh_interval: refresh_interval must be positive, got \"0s\""]);
    assert_eq!(
        errors("  host = \"tcp://127.0.0.1:2375\"\n  http_client_config {\n    oauth2 {\n      client_id = \"x\"\n    }\n  }"),
        ["http_client_config.oauth2: block \"oauth2\" is not supported by this runtime yet"]
    );
}
