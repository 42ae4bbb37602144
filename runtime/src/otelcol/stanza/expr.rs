//! The subset of stanza's `expr` language this runtime evaluates (`if`, `filter`'s `expr`):
//! field access (`body`, `body.x`, `attributes["a.b"]`, `resource.x`), string, number, bool and
//! `nil` literals, `==` `!=` `<` `<=` `>` `>=`, `matches` (a literal regular expression),
//! `contains` `startsWith` `endsWith`, `and`/`&&`, `or`/`||`, `not`/`!` and parentheses.
//! Anything else is refused where it is written, with its byte range in the string.

use std::ops::Range;

use super::entry::{Entry, Field, Root, Val};

/// A refused or malformed expression: what and where (bytes of the expression).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message} (at column {})", .range.start + 1)]
pub struct ExprError {
    pub range: Range<usize>,
    pub message: String,
}

/// The deepest nesting of parentheses and `not` accepted, so that parsing stays bounded.
const MAX_DEPTH: usize = 64;

/// The most operands one `and`/`or` chain may join: a chain is a tree as deep as it is long,
/// and evaluation walks it recursively.
const MAX_CHAIN: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Clone, Debug)]
enum Node {
    Lit(Val),
    Field(Field),
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cmp(Cmp, Box<Node>, Box<Node>),
    Matches(Box<Node>, regex::Regex),
}

/// A checked expression.
#[derive(Clone, Debug)]
pub struct Expr {
    node: Node,
    pub source: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Op(&'static str),
}

const OPS: [&str; 15] = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "[", "]", ".", ","];

fn lex(src: &str) -> Result<Vec<(Tok, Range<usize>)>, ExprError> {
    let mut out = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push((Tok::Ident(src[start..i].to_string()), start..i));
        } else if c.is_ascii_digit() {
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.' || bytes[i] == b'_') {
                i += 1;
            }
            let text = src[start..i].replace('_', "");
            let n = text.parse::<f64>().map_err(|_| ExprError { range: start..i, message: format!("invalid number {:?}", &src[start..i]) })?;
            out.push((Tok::Num(n), start..i));
        } else if c == b'"' || c == b'\'' {
            let (s, end) = string_literal(src, start)?;
            i = end;
            out.push((Tok::Str(s), start..i));
        } else if let Some(op) = OPS.iter().find(|op| src[i..].starts_with(**op)) {
            i += op.len();
            out.push((Tok::Op(op), start..i));
        } else {
            let len = src[i..].chars().next().map_or(1, char::len_utf8);
            return Err(ExprError { range: start..start + len, message: format!("unexpected character {:?}", &src[start..start + len]) });
        }
    }
    Ok(out)
}

/// A quoted string starting at `start`, with `\n`, `\t`, `\\` and quote escapes.
fn string_literal(src: &str, start: usize) -> Result<(String, usize), ExprError> {
    let quote = src[start..].chars().next().unwrap_or('"');
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((j, c)) = chars.next() {
        match c {
            c if c == quote => return Ok((out, start + 1 + j + 1)),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, c @ ('\\' | '"' | '\''))) => out.push(c),
                Some((k, c)) => {
                    let at = start + 1 + k;
                    return Err(ExprError { range: at - 1..at + c.len_utf8(), message: format!("unsupported escape \\{c}") });
                }
                None => break,
            },
            c => out.push(c),
        }
    }
    Err(ExprError { range: start..src.len(), message: "unterminated string".into() })
}

struct Parser<'a> {
    toks: &'a [(Tok, Range<usize>)],
    pos: usize,
    end: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn range(&self) -> Range<usize> {
        self.toks.get(self.pos).map_or(self.end..self.end, |t| t.1.clone())
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, ExprError> {
        Err(ExprError { range: self.range(), message: message.into() })
    }

    fn is_word(&self, words: &[&str]) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if words.contains(&w.as_str()))
    }

    fn is_op(&self, ops: &[&str]) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if ops.contains(o))
    }

    fn nest(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("expression nested too deeply");
        }
        Ok(())
    }

    /// A left-associative chain of `next` joined by the keyword `word` or the operator `op`.
    fn chain(
        &mut self,
        word: &str,
        op: &str,
        next: fn(&mut Self) -> Result<Node, ExprError>,
        join: fn(Box<Node>, Box<Node>) -> Node,
    ) -> Result<Node, ExprError> {
        let mut left = next(self)?;
        let mut operands = 1;
        while self.is_word(&[word]) || self.is_op(&[op]) {
            operands += 1;
            if operands > MAX_CHAIN {
                return self.err(format!("more than {MAX_CHAIN} operands joined by {word}"));
            }
            self.pos += 1;
            left = join(Box::new(left), Box::new(next(self)?));
        }
        Ok(left)
    }

    fn or(&mut self) -> Result<Node, ExprError> {
        self.chain("or", "||", Self::and, Node::Or)
    }

    fn and(&mut self) -> Result<Node, ExprError> {
        self.chain("and", "&&", Self::not, Node::And)
    }

    fn not(&mut self) -> Result<Node, ExprError> {
        if self.is_word(&["not"]) || self.is_op(&["!"]) {
            self.pos += 1;
            self.nest()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Node::Not(Box::new(inner)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Node, ExprError> {
        let left = self.primary()?;
        let op = match self.peek() {
            Some(Tok::Op(o)) => match *o {
                "==" => Cmp::Eq,
                "!=" => Cmp::Ne,
                "<" => Cmp::Lt,
                "<=" => Cmp::Le,
                ">" => Cmp::Gt,
                ">=" => Cmp::Ge,
                _ => return Ok(left),
            },
            Some(Tok::Ident(w)) => match w.as_str() {
                "contains" => Cmp::Contains,
                "startsWith" => Cmp::StartsWith,
                "endsWith" => Cmp::EndsWith,
                "matches" => {
                    self.pos += 1;
                    let at = self.range();
                    let Some(Tok::Str(pattern)) = self.peek().cloned() else {
                        return self.err("matches takes a string literal (a regular expression)");
                    };
                    self.pos += 1;
                    let re = regex::Regex::new(&pattern).map_err(|e| ExprError { range: at, message: format!("invalid regular expression: {e}") })?;
                    return Ok(Node::Matches(Box::new(left), re));
                }
                "and" | "or" => return Ok(left),
                other => {
                    return self.err(format!(
                        "unsupported operator {other:?}: this runtime evaluates ==, !=, <, <=, >, >=, matches, contains, startsWith, endsWith, and, or, not"
                    ))
                }
            },
            _ => return Ok(left),
        };
        self.pos += 1;
        let right = self.primary()?;
        Ok(Node::Cmp(op, Box::new(left), Box::new(right)))
    }

    fn primary(&mut self) -> Result<Node, ExprError> {
        let Some(tok) = self.peek().cloned() else {
            return self.err("expected a value");
        };
        match tok {
            Tok::Str(s) => {
                self.pos += 1;
                Ok(Node::Lit(Val::Str(s)))
            }
            Tok::Num(n) => {
                self.pos += 1;
                Ok(Node::Lit(if n.fract() == 0.0 && n.abs() < 9e15 { Val::Int(n as i64) } else { Val::Double(n) }))
            }
            Tok::Op("(") => {
                self.pos += 1;
                self.nest()?;
                let inner = self.or()?;
                self.depth -= 1;
                if !self.is_op(&[")"]) {
                    return self.err("expected )");
                }
                self.pos += 1;
                Ok(inner)
            }
            Tok::Ident(w) => {
                let lit = match w.as_str() {
                    "true" => Some(Val::Bool(true)),
                    "false" => Some(Val::Bool(false)),
                    "nil" => Some(Val::Null),
                    _ => None,
                };
                if let Some(v) = lit {
                    self.pos += 1;
                    return Ok(Node::Lit(v));
                }
                self.field(&w)
            }
            Tok::Op(_) => self.err("expected a value"),
        }
    }

    /// `body`, `attributes.x`, `resource["a.b"]`, and deeper keys.
    fn field(&mut self, word: &str) -> Result<Node, ExprError> {
        let root = match word {
            "body" => Root::Body,
            "attributes" => Root::Attributes,
            "resource" => Root::Resource,
            other => {
                return self.err(format!("unsupported name {other:?}: this runtime's expressions read body, attributes and resource"));
            }
        };
        self.pos += 1;
        let mut keys = Vec::new();
        loop {
            if self.is_op(&["("]) {
                return self.err("function calls are not supported by this runtime yet");
            }
            if self.is_op(&["."]) {
                self.pos += 1;
                let Some(Tok::Ident(k)) = self.peek().cloned() else { return self.err("expected a key after .") };
                self.pos += 1;
                keys.push(k);
            } else if self.is_op(&["["]) {
                self.pos += 1;
                let Some(Tok::Str(k)) = self.peek().cloned() else { return self.err("expected a quoted key") };
                self.pos += 1;
                if !self.is_op(&["]"]) {
                    return self.err("expected ]");
                }
                self.pos += 1;
                keys.push(k);
            } else {
                break;
            }
        }
        if keys.is_empty() && root != Root::Body {
            return self.err(format!("{word} is a map: compare one of its keys ({word}.key or {word}[\"key\"])"));
        }
        Ok(Node::Field(Field { root, keys }))
    }
}

impl Expr {
    pub fn parse(src: &str) -> Result<Expr, ExprError> {
        let toks = lex(src)?;
        let mut p = Parser { toks: &toks, pos: 0, end: src.len(), depth: 0 };
        let node = p.or()?;
        if let Some(Tok::Ident(w)) = p.peek() {
            return p.err(format!(
                "unsupported operator {w:?}: this runtime evaluates ==, !=, <, <=, >, >=, matches, contains, startsWith, endsWith, and, or, not"
            ));
        }
        if p.pos < toks.len() {
            return p.err("unexpected text after the expression");
        }
        Ok(Expr { node, source: src.to_string() })
    }

    /// Evaluates to a boolean; other results are an error.
    pub fn matches(&self, e: &Entry) -> Result<bool, String> {
        match eval(&self.node, e) {
            Val::Bool(b) => Ok(b),
            other => Err(format!("expression {:?} returned {other:?}, not a boolean", self.source)),
        }
    }
}

fn truthy(v: &Val) -> bool {
    matches!(v, Val::Bool(true))
}

fn equal(a: &Val, b: &Val) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn order(a: &Val, b: &Val) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn eval(n: &Node, e: &Entry) -> Val {
    match n {
        Node::Lit(v) => v.clone(),
        Node::Field(f) => f.get(e).cloned().unwrap_or(Val::Null),
        Node::Not(x) => Val::Bool(!truthy(&eval(x, e))),
        Node::And(a, b) => Val::Bool(truthy(&eval(a, e)) && truthy(&eval(b, e))),
        Node::Or(a, b) => Val::Bool(truthy(&eval(a, e)) || truthy(&eval(b, e))),
        Node::Matches(x, re) => Val::Bool(eval(x, e).as_str().is_some_and(|s| re.is_match(s))),
        Node::Cmp(op, a, b) => {
            let (a, b) = (eval(a, e), eval(b, e));
            let strs = || Some((a.as_str()?, b.as_str()?));
            Val::Bool(match op {
                Cmp::Eq => equal(&a, &b),
                Cmp::Ne => !equal(&a, &b),
                Cmp::Lt => order(&a, &b).is_some_and(|o| o.is_lt()),
                Cmp::Le => order(&a, &b).is_some_and(|o| o.is_le()),
                Cmp::Gt => order(&a, &b).is_some_and(|o| o.is_gt()),
                Cmp::Ge => order(&a, &b).is_some_and(|o| o.is_ge()),
                Cmp::Contains => strs().is_some_and(|(x, y)| x.contains(y)),
                Cmp::StartsWith => strs().is_some_and(|(x, y)| x.starts_with(y)),
                Cmp::EndsWith => strs().is_some_and(|(x, y)| x.ends_with(y)),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        let mut e = Entry::with_body("GET /health 200");
        e.attributes.insert("level".into(), Val::str("error"));
        e.attributes.insert("log.file.name".into(), Val::str("a.log"));
        e.attributes.insert("code".into(), Val::Int(503));
        e
    }

    #[test]
    fn the_subset_evaluates() {
        let e = entry();
        let cases = [
            ("attributes.level == 'error'", true),
            ("attributes.level != \"error\"", false),
            ("attributes[\"log.file.name\"] endsWith '.log'", true),
            ("body matches '^GET /health'", true),
            ("body contains 'POST' or attributes.code >= 500", true),
            ("not (attributes.code < 500) && body startsWith 'GET'", true),
            ("!(attributes.missing == nil)", false),
            ("attributes.code == 503.0", true),
            ("true and false", false),
        ];
        for (src, want) in cases {
            let x = Expr::parse(src).unwrap_or_else(|err| panic!("{src}: {err}"));
            assert_eq!(x.matches(&e), Ok(want), "{src}");
        }
        assert!(Expr::parse("attributes.level").expect("parses").matches(&e).is_err(), "a string is not a condition");
    }

    #[test]
    fn refusals_point_at_the_text() {
        let cases = [
            ("attributes.x in ['a']", 13..15, "unsupported operator"),
            ("env('HOME') == 'x'", 0..3, "unsupported name"),
            ("body.x(1)", 6..7, "function calls"),
            ("body matches '('", 13..16, "invalid regular expression"),
            ("body == 'open", 8..13, "unterminated"),
            ("body == 1 1", 10..11, "unexpected text"),
            ("body ~ 1", 5..6, "unexpected character"),
            ("attributes == 1", 11..13, "is a map"),
        ];
        for (src, range, what) in cases {
            let err = Expr::parse(src).expect_err(src);
            assert_eq!(err.range, range, "{src}: {err}");
            assert!(err.message.contains(what), "{src}: {err}");
        }
        let deep = format!("{}true{}", "(".repeat(100), ")".repeat(100));
        assert!(Expr::parse(&deep).expect_err("too deep").message.contains("nested too deeply"));
        let long = vec!["true"; 300].join(" or ");
        assert!(Expr::parse(&long).expect_err("too long").message.contains("more than 256 operands"));
        let fine = vec!["false"; 200].join(" or ");
        assert_eq!(Expr::parse(&fine).map(|x| x.matches(&entry())), Ok(Ok(false)));
    }
}
