//! One container's log follower: inspects the container (TTY or not), follows its logs from
//! the saved position, and sends each line as an entry timestamped by the daemon. When the
//! stream ends (the container stopped, the daemon went away) it polls the container every
//! restart interval and follows again when it runs (or ran since); a container the daemon no
//! longer knows ends the follower.
//!
//! Positions are timestamps: the request asks for lines `since` the last one read (the daemon
//! includes that instant) and lines at or before it are dropped, so nothing is sent twice.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use loki::Entry;
use prom::Labels;
use tokio_util::sync::CancellationToken;

use super::stream::{split_timestamp, Decoder, Kind, Output};
use super::Cursor;
use crate::docker_engine::{since_param, Engine, EngineError};
use crate::loki::receiver::Fanout;
use crate::loki::source::positions::{Key, Positions};
use crate::metrics::Counter;

/// What the component's followers share.
pub(super) struct Shared {
    pub component_id: String,
    pub engine: Arc<Engine>,
    pub fanout: Arc<Fanout>,
    pub positions: Arc<Mutex<Positions<Cursor>>>,
    pub entries: Counter,
    pub errors: Counter,
    pub restart_every: Duration,
    /// Called when a follower's status changes (the component's health follows).
    pub on_status: Arc<dyn Fn() + Send + Sync>,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Status {
    pub running: bool,
    pub last_error: String,
    /// The last error is the daemon's or the stream's (not the container being gone).
    pub failing: bool,
}

/// A followed container.
pub(super) struct Tailer {
    pub id: String,
    /// Its key in the positions file: `cursor-<id>` and the target's labels.
    pub key: Key,
    /// The labels of stdout and stderr entries; `None` when relabeling dropped the stream.
    pub labels: [Option<Labels>; 2],
    pub status: Mutex<Status>,
    /// Whether a line that is not UTF-8 was reported (once a follower).
    pub warned_utf8: std::sync::atomic::AtomicBool,
}

impl Tailer {
    pub fn status(&self) -> Status {
        self.status.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records a status; an error is logged when it differs from the last one.
    fn set(&self, s: &Shared, running: bool, error: Option<(&str, bool)>) {
        let changed = {
            let mut st = self.status.lock().unwrap_or_else(|e| e.into_inner());
            let before = (st.running, st.last_error.clone(), st.failing);
            st.running = running;
            if let Some((e, failing)) = error {
                if st.last_error != e && !e.is_empty() {
                    crate::component::log(&s.component_id, tracing::Level::WARN, &format!("container {}: {e}", self.id));
                }
                st.last_error = e.to_string();
                st.failing = failing;
            }
            before != (st.running, st.last_error.clone(), st.failing)
        };
        if changed {
            (s.on_status)();
        }
    }

    fn cursor(&self, s: &Shared) -> Option<i64> {
        s.positions.lock().unwrap_or_else(|e| e.into_inner()).offsets.get(&self.key).map(|c| c.0)
    }
}

/// Follows the container until `cancel`, or until the daemon says it is gone.
pub(super) async fn run(t: Arc<Tailer>, s: Arc<Shared>, cancel: CancellationToken) {
    // FinishedAt when the last stream started: a new value means it ran (and stopped) since.
    let mut finished_before: Option<String> = None;
    loop {
        let inspected = tokio::select! {
            _ = cancel.cancelled() => return,
            i = s.engine.inspect(&t.id) => i,
        };
        match inspected {
            Err(EngineError::NotFound(e)) => {
                crate::component::log(&s.component_id, tracing::Level::INFO, &format!("container {} no longer exists, stopping its tailer", t.id));
                t.set(&s, false, Some((&e, false)));
                return;
            }
            Err(EngineError::Other(e)) => t.set(&s, false, Some((&e, true))),
            Ok(info) => {
                let ran_since = finished_before.as_ref() != Some(&info.finished_at);
                if info.running || ran_since {
                    finished_before = Some(info.finished_at.clone());
                    follow(&t, &s, info.tty, &cancel).await;
                    if cancel.is_cancelled() {
                        return;
                    }
                }
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(s.restart_every) => {}
        }
    }
}

/// One log stream, from the position to its end.
async fn follow(t: &Tailer, s: &Shared, tty: bool, cancel: &CancellationToken) {
    let since = t.cursor(s).map(since_param);
    let resp = tokio::select! {
        _ = cancel.cancelled() => return,
        r = s.engine.logs(&t.id, since.as_deref()) => r,
    };
    let mut resp = match resp {
        Ok(r) => r,
        Err(e) => return t.set(s, false, Some((&format!("could not fetch logs: {e}"), true))),
    };
    t.set(s, true, Some(("", false)));
    let mut decoder = Decoder::new(tty);
    let mut error = None;
    loop {
        let read = tokio::select! {
            _ = cancel.cancelled() => break,
            r = resp.chunk() => r,
        };
        let mut out = Output::default();
        let more = match read {
            Ok(Some(bytes)) => match decoder.push(&bytes, &mut out) {
                Ok(()) => true,
                Err(e) => {
                    s.errors.inc();
                    error = Some(e);
                    false
                }
            },
            Ok(None) => {
                decoder.finish(&mut out);
                false
            }
            Err(e) => {
                decoder.finish(&mut out);
                error = Some(format!("reading the log stream: {}", crate::http_client::describe_error(&e)));
                false
            }
        };
        if !deliver(t, s, out, cancel).await || !more {
            break;
        }
    }
    match error {
        Some(e) => t.set(s, false, Some((&e, true))),
        None => t.set(s, false, None),
    }
}

/// Sends a read's lines as entries and moves the position past them; false when cancelled.
async fn deliver(t: &Tailer, s: &Shared, out: Output, cancel: &CancellationToken) -> bool {
    for p in &out.problems {
        s.errors.inc();
        crate::component::log(&s.component_id, tracing::Level::WARN, &format!("container {}: {p}", t.id));
    }
    if out.lines.is_empty() {
        return true;
    }
    let cursor = t.cursor(s);
    let mut entries = Vec::new();
    let mut last = None;
    for (kind, line) in &out.lines {
        let (ts, content) = match split_timestamp(line) {
            Ok(x) => x,
            Err(e) => {
                s.errors.inc();
                crate::component::log(&s.component_id, tracing::Level::WARN, &format!("container {}: {e}, skipping the line", t.id));
                continue;
            }
        };
        if cursor.is_some_and(|c| ts <= c) {
            // Read before (the daemon's `since` includes the last instant read).
            continue;
        }
        last = Some(last.map_or(ts, |l: i64| l.max(ts)));
        if content.is_empty() {
            continue;
        }
        let Some(labels) = &t.labels[match kind {
            Kind::Stdout => 0,
            Kind::Stderr => 1,
        }] else {
            continue;
        };
        let text = match std::str::from_utf8(content) {
            Ok(text) => text.to_string(),
            Err(_) => {
                if !t.warned_utf8.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    let msg = format!("container {}: its log has lines that are not UTF-8; their invalid bytes are replaced by U+FFFD", t.id);
                    crate::component::log(&s.component_id, tracing::Level::WARN, &msg);
                }
                String::from_utf8_lossy(content).into_owned()
            }
        };
        entries.push(Entry::new(labels.clone(), ts, text));
    }
    let n = entries.len() as u64;
    if !entries.is_empty() {
        tokio::select! {
            _ = cancel.cancelled() => return false,
            sent = s.fanout.send(entries) => {
                if let Err(e) = sent {
                    crate::component::log(&s.component_id, tracing::Level::WARN, &e.to_string());
                }
            }
        }
        s.entries.add(n);
    }
    if let Some(ts) = last {
        s.positions.lock().unwrap_or_else(|e| e.into_inner()).offsets.insert(t.key.clone(), Cursor(ts));
    }
    true
}
