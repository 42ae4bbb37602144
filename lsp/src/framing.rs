//! The transport in front of tower-lsp-server: it reads the client's messages itself and
//! forwards only well-formed ones. tower-lsp-server's reader stops serving at the first message
//! it cannot decode (a non-JSON body, a JSON array, a bad `Content-Length`, invalid UTF-8), and
//! the server then exits; here such a message is answered with a JSON-RPC error (`id: null`)
//! and skipped, and a bad header is skipped up to the next `Content-Length` header.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{Request, Response};

/// Longer header lines are garbage (real headers are a few dozen bytes).
const MAX_HEADER_LINE: u64 = 8 * 1024;

/// JSON-RPC's "Parse error" and "Invalid Request" codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

/// One framed message for the client (`Content-Length` header and body).
pub type Frame = Vec<u8>;

/// What the output task writes: a message, or the end of the server's output.
pub enum Out {
    Frame(Frame),
    End,
}

/// What [`read_message`] found.
#[derive(Debug, PartialEq)]
pub enum Read {
    /// A body with a valid header (not yet checked).
    Body(Vec<u8>),
    /// Bytes that are not a header block; they have been skipped.
    BadHeader(String),
    /// The input ended.
    Eof,
}

pub fn frame(body: &[u8]) -> Frame {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

fn error_frame(code: i64, message: &str) -> Frame {
    let body = serde_json::json!({"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": null});
    frame(body.to_string().as_bytes())
}

/// Reads one message: header lines up to an empty line, then `Content-Length` bytes. Garbage
/// before a `Content-Length` header (even on the same line, as after a body whose length was
/// wrong) is reported as [`Read::BadHeader`] and the header is kept for the next call.
pub async fn read_message<R: AsyncBufRead + Unpin>(input: &mut R, pending: &mut Option<Vec<u8>>) -> std::io::Result<Read> {
    let mut length: Option<Result<usize, String>> = None;
    let mut garbage = false;
    let mut seen = false;
    loop {
        let mut line = match pending.take() {
            Some(line) => line,
            None => {
                let mut line = Vec::new();
                let n = (&mut *input).take(MAX_HEADER_LINE).read_until(b'\n', &mut line).await?;
                if n == 0 {
                    return Ok(if seen { Read::BadHeader("the input ended inside a header".into()) } else { Read::Eof });
                }
                line
            }
        };
        let at = find_content_length(&line);
        if at.is_some_and(|at| at > 0) || (at == Some(0) && garbage) {
            // A new header block starts here: what came before it is skipped.
            *pending = Some(line.split_off(at.unwrap_or_default()));
            return Ok(Read::BadHeader("malformed header".into()));
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() && line.ends_with(b"\n") {
            if !seen {
                continue; // a stray blank line between messages
            }
            return Ok(match length {
                Some(Ok(n)) if !garbage => {
                    let mut body = Vec::new();
                    (&mut *input).take(n as u64).read_to_end(&mut body).await?;
                    if body.len() < n {
                        return Ok(Read::Eof);
                    }
                    Read::Body(body)
                }
                Some(Err(e)) => Read::BadHeader(e),
                _ => Read::BadHeader("missing Content-Length header".into()),
            });
        }
        seen = true;
        match text.split_once(':') {
            Some((_, value)) if at == Some(0) => {
                let value = value.trim();
                length = Some(value.parse().map_err(|_| format!("invalid Content-Length {value:?}")));
            }
            // Other headers (Content-Type) carry nothing the server needs.
            Some((name, _)) if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') => {}
            _ => garbage = true,
        }
    }
}

fn find_content_length(line: &[u8]) -> Option<usize> {
    const NAME: &[u8] = b"content-length:";
    line.windows(NAME.len()).position(|w| w.eq_ignore_ascii_case(NAME))
}

/// Checks a body as tower-lsp-server will decode it: the error reply for one it would refuse.
pub fn check_body(body: &[u8]) -> Result<(), Frame> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(error_frame(PARSE_ERROR, "Parse error: the message is not valid UTF-8"));
    };
    if serde_json::from_str::<Request>(text).is_ok() || serde_json::from_str::<Response>(text).is_ok() {
        return Ok(());
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Err(e) => Err(error_frame(PARSE_ERROR, &format!("Parse error: {e}"))),
        Ok(_) => Err(error_frame(INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 request, notification or response object")),
    }
}

/// Copies the client's good messages from `input` to the server, and sends error replies for
/// the others to `out`, until the input ends.
pub async fn forward_client<R, W>(input: R, mut server: W, out: mpsc::Sender<Out>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut input = tokio::io::BufReader::new(input);
    let mut pending = None;
    loop {
        match read_message(&mut input, &mut pending).await {
            Ok(Read::Eof) | Err(_) => break,
            Ok(Read::BadHeader(why)) => {
                let _ = out.send(Out::Frame(error_frame(PARSE_ERROR, &format!("Parse error: {why}")))).await;
            }
            Ok(Read::Body(body)) if body.is_empty() => {}
            Ok(Read::Body(body)) => match check_body(&body) {
                Ok(()) => {
                    if server.write_all(&frame(&body)).await.is_err() || server.flush().await.is_err() {
                        break;
                    }
                }
                Err(reply) => {
                    let _ = out.send(Out::Frame(reply)).await;
                }
            },
        }
    }
    // Dropping `server` ends the server's input, as the end of stdin does.
}

/// Passes the server's messages whole to `out` (so that error replies never land inside one),
/// then [`Out::End`].
pub async fn forward_server<R: AsyncRead + Unpin>(output: R, out: mpsc::Sender<Out>) {
    let mut output = tokio::io::BufReader::new(output);
    let mut pending = None;
    while let Ok(Read::Body(body)) = read_message(&mut output, &mut pending).await {
        if out.send(Out::Frame(frame(&body))).await.is_err() {
            break;
        }
    }
    let _ = out.send(Out::End).await;
}

/// Writes messages to the client until [`Out::End`].
pub async fn write_client<W: AsyncWrite + Unpin>(mut client: W, mut out: mpsc::Receiver<Out>) {
    while let Some(Out::Frame(f)) = out.recv().await {
        if client.write_all(&f).await.is_err() || client.flush().await.is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(input: &[u8]) -> Vec<Read> {
        let mut input = input;
        let mut pending = None;
        let mut out = Vec::new();
        loop {
            match read_message(&mut input, &mut pending).await.expect("in memory") {
                Read::Eof => return out,
                r => out.push(r),
            }
        }
    }

    #[tokio::test]
    async fn bad_headers_are_skipped_up_to_the_next_message() {
        let good = b"{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}";
        let mut input = b"Content-Length: abc\r\n\r\n".to_vec();
        input.extend_from_slice(b"garbage\r\n\r\n");
        input.extend_from_slice(b"xx");
        input.extend_from_slice(&frame(good));
        input.extend_from_slice(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n");
        input.extend_from_slice(&frame(good));
        let reads = read_all(&input).await;
        assert_eq!(
            reads,
            vec![
                Read::BadHeader("invalid Content-Length \"abc\"".into()),
                Read::BadHeader("missing Content-Length header".into()),
                Read::BadHeader("malformed header".into()),
                Read::Body(good.to_vec()),
                Read::Body(good.to_vec()),
            ]
        );
    }

    #[test]
    fn bodies_tower_lsp_server_would_refuse_get_the_json_rpc_error() {
        let code = |body: &[u8]| {
            let reply = check_body(body).expect_err("refused");
            let text = String::from_utf8(reply).expect("utf-8");
            let json: serde_json::Value = serde_json::from_str(text.split_once("\r\n\r\n").expect("framed").1).expect("json");
            assert_eq!(json["id"], serde_json::Value::Null);
            json["error"]["code"].as_i64().expect("a code")
        };
        assert_eq!(code(b"not json"), PARSE_ERROR);
        assert_eq!(code(b"\xff\xfe"), PARSE_ERROR);
        assert_eq!(code(b"[1, 2]"), INVALID_REQUEST);
        assert_eq!(code(b"{\"x\": 1}"), INVALID_REQUEST);
        assert!(check_body(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"shutdown\"}").is_ok());
        assert!(check_body(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}").is_ok());
    }
}
