//! The blackbox probers against servers this test starts on loopback: HTTP (status codes, redirects, chunked and
//! gzip bodies, header and body checks), HTTPS (a self-signed certificate), TCP (a query/response dialogue), DNS
//! (a tiny UDP/TCP responder), and ICMP to 127.0.0.1 when this machine allows ICMP sockets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::sync::{Arc, Mutex};
use std::thread;

use exporters::blackbox::{handle, Config, Options, RequestError};

fn options() -> Options {
    Options { scrape_timeout: Some(5.0), ..Options::default() }
}

fn probe(yaml: &str, module: &str, target: &str) -> String {
    let config = Config::parse(yaml).expect("config");
    let params = vec![("module".to_string(), module.to_string()), ("target".to_string(), target.to_string())];
    let out = handle(&config, &params, &options()).expect("probe");
    let log: Vec<String> = out.log.iter().map(|(l, m)| format!("{l:?} {m}")).collect();
    format!("{}\n# log:\n# {}", out.body, log.join("\n# "))
}

/// The value of the sample whose line starts with `series` (name and labels), if any.
fn value(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find(|l| !l.starts_with('#') && l.rsplit_once(' ').is_some_and(|(s, _)| s == series))
        .and_then(|l| l.rsplit_once(' '))
        .and_then(|(_, v)| v.parse().ok())
}

fn assert_value(body: &str, series: &str, want: f64) {
    assert_eq!(value(body, series), Some(want), "{series} in\n{body}");
}

// ---- HTTP ----

/// One request head: method, path and headers (names lowercased).
type RequestHead = (String, String, Vec<(String, String)>);

fn read_request(r: &mut BufReader<TcpStream>) -> Option<RequestHead> {
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = Vec::new();
    loop {
        let mut l = String::new();
        r.read_line(&mut l).ok()?;
        let l = l.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    Some((method, path, headers))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// The response to one path of the test server.
fn respond(method: &str, path: &str, headers: &[(String, String)]) -> Vec<u8> {
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let simple = |status: &str, extra: &str, body: &str| format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n{extra}\r\n{body}", body.len()).into_bytes();
    match path {
        "/" => simple("200 OK", "Content-Type: text/plain\r\n", "hello world"),
        "/status/404" => simple("404 Not Found", "", "nope"),
        "/redirect" => simple("302 Found", "Location: /\r\n", ""),
        "/redirect-twice" => simple("301 Moved Permanently", "Location: /redirect\r\n", ""),
        "/loop" => simple("302 Found", "Location: /loop\r\n", ""),
        "/absolute" => {
            let port = header("host").rsplit_once(':').map(|(_, p)| p.to_string()).unwrap_or_default();
            simple("307 Temporary Redirect", &format!("Location: http://localhost:{port}/echo\r\n"), "")
        }
        "/chunked" => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".to_vec(),
        "/gzip" if header("accept-encoding").contains("gzip") => {
            let body = gzip(b"compressed hello");
            let mut out = format!("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
            out.extend(body);
            out
        }
        "/gzip" => simple("200 OK", "", "compressed hello"),
        "/headers" => simple("200 OK", "X-Test: foo\r\nX-Test: bar\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n", "ok"),
        "/echo" => {
            let body = format!("{method} ua={} host={} auth={} custom={}", header("user-agent"), header("host"), header("authorization"), header("x-custom"));
            simple("200 OK", "", &body)
        }
        "/eof" => b"HTTP/1.0 200 OK\r\n\r\nread until close".to_vec(),
        _ => simple("500 Internal Server Error", "", ""),
    }
}

/// An HTTP server on loopback: every connection answered by `respond`, then closed. The request heads it saw are
/// kept for the tests to look at.
struct HttpServer {
    port: u16,
    seen: Arc<Mutex<Vec<RequestHead>>>,
}

fn http_server() -> HttpServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let log = log.clone();
            thread::spawn(move || {
                let mut r = BufReader::new(conn);
                let Some((method, path, headers)) = read_request(&mut r) else { return };
                let out = respond(&method, &path, &headers);
                log.lock().unwrap().push((method.clone(), path, headers));
                let _ = r.get_mut().write_all(&out);
            });
        }
    });
    HttpServer { port, seen }
}

const HTTP: &str = "modules:
  http_2xx:
    prober: http
    timeout: 5s
  http_404:
    prober: http
    http:
      valid_status_codes: [404]
  no_redirects:
    prober: http
    http:
      follow_redirects: false
  headers:
    prober: http
    http:
      method: POST
      body: payload
      headers:
        user-agent: probe-test
        x-custom: yes-please
      bearer_token: secret
  header_checks:
    prober: http
    http:
      fail_if_header_not_matches:
        - header: X-Test
          regexp: ^bar$
      fail_if_header_matches:
        - header: X-Missing
          regexp: .*
          allow_missing: true
  header_fail:
    prober: http
    http:
      fail_if_header_matches:
        - header: X-Test
          regexp: ^foo$
  body_checks:
    prober: http
    http:
      fail_if_body_not_matches_regexp: [world]
  body_fail:
    prober: http
    http:
      fail_if_body_matches_regexp: [world]
  must_be_ssl:
    prober: http
    http:
      fail_if_not_ssl: true
  v2_only:
    prober: http
    http:
      valid_http_versions: [HTTP/2.0]
  limited:
    prober: http
    http:
      body_size_limit: 4B
";

#[test]
fn blackbox_http_success_metrics() {
    let s = http_server();
    let out = probe(HTTP, "http_2xx", &format!("127.0.0.1:{}", s.port));
    assert_value(&out, "probe_success", 1.0);
    assert_value(&out, "probe_http_status_code", 200.0);
    assert_value(&out, "probe_http_content_length", 11.0);
    assert_value(&out, "probe_http_uncompressed_body_length", 11.0);
    assert_value(&out, "probe_http_version", 1.1);
    assert_value(&out, "probe_http_ssl", 0.0);
    assert_value(&out, "probe_http_redirects", 0.0);
    assert_value(&out, "probe_failed_due_to_regex", 0.0);
    assert_value(&out, "probe_ip_protocol", 4.0);
    for phase in ["connect", "processing", "resolve", "tls", "transfer"] {
        assert!(value(&out, &format!("probe_http_duration_seconds{{phase=\"{phase}\"}}")).is_some(), "phase {phase}:\n{out}");
    }
    assert!(value(&out, "probe_duration_seconds").is_some());
    assert!(value(&out, "probe_dns_lookup_time_seconds").is_some());
    assert!(value(&out, "probe_ip_addr_hash").is_some_and(|v| v > 0.0));
    assert!(out.contains("# TYPE probe_success gauge\n"), "{out}");
    // Families come sorted by name, as client_golang gathers them.
    let names: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("# TYPE ")).filter_map(|l| l.split(' ').next()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn blackbox_http_status_codes() {
    let s = http_server();
    let target = format!("http://127.0.0.1:{}/status/404", s.port);
    let out = probe(HTTP, "http_2xx", &target);
    assert_value(&out, "probe_success", 0.0);
    assert_value(&out, "probe_http_status_code", 404.0);
    assert!(out.contains("Invalid HTTP response status code, wanted 2xx"), "{out}");
    let out = probe(HTTP, "http_404", &target);
    assert_value(&out, "probe_success", 1.0);
}

#[test]
fn blackbox_http_redirects() {
    let s = http_server();
    let out = probe(HTTP, "http_2xx", &format!("http://127.0.0.1:{}/redirect-twice", s.port));
    assert_value(&out, "probe_success", 1.0);
    assert_value(&out, "probe_http_redirects", 2.0);
    assert_value(&out, "probe_http_status_code", 200.0);
    // Not following: the redirect is the answer.
    let out = probe(HTTP, "no_redirects", &format!("http://127.0.0.1:{}/redirect", s.port));
    assert_value(&out, "probe_success", 0.0);
    assert_value(&out, "probe_http_status_code", 302.0);
    assert_value(&out, "probe_http_redirects", 1.0);
    // An absolute redirect resolves its own host and sends its own Host; a 307 keeps the method.
    let out = probe(HTTP, "headers", &format!("http://127.0.0.1:{}/absolute", s.port));
    assert_value(&out, "probe_success", 1.0);
    assert_value(&out, "probe_http_redirects", 1.0);
    {
        let seen = s.seen.lock().unwrap();
        let (method, path, headers) = seen.last().unwrap();
        assert_eq!((method.as_str(), path.as_str()), ("POST", "/echo"));
        let host = headers.iter().find(|(k, _)| k == "host").map(|(_, v)| v.clone()).unwrap();
        assert_eq!(host, format!("localhost:{}", s.port));
    }
    // Go's client stops after 10.
    let out = probe(HTTP, "http_2xx", &format!("http://127.0.0.1:{}/loop", s.port));
    assert_value(&out, "probe_success", 0.0);
    assert_value(&out, "probe_http_redirects", 11.0);
}

#[test]
fn blackbox_http_bodies() {
    let s = http_server();
    let out = probe(HTTP, "http_2xx", &format!("http://127.0.0.1:{}/chunked", s.port));
    assert_value(&out, "probe_success", 1.0);
    assert_value(&out, "probe_http_content_length", -1.0);
    assert_value(&out, "probe_http_uncompressed_body_length", 11.0);
    // Go's transport asks for gzip and decodes it: the length is unknown, the body counted decoded.
    let out = probe(HTTP, "http_2xx", &format!("http://127.0.0.1:{}/gzip", s.port));
    assert_value(&out, "probe_success", 1.0);
    assert_value(&out, "probe_http_content_length", -1.0);
    assert_value(&out, "probe_http_uncompressed_body_length", 16.0);
    let out = probe(HTTP, "http_2xx", &format!("http://127.0.0.1:{}/eof", s.port));
    assert_value(&out, "probe_success", 1.0);
    assert_value(&out, "probe_http_version", 1.0);
    assert_value(&out, "probe_http_uncompressed_body_length", 16.0);
    let out = probe(HTTP, "limited", &format!("http://127.0.0.1:{}/", s.port));
    assert_value(&out, "probe_success", 0.0);
    assert!(out.contains("request body too large"), "{out}");
}

#[test]
fn blackbox_http_request_as_configured() {
    let s = http_server();
    let out = probe(HTTP, "headers", &format!("http://127.0.0.1:{}/echo", s.port));
    assert_value(&out, "probe_success", 1.0);
    let seen = s.seen.lock().unwrap();
    let (method, _, headers) = seen.last().unwrap();
    assert_eq!(method, "POST");
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    assert_eq!(get("user-agent"), Some("probe-test"));
    assert_eq!(get("x-custom"), Some("yes-please"));
    assert_eq!(get("authorization"), Some("Bearer secret"));
    assert_eq!(get("content-length"), Some("7"));
    assert_eq!(get("host"), Some(format!("127.0.0.1:{}", s.port).as_str()));
}

#[test]
fn blackbox_http_default_user_agent() {
    let s = http_server();
    probe(HTTP, "http_2xx", &format!("http://127.0.0.1:{}/echo", s.port));
    let seen = s.seen.lock().unwrap();
    let ua = seen.last().unwrap().2.iter().find(|(k, _)| k == "user-agent").map(|(_, v)| v.clone()).unwrap();
    assert!(ua.starts_with("Blackbox Exporter/"), "{ua}");
}

#[test]
fn blackbox_http_header_and_body_checks() {
    let s = http_server();
    let out = probe(HTTP, "header_checks", &format!("http://127.0.0.1:{}/headers", s.port));
    assert_value(&out, "probe_success", 1.0);
    assert_value(&out, "probe_failed_due_to_regex", 0.0);
    assert_value(&out, "probe_http_last_modified_timestamp_seconds", 784111777.0);
    let out = probe(HTTP, "header_fail", &format!("http://127.0.0.1:{}/headers", s.port));
    assert_value(&out, "probe_success", 0.0);
    assert_value(&out, "probe_failed_due_to_regex", 1.0);
    let out = probe(HTTP, "body_checks", &format!("http://127.0.0.1:{}/", s.port));
    assert_value(&out, "probe_success", 1.0);
    let out = probe(HTTP, "body_fail", &format!("http://127.0.0.1:{}/", s.port));
    assert_value(&out, "probe_success", 0.0);
    assert_value(&out, "probe_failed_due_to_regex", 1.0);
}

#[test]
fn blackbox_http_ssl_and_version_checks() {
    let s = http_server();
    let out = probe(HTTP, "must_be_ssl", &format!("http://127.0.0.1:{}/", s.port));
    assert_value(&out, "probe_success", 0.0);
    assert!(out.contains("Final request was not over SSL"), "{out}");
    let out = probe(HTTP, "v2_only", &format!("http://127.0.0.1:{}/", s.port));
    assert_value(&out, "probe_success", 0.0);
}

#[test]
fn blackbox_http_connection_refused() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = probe(HTTP, "http_2xx", &format!("127.0.0.1:{port}"));
    assert_value(&out, "probe_success", 0.0);
    assert_value(&out, "probe_http_status_code", 0.0);
    assert!(out.contains("Error for HTTP request"), "{out}");
}

#[test]
fn blackbox_default_module_and_unknown_module() {
    let s = http_server();
    let config = Config::parse(HTTP).unwrap();
    let out = handle(&config, &[("target".into(), format!("127.0.0.1:{}", s.port))], &options()).unwrap();
    assert!(out.success, "{}", out.body);
    let e = handle(&config, &[("target".into(), "x".into()), ("module".into(), "nope".into())], &options()).unwrap_err();
    assert_eq!(e, RequestError::UnknownModule("nope".into()));
}

// ---- HTTPS ----

fn https_server() -> (u16, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = cert.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let config = config.clone();
            thread::spawn(move || {
                let Ok(tls) = rustls::ServerConnection::new(config) else { return };
                let mut s = rustls::StreamOwned::new(tls, conn);
                let mut buf = [0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecure");
                s.conn.send_close_notify();
                let _ = s.flush();
            });
        }
    });
    (port, cert_pem)
}

#[test]
fn blackbox_https_with_a_trusted_ca() {
    let (port, pem) = https_server();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let yaml = format!(
        "modules:\n  https:\n    prober: http\n    http:\n      fail_if_not_ssl: true\n      tls_config:\n        ca_file: {}\n        server_name: localhost\n  no_ssl:\n    prober: http\n    http:\n      fail_if_ssl: true\n      tls_config:\n        insecure_skip_verify: true\n  untrusted:\n    prober: http\n",
        ca.display()
    );
    let out = probe(&yaml, "https", &format!("https://127.0.0.1:{port}/"));
    if std::env::var("BLACKBOX_SHOW").is_ok() {
        println!("{out}");
    }
    assert_value(&out, "probe_success", 1.0);
    assert_value(&out, "probe_http_ssl", 1.0);
    assert_value(&out, "probe_http_uncompressed_body_length", 6.0);
    let expiry = value(&out, "probe_ssl_earliest_cert_expiry").unwrap();
    // rcgen's default validity ends in 4096.
    assert!(expiry > 4_000_000_000.0, "{out}");
    assert_value(&out, "probe_ssl_last_chain_expiry_timestamp_seconds", expiry);
    assert!(out.contains("probe_tls_version_info{version=\"TLS 1.3\"} 1"), "{out}");
    assert!(out.contains("subjectalternative=\"localhost\"") && out.contains("subject=\"CN=rcgen self signed cert\""), "{out}");
    assert!(value(&out, "probe_http_duration_seconds{phase=\"tls\"}").is_some_and(|v| v > 0.0), "{out}");
    // Verification skipped: no verified chain (Go's zero time), and fail_if_ssl applies.
    let out = probe(&yaml, "no_ssl", &format!("https://127.0.0.1:{port}/"));
    assert_value(&out, "probe_success", 0.0);
    assert_value(&out, "probe_ssl_last_chain_expiry_timestamp_seconds", -62135596800.0);
    assert!(out.contains("Final request was over SSL"), "{out}");
    // The system roots do not know the test CA.
    let out = probe(&yaml, "untrusted", &format!("https://127.0.0.1:{port}/"));
    assert_value(&out, "probe_success", 0.0);
    assert!(out.contains("Error for HTTP request"), "{out}");
}

// ---- TCP ----

/// A line server: sends `greeting`, then (unless `hang_up`) answers one line with `250 got <line>`.
fn tcp_server(greeting: &'static str) -> u16 {
    line_server(greeting, false)
}

fn line_server(greeting: &'static str, hang_up: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            thread::spawn(move || {
                let mut r = BufReader::new(conn);
                let _ = r.get_mut().write_all(greeting.as_bytes());
                if hang_up {
                    return;
                }
                let mut line = String::new();
                if r.read_line(&mut line).is_ok() && !line.is_empty() {
                    let _ = r.get_mut().write_all(format!("250 got {}\r\n", line.trim_end()).as_bytes());
                }
            });
        }
    });
    port
}

const TCP: &str = "modules:
  tcp_connect:
    prober: tcp
  smtp:
    prober: tcp
    tcp:
      query_response:
        - expect: ^220 (\\w+)
        - send: HELO ${1}-probe
          expect: ^220
        - expect: ^250 got HELO mail-probe$
  wrong_banner:
    prober: tcp
    tcp:
      query_response:
        - expect: ^SSH-
";

#[test]
fn blackbox_tcp_connect_and_dialogue() {
    let port = tcp_server("220 mail ESMTP\r\n");
    let out = probe(TCP, "tcp_connect", &format!("127.0.0.1:{port}"));
    assert_value(&out, "probe_success", 1.0);
    assert_value(&out, "probe_ip_protocol", 4.0);
    assert_value(&out, "probe_failed_due_to_regex", 0.0);
    let yaml = TCP.replace("- send: HELO ${1}-probe\n          expect: ^220", "- send: HELO mail-probe");
    let out = probe(&yaml, "smtp", &format!("127.0.0.1:{port}"));
    assert_value(&out, "probe_success", 1.0);
    // The server hangs up without the expected line: the regular expression failed.
    let port = line_server("220 mail ESMTP\r\n", true);
    let out = probe(TCP, "wrong_banner", &format!("127.0.0.1:{port}"));
    assert_value(&out, "probe_success", 0.0);
    assert_value(&out, "probe_failed_due_to_regex", 1.0);
}

#[test]
fn blackbox_tcp_expanded_send() {
    // The first expect captures `mail`; the send expands `${1}`.
    let port = tcp_server("220 mail ESMTP\r\n");
    let yaml = "modules:\n  m:\n    prober: tcp\n    tcp:\n      query_response:\n        - expect: ^220 (\\w+)\n          send: HELO ${1}-probe\n        - expect: ^250 got HELO mail-probe$\n";
    let out = probe(yaml, "m", &format!("127.0.0.1:{port}"));
    assert_value(&out, "probe_success", 1.0);
}

#[test]
fn blackbox_tcp_refused_and_bad_target() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = probe(TCP, "tcp_connect", &format!("127.0.0.1:{port}"));
    assert_value(&out, "probe_success", 0.0);
    let out = probe(TCP, "tcp_connect", "127.0.0.1");
    assert_value(&out, "probe_success", 0.0);
    assert!(out.contains("missing port in address"), "{out}");
}

// ---- DNS ----

/// A name in wire form at `at` (no compression: the test queries have none), and the offset after it.
fn qname(m: &[u8], mut at: usize) -> (String, usize) {
    let mut labels = Vec::new();
    while m[at] != 0 {
        let len = m[at] as usize;
        labels.push(String::from_utf8_lossy(&m[at + 1..at + 1 + len]).into_owned());
        at += 1 + len;
    }
    (labels.join(".") + ".", at + 1)
}

/// The answer of the test DNS server: `ok.example.` has an A record (and a SOA), others are NXDOMAIN.
fn dns_answer(q: &[u8]) -> Vec<u8> {
    let (name, end) = qname(q, 12);
    let qtype = u16::from_be_bytes([q[end], q[end + 1]]);
    let mut r = q[..end + 4].to_vec();
    r[2] = 0x81; // response, RD
    if name != "ok.example." {
        r[3] = 0x83; // RA, NXDOMAIN
        return r;
    }
    r[3] = 0x80;
    let pointer = [0xc0, 12];
    match qtype {
        1 => {
            r[7] = 2;
            for ip in [[192, 0, 2, 1], [192, 0, 2, 2]] {
                r.extend_from_slice(&pointer);
                r.extend_from_slice(&[0, 1, 0, 1, 0, 0, 1, 44, 0, 4]);
                r.extend_from_slice(&ip);
            }
        }
        6 => {
            r[7] = 1;
            r.extend_from_slice(&pointer);
            r.extend_from_slice(&[0, 6, 0, 1, 0, 0, 1, 44]);
            let mut rdata = b"\x02ns\xc0\x0c\x04root\xc0\x0c".to_vec();
            for v in [2024010101u32, 7200, 3600, 1209600, 300] {
                rdata.extend_from_slice(&v.to_be_bytes());
            }
            r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            r.extend_from_slice(&rdata);
        }
        _ => {}
    }
    r
}

fn dns_server() -> u16 {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = udp.local_addr().unwrap().port();
    let tcp = TcpListener::bind(("127.0.0.1", port)).unwrap();
    thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = udp.recv_from(&mut buf) {
            let _ = udp.send_to(&dns_answer(&buf[..n]), from);
        }
    });
    thread::spawn(move || {
        for mut conn in tcp.incoming().flatten() {
            let mut len = [0u8; 2];
            if conn.read_exact(&mut len).is_err() {
                continue;
            }
            let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
            if conn.read_exact(&mut q).is_err() {
                continue;
            }
            let a = dns_answer(&q);
            let mut out = (a.len() as u16).to_be_bytes().to_vec();
            out.extend(a);
            let _ = conn.write_all(&out);
        }
    });
    port
}

const DNS: &str = "modules:
  dns_a:
    prober: dns
    dns:
      query_name: ok.example
      query_type: A
      validate_answer_rrs:
        fail_if_not_matches_regexp: ['ok\\.example\\.\\t300\\tIN\\tA\\t192\\.0\\.2\\.\\d']
  dns_tcp:
    prober: dns
    dns:
      transport_protocol: tcp
      query_name: ok.example
      query_type: A
  dns_missing:
    prober: dns
    dns:
      query_name: missing.example
  dns_missing_ok:
    prober: dns
    dns:
      query_name: missing.example
      valid_rcodes: [NXDOMAIN]
  dns_soa:
    prober: dns
    dns:
      query_name: ok.example
      query_type: SOA
  dns_must_not_match:
    prober: dns
    dns:
      query_name: ok.example
      query_type: A
      validate_answer_rrs:
        fail_if_matches_regexp: ['192\\.0\\.2\\.2']
";

#[test]
fn blackbox_dns_udp_query() {
    let port = dns_server();
    let out = probe(DNS, "dns_a", &format!("127.0.0.1:{port}"));
    assert_value(&out, "probe_success", 1.0);
    assert_value(&out, "probe_dns_answer_rrs", 2.0);
    assert_value(&out, "probe_dns_authority_rrs", 0.0);
    assert_value(&out, "probe_dns_additional_rrs", 0.0);
    assert_value(&out, "probe_dns_query_succeeded", 1.0);
    for phase in ["connect", "request", "resolve"] {
        assert!(value(&out, &format!("probe_dns_duration_seconds{{phase=\"{phase}\"}}")).is_some(), "{out}");
    }
    let out = probe(DNS, "dns_must_not_match", &format!("127.0.0.1:{port}"));
    assert_value(&out, "probe_success", 0.0);
    assert!(out.contains("At least one RR matched regexp"), "{out}");
}

#[test]
fn blackbox_dns_tcp_query() {
    let port = dns_server();
    let out = probe(DNS, "dns_tcp", &format!("127.0.0.1:{port}"));
    assert_value(&out, "probe_success", 1.0);
    assert_value(&out, "probe_dns_answer_rrs", 2.0);
}

#[test]
fn blackbox_dns_rcodes_and_soa() {
    let port = dns_server();
    let out = probe(DNS, "dns_missing", &format!("127.0.0.1:{port}"));
    assert_value(&out, "probe_success", 0.0);
    assert_value(&out, "probe_dns_query_succeeded", 1.0);
    assert!(out.contains("Rcode is not one of the valid rcodes"), "{out}");
    let out = probe(DNS, "dns_missing_ok", &format!("127.0.0.1:{port}"));
    assert_value(&out, "probe_success", 1.0);
    let out = probe(DNS, "dns_soa", &format!("127.0.0.1:{port}"));
    assert_value(&out, "probe_success", 1.0);
    assert_value(&out, "probe_dns_serial", 2024010101.0);
}

#[test]
fn blackbox_dns_timeout_without_server() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let config = Config::parse(&DNS.replace("dns_a:\n    prober: dns", "dns_a:\n    prober: dns\n    timeout: 300ms")).unwrap();
    let params = vec![("module".to_string(), "dns_a".to_string()), ("target".to_string(), format!("127.0.0.1:{port}"))];
    let started = std::time::Instant::now();
    let out = handle(&config, &params, &options()).unwrap();
    assert!(!out.success);
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "the module timeout bounds the probe");
    assert!(out.body.contains("probe_dns_query_succeeded 0"), "{}", out.body);
    drop(sock);
}

// ---- ICMP ----

/// Whether this machine lets the process open an ICMP socket (datagram "ping" or raw).
fn icmp_allowed() -> bool {
    let try_open = |kind| {
        // SAFETY: socket(2) with constant arguments; closed right away.
        let fd = unsafe { libc::socket(libc::AF_INET, kind, libc::IPPROTO_ICMP) };
        if fd >= 0 {
            // SAFETY: fd is the descriptor just opened.
            unsafe { libc::close(fd) };
        }
        fd >= 0
    };
    try_open(libc::SOCK_DGRAM) || try_open(libc::SOCK_RAW)
}

#[test]
fn blackbox_icmp_echo_to_loopback() {
    let yaml = "modules:\n  icmp:\n    prober: icmp\n    timeout: 2s\n    icmp:\n      preferred_ip_protocol: ip4\n";
    if !icmp_allowed() {
        let msg = "ICMP probe test SKIPPED: this machine allows neither unprivileged ICMP sockets (net.ipv4.ping_group_range) nor raw sockets (CAP_NET_RAW)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
        eprintln!("\n\n!!!!! {msg} !!!!!\n");
        let out = probe(yaml, "icmp", "127.0.0.1");
        assert_value(&out, "probe_success", 0.0);
        assert!(out.contains("Error listening to socket"), "{out}");
        return;
    }
    let out = probe(yaml, "icmp", "127.0.0.1");
    assert_value(&out, "probe_success", 1.0);
    assert_value(&out, "probe_ip_protocol", 4.0);
    assert!(value(&out, "probe_icmp_duration_seconds{phase=\"rtt\"}").is_some_and(|v| v > 0.0), "{out}");
    assert_value(&out, "probe_icmp_reply_hop_limit", 64.0);
}

#[test]
fn blackbox_icmp_v6_echo_to_loopback() {
    let yaml = "modules:\n  icmp:\n    prober: icmp\n    timeout: 2s\n";
    // SAFETY: socket(2) with constant arguments; closed right away.
    let allowed = [libc::SOCK_DGRAM, libc::SOCK_RAW].into_iter().any(|k| {
        let fd = unsafe { libc::socket(libc::AF_INET6, k, libc::IPPROTO_ICMPV6) };
        if fd >= 0 {
            // SAFETY: fd is the descriptor just opened.
            unsafe { libc::close(fd) };
        }
        fd >= 0
    });
    if !allowed || UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("\n\n!!!!! ICMPv6 probe test SKIPPED: no ICMPv6 socket or no ::1 on this machine !!!!!\n");
        return;
    }
    let out = probe(yaml, "icmp", "::1");
    assert_value(&out, "probe_success", 1.0);
    assert_value(&out, "probe_ip_protocol", 6.0);
}

// ---- the module file ----

#[test]
fn blackbox_bad_module_files_are_refused_with_their_position() {
    let e = Config::parse("modules:\n  a:\n    prober: http\n   timeout: 5s\n").unwrap_err();
    assert!(e.0.starts_with("yaml: line 4: "), "{e}");
    let e = Config::parse("modules:\n  a:\n    prober: nope\n").unwrap_err();
    assert_eq!(e.0, "line 3: prober 'nope' is not valid");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.yml");
    std::fs::write(&path, "modules: [").unwrap();
    let e = Config::load_file(path.to_str().unwrap()).unwrap_err();
    assert!(e.0.starts_with("error parsing config file: yaml: line "), "{e}");
    let e = Config::load_file("/nonexistent/blackbox.yml").unwrap_err();
    assert!(e.0.starts_with("error reading config file: "), "{e}");
}
