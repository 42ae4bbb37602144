//! The standard library: namespaces are objects of functions, plus `constants`,
//! `coalesce`, `json_path` and the deprecated top-level aliases.

use std::collections::HashMap;
use std::sync::OnceLock;

use smol_str::SmolStr;

use crate::error::{PathSeg, ValueError};
use crate::function::{CallError, Function, Param};
use crate::number::Number;
use crate::value::{Object, Str, Type, Value};
use crate::{gofmt, json, jsonpath, yaml};

const S: Param = Param::String;

struct Stdlib {
    /// Each top-level name's value and, for deprecated aliases, the name that replaces it.
    idents: HashMap<&'static str, (Value, Option<&'static str>)>,
}

/// Deprecated top-level names and the names that replace them.
pub const DEPRECATED: &[(&str, &str)] = &[
    ("env", "sys.env"),
    ("nonsensitive", "convert.nonsensitive"),
    ("concat", "array.concat"),
    ("json_decode", "encoding.from_json"),
    ("yaml_decode", "encoding.from_yaml"),
    ("base64_decode", "encoding.from_base64"),
    ("format", "string.format"),
    ("join", "string.join"),
    ("replace", "string.replace"),
    ("split", "string.split"),
    ("to_lower", "string.to_lower"),
    ("to_upper", "string.to_upper"),
    ("trim", "string.trim"),
    ("trim_prefix", "string.trim_prefix"),
    ("trim_suffix", "string.trim_suffix"),
    ("trim_space", "string.trim_space"),
];

/// Full names of experimental functions (rejected by the runtime below the experimental
/// stability level).
pub const EXPERIMENTAL: &[&str] = &["array.combine_maps", "array.group_by"];

/// The replacement of a deprecated top-level name.
pub fn deprecated_replacement(name: &str) -> Option<&'static str> {
    DEPRECATED.iter().find(|(old, _)| *old == name).map(|(_, new)| *new)
}

pub fn is_experimental(full_name: &str) -> bool {
    EXPERIMENTAL.contains(&full_name)
}

/// A standard-library identifier's value.
pub fn lookup(name: &str) -> Option<Value> {
    resolve(name).map(|(v, _)| v.clone())
}

/// A standard-library identifier's value and, for a deprecated alias, its replacement.
pub(crate) fn resolve(name: &str) -> Option<(&'static Value, Option<&'static str>)> {
    stdlib().idents.get(name).map(|(v, replacement)| (v, *replacement))
}

/// Every top-level standard-library name.
pub fn names() -> impl Iterator<Item = &'static str> {
    stdlib().idents.keys().copied()
}

fn stdlib() -> &'static Stdlib {
    static STDLIB: OnceLock<Stdlib> = OnceLock::new();
    STDLIB.get_or_init(build)
}

fn build() -> Stdlib {
    let env = Function::typed("sys.env", "func(string) string", &[S], None, |a| {
        Ok(Value::string(std::env::var_os(a[0].as_text()).map(|v| v.to_string_lossy().into_owned()).unwrap_or_default()))
    });
    let nonsensitive = Function::typed("convert.nonsensitive", "func(alloytypes.Secret) string", &[Param::Secret], None, |a| match &a[0] {
        Value::Secret(s) => Ok(Value::String(s.expose().clone())),
        _ => Ok(Value::string("")),
    });
    let concat = Function::raw("array.concat", "value.RawFunction", array_concat);
    let combine_maps = Function::raw("array.combine_maps", "value.RawFunction", combine_maps);
    let group_by = Function::raw("array.group_by", "value.RawFunction", group_by);
    let from_json = Function::typed("encoding.from_json", "func(string) (interface {}, error)", &[S], None, |a| json::decode(a[0].as_bytes(), false));
    let from_yaml = Function::typed("encoding.from_yaml", "func(string) (interface {}, error)", &[S], None, |a| yaml::decode(a[0].as_bytes()));
    let from_b64 = Function::typed("encoding.from_base64", "func(string) ([]uint8, error)", &[S], None, |a| {
        base64_decode(a[0].as_bytes(), false).map(|b| Value::Bytes(b.into()))
    });
    let from_url_b64 = Function::typed("encoding.from_URLbase64", "func(string) ([]uint8, error)", &[S], None, |a| {
        base64_decode(a[0].as_bytes(), true).map(|b| Value::Bytes(b.into()))
    });
    let to_b64 =
        Function::typed("encoding.to_base64", "func(string) (string, error)", &[S], None, |a| Ok(Value::string(base64_encode(a[0].as_bytes(), false))));
    let to_url_b64 =
        Function::typed("encoding.to_URLbase64", "func(string) (string, error)", &[S], None, |a| Ok(Value::string(base64_encode(a[0].as_bytes(), true))));
    let url_encode = Function::typed("encoding.url_encode", "func(string) (string, error)", &[S], None, |a| Ok(Value::string(query_escape(a[0].as_bytes()))));
    let url_decode = Function::typed("encoding.url_decode", "func(string) (string, error)", &[S], None, |a| query_unescape(a[0].as_bytes()).map(Value::string));
    let to_json = Function::typed("encoding.to_json", "func(interface {}) (string, error)", &[Param::Any], None, |a| {
        let v = crate::convert::to_any(&a[0]);
        match &v {
            Value::Object(_) => json::encode_go(&v).map(Value::string),
            _ => Err("jsonEncode only supports map".into()),
        }
    });
    let path_join = Function::typed("file.path_join", "func(...string) string", &[], Some(S), |a| {
        let parts: Vec<&[u8]> = a.iter().map(|v| v.as_bytes()).collect();
        Ok(Value::string(path_join(&parts)))
    });
    let format = Function::typed("string.format", "func(string, ...interface {}) string", &[S], Some(Param::Any), |a| {
        Ok(Value::string(gofmt::sprintf(a[0].as_bytes(), &a[1..])))
    });
    let join = Function::typed("string.join", "func([]string, string) string", &[Param::ListString, S], None, |a| {
        let sep = a[1].as_bytes();
        let mut out = Vec::new();
        for (i, it) in a[0].items().enumerate() {
            if i > 0 {
                out.extend_from_slice(sep);
            }
            out.extend_from_slice(it.as_bytes());
        }
        Ok(Value::string(out))
    });
    let replace = Function::typed("string.replace", "func(string, string, string) string", &[S, S, S], None, |a| {
        Ok(Value::string(replace_all(a[0].as_bytes(), a[1].as_bytes(), a[2].as_bytes())))
    });
    let split = Function::typed("string.split", "func(string, string) []string", &[S, S], None, |a| {
        Ok(Value::array(split(a[0].as_bytes(), a[1].as_bytes()).into_iter().map(Value::string).collect()))
    });
    let to_lower = Function::typed("string.to_lower", "func(string) string", &[S], None, |a| Ok(Value::string(map_chars(a[0].as_bytes(), simple_lower))));
    let to_upper = Function::typed("string.to_upper", "func(string) string", &[S], None, |a| Ok(Value::string(map_chars(a[0].as_bytes(), simple_upper))));
    let trim = Function::typed("string.trim", "func(string, string) string", &[S, S], None, |a| {
        let cutset: Vec<char> = String::from_utf8_lossy(a[1].as_bytes()).chars().collect();
        Ok(Value::string(trim_func(a[0].as_bytes(), |c| cutset.contains(&c))))
    });
    let trim_prefix = Function::typed("string.trim_prefix", "func(string, string) string", &[S, S], None, |a| {
        let (s, p) = (a[0].as_bytes(), a[1].as_bytes());
        Ok(Value::string(s.strip_prefix(p).unwrap_or(s).to_vec()))
    });
    let trim_suffix = Function::typed("string.trim_suffix", "func(string, string) string", &[S, S], None, |a| {
        let (s, p) = (a[0].as_bytes(), a[1].as_bytes());
        Ok(Value::string(s.strip_suffix(p).unwrap_or(s).to_vec()))
    });
    let trim_space = Function::typed("string.trim_space", "func(string) string", &[S], None, |a| Ok(Value::string(trim_func(a[0].as_bytes(), is_go_space))));
    let json_path = Function::typed("json_path", "func(string, string) ([]interface {}, error)", &[S, S], None, |a| {
        let doc = json::decode(a[0].as_bytes(), true)?;
        jsonpath::query(&doc, &String::from_utf8_lossy(a[1].as_bytes())).map(Value::array)
    });
    let coalesce = Function::raw("coalesce", "value.RawFunction", coalesce);

    // Namespaced functions go into the namespace object their canonical name starts with.
    let namespaced = [
        env,
        nonsensitive,
        concat,
        combine_maps,
        group_by,
        from_json,
        from_yaml,
        from_b64,
        from_url_b64,
        to_json,
        to_b64,
        to_url_b64,
        url_encode,
        url_decode,
        path_join,
        format,
        join,
        replace,
        split,
        to_lower,
        to_upper,
        trim,
        trim_prefix,
        trim_suffix,
        trim_space,
    ];
    let mut namespaces: HashMap<&'static str, Object> = HashMap::new();
    for f in namespaced {
        let (ns, key) = f.name().split_once('.').expect("namespaced function name");
        namespaces.entry(ns).or_default().insert(key, Value::Function(f));
    }
    let mut idents: HashMap<&'static str, (Value, Option<&'static str>)> = HashMap::new();
    // Deprecated aliases are the functions they are replaced by.
    for &(old, new) in DEPRECATED {
        let (ns, key) = new.split_once('.').expect("namespaced replacement");
        let f = namespaces.get(ns).and_then(|o| o.get(key)).expect("deprecated alias of a stdlib function");
        idents.insert(old, (f.clone(), Some(new)));
    }
    for (ns, o) in namespaces {
        idents.insert(ns, (Value::object(o), None));
    }
    idents.insert("constants", (constants(), None));
    idents.insert("coalesce", (Value::Function(coalesce), None));
    idents.insert("json_path", (Value::Function(json_path), None));
    Stdlib { idents }
}

trait ArgText {
    fn as_bytes(&self) -> &[u8];
    fn as_text(&self) -> String;
}

impl ArgText for Value {
    /// The bytes of a converted string argument.
    fn as_bytes(&self) -> &[u8] {
        match self {
            Value::String(s) => s.as_bytes(),
            _ => &[],
        }
    }

    fn as_text(&self) -> String {
        String::from_utf8_lossy(ArgText::as_bytes(self)).into_owned()
    }
}

// ---- constants ----

fn constants() -> Value {
    let mut o = Object::new();
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default();
    o.insert("hostname", Value::string(hostname));
    o.insert("os", Value::string(go_os()));
    o.insert("arch", Value::string(go_arch()));
    o.insert("version", Value::string(normalize_version(env!("CARGO_PKG_VERSION"))));
    Value::object(o)
}

/// Go's GOOS spelling of the host OS.
pub fn go_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

/// Go's GOARCH spelling of the host architecture.
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64",
        other => other,
    }
}

/// `constants.version`: trimmed, `v0.0.0` when empty, lenient semver made canonical.
pub fn normalize_version(v: &str) -> String {
    let v = v.trim();
    if v.is_empty() {
        return "v0.0.0".into();
    }
    let body = v.strip_prefix('v').unwrap_or(v);
    let (core, rest) = match body.find(['-', '+']) {
        Some(i) => (&body[..i], &body[i..]),
        None => (body, ""),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit())) {
        return v.to_string();
    }
    let num = |i: usize| parts.get(i).map(|p| p.trim_start_matches('0')).map(|p| if p.is_empty() { "0" } else { p }).unwrap_or("0").to_string();
    format!("v{}.{}.{}{}", num(0), num(1), num(2), rest)
}

// ---- raw functions ----

fn coalesce(args: &[Value]) -> Result<Value, CallError> {
    for a in args {
        if !is_empty_value(a) {
            return Ok(a.clone());
        }
    }
    Ok(args.last().cloned().unwrap_or_default())
}

/// `coalesce`'s notion of empty: null, zero values, empty arrays and objects.
pub fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Number(n) => n.is_zero(),
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Array(a) => a.is_empty(),
        Value::Bytes(b) => b.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Function(_) => false,
        Value::Secret(s) => s.expose().is_empty(),
        Value::OptionalSecret(os) => os.expose().is_empty() && !os.is_secret,
        Value::Capsule(c) => c.0.is_zero() || c.0.to_object().is_some_and(|o| o.is_empty()),
    }
}

fn array_concat(args: &[Value]) -> Result<Value, CallError> {
    if args.is_empty() {
        return Ok(Value::array(Vec::new()));
    }
    for (i, a) in args.iter().enumerate() {
        if a.ty() != Type::Array {
            return Err(CallError::arg(i, ValueError::type_error(Type::Array, a.ty())));
        }
    }
    if args.len() == 1 {
        return Ok(args[0].clone());
    }
    let mut out = Vec::new();
    for a in args {
        out.extend(a.items());
    }
    Ok(Value::array(out))
}

fn elem_object(v: &Value, arg: usize, i: usize) -> Result<Object, CallError> {
    match v.as_object() {
        Some(o) => Ok(o.into_owned()),
        None => Err(CallError::Arg { index: arg, error: ValueError::type_error(Type::Object, v.ty()).inside(PathSeg::Index(i)).direct(), converting: false }),
    }
}

fn combine_maps(args: &[Value]) -> Result<Value, CallError> {
    if args.len() != 3 && args.len() != 4 {
        return Err(CallError::Plain(format!("combine_maps: expected 3 or 4 arguments, got {}", args.len())));
    }
    let mut sides = Vec::with_capacity(2);
    for (i, side) in args.iter().enumerate().take(2) {
        let Some(items) = (if side.ty() == Type::Array { side.array_items() } else { None }) else {
            return Err(CallError::arg(i, ValueError::type_error(Type::Array, side.ty())));
        };
        let mut objs = Vec::with_capacity(items.len());
        for (j, it) in items.iter().enumerate() {
            objs.push((elem_object(it, i, j)?, it.clone()));
        }
        sides.push(objs);
    }
    let keys = &args[2];
    let Some(keys) = (if keys.ty() == Type::Array { keys.array_items() } else { None }) else {
        return Err(CallError::arg(2, ValueError::type_error(Type::Array, keys.ty())));
    };
    if keys.is_empty() {
        return Err(CallError::arg(2, ValueError::message("combine_maps: merge conditions must not be empty")));
    }
    let mut key_names = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        match k {
            Value::String(s) => key_names.push(s.to_string_lossy().into_owned()),
            _ => {
                return Err(CallError::Arg {
                    index: 2,
                    error: ValueError::type_error(Type::String, k.ty()).inside(PathSeg::Index(i)).direct(),
                    converting: false,
                })
            }
        }
    }
    let passthrough = match args.get(3) {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(CallError::arg(3, ValueError::type_error(Type::Bool, other.ty()))),
    };
    let (lhs, rhs) = (&sides[0], &sides[1]);
    let mut out = Vec::new();
    for (l, lval) in lhs {
        for (r, _) in rhs {
            let joins = key_names.iter().all(|k| match (l.get(k), r.get(k)) {
                (Some(a), Some(b)) => strict_equal(a, b),
                _ => false,
            });
            if joins {
                let mut m = Object::new();
                for (k, v) in l.iter().chain(r.iter()) {
                    m.insert(k.clone(), v.clone());
                }
                out.push(Value::object(m));
            } else if passthrough {
                out.push(lval.clone());
            }
        }
    }
    Ok(Value::array(out))
}

/// Same type, same number kind, same representation.
fn strict_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x, y) {
            (Number::Int(x), Number::Int(y)) => x == y,
            (Number::Uint(x), Number::Uint(y)) => x == y,
            (Number::Float(x), Number::Float(y)) => x == y,
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| strict_equal(a, b)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| strict_equal(v, w))),
        (Value::Function(_), _) => false,
        _ => a.ty() == b.ty() && crate::value::values_equal(a, b),
    }
}

fn group_by(args: &[Value]) -> Result<Value, CallError> {
    if args.len() != 3 {
        return Err(CallError::Plain(format!("group_by: expected 3 arguments, got {}", args.len())));
    }
    if args[0].ty() != Type::Array {
        return Err(CallError::arg(0, ValueError::type_error(Type::Array, args[0].ty())));
    }
    let Value::String(key) = &args[1] else {
        return Err(CallError::arg(1, ValueError::type_error(Type::String, args[1].ty())));
    };
    let Value::Bool(drop_missing) = args[2] else {
        return Err(CallError::arg(2, ValueError::type_error(Type::Bool, args[2].ty())));
    };
    let key = SmolStr::new(key.to_string_lossy());
    let mut order: Vec<Str> = Vec::new();
    let mut groups: HashMap<Str, Vec<Value>> = HashMap::new();
    for (i, item) in args[0].items().enumerate() {
        let obj = elem_object(&item, 0, i)?;
        let item_val = match item {
            Value::Object(_) => item,
            _ => Value::object(obj.clone()),
        };
        let group = match obj.get(&key) {
            None if drop_missing => continue,
            None => Str::default(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(CallError::Arg {
                    index: 0,
                    error: ValueError::type_error(Type::String, other.ty()).inside(PathSeg::Field(key.clone())).inside(PathSeg::Index(i)).direct(),
                    converting: false,
                })
            }
        };
        if !groups.contains_key(&group) {
            order.push(group.clone());
        }
        groups.entry(group).or_default().push(item_val);
    }
    let mut out = Vec::with_capacity(order.len());
    for g in order {
        let items = groups.remove(&g).unwrap_or_default();
        let mut o = Object::new();
        o.insert(key.clone(), Value::String(g));
        o.insert("items", Value::array(items));
        out.push(Value::object(o));
    }
    Ok(Value::array(out))
}

// ---- strings ----

fn replace_all(s: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    if old.is_empty() {
        out.extend_from_slice(new);
        for ch in utf8_chunks(s) {
            out.extend_from_slice(ch);
            out.extend_from_slice(new);
        }
        return out;
    }
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(old) {
            out.extend_from_slice(new);
            i += old.len();
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// Splits bytes into UTF-8 characters (each invalid byte on its own), as Go's range does.
fn utf8_chunks(s: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let n = utf8_len(&s[i..]);
        out.push(&s[i..i + n]);
        i += n;
    }
    out
}

fn utf8_len(s: &[u8]) -> usize {
    let want = match s[0] {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return 1,
    };
    if s.len() >= want && std::str::from_utf8(&s[..want]).is_ok() {
        want
    } else {
        1
    }
}

fn split(s: &[u8], sep: &[u8]) -> Vec<Vec<u8>> {
    if sep.is_empty() {
        return utf8_chunks(s).into_iter().map(|c| c.to_vec()).collect();
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + sep.len() <= s.len() {
        if &s[i..i + sep.len()] == sep {
            out.push(s[start..i].to_vec());
            i += sep.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(s[start..].to_vec());
    out
}

fn map_chars(s: &[u8], f: fn(char) -> char) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for chunk in utf8_chunks(s) {
        match std::str::from_utf8(chunk).ok().and_then(|c| c.chars().next()) {
            Some(c) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(f(c).encode_utf8(&mut buf).as_bytes());
            }
            None => out.extend_from_slice("\u{fffd}".as_bytes()),
        }
    }
    out
}

/// Unicode simple lowercase mapping (one character to one character).
fn simple_lower(c: char) -> char {
    if c == '\u{130}' {
        return 'i';
    }
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

fn simple_upper(c: char) -> char {
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

fn is_go_space(c: char) -> bool {
    // Go's unicode.IsSpace is the White_Space property, as Rust's is_whitespace.
    c.is_whitespace()
}

fn trim_func(s: &[u8], f: impl Fn(char) -> bool) -> Vec<u8> {
    let chunks = utf8_chunks(s);
    let test = |c: &[u8]| std::str::from_utf8(c).ok().and_then(|x| x.chars().next()).is_some_and(&f);
    let start = chunks.iter().position(|c| !test(c)).unwrap_or(chunks.len());
    let end = chunks.iter().rposition(|c| !test(c)).map(|i| i + 1).unwrap_or(start);
    chunks[start..end.max(start)].concat()
}

// ---- encoding ----

const STD_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Go's padded base64 encoding (standard or URL alphabet).
pub(crate) fn base64_encode(s: &[u8], url: bool) -> String {
    let alpha = if url { URL_ALPHABET } else { STD_ALPHABET };
    let mut out = String::with_capacity(s.len().div_ceil(3) * 4);
    for chunk in s.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(alpha[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Go's padded base64 decoding (newlines are skipped; errors name the offending byte).
fn base64_decode(src: &[u8], url: bool) -> Result<Vec<u8>, String> {
    let alpha = if url { URL_ALPHABET } else { STD_ALPHABET };
    let mut map = [0xffu8; 256];
    for (i, &c) in alpha.iter().enumerate() {
        map[c as usize] = i as u8;
    }
    let corrupt = |at: usize| format!("illegal base64 data at input byte {at}");
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    loop {
        let mut dbuf = [0u8; 4];
        let mut dlen = 4;
        let mut j = 0;
        let mut finished = false;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(corrupt(si - j));
            }
            let c = src[si];
            si += 1;
            let v = map[c as usize];
            if v != 0xff {
                dbuf[j] = v;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' {
                return Err(corrupt(si - 1));
            }
            // Padding.
            match j {
                0 | 1 => return Err(corrupt(si - 1)),
                2 => {
                    while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                        si += 1;
                    }
                    if si == src.len() {
                        return Err(corrupt(src.len()));
                    }
                    if src[si] != b'=' {
                        return Err(corrupt(si - 1));
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                si += 1;
            }
            if si < src.len() {
                return Err(corrupt(si));
            }
            dlen = j;
            finished = true;
            break;
        }
        let val = (dbuf[0] as u32) << 18 | (dbuf[1] as u32) << 12 | (dbuf[2] as u32) << 6 | dbuf[3] as u32;
        let bytes = [(val >> 16) as u8, (val >> 8) as u8, val as u8];
        out.extend_from_slice(&bytes[..dlen - 1]);
        if finished {
            return Ok(out);
        }
    }
}

fn query_escape(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn query_unescape(s: &[u8]) -> Result<Vec<u8>, String> {
    let hex = |c: u8| (c as char).to_digit(16);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                let (h, l) = if i + 2 < s.len() { (hex(s[i + 1]), hex(s[i + 2])) } else { (None, None) };
                match (h, l) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        let end = (i + 3).min(s.len());
                        let bad = String::from_utf8_lossy(&s[i..end]).into_owned();
                        return Err(format!("invalid URL escape {}", syntax::quote::go_quote(&bad)));
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

// ---- file ----

/// Go's `filepath.Join` with `/` separators.
fn path_join(parts: &[&[u8]]) -> Vec<u8> {
    let nonempty: Vec<&[u8]> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
    if nonempty.is_empty() {
        return Vec::new();
    }
    clean_path(&nonempty.join(&b'/'))
}

/// Go's `path.Clean`.
fn clean_path(p: &[u8]) -> Vec<u8> {
    if p.is_empty() {
        return b".".to_vec();
    }
    let rooted = p[0] == b'/';
    let mut parts: Vec<&[u8]> = Vec::new();
    for seg in p.split(|&c| c == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => {
                if parts.last().is_some_and(|l| *l != b"..") {
                    parts.pop();
                } else if !rooted {
                    parts.push(seg);
                }
            }
            _ => parts.push(seg),
        }
    }
    let body = parts.join(&b'/');
    match (rooted, body.is_empty()) {
        (true, _) => [b"/".as_slice(), &body].concat(),
        (false, true) => b".".to_vec(),
        (false, false) => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_go() {
        assert_eq!(base64_decode(b"aGk=", false).unwrap(), b"hi");
        assert_eq!(base64_decode(b"aGk", false).unwrap_err(), "illegal base64 data at input byte 0");
        assert_eq!(base64_decode(b"-_8=", true).unwrap(), vec![251, 255]);
        assert_eq!(base64_encode(b"\xff\xfe", true), "__4=");
        assert_eq!(base64_encode(b"1", false), "MQ==");
    }

    #[test]
    fn paths() {
        assert_eq!(path_join(&[b"/a/../b/./c/"]), b"/b/c");
        assert_eq!(path_join(&[b"a/", b"/b"]), b"a/b");
        assert_eq!(path_join(&[b""]), b"");
        assert_eq!(clean_path(b"../a/.."), b"..");
    }

    #[test]
    fn url() {
        assert_eq!(query_escape("a b&c=d/é~*".as_bytes()), "a+b%26c%3Dd%2F%C3%A9~%2A");
        assert_eq!(query_unescape(b"%zz").unwrap_err(), "invalid URL escape \"%zz\"");
        assert_eq!(query_unescape(b"%4").unwrap_err(), "invalid URL escape \"%4\"");
        assert_eq!(query_unescape(b"a+b%20c").unwrap(), b"a b c");
    }

    #[test]
    fn deprecated_aliases_are_their_replacements() {
        for &(old, new) in DEPRECATED {
            match resolve(old) {
                Some((Value::Function(f), Some(replacement))) => {
                    assert_eq!(f.name(), new);
                    assert_eq!(replacement, new);
                }
                other => panic!("{old}: {other:?}"),
            }
        }
        let (_, warnings) = crate::eval_source("to_upper(string.to_lower(\"x\"))", &crate::Scope::new()).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].message.ends_with("(to_upper is replaced by string.to_upper)"), "{}", warnings[0].message);
    }

    #[test]
    fn versions() {
        assert_eq!(normalize_version(""), "v0.0.0");
        assert_eq!(normalize_version("1.2"), "v1.2.0");
        assert_eq!(normalize_version("v1.2.3-rc.1"), "v1.2.3-rc.1");
        assert_eq!(normalize_version("main"), "main");
    }
}
