//! A tonic codec whose messages are the encoded protobuf bytes themselves, so a request is
//! neither decoded on receipt nor re-encoded when forwarded.

use bytes::{Buf, BufMut, Bytes};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::Status;

#[derive(Clone, Copy, Debug, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// gRPC paths of the three OTLP export methods.
pub fn export_path(signal: super::pdata::Signal) -> &'static str {
    match signal {
        super::pdata::Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        super::pdata::Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        super::pdata::Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    }
}
