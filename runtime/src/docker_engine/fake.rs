//! A stand-in Docker daemon for tests: the documented Engine API endpoints the runtime uses,
//! served over a Unix socket by hand-written HTTP/1.1 (one request a connection).
//!
//! * `GET /containers/json` lists running containers (all with `all=1`), honouring the
//!   `label`, `name`, `id` and `status` filters; an unknown filter is a 400;
//! * `GET /networks` lists the networks;
//! * `GET /containers/{id}/json` inspects a container (404 when unknown);
//! * `GET /containers/{id}/logs` streams its log, chunked: multiplexed frames (8-byte header,
//!   each frame cut across several writes) or, for a TTY container, the raw bytes; with
//!   `timestamps`, `since` (inclusive), `stdout`/`stderr` and `follow` (new lines are sent
//!   while the container runs; the stream ends when it stops).
//!
//! A `/v1.NN` version prefix is accepted and ignored. [`Fake::stop`] closes the socket and
//! every open connection (the daemon going away); [`Fake::resume`] brings it back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value as Json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;

/// A piece of a container's log.
#[derive(Clone, Debug)]
enum Piece {
    /// A line as the daemon keeps it: when, which stream, the text (with its newline).
    Line { ts_ns: i64, stream: u8, text: Vec<u8> },
    /// Bytes written to the stream as they are (broken frames), whatever the options.
    Raw(Vec<u8>),
}

#[derive(Clone, Debug)]
struct Container {
    /// `GET /containers/json`'s entry (with `Id`, `Names`, `Labels`).
    summary: Json,
    tty: bool,
    running: bool,
    finished_at: String,
    log: Vec<Piece>,
}

impl Container {
    fn id(&self) -> &str {
        self.summary["Id"].as_str().unwrap_or_default()
    }
}

#[derive(Default)]
struct State {
    containers: Vec<Container>,
    networks: Vec<Json>,
    /// Request targets, in arrival order.
    requests: Vec<String>,
}

struct Shared {
    state: Mutex<State>,
    changed: Notify,
}

/// The stand-in daemon. Dropping it stops it.
pub struct Fake {
    shared: Arc<Shared>,
    path: PathBuf,
    serving: Mutex<Option<CancellationToken>>,
}

impl Fake {
    /// Serves on `dir/docker.sock`.
    pub fn start(dir: &Path) -> Fake {
        let fake = Fake {
            shared: Arc::new(Shared { state: Mutex::new(State::default()), changed: Notify::new() }),
            path: dir.join("docker.sock"),
            serving: Mutex::new(None),
        };
        fake.resume();
        fake
    }

    /// `unix:///…/docker.sock`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn changed(&self) {
        self.shared.changed.notify_waiters();
    }

    /// Closes the socket and every connection: clients see the daemon gone.
    pub fn stop(&self) {
        if let Some(token) = self.serving.lock().unwrap_or_else(|e| e.into_inner()).take() {
            token.cancel();
        }
        let _ = std::fs::remove_file(&self.path);
    }

    /// Listens again (after [`Fake::stop`]).
    pub fn resume(&self) {
        self.stop();
        let listener = UnixListener::bind(&self.path).expect("binds the fake docker socket");
        let token = CancellationToken::new();
        *self.serving.lock().unwrap_or_else(|e| e.into_inner()) = Some(token.clone());
        let shared = self.shared.clone();
        tokio::spawn(async move {
            loop {
                let conn = tokio::select! {
                    _ = token.cancelled() => return,
                    c = listener.accept() => c,
                };
                let Ok((stream, _)) = conn else { continue };
                let (shared, token) = (shared.clone(), token.clone());
                tokio::spawn(async move {
                    tokio::select! {
                        _ = token.cancelled() => {}
                        _ = serve(shared, stream) => {}
                    }
                });
            }
        });
    }

    /// Adds a container: `summary` is its `/containers/json` entry (must have `Id`).
    pub fn add_container(&self, summary: Json, tty: bool) {
        self.state().containers.push(Container { summary, tty, running: true, finished_at: "0001-01-01T00:00:00Z".into(), log: Vec::new() });
        self.changed();
    }

    pub fn add_network(&self, network: Json) {
        self.state().networks.push(network);
    }

    /// Appends a line (`text` without its newline) to a container's log.
    pub fn log(&self, id: &str, stream: u8, ts_ns: i64, text: &str) {
        let mut line = text.as_bytes().to_vec();
        line.push(b'\n');
        self.log_bytes(id, stream, ts_ns, line);
    }

    /// Appends log bytes as they are (no newline added).
    pub fn log_bytes(&self, id: &str, stream: u8, ts_ns: i64, text: Vec<u8>) {
        self.with(id, |c| c.log.push(Piece::Line { ts_ns, stream, text }));
    }

    /// Appends bytes written to the log stream verbatim (broken frames).
    pub fn raw(&self, id: &str, bytes: Vec<u8>) {
        self.with(id, |c| c.log.push(Piece::Raw(bytes)));
    }

    /// Stops or starts a container: a stopped one ends its log streams.
    pub fn set_running(&self, id: &str, running: bool, finished_at: &str) {
        self.with(id, |c| {
            c.running = running;
            c.finished_at = finished_at.to_string();
        });
    }

    pub fn remove(&self, id: &str) {
        self.state().containers.retain(|c| c.id() != id);
        self.changed();
    }

    /// The request targets received so far.
    pub fn requests(&self) -> Vec<String> {
        self.state().requests.clone()
    }

    fn with(&self, id: &str, f: impl FnOnce(&mut Container)) {
        if let Some(c) = self.state().containers.iter_mut().find(|c| c.id() == id) {
            f(c);
        }
        self.changed();
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The request line's target, after the head was read.
async fn read_head(stream: &mut UnixStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let line = text.lines().next()?;
    let mut parts = line.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    (method == "GET").then(|| target.to_string())
}

async fn respond(stream: &mut UnixStream, status: &str, body: &Json) {
    let body = body.to_string();
    let head = format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn serve(shared: Arc<Shared>, mut stream: UnixStream) {
    let Some(target) = read_head(&mut stream).await else { return };
    shared.state.lock().unwrap_or_else(|e| e.into_inner()).requests.push(target.clone());
    let Ok(url) = reqwest::Url::parse(&format!("http://docker{target}")) else { return };
    let query: BTreeMap<String, String> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let mut segments: Vec<String> = url.path_segments().map(|s| s.map(str::to_string).collect()).unwrap_or_default();
    if segments.first().is_some_and(|s| s.starts_with("v1.")) {
        segments.remove(0);
    }
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let not_found = |what: &str| json!({ "message": format!("No such container: {what}") });
    match segs.as_slice() {
        ["containers", "json"] => match list(&shared, &query) {
            Ok(items) => respond(&mut stream, "200 OK", &items).await,
            Err(message) => respond(&mut stream, "400 Bad Request", &json!({ "message": message })).await,
        },
        ["networks"] => {
            let networks = shared.state.lock().unwrap_or_else(|e| e.into_inner()).networks.clone();
            respond(&mut stream, "200 OK", &Json::Array(networks)).await
        }
        ["containers", id, "json"] => {
            let found = shared.state.lock().unwrap_or_else(|e| e.into_inner()).containers.iter().find(|c| c.id() == *id).cloned();
            match found {
                Some(c) => {
                    let body = json!({
                        "Id": c.id(),
                        "Name": c.summary["Names"][0],
                        "Config": { "Tty": c.tty, "Labels": c.summary["Labels"] },
                        "State": { "Running": c.running, "FinishedAt": c.finished_at },
                    });
                    respond(&mut stream, "200 OK", &body).await
                }
                None => respond(&mut stream, "404 Not Found", &not_found(id)).await,
            }
        }
        ["containers", id, "logs"] => {
            let known = shared.state.lock().unwrap_or_else(|e| e.into_inner()).containers.iter().any(|c| c.id() == *id);
            if known {
                logs(&shared, &mut stream, id, &query).await
            } else {
                respond(&mut stream, "404 Not Found", &not_found(id)).await
            }
        }
        _ => respond(&mut stream, "404 Not Found", &json!({ "message": "page not found" })).await,
    }
}

/// Filter values, in the current (`{"v": true}`) or the old (`["v"]`) form.
fn filter_values(v: &Json) -> Vec<String> {
    match v {
        Json::Object(m) => m.keys().cloned().collect(),
        Json::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

fn list(shared: &Shared, query: &BTreeMap<String, String>) -> Result<Json, String> {
    let filters: BTreeMap<String, Vec<String>> = match query.get("filters") {
        Some(text) => {
            let j: Json = serde_json::from_str(text).map_err(|e| format!("invalid filter: {e}"))?;
            j.as_object().ok_or("invalid filter")?.iter().map(|(k, v)| (k.clone(), filter_values(v))).collect()
        }
        None => BTreeMap::new(),
    };
    for name in filters.keys() {
        if !matches!(name.as_str(), "label" | "name" | "id" | "status") {
            return Err(format!("invalid filter '{name}'"));
        }
    }
    let all = query.get("all").is_some_and(|v| v == "1" || v == "true");
    let st = shared.state.lock().unwrap_or_else(|e| e.into_inner());
    let items = st
        .containers
        .iter()
        .filter(|c| all || c.running || filters.contains_key("status"))
        .filter(|c| {
            filters.iter().all(|(name, values)| match name.as_str() {
                "label" => values.iter().all(|v| {
                    let labels = &c.summary["Labels"];
                    match v.split_once('=') {
                        Some((k, want)) => labels[k].as_str() == Some(want),
                        None => labels.get(v).is_some(),
                    }
                }),
                "name" => values.iter().any(|v| {
                    c.summary["Names"]
                        .as_array()
                        .is_some_and(|names| names.iter().filter_map(Json::as_str).any(|n| n.trim_start_matches('/').contains(v.as_str())))
                }),
                "id" => values.iter().any(|v| c.id().starts_with(v.as_str())),
                "status" => values.iter().any(|v| (v == "running") == c.running),
                _ => true,
            })
        })
        .map(|c| c.summary.clone())
        .collect();
    Ok(Json::Array(items))
}

/// `2006-01-02T15:04:05.000000000Z`, the daemon's fixed-width timestamps.
pub fn timestamp(ns: i64) -> String {
    let (secs, frac) = (ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = crate::civil_date::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:09}Z", sod / 3600, sod % 3600 / 60, sod % 60)
}

/// `seconds[.nanoseconds]` to nanoseconds.
fn parse_since(s: &str) -> Option<i64> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: i64 = secs.parse().ok()?;
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<9}")[..9].parse().ok()? };
    Some(secs * 1_000_000_000 + frac)
}

async fn chunk(stream: &mut UnixStream, bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return true;
    }
    let mut out = format!("{:x}\r\n", bytes.len()).into_bytes();
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
    let ok = stream.write_all(&out).await.is_ok() && stream.flush().await.is_ok();
    // Separate writes reach the client as separate reads.
    tokio::time::sleep(Duration::from_millis(1)).await;
    ok
}

/// What the log options turn a piece into, as the writes to make.
fn render(piece: &Piece, tty: bool, q: &BTreeMap<String, String>, since: i64) -> Vec<Vec<u8>> {
    let on = |k: &str| q.get(k).is_some_and(|v| v == "1" || v == "true");
    match piece {
        Piece::Raw(bytes) => vec![bytes.clone()],
        Piece::Line { ts_ns, stream, text } => {
            let wanted = (*stream == STDOUT && on("stdout")) || (*stream == STDERR && on("stderr"));
            if !wanted || *ts_ns < since {
                return Vec::new();
            }
            let mut payload = Vec::new();
            if on("timestamps") {
                payload.extend_from_slice(timestamp(*ts_ns).as_bytes());
                payload.push(b' ');
            }
            payload.extend_from_slice(text);
            if tty {
                return vec![payload];
            }
            let mut frame = vec![*stream, 0, 0, 0];
            frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
            frame.extend_from_slice(&payload);
            // Cut inside the header and inside the payload.
            let (a, b) = (3.min(frame.len()), (8 + payload.len() / 2).min(frame.len()));
            vec![frame[..a].to_vec(), frame[a..b].to_vec(), frame[b..].to_vec()]
        }
    }
}

async fn logs(shared: &Shared, stream: &mut UnixStream, id: &str, q: &BTreeMap<String, String>) {
    let since = q.get("since").and_then(|s| parse_since(s)).unwrap_or(0);
    let follow = q.get("follow").is_some_and(|v| v == "1" || v == "true");
    let tty = shared.state.lock().unwrap_or_else(|e| e.into_inner()).containers.iter().find(|c| c.id() == id).is_some_and(|c| c.tty);
    let kind = if tty { "raw-stream" } else { "multiplexed-stream" };
    let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.{kind}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let mut sent = 0;
    loop {
        let changed = shared.changed.notified();
        let (pieces, running) = {
            let st = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            match st.containers.iter().find(|c| c.id() == id) {
                Some(c) => (c.log[sent.min(c.log.len())..].to_vec(), c.running),
                None => (Vec::new(), false),
            }
        };
        sent += pieces.len();
        for p in &pieces {
            for write in render(p, tty, q, since) {
                if !chunk(stream, &write).await {
                    return;
                }
            }
        }
        if !follow || !running {
            break;
        }
        tokio::select! {
            _ = changed => {}
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_and_timestamps() {
        assert_eq!(parse_since("1700000000"), Some(1_700_000_000_000_000_000));
        assert_eq!(parse_since("1700000000.5"), Some(1_700_000_000_500_000_000));
        assert_eq!(timestamp(1_700_000_000_000_000_005), "2023-11-14T22:13:20.000000005Z");
    }
}
