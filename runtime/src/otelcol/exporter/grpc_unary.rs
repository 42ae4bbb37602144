//! An uncompressed unary gRPC call whose request message goes out as the payload's buffers,
//! one after the other. tonic's client encodes every message into one contiguous buffer,
//! which for a batch is a copy of every byte (and a fresh multi-megabyte allocation per
//! export); here the 5-byte gRPC prefix and the buffers are the body's frames, which h2 writes
//! to the socket without copying. The response is read with tonic's decoder, so its status,
//! trailers and compression are handled as tonic's client handles them.

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{HeaderValue, CONTENT_TYPE, TE};
use http::HeaderMap;
use hyper::body::{Frame, SizeHint};
use tonic::codec::{CompressionEncoding, Streaming};
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::otelcol::grpc_codec::RawCodec;

/// Headers of tonic's request metadata that gRPC reserves (tonic drops them from user
/// metadata in the same way).
const RESERVED: [&str; 5] = ["te", "content-type", "grpc-message", "grpc-message-type", "grpc-status"];

/// Waits until `channel` can take a call; [`call`] must then be made on this same clone.
pub async fn ready(channel: &mut Channel) -> Result<(), tonic::transport::Error> {
    std::future::poll_fn(|cx| tonic::client::GrpcService::poll_ready(channel, cx)).await
}

/// Sends `segments` as one uncompressed message to `path` over a `channel` that is
/// [`ready`], and returns the response message. `metadata` carries the caller's headers and
/// `grpc-timeout` (from a [`tonic::Request`]).
pub async fn call(mut channel: Channel, path: &'static str, metadata: tonic::metadata::MetadataMap, segments: &[Bytes]) -> Result<Bytes, Status> {
    let len: usize = segments.iter().map(Bytes::len).sum();
    let len = u32::try_from(len).map_err(|_| Status::resource_exhausted(format!("message of {len} bytes is too large for gRPC")))?;
    let mut prefix = BytesMut::with_capacity(5);
    prefix.put_u8(0); // not compressed
    prefix.put_u32(len);
    let mut frames = Vec::with_capacity(segments.len() + 1);
    frames.push(prefix.freeze());
    frames.extend(segments.iter().filter(|s| !s.is_empty()).cloned());

    let mut headers: HeaderMap = metadata.into_headers();
    for name in RESERVED {
        headers.remove(name);
    }
    headers.insert(TE, HeaderValue::from_static("trailers"));
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert("grpc-accept-encoding", HeaderValue::from_static("gzip,zstd"));
    let mut request = http::Request::new(tonic::body::Body::new(Frames { frames: frames.into_iter(), left: len as u64 + 5 }));
    *request.method_mut() = http::Method::POST;
    *request.version_mut() = http::Version::HTTP_2;
    // The channel adds scheme and authority.
    *request.uri_mut() = http::Uri::from_static(path);
    *request.headers_mut() = headers;

    let response = tonic::client::GrpcService::call(&mut channel, request).await.map_err(|e| Status::from_error(e.into()))?;

    let (parts, body) = response.into_parts();
    // A trailers-only response carries the status in its headers.
    if let Some(status) = Status::from_header_map(&parts.headers) {
        if status.code() != Code::Ok {
            return Err(status);
        }
        return Err(Status::internal("Missing response message."));
    }
    let encoding = match parts.headers.get("grpc-encoding").map(HeaderValue::as_bytes) {
        None | Some(b"identity") => None,
        Some(b"gzip") => Some(CompressionEncoding::Gzip),
        Some(b"zstd") => Some(CompressionEncoding::Zstd),
        Some(other) => return Err(Status::unimplemented(format!("response compressed with {:?}, which was not asked for", String::from_utf8_lossy(other)))),
    };
    let mut stream = Streaming::new_response(RawCodec, body, parts.status, encoding, None);
    let message = stream.message().await?.ok_or_else(|| Status::internal("Missing response message."))?;
    // A failure status in the trailers comes out here.
    stream.trailers().await?;
    Ok(message)
}

/// The request body: the prefix, then each buffer as a frame of its own.
struct Frames {
    frames: std::vec::IntoIter<Bytes>,
    left: u64,
}

impl hyper::body::Body for Frames {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let next = self.frames.next();
        if let Some(b) = &next {
            self.left -= b.len() as u64;
        }
        std::task::Poll::Ready(next.map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::otelcol::receiver::otlp::grpc::{serve_methods, UnaryHandler};
    use crate::otelcol::receiver::otlp::GrpcConfig;

    const PATH: &str = "/test.Service/Call";

    /// What the server saw: the message and the request's headers.
    type Seen = Arc<Mutex<Vec<(Bytes, HeaderMap)>>>;

    /// A gRPC server on loopback whose one method records the request and answers with
    /// `answer`; returns a channel to it.
    async fn server(answer: Result<Bytes, Status>) -> (Channel, Seen, tokio_util::sync::CancellationToken) {
        let seen: Seen = Arc::default();
        let handler: UnaryHandler = {
            let seen = seen.clone();
            Arc::new(move |headers, body| {
                seen.lock().unwrap().push((body, headers));
                let answer = answer.clone();
                Box::pin(async move { answer })
            })
        };
        let config = GrpcConfig { endpoint: "127.0.0.1:0".into(), max_recv_msg_size: 1 << 20, limits: crate::server::Limits::grpc(), ..Default::default() };
        let stop = tokio_util::sync::CancellationToken::new();
        let (addr, serving) = serve_methods(&config, "test", vec![(PATH, handler)], stop.clone()).await.unwrap();
        tokio::spawn(serving);
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}")).unwrap().connect_lazy();
        (channel, seen, stop)
    }

    fn metadata(timeout: std::time::Duration) -> tonic::metadata::MetadataMap {
        let mut req = tonic::Request::new(());
        req.set_timeout(timeout);
        req.metadata_mut().insert("x-tenant", "acme".parse().unwrap());
        // Reserved: dropped, as tonic drops it.
        req.metadata_mut().insert("grpc-status", "13".parse().unwrap());
        req.into_parts().0
    }

    #[tokio::test]
    async fn the_buffers_arrive_as_one_message_with_the_callers_headers() {
        let (mut channel, seen, stop) = server(Ok(Bytes::from_static(b"reply"))).await;
        let parts = [Bytes::from_static(b"hello "), Bytes::new(), Bytes::from(vec![b'x'; 40_000]), Bytes::from_static(b"!")];
        ready(&mut channel).await.unwrap();
        let reply = call(channel, PATH, metadata(std::time::Duration::from_secs(3)), &parts).await.unwrap();
        assert_eq!(reply.as_ref(), b"reply");
        let (body, headers) = seen.lock().unwrap().pop().unwrap();
        assert_eq!(body.as_ref(), parts.concat());
        assert_eq!(headers.get("x-tenant").unwrap(), "acme");
        assert_eq!(headers.get("grpc-timeout").unwrap(), "3000000u");
        assert!(headers.get("grpc-status").is_none());
        assert_eq!(headers.get("content-type").unwrap(), "application/grpc");
        stop.cancel();
    }

    #[tokio::test]
    async fn a_refusal_is_the_servers_status() {
        let (mut channel, _, stop) = server(Err(Status::unavailable("queue full"))).await;
        ready(&mut channel).await.unwrap();
        let e = call(channel, PATH, metadata(std::time::Duration::from_secs(3)), &[Bytes::from_static(b"x")]).await.unwrap_err();
        assert_eq!((e.code(), e.message()), (Code::Unavailable, "queue full"));
        stop.cancel();
    }

    #[tokio::test]
    async fn an_unknown_method_is_unimplemented_and_a_dead_server_unavailable() {
        let (mut channel, _, stop) = server(Ok(Bytes::new())).await;
        ready(&mut channel).await.unwrap();
        let e = call(channel, "/test.Service/Other", metadata(std::time::Duration::from_secs(3)), &[]).await.unwrap_err();
        assert_eq!(e.code(), Code::Unimplemented);
        stop.cancel();

        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut dead = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}")).unwrap().connect_lazy();
        ready(&mut dead).await.unwrap();
        let e = call(dead, PATH, metadata(std::time::Duration::from_secs(3)), &[]).await.unwrap_err();
        assert_eq!(e.code(), Code::Unavailable, "{e:?}");
    }
}
