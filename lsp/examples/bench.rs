//! Latency of `alloy lsp` as an editor sees it, over stdio, on a generated 1 MB workspace.
//!
//! ```text
//! cargo build --release -p alloy-cli
//! cargo run --release -p alloy-lsp --example bench -- target/release/alloy [--files N] [--rounds R]
//! ```
//!
//! Writes the workspace (the benchmark corpus split into N files of one directory) to a temp
//! directory, starts the server, opens one file and then measures:
//! * one-character edit → `publishDiagnostics` for that edit's version;
//! * completion inside `forward_to = [` and hover on a component name;
//! * the server's resident memory (VmRSS, VmHWM) at the end.

#[path = "../../fixtures/bench/corpus.rs"]
mod corpus;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
}

impl Client {
    fn start(binary: &str) -> Client {
        let mut child =
            Command::new(binary).arg("lsp").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("start the server");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (tx, incoming) = channel();
        std::thread::spawn(move || loop {
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(v) = line.strip_prefix("Content-Length: ") {
                    len = v.parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            if stdout.read_exact(&mut body).is_err() {
                return;
            }
            if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        Client { child, stdin, incoming, next_id: 1 }
    }

    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write to the server");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let msg = self.incoming.recv_timeout(Duration::from_secs(60)).expect("a response");
            if msg.get("id") == Some(&json!(id)) && msg.get("method").is_none() {
                return msg.get("result").cloned().unwrap_or(Value::Null);
            }
        }
    }

    /// Waits for diagnostics of `uri` at `version`.
    fn diagnostics(&mut self, uri: &str, version: i64) -> usize {
        loop {
            let msg = self.incoming.recv_timeout(Duration::from_secs(60)).expect("diagnostics");
            if msg["method"] == "textDocument/publishDiagnostics" && msg["params"]["uri"] == uri && msg["params"]["version"] == version {
                return msg["params"]["diagnostics"].as_array().map_or(0, Vec::len);
            }
        }
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, samples: &mut [Duration]) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<28} p50 {:>7.2} ms   p95 {:>7.2} ms   max {:>7.2} ms   (n = {})",
        ms(percentile(samples, 0.5)),
        ms(percentile(samples, 0.95)),
        ms(percentile(samples, 1.0)),
        samples.len()
    );
}

/// The corpus split at top-level statements into `n` texts of similar size.
fn split(text: &str, n: usize) -> Vec<String> {
    let parsed = syntax::parse_file(text.as_bytes());
    let target = text.len() / n.max(1);
    let mut out = Vec::new();
    let mut start = 0usize;
    for stmt in &parsed.tree.body {
        let s = stmt.span().start as usize;
        if s - start >= target && out.len() + 1 < n {
            out.push(text[start..s].to_string());
            start = s;
        }
    }
    out.push(text[start..].to_string());
    out
}

/// The line and column (UTF-16 = bytes here: the corpus is ASCII) of a byte offset.
fn position(text: &str, offset: usize) -> Value {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let col = offset - before.rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": col})
}

fn rss(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let binary = args.get(1).cloned().unwrap_or_else(|| "target/release/alloy".into());
    let flag = |name: &str, default: usize| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default);
    let (files, rounds) = (flag("--files", 20), flag("--rounds", 200));

    let (text, copies) = corpus::generate(1 << 20);
    let dir = std::env::temp_dir().join(format!("alloy-lsp-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the workspace");
    let parts = split(&text, files);
    for (i, part) in parts.iter().enumerate() {
        std::fs::write(dir.join(format!("part{i:03}.alloy")), part).expect("write the workspace");
    }
    println!("workspace: {} bytes, {copies} template copies, {} files in {}", text.len(), parts.len(), dir.display());

    // The edited file: the middle one.
    let edited = parts.len() / 2;
    let path = dir.join(format!("part{edited:03}.alloy"));
    let uri = format!("file://{}", path.display());
    let mut doc = parts[edited].clone();

    let mut client = Client::start(&binary);
    let pid = client.child.id();
    client.request("initialize", json!({"processId": null, "rootUri": null, "capabilities": {}}));
    client.notify("initialized", json!({}));
    let t = Instant::now();
    client.notify("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": "alloy", "version": 0, "text": doc}}));
    let n = client.diagnostics(&uri, 0);
    println!("open → first diagnostics: {:.1} ms ({n} diagnostics)", t.elapsed().as_secs_f64() * 1000.0);

    // Edits: a digit of a number inside a block, alternately replaced.
    let anchor = doc.find("max_shards").or_else(|| doc.find("= \"15s\"")).expect("an attribute to edit");
    let digit = anchor + doc[anchor..].find(|c: char| c.is_ascii_digit()).expect("a digit");
    let mut edit_samples = Vec::new();
    for version in 1..=rounds as i64 {
        let new = if version % 2 == 1 { "7" } else { "5" };
        doc.replace_range(digit..digit + 1, new);
        let at = position(&doc, digit);
        let end = json!({"line": at["line"], "character": at["character"].as_u64().unwrap_or(0) + 1});
        let t = Instant::now();
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"range": {"start": at, "end": end}, "text": new}]}),
        );
        client.diagnostics(&uri, version);
        edit_samples.push(t.elapsed());
    }

    let doc_uri = json!({"uri": uri});
    let forward = doc.find("forward_to = [").map(|i| i + "forward_to = [".len()).unwrap_or(0);
    let mut completion_samples = Vec::new();
    let mut items = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        let r = client.request("textDocument/completion", json!({"textDocument": doc_uri, "position": position(&doc, forward)}));
        completion_samples.push(t.elapsed());
        items = r["items"].as_array().map_or(0, Vec::len);
    }
    let component = doc.find("prometheus.remote_write \"").unwrap_or(0) + 3;
    let mut hover_samples = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let r = client.request("textDocument/hover", json!({"textDocument": doc_uri, "position": position(&doc, component)}));
        hover_samples.push(t.elapsed());
        assert!(r["contents"]["value"].as_str().is_some_and(|v| v.contains("remote_write")), "hover answered");
    }

    report("edit → diagnostics", &mut edit_samples);
    report(&format!("completion ({items} items)"), &mut completion_samples);
    report("hover", &mut hover_samples);
    println!("server memory: {}", rss(pid));

    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    let _ = client.child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
