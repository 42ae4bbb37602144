//! The `http` prober: one HTTP/1.1 request (TLS for `https`), redirects followed as Go's client follows them, and
//! upstream's checks (status codes, HTTP versions, header and body regular expressions, SSL) and metrics.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use url::{Host, Url};

use super::config::HttpProbe;
use super::net::{self, Deadline, TimedStream};
use super::tls::{self, Conn};
use super::Probe;

/// Timings of one round trip (Go's `httptrace` hooks).
#[derive(Default)]
struct Trace {
    tls: bool,
    start: Option<Instant>,
    dns_done: Option<Instant>,
    connect_done: Option<Instant>,
    got_conn: Option<Instant>,
    response_start: Option<Instant>,
    end: Option<Instant>,
    tls_start: Option<Instant>,
    tls_done: Option<Instant>,
}

/// A response head and the connection its body follows on.
struct Response {
    status: u16,
    proto: String,
    /// Header names lowercased, values in arrival order.
    headers: Vec<(String, String)>,
    reader: BufReader<Conn>,
    tls: bool,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }
}

/// What one request needs: where to connect, what to send.
struct Hop {
    url: Url,
    /// The address resolved for the first request (later ones resolve their own host).
    ip: Option<IpAddr>,
    host_header: String,
    method: String,
    body: Option<Vec<u8>>,
}

const PHASES: [&str; 5] = ["connect", "processing", "resolve", "tls", "transfer"];

pub(crate) fn probe(p: &mut Probe, target: &str, h: &HttpProbe, deadline: Deadline, user_agent: &str) -> bool {
    for (name, help) in [
        ("probe_http_content_length", "Length of http content response"),
        ("probe_http_uncompressed_body_length", "Length of uncompressed response body"),
        ("probe_http_redirects", "The number of redirects"),
        ("probe_http_ssl", "Indicates if SSL was used for the final redirect"),
        ("probe_http_status_code", "Response HTTP status code"),
        ("probe_http_version", "Returns the version of HTTP of the probe response"),
        ("probe_failed_due_to_regex", "Indicates if probe failed due to regex"),
    ] {
        p.gauge(name, help, 0.0);
    }
    let mut durations: BTreeMap<&'static str, f64> = BTreeMap::new();
    let success = run(p, target, h, deadline, user_agent, &mut durations);
    for (phase, v) in durations {
        p.gauge_vec("probe_http_duration_seconds", "Duration of http request by phase, summed over all redirects", &["phase"], vec![phase.into()], v);
    }
    success
}

fn run(p: &mut Probe, target: &str, h: &HttpProbe, deadline: Deadline, user_agent: &str, durations: &mut BTreeMap<&'static str, f64>) -> bool {
    let lower = target.to_ascii_lowercase();
    let target = if lower.starts_with("http://") || lower.starts_with("https://") { target.to_string() } else { format!("http://{target}") };
    let url = match Url::parse(&target) {
        Ok(u) if u.host().is_some() => u,
        Ok(_) => {
            p.error(format!("Could not parse target URL err=missing host in {target:?}"));
            return false;
        }
        Err(e) => {
            p.error(format!("Could not parse target URL err={e}"));
            return false;
        }
    };
    let host = bare_host(&url);
    let (ip, lookup_time) = net::choose_protocol(p, &h.ip, &host, deadline);
    *durations.entry("resolve").or_default() += lookup_time;
    let ip = match ip {
        Ok(ip) => ip,
        Err(e) => {
            p.error(format!("Error resolving address err={e}"));
            return false;
        }
    };
    let mut tls_settings = h.tls.clone();
    if tls_settings.server_name.is_empty() {
        tls_settings.server_name = host.clone();
        if let Some((_, v)) = h.headers.iter().rev().find(|(k, _)| k.eq_ignore_ascii_case("host")) {
            tls_settings.server_name = v.clone();
        }
    }
    let tls_config = match tls::client_config(&tls_settings) {
        Ok(c) => c,
        Err(e) => {
            p.error(format!("Error generating HTTP client err={e}"));
            return false;
        }
    };
    for phase in PHASES {
        durations.entry(phase).or_default();
    }
    let method = if h.method.is_empty() { "GET".to_string() } else { h.method.clone() };
    let body = if !h.body.is_empty() {
        Some(h.body.as_bytes().to_vec())
    } else if !h.body_file.is_empty() {
        match std::fs::read(&h.body_file) {
            Ok(b) => Some(b),
            Err(e) => {
                p.error(format!("Error creating request err={e}"));
                return false;
            }
        }
    } else {
        None
    };
    let host_header = h.headers.iter().rev().find(|(k, _)| k.eq_ignore_ascii_case("host")).map(|(_, v)| v.clone()).unwrap_or_else(|| authority(&url));
    let first_host = authority(&url);
    let mut hop = Hop { url, ip: Some(ip), host_header, method, body };
    let mut traces: Vec<Trace> = Vec::new();
    let mut redirects = 0usize;
    let mut request_errored = false;

    // Go's client loop: send, and follow redirects while CheckRedirect allows.
    let mut resp = loop {
        let same_host = authority(&hop.url) == first_host;
        let server_name = if same_host { tls_settings.server_name.clone() } else { bare_host(&hop.url) };
        let mut trace = Trace { tls: hop.url.scheme() == "https", ..Trace::default() };
        p.debug(format!("Making HTTP request url={} host={}", hop.url, hop.host_header));
        let result = round_trip(&hop, h, user_agent, tls_config.clone(), &server_name, deadline, &mut trace);
        traces.push(trace);
        let r = match result {
            Ok(r) => r,
            Err(e) => {
                p.error(format!("Error for HTTP request err={e}"));
                break None;
            }
        };
        let Some(next) = redirect(&hop, &r) else { break Some(r) };
        p.info(format!("Received redirect location={}", r.header("location").unwrap_or_default()));
        redirects = traces.len();
        if redirects > 10 || !h.follow_redirects {
            p.info("Not following redirect");
            request_errored = true;
            break Some(r);
        }
        hop = next;
    };

    let mut success = false;
    let mut content_length: i64 = 0;
    let mut body_bytes: u64 = 0;
    let mut is_tls = false;
    let mut status = 0u16;
    if let Some(r) = resp.as_mut() {
        status = r.status;
        is_tls = r.tls;
        p.debug(format!("Received HTTP response status_code={}", r.status));
        if !h.valid_status_codes.is_empty() {
            success = h.valid_status_codes.contains(&(r.status as i64));
            if !success {
                p.error(format!("Invalid HTTP response status code status_code={} valid_status_codes={:?}", r.status, h.valid_status_codes));
            }
        } else if (200..300).contains(&r.status) {
            success = true;
        } else {
            p.error(format!("Invalid HTTP response status code, wanted 2xx status_code={}", r.status));
        }
        if success && (!h.fail_if_header_matches.is_empty() || !h.fail_if_header_not_matches.is_empty()) {
            success = match_headers(p, r, h);
            p.gauge("probe_failed_due_to_regex", "Indicates if probe failed due to regex", if success { 0.0 } else { 1.0 });
        }
        let head_only = hop.method.eq_ignore_ascii_case("HEAD");
        let (length, mut reader) = body_reader(r, head_only, auto_gzip(&hop, h));
        content_length = length;
        if !h.compression.is_empty() {
            match decompressor(&h.compression, reader) {
                Ok(d) => reader = d,
                Err((e, original)) => {
                    p.error(format!("Failed to get decompressor for HTTP response body err={e}"));
                    success = false;
                    reader = original;
                }
            }
        }
        if h.body_size_limit > 0 {
            reader = Box::new(Limit { inner: reader, left: h.body_size_limit });
        }
        let mut counted = Counter { inner: reader, n: 0 };
        if success && (!h.fail_if_body_matches_regexp.is_empty() || !h.fail_if_body_not_matches_regexp.is_empty()) {
            success = match_body(p, &mut counted, h);
            p.gauge("probe_failed_due_to_regex", "Indicates if probe failed due to regex", if success { 0.0 } else { 1.0 });
        }
        if !request_errored {
            if let Err(e) = io::copy(&mut counted, &mut io::sink()) {
                p.error(format!("Failed to read HTTP response body err={e}"));
                success = false;
            }
            body_bytes = counted.n;
        }
        drop(counted);
        if let Some(t) = traces.last_mut() {
            t.end = Some(Instant::now());
        }
        if let Some(t) = r.header("last-modified").and_then(parse_http_time) {
            p.gauge("probe_http_last_modified_timestamp_seconds", "Returns the Last-Modified HTTP response header in unixtime", t as f64);
        }
        match r.proto.strip_prefix("HTTP/").and_then(|v| v.parse::<f64>().ok()) {
            Some(v) => p.gauge("probe_http_version", "Returns the version of HTTP of the probe response", v),
            None => p.error(format!("Error parsing version number from HTTP version err=invalid syntax {:?}", r.proto)),
        }
        if !h.valid_http_versions.is_empty() && !h.valid_http_versions.contains(&r.proto) {
            p.error(format!("Invalid HTTP version number version={}", r.proto));
            success = false;
        }
    }

    for (i, t) in traces.iter().enumerate() {
        let secs = |a: Option<Instant>, b: Option<Instant>| match (a, b) {
            (Some(a), Some(b)) => b.saturating_duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        if i != 0 {
            *durations.entry("resolve").or_default() += secs(t.start, t.dns_done);
        }
        if t.got_conn.is_none() {
            continue;
        }
        if t.tls {
            *durations.entry("connect").or_default() += secs(t.dns_done, t.connect_done);
            *durations.entry("tls").or_default() += secs(t.tls_start, t.tls_done);
        } else {
            *durations.entry("connect").or_default() += secs(t.dns_done, t.got_conn);
        }
        if t.response_start.is_none() {
            continue;
        }
        *durations.entry("processing").or_default() += secs(t.got_conn, t.response_start);
        if t.end.is_none() {
            continue;
        }
        *durations.entry("transfer").or_default() += secs(t.response_start, t.end);
    }

    if is_tls {
        p.gauge("probe_http_ssl", "Indicates if SSL was used for the final redirect", 1.0);
        if let Some(r) = resp.as_ref() {
            tls::report(p, r.reader.get_ref(), !h.tls.insecure_skip_verify);
        }
        if h.fail_if_ssl {
            p.error("Final request was over SSL");
            success = false;
        }
    } else if h.fail_if_not_ssl && success {
        p.error("Final request was not over SSL");
        success = false;
    }
    p.gauge("probe_http_status_code", "Response HTTP status code", status as f64);
    p.gauge("probe_http_content_length", "Length of http content response", content_length as f64);
    p.gauge("probe_http_uncompressed_body_length", "Length of uncompressed response body", body_bytes as f64);
    p.gauge("probe_http_redirects", "The number of redirects", redirects as f64);
    success
}

/// The host without IPv6 brackets (what is resolved and verified).
fn bare_host(url: &Url) -> String {
    match url.host() {
        Some(Host::Ipv6(a)) => a.to_string(),
        Some(h) => h.to_string(),
        None => String::new(),
    }
}

/// `host[:port]` as the URL has it (Go's `URL.Host`).
fn authority(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(port)) => format!("{h}:{port}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    }
}

/// Whether Go's transport would ask for gzip itself (and so decode it transparently).
fn auto_gzip(hop: &Hop, h: &HttpProbe) -> bool {
    !hop.method.eq_ignore_ascii_case("HEAD") && !h.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("accept-encoding") || k.eq_ignore_ascii_case("range"))
}

/// Go's `CanonicalMIMEHeaderKey` for the usual header names.
fn canonical(key: &str) -> String {
    let mut upper = true;
    key.chars()
        .map(|c| {
            let out = if upper { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() };
            upper = c == '-';
            out
        })
        .collect()
}

fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn read_secret(inline: &str, file: &str) -> io::Result<String> {
    if file.is_empty() {
        return Ok(inline.to_string());
    }
    Ok(std::fs::read_to_string(file)?.trim().to_string())
}

/// The request's header lines, as Go's client writes them (sorted by name after `Host` and `User-Agent`).
fn request_head(hop: &Hop, h: &HttpProbe, user_agent: &str) -> io::Result<Vec<u8>> {
    let path = &hop.url[url::Position::BeforePath..url::Position::AfterQuery];
    let path = if path.is_empty() { "/" } else { path };
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in &h.headers {
        if !k.eq_ignore_ascii_case("host") {
            headers.insert(canonical(k), v.clone());
        }
    }
    if let Some(b) = &h.basic_auth {
        let user = read_secret(&b.username, &b.username_file)?;
        let pass = read_secret(&b.password, &b.password_file)?;
        headers.insert("Authorization".into(), format!("Basic {}", base64(format!("{user}:{pass}").as_bytes())));
    }
    if let Some(a) = &h.authorization {
        let creds = read_secret(&a.credentials, &a.credentials_file)?;
        headers.insert("Authorization".into(), format!("{} {creds}", a.kind));
    }
    let user_agent = headers.remove("User-Agent").unwrap_or_else(|| user_agent.to_string());
    match &hop.body {
        Some(b) => {
            headers.insert("Content-Length".into(), b.len().to_string());
        }
        None if matches!(hop.method.to_ascii_uppercase().as_str(), "POST" | "PUT" | "PATCH") => {
            headers.insert("Content-Length".into(), "0".into());
        }
        None => {}
    }
    if auto_gzip(hop, h) {
        headers.insert("Accept-Encoding".into(), "gzip".into());
    }
    headers.insert("Connection".into(), "close".into());
    let mut out = format!("{} {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {user_agent}\r\n", hop.method, hop.host_header);
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if let Some(b) = &hop.body {
        bytes.extend_from_slice(b);
    }
    Ok(bytes)
}

/// Connects (resolving the host unless this is the first request), handshakes for `https`, sends the request and
/// reads the response head, recording the phases in `trace`.
fn round_trip(
    hop: &Hop,
    h: &HttpProbe,
    user_agent: &str,
    tls_config: Arc<rustls::ClientConfig>,
    server_name: &str,
    deadline: Deadline,
    trace: &mut Trace,
) -> io::Result<Response> {
    let port = hop.url.port_or_known_default().unwrap_or(80);
    let ips = match hop.ip {
        Some(ip) => {
            let now = Instant::now();
            trace.start = Some(now);
            trace.dns_done = Some(now);
            vec![ip]
        }
        None => {
            trace.start = Some(Instant::now());
            let ips = net::lookup(&bare_host(&hop.url), deadline)?;
            trace.dns_done = Some(Instant::now());
            ips
        }
    };
    // As Go's dialer: each address in turn until one connects.
    let mut last_err = io::Error::new(io::ErrorKind::NotFound, "no such host");
    let mut connected = None;
    for ip in ips {
        match TimedStream::connect(SocketAddr::new(ip, port), deadline) {
            Ok(s) => {
                connected = Some(s);
                break;
            }
            Err(e) => last_err = e,
        }
    }
    let stream = connected.ok_or(last_err)?;
    trace.connect_done = Some(Instant::now());
    let conn = if trace.tls {
        let (conn, start, done) = tls::handshake(tls_config, server_name, stream)?;
        trace.tls_start = Some(start);
        trace.tls_done = Some(done);
        conn
    } else {
        Conn::Plain(stream)
    };
    trace.got_conn = Some(Instant::now());
    let tls = matches!(conn, Conn::Tls(_));
    let mut reader = BufReader::new(conn);
    let head = request_head(hop, h, user_agent)?;
    reader.get_mut().write_all(&head)?;
    reader.get_mut().flush()?;
    loop {
        reader.fill_buf()?;
        if trace.response_start.is_none() {
            trace.response_start = Some(Instant::now());
        }
        let (status, proto, headers) = read_head(&mut reader)?;
        // Informational responses precede the real one (101 would switch protocols: taken as final).
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        return Ok(Response { status, proto, headers, reader, tls });
    }
}

fn read_line(r: &mut impl BufRead, budget: &mut usize) -> io::Result<String> {
    let mut line = Vec::new();
    let n = r.take(*budget as u64 + 1).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "unexpected EOF"));
    }
    if n > *budget {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "server response headers exceeded the limit"));
    }
    *budget -= n;
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

type Head = (u16, String, Vec<(String, String)>);

fn read_head(r: &mut impl BufRead) -> io::Result<Head> {
    let mut budget = 1 << 20;
    let status_line = read_line(r, &mut budget)?;
    let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("malformed HTTP response {status_line:?}"));
    let (proto, rest) = status_line.split_once(' ').ok_or_else(bad)?;
    if !proto.starts_with("HTTP/") {
        return Err(bad());
    }
    let code = rest.split(' ').next().unwrap_or_default();
    let status: u16 = code.parse().map_err(|_| bad())?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(r, &mut budget)?;
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    Ok((status, proto.to_string(), headers))
}

/// The next request when `r` redirects (Go's `redirectBehavior` and `Location` handling); `None` when it does not.
fn redirect(hop: &Hop, r: &Response) -> Option<Hop> {
    let (method, keep_body) = match r.status {
        301..=303 => {
            let m = if hop.method.eq_ignore_ascii_case("GET") || hop.method.eq_ignore_ascii_case("HEAD") { hop.method.clone() } else { "GET".into() };
            (m, false)
        }
        307 | 308 => (hop.method.clone(), true),
        _ => return None,
    };
    let loc = r.header("location").filter(|l| !l.is_empty())?;
    let url = hop.url.join(loc).ok()?;
    let relative = Url::parse(loc).is_err() && !loc.starts_with("//");
    // A relative redirect keeps the Host the caller chose; an absolute one names its own.
    let host_header = if relative { hop.host_header.clone() } else { authority(&url) };
    let ip = if relative { hop.ip } else { None };
    Some(Hop { url, ip, host_header, method, body: if keep_body { hop.body.clone() } else { None } })
}

fn match_headers(p: &mut Probe, r: &Response, h: &HttpProbe) -> bool {
    for m in &h.fail_if_header_matches {
        let values = r.header_values(&m.header);
        if values.is_empty() {
            if !m.allow_missing {
                p.error(format!("Missing required header header={}", m.header));
                return false;
            }
            continue;
        }
        if values.iter().any(|v| m.regexp.is_match(v)) {
            p.error(format!("Header matched regular expression header={} regexp={} value_count={}", m.header, m.regexp, values.len()));
            return false;
        }
    }
    for m in &h.fail_if_header_not_matches {
        let values = r.header_values(&m.header);
        if values.is_empty() {
            if !m.allow_missing {
                p.error(format!("Missing required header header={}", m.header));
                return false;
            }
            continue;
        }
        if !values.iter().any(|v| m.regexp.is_match(v)) {
            p.error(format!("Header did not match regular expression header={} regexp={} value_count={}", m.header, m.regexp, values.len()));
            return false;
        }
    }
    true
}

fn match_body(p: &mut Probe, r: &mut impl Read, h: &HttpProbe) -> bool {
    let mut body = Vec::new();
    if let Err(e) = r.read_to_end(&mut body) {
        p.error(format!("Error reading HTTP body err={e}"));
        return false;
    }
    for re in &h.fail_if_body_matches_regexp {
        if re.is_match(&body) {
            p.error(format!("Body matched regular expression regexp={re}"));
            return false;
        }
    }
    for re in &h.fail_if_body_not_matches_regexp {
        if !re.is_match(&body) {
            p.error(format!("Body did not match regular expression regexp={re}"));
            return false;
        }
    }
    true
}

type Body<'a> = Box<dyn Read + 'a>;

/// The response body as Go's transport hands it over (transfer coding undone, transparent gzip decoded) and
/// the `ContentLength` Go reports for it.
fn body_reader(r: &mut Response, head_only: bool, asked_gzip: bool) -> (i64, Body<'_>) {
    let declared: Option<i64> = r.header("content-length").and_then(|v| v.trim().parse::<i64>().ok());
    let chunked = r.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let gzipped = asked_gzip && r.header("content-encoding").is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    if head_only {
        return (declared.unwrap_or(-1), Box::new(io::empty()));
    }
    if (100..200).contains(&r.status) || r.status == 204 || r.status == 304 {
        return (0, Box::new(io::empty()));
    }
    let (length, raw): (i64, Body<'_>) = if chunked {
        (-1, Box::new(Chunked { inner: &mut r.reader, left: 0, done: false }))
    } else if let Some(n) = declared {
        (n, Box::new((&mut r.reader).take(n.max(0) as u64)))
    } else {
        (-1, Box::new(&mut r.reader))
    };
    if gzipped && length != 0 {
        return (-1, Box::new(flate2::read::GzDecoder::new(raw)));
    }
    (length, raw)
}

/// The module's `compression`: the body decoded with it (`Err` gives back the body when the algorithm is unknown).
fn decompressor<'a>(algorithm: &str, body: Body<'a>) -> Result<Body<'a>, (String, Body<'a>)> {
    match algorithm.to_ascii_lowercase().as_str() {
        "gzip" => Ok(Box::new(flate2::read::GzDecoder::new(body))),
        "deflate" => Ok(Box::new(flate2::read::DeflateDecoder::new(body))),
        "identity" | "" => Ok(body),
        _ => Err(("unsupported compression algorithm".into(), body)),
    }
}

/// `Transfer-Encoding: chunked` undone.
struct Chunked<R> {
    inner: R,
    left: u64,
    done: bool,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut budget = 4096;
            let line = read_line(&mut self.inner, &mut budget)?;
            let size = line.split(';').next().unwrap_or_default().trim();
            self.left = u64::from_str_radix(size, 16).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "invalid byte in chunk length"))?;
            if self.left == 0 {
                // Trailers, up to the empty line.
                let mut budget = 1 << 16;
                while !read_line(&mut self.inner, &mut budget)?.is_empty() {}
                self.done = true;
                return Ok(0);
            }
        }
        let want = buf.len().min(self.left as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "unexpected EOF"));
        }
        self.left -= n as u64;
        if self.left == 0 {
            let mut crlf = [0u8; 2];
            self.inner.read_exact(&mut crlf)?;
        }
        Ok(n)
    }
}

/// `body_size_limit`: reading past the limit is an error (Go's `MaxBytesReader`).
struct Limit<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Limit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(self.left as usize + 1);
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            self.left = 0;
            return Err(io::Error::other("http: request body too large"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

struct Counter<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

/// Go's `http.ParseTime`: RFC 1123 (`Mon, 02 Jan 2006 15:04:05 GMT`), RFC 850 (`Monday, 02-Jan-06 15:04:05 GMT`)
/// or asctime (`Mon Jan  2 15:04:05 2006`), as Unix seconds.
pub(crate) fn parse_http_time(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = |m: &str| MONTHS.iter().position(|x| *x == m).map(|i| i as i64 + 1);
    let clock = |t: &str| -> Option<i64> {
        let mut it = t.split(':').map(|x| x.parse::<i64>().ok());
        let (h, m, s) = (it.next()??, it.next()??, it.next()??);
        Some(h * 3600 + m * 60 + s)
    };
    let parts: Vec<&str> = s.split_whitespace().collect();
    let (y, mo, d, secs) = match parts.as_slice() {
        [_, d, m, y, t, "GMT"] => (y.parse().ok()?, month(m)?, d.parse().ok()?, clock(t)?),
        [_, dmy, t, "GMT"] => {
            let mut it = dmy.split('-');
            let (d, m, y) = (it.next()?, it.next()?, it.next()?);
            let y: i64 = y.parse().ok()?;
            let y = if y < 69 {
                2000 + y
            } else if y < 100 {
                1900 + y
            } else {
                y
            };
            (y, month(m)?, d.parse().ok()?, clock(t)?)
        }
        [_, m, d, t, y] => (y.parse().ok()?, month(m)?, d.parse().ok()?, clock(t)?),
        _ => return None,
    };
    Some(super::der::days_since_epoch(y, mo, d) * 86_400 + secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        assert_eq!(parse_http_time("Thu, 01 Jan 1970 00:00:10 GMT"), Some(10));
        assert_eq!(parse_http_time("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784111777));
        assert_eq!(parse_http_time("Sunday, 06-Nov-94 08:49:37 GMT"), Some(784111777));
        assert_eq!(parse_http_time("Sun Nov  6 08:49:37 1994"), Some(784111777));
        assert_eq!(parse_http_time("yesterday"), None);
    }

    #[test]
    fn base64_as_basic_auth_wants() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
    }

    #[test]
    fn canonical_header_names() {
        assert_eq!(canonical("x-custom-header"), "X-Custom-Header");
        assert_eq!(canonical("ACCEPT"), "Accept");
    }

    #[test]
    fn chunked_bodies() {
        let raw = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nTrailer: x\r\n\r\n";
        let mut c = Chunked { inner: &raw[..], left: 0, done: false };
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        assert_eq!(out, "Wikipedia");
    }
}
