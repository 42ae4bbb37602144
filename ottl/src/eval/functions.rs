//! The editors and converters of the catalogue.

use base64::Engine as _;
use md5::Md5;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point, Gauge, Metric, NumberDataPoint, Sum};
use regex::{Captures, Regex};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::ast::{Arg, Call, ExprKind, Path};

use super::expr::{args, path_get, path_set, value};
use super::item::Item;
use super::value::{format_double, hex, parse_duration, Value};
use super::EvalError;

fn err<T>(msg: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError(msg.into()))
}

/// The evaluated arguments of one call, by parameter position.
struct Args<'c> {
    name: &'c str,
    slots: Vec<Option<&'c Arg>>,
}

impl<'c> Args<'c> {
    fn new(c: &'c Call) -> Result<Args<'c>, EvalError> {
        Ok(Args { name: &c.name, slots: args(c)? })
    }

    fn arg(&self, i: usize) -> Option<&'c Arg> {
        self.slots.get(i).copied().flatten()
    }

    fn value(&self, i: usize, item: &Item) -> Result<Value, EvalError> {
        self.arg(i).map_or(Ok(Value::Nil), |a| value(&a.value, item))
    }

    /// A string argument; anything else is an error, as upstream's string getters do.
    fn string(&self, i: usize, item: &Item) -> Result<String, EvalError> {
        match self.value(i, item)? {
            Value::Str(s) => Ok(s),
            other => err(format!("{}: expected a string, got a {}", self.name, other.type_name())),
        }
    }

    fn int(&self, i: usize, item: &Item) -> Result<i64, EvalError> {
        match self.value(i, item)? {
            Value::Int(n) => Ok(n),
            other => err(format!("{}: expected an int, got a {}", self.name, other.type_name())),
        }
    }

    fn double(&self, i: usize, item: &Item) -> Result<f64, EvalError> {
        match self.value(i, item)? {
            Value::Int(n) => Ok(n as f64),
            Value::Double(d) => Ok(d),
            other => err(format!("{}: expected a number, got a {}", self.name, other.type_name())),
        }
    }

    fn time(&self, i: usize, item: &Item) -> Result<i64, EvalError> {
        match self.value(i, item)? {
            Value::Time(t) => Ok(t),
            other => err(format!("{}: expected a time, got a {}", self.name, other.type_name())),
        }
    }

    fn lit_str(&self, i: usize) -> Option<&'c str> {
        match &self.arg(i)?.value.kind {
            ExprKind::Str(s) => Some(s),
            _ => None,
        }
    }

    fn lit_int(&self, i: usize) -> Option<i64> {
        match self.arg(i)?.value.kind {
            ExprKind::Int(n) => Some(n),
            _ => None,
        }
    }

    fn lit_strs(&self, i: usize) -> Vec<&'c str> {
        match self.arg(i).map(|a| &a.value.kind) {
            Some(ExprKind::List(items)) => items
                .iter()
                .filter_map(|x| match &x.kind {
                    ExprKind::Str(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A list argument: a literal list or anything that evaluates to a list (nil: empty).
    fn values(&self, i: usize, item: &Item) -> Result<Vec<Value>, EvalError> {
        match self.value(i, item)? {
            Value::List(items) => Ok(items),
            Value::Nil => Ok(Vec::new()),
            other => err(format!("{}: expected a list, got a {}", self.name, other.type_name())),
        }
    }

    fn regex(&self, i: usize) -> Result<&'c Regex, EvalError> {
        self.arg(i).and_then(|a| a.regex.as_ref()).ok_or_else(|| EvalError(format!("{}: the pattern was not checked", self.name)))
    }

    fn path(&self, i: usize) -> Result<&'c Path, EvalError> {
        match self.arg(i).map(|a| &a.value.kind) {
            Some(ExprKind::Path(p)) => Ok(p),
            _ => err(format!("{}: the target must be a path", self.name)),
        }
    }

    /// The optional hash function and replacement format of the replace_* editors.
    fn replacer(&self, fn_slot: usize) -> Replacer<'c> {
        let function = match self.arg(fn_slot).map(|a| &a.value.kind) {
            Some(ExprKind::Enum(n, _)) => Some(n.as_str()),
            _ => None,
        };
        Replacer { function, format: self.lit_str(fn_slot + 1) }
    }
}

struct Replacer<'c> {
    function: Option<&'c str>,
    format: Option<&'c str>,
}

impl Replacer<'_> {
    /// The replacement text as written: hashed and formatted when a function is given.
    fn finish(&self, text: String) -> String {
        match self.function {
            None => text,
            Some(f) => {
                let hashed = hash(f, &text);
                match self.format {
                    Some(fmt) => fmt.replacen("%s", &hashed, 1),
                    None => hashed,
                }
            }
        }
    }

    fn replace_regex(&self, re: &Regex, s: &str, replacement: &str) -> String {
        if self.function.is_none() {
            return re.replace_all(s, replacement).into_owned();
        }
        re.replace_all(s, |caps: &Captures| {
            let mut expanded = String::new();
            caps.expand(replacement, &mut expanded);
            self.finish(expanded)
        })
        .into_owned()
    }
}

fn hash(function: &str, s: &str) -> String {
    match function {
        "SHA1" => hex(&Sha1::digest(s.as_bytes())),
        "SHA256" => hex(&Sha256::digest(s.as_bytes())),
        "SHA512" => hex(&Sha512::digest(s.as_bytes())),
        "MD5" => hex(&Md5::digest(s.as_bytes())),
        _ => fnv1a(s.as_bytes()).to_string(),
    }
}

fn fnv1a(b: &[u8]) -> i64 {
    let h = b.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, x| (h ^ u64::from(*x)).wrapping_mul(0x0000_0100_0000_01b3));
    h as i64
}

/// A glob as upstream's replace_match reads it: `*` any run, `?` one character.
pub fn glob_match(pattern: &str, s: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn words(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn capitalise(w: &str) -> String {
    let mut cs = w.chars();
    match cs.next() {
        Some(f) => f.to_uppercase().chain(cs.flat_map(char::to_lowercase)).collect(),
        None => String::new(),
    }
}

/// Go's `fmt.Sprintf` for the verbs Format supports: %s %v %d %f %q and %%.
fn go_format(fmt: &str, args: &[Value]) -> Result<String, EvalError> {
    let mut out = String::new();
    let mut it = args.iter();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let verb = chars.next().ok_or_else(|| EvalError("Format: the format ends with a lone %".into()))?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = it.next() else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        match (verb, arg) {
            ('s' | 'v', a) => out.push_str(&a.text()),
            ('d', Value::Int(i)) => out.push_str(&i.to_string()),
            ('f', Value::Double(d)) => out.push_str(&format!("{d:.6}")),
            ('f', Value::Int(i)) => out.push_str(&format!("%!f(int64={i})")),
            ('q', a) => out.push_str(&format!("{:?}", a.text())),
            (v, a) => out.push_str(&format!("%!{v}({}={})", a.type_name(), a.text())),
        }
    }
    Ok(out)
}

/// `s` split at `delim` outside single or double quotes.
fn split_unquoted<'s>(s: &'s str, delim: &str) -> Vec<&'s str> {
    let mut out = Vec::new();
    let (mut start, mut quote, mut i) = (0, None, 0);
    while i < s.len() {
        let rest = &s[i..];
        let c = rest.chars().next().unwrap_or(' ');
        match quote {
            Some(q) if c == q => quote = None,
            None if c == '"' || c == '\'' => quote = Some(c),
            None if rest.starts_with(delim) => {
                out.push(&s[start..i]);
                i += delim.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += c.len_utf8();
    }
    out.push(&s[start..]);
    out
}

fn parse_key_value(s: &str, delimiter: &str, pair_delimiter: &str) -> Result<Value, EvalError> {
    if delimiter.is_empty() || pair_delimiter.is_empty() {
        return err("ParseKeyValue: the delimiters cannot be empty");
    }
    if delimiter == pair_delimiter {
        return err("ParseKeyValue: the delimiter and the pair delimiter must differ");
    }
    let mut out: Vec<(String, Value)> = Vec::new();
    for pair in split_unquoted(s, pair_delimiter).into_iter().map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = pair.split_once(delimiter) else {
            return err(format!("ParseKeyValue: cannot split {pair:?} into a key and a value"));
        };
        let unquote = |x: &str| {
            let x = x.trim();
            for q in ['"', '\''] {
                if x.len() >= 2 && x.starts_with(q) && x.ends_with(q) {
                    return x[1..x.len() - 1].to_string();
                }
            }
            x.to_string()
        };
        let (k, v) = (unquote(k), Value::Str(unquote(v)));
        match out.iter_mut().find(|(ek, _)| *ek == k) {
            Some((_, existing)) => *existing = v,
            None => out.push((k, v)),
        }
    }
    Ok(Value::Map(out))
}

pub fn converter(c: &Call, item: &Item) -> Result<Value, EvalError> {
    let a = Args::new(c)?;
    Ok(match c.name.as_str() {
        "Concat" => {
            let parts: Vec<String> = a.values(0, item)?.iter().map(|v| if matches!(v, Value::Nil) { "<nil>".to_string() } else { v.text() }).collect();
            Value::Str(parts.join(&a.string(1, item)?))
        }
        "ConvertCase" => {
            let s = a.string(0, item)?;
            Value::Str(match a.lit_str(1).unwrap_or("") {
                "lower" => s.to_lowercase(),
                "upper" => s.to_uppercase(),
                "snake" => words(&s).iter().map(|w| w.to_lowercase()).collect::<Vec<_>>().join("_"),
                "camel" => words(&s).iter().map(|w| capitalise(w)).collect(),
                other => return err(format!("ConvertCase: unknown case {other:?}")),
            })
        }
        "Int" => match a.value(0, item)? {
            Value::Int(i) => Value::Int(i),
            Value::Double(d) if d.is_finite() => Value::Int(d.trunc() as i64),
            Value::Bool(b) => Value::Int(i64::from(b)),
            Value::Str(s) => s.trim().parse().map_or(Value::Nil, Value::Int),
            _ => Value::Nil,
        },
        "Double" => match a.value(0, item)? {
            Value::Int(i) => Value::Double(i as f64),
            Value::Double(d) => Value::Double(d),
            Value::Bool(b) => Value::Double(if b { 1.0 } else { 0.0 }),
            Value::Str(s) => s.trim().parse().map_or(Value::Nil, Value::Double),
            _ => Value::Nil,
        },
        "String" => match a.value(0, item)? {
            Value::Nil => Value::Nil,
            v => Value::Str(v.text()),
        },
        "Bool" => match a.value(0, item)? {
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Bool(i != 0),
            Value::Double(d) => Value::Bool(d != 0.0),
            Value::Str(s) => match s.as_str() {
                "1" | "t" | "T" | "TRUE" | "true" | "True" => Value::Bool(true),
                "0" | "f" | "F" | "FALSE" | "false" | "False" => Value::Bool(false),
                _ => Value::Nil,
            },
            _ => Value::Nil,
        },
        "IsMatch" => match a.value(0, item)? {
            Value::Nil => Value::Bool(false),
            v => Value::Bool(a.regex(1)?.is_match(&v.text())),
        },
        "IsString" => Value::Bool(matches!(a.value(0, item)?, Value::Str(_))),
        "IsInt" => Value::Bool(matches!(a.value(0, item)?, Value::Int(_))),
        "IsDouble" => Value::Bool(matches!(a.value(0, item)?, Value::Double(_))),
        "IsBool" => Value::Bool(matches!(a.value(0, item)?, Value::Bool(_))),
        "IsMap" => Value::Bool(matches!(a.value(0, item)?, Value::Map(_))),
        "IsList" => Value::Bool(matches!(a.value(0, item)?, Value::List(_))),
        "Len" => Value::Int(
            i64::try_from(match a.value(0, item)? {
                Value::Str(s) => s.len(),
                Value::List(l) => l.len(),
                Value::Map(m) => m.len(),
                Value::Bytes(b) => b.len(),
                other => return err(format!("Len: a {} has no length", other.type_name())),
            })
            .unwrap_or(i64::MAX),
        ),
        "ParseJSON" => {
            let s = a.string(0, item)?;
            let j: serde_json::Value = serde_json::from_str(&s).map_err(|e| EvalError(format!("ParseJSON: {e}")))?;
            match j {
                serde_json::Value::Object(_) | serde_json::Value::Array(_) => Value::from_json(&j),
                _ => return err("ParseJSON: expected a JSON object or array"),
            }
        }
        "ParseKeyValue" => parse_key_value(&a.string(0, item)?, a.lit_str(1).unwrap_or("="), a.lit_str(2).unwrap_or(" "))?,
        "SHA1" | "SHA256" | "SHA512" | "MD5" => Value::Str(hash(&c.name, &a.string(0, item)?)),
        "FNV" => Value::Int(fnv1a(a.string(0, item)?.as_bytes())),
        "Split" => {
            let s = a.string(0, item)?;
            match a.lit_str(1).unwrap_or(",") {
                // Go splits at every character then.
                "" => Value::List(s.chars().map(|c| Value::Str(c.to_string())).collect()),
                d => Value::List(s.split(d).map(|p| Value::Str(p.to_string())).collect()),
            }
        }
        "Substring" => {
            let s = a.string(0, item)?;
            let (start, len) = (a.int(1, item)?, a.int(2, item)?);
            let range = usize::try_from(start).ok().zip(usize::try_from(len).ok()).filter(|(_, l)| *l > 0).map(|(st, l)| st..st.saturating_add(l));
            match range.and_then(|r| s.get(r)) {
                Some(sub) => Value::Str(sub.to_string()),
                None => return err(format!("Substring: start {start} and length {len} are out of range for a string of {} bytes", s.len())),
            }
        }
        "ToLowerCase" => Value::Str(a.string(0, item)?.to_lowercase()),
        "ToUpperCase" => Value::Str(a.string(0, item)?.to_uppercase()),
        "Trim" => {
            let cut: Vec<char> = a.lit_str(1).unwrap_or(" ").chars().collect();
            Value::Str(a.string(0, item)?.trim_matches(|c| cut.contains(&c)).to_string())
        }
        "HasPrefix" => Value::Bool(a.string(0, item)?.starts_with(&a.string(1, item)?)),
        "HasSuffix" => Value::Bool(a.string(0, item)?.ends_with(&a.string(1, item)?)),
        "TraceID" | "SpanID" => {
            let want = if c.name == "TraceID" { 16 } else { 8 };
            match a.value(0, item)? {
                Value::Bytes(b) if b.len() == want => Value::Bytes(b),
                other => return err(format!("{}: expected {want} bytes, got {}", c.name, other.text())),
            }
        }
        "Now" => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| EvalError(e.to_string()))?;
            Value::Time(i64::try_from(now.as_nanos()).unwrap_or(i64::MAX))
        }
        "Time" => Value::Time(crate::timefmt::parse(&a.string(0, item)?, a.lit_str(1).unwrap_or("")).map_err(|e| EvalError(format!("Time: {e}")))?),
        "FormatTime" => Value::Str(crate::timefmt::format(a.time(0, item)?, a.lit_str(1).unwrap_or("")).map_err(|e| EvalError(format!("FormatTime: {e}")))?),
        "Year" | "Month" | "Day" | "Hour" | "Minute" | "Second" | "Nanosecond" | "Weekday" => {
            let [y, mo, d, h, mi, s, ns, wd] = crate::timefmt::parts(a.time(0, item)?);
            Value::Int(match c.name.as_str() {
                "Year" => y,
                "Month" => mo,
                "Day" => d,
                "Hour" => h,
                "Minute" => mi,
                "Second" => s,
                "Nanosecond" => ns,
                _ => wd,
            })
        }
        "Hours" | "Minutes" | "Seconds" | "Milliseconds" | "Microseconds" | "Nanoseconds" => {
            let d = match a.value(0, item)? {
                Value::Duration(d) => d,
                other => return err(format!("{}: expected a duration, got a {}", c.name, other.type_name())),
            };
            match c.name.as_str() {
                "Hours" => Value::Double(d as f64 / 3_600e9),
                "Minutes" => Value::Double(d as f64 / 60e9),
                "Seconds" => Value::Double(d as f64 / 1e9),
                "Milliseconds" => Value::Int(d / 1_000_000),
                "Microseconds" => Value::Int(d / 1_000),
                _ => Value::Int(d),
            }
        }
        "UnixNano" => Value::Int(a.time(0, item)?),
        "UnixMilli" => Value::Int(a.time(0, item)?.div_euclid(1_000_000)),
        "UnixSeconds" => Value::Int(a.time(0, item)?.div_euclid(1_000_000_000)),
        "Unix" => {
            let secs = a.int(0, item)?;
            let nanos = if a.arg(1).is_some() { a.int(1, item)? } else { 0 };
            let t = secs.checked_mul(1_000_000_000).and_then(|s| s.checked_add(nanos));
            Value::Time(t.ok_or_else(|| EvalError("Unix: the time overflows".into()))?)
        }
        "Duration" => Value::Duration(parse_duration(&a.string(0, item)?)?),
        "Hex" => Value::Str(match a.value(0, item)? {
            Value::Bytes(b) => hex(&b),
            Value::Str(s) => hex(s.as_bytes()),
            Value::Int(i) => hex(&i.to_be_bytes()),
            Value::Double(d) => hex(&d.to_bits().to_be_bytes()),
            Value::Bool(b) => hex(&[u8::from(b)]),
            other => return err(format!("Hex: cannot encode a {}", other.type_name())),
        }),
        "Format" => Value::Str(go_format(a.lit_str(0).unwrap_or(""), &a.values(1, item)?)?),
        "Log" => {
            let x = a.double(0, item)?;
            if x <= 0.0 {
                return err(format!("Log: the logarithm of {} is undefined", format_double(x)));
            }
            Value::Double(x.ln())
        }
        "ExtractPatterns" => {
            let s = a.string(0, item)?;
            let re = a.regex(1)?;
            let mut out = Vec::new();
            if let Some(caps) = re.captures(&s) {
                for name in re.capture_names().flatten() {
                    if let Some(m) = caps.name(name) {
                        out.push((name.to_string(), Value::Str(m.as_str().to_string())));
                    }
                }
            }
            Value::Map(out)
        }
        "Base64Decode" | "Decode" => {
            let variant = if c.name == "Decode" { a.lit_str(1).unwrap_or("base64") } else { "base64" };
            let bytes = base64_engine(variant).decode(a.string(0, item)?).map_err(|e| EvalError(format!("{}: {e}", c.name)))?;
            Value::Str(String::from_utf8_lossy(&bytes).into_owned())
        }
        "Base64Encode" => Value::Str(base64_engine(a.lit_str(1).unwrap_or("base64")).encode(a.string(0, item)?)),
        "HasAttrKeyOnDatapoint" | "HasAttrOnDatapoint" => {
            let key = a.lit_str(0).unwrap_or("");
            let want = a.lit_str(1);
            let matches = |attrs: &[KeyValue]| {
                attrs.iter().any(|kv| {
                    kv.key == key
                        && want.is_none_or(|w| matches!(kv.value.as_ref().and_then(|v| v.value.as_ref()), Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) if s == w))
                })
            };
            let data = item.metric.as_ref().and_then(|m| m.data.as_ref());
            Value::Bool(match data {
                Some(Data::Gauge(g)) => g.data_points.iter().any(|p| matches(&p.attributes)),
                Some(Data::Sum(s)) => s.data_points.iter().any(|p| matches(&p.attributes)),
                Some(Data::Histogram(h)) => h.data_points.iter().any(|p| matches(&p.attributes)),
                Some(Data::ExponentialHistogram(h)) => h.data_points.iter().any(|p| matches(&p.attributes)),
                Some(Data::Summary(s)) => s.data_points.iter().any(|p| matches(&p.attributes)),
                None => false,
            })
        }
        "IsRootSpan" => Value::Bool(item.span.as_ref().is_some_and(|s| s.parent_span_id.is_empty())),
        other => return err(format!("{other} is not a converter")),
    })
}

fn base64_engine(variant: &str) -> &'static base64::engine::GeneralPurpose {
    use base64::engine::general_purpose as gp;
    match variant {
        "base64-raw" => &gp::STANDARD_NO_PAD,
        "base64-url" => &gp::URL_SAFE,
        "base64-raw-url" => &gp::URL_SAFE_NO_PAD,
        _ => &gp::STANDARD,
    }
}

fn map_of(v: Value, what: &str) -> Result<Option<Vec<(String, Value)>>, EvalError> {
    match v {
        Value::Map(m) => Ok(Some(m)),
        Value::Nil => Ok(None),
        other => err(format!("{what}: the target is a {}, not a map", other.type_name())),
    }
}

pub fn editor(c: &Call, item: &mut Item) -> Result<(), EvalError> {
    let a = Args::new(c)?;
    let name = c.name.as_str();
    match name {
        "set" => {
            let v = a.value(1, item)?;
            if !matches!(v, Value::Nil) {
                path_set(a.path(0)?, item, v)?;
            }
            return Ok(());
        }
        "append" => {
            let target = a.path(0)?;
            let mut list = match path_get(target, item)? {
                Value::Nil => Vec::new(),
                Value::List(l) => l,
                single => vec![single],
            };
            if a.arg(1).is_some() {
                list.push(a.value(1, item)?);
            }
            list.extend(a.values(2, item)?);
            return path_set(target, item, Value::List(list));
        }
        "replace_pattern" | "replace_match" => {
            let target = a.path(0)?;
            let Value::Str(s) = path_get(target, item)? else { return Ok(()) };
            let replacement = a.string(2, item)?;
            let r = a.replacer(3);
            let out = if name == "replace_pattern" {
                r.replace_regex(a.regex(1)?, &s, &replacement)
            } else if glob_match(a.lit_str(1).unwrap_or(""), &s) {
                r.finish(replacement)
            } else {
                s.clone()
            };
            if out != s {
                path_set(target, item, Value::Str(out))?;
            }
            return Ok(());
        }
        "convert_sum_to_gauge" | "convert_gauge_to_sum" | "scale_metric" => return metric_editor(&a, item),
        "extract_sum_metric" | "extract_count_metric" => return extract_metric(&a, item),
        "aggregate_on_attributes" => return aggregate(&a, item),
        _ => {}
    }
    // The rest edit a map in place.
    let target = a.path(0)?;
    let Some(mut map) = map_of(path_get(target, item)?, name)? else { return Ok(()) };
    match name {
        "delete_key" => {
            let key = a.string(1, item)?;
            map.retain(|(k, _)| *k != key);
        }
        "delete_matching_keys" => {
            let re = a.regex(1)?;
            map.retain(|(k, _)| !re.is_match(k));
        }
        "keep_keys" => {
            let keys = a.lit_strs(1);
            map.retain(|(k, _)| keys.contains(&k.as_str()));
        }
        "keep_matching_keys" => {
            let re = a.regex(1)?;
            map.retain(|(k, _)| re.is_match(k));
        }
        "limit" => {
            let n = a.lit_int(1).unwrap_or(0);
            let priority = a.lit_strs(2);
            let Ok(n) = usize::try_from(n) else { return err(format!("limit: the limit {n} cannot be negative")) };
            if priority.len() > n {
                return err(format!("limit: {} priority keys are more than the limit {n}", priority.len()));
            }
            if map.len() > n {
                let (mut first, rest): (Vec<_>, Vec<_>) = map.into_iter().partition(|(k, _)| priority.contains(&k.as_str()));
                first.truncate(n);
                let room = n - first.len();
                first.extend(rest.into_iter().take(room));
                map = first;
            }
        }
        "merge_maps" => {
            let Some(source) = map_of(a.value(1, item)?, name)? else { return Ok(()) };
            let strategy = a.lit_str(2).unwrap_or("upsert");
            for (k, v) in source {
                match (map.iter_mut().find(|(ek, _)| *ek == k), strategy) {
                    (Some((_, existing)), "update" | "upsert") => *existing = v,
                    (None, "insert" | "upsert") => map.push((k, v)),
                    _ => {}
                }
            }
        }
        "replace_all_patterns" => {
            let re = a.regex(2)?;
            let replacement = a.string(3, item)?;
            let r = a.replacer(4);
            let by_key = a.lit_str(1) == Some("key");
            for (k, v) in &mut map {
                if by_key {
                    *k = r.replace_regex(re, k, &replacement);
                } else if let Value::Str(s) = v {
                    *s = r.replace_regex(re, s, &replacement);
                }
            }
        }
        "replace_all_matches" => {
            let pattern = a.lit_str(1).unwrap_or("");
            let replacement = a.string(2, item)?;
            let r = a.replacer(3);
            for (_, v) in &mut map {
                if let Value::Str(s) = v {
                    if glob_match(pattern, s) {
                        *s = r.finish(replacement.clone());
                    }
                }
            }
        }
        "truncate_all" => {
            let limit = a.lit_int(1).unwrap_or(0);
            let Ok(limit) = usize::try_from(limit) else { return err(format!("truncate_all: the limit {limit} cannot be negative")) };
            for (_, v) in &mut map {
                if let Value::Str(s) = v {
                    if s.len() > limit {
                        let mut cut = limit;
                        while !s.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        s.truncate(cut);
                    }
                }
            }
        }
        "flatten" => {
            let prefix = a.lit_str(1).unwrap_or("");
            let depth = a.lit_int(2).unwrap_or(100);
            if depth < 0 {
                return err(format!("flatten: the depth {depth} cannot be negative"));
            }
            let resolve = matches!(a.value(3, item)?, Value::Bool(true));
            let mut out = Vec::new();
            flatten_into(&mut out, prefix, map, depth, resolve);
            map = out;
        }
        other => return err(format!("{other} is not an editor")),
    }
    path_set(target, item, Value::Map(map))
}

fn flatten_into(out: &mut Vec<(String, Value)>, prefix: &str, entries: Vec<(String, Value)>, depth: i64, resolve: bool) {
    let join = |k: &str| if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
    for (k, v) in entries {
        let key = join(&k);
        match v {
            Value::Map(m) if depth > 0 => flatten_into(out, &key, m, depth - 1, resolve),
            Value::List(l) if depth > 0 => {
                let indexed = l.into_iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect();
                flatten_into(out, &key, indexed, depth - 1, resolve);
            }
            v => insert_flat(out, key, v, resolve),
        }
    }
}

/// A flattened entry; with `resolve`, a key already present gets the first free `.N` suffix.
fn insert_flat(out: &mut Vec<(String, Value)>, key: String, v: Value, resolve: bool) {
    match out.iter().position(|(k, _)| *k == key) {
        None => out.push((key, v)),
        Some(i) if !resolve => out[i].1 = v,
        Some(_) => {
            let free = (0..).map(|n| format!("{key}.{n}")).find(|k| !out.iter().any(|(ek, _)| ek == k)).unwrap_or(key);
            out.push((free, v));
        }
    }
}

/// `extract_sum_metric` / `extract_count_metric`: a new sum metric from the sums or counts of
/// a histogram, exponential histogram or summary, appended to the scope when it has points.
fn extract_metric(a: &Args, item: &mut Item) -> Result<(), EvalError> {
    let count = a.name == "extract_count_metric";
    let monotonic = match a.value(0, item)? {
        Value::Bool(b) => b,
        other => return err(format!("{}: monotonic must be a bool, got a {}", a.name, other.type_name())),
    };
    let suffix = a.lit_str(1).unwrap_or(if count { ".count" } else { ".sum" });
    let m = item.metric.as_deref().ok_or_else(|| EvalError(format!("{}: no metric in this context", a.name)))?;
    let point = |attributes: &[KeyValue], start: u64, time: u64, value: number_data_point::Value| NumberDataPoint {
        attributes: attributes.to_vec(),
        start_time_unix_nano: start,
        time_unix_nano: time,
        value: Some(value),
        ..Default::default()
    };
    let (temporality, points): (i32, Vec<NumberDataPoint>) = match &m.data {
        Some(Data::Histogram(h)) => (
            h.aggregation_temporality,
            h.data_points
                .iter()
                .filter_map(|p| {
                    let v = if count {
                        number_data_point::Value::AsInt(i64::try_from(p.count).unwrap_or(i64::MAX))
                    } else {
                        number_data_point::Value::AsDouble(p.sum?)
                    };
                    Some(point(&p.attributes, p.start_time_unix_nano, p.time_unix_nano, v))
                })
                .collect(),
        ),
        Some(Data::ExponentialHistogram(h)) => (
            h.aggregation_temporality,
            h.data_points
                .iter()
                .filter_map(|p| {
                    let v = if count {
                        number_data_point::Value::AsInt(i64::try_from(p.count).unwrap_or(i64::MAX))
                    } else {
                        number_data_point::Value::AsDouble(p.sum?)
                    };
                    Some(point(&p.attributes, p.start_time_unix_nano, p.time_unix_nano, v))
                })
                .collect(),
        ),
        // Summaries are cumulative.
        Some(Data::Summary(s)) => (
            2,
            s.data_points
                .iter()
                .map(|p| {
                    let v = if count {
                        number_data_point::Value::AsInt(i64::try_from(p.count).unwrap_or(i64::MAX))
                    } else {
                        number_data_point::Value::AsDouble(p.sum)
                    };
                    point(&p.attributes, p.start_time_unix_nano, p.time_unix_nano, v)
                })
                .collect(),
        ),
        _ => return err(format!("{} needs a histogram, exponential histogram or summary metric; {:?} is not one", a.name, m.name)),
    };
    if points.is_empty() {
        return Ok(());
    }
    let new = Metric {
        name: format!("{}{suffix}", m.name),
        description: m.description.clone(),
        unit: if count { "1".into() } else { m.unit.clone() },
        data: Some(Data::Sum(Sum { data_points: points, aggregation_temporality: temporality, is_monotonic: monotonic })),
        ..Default::default()
    };
    item.added_metrics.push(new);
    Ok(())
}

/// `aggregate_on_attributes`: points of a gauge or sum reduced to the listed attributes, then
/// merged per distinct attribute set (the first point of a set keeps its timestamps).
fn aggregate(a: &Args, item: &mut Item) -> Result<(), EvalError> {
    use number_data_point::Value as N;
    let function = a.lit_str(0).unwrap_or("sum");
    let keep = a.lit_strs(1);
    let m = item.metric.as_deref_mut().ok_or_else(|| EvalError("aggregate_on_attributes: no metric in this context".into()))?;
    let points = match &mut m.data {
        Some(Data::Gauge(g)) => &mut g.data_points,
        Some(Data::Sum(s)) => &mut s.data_points,
        _ => return err(format!("aggregate_on_attributes needs a gauge or sum metric; {:?} is not one", m.name)),
    };
    // Groups in first-seen order, keyed by their sorted attributes.
    let mut groups: Vec<(String, NumberDataPoint, Vec<N>)> = Vec::new();
    for mut p in std::mem::take(points) {
        p.attributes.retain(|kv| keep.contains(&kv.key.as_str()));
        let mut sorted: Vec<(String, Value)> = Value::from_kvs(&p.attributes).into_map();
        sorted.sort_by(|x, y| x.0.cmp(&y.0));
        let key = Value::Map(sorted).text();
        let v = p.value.take().unwrap_or(N::AsInt(0));
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, _, values)) => values.push(v),
            None => groups.push((key, p, vec![v])),
        }
    }
    for (_, mut p, values) in groups {
        p.value = Some(reduce(function, &values));
        points.push(p);
    }
    Ok(())
}

/// One value from several, integers staying integers unless a double is among them.
fn reduce(function: &str, values: &[number_data_point::Value]) -> number_data_point::Value {
    use number_data_point::Value as N;
    let n = values.len().max(1);
    if function == "count" {
        return N::AsInt(i64::try_from(values.len()).unwrap_or(i64::MAX));
    }
    let ints: Option<Vec<i64>> = values.iter().map(|v| if let N::AsInt(i) = v { Some(*i) } else { None }).collect();
    if let Some(mut ints) = ints {
        ints.sort_unstable();
        let sum = ints.iter().fold(0_i64, |s, x| s.saturating_add(*x));
        return N::AsInt(match function {
            "avg" => sum / i64::try_from(n).unwrap_or(1),
            "min" => ints.first().copied().unwrap_or(0),
            "max" => ints.last().copied().unwrap_or(0),
            "median" if n.is_multiple_of(2) && n >= 2 => ((i128::from(ints[n / 2 - 1]) + i128::from(ints[n / 2])) / 2) as i64,
            "median" => ints.get(n / 2).copied().unwrap_or(0),
            _ => sum,
        });
    }
    let mut ds: Vec<f64> = values
        .iter()
        .map(|v| match v {
            N::AsInt(i) => *i as f64,
            N::AsDouble(d) => *d,
        })
        .collect();
    ds.sort_by(f64::total_cmp);
    let sum: f64 = ds.iter().sum();
    N::AsDouble(match function {
        "avg" => sum / n as f64,
        "min" => ds.first().copied().unwrap_or(0.0),
        "max" => ds.last().copied().unwrap_or(0.0),
        "median" if n.is_multiple_of(2) && n >= 2 => (ds[n / 2 - 1] + ds[n / 2]) / 2.0,
        "median" => ds.get(n / 2).copied().unwrap_or(0.0),
        _ => sum,
    })
}

fn metric_editor(a: &Args, item: &mut Item) -> Result<(), EvalError> {
    let factor = if a.name == "scale_metric" { a.double(0, item)? } else { 1.0 };
    let unit = if a.name == "scale_metric" && a.arg(1).is_some() { Some(a.string(1, item)?) } else { None };
    let monotonic = if a.name == "convert_gauge_to_sum" {
        match a.value(1, item)? {
            Value::Bool(b) => b,
            other => return err(format!("convert_gauge_to_sum: is_monotonic must be a bool, got a {}", other.type_name())),
        }
    } else {
        false
    };
    let temporality = if a.lit_str(0) == Some("delta") { 1 } else { 2 };
    let m = item.metric.as_deref_mut().ok_or_else(|| EvalError(format!("{}: no metric in this context", a.name)))?;
    match a.name {
        "convert_sum_to_gauge" => {
            if let Some(Data::Sum(s)) = &mut m.data {
                m.data = Some(Data::Gauge(Gauge { data_points: std::mem::take(&mut s.data_points) }));
            }
        }
        "convert_gauge_to_sum" => {
            if let Some(Data::Gauge(g)) = &mut m.data {
                m.data =
                    Some(Data::Sum(Sum { data_points: std::mem::take(&mut g.data_points), aggregation_temporality: temporality, is_monotonic: monotonic }));
            }
        }
        _ => {
            let scale_number = |v: &mut Option<number_data_point::Value>| match v {
                Some(number_data_point::Value::AsDouble(d)) => *d *= factor,
                Some(number_data_point::Value::AsInt(i)) => *i = (*i as f64 * factor) as i64,
                None => {}
            };
            match &mut m.data {
                Some(Data::Gauge(g)) => g.data_points.iter_mut().for_each(|p| scale_number(&mut p.value)),
                Some(Data::Sum(s)) => s.data_points.iter_mut().for_each(|p| scale_number(&mut p.value)),
                Some(Data::Histogram(h)) => h.data_points.iter_mut().for_each(|p| {
                    p.sum = p.sum.map(|s| s * factor);
                    p.explicit_bounds.iter_mut().for_each(|b| *b *= factor);
                }),
                Some(Data::Summary(s)) => s.data_points.iter_mut().for_each(|p| {
                    p.sum *= factor;
                    p.quantile_values.iter_mut().for_each(|q| q.value *= factor);
                }),
                Some(Data::ExponentialHistogram(_)) => return err("scale_metric: exponential histograms cannot be scaled"),
                None => {}
            }
            if let Some(u) = unit {
                m.unit = u;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_strings() {
        assert!(glob_match("GET /api/*", "GET /api/users"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "abbc"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("/health", "/healthz"));
    }

    #[test]
    fn formats_like_go() {
        let args = [Value::Str("x".into()), Value::Int(3), Value::Double(1.5)];
        assert_eq!(go_format("%s-%d-%f-%%", &args).unwrap(), "x-3-1.500000-%");
        assert_eq!(go_format("%s %s", &args[..1]).unwrap(), "x %!s(MISSING)");
    }

    #[test]
    fn reductions_keep_integers_integral() {
        use number_data_point::Value as N;
        let ints = [N::AsInt(5), N::AsInt(1), N::AsInt(4), N::AsInt(2)];
        let got: Vec<_> = ["sum", "avg", "min", "max", "median", "count"].iter().map(|f| reduce(f, &ints)).collect();
        assert_eq!(got, [N::AsInt(12), N::AsInt(3), N::AsInt(1), N::AsInt(5), N::AsInt(3), N::AsInt(4)]);
        let mixed = [N::AsInt(1), N::AsDouble(2.5), N::AsInt(4)];
        assert_eq!((reduce("avg", &mixed), reduce("median", &mixed)), (N::AsDouble(2.5), N::AsDouble(2.5)));
        assert_eq!(reduce("median", &[N::AsInt(i64::MAX), N::AsInt(i64::MAX)]), N::AsInt(i64::MAX));
    }

    #[test]
    fn case_conversion_splits_words() {
        assert_eq!(words("httpRequest_countTotal"), ["http", "Request", "count", "Total"]);
        assert_eq!(fnv1a(b"hello"), 0xa430d84680aabd0b_u64 as i64);
    }
}
