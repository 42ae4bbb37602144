//! Go's `fmt.Sprintf` over Alloy values (for `string.format`), and Go's float formatting
//! (`strconv.FormatFloat`), both written from Go's documented behaviour.
//!
//! Arguments are seen as upstream's "decode to any" produces them: int-kind numbers are Go
//! `int` (`uint64` above MaxInt64), floats `float64`, arrays `[]interface {}`, objects
//! `map[string]interface {}`, null a nil interface; secrets are host values and print their
//! text (as upstream does).

use crate::number::Number;
use crate::value::Value;

// ---- floats ----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatFmt {
    E,
    F,
    G,
}

/// Decimal digits (no leading/trailing zeros) and the decimal point position `dp`:
/// value = 0.d1d2… × 10^dp. `sig` = None gives the shortest round-trip digits.
fn decimal_digits(abs: f64, sig: Option<usize>) -> (Vec<u8>, i32) {
    if abs == 0.0 {
        return (Vec::new(), 0);
    }
    let s = match sig {
        None => format!("{abs:e}"),
        Some(n) => format!("{:.*e}", n.max(1) - 1, abs),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mant.bytes().filter(|c| c.is_ascii_digit()).collect();
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits.is_empty() {
        return (Vec::new(), 0);
    }
    (digits, exp + 1)
}

fn fmt_e(neg: bool, digits: &[u8], dp: i32, prec: usize, upper: bool) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push(if digits.is_empty() { '0' } else { digits[0] as char });
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(digits.get(i).map(|&d| d as char).unwrap_or('0'));
        }
    }
    out.push(if upper { 'E' } else { 'e' });
    let exp = if digits.is_empty() { 0 } else { dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        out.push('0');
    }
    out.push_str(&e.to_string());
    out
}

fn fmt_f(neg: bool, digits: &[u8], dp: i32, prec: usize) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if dp > 0 {
        for i in 0..dp as usize {
            out.push(digits.get(i).map(|&d| d as char).unwrap_or('0'));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec as i32 {
            let idx = dp + i;
            let c = if idx < 0 { '0' } else { digits.get(idx as usize).map(|&d| d as char).unwrap_or('0') };
            out.push(c);
        }
    }
    out
}

/// Go's `strconv.FormatFloat(f, fmt, prec, 64)`; `prec` None is -1 (shortest).
pub fn format_float(f: f64, fmt: FloatFmt, prec: Option<usize>) -> String {
    format_float_case(f, fmt, prec, false)
}

fn format_float_case(f: f64, fmt: FloatFmt, prec: Option<usize>, upper: bool) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let neg = f.is_sign_negative();
    let abs = f.abs();
    match fmt {
        FloatFmt::E => {
            let (digits, dp) = decimal_digits(abs, prec.map(|p| p + 1));
            let p = prec.unwrap_or(digits.len().saturating_sub(1));
            fmt_e(neg, &digits, dp, p, upper)
        }
        FloatFmt::F => match prec {
            None => {
                let (digits, dp) = decimal_digits(abs, None);
                fmt_f(neg, &digits, dp, (digits.len() as i32 - dp).max(0) as usize)
            }
            Some(p) => {
                let s = format!("{:.*}", p, abs);
                if neg {
                    format!("-{s}")
                } else {
                    s
                }
            }
        },
        FloatFmt::G => {
            let shortest = prec.is_none();
            let mut p = prec.map(|p| p.max(1));
            let (digits, dp) = decimal_digits(abs, p);
            let nd = digits.len() as i32;
            let mut eprec = p.map(|p| p as i32).unwrap_or(nd.max(1));
            if eprec > nd && nd >= dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            if exp < -4 || exp >= eprec {
                let mut q = p.map(|p| p as i32).unwrap_or(nd);
                if q > nd {
                    q = nd;
                }
                fmt_e(neg, &digits, dp, (q - 1).max(0) as usize, upper)
            } else {
                if p.is_none() || p.is_some_and(|x| x as i32 > dp) {
                    p = Some(nd.max(0) as usize);
                }
                let q = p.unwrap_or(0) as i32;
                fmt_f(neg, &digits, dp, (q - dp).max(0) as usize)
            }
        }
    }
}

// ---- values as Go sees them ----

/// The Go dynamic type of an argument.
fn go_type(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Number(Number::Int(_)) => "int".into(),
        Value::Number(Number::Uint(u)) => if *u <= i64::MAX as u64 { "int" } else { "uint64" }.into(),
        Value::Number(Number::Float(_)) => "float64".into(),
        Value::String(_) => "string".into(),
        Value::Bool(_) => "bool".into(),
        Value::Array(_) => "[]interface {}".into(),
        Value::Bytes(_) => "[]uint8".into(),
        Value::Object(_) => "map[string]interface {}".into(),
        Value::Function(f) => f.go_type().into(),
        Value::Secret(_) => "alloytypes.Secret".into(),
        Value::OptionalSecret(_) => "alloytypes.OptionalSecret".into(),
        Value::Capsule(c) => c.type_name().into(),
    }
}

#[derive(Clone, Copy, Default)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    wid: Option<usize>,
    prec: Option<usize>,
    plus_v: bool,
    sharp_v: bool,
}

struct Printer {
    buf: String,
    f: Flags,
}

impl Printer {
    fn pad(&mut self, s: &str) {
        let Some(w) = self.f.wid else {
            self.buf.push_str(s);
            return;
        };
        let n = s.chars().count();
        if n >= w {
            self.buf.push_str(s);
            return;
        }
        let fill = if self.f.zero && !self.f.minus { '0' } else { ' ' };
        let padding: String = std::iter::repeat_n(fill, w - n).collect();
        if self.f.minus {
            self.buf.push_str(s);
            self.buf.push_str(&padding);
        } else {
            self.buf.push_str(&padding);
            self.buf.push_str(s);
        }
    }

    fn bad_verb(&mut self, verb: char, v: &Value) {
        self.buf.push_str("%!");
        self.buf.push(verb);
        self.buf.push('(');
        match v {
            Value::Null => self.buf.push_str("<nil>"),
            _ => {
                self.buf.push_str(&go_type(v));
                self.buf.push('=');
                let saved = self.f;
                self.f = Flags::default();
                self.print_value(v, 'v', 0);
                self.f = saved;
            }
        }
        self.buf.push(')');
    }

    fn fmt_bool(&mut self, b: bool) {
        self.pad(if b { "true" } else { "false" });
    }

    fn fmt_integer(&mut self, u: u64, signed: bool, base: u32, verb: char, upper: bool) {
        let negative = signed && (u as i64) < 0;
        let mag = if negative { (u as i64).unsigned_abs() } else { u };
        let mut prec = 0usize;
        if let Some(p) = self.f.prec {
            prec = p;
            if p == 0 && u == 0 {
                let saved = self.f.zero;
                self.f.zero = false;
                self.pad("");
                self.f.zero = saved;
                return;
            }
        } else if self.f.zero && !self.f.minus {
            if let Some(w) = self.f.wid {
                prec = w;
                if negative || self.f.plus || self.f.space {
                    prec = prec.saturating_sub(1);
                }
            }
        }
        let mut digits = match base {
            2 => format!("{mag:b}"),
            8 => format!("{mag:o}"),
            16 if upper => format!("{mag:X}"),
            16 => format!("{mag:x}"),
            _ => mag.to_string(),
        };
        while digits.len() < prec {
            digits.insert(0, '0');
        }
        let mut prefix = String::new();
        if self.f.sharp {
            match base {
                2 => prefix.push_str("0b"),
                8 if !digits.starts_with('0') => prefix.push('0'),
                16 => prefix.push_str(if upper { "0X" } else { "0x" }),
                _ => {}
            }
        }
        if verb == 'O' {
            prefix = "0o".into();
        }
        let sign = if negative {
            "-"
        } else if self.f.plus {
            "+"
        } else if self.f.space {
            " "
        } else {
            ""
        };
        let s = format!("{sign}{prefix}{digits}");
        let saved = self.f.zero;
        self.f.zero = false;
        self.pad(&s);
        self.f.zero = saved;
    }

    fn fmt_int_verb(&mut self, u: u64, signed: bool, verb: char, v: &Value) {
        match verb {
            'v' if self.f.sharp_v && !signed => {
                let saved = self.f.sharp;
                self.f.sharp = true;
                self.fmt_integer(u, false, 16, verb, false);
                self.f.sharp = saved;
            }
            'v' | 'd' => self.fmt_integer(u, signed, 10, verb, false),
            'b' => self.fmt_integer(u, signed, 2, verb, false),
            'o' | 'O' => self.fmt_integer(u, signed, 8, verb, false),
            'x' => self.fmt_integer(u, signed, 16, verb, false),
            'X' => self.fmt_integer(u, signed, 16, verb, true),
            'c' => {
                let c = char::from_u32(u as u32).filter(|_| u <= 0x10ffff).unwrap_or('\u{fffd}');
                self.pad(&c.to_string());
            }
            'q' => {
                let c = char::from_u32(u as u32).filter(|_| u <= 0x10ffff).unwrap_or('\u{fffd}');
                let s = quote_rune(c);
                self.pad(&s);
            }
            'U' => {
                let mut s = format!("U+{u:04X}");
                if self.f.sharp {
                    if let Some(c) = char::from_u32(u as u32).filter(|c| syntax::quote::is_go_printable(*c)) {
                        s.push_str(&format!(" '{c}'"));
                    }
                }
                self.pad(&s);
            }
            _ => self.bad_verb(verb, v),
        }
    }

    fn fmt_float(&mut self, x: f64, verb: char, v: &Value) {
        let (fmt, default_prec, upper) = match verb {
            'v' | 'g' => (Some(FloatFmt::G), None, false),
            'G' => (Some(FloatFmt::G), None, true),
            'e' => (Some(FloatFmt::E), Some(6), false),
            'E' => (Some(FloatFmt::E), Some(6), true),
            'f' | 'F' => (Some(FloatFmt::F), Some(6), false),
            'b' | 'x' | 'X' => (None, None, verb == 'X'),
            _ => {
                self.bad_verb(verb, v);
                return;
            }
        };
        let prec = self.f.prec.or(default_prec);
        let mut num = match fmt {
            Some(fmt) => format_float_case(x, fmt, prec, upper),
            None if verb == 'b' => float_b(x),
            None => float_hex(x, prec, upper),
        };
        if !num.starts_with(['-', '+']) {
            num.insert(0, '+');
        }
        if self.f.space && num.starts_with('+') && !self.f.plus {
            num.replace_range(0..1, " ");
        }
        if num[1..].starts_with("Inf") || num[1..].starts_with("NaN") {
            if num[1..].starts_with("NaN") && !self.f.space && !self.f.plus {
                num.remove(0);
            }
            let saved = self.f.zero;
            self.f.zero = false;
            let s = if num.starts_with('+') && !self.f.plus && !num[1..].starts_with("NaN") { num[1..].to_string() } else { num };
            self.pad(&s);
            self.f.zero = saved;
            return;
        }
        if self.f.plus || !num.starts_with('+') {
            // Zero padding goes after the sign.
            if self.f.zero && !self.f.minus && self.f.wid.is_some_and(|w| w > num.chars().count()) {
                let w = self.f.wid.unwrap_or(0);
                let zeros = "0".repeat(w - num.chars().count());
                self.buf.push_str(&num[..1]);
                self.buf.push_str(&zeros);
                self.buf.push_str(&num[1..]);
                return;
            }
            self.pad(&num);
            return;
        }
        self.pad(&num[1..]);
    }

    fn fmt_string(&mut self, s: &[u8], verb: char, v: &Value) {
        match verb {
            'v' if self.f.sharp_v => self.pad(&syntax::quote::go_quote_bytes(s)),
            'v' | 's' => {
                let text = String::from_utf8_lossy(s);
                let t: String = match self.f.prec {
                    Some(p) => text.chars().take(p).collect(),
                    None => text.into_owned(),
                };
                self.pad(&t);
            }
            'x' | 'X' => {
                let bytes = match self.f.prec {
                    Some(p) => &s[..p.min(s.len())],
                    None => s,
                };
                let mut out = String::new();
                for (i, b) in bytes.iter().enumerate() {
                    if self.f.space && i > 0 {
                        out.push(' ');
                    }
                    if self.f.sharp && (self.f.space || i == 0) {
                        out.push_str(if verb == 'x' { "0x" } else { "0X" });
                    }
                    out.push_str(&if verb == 'x' { format!("{b:02x}") } else { format!("{b:02X}") });
                }
                self.pad(&out);
            }
            'q' => {
                let text = String::from_utf8_lossy(s);
                if self.f.sharp && !text.contains('`') && text.chars().all(|c| c == '\t' || (c != '\u{feff}' && syntax::quote::is_go_printable(c))) {
                    self.pad(&format!("`{text}`"));
                } else {
                    self.pad(&syntax::quote::go_quote_bytes(s));
                }
            }
            _ => self.bad_verb(verb, v),
        }
    }

    fn print_arg(&mut self, v: &Value, verb: char) {
        if v.is_null() {
            match verb {
                'T' | 'v' => self.pad("<nil>"),
                _ => self.bad_verb(verb, v),
            }
            return;
        }
        if verb == 'T' {
            let t = go_type(v);
            self.fmt_string(t.as_bytes(), 's', v);
            return;
        }
        self.print_value(v, verb, 0);
    }

    fn print_value(&mut self, v: &Value, verb: char, depth: usize) {
        match v {
            Value::Null => {
                if self.f.sharp_v {
                    self.buf.push_str("interface {}(nil)");
                } else if depth == 0 && verb != 'v' {
                    self.bad_verb(verb, v);
                } else {
                    self.pad("<nil>");
                }
            }
            Value::Bool(b) => match verb {
                't' | 'v' => self.fmt_bool(*b),
                _ => self.bad_verb(verb, v),
            },
            Value::Number(Number::Int(i)) => self.fmt_int_verb(*i as u64, true, verb, v),
            Value::Number(Number::Uint(u)) => {
                let signed = *u <= i64::MAX as u64;
                self.fmt_int_verb(*u, signed, verb, v)
            }
            Value::Number(Number::Float(x)) => self.fmt_float(*x, verb, v),
            Value::String(s) => self.fmt_string(s.as_bytes(), verb, v),
            Value::Secret(s) => {
                if self.f.sharp_v {
                    self.buf.push('"');
                    self.buf.push_str(&String::from_utf8_lossy(s.expose().as_bytes()));
                    self.buf.push('"');
                } else {
                    self.fmt_string(s.expose().as_bytes(), verb, v)
                }
            }
            Value::Bytes(b) if matches!(verb, 's' | 'q' | 'x' | 'X') => self.fmt_string(b, verb, v),
            Value::Bytes(b) => {
                if self.f.sharp_v {
                    let items: Vec<String> = b.iter().map(|x| format!("{x:#x}")).collect();
                    self.buf.push_str(&format!("[]byte{{{}}}", items.join(", ")));
                    return;
                }
                self.buf.push('[');
                for (i, x) in b.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.fmt_int_verb(*x as u64, false, if verb == 'v' { 'd' } else { verb }, &Value::uint(*x as u64));
                }
                self.buf.push(']');
            }
            Value::Array(items) => {
                if self.f.sharp_v {
                    self.buf.push_str("[]interface {}{");
                    for (i, it) in items.iter().enumerate() {
                        if i > 0 {
                            self.buf.push_str(", ");
                        }
                        self.print_value(it, verb, depth + 1);
                    }
                    self.buf.push('}');
                    return;
                }
                self.buf.push('[');
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.print_value(it, verb, depth + 1);
                }
                self.buf.push(']');
            }
            Value::Object(o) => {
                let entries = {
                    let mut e: Vec<_> = o.iter().collect();
                    e.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                    e
                };
                if self.f.sharp_v {
                    self.buf.push_str("map[string]interface {}{");
                    for (i, (k, val)) in entries.iter().enumerate() {
                        if i > 0 {
                            self.buf.push_str(", ");
                        }
                        self.buf.push_str(&syntax::quote::go_quote(k));
                        self.buf.push(':');
                        self.print_value(val, verb, depth + 1);
                    }
                    self.buf.push('}');
                    return;
                }
                self.buf.push_str("map[");
                for (i, (k, val)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.print_value(&Value::string(k.as_str()), verb, depth + 1);
                    self.buf.push(':');
                    self.print_value(val, verb, depth + 1);
                }
                self.buf.push(']');
            }
            Value::OptionalSecret(os) => {
                let text = Value::String(os.expose().clone());
                if self.f.sharp_v {
                    self.buf.push_str(&format!(
                        "alloytypes.OptionalSecret{{IsSecret:{}, Value:{}}}",
                        os.is_secret,
                        syntax::quote::go_quote_bytes(os.expose().as_bytes())
                    ));
                    return;
                }
                self.buf.push('{');
                if self.f.plus_v {
                    self.buf.push_str("IsSecret:");
                }
                self.print_value(&Value::Bool(os.is_secret), verb, depth + 1);
                self.buf.push(' ');
                if self.f.plus_v {
                    self.buf.push_str("Value:");
                }
                self.print_value(&text, verb, depth + 1);
                self.buf.push('}');
            }
            Value::Function(_) => match verb {
                'v' | 'p' => self.pad("0x0"),
                _ => self.bad_verb(verb, v),
            },
            Value::Capsule(c) => match c.0.display() {
                Some(s) => self.fmt_string(s.as_bytes(), verb, v),
                None => self.pad(&format!("{{{}}}", c.type_name())),
            },
        }
    }
}

/// Go's `%q` of a rune: `'x'`.
pub(crate) fn quote_rune(c: char) -> String {
    match c {
        '\'' => "'\\''".into(),
        '"' => "'\"'".into(),
        _ => {
            let q = syntax::quote::go_quote(&c.to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

fn float_b(x: f64) -> String {
    let bits = x.to_bits();
    let neg = bits >> 63 != 0;
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let mut mant = bits & ((1u64 << 52) - 1);
    let e = if exp == 0 {
        -1074
    } else {
        mant |= 1u64 << 52;
        exp - 1075
    };
    format!("{}{}p{}{}", if neg { "-" } else { "" }, mant, if e >= 0 { "+" } else { "" }, e)
}

fn float_hex(x: f64, prec: Option<usize>, upper: bool) -> String {
    let neg = x.is_sign_negative();
    let a = x.abs();
    let s = if a == 0.0 {
        let frac = prec.map(|p| if p > 0 { format!(".{}", "0".repeat(p)) } else { String::new() }).unwrap_or_default();
        format!("0x0{frac}p+00")
    } else {
        let bits = a.to_bits();
        let mut exp = ((bits >> 52) & 0x7ff) as i64;
        let mut mant = bits & ((1u64 << 52) - 1);
        if exp == 0 {
            // Normalise subnormals.
            while mant & (1u64 << 52) == 0 {
                mant <<= 1;
                exp -= 1;
            }
            mant &= (1u64 << 52) - 1;
            exp += 1;
        }
        let e = exp - 1023;
        let mut hex = format!("{mant:013x}");
        match prec {
            None => {
                while hex.ends_with('0') {
                    hex.pop();
                }
            }
            Some(p) => {
                if p < 13 {
                    // Round to p hex digits (half to even).
                    let full = (1u64 << 52) | mant;
                    let shift = (13 - p) * 4;
                    let mut r = full >> shift;
                    let rem = full & ((1u64 << shift) - 1);
                    let half = 1u64 << (shift - 1);
                    if rem > half || (rem == half && r & 1 == 1) {
                        r += 1;
                    }
                    let lead = r >> (p * 4);
                    let frac = r & ((1u64 << (p * 4)) - 1);
                    let hx = if p > 0 { format!(".{:0width$x}", frac, width = p) } else { String::new() };
                    let e2 = e + (lead as i64 - 1);
                    let sign = if e2 >= 0 { '+' } else { '-' };
                    let s = format!("0x1{hx}p{sign}{:02}", e2.unsigned_abs());
                    let s = if neg { format!("-{s}") } else { s };
                    return if upper { s.to_uppercase() } else { s };
                }
                while hex.len() < p {
                    hex.push('0');
                }
            }
        }
        let frac = if hex.is_empty() { String::new() } else { format!(".{hex}") };
        let sign = if e >= 0 { '+' } else { '-' };
        format!("0x1{frac}p{sign}{:02}", e.unsigned_abs())
    };
    let s = if neg { format!("-{s}") } else { s };
    if upper {
        s.to_uppercase()
    } else {
        s
    }
}

/// Go's `fmt.Sprintf(format, args...)`, with the in-band `%!` error markers.
pub fn sprintf(format: &[u8], args: &[Value]) -> Vec<u8> {
    let args: Vec<Value> = args.iter().map(crate::convert::to_any).collect();
    let fmt = String::from_utf8_lossy(format);
    let chars: Vec<char> = fmt.chars().collect();
    let mut p = Printer { buf: String::new(), f: Flags::default() };
    let mut arg_num = 0usize;
    let mut reordered = false;
    let mut good_arg_num = true;
    let mut i = 0;
    let n = chars.len();
    let parse_num = |i: &mut usize| -> Option<usize> {
        let start = *i;
        let mut v: usize = 0;
        while *i < n && chars[*i].is_ascii_digit() {
            v = v.saturating_mul(10).saturating_add(chars[*i] as usize - '0' as usize);
            if v > 1_000_000 {
                return None;
            }
            *i += 1;
        }
        if *i == start {
            None
        } else {
            Some(v)
        }
    };
    while i < n {
        if chars[i] != '%' {
            p.buf.push(chars[i]);
            i += 1;
            continue;
        }
        i += 1;
        p.f = Flags::default();
        // Flags.
        while i < n {
            match chars[i] {
                '#' => p.f.sharp = true,
                '0' => p.f.zero = true,
                '+' => p.f.plus = true,
                '-' => p.f.minus = true,
                ' ' => p.f.space = true,
                _ => break,
            }
            i += 1;
        }
        if p.f.minus {
            p.f.zero = false;
        }
        // Argument index, then width.
        let arg_index = |i: &mut usize, arg_num: &mut usize, reordered: &mut bool, good: &mut bool| {
            if *i < n && chars[*i] == '[' {
                *reordered = true;
                let mut j = *i + 1;
                let start = j;
                while j < n && chars[j] != ']' {
                    j += 1;
                }
                if j >= n {
                    *good = false;
                    *i = n;
                    return;
                }
                let s: String = chars[start..j].iter().collect();
                match s.parse::<usize>() {
                    Ok(k) if k >= 1 && k <= args.len() => {
                        *arg_num = k - 1;
                    }
                    _ => *good = false,
                }
                *i = j + 1;
            }
        };
        arg_index(&mut i, &mut arg_num, &mut reordered, &mut good_arg_num);
        let mut after_index = reordered && i > 0 && chars.get(i.wrapping_sub(1)) == Some(&']');
        if i < n && chars[i] == '*' {
            i += 1;
            match args.get(arg_num) {
                Some(Value::Number(num)) if good_arg_num => {
                    let w = num.as_i64();
                    if w < 0 {
                        p.f.minus = true;
                        p.f.zero = false;
                    }
                    p.f.wid = Some(w.unsigned_abs() as usize);
                    arg_num += 1;
                }
                _ => {
                    p.buf.push_str("%!(BADWIDTH)");
                    if arg_num < args.len() {
                        arg_num += 1;
                    }
                }
            }
            after_index = false;
        } else {
            p.f.wid = parse_num(&mut i);
            if after_index && p.f.wid.is_some() {
                good_arg_num = false;
            }
        }
        // Precision.
        if i < n && chars[i] == '.' {
            i += 1;
            if after_index {
                good_arg_num = false;
            }
            arg_index(&mut i, &mut arg_num, &mut reordered, &mut good_arg_num);
            after_index = reordered && chars.get(i.wrapping_sub(1)) == Some(&']');
            if i < n && chars[i] == '*' {
                i += 1;
                match args.get(arg_num) {
                    Some(Value::Number(num)) if good_arg_num && num.as_i64() >= 0 => {
                        p.f.prec = Some(num.as_i64() as usize);
                        arg_num += 1;
                    }
                    _ => {
                        p.buf.push_str("%!(BADPREC)");
                        if arg_num < args.len() {
                            arg_num += 1;
                        }
                    }
                }
                after_index = false;
            } else {
                p.f.prec = Some(parse_num(&mut i).unwrap_or(0));
            }
        }
        if !after_index {
            arg_index(&mut i, &mut arg_num, &mut reordered, &mut good_arg_num);
        }
        if i >= n {
            p.buf.push_str("%!(NOVERB)");
            break;
        }
        let verb = chars[i];
        i += 1;
        match verb {
            '%' => p.buf.push('%'),
            _ if !good_arg_num => {
                p.buf.push_str(&format!("%!{verb}(BADINDEX)"));
            }
            _ if arg_num >= args.len() => {
                p.buf.push_str(&format!("%!{verb}(MISSING)"));
            }
            _ => {
                if verb == 'v' {
                    if p.f.sharp {
                        p.f.sharp = false;
                        p.f.sharp_v = true;
                    }
                    if p.f.plus {
                        p.f.plus = false;
                        p.f.plus_v = true;
                    }
                }
                let a = args[arg_num].clone();
                arg_num += 1;
                p.print_arg(&a, verb);
            }
        }
        good_arg_num = true;
    }
    if !reordered && arg_num < args.len() {
        p.f = Flags::default();
        p.buf.push_str("%!(EXTRA ");
        for (k, a) in args[arg_num..].iter().enumerate() {
            if k > 0 {
                p.buf.push_str(", ");
            }
            if a.is_null() {
                p.buf.push_str("<nil>");
            } else {
                p.buf.push_str(&go_type(a));
                p.buf.push('=');
                p.print_arg(a, 'v');
            }
        }
        p.buf.push(')');
    }
    p.buf.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fmt: &str, args: &[Value]) -> String {
        String::from_utf8(sprintf(fmt.as_bytes(), args)).unwrap()
    }

    #[test]
    fn floats_like_strconv() {
        assert_eq!(format_float(1e21, FloatFmt::G, None), "1e+21");
        assert_eq!(format_float(100000.0, FloatFmt::G, None), "100000");
        assert_eq!(format_float(1e6, FloatFmt::G, None), "1e+06");
        assert_eq!(format_float(123456789.0, FloatFmt::G, None), "1.23456789e+08");
        assert_eq!(format_float(0.000012345, FloatFmt::G, None), "1.2345e-05");
        assert_eq!(format_float(1234.5678, FloatFmt::E, Some(6)), "1.234568e+03");
        assert_eq!(format_float(2.5, FloatFmt::G, Some(5)), "2.5");
        assert_eq!(format_float(1234.5, FloatFmt::G, Some(3)), "1.23e+03");
        assert_eq!(format_float(-0.0, FloatFmt::G, None), "-0");
        assert_eq!(format_float(1.0, FloatFmt::F, None), "1");
    }

    #[test]
    fn verbs() {
        assert_eq!(f("%5.2f|%-4d|%x|%q", &[Value::float(3.14259), Value::int(42), Value::int(255), Value::string("hi")]), " 3.14|42  |ff|\"hi\"");
        assert_eq!(f("%08.3f", &[Value::float(-3.14259)]), "-003.143");
        assert_eq!(f("%!", &[]), "%!!(MISSING)");
        assert_eq!(f("%", &[Value::int(1)]), "%!(NOVERB)%!(EXTRA int=1)");
        assert_eq!(f("%[3]d", &[Value::int(1)]), "%!d(BADINDEX)");
        assert_eq!(f("%*d", &[Value::int(5), Value::int(1)]), "    1");
        assert_eq!(f("%[2]s %[1]s", &[Value::string("a"), Value::string("b")]), "b a");
        assert_eq!(f("%05s", &[Value::string("ab")]), "000ab");
        assert_eq!(f("%x", &[Value::float(1.5)]), "0x1.8p+00");
    }
}
