//! The parser: tokens to [`ast`](crate::ast), never failing.
//!
//! A hand-written recursive-descent parser over the scanner's token stream. Upstream's recovery is
//! procedural (it reports at the current token, drops a second error on the same line and
//! skips tokens by rules of its own), so the parser is too: each function below is one of
//! upstream's parse steps, and reproducing them is what makes our diagnostics match upstream's
//! line for line. Every function succeeds, so the AST is always complete (a bad primary
//! becomes `null`); errors are collected beside it.

use smol_str::SmolStr;

use crate::ast::*;
use crate::diagnostics::Diagnostic;
use crate::lexer::{self, is_valid_identifier, Lexed, Scanner};
use crate::quote::go_quote_bytes;
use crate::span::{LineIndex, Span};
use crate::token::{Token, TokenKind as K};

/// A diagnostic from the parser, with the index of the token that was current when it arose.
struct Pending {
    token_index: u32,
    diagnostic: Diagnostic,
}

/// One parse: the token stream, the source (for token text) and the diagnostics found so far.
struct Parser<'a> {
    scanner: Scanner<'a>,
    /// The current token and its index in the stream.
    cur: Token,
    pos: u32,
    /// Bracketed constructs the parser is inside, and the error once they exceed
    /// [`MAX_NESTING`] (from then on the stream answers `Eof`).
    depth: usize,
    too_deep: Option<Diagnostic>,
    src: &'a [u8],
    /// The source as text when it is valid UTF-8 (checked once, not per token).
    text: Option<&'a str>,
    diagnostics: Vec<Pending>,
    /// Line of the last error reported through the suppressing path (0: none yet).
    last_error_line: u32,
    /// Lists under construction, innermost last: a list's items are pushed here and moved into
    /// a vector of exactly their number when it closes, so no list grows by doubling (the
    /// nested lists it contains have been moved out by then).
    scratch_stmts: Vec<Stmt>,
    scratch_exprs: Vec<Expr>,
    scratch_fields: Vec<ObjectField>,
    /// Height of the expression returned last (a literal is 1), and how many unary operators
    /// and `^` operands the parser is inside: both are bounded by [`MAX_EXPR_DEPTH`].
    height: u32,
    operators: u32,
}

impl<'a> Parser<'a> {
    fn new(src: &'a [u8]) -> Self {
        let mut parser = Parser {
            scanner: Scanner::new(src),
            cur: Token { kind: K::Eof, span: Span::at(0) },
            pos: 0,
            depth: 0,
            too_deep: None,
            src,
            text: std::str::from_utf8(src).ok(),
            diagnostics: Vec::new(),
            last_error_line: 0,
            scratch_stmts: Vec::new(),
            scratch_exprs: Vec::new(),
            scratch_fields: Vec::new(),
            height: 0,
            operators: 0,
        };
        parser.cur = parser.pull();
        parser
    }

    /// The next token of the stream (`Eof` once the input has been refused as too deep).
    #[inline]
    fn pull(&mut self) -> Token {
        if self.too_deep.is_some() {
            return self.eof();
        }
        self.scanner.next_token()
    }

    /// Enters the construct the current bracket opens. The count follows the parser's own
    /// recursion, not the brackets in the text: recovery can leave a construct open at a
    /// closing bracket of another kind (`[ } [ } …`), and then only this count sees the depth.
    fn enter(&mut self) {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            let message = format!("nesting is too deep: more than {MAX_NESTING} levels of brackets and braces");
            self.refuse_depth(self.cur.span, message);
        }
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn eof(&self) -> Token {
        Token { kind: K::Eof, span: Span::at(self.src.len() as u32) }
    }

    // ---- token-level helpers (upstream's `p.tok`, `p.next()`, `expect`, `advance`) ----

    #[inline]
    fn current(&self) -> Token {
        self.cur
    }

    #[inline]
    fn kind(&self) -> K {
        self.cur.kind
    }

    /// Moves to the next token; the scanner keeps answering EOF at the end.
    #[inline]
    fn bump(&mut self) {
        if self.cur.kind != K::Eof {
            self.cur = self.pull();
            self.pos += 1;
        }
    }

    /// Ends the parse: input nested deeper than the limits yields only this error (the caller
    /// drops the tree), and the stream answers `Eof` from here on so every level returns.
    fn refuse_depth(&mut self, span: Span, message: String) {
        if self.too_deep.is_none() {
            self.too_deep = Some(Diagnostic::error(span, message).with_code("parse"));
        }
        self.cur = self.eof();
    }

    fn refuse_height(&mut self, at: Span) {
        self.refuse_depth(at, format!("expression is too deep: more than {MAX_EXPR_DEPTH} nested operations"));
    }

    /// Records the height of an expression built from children of at most `children` high,
    /// refusing trees higher than [`MAX_EXPR_DEPTH`] (a chain like `1 + 1 + …` nests without
    /// any bracket, and every pass over the tree recurses as deep as it is high).
    fn built(&mut self, expr: Expr, children: u32, at: Span) -> Expr {
        self.height = children + 1;
        if self.height as usize > MAX_EXPR_DEPTH {
            self.refuse_height(at);
        }
        expr
    }

    /// Reports at the current token unless the previous such error was on the same line.
    fn error_here(&mut self, message: String) {
        let token = self.current();
        let line = self.scanner.lines().line(token.span.start);
        if self.last_error_line == line {
            return;
        }
        self.last_error_line = line;
        self.diagnostics.push(Pending { token_index: self.pos, diagnostic: Diagnostic::error(token.span, message).with_code("parse") });
    }

    /// Reports an error that is never suppressed (and does not count for suppression).
    fn error_at(&mut self, span: Span, message: &str) {
        self.diagnostics.push(Pending { token_index: self.pos, diagnostic: Diagnostic::error(span, message).with_code("parse") });
    }

    /// upstream's `expect`: reports a mismatch and consumes the token either way.
    fn expect(&mut self, want: K) -> Token {
        let token = self.current();
        if token.kind != want {
            self.error_here(format!("expected {want}, got {}", token.kind));
        }
        self.bump();
        token
    }

    /// Skips to the next `to` token (or EOF), not consuming it.
    fn advance_to(&mut self, to: K) {
        loop {
            let k = self.kind();
            if k == K::Eof || k == to {
                return;
            }
            self.bump();
        }
    }

    /// Skips the rest of a statement: to a terminator outside any bracket pair.
    fn consume_statement(&mut self) {
        let (mut curly, mut brack, mut paren) = (0i32, 0i32, 0i32);
        loop {
            match self.kind() {
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
            self.bump();
        }
    }

    fn text(&self, span: Span) -> std::borrow::Cow<'a, str> {
        match self.text.and_then(|t| t.get(span.range())) {
            Some(s) => std::borrow::Cow::Borrowed(s),
            // Only reachable when the scanner has already reported the bad encoding.
            None => String::from_utf8_lossy(&self.src[span.range()]),
        }
    }

    fn token_text(&self, token: Token) -> SmolStr {
        SmolStr::new(self.text(token.span))
    }

    // ---- expressions ----

    fn expr(&mut self) -> Expr {
        self.binary_expr(1)
    }

    /// upstream's `parseBinOp`: left-associative levels from `min_prec` up, `^` handled below.
    fn binary_expr(&mut self, min_prec: u8) -> Expr {
        let mut left = self.pow_expr();
        loop {
            let left_height = self.height;
            let op = self.current();
            let prec = op.kind.binary_precedence();
            if prec == 0 || prec < min_prec {
                return left;
            }
            self.bump();
            let right = self.binary_expr(prec + 1);
            let children = left_height.max(self.height);
            left = self.built(binary(left, op, right), children, op.span);
        }
    }

    /// `unary [ "^" pow ]`: right-associative.
    fn pow_expr(&mut self) -> Expr {
        let left = self.unary_expr();
        let left_height = self.height;
        let op = self.current();
        if op.kind != K::Pow {
            return left;
        }
        self.bump();
        let right = self.nested_operand(op.span, Self::pow_expr);
        let children = left_height.max(self.height);
        self.built(binary(left, op, right), children, op.span)
    }

    /// The right operand of `^` or the operand of a unary operator: the parser recurses for
    /// each, so their count is bounded before the recursion rather than by the tree's height.
    fn nested_operand(&mut self, at: Span, operand: fn(&mut Self) -> Expr) -> Expr {
        self.operators += 1;
        if self.operators as usize > MAX_EXPR_DEPTH {
            self.refuse_height(at);
        }
        let expr = operand(self);
        self.operators -= 1;
        expr
    }

    fn unary_expr(&mut self) -> Expr {
        let op = self.current();
        let op_kind = match op.kind {
            K::Not => UnaryOp::Not,
            K::Sub => UnaryOp::Neg,
            _ => {
                let primary = self.primary_expr();
                return self.postfix_chain(primary);
            }
        };
        self.bump();
        let operand = self.nested_operand(op.span, Self::unary_expr);
        let children = self.height;
        self.built(Expr::Unary(Box::new(Unary { op: op_kind, op_span: op.span, operand })), children, op.span)
    }

    fn primary_expr(&mut self) -> Expr {
        let token = self.current();
        let kind = match token.kind {
            K::Ident => {
                self.bump();
                self.height = 1;
                return Expr::Ident(Ident { name: self.token_text(token), span: token.span });
            }
            K::LParen => {
                self.enter();
                self.bump();
                let inner = self.expr();
                let children = self.height;
                let rparen = self.expect(K::RParen);
                self.leave();
                return self.built(Expr::Paren(Box::new(Paren { inner, lparen: token.span, rparen: rparen.span })), children, token.span);
            }
            K::LBrack => {
                self.enter();
                self.bump();
                let (elements, children) = self.expression_list(K::RBrack);
                let rbrack = self.expect(K::RBrack);
                self.leave();
                return self.built(Expr::Array(Array { elements, lbrack: token.span, rbrack: rbrack.span }), children, token.span);
            }
            K::LCurly => {
                self.enter();
                self.bump();
                // Upstream compares against `]` here, so `{]` skips the field list.
                let (fields, children) = if self.kind() == K::RBrack { (Vec::new(), 0) } else { self.field_list() };
                let rcurly = self.expect(K::RCurly);
                self.leave();
                return self.built(Expr::Object(Object { fields, lcurly: token.span, rcurly: rcurly.span }), children, token.span);
            }
            K::String => LiteralKind::String,
            K::Number => LiteralKind::Number,
            K::Float => LiteralKind::Float,
            K::Bool => LiteralKind::Bool,
            K::Null => LiteralKind::Null,
            other => {
                self.error_here(format!("expected expression, got {other}"));
                loop {
                    match self.kind() {
                        K::Eof | K::Terminator | K::RParen | K::RCurly | K::RBrack | K::Comma => break,
                        _ => self.bump(),
                    }
                }
                self.height = 1;
                return Expr::Literal(Literal { kind: LiteralKind::Null, text: SmolStr::new_static("null"), span: token.span });
            }
        };
        self.bump();
        self.height = 1;
        Expr::Literal(Literal { kind, text: self.token_text(token), span: token.span })
    }

    /// `.name`, `[index]`, `(args)` after a primary, and the block-as-expression recovery.
    fn postfix_chain(&mut self, mut value: Expr) -> Expr {
        loop {
            let height = self.height;
            match self.kind() {
                K::Dot => {
                    let dot = self.current();
                    self.bump();
                    let name = self.expect(K::Ident);
                    let text = if matches!(name.kind, K::Ident | K::Bool | K::Null | K::Number | K::Float | K::String) {
                        self.token_text(name)
                    } else {
                        SmolStr::default()
                    };
                    value = self.built(Expr::Access(Box::new(Access { value, field: Ident { name: text, span: name.span } })), height, dot.span);
                }
                K::LBrack => {
                    self.enter();
                    let lbrack = self.expect(K::LBrack);
                    let index = self.expr();
                    let children = height.max(self.height);
                    let rbrack = self.expect(K::RBrack);
                    self.leave();
                    value = self.built(Expr::Index(Box::new(Index { value, index, lbrack: lbrack.span, rbrack: rbrack.span })), children, lbrack.span);
                }
                K::LParen => {
                    self.enter();
                    let lparen = self.expect(K::LParen);
                    let (args, args_height) = self.expression_list(K::RParen);
                    let rparen = self.expect(K::RParen);
                    self.leave();
                    value = self.built(
                        Expr::Call(Box::new(Call { callee: value, args, lparen: lparen.span, rparen: rparen.span })),
                        height.max(args_height),
                        lparen.span,
                    );
                }
                K::String | K::LCurly => {
                    if self.kind() == K::String {
                        self.bump();
                    }
                    if self.kind() == K::LCurly {
                        self.enter();
                    }
                    if self.expect(K::LCurly).kind != K::LCurly {
                        self.consume_statement();
                        self.height = height;
                        return value;
                    }
                    self.body(K::RCurly);
                    let end = self.expect(K::RCurly);
                    self.leave();
                    if end.kind != K::RCurly {
                        self.consume_statement();
                        self.height = height;
                        return value;
                    }
                    let span = Span::new(value.span().start, end.span.end);
                    self.error_at(span, "cannot use a block as an expression");
                    self.height = height;
                }
                _ => return value,
            }
        }
    }

    /// Expressions separated by commas up to `closer` (not consumed), and the height of the
    /// highest.
    fn expression_list(&mut self, closer: K) -> (Vec<Expr>, u32) {
        let start = self.scratch_exprs.len();
        let mut height = 0;
        while !matches!(self.kind(), k if k == closer || k == K::Eof) {
            let item = self.expr();
            height = height.max(self.height);
            self.scratch_exprs.push(item);
            if self.kind() == closer {
                break;
            }
            if self.kind() != K::Comma {
                self.error_here("missing ',' in expression list".to_string());
            }
            self.bump();
        }
        (self.scratch_exprs.drain(start..).collect(), height)
    }

    fn field_list(&mut self) -> (Vec<ObjectField>, u32) {
        let start = self.scratch_fields.len();
        let mut height = 0;
        while !matches!(self.kind(), K::RCurly | K::Eof) {
            let field = self.field();
            height = height.max(self.height);
            self.scratch_fields.push(field);
            if self.kind() == K::RCurly {
                break;
            }
            if self.kind() != K::Comma {
                self.error_here("missing ',' in field list".to_string());
            }
            self.bump();
        }
        (self.scratch_fields.drain(start..).collect(), height)
    }

    fn field(&mut self) -> ObjectField {
        let token = self.current();
        let (key, quoted) = match token.kind {
            K::Ident | K::String => {
                self.bump();
                let raw = self.token_text(token);
                if token.kind == K::String && raw.len() > 2 {
                    (Ident { name: SmolStr::new(String::from_utf8_lossy(between_quotes(&raw))), span: token.span }, true)
                } else {
                    (Ident { name: raw, span: token.span }, false)
                }
            }
            other => {
                self.error_here(format!("expected field name (string or identifier), got {other}"));
                self.advance_to(K::Assign);
                (Ident { name: SmolStr::default(), span: Span::at(token.span.start) }, false)
            }
        };
        self.expect(K::Assign);
        let value = self.expr();
        ObjectField { key, quoted, value }
    }

    // ---- statements ----

    /// Statements up to `closer` (not consumed) or EOF.
    fn body(&mut self, closer: K) -> Body {
        let start = self.scratch_stmts.len();
        while !matches!(self.kind(), k if k == closer || k == K::Eof) {
            if let Some(stmt) = self.statement() {
                self.scratch_stmts.push(stmt);
            }
            let k = self.kind();
            if k == closer {
                break;
            }
            if k != K::Terminator {
                self.error_here(format!("expected TERMINATOR, got {k}"));
                self.consume_statement();
            }
            self.bump();
        }
        self.scratch_stmts.drain(start..).collect()
    }

    fn block_name(&mut self) -> Option<BlockName> {
        let first = self.current();
        if first.kind != K::Ident {
            self.error_here(format!("expected identifier, got {}", first.kind));
            return None;
        }
        // Names are almost always written without blanks around the dots: then the name is the
        // source text itself and needs no building.
        let mut built: Option<String> = None;
        let mut span = first.span;
        let mut fragments = 1;
        self.bump();
        while self.kind() == K::Dot {
            let dot = self.current();
            self.bump();
            let fragment = self.current();
            if fragment.kind != K::Ident {
                self.error_here(format!("expected identifier, got {}", fragment.kind));
            }
            let adjacent = dot.span.start == span.end && fragment.span.start == dot.span.end && fragment.kind == K::Ident;
            if built.is_none() && !adjacent {
                built = Some(self.text(span).into_owned());
            }
            if let Some(name) = built.as_mut() {
                name.push('.');
                if has_literal_text(fragment.kind) {
                    name.push_str(&self.text(fragment.span));
                }
            }
            span = span.cover(fragment.span);
            fragments += 1;
            self.bump();
        }
        let name = match built {
            Some(name) => SmolStr::new(name),
            None => SmolStr::new(self.text(span)),
        };
        let mut label = None;
        let next = self.current();
        if !matches!(next.kind, K::Assign | K::LCurly) {
            if next.kind == K::String {
                let raw = self.token_text(next);
                if !raw.starts_with('"') {
                    let quoted = go_quote_bytes(raw.as_bytes());
                    self.error_here(format!("expected block label to be a double quoted string, but got {quoted}"));
                }
                let mut value = SmolStr::default();
                if raw.len() > 2 {
                    let inner = between_quotes(&raw);
                    value = SmolStr::new(String::from_utf8_lossy(inner));
                    if !is_valid_identifier(&value) {
                        let quoted = go_quote_bytes(inner);
                        self.error_here(format!("expected block label to be a valid identifier, but got {quoted}"));
                    }
                }
                label = Some(Label { value, span: next.span });
            } else {
                self.error_here(format!("expected block label, got {}", next.kind));
            }
            self.bump();
        }
        Some(BlockName { fragments, name, span, label })
    }

    fn statement(&mut self) -> Option<Stmt> {
        let Some(name) = self.block_name() else {
            self.advance_to(K::Ident);
            return None;
        };
        match self.kind() {
            K::Assign => {
                self.bump();
                if name.fragments != 1 {
                    let end = name.span.start + name.name.len() as u32;
                    self.error_at(Span::new(name.span.start, end), r#"attribute names may only consist of a single identifier with no ".""#);
                } else if let Some(label) = &name.label {
                    let span = Span::new(label.span.start, label.span.start + label.value.len() as u32 + 2);
                    self.error_at(span, "attribute names may not have labels");
                }
                let first = name.name.split('.').next().unwrap_or_default();
                let ident = Ident { name: SmolStr::new(first), span: Span::new(name.span.start, name.span.start + first.len() as u32) };
                let value = self.expr();
                Some(Stmt::Attribute(Attribute { name: ident, value }))
            }
            K::LCurly => {
                self.enter();
                let lcurly = self.expect(K::LCurly);
                let body = self.body(K::RCurly);
                let reported = self.diagnostics.len();
                let rcurly = self.expect(K::RCurly);
                self.leave();
                if rcurly.kind == K::Eof {
                    // The end of the file is where it shows; the brace is what needs fixing.
                    if let Some(p) = self.diagnostics.get_mut(reported) {
                        p.diagnostic.related.push(crate::Related { file: None, span: lcurly.span, message: "this block is never closed".into() });
                    }
                }
                // An empty label is the same as no label.
                let label = name.label.filter(|l| !l.value.is_empty());
                Some(Stmt::Block(Block { name: name.name, name_span: name.span, label, body, lcurly: lcurly.span, rcurly: rcurly.span }))
            }
            other => {
                if name.fragments == 1 && name.label.as_ref().is_none_or(|l| l.value.is_empty()) {
                    self.error_here(format!("expected attribute assignment or block body, got {other}"));
                } else {
                    self.error_here(format!("expected block body, got {other}"));
                }
                self.advance_to(K::Ident);
                None
            }
        }
    }

    /// Reads the rest of the stream (a bracket after an expression's terminator still counts
    /// for nesting), then returns the diagnostics, scanner errors merged in and capped at
    /// [`MAX_SYNTAX_ERRORS`], with the scanner's side products. Input nested too deep yields
    /// only that error, and the caller drops the tree.
    fn finish(mut self) -> (Vec<Diagnostic>, Lexed) {
        while self.cur.kind != K::Eof {
            self.bump();
        }
        let lexed = self.scanner.finish(Vec::new());
        if let Some(d) = self.too_deep {
            return (vec![d], lexed);
        }
        let mut diagnostics = merge_diagnostics(&lexed.errors, self.diagnostics);
        if diagnostics.len() > MAX_SYNTAX_ERRORS {
            let more = diagnostics.len() - MAX_SYNTAX_ERRORS;
            let at = diagnostics[MAX_SYNTAX_ERRORS].span;
            diagnostics.truncate(MAX_SYNTAX_ERRORS);
            diagnostics.push(Diagnostic::error(at, format!("too many syntax errors: {more} more after this point are not shown")).with_code("parse"));
        }
        (diagnostics, lexed)
    }
}

fn binary(left: Expr, op: Token, right: Expr) -> Expr {
    let op_kind = BinaryOp::from_token(op.kind).unwrap_or(BinaryOp::Add);
    Expr::Binary(Box::new(Binary { op: op_kind, op_span: op.span, left, right }))
}

/// A block name as read before deciding between attribute and block.
struct BlockName {
    fragments: usize,
    name: SmolStr,
    span: Span,
    label: Option<Label>,
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

/// The deepest nesting of `(`, `[` and `{` the parser follows. Deeper input is an error rather
/// than a stack overflow: the parser, the checker, the evaluator and the formatter all recurse
/// as deep as the tree (serde_json's default limit, far above any real configuration).
pub const MAX_NESTING: usize = 128;

/// The highest expression tree the parser builds, counting every operation, access, call,
/// index and bracket on the way down from the top (a chain `a + b + c` is 3 high). The tree's
/// consumers recurse once per level, on threads with 2 MiB stacks in debug builds.
pub const MAX_EXPR_DEPTH: usize = 256;

/// Parses a whole file.
pub fn parse_file(src: &[u8]) -> Parsed<File> {
    let mut parser = Parser::new(src);
    let mut body = parser.body(K::Eof);
    let too_deep = parser.too_deep.is_some();
    let (diagnostics, lexed) = parser.finish();
    if too_deep {
        body = Vec::new();
    }
    let Lexed { comments, comment_groups, lines, .. } = lexed;
    Parsed { tree: File { body, comments, comment_groups }, diagnostics, lines }
}

/// Parses one expression; like upstream, anything after the first terminator is ignored.
pub fn parse_expression(src: &[u8]) -> Parsed<Expr> {
    let mut parser = Parser::new(src);
    let mut tree = parser.expr();
    parser.expect(K::Terminator);
    let too_deep = parser.too_deep.is_some();
    let (diagnostics, lexed) = parser.finish();
    if too_deep {
        tree = Expr::Literal(Literal { kind: LiteralKind::Null, text: "null".into(), span: Span::at(0) });
    }
    Parsed { tree, diagnostics, lines: lexed.lines }
}

/// Parses a sequence of statements (a block body without its braces).
pub fn parse_body_text(src: &[u8]) -> Parsed<Body> {
    let parsed = parse_file(src);
    Parsed { tree: parsed.tree.body, diagnostics: parsed.diagnostics, lines: parsed.lines }
}
