//! HTTP body compression as the collector's `confighttp` speaks it: `gzip`, `zstd`, `snappy`,
//! `deflate`/`zlib` and `lz4`, both ways. Decompression is bounded, because a small compressed
//! body can expand a great deal.

use std::io::{Read, Write};

/// A body compression the OTLP/HTTP exporter can send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    /// Snappy's block format (the framed stream format is `x-snappy-framed`).
    Snappy,
    /// zlib-wrapped deflate, which is what HTTP calls `deflate`.
    Deflate,
    Lz4,
}

impl Compression {
    /// The `compression` argument: `Ok(None)` for no compression, `Err` for an unknown name.
    pub fn parse(name: &str) -> Result<Option<Compression>, String> {
        Ok(Some(match name {
            "" | "none" => return Ok(None),
            "gzip" => Compression::Gzip,
            "zstd" => Compression::Zstd,
            "snappy" => Compression::Snappy,
            "deflate" | "zlib" => Compression::Deflate,
            "lz4" => Compression::Lz4,
            other => return Err(format!("unsupported compression {other:?}: use gzip, zstd, snappy, deflate, zlib, lz4 or none")),
        }))
    }

    pub fn content_encoding(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Snappy => "snappy",
            Compression::Deflate => "deflate",
            Compression::Lz4 => "lz4",
        }
    }

    pub fn compress(self, body: &[u8]) -> std::io::Result<Vec<u8>> {
        match self {
            Compression::Gzip => {
                let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::fast());
                enc.write_all(body)?;
                enc.finish()
            }
            Compression::Zstd => zstd::bulk::compress(body, 1),
            Compression::Snappy => snap::raw::Encoder::new().compress_vec(body).map_err(std::io::Error::other),
            Compression::Deflate => {
                let mut enc = flate2::write::ZlibEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::fast());
                enc.write_all(body)?;
                enc.finish()
            }
            Compression::Lz4 => {
                let mut enc = lz4_flex::frame::FrameEncoder::new(Vec::with_capacity(body.len() / 2));
                enc.write_all(body)?;
                enc.finish().map_err(std::io::Error::other)
            }
        }
    }
}

/// Why a body could not be decompressed.
#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    Unsupported(String),
    TooLarge,
    Corrupt(String),
}

/// The first bytes of snappy's framed stream format (its stream identifier chunk).
const SNAPPY_STREAM_MAGIC: &[u8] = b"\xff\x06\x00\x00sNaPpY";

/// Decompresses `raw` by its `Content-Encoding`; `limit` bounds the decompressed size.
/// `snappy` accepts both snappy formats (collectors have sent either under that name).
pub fn decompress(encoding: &str, raw: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let corrupt = |e: &dyn std::fmt::Display| DecodeError::Corrupt(format!("failed to decompress the {encoding} request body: {e}"));
    let reader: Box<dyn Read + '_> = match encoding {
        "gzip" | "x-gzip" => Box::new(flate2::read::GzDecoder::new(raw)),
        "deflate" | "zlib" => Box::new(flate2::read::ZlibDecoder::new(raw)),
        "zstd" => Box::new(zstd::stream::read::Decoder::new(raw).map_err(|e| corrupt(&e))?),
        "lz4" => Box::new(lz4_flex::frame::FrameDecoder::new(raw)),
        "x-snappy-framed" => Box::new(snap::read::FrameDecoder::new(raw)),
        "snappy" if raw.starts_with(SNAPPY_STREAM_MAGIC) => Box::new(snap::read::FrameDecoder::new(raw)),
        "snappy" => {
            // The block format states its decompressed length up front: check before allocating.
            let len = snap::raw::decompress_len(raw).map_err(|e| corrupt(&e))?;
            if len > limit {
                return Err(DecodeError::TooLarge);
            }
            return snap::raw::Decoder::new().decompress_vec(raw).map_err(|e| corrupt(&e));
        }
        other => return Err(DecodeError::Unsupported(format!("unsupported Content-Encoding {other:?}"))),
    };
    let mut out = Vec::new();
    reader.take(limit as u64 + 1).read_to_end(&mut out).map_err(|e| corrupt(&e))?;
    if out.len() > limit {
        return Err(DecodeError::TooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compression_round_trips_through_the_decoder() {
        let body: Vec<u8> = (0..10_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        for name in ["gzip", "zstd", "snappy", "deflate", "zlib", "lz4"] {
            let c = Compression::parse(name).unwrap().unwrap();
            let packed = c.compress(&body).unwrap();
            assert!(packed.len() < body.len(), "{name} did not compress");
            assert_eq!(decompress(c.content_encoding(), &packed, body.len()).unwrap(), body, "{name}");
            assert_eq!(decompress(c.content_encoding(), &packed, body.len() - 1), Err(DecodeError::TooLarge), "{name}");
        }
        assert_eq!(Compression::parse("none"), Ok(None));
        assert!(Compression::parse("brotli").unwrap_err().contains("unsupported compression \"brotli\""));
    }

    #[test]
    fn snappy_accepts_the_framed_format_too() {
        let mut framed = snap::write::FrameEncoder::new(Vec::new());
        framed.write_all(b"hello hello hello").unwrap();
        let framed = framed.into_inner().unwrap();
        assert_eq!(decompress("snappy", &framed, 100).unwrap(), b"hello hello hello");
        assert_eq!(decompress("x-snappy-framed", &framed, 100).unwrap(), b"hello hello hello");
    }

    #[test]
    fn garbage_and_unknown_encodings_are_errors() {
        for enc in ["gzip", "zstd", "snappy", "deflate", "lz4"] {
            assert!(matches!(decompress(enc, b"\x01\x02garbage", 100), Err(DecodeError::Corrupt(_))), "{enc}");
        }
        assert_eq!(decompress("br", b"x", 10), Err(DecodeError::Unsupported("unsupported Content-Encoding \"br\"".into())));
    }
}
