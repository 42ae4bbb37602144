//! The `icmp` prober: one echo request and its reply. As upstream, an unprivileged ICMP datagram socket is tried
//! first (Linux allows it to the groups in `net.ipv4.ping_group_range`), then a raw socket (root or
//! `CAP_NET_RAW`); when neither is allowed the probe fails with the reason in the log.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use super::config::IcmpProbe;
use super::net::{self, Deadline};
use super::Probe;

const PAYLOAD: &[u8] = b"Prometheus Blackbox Exporter";

/// The echo ID: the process ID's low 16 bits, random in a container where the PID is 1 (upstream's rule).
fn echo_id() -> u16 {
    static ID: OnceLock<u16> = OnceLock::new();
    *ID.get_or_init(|| {
        let pid = std::process::id();
        if pid == 1 {
            random_u16()
        } else {
            (pid & 0xffff) as u16
        }
    })
}

fn random_u16() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.finish() as u16
}

/// The next sequence number: from a random start, so restarted exporters do not probe in step.
fn next_sequence() -> u16 {
    static SEQ: OnceLock<AtomicU16> = OnceLock::new();
    SEQ.get_or_init(|| AtomicU16::new(random_u16())).fetch_add(1, Ordering::Relaxed).wrapping_add(1)
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in data.chunks(2) {
        let word = if chunk.len() == 2 { u16::from_be_bytes([chunk[0], chunk[1]]) } else { u16::from_be_bytes([chunk[0], 0]) };
        sum += word as u32;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request (or the reply expected to it): type, code 0, checksum (IPv4 only: the kernel fills ICMPv6's),
/// ID, sequence, data.
fn echo(kind: u8, id: u16, seq: u16, data: &[u8], v6: bool) -> Vec<u8> {
    let mut m = vec![kind, 0, 0, 0];
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(data);
    if !v6 {
        let c = checksum(&m);
        m[2..4].copy_from_slice(&c.to_be_bytes());
    }
    m
}

struct Socket {
    fd: OwnedFd,
    v6: bool,
    /// A datagram ("ping") socket: the kernel picks the echo ID and strips the IP header.
    unprivileged: bool,
}

fn last_error(what: &str) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

fn sockaddr(ip: IpAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
    match ip {
        IpAddr::V4(v4) => {
            // SAFETY: sockaddr_storage is large enough and suitably aligned for sockaddr_in.
            let sin = unsafe { &mut *(&mut storage as *mut libc::sockaddr_storage as *mut libc::sockaddr_in) };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_addr = libc::in_addr { s_addr: u32::from_ne_bytes(v4.octets()) };
            (storage, size_of::<libc::sockaddr_in>() as libc::socklen_t)
        }
        IpAddr::V6(v6) => {
            // SAFETY: sockaddr_storage is large enough and suitably aligned for sockaddr_in6.
            let sin6 = unsafe { &mut *(&mut storage as *mut libc::sockaddr_storage as *mut libc::sockaddr_in6) };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_addr = libc::in6_addr { s6_addr: v6.octets() };
            (storage, size_of::<libc::sockaddr_in6>() as libc::socklen_t)
        }
    }
}

fn peer_ip(storage: &libc::sockaddr_storage) -> Option<IpAddr> {
    match storage.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin = unsafe { &*(storage as *const libc::sockaddr_storage as *const libc::sockaddr_in) };
            Some(IpAddr::V4(Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes())))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let sin6 = unsafe { &*(storage as *const libc::sockaddr_storage as *const libc::sockaddr_in6) };
            Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
        }
        _ => None,
    }
}

fn set_int(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: the option value is a live c_int of the size passed.
    let r = unsafe {
        libc::setsockopt(fd.as_raw_fd(), level, name, &value as *const libc::c_int as *const libc::c_void, size_of::<libc::c_int>() as libc::socklen_t)
    };
    if r < 0 {
        return Err(last_error("setsockopt"));
    }
    Ok(())
}

impl Socket {
    /// A datagram ICMP socket when allowed, else a raw one; the errors of both when neither is.
    fn open(v6: bool, p: &mut Probe) -> io::Result<Socket> {
        let (domain, proto) = if v6 { (libc::AF_INET6, libc::IPPROTO_ICMPV6) } else { (libc::AF_INET, libc::IPPROTO_ICMP) };
        let mut unprivileged_err = None;
        for (kind, unprivileged) in [(libc::SOCK_DGRAM, true), (libc::SOCK_RAW, false)] {
            // SAFETY: socket(2) with constant arguments; the descriptor is owned right away.
            let fd = unsafe { libc::socket(domain, kind | libc::SOCK_CLOEXEC, proto) };
            if fd >= 0 {
                // SAFETY: fd is a fresh descriptor nobody else owns.
                let fd = unsafe { OwnedFd::from_raw_fd(fd) };
                return Ok(Socket { fd, v6, unprivileged });
            }
            let e = io::Error::last_os_error();
            if unprivileged {
                p.debug(format!("Unable to do unprivileged listen on socket, will attempt privileged err={e}"));
                unprivileged_err = Some(e);
            } else {
                let first = unprivileged_err.map(|u| u.to_string()).unwrap_or_default();
                return Err(io::Error::new(
                    e.kind(),
                    format!("no ICMP socket allowed: unprivileged (datagram) socket: {first} (see net.ipv4.ping_group_range); raw socket: {e} (needs root or CAP_NET_RAW)"),
                ));
            }
        }
        Err(io::Error::other("no ICMP socket"))
    }

    fn bind(&self, ip: IpAddr) -> io::Result<()> {
        let (addr, len) = sockaddr(ip);
        // SAFETY: addr is a valid sockaddr of length len.
        let r = unsafe { libc::bind(self.fd.as_raw_fd(), &addr as *const libc::sockaddr_storage as *const libc::sockaddr, len) };
        if r < 0 {
            return Err(last_error("bind"));
        }
        Ok(())
    }

    fn send_to(&self, data: &[u8], ip: IpAddr) -> io::Result<()> {
        let (addr, len) = sockaddr(ip);
        // SAFETY: data and addr are valid for the lengths passed.
        let r = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                data.as_ptr() as *const libc::c_void,
                data.len(),
                0,
                &addr as *const libc::sockaddr_storage as *const libc::sockaddr,
                len,
            )
        };
        if r < 0 {
            return Err(last_error("sendto"));
        }
        Ok(())
    }

    /// One packet by the deadline: the ICMP message (IP header removed), its sender and the hop limit (TTL)
    /// it arrived with, when known.
    fn recv(&self, buf: &mut [u8], deadline: Deadline) -> io::Result<(usize, Option<IpAddr>, Option<i32>)> {
        let left = deadline.remaining()?;
        let tv = libc::timeval { tv_sec: left.as_secs() as libc::time_t, tv_usec: left.subsec_micros().max(1) as libc::suseconds_t };
        // SAFETY: the option value is a live timeval of the size passed.
        let r = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                &tv as *const libc::timeval as *const libc::c_void,
                size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(last_error("setsockopt SO_RCVTIMEO"));
        }
        // SAFETY: plain old data; all-zero is valid.
        let mut from: libc::sockaddr_storage = unsafe { zeroed() };
        let mut control = [0u64; 16];
        let mut iov = libc::iovec { iov_base: buf.as_mut_ptr() as *mut libc::c_void, iov_len: buf.len() };
        // SAFETY: plain old data; all-zero is valid, the pointers are set below.
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_name = &mut from as *mut libc::sockaddr_storage as *mut libc::c_void;
        msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: msg points at live buffers of the lengths it states.
        let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, 0) };
        if n < 0 {
            return Err(net::timeout_kind(io::Error::last_os_error()));
        }
        let mut n = n as usize;
        let mut hop_limit = None;
        // SAFETY: msg was filled by recvmsg; the CMSG macros walk the control buffer it describes.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                let (level, kind) = ((*cmsg).cmsg_level, (*cmsg).cmsg_type);
                if (level == libc::IPPROTO_IP && kind == libc::IP_TTL) || (level == libc::IPPROTO_IPV6 && kind == libc::IPV6_HOPLIMIT) {
                    hop_limit = Some(std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const libc::c_int));
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
        if !self.v6 && !self.unprivileged {
            // A raw IPv4 socket hands over the IP header: its TTL is the hop limit.
            let header = (buf.first().copied().unwrap_or(0x45) & 0x0f) as usize * 4;
            if n < header {
                return Ok((0, peer_ip(&from), None));
            }
            hop_limit = buf.get(8).map(|t| *t as i32);
            buf.copy_within(header..n, 0);
            n -= header;
        }
        Ok((n, peer_ip(&from), hop_limit))
    }
}

pub(crate) fn probe(p: &mut Probe, target: &str, c: &IcmpProbe, deadline: Deadline) -> bool {
    let mut phases = [("resolve", 0.0), ("rtt", 0.0), ("setup", 0.0)];
    let ok = run(p, target, c, deadline, &mut phases);
    for (phase, v) in phases {
        p.gauge_vec("probe_icmp_duration_seconds", "Duration of icmp request by phase", &["phase"], vec![phase.into()], v);
    }
    ok
}

fn run(p: &mut Probe, target: &str, c: &IcmpProbe, deadline: Deadline, phases: &mut [(&str, f64); 3]) -> bool {
    let (dst, lookup_time) = net::choose_protocol(p, &c.ip, target, deadline);
    let dst = match dst {
        Ok(ip) => ip,
        Err(e) => {
            p.error(format!("Error resolving address err={e}"));
            return false;
        }
    };
    phases[0].1 += lookup_time;
    let dst = match dst {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(dst, IpAddr::V4),
        v4 => v4,
    };
    let v6 = dst.is_ipv6();
    let src: Option<IpAddr> = if c.source_ip_address.is_empty() {
        None
    } else {
        match c.source_ip_address.parse() {
            Ok(ip) => {
                p.info(format!("Using source address srcIP={ip}"));
                Some(ip)
            }
            Err(_) => {
                p.error(format!("Error parsing source ip address srcIP={}", c.source_ip_address));
                return false;
            }
        }
    };
    let setup_start = Instant::now();
    p.info("Creating socket");
    let sock = match Socket::open(v6, p) {
        Ok(s) => s,
        Err(e) => {
            p.error(format!("Error listening to socket err={e}"));
            return false;
        }
    };
    if let Some(src) = src {
        if let Err(e) = sock.bind(src) {
            p.error(format!("Error listening to socket err={e}"));
            return false;
        }
    }
    let (level, recv_opt, ttl_opt) =
        if v6 { (libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, libc::IPV6_UNICAST_HOPS) } else { (libc::IPPROTO_IP, libc::IP_RECVTTL, libc::IP_TTL) };
    if let Err(e) = set_int(&sock.fd, level, recv_opt, 1) {
        p.debug(format!("Failed to set Control Message for retrieving Hop Limit err={e}"));
    }
    if c.ttl > 0 {
        p.debug(format!("Setting TTL ttl={}", c.ttl));
        if let Err(e) = set_int(&sock.fd, level, ttl_opt, c.ttl as libc::c_int) {
            p.debug(format!("Failed to set TTL err={e}"));
        }
    }
    let mut data = PAYLOAD.to_vec();
    if c.payload_size != 0 {
        data.resize(c.payload_size, 0);
        let n = PAYLOAD.len().min(c.payload_size);
        data[..n].copy_from_slice(&PAYLOAD[..n]);
    }
    let (request_type, reply_type) = if v6 { (128u8, 129u8) } else { (8u8, 0u8) };
    let id = echo_id();
    let seq = next_sequence();
    p.info(format!("Creating ICMP packet seq={seq} id={id}"));
    let request = echo(request_type, id, seq, &data, v6);
    phases[2].1 += setup_start.elapsed().as_secs_f64();
    p.info("Writing out packet");
    let rtt_start = Instant::now();
    if let Err(e) = sock.send_to(&request, dst) {
        p.error(format!("Error writing to socket err={e}"));
        return false;
    }
    let mut buf = vec![0u8; 65536];
    p.info("Waiting for reply packets");
    loop {
        let (n, peer, hop_limit) = match sock.recv(&mut buf, deadline) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                p.error(format!("Timeout reading from socket err={e}"));
                return false;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                p.error(format!("Error reading from socket err={e}"));
                if deadline.remaining().is_err() {
                    return false;
                }
                continue;
            }
        };
        if peer != Some(dst) || n < 8 {
            continue;
        }
        let reply = &buf[..n];
        // The kernel picks the ID of a datagram socket's echo: only the sequence and data identify the reply.
        let id_ok = sock.unprivileged || reply[4..6] == id.to_be_bytes();
        if reply[0] == reply_type && reply[1] == 0 && id_ok && reply[6..8] == seq.to_be_bytes() && reply[8..] == data[..] {
            phases[1].1 += rtt_start.elapsed().as_secs_f64();
            if let Some(h) = hop_limit.filter(|h| *h >= 0) {
                p.gauge("probe_icmp_reply_hop_limit", "Replied packet hop limit (TTL for ipv4)", h as f64);
            }
            p.info("Found matching reply packet");
            return true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_checksum_verifies() {
        let m = echo(8, 0x1234, 1, PAYLOAD, false);
        assert_eq!(checksum(&m), 0);
        assert_eq!(&m[4..8], &[0x12, 0x34, 0, 1]);
    }
}
