//! `loki.source.syslog`: one listener per `listener` block, TCP (optionally TLS) or UDP, each
//! stream framed as RFC 6587 says ([`framing`]) and each message parsed as RFC 5424 or RFC
//! 3164 ([`parse`]). An entry's labels are the listener's `labels`, then upstream's internal
//! ones (`__syslog_connection_ip_address`, `__syslog_connection_hostname`,
//! `__syslog_message_{severity,facility,hostname,app_name,proc_id,msg_id}` and, with
//! `label_structured_data`, `__syslog_message_sd_<ID with @ as _>_<NAME>`), then
//! `relabel_rules`; labels starting with `__` are removed. The line is MSG (or, with
//! `use_rfc5424_message`, the RFC 5424 message written back); the timestamp is the time of
//! receipt unless `use_incoming_timestamp` and the message has one.
//!
//! A message that does not parse is logged, counted in
//! `loki_source_syslog_parsing_errors_total` and skipped; one without MSG is counted in
//! `loki_source_syslog_empty_messages_total` and dropped (RFC 5424: unless
//! `rfc5424_allow_empty_msg`). A TCP stream whose framing breaks is closed; the listener goes
//! on. Entries are handed on in the batches one read produced, waiting while receivers are full.
//!
//! Differences from upstream, on purpose: a listener that cannot bind fails the build or the
//! update (upstream logs it and runs without it); an entry that a `drop`/`keep` rule drops is
//! dropped (upstream forwards it with the labels the rules left); over-long messages are
//! skipped and the connection kept (upstream closes octet-counted connections on one and does
//! not bound newline-terminated ones; it truncates UDP datagrams at `max_message_length`); NUL
//! bytes around a frame are dropped; empty lines between newline-terminated messages are
//! skipped (upstream stops reading the connection); `rfc3164_default_to_current_year` takes the
//! year in UTC; the UDP host-name cache evicts at random, not least recently used. Refused by
//! name: `syslog_format = "raw"`, `raw_format_options` and `rfc3164_cisco_components`
//! (experimental upstream).

mod args;
mod framing;
pub mod parse;
mod reverse_dns;
mod transport;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use eval::{Object, Value};
use prom::relabel::Rule;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use args::{Args, Format, ListenerConfig, Protocol};

use crate::component::args::decode_checked;
use crate::component::{BoxFuture, Component, ComponentError, Context, HealthState, Registration};
use crate::loki::receiver::Fanout;
use crate::metrics::Counter;

const NAME: &str = "loki.source.syslog";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &[], build);

/// How long stopping waits for connections to hand over what they read.
const STOP_WAIT: Duration = Duration::from_secs(5);

struct Metrics {
    entries: Counter,
    parsing_errors: Counter,
    empty_messages: Counter,
}

/// What every listener shares: where entries go, the rules, the counters.
struct Shared {
    component_id: String,
    fanout: Fanout,
    rules: RwLock<Arc<Vec<Rule>>>,
    metrics: Metrics,
}

impl Shared {
    fn rules(&self) -> Arc<Vec<Rule>> {
        self.rules.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn log(&self, level: tracing::Level, msg: &str) {
        crate::component::log(&self.component_id, level, msg);
    }
}

/// A bound socket. A listener whose settings change keeps its predecessor's socket (so the
/// port stays bound): each serving task works on a duplicate of it.
enum Socket {
    Tcp(std::net::TcpListener),
    Udp(std::net::UdpSocket),
}

/// One `listener` block, bound.
struct Listener {
    config: Arc<ListenerConfig>,
    tls: Option<Arc<rustls::ServerConfig>>,
    socket: Arc<Socket>,
    local: SocketAddr,
    stop: CancellationToken,
    started: AtomicBool,
}

impl Listener {
    fn ready(&self) -> bool {
        self.started.load(Ordering::Relaxed) && !self.stop.is_cancelled()
    }
}

/// Go's `:514` (every interface) as Rust's resolver wants it.
fn socket_address(address: &str) -> String {
    if address.starts_with(':') {
        format!("0.0.0.0{address}")
    } else {
        address.to_string()
    }
}

fn bind(config: &ListenerConfig) -> Result<(Socket, SocketAddr), ComponentError> {
    let address = socket_address(&config.address);
    let failed = |e: std::io::Error| ComponentError(format!("error setting up syslog target on {}: {e}", config.address));
    let socket = match config.protocol {
        Protocol::Tcp => Socket::Tcp(std::net::TcpListener::bind(&address).map_err(failed)?),
        Protocol::Udp => Socket::Udp(std::net::UdpSocket::bind(&address).map_err(failed)?),
    };
    let local = match &socket {
        Socket::Tcp(l) => l.set_nonblocking(true).and_then(|_| l.local_addr()),
        Socket::Udp(u) => u.set_nonblocking(true).and_then(|_| u.local_addr()),
    }
    .map_err(failed)?;
    Ok((socket, local))
}

/// The rustls configuration of a listener's `tls_config`, for raw TCP (no ALPN).
fn tls_config(config: &ListenerConfig) -> Result<Option<Arc<rustls::ServerConfig>>, ComponentError> {
    let Some(tls) = config.tls.as_ref().filter(|_| config.protocol == Protocol::Tcp) else { return Ok(None) };
    crate::tls::install_crypto_provider();
    let mut server = (*crate::tls::server_config(tls)?).clone();
    server.alpn_protocols.clear();
    Ok(Some(Arc::new(server)))
}

pub struct SourceSyslog {
    ctx: Context,
    shared: Arc<Shared>,
    listeners: Mutex<Vec<Arc<Listener>>>,
    /// Tells `run` that listeners were added.
    changed: Notify,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(SourceSyslog::new(ctx, &args)?)
}

impl SourceSyslog {
    pub fn new(ctx: Context, args: &Value) -> Result<Arc<SourceSyslog>, ComponentError> {
        let args: Args = decode_checked(NAME, args)?;
        let m = |n: &str, h: &str| ctx.counter_exact(n, h, &[]);
        let metrics = Metrics {
            entries: m("loki_source_syslog_entries_total", "Total number of successful entries sent to the syslog target"),
            parsing_errors: m("loki_source_syslog_parsing_errors_total", "Total number of parsing errors while receiving syslog messages"),
            empty_messages: m("loki_source_syslog_empty_messages_total", "Total number of empty messages received from syslog"),
        };
        let shared = Arc::new(Shared {
            component_id: ctx.id().to_string(),
            fanout: Fanout::new(args.forward_to.clone()).tapped(&ctx),
            rules: RwLock::new(Arc::new(args.relabel_rules.clone())),
            metrics,
        });
        let c = Arc::new(SourceSyslog { ctx, shared, listeners: Mutex::new(Vec::new()), changed: Notify::new() });
        c.apply(&args)?;
        c.ctx.set_exports(Value::object(Object::new()));
        Ok(c)
    }

    /// The listeners' bound addresses, in block order (port 0 resolved).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|l| l.local).collect()
    }

    /// New listener settings: unchanged listeners go on; a changed one restarts on the socket
    /// it had when its protocol and address stay; new ones are bound now. A bind failure
    /// leaves everything as it was.
    fn apply(&self, args: &Args) -> Result<(), ComponentError> {
        let mut current = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
        let mut old: Vec<Option<Arc<Listener>>> = current.iter().cloned().map(Some).collect();
        let mut next = Vec::with_capacity(args.listeners.len());
        for config in &args.listeners {
            let same = |l: &Option<Arc<Listener>>| l.as_ref().is_some_and(|l| *l.config == *config);
            if let Some(slot) = old.iter_mut().find(|l| same(l)) {
                next.push(slot.take().expect("matched"));
                continue;
            }
            let tls = tls_config(config)?;
            let reuse = old.iter_mut().find(|l| l.as_ref().is_some_and(|l| l.config.protocol == config.protocol && l.config.address == config.address));
            let (socket, local) = match reuse {
                Some(slot) => {
                    let l = slot.take().expect("matched");
                    l.stop.cancel();
                    (l.socket.clone(), l.local)
                }
                None => {
                    let (socket, local) = bind(config)?;
                    (Arc::new(socket), local)
                }
            };
            next.push(Arc::new(Listener {
                config: Arc::new(config.clone()),
                tls,
                socket,
                local,
                stop: CancellationToken::new(),
                started: AtomicBool::new(false),
            }));
        }
        for l in old.into_iter().flatten() {
            l.stop.cancel();
        }
        *current = next;
        self.changed.notify_one();
        Ok(())
    }
}

impl Component for SourceSyslog {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        self.shared.fanout.set(args.forward_to.clone());
        *self.shared.rules.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(args.relabel_rules.clone());
        self.apply(&args)
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            let mut tasks = JoinSet::new();
            self.ctx.set_health(HealthState::Healthy, "listening");
            loop {
                let listeners = self.listeners.lock().unwrap_or_else(|e| e.into_inner()).clone();
                for l in listeners {
                    if !l.started.swap(true, Ordering::Relaxed) {
                        tasks.spawn(transport::serve(l, self.shared.clone()));
                    }
                }
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = self.changed.notified() => {}
                    Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                }
            }
            for l in self.listeners.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                l.stop.cancel();
            }
            let drained = tokio::time::timeout(STOP_WAIT, async { while tasks.join_next().await.is_some() {} }).await;
            if drained.is_err() {
                tasks.abort_all();
            }
            Ok(())
        })
    }

    fn debug_info(&self) -> Option<Value> {
        let listeners = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
        let infos = listeners
            .iter()
            .map(|l| {
                let mut o = Object::ordered();
                o.insert("ready", Value::Bool(l.ready()));
                o.insert("listen_address", Value::string(l.local.to_string()));
                let labels: Vec<String> = l.config.labels.iter().map(|(k, v)| format!("{k}={}", syntax::quote::go_quote(v))).collect();
                o.insert("labels", Value::string(format!("{{{}}}", labels.join(", "))));
                Value::object(o)
            })
            .collect();
        let mut o = Object::ordered();
        o.insert("listeners_info", Value::array(infos));
        Some(Value::object(o))
    }
}

#[cfg(test)]
mod tests;
