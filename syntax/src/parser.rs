//! The parser: tokens to [`ast`](crate::ast), never failing.
//!
//! The expression grammar is built from chumsky combinators (a `foldl` per precedence level,
//! `choice` over primaries). Statements, bodies and lists use `custom` parsers because upstream's
//! recovery is procedural: it reports at the current token, drops a second error on the same
//! line, and skips tokens by rules of its own. Reproducing those rules is
//! what makes our diagnostics match upstream's line for line.
//!
//! Errors are collected in the parser state rather than as chumsky errors: every parser here
//! succeeds, so the AST is always complete (a bad primary becomes `null`).

use chumsky::error::EmptyErr;
use chumsky::extra;
use chumsky::input::{Checkpoint, Cursor, InputRef};
use chumsky::inspector::Inspector;
use chumsky::prelude::*;
use chumsky::recursive::Direct;
use smol_str::SmolStr;
use std::cell::RefCell;
use std::rc::Rc;

use crate::ast::*;
use crate::diagnostics::Diagnostic;
use crate::lexer::{self, is_valid_identifier, Lexed};
use crate::quote::go_quote_bytes;
use crate::span::{LineIndex, Span};
use crate::token::{Token, TokenKind as K};

type Tokens<'a> = &'a [Token];
type Extra<'a> = extra::Full<EmptyErr, State<'a>, ()>;
type Inp<'a, 'p> = InputRef<'a, 'p, Tokens<'a>, Extra<'a>>;
type PResult<T> = Result<T, EmptyErr>;
type BoxedP<'a, O> = chumsky::Boxed<'a, 'a, Tokens<'a>, O, Extra<'a>>;

/// A diagnostic from the parser, with the index of the token that was current when it arose.
struct Pending {
    token_index: u32,
    diagnostic: Diagnostic,
}

/// Parser state: the source (for token text) and the diagnostics found so far.
pub(crate) struct State<'a> {
    src: &'a [u8],
    /// The source as text when it is valid UTF-8 (checked once, not per token).
    text: Option<&'a str>,
    lines: &'a LineIndex,
    diagnostics: Vec<Pending>,
    /// Line of the last error reported through the suppressing path (0: none yet).
    last_error_line: u32,
}

impl<'a> Inspector<'a, Tokens<'a>> for State<'a> {
    type Checkpoint = (usize, u32);

    fn on_token(&mut self, _: &Token) {}

    fn on_save<'p>(&self, _: &Cursor<'a, 'p, Tokens<'a>>) -> Self::Checkpoint {
        (self.diagnostics.len(), self.last_error_line)
    }

    fn on_rewind<'p>(&mut self, marker: &Checkpoint<'a, 'p, Tokens<'a>, Self::Checkpoint>) {
        let (len, line) = *marker.inspector();
        self.diagnostics.truncate(len);
        self.last_error_line = line;
    }
}

// ---- token-level helpers (upstream's `p.tok`, `p.next()`, `expect`, `advance`) ----

fn current(inp: &mut Inp<'_, '_>) -> Token {
    match inp.peek_ref() {
        Some(t) => *t,
        None => {
            let end = inp.state().src.len() as u32;
            Token { kind: K::Eof, span: Span::at(end) }
        }
    }
}

fn kind(inp: &mut Inp<'_, '_>) -> K {
    current(inp).kind
}

/// Moves to the next token; the scanner keeps answering EOF at the end.
fn bump(inp: &mut Inp<'_, '_>) {
    if kind(inp) != K::Eof {
        inp.skip();
    }
}

fn token_index(inp: &mut Inp<'_, '_>) -> u32 {
    *inp.cursor().inner() as u32
}

/// Reports at the current token unless the previous such error was on the same line.
fn error_here(inp: &mut Inp<'_, '_>, message: String) {
    let token = current(inp);
    let index = token_index(inp);
    let state = inp.state();
    let line = state.lines.line(token.span.start);
    if state.last_error_line == line {
        return;
    }
    state.last_error_line = line;
    state.diagnostics.push(Pending { token_index: index, diagnostic: Diagnostic::error(token.span, message).with_code("parse") });
}

/// Reports an error that is never suppressed (and does not count for suppression).
fn error_at(inp: &mut Inp<'_, '_>, span: Span, message: &str) {
    let index = token_index(inp);
    inp.state().diagnostics.push(Pending { token_index: index, diagnostic: Diagnostic::error(span, message).with_code("parse") });
}

fn expect_token(inp: &mut Inp<'_, '_>, want: K) -> Token {
    let token = current(inp);
    if token.kind != want {
        error_here(inp, format!("expected {want}, got {}", token.kind));
    }
    bump(inp);
    token
}

/// Skips to the next `to` token (or EOF), not consuming it.
fn advance_to(inp: &mut Inp<'_, '_>, to: K) {
    loop {
        let k = kind(inp);
        if k == K::Eof || k == to {
            return;
        }
        bump(inp);
    }
}

/// Skips the rest of a statement: to a terminator outside any bracket pair.
fn consume_statement(inp: &mut Inp<'_, '_>) {
    let (mut curly, mut brack, mut paren) = (0i32, 0i32, 0i32);
    loop {
        match kind(inp) {
            K::Eof => return,
            K::LCurly => curly += 1,
            K::RCurly => curly -= 1,
            K::LBrack => brack += 1,
            K::RBrack => brack -= 1,
            K::LParen => paren += 1,
            K::RParen => paren -= 1,
            K::Terminator if curly <= 0 && brack <= 0 && paren <= 0 => return,
            _ => {}
        }
        bump(inp);
    }
}

fn text<'a>(state: &State<'a>, span: Span) -> std::borrow::Cow<'a, str> {
    match state.text.and_then(|t| t.get(span.range())) {
        Some(s) => std::borrow::Cow::Borrowed(s),
        // Only reachable when the scanner has already reported the bad encoding.
        None => String::from_utf8_lossy(&state.src[span.range()]),
    }
}

fn token_text(inp: &mut Inp<'_, '_>, token: Token) -> SmolStr {
    SmolStr::new(text(inp.state(), token.span))
}

/// A parser accepting exactly one token of `want`.
fn tok<'a>(want: K) -> impl Parser<'a, Tokens<'a>, Token, Extra<'a>> + Clone {
    any().filter(move |t: &Token| t.kind == want)
}

/// upstream's `expect`: reports a mismatch and consumes the token either way.
fn expect<'a>(want: K) -> impl Parser<'a, Tokens<'a>, Token, Extra<'a>> + Clone {
    custom(move |inp| Ok(expect_token(inp, want)))
}

// ---- the grammar ----

/// A recursive parser. Inside the grammar the handles are weak (chumsky's `recursive` hands
/// out weak ones), so parsers that refer to each other form no reference cycle and a parse
/// frees its grammar.
type Handle<'a, O> = Recursive<Direct<'a, 'a, Tokens<'a>, O, Extra<'a>>>;

/// The parsers an expression or a body may need. Bracketed forms are chumsky combinators; the
/// rest is hand-written dispatch on the current token (probing one parser per precedence level
/// for every operand would be slow).
#[derive(Clone)]
struct Grammar<'a> {
    expr: Handle<'a, Expr>,
    block_body: Handle<'a, Body>,
    args: BoxedP<'a, Vec<Expr>>,
    paren: BoxedP<'a, Expr>,
    array: BoxedP<'a, Expr>,
    object: BoxedP<'a, Expr>,
}

/// The grammar of one parse, with the strong handle that keeps its parsers alive.
struct Root<'a> {
    _expr: Handle<'a, Expr>,
    grammar: Grammar<'a>,
}

fn grammar<'a>() -> Root<'a> {
    let slot: Rc<RefCell<Option<Grammar<'a>>>> = Rc::default();
    let inner_slot = Rc::clone(&slot);
    let expr = recursive(move |expr: Handle<'a, Expr>| {
        let expr_list = |closer: K| {
            let expr = expr.clone();
            custom(move |inp| expression_list(inp, &expr, closer)).boxed()
        };
        let block_body = {
            let expr = expr.clone();
            recursive(move |body: Handle<'a, Body>| custom(move |inp| parse_body(inp, K::RCurly, &expr, &body)))
        };
        let paren = tok(K::LParen)
            .then(expr.clone())
            .then(expect(K::RParen))
            .map(|((l, inner), r)| Expr::Paren(Box::new(Paren { inner, lparen: l.span, rparen: r.span })));
        let array = tok(K::LBrack)
            .then(expr_list(K::RBrack))
            .then(expect(K::RBrack))
            .map(|((l, elements), r)| Expr::Array(Array { elements, lbrack: l.span, rbrack: r.span }));
        let fields = {
            let expr = expr.clone();
            custom(move |inp| {
                // Upstream compares against `]` here, so `{]` skips the field list.
                if kind(inp) == K::RBrack {
                    Ok(Vec::new())
                } else {
                    field_list(inp, &expr)
                }
            })
        };
        let object =
            tok(K::LCurly).then(fields).then(expect(K::RCurly)).map(|((l, fields), r)| Expr::Object(Object { fields, lcurly: l.span, rcurly: r.span }));
        let args = expr_list(K::RParen);
        let grammar = Grammar { expr, block_body, args, paren: paren.boxed(), array: array.boxed(), object: object.boxed() };
        *inner_slot.borrow_mut() = Some(grammar.clone());
        custom(move |inp| binary_expr(inp, 1, &grammar))
    });
    let grammar = slot.borrow_mut().take().expect("recursive() runs its closure before returning");
    Root { _expr: expr, grammar }
}

/// upstream's `parseBinOp`: left-associative levels from `min_prec` up, `^` handled below.
fn binary_expr<'a>(inp: &mut Inp<'a, '_>, min_prec: u8, g: &Grammar<'a>) -> PResult<Expr> {
    let mut left = pow_expr(inp, g)?;
    loop {
        let op = current(inp);
        let prec = op.kind.binary_precedence();
        if prec == 0 || prec < min_prec {
            return Ok(left);
        }
        bump(inp);
        let right = binary_expr(inp, prec + 1, g)?;
        left = binary(left, op, right);
    }
}

/// `unary [ "^" pow ]`: right-associative.
fn pow_expr<'a>(inp: &mut Inp<'a, '_>, g: &Grammar<'a>) -> PResult<Expr> {
    let left = unary_expr(inp, g)?;
    let op = current(inp);
    if op.kind != K::Pow {
        return Ok(left);
    }
    bump(inp);
    let right = pow_expr(inp, g)?;
    Ok(binary(left, op, right))
}

fn unary_expr<'a>(inp: &mut Inp<'a, '_>, g: &Grammar<'a>) -> PResult<Expr> {
    let op = current(inp);
    let op_kind = match op.kind {
        K::Not => UnaryOp::Not,
        K::Sub => UnaryOp::Neg,
        _ => {
            let primary = primary_expr(inp, g)?;
            return postfix_chain(inp, primary, g);
        }
    };
    bump(inp);
    let operand = unary_expr(inp, g)?;
    Ok(Expr::Unary(Box::new(Unary { op: op_kind, op_span: op.span, operand })))
}

fn primary_expr<'a>(inp: &mut Inp<'a, '_>, g: &Grammar<'a>) -> PResult<Expr> {
    let token = current(inp);
    let kind = match token.kind {
        K::Ident => {
            bump(inp);
            return Ok(Expr::Ident(Ident { name: token_text(inp, token), span: token.span }));
        }
        K::LParen => return inp.parse(&g.paren),
        K::LBrack => return inp.parse(&g.array),
        K::LCurly => return inp.parse(&g.object),
        K::String => LiteralKind::String,
        K::Number => LiteralKind::Number,
        K::Float => LiteralKind::Float,
        K::Bool => LiteralKind::Bool,
        K::Null => LiteralKind::Null,
        other => {
            error_here(inp, format!("expected expression, got {other}"));
            loop {
                match kind(inp) {
                    K::Eof | K::Terminator | K::RParen | K::RCurly | K::RBrack | K::Comma => break,
                    _ => bump(inp),
                }
            }
            return Ok(Expr::Literal(Literal { kind: LiteralKind::Null, text: SmolStr::new_static("null"), span: token.span }));
        }
    };
    bump(inp);
    Ok(Expr::Literal(Literal { kind, text: token_text(inp, token), span: token.span }))
}

fn binary(left: Expr, op: Token, right: Expr) -> Expr {
    let op_kind = BinaryOp::from_token(op.kind).unwrap_or(BinaryOp::Add);
    Expr::Binary(Box::new(Binary { op: op_kind, op_span: op.span, left, right }))
}

/// `.name`, `[index]`, `(args)` after a primary, and the block-as-expression recovery.
fn postfix_chain<'a>(inp: &mut Inp<'a, '_>, mut value: Expr, g: &Grammar<'a>) -> PResult<Expr> {
    loop {
        match kind(inp) {
            K::Dot => {
                bump(inp);
                let name = expect_token(inp, K::Ident);
                let text = if matches!(name.kind, K::Ident | K::Bool | K::Null | K::Number | K::Float | K::String) {
                    token_text(inp, name)
                } else {
                    SmolStr::default()
                };
                value = Expr::Access(Box::new(Access { value, field: Ident { name: text, span: name.span } }));
            }
            K::LBrack => {
                let lbrack = expect_token(inp, K::LBrack);
                let index = inp.parse(&g.expr)?;
                let rbrack = expect_token(inp, K::RBrack);
                value = Expr::Index(Box::new(Index { value, index, lbrack: lbrack.span, rbrack: rbrack.span }));
            }
            K::LParen => {
                let lparen = expect_token(inp, K::LParen);
                let args = inp.parse(&g.args)?;
                let rparen = expect_token(inp, K::RParen);
                value = Expr::Call(Box::new(Call { callee: value, args, lparen: lparen.span, rparen: rparen.span }));
            }
            K::String | K::LCurly => {
                if kind(inp) == K::String {
                    bump(inp);
                }
                if expect_token(inp, K::LCurly).kind != K::LCurly {
                    consume_statement(inp);
                    return Ok(value);
                }
                inp.parse(&g.block_body)?;
                let end = expect_token(inp, K::RCurly);
                if end.kind != K::RCurly {
                    consume_statement(inp);
                    return Ok(value);
                }
                let span = Span::new(value.span().start, end.span.end);
                error_at(inp, span, "cannot use a block as an expression");
            }
            _ => return Ok(value),
        }
    }
}

/// Expressions separated by commas up to `closer` (not consumed).
fn expression_list<'a>(inp: &mut Inp<'a, '_>, expr: &Handle<'a, Expr>, closer: K) -> PResult<Vec<Expr>> {
    let mut items = Vec::new();
    while !matches!(kind(inp), k if k == closer || k == K::Eof) {
        items.push(inp.parse(expr)?);
        if kind(inp) == closer {
            break;
        }
        if kind(inp) != K::Comma {
            error_here(inp, "missing ',' in expression list".to_string());
        }
        bump(inp);
    }
    Ok(items)
}

fn field_list<'a>(inp: &mut Inp<'a, '_>, expr: &Handle<'a, Expr>) -> PResult<Vec<ObjectField>> {
    let mut fields = Vec::new();
    while !matches!(kind(inp), K::RCurly | K::Eof) {
        fields.push(field(inp, expr)?);
        if kind(inp) == K::RCurly {
            break;
        }
        if kind(inp) != K::Comma {
            error_here(inp, "missing ',' in field list".to_string());
        }
        bump(inp);
    }
    Ok(fields)
}

fn field<'a>(inp: &mut Inp<'a, '_>, expr: &Handle<'a, Expr>) -> PResult<ObjectField> {
    let token = current(inp);
    let (key, quoted) = match token.kind {
        K::Ident | K::String => {
            bump(inp);
            let raw = token_text(inp, token);
            if token.kind == K::String && raw.len() > 2 {
                (Ident { name: SmolStr::new(String::from_utf8_lossy(between_quotes(&raw))), span: token.span }, true)
            } else {
                (Ident { name: raw, span: token.span }, false)
            }
        }
        other => {
            error_here(inp, format!("expected field name (string or identifier), got {other}"));
            advance_to(inp, K::Assign);
            (Ident { name: SmolStr::default(), span: Span::at(token.span.start) }, false)
        }
    };
    expect_token(inp, K::Assign);
    let value = inp.parse(expr)?;
    Ok(ObjectField { key, quoted, value })
}

/// Statements up to `closer` (not consumed) or EOF.
fn parse_body<'a>(inp: &mut Inp<'a, '_>, closer: K, expr: &Handle<'a, Expr>, block_body: &Handle<'a, Body>) -> PResult<Body> {
    let mut body = Vec::new();
    while !matches!(kind(inp), k if k == closer || k == K::Eof) {
        if let Some(stmt) = statement(inp, expr, block_body)? {
            body.push(stmt);
        }
        let k = kind(inp);
        if k == closer {
            break;
        }
        if k != K::Terminator {
            error_here(inp, format!("expected TERMINATOR, got {k}"));
            consume_statement(inp);
        }
        bump(inp);
    }
    Ok(body)
}

/// A block name as read before deciding between attribute and block.
struct BlockName {
    fragments: usize,
    name: SmolStr,
    span: Span,
    label: Option<Label>,
}

fn block_name(inp: &mut Inp<'_, '_>) -> Option<BlockName> {
    let first = current(inp);
    if first.kind != K::Ident {
        error_here(inp, format!("expected identifier, got {}", first.kind));
        return None;
    }
    // Names are almost always written without blanks around the dots: then the name is the
    // source text itself and needs no building.
    let mut built: Option<String> = None;
    let mut span = first.span;
    let mut fragments = 1;
    bump(inp);
    while kind(inp) == K::Dot {
        let dot = current(inp);
        bump(inp);
        let fragment = current(inp);
        if fragment.kind != K::Ident {
            error_here(inp, format!("expected identifier, got {}", fragment.kind));
        }
        let adjacent = dot.span.start == span.end && fragment.span.start == dot.span.end && fragment.kind == K::Ident;
        if built.is_none() && !adjacent {
            built = Some(text(inp.state(), span).into_owned());
        }
        if let Some(name) = built.as_mut() {
            name.push('.');
            if has_literal_text(fragment.kind) {
                name.push_str(&text(inp.state(), fragment.span));
            }
        }
        span = span.cover(fragment.span);
        fragments += 1;
        bump(inp);
    }
    let name = match built {
        Some(name) => SmolStr::new(name),
        None => SmolStr::new(text(inp.state(), span)),
    };
    let mut label = None;
    let next = current(inp);
    if !matches!(next.kind, K::Assign | K::LCurly) {
        if next.kind == K::String {
            let raw = token_text(inp, next);
            if !raw.starts_with('"') {
                let quoted = go_quote_bytes(raw.as_bytes());
                error_here(inp, format!("expected block label to be a double quoted string, but got {quoted}"));
            }
            let mut value = SmolStr::default();
            if raw.len() > 2 {
                let inner = between_quotes(&raw);
                value = SmolStr::new(String::from_utf8_lossy(inner));
                if !is_valid_identifier(&value) {
                    let quoted = go_quote_bytes(inner);
                    error_here(inp, format!("expected block label to be a valid identifier, but got {quoted}"));
                }
            }
            label = Some(Label { value, span: next.span });
        } else {
            error_here(inp, format!("expected block label, got {}", next.kind));
        }
        bump(inp);
    }
    Some(BlockName { fragments, name, span, label })
}

/// The text of a string token without its first and last byte, as upstream slices it. An
/// unterminated string has no closing quote, so the cut may fall inside a character.
fn between_quotes(raw: &str) -> &[u8] {
    let bytes = raw.as_bytes();
    let start = 1.min(bytes.len());
    &bytes[start..bytes.len().saturating_sub(1).max(start)]
}

/// Tokens whose text upstream keeps as their literal (operators have none).
fn has_literal_text(kind: K) -> bool {
    matches!(kind, K::Ident | K::Number | K::Float | K::String | K::Bool | K::Null | K::Illegal | K::Comment)
}

fn statement<'a>(inp: &mut Inp<'a, '_>, expr: &Handle<'a, Expr>, block_body: &Handle<'a, Body>) -> PResult<Option<Stmt>> {
    let Some(name) = block_name(inp) else {
        advance_to(inp, K::Ident);
        return Ok(None);
    };
    match kind(inp) {
        K::Assign => {
            bump(inp);
            if name.fragments != 1 {
                let end = name.span.start + name.name.len() as u32;
                error_at(inp, Span::new(name.span.start, end), r#"attribute names may only consist of a single identifier with no ".""#);
            } else if let Some(label) = &name.label {
                let span = Span::new(label.span.start, label.span.start + label.value.len() as u32 + 2);
                error_at(inp, span, "attribute names may not have labels");
            }
            let first = name.name.split('.').next().unwrap_or_default();
            let ident = Ident { name: SmolStr::new(first), span: Span::new(name.span.start, name.span.start + first.len() as u32) };
            let value = inp.parse(expr)?;
            Ok(Some(Stmt::Attribute(Attribute { name: ident, value })))
        }
        K::LCurly => {
            let lcurly = expect_token(inp, K::LCurly);
            let body = inp.parse(block_body)?;
            let reported = inp.state().diagnostics.len();
            let rcurly = expect_token(inp, K::RCurly);
            if rcurly.kind == K::Eof {
                // The end of the file is where it shows; the brace is what needs fixing.
                if let Some(p) = inp.state().diagnostics.get_mut(reported) {
                    p.diagnostic.related.push(crate::Related { file: None, span: lcurly.span, message: "this block is never closed".into() });
                }
            }
            // An empty label is the same as no label.
            let label = name.label.filter(|l| !l.value.is_empty());
            Ok(Some(Stmt::Block(Block { name: name.name, name_span: name.span, label, body, lcurly: lcurly.span, rcurly: rcurly.span })))
        }
        other => {
            if name.fragments == 1 && name.label.as_ref().is_none_or(|l| l.value.is_empty()) {
                error_here(inp, format!("expected attribute assignment or block body, got {other}"));
            } else {
                error_here(inp, format!("expected block body, got {other}"));
            }
            advance_to(inp, K::Ident);
            Ok(None)
        }
    }
}

// ---- entry points ----

/// What a parse produced: the tree it could build and every diagnostic, in upstream's order.
#[derive(Clone, Debug)]
pub struct Parsed<T> {
    pub tree: T,
    pub diagnostics: Vec<Diagnostic>,
    pub lines: LineIndex,
}

impl<T> Parsed<T> {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// The most syntax errors reported for one text; garbage (a binary file, 100 000 NUL bytes)
/// would otherwise give one or two per byte. The rest are summed up in one last error.
pub const MAX_SYNTAX_ERRORS: usize = 100;

fn run<'a, O>(lexed: &'a Lexed, src: &'a [u8], parser: impl Parser<'a, Tokens<'a>, O, Extra<'a>>) -> (Option<O>, Vec<Diagnostic>) {
    let text = std::str::from_utf8(src).ok();
    let mut state = State { src, text, lines: &lexed.lines, diagnostics: Vec::new(), last_error_line: 0 };
    let output = parser.parse_with_state(&lexed.tokens, &mut state).into_output();
    let mut diagnostics = merge_diagnostics(&lexed.errors, state.diagnostics);
    if diagnostics.len() > MAX_SYNTAX_ERRORS {
        let more = diagnostics.len() - MAX_SYNTAX_ERRORS;
        let at = diagnostics[MAX_SYNTAX_ERRORS].span;
        diagnostics.truncate(MAX_SYNTAX_ERRORS);
        diagnostics.push(Diagnostic::error(at, format!("too many syntax errors: {more} more after this point are not shown")).with_code("parse"));
    }
    (output, diagnostics)
}

/// Interleaves scanner errors with parser errors as upstream's lazy scanner would have
/// reported them: a scanner error comes before any parser error raised at or after its token.
fn merge_diagnostics(scan: &[lexer::ScanError], parse: Vec<Pending>) -> Vec<Diagnostic> {
    let mut out = Vec::with_capacity(scan.len() + parse.len());
    let mut scan = scan.iter().peekable();
    for p in parse {
        while let Some(s) = scan.next_if(|s| s.token_index <= p.token_index) {
            out.push(scan_diagnostic(s));
        }
        out.push(p.diagnostic);
    }
    out.extend(scan.map(scan_diagnostic));
    out
}

fn scan_diagnostic(e: &lexer::ScanError) -> Diagnostic {
    Diagnostic::error(Span::at(e.offset), e.message.clone()).with_code("scan")
}

/// Parses a whole file.
/// The deepest nesting of `(`, `[` and `{` the parser follows. Deeper input is an error rather
/// than a stack overflow: the parser, the checker, the evaluator and the formatter all recurse
/// as deep as the tree (serde_json's default limit, far above any real configuration).
pub const MAX_NESTING: usize = 128;

/// The error at the first bracket that opens level `MAX_NESTING + 1`.
fn nesting_error(lexed: &Lexed) -> Option<Diagnostic> {
    let mut depth = 0usize;
    for t in &lexed.tokens {
        match t.kind {
            K::LParen | K::LBrack | K::LCurly => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(
                        Diagnostic::error(t.span, format!("nesting is too deep: more than {MAX_NESTING} levels of brackets and braces")).with_code("parse"),
                    );
                }
            }
            K::RParen | K::RBrack | K::RCurly => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

pub fn parse_file(src: &[u8]) -> Parsed<File> {
    let lexed = lexer::lex(src);
    if let Some(d) = nesting_error(&lexed) {
        let Lexed { comments, comment_groups, lines, .. } = lexed;
        return Parsed { tree: File { body: Vec::new(), comments, comment_groups }, diagnostics: vec![d], lines };
    }
    let (body, diagnostics) = {
        let root = grammar();
        let g = &root.grammar;
        let file_body = custom(|inp| parse_body(inp, K::Eof, &g.expr, &g.block_body)).then_ignore(any().repeated());
        run(&lexed, src, file_body)
    };
    let Lexed { comments, comment_groups, lines, .. } = lexed;
    Parsed { tree: File { body: body.unwrap_or_default(), comments, comment_groups }, diagnostics, lines }
}

/// Parses one expression; like upstream, anything after the first terminator is ignored.
pub fn parse_expression(src: &[u8]) -> Parsed<Expr> {
    let lexed = lexer::lex(src);
    let fallback = || Expr::Literal(Literal { kind: LiteralKind::Null, text: "null".into(), span: Span::at(0) });
    if let Some(d) = nesting_error(&lexed) {
        return Parsed { tree: fallback(), diagnostics: vec![d], lines: lexed.lines };
    }
    let (expr, diagnostics) = {
        let root = grammar();
        let parser = root.grammar.expr.clone().then_ignore(expect(K::Terminator)).then_ignore(any().repeated());
        run(&lexed, src, parser)
    };
    Parsed { tree: expr.unwrap_or_else(fallback), diagnostics, lines: lexed.lines }
}

/// Parses a sequence of statements (a block body without its braces).
pub fn parse_body_text(src: &[u8]) -> Parsed<Body> {
    let parsed = parse_file(src);
    Parsed { tree: parsed.tree.body, diagnostics: parsed.diagnostics, lines: parsed.lines }
}
