//! Decoding and reassembly on their own, then the component on loopback, fed by Rust sockets
//! and by pygelf (a GELF logging handler from PyPI) uncompressed, compressed and chunked.

use std::io::Write;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::chunks::{Assembler, Outcome, MAX_CHUNKS, TIMEOUT};
use super::message::{decode, decompress, Message};
use super::*;
use crate::loki::receiver::{channel, Entries};
use crate::loki::source::python;

const UPSTREAM_TEST: &str =
    r#"{"version":"1.1","host":"example.org","short_message":"A short message","timestamp":1231231123,"level":5,"_some_extra":"extra"}"#;

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn zlib(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

#[test]
fn plain_gzip_and_zlib_messages_decode_alike() {
    let want = decode(UPSTREAM_TEST.as_bytes()).expect("plain");
    assert_eq!((want.version.as_str(), want.host.as_str(), want.short.as_str()), ("1.1", "example.org", "A short message"));
    assert_eq!((want.timestamp, want.level, want.level_name()), (1_231_231_123.0, 5, "notice"));
    assert_eq!(decode(&gzip(UPSTREAM_TEST.as_bytes())).expect("gzip").to_line(), want.to_line());
    assert_eq!(decode(&zlib(UPSTREAM_TEST.as_bytes())).expect("zlib").to_line(), want.to_line());
    // A trailing NUL or newline (TCP framing habits) is not an error.
    assert_eq!(decode(format!("{UPSTREAM_TEST}\n\0").as_bytes()).expect("trailing NUL").to_line(), want.to_line());
    assert_eq!(
        want.to_line(),
        r#"{"version":"1.1","host":"example.org","short_message":"A short message","timestamp":1231231123,"level":5,"_some_extra":"extra"}"#
    );
}

#[test]
fn the_line_is_go_json_of_the_known_and_additional_fields() {
    let m = decode(br#"{"_z":[1,2.5,{"b":null,"a":"<&>"}],"short_message":"multi\nline","full_message":"","host":"h","timestamp":1700000000.123456,"_a":1e21,"unknown":"dropped","facility":"app","level":0}"#).unwrap();
    assert_eq!(
        m.to_line(),
        r#"{"version":"","host":"h","short_message":"multi\nline","timestamp":1700000000.123456,"facility":"app","_a":1e+21,"_z":[1,2.5,{"a":"\u003c\u0026\u003e","b":null}]}"#
    );
    assert_eq!(m.level_name(), "emergency", "a missing or zero level is level 0, as upstream reads it");
    assert_eq!(m.timestamp_ns(), 1_700_000_000_123_456_000);
    assert_eq!(Message { level: 9, ..Message::default() }.level_name(), "");
}

#[test]
fn bad_messages_say_why() {
    assert_eq!(decode(br#"{"host": 5}"#).unwrap_err(), "invalid type for field host");
    assert_eq!(decode(br#"{"level": "info"}"#).unwrap_err(), "invalid type for field level");
    assert!(decode(b"[1,2]").unwrap_err().starts_with("json.Unmarshal: json: cannot unmarshal"));
    assert!(decode(b"{\"short_message\": ").unwrap_err().starts_with("json.Unmarshal: "));
    assert!(decode(&[0x1f, 0x8b, 1, 2, 3]).unwrap_err().starts_with("decompressing"));
    // A zlib bomb stops at the limit.
    let bomb = zlib(&vec![b' '; message::MAX_MESSAGE + 10]);
    assert!(decompress(&bomb).unwrap_err().contains("more than"));
}

fn chunk(id: u8, seq: u8, count: u8, body: &[u8]) -> Vec<u8> {
    let mut c = vec![0x1e, 0x0f, id, 0, 0, 0, 0, 0, 0, 7, seq, count];
    c.extend_from_slice(body);
    c
}

#[test]
fn chunks_reassemble_in_any_order_and_ignore_duplicates() {
    let mut a = Assembler::default();
    let now = Instant::now();
    assert_eq!(a.add(&chunk(1, 2, 3, b"ghi"), now), Outcome::Incomplete);
    assert_eq!(a.add(&chunk(2, 0, 2, b"xx"), now), Outcome::Incomplete, "another message interleaved");
    assert_eq!(a.add(&chunk(1, 0, 3, b"abc"), now), Outcome::Incomplete);
    assert_eq!(a.add(&chunk(1, 0, 3, b"XXX"), now), Outcome::Incomplete, "a duplicate: the first copy counts");
    assert_eq!(a.add(&chunk(1, 1, 3, b"def"), now), Outcome::Complete(b"abcdefghi".to_vec()));
    assert_eq!((a.pending(), a.pending_bytes()), (1, 2));
    assert_eq!(a.add(&chunk(3, 0, 1, b"single"), now), Outcome::Complete(b"single".to_vec()));
}

#[test]
fn incomplete_messages_expire_after_five_seconds() {
    let mut a = Assembler::default();
    let start = Instant::now();
    assert_eq!(a.add(&chunk(1, 0, 2, b"abc"), start), Outcome::Incomplete);
    a.expire(start + TIMEOUT);
    assert_eq!(a.pending(), 1, "not yet");
    a.expire(start + TIMEOUT + Duration::from_millis(1));
    assert_eq!((a.pending(), a.pending_bytes(), a.take_dropped()), (0, 0, 1));
    // The missing part arriving late starts a new message, which is incomplete again.
    assert_eq!(a.add(&chunk(1, 1, 2, b"def"), start + TIMEOUT * 2), Outcome::Incomplete);
}

#[test]
fn invalid_chunks_are_refused() {
    let mut a = Assembler::default();
    let now = Instant::now();
    assert!(matches!(a.add(&chunk(1, 0, 129, b"x"), now), Outcome::Invalid(e) if e.contains("1 to 128 chunks")));
    assert!(matches!(a.add(&chunk(1, 0, 0, b"x"), now), Outcome::Invalid(_)));
    assert!(matches!(a.add(&chunk(1, 3, 3, b"x"), now), Outcome::Invalid(e) if e.contains("not below")));
    assert!(matches!(a.add(&chunk(1, 0, 3, b""), now), Outcome::Invalid(e) if e.contains("greater than 12")));
    assert_eq!(a.add(&chunk(1, 0, 3, b"x"), now), Outcome::Incomplete);
    assert!(matches!(a.add(&chunk(1, 1, 4, b"x"), now), Outcome::Invalid(e) if e.contains("differs")));
    // 128 chunks is the most, and works.
    let mut a = Assembler::default();
    for seq in 0..MAX_CHUNKS - 1 {
        assert_eq!(a.add(&chunk(9, seq as u8, MAX_CHUNKS as u8, b"a"), now), Outcome::Incomplete);
    }
    assert_eq!(a.add(&chunk(9, 127, MAX_CHUNKS as u8, b"a"), now), Outcome::Complete(vec![b'a'; MAX_CHUNKS]));
}

#[test]
fn pending_data_is_bounded_by_dropping_the_oldest() {
    let mut a = Assembler::default();
    let now = Instant::now();
    let big = vec![b'x'; 60_000];
    // 1200 incomplete messages of 60 kB are more than the 64 MiB held at most.
    for i in 0..1200u32 {
        let mut c = chunk(0, 0, 2, &big);
        c[2..6].copy_from_slice(&i.to_be_bytes());
        assert_eq!(a.add(&c, now + Duration::from_micros(u64::from(i))), Outcome::Incomplete);
    }
    assert!(a.pending_bytes() <= 64 << 20, "{}", a.pending_bytes());
    assert!(a.take_dropped() > 0);
    // The newest are the ones kept.
    let mut last = chunk(0, 1, 2, b"!");
    last[2..6].copy_from_slice(&1199u32.to_be_bytes());
    assert!(matches!(a.add(&last, now), Outcome::Complete(m) if m.len() == 60_001));
}

// ---- the component ----

struct Running {
    c: Arc<SourceGelf>,
    stop: CancellationToken,
    out: mpsc::Receiver<Entries>,
}

impl Running {
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

    async fn send(&self, data: &[u8]) {
        let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.expect("binds");
        sock.send_to(data, self.c.local_addr()).await.expect("sends");
    }
}

/// Keeps every internal label as `gelf_...`.
fn keep_all() -> Value {
    let v = crate::component::args::evaluated(
        "loki.relabel \"r\" {\n  forward_to = []\n  rule {\n    action = \"labelmap\"\n    regex = \"__gelf_(.+)\"\n    replacement = \"gelf_$1\"\n  }\n}\n",
    )
    .expect("evaluates");
    let args: crate::loki::relabel::Args = decode_checked("loki.relabel", &v).expect("valid");
    RulesHandle(Arc::new(args.rules)).to_value()
}

async fn start(body: &str) -> Running {
    let text = format!("loki.source.gelf \"t\" {{\n  forward_to = []\n  listen_address = \"127.0.0.1:0\"\n{body}\n}}\n");
    let mut v = crate::component::args::evaluated(&text).expect("evaluates");
    let (handle, out) = channel("test.out", 64);
    if let Value::Object(o) = &mut v {
        let o = Arc::make_mut(o);
        o.insert("forward_to", Value::array(vec![handle.to_value()]));
        o.insert("relabel_rules", keep_all());
    }
    let c = SourceGelf::new(crate::component::detached_context("loki.source.gelf.t"), &v).expect("builds");
    let stop = CancellationToken::new();
    tokio::spawn(c.clone().run(stop.clone()));
    Running { c, stop, out }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datagrams_whole_compressed_and_chunked_become_entries() {
    let mut r = start("  use_incoming_timestamp = true").await;
    r.send(UPSTREAM_TEST.as_bytes()).await;
    let got = r.entries(1).await;
    assert_eq!(got[0].line, UPSTREAM_TEST);
    assert_eq!(got[0].timestamp_ns, 1_231_231_123_000_000_000);
    assert_eq!(got[0].labels, Labels::new([("gelf_message_host", "example.org"), ("gelf_message_level", "notice"), ("gelf_message_version", "1.1")]));
    // gzip, split in three chunks sent out of order.
    let z = gzip(UPSTREAM_TEST.as_bytes());
    let third = z.len() / 3 + 1;
    let parts: Vec<&[u8]> = z.chunks(third).collect();
    for seq in [2usize, 0, 1] {
        r.send(&chunk(5, seq as u8, parts.len() as u8, parts[seq])).await;
    }
    let got = r.entries(1).await;
    assert_eq!(got[0].line, UPSTREAM_TEST);
    // Garbage is counted, and the next message still arrives.
    r.send(b"not json").await;
    r.send(br#"{"short_message":"after","host":"h"}"#).await;
    let got = r.entries(1).await;
    assert_eq!(got[0].line, r#"{"version":"","host":"h","short_message":"after","timestamp":0}"#);
    assert!(got[0].timestamp_ns > 1_700_000_000_000_000_000, "no timestamp: the time of receipt");
    assert_eq!(r.c.errors.get(), 1);
    assert_eq!(r.c.entries.get(), 3);
    r.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_listen_address_moves_the_socket() {
    let mut r = start("").await;
    let old = r.c.local_addr();
    let mut v = crate::component::args::evaluated("loki.source.gelf \"t\" {\n  forward_to = []\n  listen_address = \"localhost:0\"\n}\n").expect("evaluates");
    if let Value::Object(o) = &mut v {
        Arc::make_mut(o).insert("forward_to", Value::array(r.c.fanout.current().iter().map(|h| h.to_value()).collect()));
    }
    r.c.update(v).expect("updates");
    assert_ne!(r.c.local_addr(), old);
    tokio::time::sleep(Duration::from_millis(100)).await;
    r.send(br#"{"short_message":"moved"}"#).await;
    let got = r.entries(1).await;
    assert!(got[0].line.contains("moved"));
    r.stop.cancel();
}

/// Sends with pygelf's UDP handler: uncompressed, zlib-compressed, chunked (a small chunk
/// size) plain and compressed; then one gzip-compressed datagram by hand (pygelf compresses
/// with zlib only). Prints the host name the handler reports.
const PYGELF: &str = r#"
import gzip, json, logging, socket, sys, time
from pygelf import GelfUdpHandler
port = int(sys.argv[1])
def send(name, **kwargs):
    log = logging.getLogger(name)
    log.propagate = False
    log.setLevel(logging.DEBUG)
    h = GelfUdpHandler(host="127.0.0.1", port=port, _case=name, **kwargs)
    log.addHandler(h)
    return log
send("plain", compress=False).info("plain message")
send("zlib", compress=True).warning("compressed message")
send("chunked", compress=False, chunk_size=100).error("chunked " + "x" * 600)
send("zlib_chunked", compress=True, chunk_size=20).debug("compressed and chunked " + "y" * 300)
msg = {"version": "1.1", "host": "gz", "short_message": "gzip message", "timestamp": time.time(), "level": 3, "_case": "gzip"}
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(gzip.compress(json.dumps(msg).encode()), ("127.0.0.1", port))
print(socket.gethostname())
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pygelf_uncompressed_compressed_and_chunked() {
    if !python::available("pygelf", "pygelf_uncompressed_compressed_and_chunked") {
        return;
    }
    let mut r = start("  use_incoming_timestamp = true").await;
    let before = Entry::nanos_of(SystemTime::now()) - 60_000_000_000;
    let host = python::run(PYGELF, &[r.c.local_addr().port().to_string()]).await.trim().to_string();
    let got = r.entries(5).await;
    assert_eq!(got.len(), 5, "{got:?}");
    let mut by_case: Vec<(String, &Entry, serde_json::Value)> = got
        .iter()
        .map(|e| {
            let json: serde_json::Value = serde_json::from_str(&e.line).expect("the line is JSON");
            (json["_case"].as_str().unwrap_or_default().to_string(), e, json)
        })
        .collect();
    by_case.sort_by(|a, b| a.0.cmp(&b.0));
    let cases: Vec<&str> = by_case.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(cases, ["chunked", "gzip", "plain", "zlib", "zlib_chunked"]);
    let shorts: Vec<&str> = by_case.iter().map(|c| c.2["short_message"].as_str().unwrap_or_default()).collect();
    assert_eq!(shorts[2..4], ["plain message", "compressed message"]);
    assert_eq!(shorts[0], format!("chunked {}", "x".repeat(600)));
    assert_eq!(shorts[4], format!("compressed and chunked {}", "y".repeat(300)));
    let levels: Vec<Option<&str>> = by_case.iter().map(|c| c.1.labels.get("gelf_message_level")).collect();
    assert_eq!(levels, [Some("error"), Some("error"), Some("informational"), Some("warning"), Some("debug")]);
    for (case, e, _) in &by_case {
        let want_host = if case == "gzip" { "gz" } else { host.as_str() };
        assert_eq!(e.labels.get("gelf_message_host"), Some(want_host), "{case}");
        assert!(e.timestamp_ns > before && e.timestamp_ns < before + 120_000_000_000, "{case}: the message's own timestamp");
    }
    assert_eq!(r.c.errors.get(), 0);
    r.stop.cancel();
}
