//! Go's regular-expression syntax (RE2 as Go's `regexp` package reads it), run by the `regex` crate.
//!
//! Relabel rules, and many other Alloy arguments, are Go regular expressions. Rust's syntax differs in
//! ways real configs hit: Go's `\d`, `\w`, `\s`, `\b` and POSIX classes are ASCII-only; Go accepts
//! `\Q…\E`, octal escapes, capture names starting with a digit, a literal `{` where no repetition parses,
//! and `[[]`; Rust reads `\<`, `[a&&b]`, `[a-z--c]` and `(?x)` differently. So the pattern is parsed
//! with Go's grammar (and Go's error messages), then written out again in a Rust form that leaves
//! nothing to interpretation: every flag is resolved per node, every literal is escaped, and capture
//! groups keep their numbers (names are kept here, not in the Rust pattern).

use std::fmt;

use regex::{Regex, RegexBuilder};

use super::expand::{Sink, Template};

/// Go's `regexp/syntax` error codes; their text is part of the message users see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    InternalError,
    InvalidCharRange,
    InvalidEscape,
    InvalidNamedCapture,
    InvalidPerlOp,
    InvalidRepeatOp,
    InvalidRepeatSize,
    MissingBracket,
    MissingParen,
    MissingRepeatArgument,
    TrailingBackslash,
    UnexpectedParen,
    NestingDepth,
    Large,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InternalError => "regexp/syntax: internal error",
            ErrorCode::InvalidCharRange => "invalid character class range",
            ErrorCode::InvalidEscape => "invalid escape sequence",
            ErrorCode::InvalidNamedCapture => "invalid named capture",
            ErrorCode::InvalidPerlOp => "invalid or unsupported Perl syntax",
            ErrorCode::InvalidRepeatOp => "invalid nested repetition operator",
            ErrorCode::InvalidRepeatSize => "invalid repeat count",
            ErrorCode::MissingBracket => "missing closing ]",
            ErrorCode::MissingParen => "missing closing )",
            ErrorCode::MissingRepeatArgument => "missing argument to repetition operator",
            ErrorCode::TrailingBackslash => "trailing backslash at end of expression",
            ErrorCode::UnexpectedParen => "unexpected )",
            ErrorCode::NestingDepth => "expression nests too deeply",
            ErrorCode::Large => "expression too large",
        }
    }
}

/// A pattern Go would reject, with Go's code and the offending fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub code: ErrorCode,
    pub expr: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error parsing regexp: {}: `{}`", self.code.as_str(), self.expr)
    }
}

impl std::error::Error for SyntaxError {}

/// A compiled Go regular expression: Go's syntax and capture numbering, Rust's engine (both use
/// leftmost-first semantics, so matches and submatches agree).
#[derive(Clone)]
pub struct GoRegex {
    source: Box<str>,
    regex: Regex,
    /// Capture names by group index; index 0 is the whole match.
    names: Box<[Option<Box<str>>]>,
}

impl fmt::Debug for GoRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("GoRegex").field(&self.source).finish()
    }
}

/// Go's cap on one counted repetition, and on the product of nested ones.
const MAX_REPEAT: i64 = 1000;
/// Group nesting allowed. Go allows a parse tree 1000 deep; parsing, emitting and compiling
/// recurse, so this stays well inside a 2 MiB thread stack even in debug builds.
const MAX_DEPTH: usize = 300;
/// Rust's nesting limit (each Go group may become up to three Rust nesting levels).
const RUST_NEST_LIMIT: u32 = 1000;
/// Compiled-size limit for the Rust engine; Go's own limit is on instructions (~128 MiB).
const SIZE_LIMIT: usize = 64 << 20;

impl GoRegex {
    /// Compiles `pattern` as Go's `regexp.Compile` would.
    pub fn new(pattern: &str) -> Result<GoRegex, SyntaxError> {
        let (node, names) = Parser::parse(pattern)?;
        let mut rust = String::with_capacity(pattern.len() * 2);
        emit(&node, &mut rust, Ctx::Alt);
        let regex = RegexBuilder::new(&rust).size_limit(SIZE_LIMIT).nest_limit(RUST_NEST_LIMIT).build().map_err(|e| {
            let code = match e {
                regex::Error::CompiledTooBig(_) => ErrorCode::Large,
                _ if e.to_string().contains("nest") => ErrorCode::NestingDepth,
                _ => ErrorCode::InternalError,
            };
            SyntaxError { code, expr: pattern.to_string() }
        })?;
        if regex.captures_len() != names.len() {
            return Err(SyntaxError { code: ErrorCode::InternalError, expr: pattern.to_string() });
        }
        let names = names.into_iter().map(|n| n.map(String::into_boxed_str)).collect();
        Ok(GoRegex { source: pattern.into(), regex, names })
    }

    /// The Go pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The Rust engine, for searches (capture indices are Go's).
    pub fn regex(&self) -> &Regex {
        &self.regex
    }

    /// Number of groups including group 0.
    pub fn captures_len(&self) -> usize {
        self.names.len()
    }

    /// Capture names by index (index 0, the whole match, has none).
    pub fn names(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        self.names.iter().map(|n| n.as_deref())
    }

    pub fn is_match(&self, haystack: &str) -> bool {
        self.regex.is_match(haystack)
    }

    /// Go's `ReplaceAllString`: every non-overlapping match replaced by `template` expanded
    /// against it; an empty match right after a match is not replaced.
    pub fn replace_all_into(&self, src: &str, template: &Template, out: &mut impl Sink) {
        let mut locs = self.regex.capture_locations();
        let (mut last_end, mut search) = (0, 0);
        while search <= src.len() {
            if self.regex.captures_read_at(&mut locs, src, search).is_none() {
                break;
            }
            let Some((start, end)) = locs.get(0) else { break };
            out.push_str(&src[last_end..start]);
            if end > last_end || start == 0 {
                template.expand_into(|i| locs.get(i).map(|(s, e)| &src[s..e]), out);
            }
            last_end = end;
            let width = src[search..].chars().next().map_or(0, char::len_utf8);
            if search + width > end {
                search += width;
            } else if search + 1 > end {
                search += 1;
            } else {
                search = end;
            }
        }
        out.push_str(&src[last_end..]);
    }

    /// [`GoRegex::replace_all_into`] into a new string.
    pub fn replace_all(&self, src: &str, template: &Template) -> String {
        let mut out = String::new();
        self.replace_all_into(src, template, &mut out);
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Parse tree

#[derive(Clone, Copy, Debug)]
struct Flags {
    fold: bool,
    dot_nl: bool,
    one_line: bool,
    non_greedy: bool,
}

/// The flags `regexp.Compile` starts with (Go's `syntax.Perl`).
const PERL: Flags = Flags { fold: false, dot_nl: false, one_line: true, non_greedy: false };

#[derive(Clone, Copy, Debug, PartialEq)]
enum Look {
    BeginText,
    EndText,
    BeginLine,
    EndLine,
    WordBoundary,
    NoWordBoundary,
}

#[derive(Debug)]
enum ClassItem {
    /// Code points (surrogates possible from `\x{D800}`; they never match).
    Range(u32, u32),
    /// ASCII ranges (Perl and POSIX classes), possibly negated.
    Ascii(&'static [(u8, u8)], bool),
    /// A Unicode property in Rust's `\p{…}` syntax, possibly negated.
    Unicode(String, bool),
}

#[derive(Debug)]
enum Node {
    Empty,
    /// A code point; a surrogate never matches.
    Literal(u32, bool),
    Class {
        items: Vec<ClassItem>,
        negated: bool,
        fold: bool,
    },
    AnyChar(bool),
    Look(Look),
    Capture(Box<Node>),
    Concat(Vec<Node>),
    Alternate(Vec<Node>),
    Repeat {
        sub: Box<Node>,
        min: u32,
        max: Option<u32>,
        greedy: bool,
        counted: bool,
    },
}

fn concat(mut items: Vec<Node>) -> Node {
    match items.len() {
        0 => Node::Empty,
        1 => items.pop().unwrap_or(Node::Empty),
        _ => Node::Concat(items),
    }
}

fn alternate(mut branches: Vec<Node>) -> Node {
    match branches.len() {
        0 => Node::Empty,
        1 => branches.pop().unwrap_or(Node::Empty),
        _ => Node::Alternate(branches),
    }
}

/// Go's `repeatIsValid`: nested counted repetitions may not multiply beyond `n` copies.
fn repeat_is_valid(node: &Node, mut n: i64) -> bool {
    match node {
        Node::Repeat { sub, min, max, counted, .. } => {
            if *counted {
                if *max == Some(0) {
                    return true;
                }
                let m = i64::from(max.unwrap_or(*min));
                if m > n {
                    return false;
                }
                if m > 0 {
                    n /= m;
                }
            }
            repeat_is_valid(sub, n)
        }
        Node::Capture(sub) => repeat_is_valid(sub, n),
        Node::Concat(v) | Node::Alternate(v) => v.iter().all(|s| repeat_is_valid(s, n)),
        _ => true,
    }
}

// ---------------------------------------------------------------------------------------------
// Parser (Go's grammar, token order and error fragments)

enum Open {
    /// `(?flags)`: no group.
    Flags(Flags),
    /// `(?flags:` or `(?:`.
    Group(Flags),
    /// `(?P<name>` or `(?<name>`.
    Named(String),
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    flags: Flags,
    names: Vec<Option<String>>,
}

impl<'a> Parser<'a> {
    fn parse(src: &'a str) -> Result<(Node, Vec<Option<String>>), SyntaxError> {
        let mut p = Parser { src, pos: 0, flags: PERL, names: vec![None] };
        let node = p.alternation(0)?;
        Ok((node, p.names))
    }

    fn err(&self, code: ErrorCode, expr: &str) -> SyntaxError {
        SyntaxError { code, expr: expr.to_string() }
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    /// Parses up to the end of input (depth 0) or the `)` closing the current group.
    fn alternation(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.err(ErrorCode::NestingDepth, self.src));
        }
        let mut branches = Vec::new();
        let mut items: Vec<Node> = Vec::new();
        let mut last_repeat: Option<usize> = None;
        loop {
            let rest = self.rest();
            let Some(c) = rest.chars().next() else {
                if depth > 0 {
                    return Err(self.err(ErrorCode::MissingParen, self.src));
                }
                branches.push(concat(items));
                return Ok(alternate(branches));
            };
            let mut repeat_at = None;
            match c {
                '(' if rest.as_bytes().get(1) == Some(&b'?') => match self.perl_flags()? {
                    Open::Flags(f) => self.flags = f,
                    Open::Group(f) => {
                        let saved = self.flags;
                        self.flags = f;
                        let sub = self.alternation(depth + 1)?;
                        self.flags = saved;
                        items.push(sub);
                    }
                    Open::Named(name) => {
                        self.names.push(Some(name));
                        let saved = self.flags;
                        let sub = self.alternation(depth + 1)?;
                        self.flags = saved;
                        items.push(Node::Capture(Box::new(sub)));
                    }
                },
                '(' => {
                    self.pos += 1;
                    self.names.push(None);
                    let saved = self.flags;
                    let sub = self.alternation(depth + 1)?;
                    self.flags = saved;
                    items.push(Node::Capture(Box::new(sub)));
                }
                '|' => {
                    self.pos += 1;
                    branches.push(concat(std::mem::take(&mut items)));
                }
                ')' => {
                    if depth == 0 {
                        return Err(self.err(ErrorCode::UnexpectedParen, self.src));
                    }
                    self.pos += 1;
                    branches.push(concat(items));
                    return Ok(alternate(branches));
                }
                '^' | '$' | '.' => {
                    self.pos += 1;
                    items.push(match (c, self.flags.one_line) {
                        ('^', true) => Node::Look(Look::BeginText),
                        ('^', false) => Node::Look(Look::BeginLine),
                        ('$', true) => Node::Look(Look::EndText),
                        ('$', false) => Node::Look(Look::EndLine),
                        _ => Node::AnyChar(self.flags.dot_nl),
                    });
                }
                '[' => {
                    let class = self.class()?;
                    items.push(class);
                }
                '*' | '+' | '?' => {
                    let start = self.pos;
                    self.pos += 1;
                    let (min, max) = match c {
                        '*' => (0, None),
                        '+' => (1, None),
                        _ => (0, Some(1)),
                    };
                    self.repeat(&mut items, start, min, max, false, last_repeat)?;
                    repeat_at = Some(start);
                }
                '{' => match parse_repeat(rest) {
                    None => {
                        self.pos += 1;
                        items.push(Node::Literal('{' as u32, self.flags.fold));
                    }
                    Some((min, max, len)) => {
                        let start = self.pos;
                        if !(0..=MAX_REPEAT).contains(&min) || max > MAX_REPEAT || (max >= 0 && min > max) {
                            return Err(self.err(ErrorCode::InvalidRepeatSize, &rest[..len]));
                        }
                        self.pos += len;
                        let max = u32::try_from(max).ok();
                        self.repeat(&mut items, start, min as u32, max, true, last_repeat)?;
                        repeat_at = Some(start);
                    }
                },
                '\\' => self.backslash(&mut items)?,
                _ => {
                    self.pos += c.len_utf8();
                    items.push(Node::Literal(c as u32, self.flags.fold));
                }
            }
            last_repeat = repeat_at;
        }
    }

    /// Applies a repetition operator (already consumed from `start`) to the last item.
    fn repeat(&mut self, items: &mut Vec<Node>, start: usize, min: u32, max: Option<u32>, counted: bool, last: Option<usize>) -> Result<(), SyntaxError> {
        let mut greedy = !self.flags.non_greedy;
        if self.rest().starts_with('?') {
            self.pos += 1;
            greedy = !greedy;
        }
        if let Some(last) = last {
            return Err(self.err(ErrorCode::InvalidRepeatOp, &self.src[last..self.pos]));
        }
        let Some(sub) = items.pop() else {
            return Err(self.err(ErrorCode::MissingRepeatArgument, &self.src[start..self.pos]));
        };
        let node = Node::Repeat { sub: Box::new(sub), min, max, greedy, counted };
        if counted && (min >= 2 || max.is_some_and(|m| m >= 2)) && !repeat_is_valid(&node, MAX_REPEAT) {
            return Err(self.err(ErrorCode::InvalidRepeatSize, &self.src[start..self.pos]));
        }
        items.push(node);
        Ok(())
    }

    /// `(?` constructs: flags, non-capturing groups, named groups.
    fn perl_flags(&mut self) -> Result<Open, SyntaxError> {
        let s = self.rest();
        let b = s.as_bytes();
        let with_p = b.len() > 4 && b[2] == b'P' && b[3] == b'<';
        let with_name = b.len() > 3 && b[2] == b'<';
        if with_p || with_name {
            let name_start = if with_p { 4 } else { 3 };
            let Some(end) = s.find('>') else {
                return Err(self.err(ErrorCode::InvalidNamedCapture, s));
            };
            let name = &s[name_start.min(end)..end];
            if name.is_empty() || !name.bytes().all(|c| c == b'_' || c.is_ascii_alphanumeric()) {
                return Err(self.err(ErrorCode::InvalidNamedCapture, &s[..end + 1]));
            }
            self.pos += end + 1;
            return Ok(Open::Named(name.to_string()));
        }

        let mut flags = self.flags;
        let mut negate = false;
        let mut saw_flag = false;
        let mut i = 2;
        while let Some(c) = s[i..].chars().next() {
            i += c.len_utf8();
            let value = !negate;
            match c {
                'i' => flags.fold = value,
                'm' => flags.one_line = !value,
                's' => flags.dot_nl = value,
                'U' => flags.non_greedy = value,
                '-' if !negate => {
                    negate = true;
                    saw_flag = false;
                    continue;
                }
                ':' | ')' if !negate || saw_flag => {
                    self.pos += i;
                    return Ok(if c == ':' { Open::Group(flags) } else { Open::Flags(flags) });
                }
                _ => break,
            }
            saw_flag = true;
        }
        Err(self.err(ErrorCode::InvalidPerlOp, &s[..i]))
    }

    /// A backslash outside a class: assertions, `\Q…\E`, classes, escapes.
    fn backslash(&mut self, items: &mut Vec<Node>) -> Result<(), SyntaxError> {
        let rest = self.rest();
        let b = rest.as_bytes();
        if b.len() >= 2 {
            let look = match b[1] {
                b'A' => Some(Look::BeginText),
                b'b' => Some(Look::WordBoundary),
                b'B' => Some(Look::NoWordBoundary),
                b'z' => Some(Look::EndText),
                _ => None,
            };
            if let Some(look) = look {
                self.pos += 2;
                items.push(Node::Look(look));
                return Ok(());
            }
            match b[1] {
                b'C' => return Err(self.err(ErrorCode::InvalidEscape, &rest[..2])),
                b'Q' => {
                    let body = &rest[2..];
                    let (lit, used) = match body.find("\\E") {
                        Some(i) => (&body[..i], 2 + i + 2),
                        None => (body, rest.len()),
                    };
                    items.extend(lit.chars().map(|c| Node::Literal(c as u32, self.flags.fold)));
                    self.pos += used;
                    return Ok(());
                }
                b'p' | b'P' => {
                    let (item, len) = self.unicode_class(self.pos)?;
                    self.pos += len;
                    items.push(Node::Class { items: vec![item], negated: false, fold: self.flags.fold });
                    return Ok(());
                }
                c => {
                    if let Some(item) = perl_class(c) {
                        self.pos += 2;
                        items.push(Node::Class { items: vec![item], negated: false, fold: self.flags.fold });
                        return Ok(());
                    }
                }
            }
        }
        let (c, len) = self.escape(self.pos)?;
        self.pos += len;
        items.push(Node::Literal(c, self.flags.fold));
        Ok(())
    }

    /// A single-character escape at `at` (a backslash): the code point and bytes used.
    fn escape(&self, at: usize) -> Result<(u32, usize), SyntaxError> {
        let s = &self.src[at..];
        let Some(c) = s[1..].chars().next() else {
            return Err(self.err(ErrorCode::TrailingBackslash, ""));
        };
        let mut i = 1 + c.len_utf8();
        let bad = |i: usize| Err(self.err(ErrorCode::InvalidEscape, &s[..i]));
        let is_octal = |i: usize| s.as_bytes().get(i).is_some_and(|d| (b'0'..=b'7').contains(d));
        match c {
            '0'..='7' => {
                // One digit other than 0 would be a backreference, which Go does not support.
                if c != '0' && !is_octal(i) {
                    return bad(i);
                }
                let mut r = c as u32 - '0' as u32;
                for _ in 1..3 {
                    if !is_octal(i) {
                        break;
                    }
                    r = r * 8 + u32::from(s.as_bytes()[i] - b'0');
                    i += 1;
                }
                Ok((r, i))
            }
            'x' => {
                let Some(c) = s[i..].chars().next() else { return bad(i) };
                i += c.len_utf8();
                if c == '{' {
                    let (mut r, mut digits) = (0u32, 0);
                    loop {
                        let Some(d) = s[i..].chars().next() else { return bad(i) };
                        i += d.len_utf8();
                        if d == '}' {
                            break;
                        }
                        let Some(v) = d.to_digit(16) else { return bad(i) };
                        r = r * 16 + v;
                        if r > 0x10FFFF {
                            return bad(i);
                        }
                        digits += 1;
                    }
                    return if digits == 0 { bad(i) } else { Ok((r, i)) };
                }
                let x = c.to_digit(16);
                let y = s[i..].chars().next();
                if let Some(y) = y {
                    i += y.len_utf8();
                }
                match (x, y.and_then(|y| y.to_digit(16))) {
                    (Some(x), Some(y)) => Ok((x * 16 + y, i)),
                    _ => bad(i),
                }
            }
            'a' => Ok((0x07, i)),
            'f' => Ok((0x0C, i)),
            'n' => Ok((0x0A, i)),
            'r' => Ok((0x0D, i)),
            't' => Ok((0x09, i)),
            'v' => Ok((0x0B, i)),
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => Ok((c as u32, i)),
            _ => bad(i),
        }
    }

    /// `\p…`/`\P…` at `at`: the class item and bytes used.
    fn unicode_class(&self, at: usize) -> Result<(ClassItem, usize), SyntaxError> {
        let s = &self.src[at..];
        let mut negated = s.as_bytes()[1] == b'P';
        let (len, name) = match s[2..].chars().next() {
            None => (2, ""),
            Some('{') => match s.find('}') {
                Some(end) => (end + 1, &s[3..end]),
                None => return Err(self.err(ErrorCode::InvalidCharRange, s)),
            },
            Some(c) => (2 + c.len_utf8(), &s[2..2 + c.len_utf8()]),
        };
        let name = match name.strip_prefix('^') {
            Some(n) => {
                negated = !negated;
                n
            }
            None => name,
        };
        match unicode_property(name) {
            Some(ClassItem::Unicode(prop, inverted)) => Ok((ClassItem::Unicode(prop, negated ^ inverted), len)),
            Some(ClassItem::Ascii(r, inverted)) => Ok((ClassItem::Ascii(r, negated ^ inverted), len)),
            _ => Err(self.err(ErrorCode::InvalidCharRange, &s[..len])),
        }
    }

    /// A bracketed class starting at the current `[`.
    fn class(&mut self) -> Result<Node, SyntaxError> {
        let whole = self.rest();
        let mut pos = self.pos + 1;
        let negated = self.src[pos..].starts_with('^');
        if negated {
            pos += 1;
        }
        let mut items = Vec::new();
        let mut first = true;
        loop {
            let t = &self.src[pos..];
            let b = t.as_bytes();
            if !first && b.first() == Some(&b']') {
                break;
            }
            first = false;
            if b.len() > 2 && t.starts_with("[:") {
                if let Some(i) = t[2..].find(":]") {
                    let name = &t[..i + 4];
                    let Some(item) = posix_class(name) else {
                        return Err(self.err(ErrorCode::InvalidCharRange, name));
                    };
                    items.push(item);
                    pos += name.len();
                    continue;
                }
            }
            if b.len() >= 2 && b[0] == b'\\' {
                if b[1] == b'p' || b[1] == b'P' {
                    let (item, len) = self.unicode_class(pos)?;
                    items.push(item);
                    pos += len;
                    continue;
                }
                if let Some(item) = perl_class(b[1]) {
                    items.push(item);
                    pos += 2;
                    continue;
                }
            }
            let range_start = pos;
            let (lo, next) = self.class_char(pos, whole)?;
            pos = next;
            let mut hi = lo;
            let b = &self.src.as_bytes()[pos..];
            if b.len() >= 2 && b[0] == b'-' && b[1] != b']' {
                let (h, next) = self.class_char(pos + 1, whole)?;
                pos = next;
                hi = h;
                if hi < lo {
                    return Err(self.err(ErrorCode::InvalidCharRange, &self.src[range_start..pos]));
                }
            }
            items.push(ClassItem::Range(lo, hi));
        }
        self.pos = pos + 1;
        Ok(Node::Class { items, negated, fold: self.flags.fold })
    }

    fn class_char(&self, at: usize, whole: &str) -> Result<(u32, usize), SyntaxError> {
        let s = &self.src[at..];
        match s.chars().next() {
            None => Err(self.err(ErrorCode::MissingBracket, whole)),
            Some('\\') => self.escape(at).map(|(c, len)| (c, at + len)),
            Some(c) => Ok((c as u32, at + c.len_utf8())),
        }
    }
}

/// Go's `parseRepeat`: `{n}`, `{n,}`, `{n,m}` → (min, max (-1 = none), bytes); a number too big
/// gives min < 0; anything else is not a repetition (the `{` is a literal).
fn parse_repeat(s: &str) -> Option<(i64, i64, usize)> {
    let b = s.as_bytes();
    let mut i = 1;
    let (mut min, used) = parse_int(&b[i..])?;
    i += used;
    let max = if *b.get(i)? != b',' {
        min
    } else {
        i += 1;
        if *b.get(i)? == b'}' {
            -1
        } else {
            let (max, used) = parse_int(&b[i..])?;
            i += used;
            if max < 0 {
                min = -1;
            }
            max
        }
    };
    if *b.get(i)? != b'}' {
        return None;
    }
    Some((min, max, i + 1))
}

/// Go's `parseInt`: digits without a leading zero; a value of 10^8 or more gives -2 (too big).
fn parse_int(b: &[u8]) -> Option<(i64, usize)> {
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || (digits >= 2 && b[0] == b'0') {
        return None;
    }
    let mut n: i64 = 0;
    for c in &b[..digits] {
        if n >= 100_000_000 {
            return Some((-2, digits));
        }
        n = n * 10 + i64::from(c - b'0');
    }
    Some((n, digits))
}

const DIGIT: &[(u8, u8)] = &[(b'0', b'9')];
const PERL_SPACE: &[(u8, u8)] = &[(b'\t', b'\n'), (0x0C, b'\r'), (b' ', b' ')];
const WORD: &[(u8, u8)] = &[(b'0', b'9'), (b'A', b'Z'), (b'_', b'_'), (b'a', b'z')];

/// `\d \D \s \S \w \W`: ASCII-only in Go.
fn perl_class(letter: u8) -> Option<ClassItem> {
    let (ranges, negated) = match letter {
        b'd' => (DIGIT, false),
        b'D' => (DIGIT, true),
        b's' => (PERL_SPACE, false),
        b'S' => (PERL_SPACE, true),
        b'w' => (WORD, false),
        b'W' => (WORD, true),
        _ => return None,
    };
    Some(ClassItem::Ascii(ranges, negated))
}

/// `[:name:]` / `[:^name:]`, ASCII as in Go.
fn posix_class(name: &str) -> Option<ClassItem> {
    let inner = name.strip_prefix("[:")?.strip_suffix(":]")?;
    let (inner, negated) = match inner.strip_prefix('^') {
        Some(n) => (n, true),
        None => (inner, false),
    };
    let ranges: &'static [(u8, u8)] = match inner {
        "alnum" => &[(b'0', b'9'), (b'A', b'Z'), (b'a', b'z')],
        "alpha" => &[(b'A', b'Z'), (b'a', b'z')],
        "ascii" => &[(0, 0x7F)],
        "blank" => &[(b'\t', b'\t'), (b' ', b' ')],
        "cntrl" => &[(0, 0x1F), (0x7F, 0x7F)],
        "digit" => DIGIT,
        "graph" => &[(b'!', b'~')],
        "lower" => &[(b'a', b'z')],
        "print" => &[(b' ', b'~')],
        "punct" => &[(b'!', b'/'), (b':', b'@'), (b'[', b'`'), (b'{', b'~')],
        "space" => &[(b'\t', b'\r'), (b' ', b' ')],
        "upper" => &[(b'A', b'Z')],
        "word" => WORD,
        "xdigit" => &[(b'0', b'9'), (b'A', b'F'), (b'a', b'f')],
        _ => return None,
    };
    Some(ClassItem::Ascii(ranges, negated))
}

/// A Unicode class name Go knows (general categories and their aliases, scripts, `Any`,
/// `Assigned`, `ASCII`), in Rust's spelling; loose matching as in current Go.
fn unicode_property(name: &str) -> Option<ClassItem> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b' ')) {
        return None;
    }
    let canonical: String = name.chars().filter(|c| !matches!(c, '_' | '-' | ' ')).map(|c| c.to_ascii_lowercase()).collect();
    match canonical.as_str() {
        "any" => return Some(ClassItem::Unicode("Any".into(), false)),
        "assigned" => return Some(ClassItem::Unicode("gc=Cn".into(), true)),
        "ascii" => return Some(ClassItem::Ascii(&[(0, 0x7F)], false)),
        _ => {}
    }
    // Categories first, then scripts (Script, not Script_Extensions, as Go's tables).
    ["gc", "sc"]
        .iter()
        .map(|kind| format!("{kind}={canonical}"))
        .find(|prop| regex_syntax::Parser::new().parse(&format!("\\p{{{prop}}}")).is_ok())
        .map(|p| ClassItem::Unicode(p, false))
}

// ---------------------------------------------------------------------------------------------
// Rust emission

/// Where a node is written: an alternation may stand alone only at `Alt`; `Atom` needs one unit.
#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Alt,
    Concat,
    Atom,
}

const NO_MATCH: &str = r"[^\x{0}-\x{10FFFF}]";

fn push_hex(out: &mut String, c: u32) {
    use fmt::Write;
    let _ = write!(out, "\\x{{{c:X}}}");
}

fn push_literal(out: &mut String, c: u32) {
    match char::from_u32(c) {
        Some(ch) if ch.is_ascii_alphanumeric() || ch == '_' => out.push(ch),
        Some(_) => push_hex(out, c),
        None => out.push_str(NO_MATCH),
    }
}

/// A class range with surrogates (which never match in Go) cut out; `None` if nothing is left.
fn scalar_range(lo: u32, hi: u32) -> Option<(u32, u32)> {
    let lo = if (0xD800..=0xDFFF).contains(&lo) { 0xE000 } else { lo };
    let hi = if (0xD800..=0xDFFF).contains(&hi) { 0xD7FF } else { hi };
    (lo <= hi).then_some((lo, hi))
}

fn push_ascii_class(out: &mut String, ranges: &[(u8, u8)], negated: bool) {
    out.push('[');
    if negated {
        out.push('^');
    }
    for &(lo, hi) in ranges {
        push_hex(out, u32::from(lo));
        if hi != lo {
            out.push('-');
            push_hex(out, u32::from(hi));
        }
    }
    out.push(']');
}

fn emit(node: &Node, out: &mut String, ctx: Ctx) {
    match node {
        Node::Empty => out.push_str("(?:)"),
        Node::Literal(c, fold) => {
            if *fold {
                out.push_str("(?i:");
                push_literal(out, *c);
                out.push(')');
            } else {
                push_literal(out, *c);
            }
        }
        Node::Class { items, negated, fold } => {
            if *fold {
                out.push_str("(?i:");
            }
            out.push('[');
            if *negated {
                out.push('^');
            }
            let mut any = false;
            for item in items {
                match item {
                    ClassItem::Range(lo, hi) => {
                        if let Some((lo, hi)) = scalar_range(*lo, *hi) {
                            push_hex(out, lo);
                            if hi != lo {
                                out.push('-');
                                push_hex(out, hi);
                            }
                            any = true;
                        }
                    }
                    ClassItem::Ascii(ranges, neg) => {
                        push_ascii_class(out, ranges, *neg);
                        any = true;
                    }
                    ClassItem::Unicode(prop, neg) => {
                        out.push_str(if *neg { "\\P{" } else { "\\p{" });
                        out.push_str(prop);
                        out.push('}');
                        any = true;
                    }
                }
            }
            if !any {
                // Only surrogates: the class is empty (or, negated, everything).
                out.push_str(r"[^\x{0}-\x{10FFFF}]");
            }
            out.push(']');
            if *fold {
                out.push(')');
            }
        }
        Node::AnyChar(nl) => out.push_str(if *nl { "(?s:.)" } else { r"[^\n]" }),
        Node::Look(look) => {
            let text = match look {
                Look::BeginText => r"\A",
                Look::EndText => r"\z",
                Look::BeginLine => "(?m:^)",
                Look::EndLine => "(?m:$)",
                Look::WordBoundary => r"(?-u:\b)",
                Look::NoWordBoundary => r"(?-u:\B)",
            };
            if ctx == Ctx::Atom && text.starts_with('\\') {
                out.push_str("(?:");
                out.push_str(text);
                out.push(')');
            } else {
                out.push_str(text);
            }
        }
        Node::Capture(sub) => {
            out.push('(');
            emit(sub, out, Ctx::Alt);
            out.push(')');
        }
        Node::Concat(items) => {
            let wrap = ctx == Ctx::Atom;
            if wrap {
                out.push_str("(?:");
            }
            for item in items {
                emit(item, out, Ctx::Concat);
            }
            if wrap {
                out.push(')');
            }
        }
        Node::Alternate(branches) => {
            let wrap = ctx != Ctx::Alt;
            if wrap {
                out.push_str("(?:");
            }
            for (i, b) in branches.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                emit(b, out, Ctx::Alt);
            }
            if wrap {
                out.push(')');
            }
        }
        Node::Repeat { sub, min, max, greedy, counted } => {
            let wrap = ctx == Ctx::Atom;
            if wrap {
                out.push_str("(?:");
            }
            emit(sub, out, Ctx::Atom);
            match (counted, min, max) {
                (false, 0, None) => out.push('*'),
                (false, 1, None) => out.push('+'),
                (false, _, _) => out.push('?'),
                (true, min, None) => out.push_str(&format!("{{{min},}}")),
                (true, min, Some(max)) if max == min => out.push_str(&format!("{{{min}}}")),
                (true, min, Some(max)) => out.push_str(&format!("{{{min},{max}}}")),
            }
            if !greedy {
                out.push('?');
            }
            if wrap {
                out.push(')');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(p: &str) -> String {
        match GoRegex::new(p) {
            Ok(_) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    fn full(p: &str, s: &str) -> bool {
        GoRegex::new(&format!("^(?s:{p})$")).map(|r| r.is_match(s)).unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    #[test]
    fn perl_classes_and_boundaries_are_ascii() {
        assert!(full(r"\d", "7"));
        assert!(!full(r"\d", "٣"), "Arabic-Indic digit three is not \\d in Go");
        assert!(!full(r"\w", "é"));
        assert!(full(r"\W", "é"));
        assert!(!full(r"\s", "\u{a0}"));
        assert!(!full(r"\s", "\u{b}"), "Go's \\s has no vertical tab");
        assert!(full(r"[[:space:]]", "\u{b}"));
        assert!(!full(r"[[:alpha:]]", "é"));
        assert!(full(r"[^\d]", "٣"));
        assert!(full(r"[\D]", "٣"));
        assert!(!full(r"é\b", "é"), "no ASCII word boundary after é at the end");
        assert!(full(r"a\bé", "aé"), "ASCII boundary between a and é");
        assert!(full(r"(?i)\w", "\u{212a}"), "folded \\w includes the Kelvin sign, as in Go");
    }

    #[test]
    fn go_only_syntax() {
        assert!(full(r"\Qa.b*\E+", "a.b**"));
        assert!(full(r"\Qa.b\E", "a.b"));
        assert_eq!(err(r"^(?s:\Qa.b)$"), "error parsing regexp: missing closing ): `^(?s:\\Qa.b)$`", "\\Q runs to the end");
        assert!(full(r"\101\0", "A\0"));
        assert!(full(r"a{", "a{"));
        assert!(full(r"a{,2}", "a{,2}"));
        assert!(full(r"a{01}", "a{01}"));
        assert!(full(r"[[]", "["));
        assert!(full(r"[]a]", "]"));
        assert!(full(r"[a&&b]", "&"));
        assert!(full(r"[a-]", "-"));
        assert!(full(r"\<", "<"));
        assert!(full(r"(?P<1st>x)(?<n>y)", "xy"));
        assert!(full(r"\pL\p{Greek}\PL\p{^L}", "aα11"));
        assert!(full(r"(?i:AB)c", "abc"));
        assert!(!full(r"(?i:AB)c", "abC"));
        assert!(full(r"(?i)[^a]", "b"));
        assert!(!full(r"(?i)[^a]", "A"));
        assert!(full(r"(?U)a+", "aaa"));
        assert!(full(r"\x{10FFFF}\x41\x{D800}?", "\u{10FFFF}A"));
        assert!(full(r"(?m)a$\n^b", "a\nb"));
        assert!(full(r"(?)x", "x"));
    }

    #[test]
    fn wrapper_escapes_are_go_semantics() {
        // A user `)` closes the anchoring group, exactly as in Go.
        assert!(full("a)|(b", "xxb"));
        let r = GoRegex::new("^(?s:a)|(b)$").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.captures_len(), 2);
    }

    #[test]
    fn repetition_of_a_flagged_item_and_laziness() {
        // `(?U)` after the item makes the repetition lazy (Go reads flags at the operator).
        let r = GoRegex::new(r"(a+)(?U)*").unwrap_or_else(|e| panic!("{e}"));
        let caps = r.regex().captures("aaa").unwrap_or_else(|| panic!("no match"));
        assert_eq!(caps.get(0).map(|m| m.as_str()), Some(""));
        let r = GoRegex::new(r"(a)(?i)*").unwrap_or_else(|e| panic!("{e}"));
        assert!(r.is_match("aaa"));
        let r = GoRegex::new(r"^a*(?i)*$").unwrap_or_else(|e| panic!("{e}"));
        assert!(r.is_match("aaa"), "a*(?i)* is (a*)* in Go");
        let r = GoRegex::new(r"^(a*?)(a*)$").unwrap_or_else(|e| panic!("{e}"));
        let caps = r.regex().captures("aa").unwrap_or_else(|| panic!("no match"));
        assert_eq!(caps.get(2).map(|m| m.as_str()), Some("aa"));
    }

    #[test]
    fn go_error_messages() {
        assert_eq!(err("(abc"), "error parsing regexp: missing closing ): `(abc`");
        assert_eq!(err("^(?s:(abc)$"), "error parsing regexp: missing closing ): `^(?s:(abc)$`");
        assert_eq!(err("abc)"), "error parsing regexp: unexpected ): `abc)`");
        assert_eq!(err("a**"), "error parsing regexp: invalid nested repetition operator: `**`");
        assert_eq!(err("a*?+"), "error parsing regexp: invalid nested repetition operator: `*?+`");
        assert_eq!(err("*a"), "error parsing regexp: missing argument to repetition operator: `*`");
        assert_eq!(err("(|+?)"), "error parsing regexp: missing argument to repetition operator: `+?`");
        assert_eq!(err("a{1001}"), "error parsing regexp: invalid repeat count: `{1001}`");
        assert_eq!(err("a{2,1}"), "error parsing regexp: invalid repeat count: `{2,1}`");
        assert_eq!(err("(a{100}){20}"), "error parsing regexp: invalid repeat count: `{20}`");
        assert_eq!(err(r"\q"), "error parsing regexp: invalid escape sequence: `\\q`");
        assert_eq!(err(r"\1"), "error parsing regexp: invalid escape sequence: `\\1`");
        assert_eq!(err(r"\C"), "error parsing regexp: invalid escape sequence: `\\C`");
        assert_eq!(err(r"\x{zz}"), "error parsing regexp: invalid escape sequence: `\\x{z`");
        assert_eq!(err(r"\xg0"), "error parsing regexp: invalid escape sequence: `\\xg0`");
        assert_eq!(err("x\\"), "error parsing regexp: trailing backslash at end of expression: ``");
        assert_eq!(err("[abc"), "error parsing regexp: missing closing ]: `[abc`");
        assert_eq!(err("[z-a]"), "error parsing regexp: invalid character class range: `z-a`");
        assert_eq!(err("[[:foo:]]"), "error parsing regexp: invalid character class range: `[:foo:]`");
        assert_eq!(err(r"\p{Foo}x"), "error parsing regexp: invalid character class range: `\\p{Foo}`");
        assert_eq!(err(r"\p{Greek"), "error parsing regexp: invalid character class range: `\\p{Greek`");
        assert_eq!(err("(?P<n!>x)"), "error parsing regexp: invalid named capture: `(?P<n!>`");
        assert_eq!(err("(?P<n"), "error parsing regexp: invalid named capture: `(?P<n`");
        assert_eq!(err("(?P=n)"), "error parsing regexp: invalid or unsupported Perl syntax: `(?P`");
        assert_eq!(err("(?x)a"), "error parsing regexp: invalid or unsupported Perl syntax: `(?x`");
        assert_eq!(err("(?i-)a"), "error parsing regexp: invalid or unsupported Perl syntax: `(?i-)`");
        assert_eq!(err("(?i"), "error parsing regexp: invalid or unsupported Perl syntax: `(?i`");
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}a{}", "(".repeat(400), ")".repeat(400));
        assert_eq!(GoRegex::new(&deep).map_err(|e| e.code).err(), Some(ErrorCode::NestingDepth));
        let ok = format!("{}a{}", "(?:".repeat(200), ")*".repeat(200));
        assert!(GoRegex::new(&ok).is_ok());
    }

    #[test]
    fn names_and_indices() {
        let r = GoRegex::new(r"(a)(?P<x>b)(?:c)(?<y>d)").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.names().collect::<Vec<_>>(), vec![None, None, Some("x"), Some("y")]);
    }

    proptest::proptest! {
        /// Any pattern either fails with a Go error or compiles, and then searching never panics.
        #[test]
        fn parser_is_total(p in r"[\\()\[\]{}|*+?.^$:<>=PpQEdDwWsSbBAzCx0-9a-fimsU,\-_é٣ ]{0,16}", hay in "[a-f0-9 é٣\n]{0,8}") {
            if let Ok(r) = GoRegex::new(&p) {
                let _ = r.is_match(&hay);
                let _ = r.replace_all(&hay, &Template::new("$1${2}$x", &r));
            }
        }

        /// On syntax both dialects read alike, matches and submatches agree with the `regex` crate.
        #[test]
        fn agrees_on_shared_syntax(p in r"([abc.]|\((?:[abc.][*+?]?)+\)|[abc][*+?]){0,5}(\|[abc]{1,3})?", hay in "[abc]{0,6}") {
            let ours = GoRegex::new(&p).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            let theirs = Regex::new(&p).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            let spans = |caps: Option<regex::Captures<'_>>| caps.map(|c| c.iter().map(|m| m.map(|m| m.range())).collect::<Vec<_>>());
            proptest::prop_assert_eq!(spans(ours.regex().captures(&hay)), spans(theirs.captures(&hay)));
        }
    }

    #[test]
    fn replace_all_is_go_replace_all() {
        let r = GoRegex::new("a*").unwrap_or_else(|e| panic!("{e}"));
        let t = Template::new("<$0>", &r);
        // Go: regexp.MustCompile("a*").ReplaceAllString("baaac", "<$0>") == "<>b<aaa>c<>"
        assert_eq!(r.replace_all("baaac", &t), "<>b<aaa>c<>");
        let r = GoRegex::new("^(?s:(b.*))$").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.replace_all("b1", &Template::new("bar_${1}", &r)), "bar_b1");
    }
}
