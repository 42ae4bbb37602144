//! Decoding checked values into typed Rust targets: how runtime components
//! receive their arguments. Errors are [`ValueError`]s whose path names the attribute
//! (`.endpoint[1].url should be string, got number`).

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration as StdDuration;

use smol_str::SmolStr;

use crate::convert::{self, to_number, to_str};
use crate::error::{PathSeg, ValueError, ValueErrorKind};
use crate::number::Number;
use crate::value::{Capsule, Object, OptionalSecret, Secret, Str, Type, Value};

/// A type a value can be decoded into.
pub trait Decode: Sized {
    fn decode(v: &Value) -> Result<Self, ValueError>;
}

macro_rules! int_decode {
    ($($t:ty),*) => {$(
        impl Decode for $t {
            /// Numbers (and numeric strings) narrowed with wraparound, as upstream's decoder
            /// does; floats truncate. Under [`with_strict_integers`], a number that does not
            /// fit is an error instead.
            fn decode(v: &Value) -> Result<Self, ValueError> {
                let n = to_number(v)?;
                if !STRICT_INTEGERS.with(Cell::get) {
                    return Ok(match n {
                        Number::Uint(u) => u as $t,
                        _ => n.as_i64() as $t,
                    });
                }
                let fits = match n {
                    Number::Int(i) => <$t>::try_from(i).ok(),
                    Number::Uint(u) => <$t>::try_from(u).ok(),
                    Number::Float(f) => {
                        let t = f.trunc();
                        // Within the range up to rounding at its ends, where the cast saturates.
                        (t.is_finite() && t >= <$t>::MIN as f64 && t <= <$t>::MAX as f64).then(|| t as $t)
                    }
                };
                fits.ok_or_else(|| out_of_range(n, <$t>::MIN as i128, <$t>::MAX as i128))
            }
        }
    )*};
}

thread_local! {
    static STRICT_INTEGERS: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with integer decoding refusing numbers that do not fit the target type. Component
/// arguments are decoded so: a `num_consumers = -1` wrapped into a `usize` would start
/// `usize::MAX` workers, where the collector (whose field is a signed `int`) refuses it. The
/// language's own conversions keep upstream's wraparound.
pub fn with_strict_integers<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            STRICT_INTEGERS.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(STRICT_INTEGERS.with(|s| s.replace(true)));
    f()
}

fn out_of_range(n: Number, min: i128, max: i128) -> ValueError {
    let (shown, negative) = match n {
        Number::Int(i) => (i.to_string(), i < 0),
        Number::Uint(u) => (u.to_string(), false),
        Number::Float(f) => (f.to_string(), f < 0.0),
    };
    ValueError::message(match (negative, min) {
        (true, 0) => format!("{shown} is out of range for an unsigned integer"),
        (true, _) => format!("{shown} is out of range (at least {min})"),
        (false, _) => format!("{shown} is out of range (at most {max})"),
    })
}

int_decode!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl Decode for f64 {
    fn decode(v: &Value) -> Result<Self, ValueError> {
        Ok(to_number(v)?.as_f64())
    }
}

impl Decode for f32 {
    fn decode(v: &Value) -> Result<Self, ValueError> {
        Ok(to_number(v)?.as_f64() as f32)
    }
}

impl Decode for Number {
    fn decode(v: &Value) -> Result<Self, ValueError> {
        to_number(v)
    }
}

impl Decode for bool {
    fn decode(v: &Value) -> Result<Self, ValueError> {
        convert::to_bool(v)
    }
}

impl Decode for Str {
    fn decode(v: &Value) -> Result<Self, ValueError> {
        to_str(v)
    }
}

impl Decode for String {
    /// Text with invalid UTF-8 replaced by U+FFFD (decode into [`Str`] to keep raw bytes).
    fn decode(v: &Value) -> Result<Self, ValueError> {
        Ok(to_str(v)?.to_string_lossy().into_owned())
    }
}

impl Decode for SmolStr {
    fn decode(v: &Value) -> Result<Self, ValueError> {
        Ok(SmolStr::new(to_str(v)?.to_string_lossy()))
    }
}

impl Decode for Secret {
    fn decode(v: &Value) -> Result<Self, ValueError> {
        convert::to_secret(v)
    }
}

impl Decode for OptionalSecret {
    fn decode(v: &Value) -> Result<Self, ValueError> {
        convert::to_optional_secret(v)
    }
}

impl Decode for Value {
    /// "Decode to any": the value itself, uint kinds that fit made int.
    fn decode(v: &Value) -> Result<Self, ValueError> {
        Ok(convert::to_any(v))
    }
}

impl<T: Decode> Decode for Option<T> {
    /// `null` is `None`.
    fn decode(v: &Value) -> Result<Self, ValueError> {
        match v {
            Value::Null => Ok(None),
            _ => T::decode(v).map(Some),
        }
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(v: &Value) -> Result<Self, ValueError> {
        let items = convert::to_list(v)?;
        let mut out = Vec::with_capacity(items.len());
        for (i, it) in items.iter().enumerate() {
            out.push(T::decode(it).map_err(|e| e.inside(PathSeg::Index(i)))?);
        }
        Ok(out)
    }
}

fn object_of(v: &Value) -> Result<Option<Object>, ValueError> {
    match v {
        Value::Null => Ok(None),
        _ => match v.as_object() {
            Some(o) => Ok(Some(o.into_owned())),
            None => Err(ValueError::type_error(Type::Object, v.ty())),
        },
    }
}

impl<T: Decode> Decode for BTreeMap<String, T> {
    fn decode(v: &Value) -> Result<Self, ValueError> {
        let mut out = BTreeMap::new();
        if let Some(o) = object_of(v)? {
            for (k, val) in o.entries() {
                out.insert(k.to_string(), T::decode(val).map_err(|e| e.inside(PathSeg::Field(k.clone())))?);
            }
        }
        Ok(out)
    }
}

impl<T: Decode> Decode for HashMap<String, T> {
    fn decode(v: &Value) -> Result<Self, ValueError> {
        Ok(BTreeMap::<String, T>::decode(v)?.into_iter().collect())
    }
}

impl Decode for Capsule {
    fn decode(v: &Value) -> Result<Self, ValueError> {
        match v {
            Value::Capsule(c) => Ok(c.clone()),
            _ => Err(ValueError::type_error(Type::Capsule, v.ty())),
        }
    }
}

/// A capsule of a specific host type `T` (e.g. a consumer handle).
pub fn decode_capsule<T: Clone + 'static>(v: &Value, expected: &str) -> Result<T, ValueError> {
    match v {
        Value::Capsule(c) => c.downcast_ref::<T>().cloned().ok_or_else(|| {
            ValueError::message(format!("expected capsule({}), got capsule({})", syntax::quote::go_quote(expected), syntax::quote::go_quote(c.type_name())))
        }),
        _ => Err(ValueError::type_error(Type::Capsule, v.ty())),
    }
}

/// A Go-style duration (`"1m30s"`, `"100ms"`, `"-1.5h"`): values convert to text first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    /// Nanoseconds.
    pub nanos: i64,
}

impl Duration {
    pub fn to_std(self) -> Option<StdDuration> {
        u64::try_from(self.nanos).ok().map(StdDuration::from_nanos)
    }

    /// Go's `time.ParseDuration`.
    pub fn parse(s: &str) -> Result<Duration, String> {
        let orig = s;
        let invalid = || format!("time: invalid duration {}", syntax::quote::go_quote(orig));
        let (neg, mut s) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if s == "0" {
            return Ok(Duration { nanos: 0 });
        }
        if s.is_empty() {
            return Err(invalid());
        }
        let mut total: u128 = 0;
        while !s.is_empty() {
            let int_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let int_part = &s[..int_end];
            s = &s[int_end..];
            let mut frac_part = "";
            if let Some(rest) = s.strip_prefix('.') {
                let fe = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
                frac_part = &rest[..fe];
                s = &rest[fe..];
            }
            if int_part.is_empty() && frac_part.is_empty() {
                return Err(invalid());
            }
            let unit_end = s.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(s.len());
            let unit = &s[..unit_end];
            s = &s[unit_end..];
            let scale: u128 = match unit {
                "ns" => 1,
                "us" | "µs" | "μs" => 1_000,
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" => 60_000_000_000,
                "h" => 3_600_000_000_000,
                "" => return Err(format!("time: missing unit in duration {}", syntax::quote::go_quote(orig))),
                u => return Err(format!("time: unknown unit {} in duration {}", syntax::quote::go_quote(u), syntax::quote::go_quote(orig))),
            };
            let whole: u128 = if int_part.is_empty() { 0 } else { int_part.parse().map_err(|_| invalid())? };
            let mut v = whole.checked_mul(scale).ok_or_else(invalid)?;
            if !frac_part.is_empty() {
                let digits: u128 = frac_part.chars().take(30).collect::<String>().parse().map_err(|_| invalid())?;
                let denom = 10u128.pow(frac_part.len().min(30) as u32);
                v += digits * scale / denom;
            }
            total = total.checked_add(v).ok_or_else(invalid)?;
        }
        let limit = if neg { 1u128 << 63 } else { (1u128 << 63) - 1 };
        if total > limit {
            return Err(invalid());
        }
        let nanos = if neg { (total as i128).wrapping_neg() as i64 } else { total as i64 };
        Ok(Duration { nanos })
    }
}

impl std::fmt::Display for Duration {
    /// Go's `Duration.String` (`1h30m0s`, `1.5s`, `100ms`, `0s`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let neg = self.nanos < 0;
        let u = self.nanos.unsigned_abs();
        let sign = if neg { "-" } else { "" };
        if u < 1_000_000_000 {
            let (unit, div) = match u {
                0 => return f.write_str("0s"),
                1..=999 => ("ns", 1u64),
                1_000..=999_999 => ("µs", 1_000),
                _ => ("ms", 1_000_000),
            };
            return write!(f, "{sign}{}{unit}", frac_text(u, div));
        }
        let secs = u / 1_000_000_000;
        let sub = u % 1_000_000_000;
        let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
        let s_text = frac_text(s * 1_000_000_000 + sub, 1_000_000_000);
        if h > 0 {
            write!(f, "{sign}{h}h{m}m{s_text}s")
        } else if m > 0 {
            write!(f, "{sign}{m}m{s_text}s")
        } else {
            write!(f, "{sign}{s_text}s")
        }
    }
}

fn frac_text(v: u64, div: u64) -> String {
    let whole = v / div;
    let rem = v % div;
    if rem == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let frac = format!("{rem:0width$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

impl Decode for Duration {
    fn decode(v: &Value) -> Result<Self, ValueError> {
        let s = to_str(v)?;
        Duration::parse(&s.to_string_lossy()).map_err(ValueError::message)
    }
}

/// A byte size in Alloy's text form (`"512KiB"`, `"1MB"`, `"10GB"`; K/M/G/T/P/E with or
/// without `i` are powers of 1024, as upstream's base-2 units) or a plain number of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// One size, or several summed as Go's `units` package writes them (`"63KiB488B"` is
    /// 65000 bytes, the form upstream prints a size that is not a whole unit in).
    pub fn parse(s: &str) -> Result<ByteSize, String> {
        let invalid = || format!("invalid byte size {}", syntax::quote::go_quote(s));
        let mut rest = s.trim();
        if rest.is_empty() {
            return Err(invalid());
        }
        let mut total = 0f64;
        while !rest.is_empty() {
            let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
            let (num, after) = rest.split_at(num_end);
            let n: f64 = num.parse().map_err(|_| invalid())?;
            let unit_end = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
            let (unit, next) = after.split_at(unit_end);
            let pow = match unit.trim() {
                "" | "B" => 0,
                "K" | "KB" | "KiB" => 1,
                "M" | "MB" | "MiB" => 2,
                "G" | "GB" | "GiB" => 3,
                "T" | "TB" | "TiB" => 4,
                "P" | "PB" | "PiB" => 5,
                "E" | "EB" | "EiB" => 6,
                _ => return Err(format!("units: unknown unit {} in {}", syntax::quote::go_quote(unit), syntax::quote::go_quote(s))),
            };
            total += n * 1024f64.powi(pow);
            rest = next;
        }
        Ok(ByteSize(total as u64))
    }
}

impl Decode for ByteSize {
    fn decode(v: &Value) -> Result<Self, ValueError> {
        match v {
            Value::Number(n) => Ok(ByteSize(n.as_u64())),
            _ => {
                let s = to_str(v)?;
                ByteSize::parse(&s.to_string_lossy()).map_err(ValueError::message)
            }
        }
    }
}

/// Field-by-field decoding of an object into a struct:
///
/// ```
/// # use eval::{Value, decode::{StructDecoder, Duration}};
/// struct Args { url: String, timeout: Duration }
/// fn decode(v: &Value) -> Result<Args, eval::ValueError> {
///     let mut d = StructDecoder::new(v)?;
///     let url = d.required("url")?;
///     let timeout = d.optional("timeout")?.unwrap_or(Duration { nanos: 10_000_000_000 });
///     d.finish()?;
///     Ok(Args { url, timeout })
/// }
/// ```
pub struct StructDecoder {
    obj: Object,
    seen: Vec<&'static str>,
}

impl StructDecoder {
    pub fn new(v: &Value) -> Result<Self, ValueError> {
        let obj = object_of(v)?.unwrap_or_default();
        Ok(StructDecoder { obj, seen: Vec::new() })
    }

    /// A field that must be present (`missing required attribute "x"` otherwise).
    pub fn required<T: Decode>(&mut self, name: &'static str) -> Result<T, ValueError> {
        self.seen.push(name);
        match self.obj.get(name) {
            Some(v) => T::decode(v).map_err(|e| e.inside(PathSeg::Field(name.into()))),
            None => Err(ValueError::message(format!("missing required attribute {}", syntax::quote::go_quote(name)))),
        }
    }

    /// A field that may be absent.
    pub fn optional<T: Decode>(&mut self, name: &'static str) -> Result<Option<T>, ValueError> {
        self.seen.push(name);
        match self.obj.get(name) {
            Some(v) => T::decode(v).map(Some).map_err(|e| e.inside(PathSeg::Field(name.into()))),
            None => Ok(None),
        }
    }

    /// Rejects keys no field asked for (`does not have field named "k"`, first key in
    /// sorted order).
    pub fn finish(self) -> Result<(), ValueError> {
        for (k, _) in self.obj.entries() {
            if !self.seen.contains(&k.as_str()) {
                return Err(ValueError { path: Vec::new(), wrapped: true, kind: ValueErrorKind::MissingField(k.to_string()) });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_wrap_as_upstream_except_under_strict_decoding() {
        assert_eq!(u8::decode(&Value::int(300)), Ok(44));
        assert_eq!(u16::decode(&Value::int(-1)), Ok(65535));
        with_strict_integers(strict_integers_that_do_not_fit_their_type_are_refused);
        assert_eq!(u16::decode(&Value::int(-1)), Ok(65535), "strictness ends with the call");
    }

    fn strict_integers_that_do_not_fit_their_type_are_refused() {
        let err = |r: Result<_, ValueError>| r.map(|_: ()| ()).unwrap_err().kind.detail();
        assert_eq!(err(usize::decode(&Value::int(-1)).map(|_| ())), "-1 is out of range for an unsigned integer");
        assert_eq!(err(u8::decode(&Value::int(300)).map(|_| ())), "300 is out of range (at most 255)");
        assert_eq!(err(i64::decode(&Value::uint(u64::MAX)).map(|_| ())), "18446744073709551615 is out of range (at most 9223372036854775807)");
        assert_eq!(err(i8::decode(&Value::int(-129)).map(|_| ())), "-129 is out of range (at least -128)");
        assert_eq!(err(u32::decode(&Value::float(-0.5e10)).map(|_| ())), "-5000000000 is out of range for an unsigned integer");
        assert_eq!(u32::decode(&Value::int(7)), Ok(7));
        assert_eq!(i32::decode(&Value::float(-2.9)), Ok(-2), "floats truncate");
        assert_eq!(u64::decode(&Value::uint(u64::MAX)), Ok(u64::MAX));
    }

    #[test]
    fn durations() {
        assert_eq!(Duration::parse("1m30s").unwrap().nanos, 90_000_000_000);
        assert_eq!(Duration::parse("-1.5h").unwrap().nanos, -5_400_000_000_000);
        assert_eq!(Duration::parse("100ms").unwrap().to_string(), "100ms");
        assert_eq!(Duration::parse("1h30m").unwrap().to_string(), "1h30m0s");
        assert_eq!(Duration::parse("x").unwrap_err(), "time: invalid duration \"x\"");
        assert_eq!(Duration::parse("1.5s").unwrap().to_string(), "1.5s");
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(ByteSize::parse("512KiB").unwrap().0, 512 * 1024);
        assert_eq!(ByteSize::parse("1MB").unwrap().0, 1 << 20);
        assert_eq!(ByteSize::parse("63KiB488B").unwrap().0, 65000, "Go's units print sizes that are not whole units this way");
        assert_eq!(ByteSize::parse("1MiB1KiB").unwrap().0, (1 << 20) + 1024);
        assert_eq!(ByteSize::parse("1.5KiB").unwrap().0, 1536);
        assert!(ByteSize::parse("").is_err());
        assert!(ByteSize::parse("KiB").is_err());
        assert_eq!(ByteSize::parse("1KiX").unwrap_err(), "units: unknown unit \"KiX\" in \"1KiX\"");
    }
}
