//! `alloy lsp` over raw pipes: what a broken or hostile client sends.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdout, Command, Stdio};

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Reads one message from the server.
fn read_message(out: &mut BufReader<ChildStdout>) -> serde_json::Value {
    let mut length = None;
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).expect("read header") > 0, "the server closed its output");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            length = Some(v.parse::<usize>().expect("a length"));
        }
    }
    let mut body = vec![0; length.expect("Content-Length")];
    out.read_exact(&mut body).expect("read body");
    serde_json::from_slice(&body).expect("JSON body")
}

#[test]
fn malformed_messages_are_answered_and_serving_goes_on() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_alloy"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("alloy lsp starts");
    let mut input = child.stdin.take().expect("stdin");
    let mut output = BufReader::new(child.stdout.take().expect("stdout"));

    let mut garbage = Vec::new();
    garbage.extend(frame(b"this is not json"));
    garbage.extend(frame(b"[1, 2, 3]"));
    garbage.extend(frame(b"{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":\"\xff\"}"));
    garbage.extend(b"Content-Length: many\r\n\r\n");
    garbage.extend(b"no header at all\r\n\r\n");
    input.write_all(&garbage).expect("write garbage");
    let init = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#;
    input.write_all(&frame(init)).expect("write initialize");
    input.flush().expect("flush");

    let mut codes = Vec::new();
    let reply = loop {
        let msg = read_message(&mut output);
        if msg["id"] == 1 {
            break msg;
        }
        assert_eq!(msg["id"], serde_json::Value::Null, "{msg}");
        codes.push(msg["error"]["code"].as_i64().expect("an error code"));
    };
    assert_eq!(codes, [-32700, -32600, -32700, -32700, -32700]);
    assert!(reply["result"]["capabilities"]["documentFormattingProvider"].as_bool().is_some_and(|b| b), "{reply}");

    input.write_all(&frame(br#"{"jsonrpc":"2.0","id":2,"method":"shutdown"}"#)).expect("shutdown");
    input.flush().expect("flush");
    assert_eq!(read_message(&mut output)["id"], 2);
    input.write_all(&frame(br#"{"jsonrpc":"2.0","method":"exit"}"#)).expect("exit");
    input.flush().expect("flush");
    // stdin stays open: the server exits on `exit` alone.
    let status = child.wait().expect("alloy lsp exits");
    assert!(status.success());
    drop(input);
}
