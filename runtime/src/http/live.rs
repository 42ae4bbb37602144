//! Live debugging over HTTP: `GET /api/v0/web/debug/{componentID}` streams what one component
//! sends, `GET /api/v0/web/graph[/{moduleID}]` the rates between a module's components.
//!
//! Both are endless chunked plain-text bodies (not WebSocket or SSE, as upstream): records
//! separated by [`DELIMITER`]. A client that goes away drops the body, which drops its
//! subscription and so removes its listener from the hub.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use super::text;
use crate::controller::Controller;
use crate::livedebugging::{DataType, DebugSink, Filter, GraphSink, Hub, Subscription, DEFAULT_RATE_LIMIT};

/// What follows every record.
pub const DELIMITER: &str = "|;|";

/// How often a debug stream writes what it buffered.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// The graph stream's window when `window` is not given, and its bounds, in seconds.
const DEFAULT_WINDOW: u64 = 5;
const MAX_WINDOW: u64 = 60;

const DISABLED: &str = "the live debugging service is disabled. Check the documentation to find out how to enable it\n";

/// `GET /api/v0/web/debug/{componentID}?sampleProb=P&types=a,b`.
pub async fn debug(State(c): State<Controller>, Path(id): Path<String>, Query(q): Query<HashMap<String, String>>) -> Response {
    let filter = match filter(&q) {
        Ok(f) => f,
        Err(why) => return text(StatusCode::BAD_REQUEST, format!("{why}\n")),
    };
    let hub = c.live_debugging();
    if !hub.enabled() {
        return text(StatusCode::INTERNAL_SERVER_ERROR, DISABLED);
    }
    let Some(info) = c.component(&id) else {
        return text(StatusCode::NOT_FOUND, "404 page not found\n");
    };
    if !info.live_debugging {
        return text(StatusCode::INTERNAL_SERVER_ERROR, format!("the component {:?} does not support live debugging\n", info.name));
    }
    let (sink, rx) = DebugSink::new(&id, filter, DEFAULT_RATE_LIMIT);
    // Disabled between the check above and now.
    let Some(subscription) = hub.watch(sink.clone()) else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, DISABLED);
    };
    stream(debug_body(DebugStream { hub, sink, rx, _subscription: subscription }))
}

/// `sampleProb` (default 1) and `types` (default all) from the query.
fn filter(q: &HashMap<String, String>) -> Result<Filter, String> {
    let sample = match q.get("sampleProb").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => 1.0,
        Some(s) => match s.parse::<f64>() {
            Ok(p) if (0.0..=1.0).contains(&p) => p,
            _ => return Err(format!("invalid sampleProb {s:?}: expected a number between 0 and 1")),
        },
    };
    let types = match q.get("types").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => None,
        Some(list) => Some(
            list.split(',')
                .map(|t| {
                    DataType::parse(t.trim()).ok_or_else(|| {
                        let known: Vec<&str> = DataType::ALL.iter().map(|t| t.as_str()).collect();
                        format!("unknown type {:?} in types: expected some of {}", t.trim(), known.join(", "))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    Ok(Filter { sample, types })
}

/// A debug stream's state while the response is open.
struct DebugStream {
    hub: Arc<Hub>,
    sink: Arc<DebugSink>,
    rx: mpsc::Receiver<Arc<str>>,
    /// Dropped with the body: the listener goes away with the client.
    _subscription: Subscription,
}

impl Drop for DebugStream {
    fn drop(&mut self) {
        let (overflowed, limited) = self.sink.dropped();
        if overflowed + limited > 0 {
            tracing::warn!(component_id = %self.sink.component_id(), overflowed, rate_limited = limited, "live debugging stream ended; records were dropped");
        }
    }
}

/// Every second, what was buffered, each record followed by the delimiter; ends when live
/// debugging is turned off or the controller stops.
fn debug_body(st: DebugStream) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> + Send {
    futures_util::stream::unfold(st, |mut st| async move {
        loop {
            let hub = st.hub.clone();
            let sink = st.sink.clone();
            let ending = tokio::select! {
                _ = tokio::time::sleep(FLUSH_EVERY) => false,
                _ = sink.closed() => true,
                _ = hub.stopped() => true,
            };
            let mut chunk = String::new();
            while let Ok(record) = st.rx.try_recv() {
                chunk.push_str(&record);
                chunk.push_str(DELIMITER);
            }
            if !chunk.is_empty() {
                // What was buffered still goes out; the next poll sees the end.
                return Some((Ok(Bytes::from(chunk)), st));
            }
            if ending {
                return None;
            }
        }
    })
}

/// `GET /api/v0/web/graph?window=W`: the root module's rates.
pub async fn graph(State(c): State<Controller>, Query(q): Query<HashMap<String, String>>) -> Response {
    graph_of(c, String::new(), q)
}

/// `GET /api/v0/web/graph/{moduleID}?window=W`.
pub async fn module_graph(State(c): State<Controller>, Path(module): Path<String>, Query(q): Query<HashMap<String, String>>) -> Response {
    graph_of(c, module, q)
}

fn graph_of(c: Controller, module: String, q: HashMap<String, String>) -> Response {
    let window = match q.get("window").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => DEFAULT_WINDOW,
        Some(w) => match w.parse::<u64>() {
            Ok(w) if (1..=MAX_WINDOW).contains(&w) => w,
            _ => return text(StatusCode::BAD_REQUEST, format!("invalid window {w:?}: expected whole seconds between 1 and {MAX_WINDOW}\n")),
        },
    };
    if !module.is_empty() && c.module_components(&module).is_none() {
        return text(StatusCode::INTERNAL_SERVER_ERROR, "module not found\n");
    }
    let hub = c.live_debugging();
    let sink = Arc::new(GraphSink::new(&module));
    let subscription = hub.watch_graph(sink.clone());
    stream(graph_body(GraphStream { hub, sink, window, _subscription: subscription }))
}

struct GraphStream {
    hub: Arc<Hub>,
    sink: Arc<GraphSink>,
    window: u64,
    _subscription: Subscription,
}

/// Every window, the rates as a JSON array followed by the delimiter; ends when the
/// controller stops.
fn graph_body(st: GraphStream) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> + Send {
    futures_util::stream::unfold(st, |st| async move {
        let hub = st.hub.clone();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(st.window)) => {}
            _ = hub.stopped() => return None,
        }
        let rates = st.sink.take(st.window);
        let json = serde_json::to_string(&rates).unwrap_or_else(|_| "[]".into());
        Some((Ok(Bytes::from(json + DELIMITER)), st))
    })
}

fn stream(body: impl futures_util::Stream<Item = Result<Bytes, Infallible>> + Send + 'static) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], Body::from_stream(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_query_picks_sampling_and_types() {
        assert_eq!(filter(&q(&[])), Ok(Filter::default()));
        assert_eq!(
            filter(&q(&[("sampleProb", "0.5"), ("types", "otel_log, loki_log")])),
            Ok(Filter { sample: 0.5, types: Some(vec![DataType::OtelLog, DataType::LokiLog]) })
        );
        assert!(filter(&q(&[("sampleProb", "2")])).is_err());
        assert!(filter(&q(&[("types", "otel")])).unwrap_err().contains("unknown type \"otel\""));
    }
}
