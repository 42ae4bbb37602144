//! The `tcp` prober: connect (with TLS when asked), then the module's `query_response` dialogue: wait for a line
//! matching `expect`, `send` a line (expanded with the match), upgrade with `starttls`.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;

use super::config::TcpProbe;
use super::net::{self, Deadline, TimedStream};
use super::tls::{self, Conn};
use super::Probe;

const REGEX_HELP: &str = "Indicates if probe failed due to regex";

pub(crate) fn probe(p: &mut Probe, target: &str, t: &TcpProbe, deadline: Deadline) -> bool {
    p.gauge("probe_failed_due_to_regex", REGEX_HELP, 0.0);
    let conn = match dial(p, target, t, deadline) {
        Ok(c) => c,
        Err(e) => {
            p.error(format!("Error dialing TCP err={e}"));
            return false;
        }
    };
    p.info("Successfully dialed");
    let verified = !t.tls_config.insecure_skip_verify;
    if t.tls {
        tls::report(p, &conn, verified);
    }
    let mut reader = BufReader::new(conn);
    for (i, qr) in t.query_response.iter().enumerate() {
        p.info(format!("Processing query response entry entry_number={i}"));
        let mut send = qr.send.clone().into_bytes();
        if let Some(re) = &qr.expect {
            let mut matched: Option<Vec<u8>> = None;
            let mut last = Vec::new();
            loop {
                let mut line = Vec::new();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) => {
                        p.error(format!("Error reading from connection err={}", net::timeout_kind(e)));
                        return false;
                    }
                }
                if line.last() == Some(&b'\n') {
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                }
                p.debug(format!("Read line line={}", String::from_utf8_lossy(&line)));
                if let Some(caps) = re.captures(&line) {
                    p.info(format!("Regexp matched regexp={re} line={}", String::from_utf8_lossy(&line)));
                    let mut expanded = Vec::new();
                    caps.expand(&send, &mut expanded);
                    matched = Some(expanded);
                    break;
                }
                last = line;
            }
            match matched {
                Some(expanded) => {
                    p.gauge("probe_failed_due_to_regex", REGEX_HELP, 0.0);
                    send = expanded;
                }
                None => {
                    p.gauge("probe_failed_due_to_regex", REGEX_HELP, 1.0);
                    p.error(format!("Regexp did not match regexp={re} line={}", String::from_utf8_lossy(&last)));
                    return false;
                }
            }
        }
        if !send.is_empty() {
            p.debug(format!("Sending line line={}", String::from_utf8_lossy(&send)));
            send.push(b'\n');
            if let Err(e) = reader.get_mut().write_all(&send).and_then(|_| reader.get_mut().flush()) {
                p.error(format!("Failed to send err={e}"));
                return false;
            }
        }
        if qr.starttls {
            let Conn::Plain(stream) = reader.into_inner() else {
                p.error("TLS Handshake (client) failed err=connection is already TLS");
                return false;
            };
            let mut settings = t.tls_config.clone();
            if settings.server_name.is_empty() {
                settings.server_name = net::split_host_port(target).map(|(h, _)| h).unwrap_or_default();
            }
            let config = match tls::client_config(&settings) {
                Ok(c) => c,
                Err(e) => {
                    p.error(format!("Failed to create TLS configuration err={e}"));
                    return false;
                }
            };
            let conn = match tls::handshake(config, &settings.server_name, stream) {
                Ok((c, _, _)) => c,
                Err(e) => {
                    p.error(format!("TLS Handshake (client) failed err={e}"));
                    return false;
                }
            };
            p.info("TLS Handshake (client) succeeded.");
            tls::report(p, &conn, verified);
            reader = BufReader::new(conn);
        }
    }
    true
}

/// Upstream's `dialTCP`: resolve with the module's IP protocol, connect, and handshake when `tls` is set.
fn dial(p: &mut Probe, target: &str, t: &TcpProbe, deadline: Deadline) -> Result<Conn, String> {
    let (host, port) = net::split_host_port(target).inspect_err(|e| p.error(format!("Error splitting target address and port err={e}")))?;
    let (ip, _) = net::choose_protocol(p, &t.ip, &host, deadline);
    let ip = ip.inspect_err(|e| p.error(format!("Error resolving address err={e}")))?;
    let port = net::port_number(&port)?;
    if !t.tls {
        p.info("Dialing TCP without TLS");
        return TimedStream::connect(SocketAddr::new(ip, port), deadline).map(Conn::Plain).map_err(|e| e.to_string());
    }
    let mut settings = t.tls_config.clone();
    if settings.server_name.is_empty() {
        settings.server_name = host;
    }
    let config = tls::client_config(&settings).inspect_err(|e| p.error(format!("Error creating TLS configuration err={e}")))?;
    p.info("Dialing TCP with TLS");
    let stream = TimedStream::connect(SocketAddr::new(ip, port), deadline).map_err(|e| e.to_string())?;
    tls::handshake(config, &settings.server_name, stream).map(|(c, _, _)| c).map_err(|e| e.to_string())
}
