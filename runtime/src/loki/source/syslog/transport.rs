//! Serving one listener: TCP connections (each read under `idle_timeout`, TLS when
//! configured) and UDP datagrams (queued `udp_queue_size` deep for one worker, peer names
//! cached), framed, parsed and turned into entries.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use loki::Entry;
use prom::relabel::{process_labels, NameValidation};
use prom::Labels;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::task::JoinSet;

use super::args::{Format, ListenerConfig};
use super::framing::{Decoder, Event};
use super::parse::{self, Message, Rfc3164Year};
use super::{reverse_dns, Listener, Shared, Socket, STOP_WAIT};
use crate::bounded_cache::BoundedCache;

/// How long a TLS client may take to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes read from a connection at a time.
const READ_SIZE: usize = 16 * 1024;

/// The largest UDP payload.
const MAX_DATAGRAM: usize = 65_536;

/// Serves `l` until its stop token is cancelled.
pub(super) async fn serve(l: Arc<Listener>, shared: Arc<Shared>) {
    let result = match &*l.socket {
        Socket::Tcp(s) => match s.try_clone().and_then(tokio::net::TcpListener::from_std) {
            Ok(tcp) => {
                serve_tcp(&l, &shared, tcp).await;
                Ok(())
            }
            Err(e) => Err(e),
        },
        Socket::Udp(s) => match s.try_clone().and_then(tokio::net::UdpSocket::from_std) {
            Ok(udp) => {
                serve_udp(&l, &shared, udp).await;
                Ok(())
            }
            Err(e) => Err(e),
        },
    };
    if let Err(e) = result {
        shared.log(tracing::Level::ERROR, &format!("syslog listener on {} cannot serve: {e}", l.local));
    }
}

async fn serve_tcp(l: &Arc<Listener>, shared: &Arc<Shared>, tcp: tokio::net::TcpListener) {
    shared.log(tracing::Level::INFO, &format!("syslog listening on address {} (tcp, tls: {})", l.local, l.tls.is_some()));
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = l.stop.cancelled() => break,
            accepted = tcp.accept() => match accepted {
                Ok((stream, peer)) => {
                    conns.spawn(connection(l.clone(), shared.clone(), stream, peer));
                }
                Err(e) => {
                    shared.log(tracing::Level::WARN, &format!("failed to accept syslog connection: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(tcp);
    if tokio::time::timeout(STOP_WAIT, async { while conns.join_next().await.is_some() {} }).await.is_err() {
        conns.abort_all();
    }
}

/// The labels every message of a peer gets before its own: the listener's and the peer's.
fn connection_labels(config: &ListenerConfig, ip: IpAddr, hostname: &str) -> Labels {
    let mut b = Labels::empty().builder();
    for (k, v) in &config.labels {
        b.set(k.as_str(), v.as_str());
    }
    b.set("__syslog_connection_ip_address", ip.to_string());
    b.set("__syslog_connection_hostname", hostname);
    b.labels()
}

async fn connection(l: Arc<Listener>, shared: Arc<Shared>, stream: tokio::net::TcpStream, peer: SocketAddr) {
    let hostname = reverse_dns::hostname(peer.ip()).await;
    let base = connection_labels(&l.config, peer.ip(), &hostname);
    match l.tls.clone() {
        None => read_stream(&l, &shared, stream, &base).await,
        Some(config) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, tokio_rustls::TlsAcceptor::from(config).accept(stream)).await {
            Ok(Ok(tls)) => read_stream(&l, &shared, tls, &base).await,
            Ok(Err(e)) => shared.log(tracing::Level::DEBUG, &format!("TLS handshake with {peer} failed: {e}")),
            Err(_) => shared.log(tracing::Level::DEBUG, &format!("TLS handshake with {peer} timed out")),
        },
    }
}

/// Reads a connection until it ends, idles out, breaks its framing or the listener stops.
async fn read_stream<S: AsyncRead + Unpin>(l: &Listener, shared: &Shared, mut stream: S, base: &Labels) {
    let config = &l.config;
    let mut decoder = Decoder::new(config.max_message_length);
    let mut buf = vec![0u8; READ_SIZE];
    let mut events = Vec::new();
    loop {
        let read = tokio::select! {
            _ = l.stop.cancelled() => return,
            r = tokio::time::timeout(config.idle_timeout, stream.read(&mut buf)) => r,
        };
        let broken = match read {
            Err(_) => {
                shared.log(tracing::Level::DEBUG, "syslog connection timed out");
                return;
            }
            Ok(Err(e)) => {
                shared.log(tracing::Level::DEBUG, &format!("syslog connection read failed: {e}"));
                return;
            }
            Ok(Ok(0)) => {
                decoder.finish(&mut events);
                deliver(config, shared, base, std::mem::take(&mut events)).await;
                return;
            }
            Ok(Ok(n)) => decoder.push(&buf[..n], &mut events).err(),
        };
        deliver(config, shared, base, std::mem::take(&mut events)).await;
        if let Some(e) = broken {
            shared.metrics.parsing_errors.inc();
            shared.log(tracing::Level::WARN, &format!("error parsing syslog stream: {e}; closing the connection"));
            return;
        }
    }
}

async fn serve_udp(l: &Arc<Listener>, shared: &Arc<Shared>, udp: tokio::net::UdpSocket) {
    shared.log(tracing::Level::INFO, &format!("syslog listening on address {} (udp)", l.local));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Vec<u8>, SocketAddr)>(l.config.udp_queue_size);
    let worker = {
        let (l, shared) = (l.clone(), shared.clone());
        tokio::spawn(async move {
            let mut names: BoundedCache<IpAddr, String> = BoundedCache::default();
            while let Some((data, peer)) = rx.recv().await {
                let ip = peer.ip();
                let hostname = match names.get(&ip) {
                    Some(n) => n.clone(),
                    None => {
                        let n = reverse_dns::hostname(ip).await;
                        names.insert(ip, n.clone(), l.config.udp_host_cache_size);
                        n
                    }
                };
                let base = connection_labels(&l.config, ip, &hostname);
                datagram(&l.config, &shared, &base, &data).await;
            }
        })
    };
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (n, peer) = tokio::select! {
            _ = l.stop.cancelled() => break,
            r = udp.recv_from(&mut buf) => match r {
                Ok(got) => got,
                Err(e) => {
                    shared.log(tracing::Level::WARN, &format!("failed to read packets: {e}"));
                    continue;
                }
            },
        };
        tokio::select! {
            _ = l.stop.cancelled() => break,
            sent = tx.send((buf[..n].to_vec(), peer)) => if sent.is_err() { break },
        }
    }
    drop(tx);
    let _ = tokio::time::timeout(STOP_WAIT, worker).await;
}

/// One datagram: a stream of its own (it may hold several messages in either framing).
async fn datagram(config: &ListenerConfig, shared: &Shared, base: &Labels, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    if data.len() > config.max_message_length {
        shared.metrics.parsing_errors.inc();
        shared
            .log(tracing::Level::WARN, &format!("syslog datagram of {} bytes is over max_message_length ({}); skipped", data.len(), config.max_message_length));
        return;
    }
    let mut decoder = Decoder::new(config.max_message_length);
    let mut events = Vec::new();
    if let Err(e) = decoder.push(data, &mut events) {
        shared.metrics.parsing_errors.inc();
        shared.log(tracing::Level::WARN, &format!("error parsing syslog stream: {e}"));
    }
    decoder.finish(&mut events);
    deliver(config, shared, base, events).await;
}

fn now_ns() -> i64 {
    Entry::nanos_of(SystemTime::now())
}

/// This year and month in UTC, for `rfc3164_default_to_current_year`.
fn current_year_month() -> (i64, u32) {
    let days = now_ns().div_euclid(86_400 * 1_000_000_000);
    let (y, m, _) = loki::process::time::civil_from_days(days);
    (y, m)
}

/// Parses the frames, counts what fails, and hands the entries on in one batch.
async fn deliver(config: &ListenerConfig, shared: &Shared, base: &Labels, events: Vec<Event>) {
    if events.is_empty() {
        return;
    }
    let rules = shared.rules();
    let received = now_ns();
    let year = Rfc3164Year { current: config.rfc3164_default_to_current_year.then(current_year_month) };
    let mut entries = Vec::new();
    for event in events {
        let frame = match event {
            Event::Frame(f) => f,
            Event::Skipped(why) => {
                shared.metrics.parsing_errors.inc();
                shared.log(tracing::Level::WARN, &format!("error parsing syslog stream: {why}"));
                continue;
            }
        };
        let parsed = match config.format {
            Format::Rfc5424 => parse::rfc5424(&frame),
            Format::Rfc3164 => parse::rfc3164(&frame, year),
        };
        let msg = match parsed {
            Ok(m) => m,
            Err(e) => {
                shared.metrics.parsing_errors.inc();
                shared.log(tracing::Level::WARN, &format!("error parsing syslog stream: {e}"));
                continue;
            }
        };
        if msg.message.is_none() {
            shared.metrics.empty_messages.inc();
            if !(config.format == Format::Rfc5424 && config.rfc5424_allow_empty_msg) {
                continue;
            }
        }
        if let Some(e) = entry(config, base, &rules, &msg, received) {
            entries.push(e);
        }
    }
    shared.metrics.entries.add(entries.len() as u64);
    if let Err(e) = shared.fanout.send(entries).await {
        shared.log(tracing::Level::WARN, &e.to_string());
    }
}

/// The entry for one message, or `None` when a relabel rule drops it.
pub(super) fn entry(config: &ListenerConfig, base: &Labels, rules: &[prom::relabel::Rule], msg: &Message, received: i64) -> Option<Entry> {
    let mut b = base.builder();
    b.set("__syslog_message_severity", msg.severity());
    b.set("__syslog_message_facility", msg.facility());
    let fields = [
        ("__syslog_message_hostname", &msg.hostname),
        ("__syslog_message_app_name", &msg.app_name),
        ("__syslog_message_proc_id", &msg.proc_id),
        ("__syslog_message_msg_id", &msg.msg_id),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            b.set(name, v.as_str());
        }
    }
    if config.label_structured_data {
        for (id, params) in msg.structured_data.iter().flatten() {
            let id = id.replace('@', "_");
            for (name, value) in params {
                b.set(format!("__syslog_message_sd_{id}_{name}"), value.as_str());
            }
        }
    }
    let labels = if rules.is_empty() { b.labels() } else { process_labels(rules, &b.labels(), NameValidation::Legacy)? };
    let mut b = labels.builder();
    b.retain(|n| !n.starts_with("__"));
    let timestamp_ns = match (&msg.timestamp, config.use_incoming_timestamp) {
        (Some(t), true) => t.unix_nanos(),
        _ => received,
    };
    let line = if config.use_rfc5424_message && config.format == Format::Rfc5424 { msg.to_rfc5424() } else { msg.message.clone().unwrap_or_default() };
    Some(Entry::new(b.labels(), timestamp_ns, line))
}
