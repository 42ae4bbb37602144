//! Parsing a template: text and `{{ }}` actions (with `-` trimming and comments), then each
//! action's keyword and pipeline. Unknown functions and undefined variables are errors here,
//! as in Go.

use super::funcs::FUNCTIONS;
use super::MAX_NESTING;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Node {
    Text(String),
    /// Prints its pipeline, unless the pipeline declares or assigns variables.
    Action(Pipe),
    /// `{{if}}`; an `{{else if}}` is an `If` alone in `els`.
    If {
        cond: Pipe,
        then: Vec<Node>,
        els: Vec<Node>,
    },
    /// `{{with}}`; an `{{else with}}` is a `With` alone in `els`.
    With {
        value: Pipe,
        then: Vec<Node>,
        els: Vec<Node>,
    },
    Range {
        value: Pipe,
        body: Vec<Node>,
        els: Vec<Node>,
    },
    Break,
    Continue,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Pipe {
    /// Variables the pipeline declares (`:=`) or, when `!declare`, assigns (`=`).
    pub vars: Vec<String>,
    pub declare: bool,
    pub cmds: Vec<Cmd>,
}

pub(super) type Cmd = Vec<Arg>;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Arg {
    Dot,
    /// `.a.b`: fields of the dot.
    Field(Vec<String>),
    /// `$x.a.b` (`$` is the data).
    Var(String, Vec<String>),
    /// `(pipeline).a.b`
    Pipe(Box<Pipe>, Vec<String>),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    Func(String),
}

pub(super) fn parse(src: &str) -> Result<Vec<Node>, String> {
    let mut p = Parser { toks: lex(src)?, pos: 0, vars: vec!["$".into()], ranges: 0 };
    let (nodes, stop) = p.list(0)?;
    match stop {
        None => Ok(nodes),
        Some(Stop::End) => Err("template: unexpected {{end}}".into()),
        Some(Stop::Else(_)) => Err("template: unexpected {{else}}".into()),
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
        let trim_before = after.len() > 1 && after.starts_with('-') && after[1..].starts_with([' ', '\t', '\n', '\r']);
        if trim_before {
            text = text.trim_end();
        }
        if !text.is_empty() {
            toks.push(Tok::Text(text.to_string()));
        }
        let body_start = usize::from(trim_before);
        let end = find_close(&after[body_start..]).ok_or("template: unclosed action")? + body_start;
        let mut body = &after[body_start..end];
        trim_next = body.len() > 1 && body.ends_with('-') && body[..body.len() - 1].ends_with([' ', '\t', '\n', '\r']);
        if trim_next {
            body = &body[..body.len() - 1];
        }
        let body = body.trim();
        if body.starts_with("/*") {
            if !body.ends_with("*/") {
                return Err("template: unclosed comment".into());
            }
        } else {
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

/// The `}}` closing an action, skipping quoted strings, characters and comments.
fn find_close(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
            }
            b'/' if b[i + 1] == b'*' => i = s[i + 2..].find("*/").map(|e| i + 2 + e + 1)?,
            b'}' if b[i + 1] == b'}' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// What ended a list of nodes.
enum Stop {
    End,
    /// `{{else}}`, with what follows `else` (`if ...`, `with ...`, or nothing).
    Else(String),
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    /// Variables in scope, innermost last.
    vars: Vec<String>,
    /// `range` blocks around the current point.
    ranges: usize,
}

/// The keyword an action starts with, and the rest of it.
fn keyword(body: &str) -> (&str, &str) {
    let n = body.bytes().take_while(|c| c.is_ascii_alphanumeric() || *c == b'_').count();
    let (word, rest) = body.split_at(n);
    match word {
        "if" | "else" | "end" | "with" | "range" | "break" | "continue" | "define" | "template" | "block" => (word, rest.trim()),
        _ => ("", body),
    }
}

impl Parser {
    fn list(&mut self, depth: usize) -> Result<(Vec<Node>, Option<Stop>), String> {
        if depth > MAX_NESTING {
            return Err("template: nesting too deep".into());
        }
        let mut nodes = Vec::new();
        while self.pos < self.toks.len() {
            let body = match &self.toks[self.pos] {
                Tok::Text(s) => {
                    nodes.push(Node::Text(s.clone()));
                    self.pos += 1;
                    continue;
                }
                Tok::Action(a) => a.clone(),
            };
            self.pos += 1;
            let (word, rest) = keyword(&body);
            match word {
                "end" if rest.is_empty() => return Ok((nodes, Some(Stop::End))),
                "else" => return Ok((nodes, Some(Stop::Else(rest.to_string())))),
                "if" | "with" | "range" => nodes.push(self.control(word, rest, depth)?),
                "break" | "continue" if rest.is_empty() => {
                    if self.ranges == 0 {
                        return Err(format!("template: {{{{{word}}}}} outside {{{{range}}}}"));
                    }
                    nodes.push(if word == "break" { Node::Break } else { Node::Continue });
                }
                "" => nodes.push(Node::Action(self.pipe(&body, depth, false)?)),
                _ => return Err(format!("template: unsupported action {{{{{body}}}}}")),
            }
        }
        Ok((nodes, None))
    }

    /// `if`, `with` or `range` after its keyword, up to and including its `{{end}}`.
    fn control(&mut self, word: &str, rest: &str, depth: usize) -> Result<Node, String> {
        let scope = self.vars.len();
        let value = self.pipe(rest, depth, word == "range")?;
        if word == "range" {
            self.ranges += 1;
        }
        let body = self.list(depth + 1);
        if word == "range" {
            self.ranges -= 1;
        }
        let (body, stop) = body?;
        let els = match stop {
            Some(Stop::End) => Vec::new(),
            Some(Stop::Else(chained)) => {
                let (chain, chained_rest) = keyword(&chained);
                if !chained.is_empty() && (word == "range" || chain != word) {
                    return Err(format!("template: unexpected {{{{else {chained}}}}} in {{{{{word}}}}}"));
                }
                if chained.is_empty() {
                    let (els, stop) = self.list(depth + 1)?;
                    if !matches!(stop, Some(Stop::End)) {
                        return Err(format!("template: unexpected EOF in {{{{{word}}}}}"));
                    }
                    els
                } else {
                    // `{{else if x}}` is an `{{if x}}` whose `{{end}}` ends this block too.
                    vec![self.control(chain, chained_rest, depth + 1)?]
                }
            }
            None => return Err(format!("template: unexpected EOF in {{{{{word}}}}}")),
        };
        self.vars.truncate(scope);
        Ok(match word {
            "if" => Node::If { cond: value, then: body, els },
            "with" => Node::With { value, then: body, els },
            _ => Node::Range { value, body, els },
        })
    }

    /// A pipeline, with its variable declaration if it has one (two variables only in `range`).
    fn pipe(&mut self, s: &str, depth: usize, range: bool) -> Result<Pipe, String> {
        if depth > MAX_NESTING {
            return Err("template: nesting too deep".into());
        }
        let toks = lex_action(s)?;
        let mut at = 0;
        let (vars, declare) = declaration(&toks, &mut at, range)?;
        let cmds = self.commands(&toks, &mut at, depth)?;
        if at != toks.len() {
            return Err(format!("template: unexpected {:?} in command", toks[at]));
        }
        for v in &vars {
            if declare {
                self.vars.push(v.clone());
            } else if !self.vars.contains(v) {
                return Err(format!("template: undefined variable {v:?}"));
            }
        }
        Ok(Pipe { vars, declare, cmds })
    }

    /// Commands separated by `|`, up to a `)` or the end.
    fn commands(&self, toks: &[ATok], at: &mut usize, depth: usize) -> Result<Vec<Cmd>, String> {
        let mut cmds = Vec::new();
        let mut cmd = Vec::new();
        loop {
            match toks.get(*at) {
                None | Some(ATok::RParen) => break,
                Some(ATok::Space) => *at += 1,
                Some(ATok::Pipe) => {
                    if cmd.is_empty() {
                        return Err("template: missing command".into());
                    }
                    cmds.push(std::mem::take(&mut cmd));
                    *at += 1;
                }
                Some(_) => cmd.push(self.operand(toks, at, depth)?),
            }
        }
        if cmd.is_empty() {
            return Err("template: missing value for command".into());
        }
        cmds.push(cmd);
        for c in &cmds {
            if c.len() == 1 && c[0] == Arg::Nil {
                return Err("template: nil is not a command".into());
            }
        }
        Ok(cmds)
    }

    fn operand(&self, toks: &[ATok], at: &mut usize, depth: usize) -> Result<Arg, String> {
        let tok = toks[*at].clone();
        *at += 1;
        let arg = match tok {
            ATok::Dot => Arg::Dot,
            ATok::Field(f) => Arg::Field(vec![f]),
            ATok::Var(v) => {
                if !self.vars.contains(&v) {
                    return Err(format!("template: undefined variable {v:?}"));
                }
                Arg::Var(v, Vec::new())
            }
            ATok::LParen => {
                if depth >= MAX_NESTING {
                    return Err("template: nesting too deep".into());
                }
                let cmds = self.commands(toks, at, depth + 1)?;
                if toks.get(*at) != Some(&ATok::RParen) {
                    return Err("template: unclosed left paren".into());
                }
                *at += 1;
                Arg::Pipe(Box::new(Pipe { vars: Vec::new(), declare: false, cmds }), Vec::new())
            }
            ATok::Str(s) => Arg::Str(s),
            ATok::Int(i) => Arg::Int(i),
            ATok::Float(f) => Arg::Float(f),
            ATok::Ident(w) => match w.as_str() {
                "true" | "false" => Arg::Bool(w == "true"),
                "nil" => Arg::Nil,
                _ if FUNCTIONS.contains(&w.as_str()) => Arg::Func(w),
                _ => return Err(format!("template: function {w:?} not defined")),
            },
            t => return Err(format!("template: unexpected {t:?} in operand")),
        };
        // Fields right after (no space): `.a.b`, `$x.a`, `(pipe).a`.
        let mut arg = arg;
        while let Some(ATok::Field(f)) = toks.get(*at) {
            match &mut arg {
                Arg::Field(chain) | Arg::Var(_, chain) | Arg::Pipe(_, chain) => chain.push(f.clone()),
                _ => return Err(format!("template: unexpected .{f} after an operand")),
            }
            *at += 1;
        }
        Ok(arg)
    }
}

/// A leading `$x :=` / `$x =` (or `$i, $e :=` in `range`).
fn declaration(toks: &[ATok], at: &mut usize, range: bool) -> Result<(Vec<String>, bool), String> {
    let significant: Vec<(usize, &ATok)> = toks.iter().enumerate().filter(|(_, t)| **t != ATok::Space).take(4).collect();
    let var = |i: usize| match significant.get(i) {
        Some((_, ATok::Var(v))) if v != "$" => Some(v.clone()),
        _ => None,
    };
    let op = |i: usize| match significant.get(i) {
        Some((j, ATok::Declare)) => Some((*j, true)),
        Some((j, ATok::Assign)) => Some((*j, false)),
        _ => None,
    };
    if let (Some(v), Some((j, declare))) = (var(0), op(1)) {
        *at = j + 1;
        return Ok((vec![v], declare));
    }
    if let (Some(a), Some((_, ATok::Comma)), Some(b), Some((j, declare))) = (var(0), significant.get(1), var(2), op(3)) {
        if !range {
            return Err("template: too many declarations".into());
        }
        *at = j + 1;
        return Ok((vec![a, b], declare));
    }
    Ok((Vec::new(), true))
}

/// A token inside an action.
#[derive(Clone, Debug, PartialEq)]
enum ATok {
    Space,
    Pipe,
    LParen,
    RParen,
    Declare,
    Assign,
    Comma,
    Dot,
    Field(String),
    Var(String),
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
}

fn lex_action(s: &str) -> Result<Vec<ATok>, String> {
    let b = s.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    let word_len = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c >= 0x80).count();
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied().unwrap_or(0);
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                toks.push(ATok::Space);
                continue;
            }
            b'|' => toks.push(ATok::Pipe),
            b'(' => toks.push(ATok::LParen),
            b')' => toks.push(ATok::RParen),
            b',' => toks.push(ATok::Comma),
            b'=' => toks.push(ATok::Assign),
            b':' if next == b'=' => {
                toks.push(ATok::Declare);
                i += 2;
                continue;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let body = s.get(i + 1..j).ok_or("template: unterminated quoted string")?;
                toks.push(ATok::Str(unquote(body, '"')?));
                i = j + 1;
                continue;
            }
            b'`' => {
                let end = s[i + 1..].find('`').ok_or("template: unterminated raw quoted string")? + i + 1;
                toks.push(ATok::Str(s[i + 1..end].to_string()));
                i = end + 1;
                continue;
            }
            b'\'' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'\'' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let body = unquote(s.get(i + 1..j).ok_or("template: unterminated character constant")?, '\'')?;
                let mut chars = body.chars();
                match (chars.next(), chars.next()) {
                    (Some(ch), None) => toks.push(ATok::Int(i64::from(u32::from(ch)))),
                    _ => return Err(format!("template: malformed character constant: {}", &s[i..=j.min(s.len() - 1)])),
                }
                i = j + 1;
                continue;
            }
            b'$' => {
                let n = word_len(i + 1);
                toks.push(ATok::Var(s[i..i + 1 + n].to_string()));
                i += 1 + n;
                continue;
            }
            b'.' if !next.is_ascii_digit() => {
                let n = word_len(i + 1);
                toks.push(if n == 0 { ATok::Dot } else { ATok::Field(s[i + 1..i + 1 + n].to_string()) });
                i += 1 + n;
                continue;
            }
            c if c.is_ascii_digit() || c == b'.' || ((c == b'-' || c == b'+') && (next.is_ascii_digit() || next == b'.')) => {
                let mut j = i + 1;
                while j < b.len()
                    && (b[j].is_ascii_alphanumeric()
                        || b[j] == b'_'
                        || b[j] == b'.'
                        || ((b[j] == b'-' || b[j] == b'+') && matches!(b[j - 1], b'e' | b'E' | b'p' | b'P')))
                {
                    j += 1;
                }
                toks.push(number(&s[i..j])?);
                i = j;
                continue;
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let n = word_len(i);
                toks.push(ATok::Ident(s[i..i + n].to_string()));
                i += n;
                continue;
            }
            _ => return Err(format!("template: unexpected {:?} in command", s[i..].chars().next().unwrap_or_default())),
        }
        i += 1;
    }
    Ok(toks)
}

/// A Go number literal: an `int` unless it has a fraction or an exponent.
fn number(text: &str) -> Result<ATok, String> {
    let bad = || format!("template: bad number syntax: {text:?}");
    let (neg, digits) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = digits.to_ascii_lowercase();
    let is_hex = lower.starts_with("0x");
    if !is_hex && lower.contains(['.', 'e']) {
        let f: f64 = digits.replace('_', "").parse().map_err(|_| bad())?;
        return Ok(ATok::Float(if neg { -f } else { f }));
    }
    let n = super::convert::parse_go_int(digits).ok_or_else(bad)?;
    Ok(ATok::Int(if neg { -n } else { n }))
}

/// Go's unquoting of a string or character literal's body.
fn unquote(body: &str, quote: char) -> Result<String, String> {
    let bad = || format!("template: invalid syntax in quoted string {body:?}");
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            if c == '\n' {
                return Err(bad());
            }
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or_else(bad)?;
        let hex = |chars: &mut std::iter::Peekable<std::str::Chars>, n: usize| -> Result<u32, String> {
            let digits: String = (0..n).filter_map(|_| chars.next()).collect();
            if digits.len() != n {
                return Err(bad());
            }
            u32::from_str_radix(&digits, 16).map_err(|_| bad())
        };
        match e {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            q if q == quote => out.push(q),
            'x' => out.push(char::from_u32(hex(&mut chars, 2)?).ok_or_else(bad)?),
            'u' => out.push(char::from_u32(hex(&mut chars, 4)?).ok_or_else(bad)?),
            'U' => out.push(char::from_u32(hex(&mut chars, 8)?).ok_or_else(bad)?),
            '0'..='7' => {
                let rest: String = (0..2).filter_map(|_| chars.next()).collect();
                let v = u32::from_str_radix(&format!("{e}{rest}"), 8).map_err(|_| bad())?;
                out.push(char::from_u32(v).filter(|_| v < 256).ok_or_else(bad)?);
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}
