//! The parsers and the framing on their own, then the component on loopback: Rust sockets,
//! Python's `logging.handlers.SysLogHandler` over UDP and TCP, TLS, and bad input.

use std::time::Duration;

use loki::Entry;
use prom::Labels;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::framing::{Decoder, Event};
use super::parse::{rfc3164, rfc5424, Message, Rfc3164Year, Timestamp};
use super::*;
use crate::loki::receiver::{channel, Entries};
use crate::loki::source::python;
use crate::relabel_rules::RulesHandle;

const EXAMPLE: &str = r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] An application event log entry..."#;

fn ts(year: i64, month: u32, day: u32, hms: (u32, u32, u32), micros: u32, offset_minutes: i32) -> Timestamp {
    Timestamp { year, month, day, hour: hms.0, minute: hms.1, second: hms.2, micros, offset_minutes }
}

#[test]
fn rfc5424_fields_structured_data_and_message() {
    let m = rfc5424(EXAMPLE.as_bytes()).expect("parses");
    assert_eq!((m.priority, m.facility(), m.severity(), m.version), (165, "local4", "notice", Some(1)));
    assert_eq!(m.timestamp, Some(ts(2003, 10, 11, (22, 14, 15), 3000, 0)));
    assert_eq!(m.timestamp.as_ref().map(Timestamp::unix_nanos), Some(1_065_910_455_003_000_000));
    assert_eq!(
        (m.hostname.as_deref(), m.app_name.as_deref(), m.proc_id.as_deref(), m.msg_id.as_deref()),
        (Some("mymachine.example.com"), Some("evntslog"), None, Some("ID47"))
    );
    let sd = m.structured_data.clone().expect("structured data");
    assert_eq!(sd[0].0, "exampleSDID@32473");
    assert_eq!(sd[0].1, [("iut".to_string(), "3".to_string()), ("eventSource".into(), "Application".into()), ("eventID".into(), "1011".into())]);
    assert_eq!(sd[1], ("examplePriority@32473".to_string(), vec![("class".to_string(), "high".to_string())]));
    assert_eq!(m.message.as_deref(), Some("An application event log entry..."));
}

#[test]
fn rfc5424_nil_values_offsets_escapes_and_empty_messages() {
    let m = rfc5424(b"<34>1 - - - - - -").expect("all nil");
    assert_eq!(m, Message { priority: 34, version: Some(1), ..Message::default() });
    let m = rfc5424(br#"<0>12 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - [a b="q\"uote\]\\ \x"] %% It's time"#).expect("parses");
    assert_eq!((m.facility(), m.severity()), ("kern", "emergency"));
    assert_eq!(m.timestamp.as_ref().map(Timestamp::unix_nanos), Some(1_061_727_255_000_003_000), "05:14:15-07:00 is 12:14:15Z");
    assert_eq!(m.structured_data, Some(vec![("a".into(), vec![("b".into(), r#"q"uote]\ \x"#.into())])]));
    assert_eq!(m.message.as_deref(), Some("%% It's time"));
    // A trailing space with nothing after it is an empty MSG too.
    assert_eq!(rfc5424(b"<14>1 - h a - - [x@1 k=\"v\"] ").expect("parses").message, None);
    // Invalid UTF-8 in MSG is kept (replaced), not refused.
    assert_eq!(rfc5424(b"<14>1 - - - - - - caf\xe9").expect("parses").message.as_deref(), Some("caf\u{fffd}"));
}

#[test]
fn rfc5424_errors() {
    let bad: &[&[u8]] = &[
        b"hello",
        b"<192>1 - - - - - -",
        b"<01>1 - - - - - -",
        b"<14>0 - - - - - -",
        b"<14>hello from python",
        b"<165>1    -   An application event log entry...",
        b"<14>1 2003-02-30T00:00:00Z - - - - -",
        b"<14>1 2003-10-11T22:14:15.0000001Z - - - - -",
        b"<14>1 2003-10-11T22:14:15 - - - - -",
        b"<14>1 - - - - - [a@1 k=\"v\"][a@1 k=\"w\"]",
        b"<14>1 - - - - - [a k=\"v]\"]",
        b"<14>1 - - - - - [a k=v]",
        b"<14>1 - - - - - [a]x",
        b"<14>1 - aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa - - - x",
    ];
    for input in bad {
        assert!(rfc5424(input).is_err(), "{:?} parsed", String::from_utf8_lossy(input));
    }
    assert_eq!(rfc5424(b"<14>hello").unwrap_err(), "expecting a version value in the range 1-999 [col 4]");
    assert_eq!(rfc5424(b"<14>1 - - - - - [a@1 k=\"v\"][a@1 k=\"w\"]").unwrap_err(), "duplicate structured data element id [col 28]");
}

#[test]
fn rfc5424_is_written_back_sorted_and_escaped() {
    let m = rfc5424(EXAMPLE.as_bytes()).expect("parses");
    assert_eq!(
        m.to_rfc5424(),
        r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [examplePriority@32473 class="high"][exampleSDID@32473 eventID="1011" eventSource="Application" iut="3"] An application event log entry..."#
    );
    let m = rfc5424(br#"<14>1 2003-08-24T05:14:15.100-07:30 - - - - [z k="a\]b"] x"#).expect("parses");
    assert_eq!(m.to_rfc5424(), r#"<14>1 2003-08-24T05:14:15.1-07:30 - - - - [z k="a\]b"] x"#);
    assert_eq!(rfc5424(b"<14>1 - - - - - -").expect("parses").to_rfc5424(), "<14>1 - - - - - -");
}

#[test]
fn rfc3164_host_tag_pid_and_message() {
    let m = rfc3164(b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", Rfc3164Year::default()).expect("parses");
    assert_eq!((m.facility(), m.severity()), ("auth", "critical"));
    assert_eq!(m.timestamp, Some(ts(0, 10, 11, (22, 14, 15), 0, 0)), "the year is 0 unless asked for");
    assert_eq!((m.hostname.as_deref(), m.app_name.as_deref(), m.proc_id), (Some("mymachine"), Some("su"), None));
    assert_eq!(m.message.as_deref(), Some("'su root' failed for lonvick on /dev/pts/8"));

    let m = rfc3164(b"<13>Feb  5 17:32:18 10.0.0.99 sshd[1234]: Accepted key\n", Rfc3164Year::default()).expect("parses");
    assert_eq!((m.hostname.as_deref(), m.app_name.as_deref(), m.proc_id.as_deref()), (Some("10.0.0.99"), Some("sshd"), Some("1234")));
    assert_eq!((m.timestamp.as_ref().map(|t| t.day), m.message.as_deref()), (Some(5), Some("Accepted key")));

    // No host name: the first word has a colon.
    let m = rfc3164(b"<13>Jan 02 03:04:05 app[7]: hi there", Rfc3164Year::default()).expect("parses");
    assert_eq!((m.hostname, m.app_name.as_deref(), m.proc_id.as_deref(), m.message.as_deref()), (None, Some("app"), Some("7"), Some("hi there")));
    // No tag: the message is all that follows the host name.
    let m = rfc3164(b"<165>Feb 19 00:00:00 127.0.0.1 An application event log entry...", Rfc3164Year::default()).expect("parses");
    assert_eq!((m.hostname.as_deref(), m.app_name, m.message.as_deref()), (Some("127.0.0.1"), None, Some("An application event log entry...")));
    // A single word is the message.
    let m = rfc3164(b"<13>Jan  2 03:04:05 lonely", Rfc3164Year::default()).expect("parses");
    assert_eq!((m.hostname, m.message.as_deref()), (None, Some("lonely")));
    // Nothing after the timestamp: no message (dropped as empty).
    assert_eq!(rfc3164(b"<13>Dec  1 00:00:00", Rfc3164Year::default()).expect("parses").message, None);
}

#[test]
fn rfc3164_missing_year_defaults_to_zero_or_the_current_one() {
    let msg = b"<165>Feb 19 00:00:00 host app: x";
    let zero = rfc3164(msg, Rfc3164Year::default()).expect("parses").timestamp.expect("timestamp");
    assert_eq!(zero.year, 0);
    assert_eq!(zero.unix_nanos(), i64::MIN, "year 0 lies before what nanoseconds reach");
    let this = rfc3164(msg, Rfc3164Year { current: Some((2025, 6)) }).expect("parses").timestamp.expect("timestamp");
    assert_eq!(this.unix_nanos(), 1_739_923_200_000_000_000, "2025-02-19T00:00:00Z");
    // A December message read in January is last year's; a January one read in December next year's.
    let dec = rfc3164(b"<13>Dec 31 23:59:59 h a: x", Rfc3164Year { current: Some((2025, 1)) }).expect("parses");
    assert_eq!(dec.timestamp.map(|t| t.year), Some(2024));
    let jan = rfc3164(b"<13>Jan  1 00:00:01 h a: x", Rfc3164Year { current: Some((2025, 12)) }).expect("parses");
    assert_eq!(jan.timestamp.map(|t| t.year), Some(2026));
    let leap = rfc3164(b"<13>Feb 29 12:00:00 h a: x", Rfc3164Year { current: Some((2025, 3)) }).expect("parses");
    assert_eq!(leap.timestamp.map(|t| (t.month, t.day)), Some((3, 1)), "29 February of a common year moves to 1 March");
}

#[test]
fn rfc3164_errors() {
    for input in [
        &b"<13>hello"[..],
        b"<13>Foo  2 03:04:05 h a: x",
        b"<13>Jan 32 03:04:05 h a: x",
        b"<13>Jan  2 24:04:05 h",
        b"<13>Jan  2 03:04:05x",
        b"Jan  2 03:04:05 h",
    ] {
        assert!(rfc3164(input, Rfc3164Year::default()).is_err(), "{:?} parsed", String::from_utf8_lossy(input));
    }
}

fn frames(max: usize, chunks: &[&[u8]]) -> (Vec<Event>, Option<String>) {
    let mut d = Decoder::new(max);
    let mut out = Vec::new();
    for c in chunks {
        if let Err(e) = d.push(c, &mut out) {
            return (out, Some(e));
        }
    }
    d.finish(&mut out);
    (out, None)
}

fn frame(s: &str) -> Event {
    Event::Frame(s.as_bytes().to_vec())
}

#[test]
fn framing_octet_counted_across_reads_and_newlines() {
    let (out, err) = frames(100, &[b"5 <1>ab4 <2>c", b"\n6 <3>def", b"\n"]);
    assert_eq!((out, err), (vec![frame("<1>ab"), frame("<2>c"), frame("<3>def")], None));
    // Too long: skipped by its length, and the next message still arrives.
    let (out, err) = frames(8, &[b"12 <1>abcdefghi3 <2>"]);
    assert_eq!(out, vec![Event::Skipped("message too long to parse. was size 12, max length 8".into()), frame("<2>")]);
    assert_eq!(err, None);
    // Cut short by the end of the stream.
    let (out, _) = frames(100, &[b"10 <1>ab"]);
    assert!(matches!(&out[..], [Event::Skipped(_)]));
    // Garbage where a length belongs breaks the stream.
    let (_, err) = frames(100, &[b"3 <1><2>"]);
    assert_eq!(err.as_deref(), Some("found '<', expecting a message length"));
    let (_, err) = frames(100, &[b"9999999999 x"]);
    assert_eq!(err.as_deref(), Some("message length exceeds int limit"));
}

#[test]
fn framing_newline_terminated_bounded_and_nul_trimmed() {
    let (out, err) = frames(10, &[b"<1>a\n\n<2>b\x00\n<3>", b"cd\n<4>tail"]);
    assert_eq!((out, err), (vec![frame("<1>a"), frame("<2>b"), frame("<3>cd"), frame("<4>tail")], None));
    let (out, _) = frames(6, &[b"<1>abc", b"defgh\n<2>ok\n"]);
    assert_eq!(out, vec![Event::Skipped("message longer than max_message_length (6 bytes)".into()), frame("<2>ok")]);
    let (out, err) = frames(10, &[b"xxx\n"]);
    assert_eq!((out.len(), err.as_deref()), (0, Some("invalid or unsupported framing. first byte: 'x'")));
}

// ---- the component ----

struct Running {
    c: Arc<SourceSyslog>,
    stop: CancellationToken,
    out: mpsc::Receiver<Entries>,
}

impl Running {
    fn addr(&self, i: usize) -> SocketAddr {
        self.c.local_addrs()[i]
    }

    /// Entries until `n` arrived (or 10 s passed).
    async fn entries(&mut self, n: usize) -> Vec<Entry> {
        let mut got = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while got.len() < n {
            match tokio::time::timeout_at(deadline, self.out.recv()).await {
                Ok(Some(batch)) => got.extend(batch),
                _ => break,
            }
        }
        got
    }

    /// Whether nothing more arrives within a short while.
    async fn quiet(&mut self) -> bool {
        !matches!(tokio::time::timeout(Duration::from_millis(300), self.out.recv()).await, Ok(Some(_)))
    }

    fn errors(&self) -> u64 {
        self.c.shared.metrics.parsing_errors.get()
    }
}

/// Whether `f` holds within 5 s (counters of messages that produce no entry).
async fn eventually(f: impl Fn() -> bool) -> bool {
    for _ in 0..100 {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

/// The rules of a `loki.relabel` body.
fn rules(body: &str) -> Value {
    let v = crate::component::args::evaluated(&format!("loki.relabel \"r\" {{\n  forward_to = []\n{body}\n}}\n")).expect("evaluates");
    let args: crate::loki::relabel::Args = decode_checked("loki.relabel", &v).expect("valid");
    RulesHandle(Arc::new(args.rules)).to_value()
}

/// Keeps every internal label as `syslog_...`.
const KEEP_ALL: &str = "  rule {\n    action = \"labelmap\"\n    regex  = \"__syslog_(.+)\"\n    replacement = \"syslog_$1\"\n  }";

async fn start(body: &str, relabel: Option<&str>) -> Running {
    let text = format!("loki.source.syslog \"t\" {{\n  forward_to = []\n{body}\n}}\n");
    let mut v = crate::component::args::evaluated(&text).expect("evaluates");
    let (handle, out) = channel("test.out", 64);
    if let Value::Object(o) = &mut v {
        let o = Arc::make_mut(o);
        o.insert("forward_to", Value::array(vec![handle.to_value()]));
        if let Some(r) = relabel {
            o.insert("relabel_rules", rules(r));
        }
    }
    let c = SourceSyslog::new(crate::component::detached_context("loki.source.syslog.t"), &v).expect("builds");
    let stop = CancellationToken::new();
    tokio::spawn(c.clone().run(stop.clone()));
    Running { c, stop, out }
}

fn listener(protocol: &str, extra: &str) -> String {
    format!("  listener {{\n    address = \"127.0.0.1:0\"\n    protocol = \"{protocol}\"\n{extra}\n  }}")
}

fn label<'a>(e: &'a Entry, name: &str) -> Option<&'a str> {
    e.labels.get(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_newline_and_octet_counted_streams_with_labels() {
    let mut r = start(&listener("tcp", "    labels = { job = \"syslog\" }\n    label_structured_data = true"), Some(KEEP_ALL)).await;
    let before = Entry::nanos_of(std::time::SystemTime::now());
    let mut tcp = tokio::net::TcpStream::connect(r.addr(0)).await.expect("connects");
    tcp.write_all(format!("{EXAMPLE}\n{EXAMPLE}").as_bytes()).await.expect("writes");
    drop(tcp);
    let got = r.entries(2).await;
    assert_eq!(got.len(), 2);
    let e = &got[0];
    assert_eq!(e.line, "An application event log entry...");
    assert!(e.timestamp_ns >= before, "the time of receipt");
    assert_eq!(label(e, "job"), Some("syslog"));
    assert_eq!(label(e, "syslog_message_severity"), Some("notice"));
    assert_eq!(label(e, "syslog_message_facility"), Some("local4"));
    assert_eq!(label(e, "syslog_message_hostname"), Some("mymachine.example.com"));
    assert_eq!(label(e, "syslog_message_app_name"), Some("evntslog"));
    assert_eq!(label(e, "syslog_message_msg_id"), Some("ID47"));
    assert_eq!(label(e, "syslog_message_proc_id"), None);
    assert_eq!(label(e, "syslog_message_sd_exampleSDID_32473_eventSource"), Some("Application"));
    assert_eq!(label(e, "syslog_message_sd_examplePriority_32473_class"), Some("high"));
    assert_eq!(label(e, "syslog_connection_ip_address"), Some("127.0.0.1"));
    // What the system resolver calls 127.0.0.1 (usually `localhost.`), if anything.
    assert_eq!(label(e, "syslog_connection_hostname"), reverse_dns::lookup("127.0.0.1".parse().unwrap()).as_deref());
    assert!(e.labels.iter().all(|(n, _)| !n.starts_with("__")));

    // Octet counting: several messages in one write, one split over writes, a malformed one and
    // an over-long one skipped, and the connection goes on.
    let mut tcp = tokio::net::TcpStream::connect(r.addr(0)).await.expect("connects");
    let one = "<13>1 - - - - - - first";
    let bad = "<13>x broken";
    let long = format!("<13>1 - - - - - - {}", "y".repeat(9000));
    let last = "<13>1 - - - - - - last";
    let stream = format!("{} {one}{} {bad}{} {long}{} {last}", one.len(), bad.len(), long.len(), last.len());
    let (a, b) = stream.as_bytes().split_at(10);
    tcp.write_all(a).await.expect("writes");
    tcp.flush().await.expect("flushes");
    tokio::time::sleep(Duration::from_millis(50)).await;
    tcp.write_all(b).await.expect("writes");
    drop(tcp);
    let got = r.entries(2).await;
    assert_eq!(got.iter().map(|e| e.line.as_str()).collect::<Vec<_>>(), ["first", "last"]);
    assert_eq!(r.errors(), 2, "the malformed and the over-long message");
    r.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_datagrams_rfc3164_incoming_timestamps_and_rfc5424_lines() {
    let udp_3164 = listener("udp", "    syslog_format = \"rfc3164\"\n    use_incoming_timestamp = true\n    rfc3164_default_to_current_year = true");
    let udp_5424 = listener("udp", "    use_rfc5424_message = true\n    use_incoming_timestamp = true");
    let mut r = start(&format!("{udp_3164}\n{udp_5424}"), Some(KEEP_ALL)).await;
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.expect("binds");
    sock.send_to(b"<34>Oct 11 22:14:15 mymachine su[42]: 'su root' failed", r.addr(0)).await.expect("sends");
    let got = r.entries(1).await;
    let (year, _) = transport_year();
    let want = parse::Timestamp { year, month: 10, day: 11, hour: 22, minute: 14, second: 15, micros: 0, offset_minutes: 0 }.unix_nanos();
    assert_eq!((got[0].line.as_str(), got[0].timestamp_ns), ("'su root' failed", want));
    assert_eq!((label(&got[0], "syslog_message_app_name"), label(&got[0], "syslog_message_proc_id")), (Some("su"), Some("42")));

    let framed = format!("{} {EXAMPLE}", EXAMPLE.len());
    sock.send_to(framed.as_bytes(), r.addr(1)).await.expect("sends");
    let got = r.entries(1).await;
    assert!(got[0].line.starts_with("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [examplePriority@32473 class="), "{}", got[0].line);
    assert_eq!(got[0].timestamp_ns, 1_065_910_455_003_000_000);
    // Garbage is counted and the listener goes on.
    sock.send_to(b"not syslog", r.addr(1)).await.expect("sends");
    sock.send_to(b"<13>1 - - - - - - after", r.addr(1)).await.expect("sends");
    let got = r.entries(1).await;
    assert_eq!(got[0].line, "<13>1 - - - - - - after");
    assert_eq!(r.errors(), 1);
    r.stop.cancel();
}

fn transport_year() -> (i64, u32) {
    let days = Entry::nanos_of(std::time::SystemTime::now()).div_euclid(86_400 * 1_000_000_000);
    let (y, m, _) = loki::process::time::civil_from_days(days);
    (y, m)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_messages_and_dropping_rules() {
    let lines = format!("{}\n{}", listener("udp", "    rfc5424_allow_empty_msg = true"), listener("udp", ""));
    let mut r = start(&lines, Some("  rule {\n    source_labels = [\"__syslog_message_app_name\"]\n    regex = \"noisy\"\n    action = \"drop\"\n  }")).await;
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.expect("binds");
    let empty = b"<14>1 2026-02-19T14:57:17.097Z fw RT_FLOW - DENY [junos@2636.1.1.1.2.129 application=\"UNKNOWN\"]";
    sock.send_to(empty, r.addr(0)).await.expect("sends");
    let got = r.entries(1).await;
    assert_eq!((got.len(), got[0].line.as_str(), got[0].labels.clone()), (1, "", Labels::empty()));
    sock.send_to(empty, r.addr(1)).await.expect("sends");
    sock.send_to(b"<14>1 - - noisy - - - dropped by the rule", r.addr(1)).await.expect("sends");
    assert!(r.quiet().await, "neither the empty message nor the dropped one is forwarded");
    assert!(eventually(|| r.c.shared.metrics.empty_messages.get() == 2).await);
    r.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_framing_closes_the_connection_and_idle_ones_time_out() {
    let r = start(&listener("tcp", "    idle_timeout = \"200ms\""), None).await;
    use tokio::io::AsyncReadExt;
    let mut tcp = tokio::net::TcpStream::connect(r.addr(0)).await.expect("connects");
    tcp.write_all(b"xxx").await.expect("writes");
    let mut buf = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf)).await.expect("closed in time");
    assert_eq!(read.expect("reads"), 0, "EOF");
    let mut idle = tokio::net::TcpStream::connect(r.addr(0)).await.expect("connects");
    let read = tokio::time::timeout(Duration::from_secs(5), idle.read(&mut buf)).await.expect("closed in time");
    assert_eq!(read.expect("reads"), 0, "EOF after the idle timeout");
    r.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_keep_the_port_and_apply_new_settings() {
    let mut r = start(&listener("tcp", "    labels = { v = \"1\" }"), None).await;
    let addr = r.addr(0);
    let text = format!("loki.source.syslog \"t\" {{\n  forward_to = []\n{}\n}}\n", listener("tcp", "    labels = { v = \"2\" }"));
    let mut v = crate::component::args::evaluated(&text).expect("evaluates");
    let (handle, mut out) = channel("test.out2", 8);
    if let Value::Object(o) = &mut v {
        Arc::make_mut(o).insert("forward_to", Value::array(vec![handle.to_value()]));
    }
    r.c.update(v).expect("updates");
    assert_eq!(r.addr(0), addr, "the same socket");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connects");
    tcp.write_all(b"<13>1 - - - - - - updated\n").await.expect("writes");
    drop(tcp);
    let got = tokio::time::timeout(Duration::from_secs(10), out.recv()).await.expect("in time").expect("a batch");
    assert_eq!((got[0].line.as_str(), got[0].labels.get("v")), ("updated", Some("2")));
    assert!(r.quiet().await, "the old receiver gets nothing");
    r.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_listener_reads_messages_after_the_handshake() {
    use rcgen::{CertificateParams, KeyPair};
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().self_signed(&key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    let tls =
        format!("    tls_config {{\n      cert_file = {:?}\n      key_file = {:?}\n    }}", cert_file.display().to_string(), key_file.display().to_string());
    let mut r = start(&listener("tcp", &tls), None).await;

    crate::tls::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(r.addr(0)).await.expect("connects");
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut stream = connector.connect(name, tcp).await.expect("handshakes");
    let msg = "<13>1 - - - - - - over tls";
    stream.write_all(format!("{} {msg}", msg.len()).as_bytes()).await.expect("writes");
    stream.shutdown().await.expect("closes");
    let got = r.entries(1).await;
    assert_eq!(got[0].line, "over tls");
    r.stop.cancel();
}

#[test]
fn arguments_follow_upstream_rules() {
    let check = |body: &str| -> Vec<String> {
        let v = crate::component::args::evaluated(&format!(
            "loki.source.syslog \"t\" {{\n  forward_to = []\n  listener {{\n    address = \"127.0.0.1:0\"\n{body}\n  }}\n}}\n"
        ))
        .expect("evaluates");
        crate::component::args::check::<Args>(NAME, &v).iter().map(crate::component::args::describe).collect()
    };
    assert_eq!(check("    protocol = \"sctp\""), ["listener[0].protocol: syslog listener protocol should be either 'tcp' or 'udp', got sctp"]);
    assert_eq!(check("    syslog_format = \"cef\""), ["listener[0].syslog_format: unknown syslog format: cef"]);
    assert_eq!(check("    syslog_format = \"raw\""), ["listener[0].syslog_format: syslog_format \"raw\" is not supported by this runtime yet"]);
    assert_eq!(
        check("    syslog_format = \"rfc3164\"\n    rfc5424_allow_empty_msg = true"),
        ["listener[0].rfc5424_allow_empty_msg: \"rfc5424_allow_empty_msg\" has no effect when syslog format is set to \"rfc3164\""]
    );
    assert_eq!(
        check("    rfc3164_cisco_components {\n      enable_all = true\n    }"),
        ["listener[0].rfc3164_cisco_components: block \"rfc3164_cisco_components\" is not supported by this runtime yet"]
    );
    assert_eq!(check("    tls_config {\n      key_pem = \"x\"\n    }"), ["listener[0].tls_config: certificate and key must be configured"]);
    assert_eq!(check("    max_message_length = -1"), ["listener[0].max_message_length: max_message_length must not be negative, got -1"]);
    assert_eq!(
        check("    tls_config {\n      insecure_skip_verify = true\n    }"),
        ["listener[0].tls_config.insecure_skip_verify: argument \"insecure_skip_verify\" is not supported by this runtime yet"]
    );
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().self_signed(&key).unwrap();
    let udp_tls = format!("    protocol = \"udp\"\n    tls_config {{\n      cert_pem = {:?}\n      key_pem = {:?}\n    }}", cert.pem(), key.serialize_pem());
    assert_eq!(check(&udp_tls), ["listener[0].tls_config: tls_config has no effect on a udp listener"]);
    let v = crate::component::args::evaluated(
        "loki.source.syslog \"t\" {\n  forward_to = []\n  listener {\n    address = \"a:1\"\n    idle_timeout = \"0s\"\n    max_message_length = 0\n  }\n}\n",
    )
    .unwrap();
    let args: Args = decode_checked(NAME, &v).expect("valid");
    assert_eq!((args.listeners[0].idle_timeout, args.listeners[0].max_message_length), (Duration::from_secs(120), 8192), "zero means the default");
}

// ---- Python's SysLogHandler ----

/// Sends with `logging.handlers.SysLogHandler`: RFC 5424 over UDP (the handler's default NUL
/// trailer), a bare message as the handler sends it without a formatter (`<PRI>msg\0`, no
/// header: upstream fails it in both formats, and so does this runtime), then RFC 3164 over
/// TCP (newline-terminated, no NUL, as non-transparent framing wants).
const SYSLOG_HANDLER: &str = r#"
import logging, logging.handlers, socket, sys, time
udp_port, tcp_port = int(sys.argv[1]), int(sys.argv[2])
H = logging.handlers.SysLogHandler

def logger(name, handler, fmt, datefmt=None):
    f = logging.Formatter(fmt, datefmt)
    f.converter = time.gmtime
    handler.setFormatter(f)
    log = logging.getLogger(name)
    log.propagate = False
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    return log

udp = logger("udp5424", H(address=("127.0.0.1", udp_port), facility=H.LOG_LOCAL4, socktype=socket.SOCK_DGRAM),
             '1 %(asctime)s.000Z testhost pyapp 4242 ID47 [meta@32473 lang="python"] %(message)s', "%Y-%m-%dT%H:%M:%S")
udp.warning("hello from python")
udp.error("second message")

bare = H(address=("127.0.0.1", udp_port), socktype=socket.SOCK_DGRAM)
bare_log = logging.getLogger("bare")
bare_log.propagate = False
bare_log.addHandler(bare)
bare_log.warning("bare message without a header")

tcp_handler = H(address=("127.0.0.1", tcp_port), facility=H.LOG_DAEMON, socktype=socket.SOCK_STREAM)
tcp_handler.append_nul = False
tcp = logger("tcp3164", tcp_handler, "%(asctime)s testhost pyapp[4242]: %(message)s\n", "%b %d %H:%M:%S")
for i in range(3):
    tcp.info("tcp message %d", i)
tcp_handler.close()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_syslog_handler_over_udp_and_tcp() {
    if !python::available("logging.handlers", "python_syslog_handler_over_udp_and_tcp") {
        return;
    }
    let lines = format!("{}\n{}", listener("udp", "    label_structured_data = true"), listener("tcp", "    syslog_format = \"rfc3164\""));
    let mut r = start(&lines, Some(KEEP_ALL)).await;
    python::run(SYSLOG_HANDLER, &[r.addr(0).port().to_string(), r.addr(1).port().to_string()]).await;
    let mut got = r.entries(5).await;
    got.sort_by(|a, b| a.line.cmp(&b.line));
    let lines: Vec<&str> = got.iter().map(|e| e.line.as_str()).collect();
    assert_eq!(lines, ["hello from python", "second message", "tcp message 0", "tcp message 1", "tcp message 2"]);
    let hello = &got[0];
    assert_eq!(label(hello, "syslog_message_severity"), Some("warning"));
    assert_eq!(label(hello, "syslog_message_facility"), Some("local4"));
    assert_eq!(label(hello, "syslog_message_hostname"), Some("testhost"));
    assert_eq!(label(hello, "syslog_message_app_name"), Some("pyapp"));
    assert_eq!(label(hello, "syslog_message_proc_id"), Some("4242"));
    assert_eq!(label(hello, "syslog_message_msg_id"), Some("ID47"));
    assert_eq!(label(hello, "syslog_message_sd_meta_32473_lang"), Some("python"));
    assert_eq!(label(&got[1], "syslog_message_severity"), Some("error"));
    let tcp = &got[2];
    assert_eq!(label(tcp, "syslog_message_severity"), Some("informational"));
    assert_eq!(label(tcp, "syslog_message_facility"), Some("daemon"));
    assert_eq!((label(tcp, "syslog_message_hostname"), label(tcp, "syslog_message_app_name")), (Some("testhost"), Some("pyapp")));
    assert_eq!(label(tcp, "syslog_message_proc_id"), Some("4242"));
    assert!(eventually(|| r.errors() == 1).await, "the bare message failed to parse");
    assert!(r.quiet().await, "the bare message is not forwarded");
    r.stop.cancel();
}
