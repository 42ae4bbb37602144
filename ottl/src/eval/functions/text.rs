//! Text helpers of the converters: case conversion, Go's formatting verbs, key=value pairs.

use super::err;
use crate::eval::value::Value;
use crate::eval::EvalError;

pub(super) fn words(s: &str) -> Vec<String> {
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

pub(super) fn capitalise(w: &str) -> String {
    let mut cs = w.chars();
    match cs.next() {
        Some(f) => f.to_uppercase().chain(cs.flat_map(char::to_lowercase)).collect(),
        None => String::new(),
    }
}

/// Go's `fmt.Sprintf` for the verbs Format supports: %s %v %d %f %q and %%.
pub(super) fn go_format(fmt: &str, args: &[Value]) -> Result<String, EvalError> {
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

pub(super) fn parse_key_value(s: &str, delimiter: &str, pair_delimiter: &str) -> Result<Value, EvalError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        let args = [Value::Str("x".into()), Value::Int(3), Value::Double(1.5)];
        assert_eq!(go_format("%s-%d-%f-%%", &args).unwrap(), "x-3-1.500000-%");
        assert_eq!(go_format("%s %s", &args[..1]).unwrap(), "x %!s(MISSING)");
    }

    #[test]
    fn case_conversion_splits_words() {
        assert_eq!(words("httpRequest_countTotal"), ["http", "Request", "count", "Total"]);
    }
}
