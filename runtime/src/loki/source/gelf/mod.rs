//! `loki.source.gelf`: GELF messages over UDP on `listen_address`, plain or gzip/zlib
//! compressed, whole or in chunks ([`chunks`]). Each message becomes an entry whose line is the
//! message as JSON ([`message`]) and whose labels are `relabel_rules` applied to the internal
//! `__gelf_message_level` (the severity name of `level`), `__gelf_message_host`,
//! `__gelf_message_version` and `__gelf_message_facility` (each only when not empty), then with
//! labels starting with `__` removed. The timestamp is the time of receipt, or with
//! `use_incoming_timestamp` the message's `timestamp` when it has one.
//!
//! A datagram or message that does not decode is logged, counted in
//! `loki_source_gelf_target_parsing_errors_total` and skipped; so is an incomplete chunked
//! message when it expires. Entries are handed on one message at a time, waiting while
//! receivers are full.
//!
//! Differences from upstream, on purpose: datagrams up to 64 KiB are read (upstream reads 1420
//! bytes of each and fails larger unchunked messages); chunks with a sequence count of 0 or over
//! 128 are refused at once; a message a `drop`/`keep` rule drops is dropped (upstream forwards
//! it without labels); an update that keeps `listen_address` keeps the socket and any partly
//! received messages (upstream rebinds).

pub mod chunks;
pub mod message;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use eval::{Object, Value};
use loki::Entry;
use prom::relabel::{process_labels, NameValidation, Rule};
use prom::Labels;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::component::args::decode_checked;
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, HealthState, Reader, Registration};
use crate::loki::receiver::{Fanout, LogsReceiver};
use crate::metrics::Counter;
use crate::relabel_rules::RulesHandle;
use chunks::{Assembler, Outcome};

const NAME: &str = "loki.source.gelf";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &[], build);

/// The largest UDP payload.
const MAX_DATAGRAM: usize = 65_536;

/// How often incomplete chunked messages are checked for expiry when nothing arrives.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct Args {
    pub forward_to: Vec<LogsReceiver>,
    pub listen_address: String,
    pub relabel_rules: Vec<Rule>,
    pub use_incoming_timestamp: bool,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        Args {
            forward_to: r.get("forward_to"),
            listen_address: r.get("listen_address"),
            relabel_rules: r.computed::<RulesHandle>("relabel_rules").map(|h| h.0.to_vec()).unwrap_or_default(),
            use_incoming_timestamp: r.get("use_incoming_timestamp"),
        }
    }
}

struct Settings {
    rules: Vec<Rule>,
    use_incoming_timestamp: bool,
}

/// The bound socket and the address it was asked for.
struct Bound {
    address: String,
    socket: std::net::UdpSocket,
    local: SocketAddr,
}

fn bind(address: &str) -> Result<Bound, ComponentError> {
    // Go's `:12201` listens on every interface.
    let at = if address.starts_with(':') { format!("0.0.0.0{address}") } else { address.to_string() };
    let failed = |e: std::io::Error| ComponentError(format!("ListenUDP {address}: {e}"));
    let socket = std::net::UdpSocket::bind(&at).map_err(failed)?;
    socket.set_nonblocking(true).map_err(failed)?;
    let local = socket.local_addr().map_err(failed)?;
    Ok(Bound { address: address.to_string(), socket, local })
}

pub struct SourceGelf {
    ctx: Context,
    fanout: Fanout,
    settings: RwLock<Arc<Settings>>,
    entries: Counter,
    errors: Counter,
    /// The current socket; `run` moves to a new one when an update binds it.
    bound: watch::Sender<Arc<Bound>>,
    /// Serializes updates.
    updating: Mutex<()>,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(SourceGelf::new(ctx, &args)?)
}

fn settings(args: &Args) -> Arc<Settings> {
    Arc::new(Settings { rules: args.relabel_rules.clone(), use_incoming_timestamp: args.use_incoming_timestamp })
}

fn now_ns() -> i64 {
    Entry::nanos_of(SystemTime::now())
}

impl SourceGelf {
    pub fn new(ctx: Context, args: &Value) -> Result<Arc<SourceGelf>, ComponentError> {
        let args: Args = decode_checked(NAME, args)?;
        let bound = bind(&args.listen_address)?;
        let c = SourceGelf {
            entries: ctx.counter_exact("loki_source_gelf_target_entries_total", "Total number of successful entries sent to the gelf target", &[]),
            errors: ctx.counter_exact("loki_source_gelf_target_parsing_errors_total", "Total number of parsing errors while receiving gelf messages", &[]),
            fanout: Fanout::new(args.forward_to.clone()).tapped(&ctx),
            settings: RwLock::new(settings(&args)),
            bound: watch::channel(Arc::new(bound)).0,
            updating: Mutex::new(()),
            ctx,
        };
        c.ctx.set_exports(Value::object(Object::new()));
        Ok(Arc::new(c))
    }

    /// The address the socket is bound to (port 0 resolved).
    pub fn local_addr(&self) -> SocketAddr {
        self.bound.borrow().local
    }

    fn log(&self, level: tracing::Level, msg: &str) {
        crate::component::log(self.ctx.id(), level, msg);
    }

    /// The entry for a message, or `None` when a rule drops it.
    fn entry(&self, s: &Settings, m: &message::Message, received: i64) -> Option<Entry> {
        let mut b = Labels::empty().builder();
        b.set("__gelf_message_level", m.level_name());
        b.set("__gelf_message_host", m.host.as_str());
        b.set("__gelf_message_version", m.version.as_str());
        b.set("__gelf_message_facility", m.facility.as_str());
        let labels = if s.rules.is_empty() { b.labels() } else { process_labels(&s.rules, &b.labels(), NameValidation::Legacy)? };
        let mut b = labels.builder();
        b.retain(|n| !n.starts_with("__"));
        let timestamp_ns = if s.use_incoming_timestamp && m.timestamp != 0.0 { m.timestamp_ns() } else { received };
        Some(Entry::new(b.labels(), timestamp_ns, m.to_line()))
    }

    /// One datagram: a whole message, or a chunk that may complete one.
    async fn datagram(&self, assembler: &mut Assembler, data: &[u8]) {
        let payload = if Assembler::is_chunk(data) {
            match assembler.add(data, Instant::now()) {
                Outcome::Complete(p) => p,
                Outcome::Incomplete => return self.count_dropped(assembler),
                Outcome::Invalid(why) => {
                    self.errors.inc();
                    self.log(tracing::Level::ERROR, &format!("error while reading gelf message: {why}"));
                    return;
                }
            }
        } else {
            data.to_vec()
        };
        self.count_dropped(assembler);
        let m = match message::decode(&payload) {
            Ok(m) => m,
            Err(e) => {
                self.errors.inc();
                self.log(tracing::Level::ERROR, &format!("error while reading gelf message: {e}"));
                return;
            }
        };
        let s = self.settings.read().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(entry) = self.entry(&s, &m, now_ns()) else { return };
        self.entries.inc();
        if let Err(e) = self.fanout.send(vec![entry]).await {
            self.log(tracing::Level::WARN, &e.to_string());
        }
    }

    /// Counts the incomplete messages the assembler dropped.
    fn count_dropped(&self, assembler: &mut Assembler) {
        let n = assembler.take_dropped();
        if n > 0 {
            self.errors.add(n);
            self.log(tracing::Level::WARN, &format!("{n} chunked GELF message(s) dropped incomplete"));
        }
    }

    /// Reads `bound` until `stop`; `Ok(true)` when a new socket replaced it.
    async fn serve(
        &self,
        bound: &Bound,
        stop: &CancellationToken,
        changed: &mut watch::Receiver<Arc<Bound>>,
        assembler: &mut Assembler,
    ) -> Result<bool, ComponentError> {
        let udp = tokio::net::UdpSocket::from_std(bound.socket.try_clone()?)?;
        self.log(tracing::Level::INFO, &format!("listening for GELF UDP messages on {}", bound.local));
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return Ok(false),
                c = changed.changed() => return Ok(c.is_ok()),
                _ = sweep.tick() => {
                    assembler.expire(Instant::now());
                    self.count_dropped(assembler);
                }
                r = udp.recv_from(&mut buf) => match r {
                    Ok((n, _)) => self.datagram(assembler, &buf[..n]).await,
                    Err(e) => {
                        self.errors.inc();
                        self.log(tracing::Level::ERROR, &format!("error while reading gelf message: {e}"));
                    }
                },
            }
        }
    }
}

impl Component for SourceGelf {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        let _one = self.updating.lock().unwrap_or_else(|e| e.into_inner());
        if self.bound.borrow().address != args.listen_address {
            let bound = bind(&args.listen_address)?;
            self.bound.send_replace(Arc::new(bound));
        }
        self.fanout.set(args.forward_to.clone());
        *self.settings.write().unwrap_or_else(|e| e.into_inner()) = settings(&args);
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            let mut changed = self.bound.subscribe();
            let mut assembler = Assembler::default();
            loop {
                let bound = changed.borrow_and_update().clone();
                self.ctx.set_health(HealthState::Healthy, "listening");
                match self.serve(&bound, &shutdown, &mut changed, &mut assembler).await {
                    Ok(true) => continue,
                    Ok(false) => return Ok(()),
                    Err(e) => {
                        self.ctx.set_health(HealthState::Unhealthy, e.to_string());
                        return Err(e);
                    }
                }
            }
        })
    }

    fn debug_info(&self) -> Option<Value> {
        let mut o = Object::ordered();
        o.insert("listen_address", Value::string(self.local_addr().to_string()));
        Some(Value::object(o))
    }
}

#[cfg(test)]
mod tests;
