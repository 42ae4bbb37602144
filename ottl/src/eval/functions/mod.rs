//! The editors and converters of the catalogue: argument access shared by all of them here,
//! the functions in `converters`, `editors` and `metrics` (the metric-context editors).

use md5::Md5;
use regex::{Captures, Regex};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::ast::{Arg, Call, ExprKind, Path};

use super::expr::{args, value};
use super::item::Item;
use super::value::{hex, Value};
use super::EvalError;

mod converters;
mod editors;
mod metrics;
mod text;

pub use converters::converter;
pub use editors::editor;

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

fn base64_engine(variant: &str) -> &'static base64::engine::GeneralPurpose {
    use base64::engine::general_purpose as gp;
    match variant {
        "base64-raw" => &gp::STANDARD_NO_PAD,
        "base64-url" => &gp::URL_SAFE,
        "base64-raw-url" => &gp::URL_SAFE_NO_PAD,
        _ => &gp::STANDARD,
    }
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
    fn fnv_is_64_bit_fnv1a() {
        assert_eq!(fnv1a(b"hello"), 0xa430d84680aabd0b_u64 as i64);
    }
}
