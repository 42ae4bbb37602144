//! The `dns` prober: one query (`query_name`, `query_type`, `query_class`) to the target server over UDP, TCP or
//! TCP with TLS, checked against the valid rcodes and the RR validators. The wire format is written and read
//! here (RFC 1035 with name compression); records print as miekg/dns prints them, which is what the validators'
//! regular expressions are written against.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use regex::Regex;

use super::config::{DnsProbe, RrValidator};
use super::net::{self, Deadline, TimedStream};
use super::tls::{self, Conn};
use super::Probe;

/// miekg/dns's type names.
const TYPES: &[(&str, u16)] = &[
    ("None", 0),
    ("A", 1),
    ("NS", 2),
    ("MD", 3),
    ("MF", 4),
    ("CNAME", 5),
    ("SOA", 6),
    ("MB", 7),
    ("MG", 8),
    ("MR", 9),
    ("NULL", 10),
    ("PTR", 12),
    ("HINFO", 13),
    ("MINFO", 14),
    ("MX", 15),
    ("TXT", 16),
    ("RP", 17),
    ("AFSDB", 18),
    ("X25", 19),
    ("ISDN", 20),
    ("RT", 21),
    ("NSAPPTR", 23),
    ("SIG", 24),
    ("KEY", 25),
    ("PX", 26),
    ("GPOS", 27),
    ("AAAA", 28),
    ("LOC", 29),
    ("NXT", 30),
    ("EID", 31),
    ("NIMLOC", 32),
    ("SRV", 33),
    ("ATMA", 34),
    ("NAPTR", 35),
    ("KX", 36),
    ("CERT", 37),
    ("DNAME", 39),
    ("OPT", 41),
    ("APL", 42),
    ("DS", 43),
    ("SSHFP", 44),
    ("IPSECKEY", 45),
    ("RRSIG", 46),
    ("NSEC", 47),
    ("DNSKEY", 48),
    ("DHCID", 49),
    ("NSEC3", 50),
    ("NSEC3PARAM", 51),
    ("TLSA", 52),
    ("SMIMEA", 53),
    ("HIP", 55),
    ("NINFO", 56),
    ("RKEY", 57),
    ("TALINK", 58),
    ("CDS", 59),
    ("CDNSKEY", 60),
    ("OPENPGPKEY", 61),
    ("CSYNC", 62),
    ("ZONEMD", 63),
    ("SVCB", 64),
    ("HTTPS", 65),
    ("SPF", 99),
    ("UINFO", 100),
    ("UID", 101),
    ("GID", 102),
    ("UNSPEC", 103),
    ("NID", 104),
    ("L32", 105),
    ("L64", 106),
    ("LP", 107),
    ("EUI48", 108),
    ("EUI64", 109),
    ("TKEY", 249),
    ("TSIG", 250),
    ("IXFR", 251),
    ("AXFR", 252),
    ("MAILB", 253),
    ("MAILA", 254),
    ("ANY", 255),
    ("URI", 256),
    ("CAA", 257),
    ("AVC", 258),
    ("TA", 32768),
    ("DLV", 32769),
    ("Reserved", 65535),
];

const CLASSES: &[(&str, u16)] = &[("IN", 1), ("CS", 2), ("CH", 3), ("HS", 4), ("NONE", 254), ("ANY", 255)];

const RCODES: &[(&str, u16)] = &[
    ("NOERROR", 0),
    ("FORMERR", 1),
    ("SERVFAIL", 2),
    ("NXDOMAIN", 3),
    ("NOTIMP", 4),
    ("REFUSED", 5),
    ("YXDOMAIN", 6),
    ("YXRRSET", 7),
    ("NXRRSET", 8),
    ("NOTAUTH", 9),
    ("NOTZONE", 10),
    ("BADSIG", 16),
    ("BADVERS", 16),
    ("BADKEY", 17),
    ("BADTIME", 18),
    ("BADMODE", 19),
    ("BADNAME", 20),
    ("BADALG", 21),
    ("BADTRUNC", 22),
    ("BADCOOKIE", 23),
];

pub(crate) fn type_code(name: &str) -> Option<u16> {
    TYPES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

pub(crate) fn class_code(name: &str) -> Option<u16> {
    CLASSES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

fn type_name(code: u16) -> String {
    TYPES.iter().find(|(_, c)| *c == code).map_or_else(|| format!("TYPE{code}"), |(n, _)| n.to_string())
}

fn class_name(code: u16) -> String {
    CLASSES.iter().find(|(_, c)| *c == code).map_or_else(|| format!("CLASS{code}"), |(n, _)| n.to_string())
}

fn rcode_name(code: u16) -> String {
    RCODES.iter().find(|(_, c)| *c == code).map_or_else(|| code.to_string(), |(n, _)| n.to_string())
}

/// A resource record: its printed form (miekg's `RR.String()`) and, for SOA, the serial.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Record {
    pub text: String,
    pub rtype: u16,
    pub soa_serial: Option<u32>,
}

/// A decoded response.
#[derive(Clone, Debug, Default)]
pub(crate) struct Message {
    pub rcode: u16,
    pub answer: Vec<Record>,
    pub authority: Vec<Record>,
    pub additional: Vec<Record>,
}

/// A query message: one question, recursion desired as asked.
pub(crate) fn encode_query(id: u16, name: &str, qtype: u16, qclass: u16, recursion: bool) -> Result<Vec<u8>, String> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&(if recursion { 0x0100u16 } else { 0 }).to_be_bytes());
    m.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    encode_name(&mut m, name)?;
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&qclass.to_be_bytes());
    Ok(m)
}

/// A domain name in wire form (`\.` escapes a dot inside a label).
pub(crate) fn encode_name(out: &mut Vec<u8>, name: &str) -> Result<(), String> {
    let mut label = Vec::new();
    let mut chars = name.bytes().peekable();
    let mut labels: Vec<Vec<u8>> = Vec::new();
    while let Some(b) = chars.next() {
        match b {
            b'\\' => {
                if let Some(n) = chars.next() {
                    label.push(n);
                }
            }
            b'.' => labels.push(std::mem::take(&mut label)),
            b => label.push(b),
        }
    }
    if !label.is_empty() {
        labels.push(label);
    }
    for l in labels {
        if l.is_empty() {
            return Err(format!("bad domain name {name:?}: empty label"));
        }
        if l.len() > 63 {
            return Err(format!("bad domain name {name:?}: label longer than 63 bytes"));
        }
        out.push(l.len() as u8);
        out.extend_from_slice(&l);
    }
    out.push(0);
    Ok(())
}

fn bad() -> String {
    "dns: bad message".to_string()
}

fn u16_at(m: &[u8], at: usize) -> Result<u16, String> {
    Ok(u16::from_be_bytes([*m.get(at).ok_or_else(bad)?, *m.get(at + 1).ok_or_else(bad)?]))
}

fn u32_at(m: &[u8], at: usize) -> Result<u32, String> {
    Ok((u16_at(m, at)? as u32) << 16 | u16_at(m, at + 2)? as u32)
}

/// Reads a (possibly compressed) name at `at`; returns it printed (miekg's escaping) and the offset after it.
fn read_name(m: &[u8], mut at: usize) -> Result<(String, usize), String> {
    let mut out = String::new();
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *m.get(at).ok_or_else(bad)? as usize;
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    at += 1;
                    break;
                }
                let label = m.get(at + 1..at + 1 + len).ok_or_else(bad)?;
                for &b in label {
                    match b {
                        b'.' | b' ' | b'\'' | b'@' | b';' | b'(' | b')' | b'"' | b'\\' => {
                            out.push('\\');
                            out.push(b as char);
                        }
                        0x21..=0x7e => out.push(b as char),
                        _ => out.push_str(&format!("\\{b:03}")),
                    }
                }
                out.push('.');
                at += 1 + len;
            }
            0xc0 => {
                jumps += 1;
                if jumps > 64 {
                    return Err("dns: too many compression pointers".into());
                }
                let ptr = (u16_at(m, at)? & 0x3fff) as usize;
                if end.is_none() {
                    end = Some(at + 2);
                }
                at = ptr;
            }
            _ => return Err(bad()),
        }
    }
    if out.is_empty() {
        out.push('.');
    }
    Ok((out, end.unwrap_or(at)))
}

/// Character strings as miekg prints TXT data: each quoted, `"` and `\` escaped, other bytes outside the
/// printable range as `\DDD`.
fn quoted(data: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in data {
        match b {
            b'"' | b'\\' => {
                s.push('\\');
                s.push(b as char);
            }
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\{b:03}")),
        }
    }
    s.push('"');
    s
}

fn character_strings(rdata: &[u8]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < rdata.len() {
        let len = rdata[i] as usize;
        out.push(quoted(rdata.get(i + 1..i + 1 + len).ok_or_else(bad)?));
        i += 1 + len;
    }
    Ok(out)
}

/// Reads one resource record at `at`; returns it and the offset after it.
fn read_record(m: &[u8], at: usize) -> Result<(Record, usize), String> {
    let (name, at) = read_name(m, at)?;
    let rtype = u16_at(m, at)?;
    let class = u16_at(m, at + 2)?;
    let ttl = u32_at(m, at + 4)?;
    let rdlen = u16_at(m, at + 8)? as usize;
    let start = at + 10;
    let rdata = m.get(start..start + rdlen).ok_or_else(bad)?;
    let mut soa_serial = None;
    let data = match rtype {
        1 if rdlen == 4 => Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3]).to_string(),
        28 if rdlen == 16 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(rdata);
            Ipv6Addr::from(b).to_string()
        }
        2 | 5 | 12 | 39 => read_name(m, start)?.0,
        15 => format!("{} {}", u16_at(m, start)?, read_name(m, start + 2)?.0),
        16 | 99 => character_strings(rdata)?.join(" "),
        6 => {
            let (ns, next) = read_name(m, start)?;
            let (mbox, next) = read_name(m, next)?;
            let serial = u32_at(m, next)?;
            soa_serial = Some(serial);
            let nums: Vec<String> = (0..4).map(|i| u32_at(m, next + 4 + 4 * i).map(|v| v.to_string())).collect::<Result<_, _>>()?;
            format!("{ns} {mbox} {serial} {}", nums.join(" "))
        }
        33 => format!("{} {} {} {}", u16_at(m, start)?, u16_at(m, start + 2)?, u16_at(m, start + 4)?, read_name(m, start + 6)?.0),
        257 if rdlen >= 2 => {
            let tag_len = rdata[1] as usize;
            let tag = rdata.get(2..2 + tag_len).ok_or_else(bad)?;
            format!("{} {} {}", rdata[0], String::from_utf8_lossy(tag), quoted(&rdata[2 + tag_len..]))
        }
        _ => {
            let hex: String = rdata.iter().map(|b| format!("{b:02X}")).collect();
            if hex.is_empty() {
                format!("\\# {rdlen}")
            } else {
                format!("\\# {rdlen} {hex}")
            }
        }
    };
    let text = format!("{name}\t{ttl}\t{}\t{}\t{data}", class_name(class), type_name(rtype));
    Ok((Record { text, rtype, soa_serial }, start + rdlen))
}

/// Decodes a response message.
pub(crate) fn decode(m: &[u8]) -> Result<Message, String> {
    if m.len() < 12 {
        return Err(bad());
    }
    let flags = u16_at(m, 2)?;
    let counts = [u16_at(m, 4)?, u16_at(m, 6)?, u16_at(m, 8)?, u16_at(m, 10)?];
    let mut at = 12;
    for _ in 0..counts[0] {
        at = read_name(m, at)?.1 + 4;
    }
    let mut sections: [Vec<Record>; 3] = Default::default();
    let mut ext_rcode = 0u16;
    for (i, section) in sections.iter_mut().enumerate() {
        for _ in 0..counts[i + 1] {
            let (r, next) = read_record(m, at)?;
            if r.rtype == 41 {
                // OPT: the TTL field's top byte extends the rcode.
                let ttl_at = read_name(m, at)?.1 + 4;
                ext_rcode = m.get(ttl_at).copied().unwrap_or_default() as u16;
            }
            section.push(r);
            at = next;
        }
    }
    let [answer, authority, additional] = sections;
    Ok(Message { rcode: (ext_rcode << 4) | (flags & 0x000f), answer, authority, additional })
}

fn random_id() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish() as u16
}

/// Sends `query` and reads the answer with the same ID; returns it with the round-trip time (after connecting).
fn exchange(p: &mut Probe, d: &DnsProbe, server: SocketAddr, host: &str, query: &[u8], id: u16, deadline: Deadline) -> io::Result<(Vec<u8>, Duration)> {
    if d.transport_protocol == "tcp" {
        let stream = TimedStream::connect(server, deadline)?;
        let mut conn = if d.dns_over_tls {
            let mut settings = d.tls_config.clone();
            if settings.server_name.is_empty() {
                settings.server_name = host.to_string();
            }
            let config = tls::client_config(&settings).map_err(io::Error::other)?;
            tls::handshake(config, &settings.server_name, stream)?.0
        } else {
            Conn::Plain(stream)
        };
        let start = Instant::now();
        let mut framed = (query.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(query);
        conn.write_all(&framed)?;
        conn.flush()?;
        loop {
            let mut len = [0u8; 2];
            conn.read_exact(&mut len)?;
            let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
            conn.read_exact(&mut buf)?;
            if u16_at(&buf, 0).ok() == Some(id) {
                return Ok((buf, start.elapsed()));
            }
        }
    }
    let local: IpAddr = if !d.source_ip_address.is_empty() {
        let ip = d
            .source_ip_address
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("error parsing source ip address: {}", d.source_ip_address)))?;
        p.info(format!("Using local address srcIP={ip}"));
        ip
    } else if server.is_ipv4() {
        Ipv4Addr::UNSPECIFIED.into()
    } else {
        Ipv6Addr::UNSPECIFIED.into()
    };
    let sock = UdpSocket::bind(SocketAddr::new(local, 0))?;
    sock.connect(server)?;
    let start = Instant::now();
    sock.set_write_timeout(Some(deadline.remaining()?))?;
    sock.send(query)?;
    let mut buf = vec![0u8; 65535];
    loop {
        sock.set_read_timeout(Some(deadline.remaining()?))?;
        let n = sock.recv(&mut buf).map_err(net::timeout_kind)?;
        if u16_at(&buf[..n], 0).ok() == Some(id) {
            buf.truncate(n);
            return Ok((buf, start.elapsed()));
        }
    }
}

/// Whether the response's rcode is one of `valid` (NOERROR when not set).
fn valid_rcode(p: &mut Probe, rcode: u16, valid: &Option<Vec<String>>) -> bool {
    let mut codes = Vec::new();
    match valid {
        None => codes.push(0),
        Some(names) => {
            for n in names {
                match RCODES.iter().find(|(name, _)| name == n) {
                    Some((_, c)) => codes.push(*c),
                    None => {
                        p.error(format!("Invalid rcode rcode={n}"));
                        return false;
                    }
                }
            }
        }
    }
    if codes.contains(&rcode) {
        p.info(format!("Rcode is valid rcode={rcode} string_rcode={}", rcode_name(rcode)));
        return true;
    }
    p.error(format!("Rcode is not one of the valid rcodes rcode={rcode} string_rcode={} valid_rcodes={codes:?}", rcode_name(rcode)));
    false
}

/// Upstream's `validRRs` (Go's `regexp.MatchString`, compiled per use).
fn valid_rrs(p: &mut Probe, rrs: &[Record], v: &RrValidator) -> bool {
    if rrs.is_empty() && !v.fail_if_not_matches_regexp.is_empty() {
        p.error("fail_if_not_matches_regexp specified but no RRs returned");
        return false;
    }
    if rrs.is_empty() && !v.fail_if_none_matches_regexp.is_empty() {
        p.error("fail_if_none_matches_regexp specified but no RRs returned");
        return false;
    }
    let matches = |p: &mut Probe, re: &str, text: &str| -> Option<bool> {
        match Regex::new(re) {
            Ok(r) => Some(r.is_match(text)),
            Err(e) => {
                p.error(format!("Error matching regexp regexp={re} err={e}"));
                None
            }
        }
    };
    let (mut any_match, mut all_match) = (false, true);
    for rr in rrs {
        p.info(format!("Validating RR rr={}", rr.text));
        for re in &v.fail_if_matches_regexp {
            let Some(m) = matches(p, re, &rr.text) else { return false };
            if m {
                p.error(format!("At least one RR matched regexp regexp={re} rr={}", rr.text));
                return false;
            }
        }
        for re in &v.fail_if_all_match_regexp {
            let Some(m) = matches(p, re, &rr.text) else { return false };
            if !m {
                all_match = false;
            }
        }
        for re in &v.fail_if_not_matches_regexp {
            let Some(m) = matches(p, re, &rr.text) else { return false };
            if !m {
                p.error(format!("At least one RR did not match regexp regexp={re} rr={}", rr.text));
                return false;
            }
        }
        for re in &v.fail_if_none_matches_regexp {
            let Some(m) = matches(p, re, &rr.text) else { return false };
            if m {
                any_match = true;
            }
        }
    }
    if !v.fail_if_all_match_regexp.is_empty() && !all_match {
        p.error("Not all RRs matched regexp");
        return false;
    }
    if !v.fail_if_none_matches_regexp.is_empty() && !any_match {
        p.error("None of the RRs did matched any regexp");
        return false;
    }
    true
}

pub(crate) fn probe(p: &mut Probe, target: &str, d: &DnsProbe, deadline: Deadline) -> bool {
    let mut phases = [("connect", 0.0), ("request", 0.0), ("resolve", 0.0)];
    let ok = run(p, target, d, deadline, &mut phases);
    for (phase, v) in phases {
        p.gauge_vec("probe_dns_duration_seconds", "Duration of DNS request by phase", &["phase"], vec![phase.into()], v);
    }
    ok
}

fn run(p: &mut Probe, target: &str, d: &DnsProbe, deadline: Deadline, phases: &mut [(&str, f64); 3]) -> bool {
    for (name, help) in [
        ("probe_dns_answer_rrs", "Returns number of entries in the answer resource record list"),
        ("probe_dns_authority_rrs", "Returns number of entries in the authority resource record list"),
        ("probe_dns_additional_rrs", "Returns number of entries in the additional resource record list"),
        ("probe_dns_query_succeeded", "Displays whether or not the query was executed successfully"),
    ] {
        p.gauge(name, help, 0.0);
    }
    let qclass = if d.query_class.is_empty() { 1 } else { class_code(&d.query_class).unwrap_or(1) };
    let qtype = if d.query_type.is_empty() { 255 } else { type_code(&d.query_type).unwrap_or(255) };
    let mut d = d.clone();
    if d.transport_protocol.is_empty() {
        d.transport_protocol = "udp".into();
    }
    if d.transport_protocol != "udp" && d.transport_protocol != "tcp" {
        p.error(format!("Configuration error: Expected transport protocol udp or tcp protocol={}", d.transport_protocol));
        return false;
    }
    let (host, port) = match net::split_host_port(target) {
        Ok(hp) => hp,
        // Only a host: the default port.
        Err(_) => (target.to_string(), if d.dns_over_tls { "853".into() } else { "53".into() }),
    };
    let (ip, lookup_time) = net::choose_protocol(p, &d.ip, &host, deadline);
    let ip = match ip {
        Ok(ip) => ip,
        Err(e) => {
            p.error(format!("Error resolving address err={e}"));
            return false;
        }
    };
    phases[2].1 += lookup_time;
    if d.dns_over_tls && d.transport_protocol != "tcp" {
        p.error(format!("Configuration error: Expected transport protocol tcp for DoT protocol={}", d.transport_protocol));
        return false;
    }
    let port = match net::port_number(&port) {
        Ok(p) => p,
        Err(e) => {
            p.error(format!("Error while sending a DNS query err={e}"));
            return false;
        }
    };
    let server = SocketAddr::new(ip, port);
    let id = random_id();
    let name = if d.query_name.ends_with('.') { d.query_name.clone() } else { format!("{}.", d.query_name) };
    let query = match encode_query(id, &name, qtype, qclass, d.recursion_desired) {
        Ok(q) => q,
        Err(e) => {
            p.error(format!("Error while sending a DNS query err={e}"));
            return false;
        }
    };
    p.info(format!("Making DNS query target={server} dial_protocol={} query={} type={qtype} class={qclass}", d.transport_protocol, d.query_name));
    let request_start = Instant::now();
    let result = exchange(p, &d, server, &host, &query, id, deadline);
    let total = request_start.elapsed();
    let rtt = result.as_ref().map(|(_, rtt)| *rtt).unwrap_or_default();
    phases[0].1 = total.saturating_sub(rtt).as_secs_f64();
    phases[1].1 = rtt.as_secs_f64();
    let response = match result.map_err(|e| e.to_string()).and_then(|(buf, _)| decode(&buf)) {
        Ok(r) => r,
        Err(e) => {
            p.error(format!("Error while sending a DNS query err={e}"));
            return false;
        }
    };
    p.info(format!("Got response rcode={} answers={}", rcode_name(response.rcode), response.answer.len()));
    p.gauge("probe_dns_answer_rrs", "Returns number of entries in the answer resource record list", response.answer.len() as f64);
    p.gauge("probe_dns_authority_rrs", "Returns number of entries in the authority resource record list", response.authority.len() as f64);
    p.gauge("probe_dns_additional_rrs", "Returns number of entries in the additional resource record list", response.additional.len() as f64);
    p.gauge("probe_dns_query_succeeded", "Displays whether or not the query was executed successfully", 1.0);
    if qtype == 6 {
        let serial = response.answer.iter().filter_map(|r| r.soa_serial).next_back().unwrap_or_default();
        p.gauge("probe_dns_serial", "Returns the serial number of the zone", serial as f64);
    }
    if !valid_rcode(p, response.rcode, &d.valid_rcodes) {
        return false;
    }
    p.info("Validating Answer RRs");
    if !valid_rrs(p, &response.answer, &d.validate_answer_rrs) {
        p.error("Answer RRs validation failed");
        return false;
    }
    p.info("Validating Authority RRs");
    if !valid_rrs(p, &response.authority, &d.validate_authority_rrs) {
        p.error("Authority RRs validation failed");
        return false;
    }
    p.info("Validating Additional RRs");
    if !valid_rrs(p, &response.additional, &d.validate_additional_rrs) {
        p.error("Additional RRs validation failed");
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_wire_form() {
        let q = encode_query(0x1234, "example.com.", 1, 1, true).unwrap();
        assert_eq!(&q[..12], &[0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&q[12..], b"\x07example\x03com\x00\x00\x01\x00\x01");
        assert!(encode_query(1, "a..b.", 1, 1, true).is_err());
    }

    #[test]
    fn names_and_records_print_as_miekg() {
        // A response to example.com A with a compressed answer name.
        let mut m = encode_query(7, "example.com.", 1, 1, true).unwrap();
        m[2] = 0x81;
        m[3] = 0x80;
        m[7] = 1; // one answer
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34]);
        let r = decode(&m).unwrap();
        assert_eq!(r.rcode, 0);
        assert_eq!(r.answer[0].text, "example.com.\t3600\tIN\tA\t93.184.216.34");
    }

    #[test]
    fn txt_quoting() {
        assert_eq!(character_strings(b"\x05a\"b c").unwrap(), vec!["\"a\\\"b c\"".to_string()]);
    }

    #[test]
    fn truncated_messages_are_errors() {
        assert!(decode(&[0, 1, 2]).is_err());
        let mut m = encode_query(7, "example.com.", 1, 1, true).unwrap();
        m[7] = 1;
        assert!(decode(&m).is_err());
    }
}
