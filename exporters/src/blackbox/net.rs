//! What every prober shares: the probe's deadline, a socket that honours it, and upstream's `chooseProtocol`
//! (resolve the target, pick the preferred IP family or fall back, and report the lookup in metrics).

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::config::IpProtocol;
use super::Probe;

/// The instant the probe must be done by (upstream's context deadline).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline(pub Instant);

impl Deadline {
    /// Time left, or a timeout error when none is.
    pub fn remaining(&self) -> io::Result<Duration> {
        let left = self.0.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(io::Error::new(io::ErrorKind::TimedOut, "i/o timeout"))
        } else {
            Ok(left)
        }
    }
}

/// A TCP connection whose every read and write ends by the deadline.
pub(crate) struct TimedStream {
    pub inner: TcpStream,
    pub deadline: Deadline,
}

impl TimedStream {
    pub fn connect(addr: SocketAddr, deadline: Deadline) -> io::Result<TimedStream> {
        let inner = TcpStream::connect_timeout(&addr, deadline.remaining()?)?;
        inner.set_nodelay(true)?;
        Ok(TimedStream { inner, deadline })
    }
}

impl Read for TimedStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.set_read_timeout(Some(self.deadline.remaining()?))?;
        self.inner.read(buf).map_err(timeout_kind)
    }
}

impl Write for TimedStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.set_write_timeout(Some(self.deadline.remaining()?))?;
        self.inner.write(buf).map_err(timeout_kind)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A socket timeout reads as `WouldBlock` on Unix: call it what it is.
pub(crate) fn timeout_kind(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::WouldBlock {
        io::Error::new(io::ErrorKind::TimedOut, "i/o timeout")
    } else {
        e
    }
}

/// Resolves `host` with the system resolver by the deadline (the lookup runs on a thread of its own, as getaddrinfo
/// cannot be interrupted).
pub(crate) fn lookup(host: &str, deadline: Deadline) -> io::Result<Vec<IpAddr>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let name = host.to_string();
    std::thread::Builder::new().name("blackbox-lookup".into()).spawn(move || {
        let r = (name.as_str(), 0).to_socket_addrs().map(|a| a.map(|s| s.ip()).collect::<Vec<_>>());
        let _ = tx.send(r);
    })?;
    match rx.recv_timeout(deadline.remaining()?) {
        Ok(r) => {
            let ips = r.map_err(|e| io::Error::new(e.kind(), format!("lookup {host}: {e}")))?;
            if ips.is_empty() {
                return Err(io::Error::new(io::ErrorKind::NotFound, format!("lookup {host}: no such host")));
            }
            Ok(ips)
        }
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, format!("lookup {host}: i/o timeout"))),
    }
}

/// FNV-1a (32 bit) of the address bytes: upstream's `probe_ip_addr_hash`.
pub(crate) fn ip_hash(ip: IpAddr) -> f64 {
    let bytes: Vec<u8> = match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets().to_vec(),
        },
    };
    let mut h: u32 = 0x811c9dc5;
    for b in bytes {
        h ^= b as u32;
        h = h.wrapping_mul(0x01000193);
    }
    h as f64
}

fn is_v4(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(_) => true,
        IpAddr::V6(v6) => v6.to_ipv4_mapped().is_some(),
    }
}

/// Upstream's `chooseProtocol`: resolves `host`, records `probe_dns_lookup_time_seconds`, `probe_ip_protocol` and
/// `probe_ip_addr_hash`, and returns the address of the preferred family (or of the other one when falling back
/// is allowed) with the lookup time.
pub(crate) fn choose_protocol(p: &mut Probe, ip: &IpProtocol, host: &str, deadline: Deadline) -> (Result<IpAddr, String>, f64) {
    let start = Instant::now();
    let result = choose(p, ip, host, deadline);
    let lookup_time = start.elapsed().as_secs_f64();
    p.gauge("probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds", lookup_time);
    let (family, hash) = match &result {
        Ok(addr) => (if is_v4(addr) { 4.0 } else { 6.0 }, ip_hash(*addr)),
        Err(_) => (0.0, 0.0),
    };
    p.gauge("probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6", family);
    p.gauge("probe_ip_addr_hash", "Specifies the hash of IP address. It's useful to detect if the IP address changes.", hash);
    (result, lookup_time)
}

fn choose(p: &mut Probe, ip: &IpProtocol, host: &str, deadline: Deadline) -> Result<IpAddr, String> {
    let want_v6 = ip.prefers_v6();
    let family = if want_v6 { "ip6" } else { "ip4" };
    p.debug(format!("Resolving target address target={host} ip_protocol={family}"));
    let ips = match lookup(host, deadline) {
        Ok(ips) => ips,
        Err(e) => {
            p.error(format!("Resolution with IP protocol failed target={host} ip_protocol={family} err={e}"));
            return Err(e.to_string());
        }
    };
    if let Some(found) = ips.iter().find(|a| is_v4(a) != want_v6) {
        p.debug(format!("Resolved target address target={host} ip={found}"));
        return Ok(*found);
    }
    if !ip.fallback {
        let e = format!("lookup {host}: no suitable address found");
        p.error(format!("Resolution with IP protocol failed target={host} ip_protocol={family} err={e}"));
        return Err(e);
    }
    match ips.last() {
        Some(fallback) => {
            p.debug(format!("Resolved target address target={host} ip={fallback}"));
            Ok(*fallback)
        }
        None => Err("unable to find ip; no fallback".into()),
    }
}

/// Splits `host:port` as Go's `net.SplitHostPort` does (brackets around IPv6 hosts required when a port follows).
pub(crate) fn split_host_port(s: &str) -> Result<(String, String), String> {
    let missing = || format!("address {s}: missing port in address");
    if let Some(rest) = s.strip_prefix('[') {
        let Some(end) = rest.find(']') else { return Err(format!("address {s}: missing ']' in address")) };
        let host = &rest[..end];
        let after = &rest[end + 1..];
        let Some(port) = after.strip_prefix(':') else { return Err(missing()) };
        if port.contains(':') {
            return Err(format!("address {s}: too many colons in address"));
        }
        return Ok((host.to_string(), port.to_string()));
    }
    let Some(i) = s.rfind(':') else { return Err(missing()) };
    let host = &s[..i];
    if host.contains(':') {
        return Err(format!("address {s}: too many colons in address"));
    }
    Ok((host.to_string(), s[i + 1..].to_string()))
}

/// Resolves a port name or number (Go accepts service names; the common ones are enough here).
pub(crate) fn port_number(port: &str) -> Result<u16, String> {
    if let Ok(n) = port.parse::<u16>() {
        return Ok(n);
    }
    let n = match port {
        "http" => 80,
        "https" => 443,
        "domain" => 53,
        "smtp" => 25,
        "ssh" => 22,
        "imap" => 143,
        "imaps" => 993,
        "pop3" => 110,
        "ldap" => 389,
        "ldaps" => 636,
        _ => return Err(format!("lookup port {port}: unknown port")),
    };
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_as_go_splits_it() {
        assert_eq!(split_host_port("127.0.0.1:80").unwrap(), ("127.0.0.1".into(), "80".into()));
        assert_eq!(split_host_port("[::1]:53").unwrap(), ("::1".into(), "53".into()));
        assert!(split_host_port("example.com").is_err());
        assert!(split_host_port("::1:53").is_err());
    }

    #[test]
    fn fnv_hash_of_the_address() {
        // FNV-1a 32 of 127.0.0.1's four bytes.
        let mut h: u32 = 0x811c9dc5;
        for b in [127u8, 0, 0, 1] {
            h ^= b as u32;
            h = h.wrapping_mul(0x01000193);
        }
        assert_eq!(ip_hash("127.0.0.1".parse().unwrap()), h as f64);
    }
}
