//! The part of Go's `text/template` the `template` and `replace` stages use: text, `{{ }}`
//! actions with `-` trimming, pipelines (`a | f`), fields of the data (`.name`, `.Value`),
//! string/number/bool literals, parenthesised pipelines, and `if`/`else`/`end`; functions are
//! upstream's overrides (`ToLower`, `Replace`, `Sha2Hash`, ...) and the sprig functions cases
//! use.

use std::collections::BTreeMap;

use prom::relabel::GoRegex;
use sha2::{Digest, Sha256};
use sha3::Sha3_256;

/// The functions templates may call (checked when the template is parsed, as Go does).
const FUNCTIONS: &[&str] = &[
    "ToLower",
    "lower",
    "ToUpper",
    "upper",
    "TrimSpace",
    "trim",
    "Replace",
    "replace",
    "Trim",
    "TrimLeft",
    "TrimRight",
    "TrimPrefix",
    "TrimSuffix",
    "Sha2Hash",
    "Hash",
    "regexReplaceAll",
    "regexReplaceAllLiteral",
    "add",
    "sub",
    "eq",
    "ne",
    "not",
    "and",
    "or",
    "contains",
    "hasPrefix",
    "hasSuffix",
    "default",
    "print",
];

/// Nesting of `if` blocks and parentheses accepted.
const MAX_NESTING: usize = 64;

#[derive(Clone, Debug, PartialEq)]
enum Arg {
    Field(String),
    Dot,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Ident(String),
    Pipe(Pipe),
}

type Cmd = Vec<Arg>;
type Pipe = Vec<Cmd>;

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Text(String),
    Action(Pipe),
    If(Pipe, Vec<Node>, Vec<Node>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Template(Vec<Node>);

/// A value during execution.
#[derive(Clone, Debug, PartialEq)]
pub enum TVal {
    Nil,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl TVal {
    fn text(&self) -> String {
        match self {
            TVal::Nil => "<no value>".into(),
            TVal::Str(s) => s.clone(),
            TVal::Int(i) => i.to_string(),
            TVal::Float(f) => super::value::format_float(*f),
            TVal::Bool(b) => b.to_string(),
        }
    }

    fn truthy(&self) -> bool {
        match self {
            TVal::Nil => false,
            TVal::Str(s) => !s.is_empty(),
            TVal::Int(i) => *i != 0,
            TVal::Float(f) => *f != 0.0,
            TVal::Bool(b) => *b,
        }
    }

    fn string(&self) -> Result<String, String> {
        match self {
            TVal::Str(s) => Ok(s.clone()),
            other => Err(format!("wrong type for value; expected string; got {other:?}")),
        }
    }

    fn int(&self) -> Result<i64, String> {
        match self {
            TVal::Int(i) => Ok(*i),
            TVal::Float(f) => Ok(*f as i64),
            TVal::Str(s) => Ok(s.parse().unwrap_or(0)),
            TVal::Bool(b) => Ok(i64::from(*b)),
            TVal::Nil => Ok(0),
        }
    }
}

impl Template {
    pub fn parse(src: &str) -> Result<Template, String> {
        let tokens = lex(src)?;
        let mut pos = 0;
        let (nodes, end) = parse_list(&tokens, &mut pos, 0)?;
        if end.is_some() {
            return Err("template: unexpected {{end}} or {{else}}".into());
        }
        Ok(Template(nodes))
    }

    pub fn execute(&self, data: &BTreeMap<String, TVal>) -> Result<String, String> {
        let mut out = String::new();
        exec_list(&self.0, data, &mut out)?;
        Ok(out)
    }
}

enum Tok {
    Text(String),
    Action(String),
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut rest = src;
    let mut trim_next = false;
    while let Some(start) = rest.find("{{") {
        let mut text = &rest[..start];
        if trim_next {
            text = text.trim_start();
        }
        let after = &rest[start + 2..];
        let trim_before = after.starts_with("- ") || after.starts_with("-\t") || after.starts_with("-\n");
        if trim_before {
            text = text.trim_end();
        }
        if !text.is_empty() {
            toks.push(Tok::Text(text.to_string()));
        }
        let body_start = if trim_before { 1 } else { 0 };
        let end = find_close(&after[body_start..]).ok_or("template: unclosed action")? + body_start;
        let mut body = &after[body_start..end];
        trim_next = body.ends_with(" -") || body.ends_with("\t-") || body.ends_with("\n-");
        if trim_next {
            body = &body[..body.len() - 1];
        }
        let body = body.trim();
        if !(body.starts_with("/*") && body.ends_with("*/")) {
            toks.push(Tok::Action(body.to_string()));
        }
        rest = &after[end + 2..];
    }
    let text = if trim_next { rest.trim_start() } else { rest };
    if !text.is_empty() {
        toks.push(Tok::Text(text.to_string()));
    }
    Ok(toks)
}

/// The `}}` closing an action, skipping quoted strings.
fn find_close(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
            }
            b'}' if b[i + 1] == b'}' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Nodes up to an `{{else}}` or `{{end}}` (returned) or the end.
fn parse_list(toks: &[Tok], pos: &mut usize, depth: usize) -> Result<(Vec<Node>, Option<String>), String> {
    if depth > MAX_NESTING {
        return Err("template: nesting too deep".into());
    }
    let mut nodes = Vec::new();
    while *pos < toks.len() {
        let t = &toks[*pos];
        *pos += 1;
        match t {
            Tok::Text(s) => nodes.push(Node::Text(s.clone())),
            Tok::Action(a) if a == "end" || a == "else" => return Ok((nodes, Some(a.clone()))),
            Tok::Action(a) if a.starts_with("if ") => {
                let cond = parse_pipe(&a[3..], depth)?;
                let (then, end) = parse_list(toks, pos, depth + 1)?;
                let els = match end.as_deref() {
                    Some("else") => {
                        let (els, end) = parse_list(toks, pos, depth + 1)?;
                        if end.as_deref() != Some("end") {
                            return Err("template: missing {{end}}".into());
                        }
                        els
                    }
                    Some("end") => Vec::new(),
                    _ => return Err("template: unexpected EOF".into()),
                };
                nodes.push(Node::If(cond, then, els));
            }
            Tok::Action(a) => nodes.push(Node::Action(parse_pipe(a, depth)?)),
        }
    }
    Ok((nodes, None))
}

fn parse_pipe(s: &str, depth: usize) -> Result<Pipe, String> {
    if depth > MAX_NESTING {
        return Err("template: nesting too deep".into());
    }
    let mut pipe = Vec::new();
    let mut cmd = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'|' => {
                if cmd.is_empty() {
                    return Err("template: missing command".into());
                }
                pipe.push(std::mem::take(&mut cmd));
                i += 1;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let lit: String =
                    serde_json::from_str(s.get(i..=j).ok_or("template: unterminated quoted string")?).map_err(|e| format!("template: bad string: {e}"))?;
                cmd.push(Arg::Str(lit));
                i = j + 1;
            }
            b'`' => {
                let end = s[i + 1..].find('`').ok_or("template: unterminated raw string")? + i + 1;
                cmd.push(Arg::Str(s[i + 1..end].to_string()));
                i = end + 1;
            }
            b'(' => {
                let mut level = 0;
                let mut j = i;
                while j < b.len() {
                    match b[j] {
                        b'(' => level += 1,
                        b')' => {
                            level -= 1;
                            if level == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                if j >= b.len() {
                    return Err("template: unclosed left paren".into());
                }
                cmd.push(Arg::Pipe(parse_pipe(&s[i + 1..j], depth + 1)?));
                i = j + 1;
            }
            _ => {
                let start = i;
                while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | b'|' | b'(' | b')') {
                    i += 1;
                }
                let word = &s[start..i];
                cmd.push(if word == "." {
                    Arg::Dot
                } else if let Some(f) = word.strip_prefix('.') {
                    Arg::Field(f.to_string())
                } else if word == "true" || word == "false" {
                    Arg::Bool(word == "true")
                } else if let Ok(n) = word.parse::<i64>() {
                    Arg::Int(n)
                } else if let Ok(f) = word.parse::<f64>() {
                    Arg::Float(f)
                } else if word.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    if !FUNCTIONS.contains(&word) {
                        return Err(format!("template: function {word:?} not defined"));
                    }
                    Arg::Ident(word.to_string())
                } else {
                    return Err(format!("template: unexpected {word:?}"));
                });
            }
        }
    }
    if cmd.is_empty() {
        return Err("template: missing value for command".into());
    }
    pipe.push(cmd);
    Ok(pipe)
}

fn exec_list(nodes: &[Node], data: &BTreeMap<String, TVal>, out: &mut String) -> Result<(), String> {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Action(p) => out.push_str(&eval_pipe(p, data)?.text()),
            Node::If(c, then, els) => {
                if eval_pipe(c, data)?.truthy() {
                    exec_list(then, data, out)?;
                } else {
                    exec_list(els, data, out)?;
                }
            }
        }
    }
    Ok(())
}

fn eval_pipe(p: &Pipe, data: &BTreeMap<String, TVal>) -> Result<TVal, String> {
    let mut prev: Option<TVal> = None;
    for cmd in p {
        prev = Some(eval_cmd(cmd, data, prev)?);
    }
    prev.ok_or_else(|| "template: empty pipeline".into())
}

fn eval_arg(a: &Arg, data: &BTreeMap<String, TVal>) -> Result<TVal, String> {
    Ok(match a {
        Arg::Field(f) => data.get(f).cloned().unwrap_or(TVal::Nil),
        Arg::Dot => TVal::Str(format!("map{data:?}")),
        Arg::Str(s) => TVal::Str(s.clone()),
        Arg::Int(i) => TVal::Int(*i),
        Arg::Float(f) => TVal::Float(*f),
        Arg::Bool(b) => TVal::Bool(*b),
        Arg::Ident(name) => call(name, &[])?,
        Arg::Pipe(p) => eval_pipe(p, data)?,
    })
}

fn eval_cmd(cmd: &Cmd, data: &BTreeMap<String, TVal>, prev: Option<TVal>) -> Result<TVal, String> {
    match cmd.first() {
        Some(Arg::Ident(name)) => {
            let mut args = cmd[1..].iter().map(|a| eval_arg(a, data)).collect::<Result<Vec<_>, _>>()?;
            args.extend(prev);
            call(name, &args)
        }
        Some(a) if cmd.len() == 1 && prev.is_none() => eval_arg(a, data),
        _ => Err("template: can't give argument to non-function".into()),
    }
}

fn arity(name: &str, args: &[TVal], n: usize) -> Result<(), String> {
    if args.len() == n {
        Ok(())
    } else {
        Err(format!("template: wrong number of args for {name}: want {n} got {}", args.len()))
    }
}

fn num(v: &TVal) -> f64 {
    match v {
        TVal::Int(i) => *i as f64,
        TVal::Float(f) => *f,
        TVal::Str(s) => s.parse().unwrap_or(0.0),
        TVal::Bool(b) => f64::from(u8::from(*b)),
        TVal::Nil => 0.0,
    }
}

fn equal(a: &TVal, b: &TVal) -> Result<bool, String> {
    Ok(match (a, b) {
        (TVal::Str(x), TVal::Str(y)) => x == y,
        (TVal::Int(_) | TVal::Float(_), TVal::Int(_) | TVal::Float(_)) => num(a) == num(b),
        (TVal::Bool(x), TVal::Bool(y)) => x == y,
        (TVal::Nil, _) | (_, TVal::Nil) => return Err("error calling eq: invalid type for comparison".into()),
        _ => return Err("error calling eq: incompatible types for comparison".into()),
    })
}

/// Go's `regexp.ReplaceAllString` with `$1`/`${name}` expansion.
fn regex_replace(re: &str, s: &str, repl: &str, literal: bool) -> Result<String, String> {
    let re = GoRegex::new(re).map_err(|e| e.to_string())?;
    let mut out = String::new();
    let mut last = 0;
    for caps in re.regex().captures_iter(s) {
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&s[last..m.start()]);
        if literal {
            out.push_str(repl);
        } else {
            caps.expand(repl, &mut out);
        }
        last = m.end();
    }
    out.push_str(&s[last..]);
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn call(name: &str, a: &[TVal]) -> Result<TVal, String> {
    let s = |i: usize| a.get(i).ok_or_else(|| format!("template: missing argument for {name}")).and_then(TVal::string);
    let one = |f: fn(&str) -> String| -> Result<TVal, String> {
        arity(name, a, 1)?;
        Ok(TVal::Str(f(&s(0)?)))
    };
    match name {
        "ToLower" | "lower" => one(|x| x.to_lowercase()),
        "ToUpper" | "upper" => one(|x| x.to_uppercase()),
        "TrimSpace" | "trim" => one(|x| x.trim().to_string()),
        "Replace" => {
            arity(name, a, 4)?;
            let (src, old, new, n) = (s(0)?, s(1)?, s(2)?, a[3].int()?);
            Ok(TVal::Str(if n < 0 { src.replace(&old, &new) } else { src.replacen(&old, &new, n as usize) }))
        }
        "replace" => {
            arity(name, a, 3)?;
            Ok(TVal::Str(s(2)?.replace(&s(0)?, &s(1)?)))
        }
        "Trim" => {
            arity(name, a, 2)?;
            let cut = s(1)?;
            Ok(TVal::Str(s(0)?.trim_matches(|c| cut.contains(c)).to_string()))
        }
        "TrimLeft" => {
            arity(name, a, 2)?;
            let cut = s(1)?;
            Ok(TVal::Str(s(0)?.trim_start_matches(|c| cut.contains(c)).to_string()))
        }
        "TrimRight" => {
            arity(name, a, 2)?;
            let cut = s(1)?;
            Ok(TVal::Str(s(0)?.trim_end_matches(|c| cut.contains(c)).to_string()))
        }
        "TrimPrefix" => {
            arity(name, a, 2)?;
            let (v, p) = (s(0)?, s(1)?);
            Ok(TVal::Str(v.strip_prefix(p.as_str()).unwrap_or(&v).to_string()))
        }
        "TrimSuffix" => {
            arity(name, a, 2)?;
            let (v, p) = (s(0)?, s(1)?);
            Ok(TVal::Str(v.strip_suffix(p.as_str()).unwrap_or(&v).to_string()))
        }
        "Sha2Hash" => {
            arity(name, a, 2)?;
            let mut h = Sha256::new();
            h.update(s(0)?.as_bytes());
            h.update(s(1)?.as_bytes());
            Ok(TVal::Str(hex(&h.finalize())))
        }
        "Hash" => {
            arity(name, a, 2)?;
            let mut h = Sha3_256::new();
            h.update(s(0)?.as_bytes());
            h.update(s(1)?.as_bytes());
            Ok(TVal::Str(hex(&h.finalize())))
        }
        "regexReplaceAll" | "regexReplaceAllLiteral" => {
            arity(name, a, 3)?;
            Ok(TVal::Str(regex_replace(&s(0)?, &s(1)?, &s(2)?, name.ends_with("Literal"))?))
        }
        "add" => Ok(TVal::Int(a.iter().map(|v| num(v) as i64).sum())),
        "sub" => {
            arity(name, a, 2)?;
            Ok(TVal::Int(num(&a[0]) as i64 - num(&a[1]) as i64))
        }
        "eq" => {
            let first = a.first().ok_or("template: missing argument for eq")?;
            for other in &a[1..] {
                if equal(first, other)? {
                    return Ok(TVal::Bool(true));
                }
            }
            Ok(TVal::Bool(false))
        }
        "ne" => {
            arity(name, a, 2)?;
            Ok(TVal::Bool(!equal(&a[0], &a[1])?))
        }
        "not" => {
            arity(name, a, 1)?;
            Ok(TVal::Bool(!a[0].truthy()))
        }
        "and" => Ok(a.iter().find(|v| !v.truthy()).or(a.last()).cloned().unwrap_or(TVal::Nil)),
        "or" => Ok(a.iter().find(|v| v.truthy()).or(a.last()).cloned().unwrap_or(TVal::Nil)),
        "contains" => {
            arity(name, a, 2)?;
            Ok(TVal::Bool(s(1)?.contains(s(0)?.as_str())))
        }
        "hasPrefix" => {
            arity(name, a, 2)?;
            Ok(TVal::Bool(s(1)?.starts_with(s(0)?.as_str())))
        }
        "hasSuffix" => {
            arity(name, a, 2)?;
            Ok(TVal::Bool(s(1)?.ends_with(s(0)?.as_str())))
        }
        "default" => {
            let given = a.get(1).filter(|v| v.truthy());
            Ok(given.or(a.first()).cloned().unwrap_or(TVal::Nil))
        }
        "print" => Ok(TVal::Str(a.iter().map(TVal::text).collect::<Vec<_>>().join(""))),
        _ => Err(format!("template: function {name:?} not defined")),
    }
}
