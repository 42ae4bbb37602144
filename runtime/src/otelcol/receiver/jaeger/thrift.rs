//! A Thrift decoder for the two wire protocols Jaeger clients speak: binary (the HTTP
//! collector's `application/x-thrift` bodies and the agent's UDP port 6832) and compact (the
//! agent's UDP port 6831). It reads from a borrowed buffer and never trusts a declared size:
//! a string or list longer than what is left of the input is an error before anything is
//! allocated, and nesting deeper than [`MAX_DEPTH`] is refused, so hostile input costs at most
//! its own length.

use thiserror::Error;

/// How deep structs and containers may nest (Jaeger's own messages need 4 levels).
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ThriftError {
    #[error("unexpected end of input")]
    Eof,
    #[error("negative length {0}")]
    NegativeLength(i64),
    #[error("declared length {declared} exceeds the {left} bytes left")]
    TooLong { declared: u64, left: usize },
    #[error("nesting deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("unknown field type {0}")]
    UnknownType(u8),
    #[error("malformed varint")]
    BadVarint,
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, ThriftError>;

/// A field's or element's wire type, as both protocols name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TType {
    Bool,
    Byte,
    Double,
    I16,
    I32,
    I64,
    Binary,
    Struct,
    Map,
    Set,
    List,
    Uuid,
}

/// A message header (`emitBatch`, one-way) as the agent's UDP packets start.
#[derive(Debug, PartialEq, Eq)]
pub struct MessageHeader {
    pub name: String,
    pub kind: u8,
    pub seq_id: i32,
}

/// The bytes still to read, with the nesting depth reached so far.
struct Input<'a> {
    buf: &'a [u8],
    depth: usize,
}

impl<'a> Input<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.buf.len() {
            return Err(ThriftError::Eof);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// A count of items each at least one byte long: more than the bytes left is a lie.
    fn count(&self, declared: i64) -> Result<usize> {
        if declared < 0 {
            return Err(ThriftError::NegativeLength(declared));
        }
        let left = self.buf.len();
        match usize::try_from(declared) {
            Ok(n) if n <= left => Ok(n),
            _ => Err(ThriftError::TooLong { declared: declared as u64, left }),
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ThriftError::TooDeep);
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}

/// What the Jaeger decoders need from a protocol.
pub trait Protocol<'a> {
    fn struct_begin(&mut self) -> Result<()>;
    fn struct_end(&mut self);
    /// The next field's type and id, or `None` at the struct's end.
    fn field_begin(&mut self) -> Result<Option<(TType, i16)>>;
    fn bool(&mut self) -> Result<bool>;
    fn byte(&mut self) -> Result<i8>;
    fn i16(&mut self) -> Result<i16>;
    fn i32(&mut self) -> Result<i32>;
    fn i64(&mut self) -> Result<i64>;
    fn double(&mut self) -> Result<f64>;
    fn binary(&mut self) -> Result<&'a [u8]>;
    /// A list's (or set's) element type and length.
    fn list_begin(&mut self) -> Result<(TType, usize)>;
    /// A map's key type, value type and length.
    fn map_begin(&mut self) -> Result<(TType, TType, usize)>;
    fn container_end(&mut self);
    fn message_begin(&mut self) -> Result<MessageHeader>;

    /// A string: bytes that are not UTF-8 are replaced, as a string attribute must be UTF-8.
    fn string(&mut self) -> Result<String> {
        Ok(String::from_utf8_lossy(self.binary()?).into_owned())
    }

    /// Reads past a value nobody asked for (an unknown field, or one of an unexpected type).
    fn skip(&mut self, t: TType) -> Result<()> {
        match t {
            TType::Bool => self.bool().map(drop),
            TType::Byte => self.byte().map(drop),
            TType::I16 => self.i16().map(drop),
            TType::I32 => self.i32().map(drop),
            TType::I64 => self.i64().map(drop),
            TType::Double => self.double().map(drop),
            TType::Binary => self.binary().map(drop),
            TType::Uuid => (0..2).try_for_each(|_| self.i64().map(drop)),
            TType::Struct => {
                self.struct_begin()?;
                while let Some((ft, _)) = self.field_begin()? {
                    self.skip(ft)?;
                }
                self.struct_end();
                Ok(())
            }
            TType::List | TType::Set => {
                let (et, n) = self.list_begin()?;
                (0..n).try_for_each(|_| self.skip(et))?;
                self.container_end();
                Ok(())
            }
            TType::Map => {
                let (kt, vt, n) = self.map_begin()?;
                (0..n).try_for_each(|_| self.skip(kt).and_then(|_| self.skip(vt)))?;
                self.container_end();
                Ok(())
            }
        }
    }
}

/// Thrift's binary protocol: big-endian fixed-width numbers, 4-byte lengths.
pub struct Binary<'a> {
    input: Input<'a>,
}

impl<'a> Binary<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Binary { input: Input { buf, depth: 0 } }
    }

    fn ttype(b: u8) -> Result<TType> {
        Ok(match b {
            2 => TType::Bool,
            3 => TType::Byte,
            4 => TType::Double,
            6 => TType::I16,
            8 => TType::I32,
            10 => TType::I64,
            11 => TType::Binary,
            12 => TType::Struct,
            13 => TType::Map,
            14 => TType::Set,
            15 => TType::List,
            16 => TType::Uuid,
            other => return Err(ThriftError::UnknownType(other)),
        })
    }

    fn size(&mut self) -> Result<usize> {
        let n = self.i32()?;
        self.input.count(i64::from(n))
    }
}

impl<'a> Protocol<'a> for Binary<'a> {
    fn struct_begin(&mut self) -> Result<()> {
        self.input.enter()
    }

    fn struct_end(&mut self) {
        self.input.leave();
    }

    fn field_begin(&mut self) -> Result<Option<(TType, i16)>> {
        match self.input.byte()? {
            0 => Ok(None),
            t => Ok(Some((Self::ttype(t)?, self.i16()?))),
        }
    }

    fn bool(&mut self) -> Result<bool> {
        Ok(self.input.byte()? != 0)
    }

    fn byte(&mut self) -> Result<i8> {
        Ok(self.input.byte()? as i8)
    }

    fn i16(&mut self) -> Result<i16> {
        Ok(i16::from_be_bytes(self.input.array()?))
    }

    fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.input.array()?))
    }

    fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(self.input.array()?))
    }

    fn double(&mut self) -> Result<f64> {
        Ok(f64::from_bits(u64::from_be_bytes(self.input.array()?)))
    }

    fn binary(&mut self) -> Result<&'a [u8]> {
        let n = self.size()?;
        self.input.take(n)
    }

    fn list_begin(&mut self) -> Result<(TType, usize)> {
        self.input.enter()?;
        let t = Self::ttype(self.input.byte()?)?;
        Ok((t, self.size()?))
    }

    fn map_begin(&mut self) -> Result<(TType, TType, usize)> {
        self.input.enter()?;
        let k = Self::ttype(self.input.byte()?)?;
        let v = Self::ttype(self.input.byte()?)?;
        Ok((k, v, self.size()?))
    }

    fn container_end(&mut self) {
        self.input.leave();
    }

    /// Strict headers (`0x8001` version word) and the old unversioned form both occur.
    fn message_begin(&mut self) -> Result<MessageHeader> {
        let first = self.i32()?;
        if first < 0 {
            let version = (first as u32) & 0xffff_0000;
            if version != 0x8001_0000 {
                return Err(ThriftError::Invalid(format!("bad binary protocol version {version:#x}")));
            }
            let kind = (first & 0xff) as u8;
            let name = self.string()?;
            return Ok(MessageHeader { name, kind, seq_id: self.i32()? });
        }
        let n = self.input.count(i64::from(first))?;
        let name = String::from_utf8_lossy(self.input.take(n)?).into_owned();
        let kind = self.input.byte()?;
        Ok(MessageHeader { name, kind, seq_id: self.i32()? })
    }
}

/// Thrift's compact protocol: zigzag varints, field ids as deltas, booleans folded into the
/// field header.
pub struct Compact<'a> {
    input: Input<'a>,
    /// The last field id of each open struct (ids are written as deltas from it).
    last_ids: Vec<i16>,
    last_id: i16,
    /// A boolean field's value, carried by its header.
    pending_bool: Option<bool>,
}

impl<'a> Compact<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Compact { input: Input { buf, depth: 0 }, last_ids: Vec::new(), last_id: 0, pending_bool: None }
    }

    fn ttype(b: u8) -> Result<TType> {
        Ok(match b {
            1 | 2 => TType::Bool,
            3 => TType::Byte,
            4 => TType::I16,
            5 => TType::I32,
            6 => TType::I64,
            7 => TType::Double,
            8 => TType::Binary,
            9 => TType::List,
            10 => TType::Set,
            11 => TType::Map,
            12 => TType::Struct,
            13 => TType::Uuid,
            other => return Err(ThriftError::UnknownType(other)),
        })
    }

    fn varint(&mut self) -> Result<u64> {
        let mut out = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.input.byte()?;
            if shift == 63 && b > 1 {
                return Err(ThriftError::BadVarint);
            }
            out |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(out);
            }
        }
        Err(ThriftError::BadVarint)
    }

    fn zigzag(&mut self) -> Result<i64> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn size(&mut self) -> Result<usize> {
        let n = self.varint()?;
        self.input.count(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl<'a> Protocol<'a> for Compact<'a> {
    fn struct_begin(&mut self) -> Result<()> {
        self.input.enter()?;
        self.last_ids.push(self.last_id);
        self.last_id = 0;
        Ok(())
    }

    fn struct_end(&mut self) {
        self.input.leave();
        self.last_id = self.last_ids.pop().unwrap_or(0);
    }

    fn field_begin(&mut self) -> Result<Option<(TType, i16)>> {
        let header = self.input.byte()?;
        if header == 0 {
            return Ok(None);
        }
        let t = Self::ttype(header & 0x0f)?;
        let delta = i16::from(header >> 4);
        let id = if delta == 0 {
            i16::try_from(self.zigzag()?).map_err(|_| ThriftError::Invalid("field id out of range".into()))?
        } else {
            self.last_id.wrapping_add(delta)
        };
        self.last_id = id;
        if t == TType::Bool {
            self.pending_bool = Some(header & 0x0f == 1);
        }
        Ok(Some((t, id)))
    }

    fn bool(&mut self) -> Result<bool> {
        match self.pending_bool.take() {
            Some(b) => Ok(b),
            // An element of a list: one byte, 1 for true.
            None => Ok(self.input.byte()? == 1),
        }
    }

    fn byte(&mut self) -> Result<i8> {
        Ok(self.input.byte()? as i8)
    }

    fn i16(&mut self) -> Result<i16> {
        i16::try_from(self.zigzag()?).map_err(|_| ThriftError::Invalid("i16 out of range".into()))
    }

    fn i32(&mut self) -> Result<i32> {
        i32::try_from(self.zigzag()?).map_err(|_| ThriftError::Invalid("i32 out of range".into()))
    }

    fn i64(&mut self) -> Result<i64> {
        self.zigzag()
    }

    fn double(&mut self) -> Result<f64> {
        Ok(f64::from_bits(u64::from_le_bytes(self.input.array()?)))
    }

    fn binary(&mut self) -> Result<&'a [u8]> {
        let n = self.size()?;
        self.input.take(n)
    }

    fn list_begin(&mut self) -> Result<(TType, usize)> {
        self.input.enter()?;
        let header = self.input.byte()?;
        let t = Self::ttype(header & 0x0f)?;
        let n = match header >> 4 {
            15 => self.size()?,
            short => self.input.count(i64::from(short))?,
        };
        Ok((t, n))
    }

    fn map_begin(&mut self) -> Result<(TType, TType, usize)> {
        self.input.enter()?;
        let n = self.size()?;
        if n == 0 {
            return Ok((TType::Byte, TType::Byte, 0));
        }
        let types = self.input.byte()?;
        Ok((Self::ttype(types >> 4)?, Self::ttype(types & 0x0f)?, n))
    }

    fn container_end(&mut self) {
        self.input.leave();
    }

    fn message_begin(&mut self) -> Result<MessageHeader> {
        let id = self.input.byte()?;
        if id != 0x82 {
            return Err(ThriftError::Invalid(format!("bad compact protocol id {id:#x}")));
        }
        let version_and_kind = self.input.byte()?;
        if version_and_kind & 0x1f != 1 {
            return Err(ThriftError::Invalid(format!("bad compact protocol version {}", version_and_kind & 0x1f)));
        }
        let seq_id = self.varint()? as i32;
        let name = self.string()?;
        Ok(MessageHeader { name, kind: version_and_kind >> 5, seq_id })
    }
}

#[cfg(test)]
mod tests;
