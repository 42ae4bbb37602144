//! The parser: tokens to a flat [`Tree`], never failing.
//!
//! A hand-written recursive-descent parser over the scanner's token stream. Upstream's recovery is
//! procedural (it reports at the current token, drops a second error on the same line and
//! skips tokens by rules of its own), so the parser is too: each function below is one of
//! upstream's parse steps, and reproducing them is what makes our diagnostics match upstream's
//! line for line. Every function succeeds, so the tree is always complete (a bad primary
//! becomes `null`); errors are collected beside it.

use crate::ast::{BinaryOp, Body, Expr, File, LiteralKind, UnaryOp};
use crate::diagnostics::Diagnostic;
use crate::lexer::{self, is_valid_identifier, Lexed, Scanner};
use crate::quote::go_quote_bytes;
use crate::span::{LineIndex, Span};
use crate::token::{Token, TokenKind as K};
use crate::tree::{BlockHeader, NodeId, Tree};

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
    /// The tree being built.
    tree: Tree<'a>,
    /// Lists under construction, innermost last: a list's items are pushed here and copied
    /// into the tree when it closes (the nested lists it contains have been copied by then).
    scratch: Vec<u32>,
    /// Height of the expression returned last (a literal is 1), and how many unary operators
    /// and `^` operands the parser is inside: both are bounded by [`MAX_EXPR_DEPTH`].
    height: u32,
    operators: u32,
}

impl<'a> Parser<'a> {
    fn new(src: &'a [u8]) -> Self {
        let text = std::str::from_utf8(src).ok();
        let mut parser = Parser {
            scanner: Scanner::new(src),
            cur: Token { kind: K::Eof, span: Span::at(0) },
            pos: 0,
            depth: 0,
            too_deep: None,
            src,
            text,
            diagnostics: Vec::new(),
            last_error_line: 0,
            tree: Tree::new(src, text),
            scratch: Vec::with_capacity(64),
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
    fn built(&mut self, expr: NodeId, children: u32, at: Span) -> NodeId {
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

    // ---- expressions ----

    fn binary(&mut self, left: NodeId, op: Token, right: NodeId) -> NodeId {
        let op_kind = BinaryOp::from_token(op.kind).unwrap_or(BinaryOp::Add);
        self.tree.binary(op_kind, op.span, left, right)
    }

    fn expr(&mut self) -> NodeId {
        self.binary_expr(1)
    }

    /// upstream's `parseBinOp`: left-associative levels from `min_prec` up, `^` handled below.
    fn binary_expr(&mut self, min_prec: u8) -> NodeId {
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
            let node = self.binary(left, op, right);
            left = self.built(node, children, op.span);
        }
    }

    /// `unary [ "^" pow ]`: right-associative.
    fn pow_expr(&mut self) -> NodeId {
        let left = self.unary_expr();
        let left_height = self.height;
        let op = self.current();
        if op.kind != K::Pow {
            return left;
        }
        self.bump();
        let right = self.nested_operand(op.span, Self::pow_expr);
        let children = left_height.max(self.height);
        let node = self.binary(left, op, right);
        self.built(node, children, op.span)
    }

    /// The right operand of `^` or the operand of a unary operator: the parser recurses for
    /// each, so their count is bounded before the recursion rather than by the tree's height.
    fn nested_operand(&mut self, at: Span, operand: fn(&mut Self) -> NodeId) -> NodeId {
        self.operators += 1;
        if self.operators as usize > MAX_EXPR_DEPTH {
            self.refuse_height(at);
        }
        let expr = operand(self);
        self.operators -= 1;
        expr
    }

    fn unary_expr(&mut self) -> NodeId {
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
        let node = self.tree.unary(op_kind, op.span, operand);
        self.built(node, children, op.span)
    }

    fn primary_expr(&mut self) -> NodeId {
        let token = self.current();
        let kind = match token.kind {
            K::Ident => {
                self.bump();
                self.height = 1;
                return self.tree.ident(token.span);
            }
            K::LParen => {
                self.enter();
                self.bump();
                let inner = self.expr();
                let children = self.height;
                let rparen = self.expect(K::RParen);
                self.leave();
                let node = self.tree.paren(token.span, inner, rparen.span);
                return self.built(node, children, token.span);
            }
            K::LBrack => {
                self.enter();
                self.bump();
                let (start, children) = self.expression_list(K::RBrack);
                let rbrack = self.expect(K::RBrack);
                self.leave();
                let node = self.tree.array(token.span, &self.scratch[start..], rbrack.span);
                self.scratch.truncate(start);
                return self.built(node, children, token.span);
            }
            K::LCurly => {
                self.enter();
                self.bump();
                // Upstream compares against `]` here, so `{]` skips the field list.
                let (start, children) = if self.kind() == K::RBrack { (self.scratch.len(), 0) } else { self.field_list() };
                let rcurly = self.expect(K::RCurly);
                self.leave();
                let node = self.tree.object(token.span, &self.scratch[start..], rcurly.span);
                self.scratch.truncate(start);
                return self.built(node, children, token.span);
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
                return self.tree.missing(token.span);
            }
        };
        self.bump();
        self.height = 1;
        self.tree.literal(kind, token.span)
    }

    /// `.name`, `[index]`, `(args)` after a primary, and the block-as-expression recovery.
    fn postfix_chain(&mut self, mut value: NodeId) -> NodeId {
        loop {
            let height = self.height;
            match self.kind() {
                K::Dot => {
                    let dot = self.current();
                    self.bump();
                    let name = self.expect(K::Ident);
                    let named = matches!(name.kind, K::Ident | K::Bool | K::Null | K::Number | K::Float | K::String);
                    let node = self.tree.access(value, name.span, named);
                    value = self.built(node, height, dot.span);
                }
                K::LBrack => {
                    self.enter();
                    let lbrack = self.expect(K::LBrack);
                    let index = self.expr();
                    let children = height.max(self.height);
                    let rbrack = self.expect(K::RBrack);
                    self.leave();
                    let node = self.tree.index(value, lbrack.span, index, rbrack.span);
                    value = self.built(node, children, lbrack.span);
                }
                K::LParen => {
                    self.enter();
                    let lparen = self.expect(K::LParen);
                    let (start, args_height) = self.expression_list(K::RParen);
                    let rparen = self.expect(K::RParen);
                    self.leave();
                    let node = self.tree.call(value, lparen.span, &self.scratch[start..], rparen.span);
                    self.scratch.truncate(start);
                    value = self.built(node, height.max(args_height), lparen.span);
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
                    let start = self.body(K::RCurly);
                    self.scratch.truncate(start);
                    let end = self.expect(K::RCurly);
                    self.leave();
                    if end.kind != K::RCurly {
                        self.consume_statement();
                        self.height = height;
                        return value;
                    }
                    let span = Span::new(self.tree.expr_start(value), end.span.end);
                    self.error_at(span, "cannot use a block as an expression");
                    self.height = height;
                }
                _ => return value,
            }
        }
    }

    /// Expressions separated by commas up to `closer` (not consumed), left on the scratch
    /// stack from the returned index, and the height of the highest.
    fn expression_list(&mut self, closer: K) -> (usize, u32) {
        let start = self.scratch.len();
        let mut height = 0;
        while !matches!(self.kind(), k if k == closer || k == K::Eof) {
            let item = self.expr();
            height = height.max(self.height);
            self.scratch.push(item.0);
            if self.kind() == closer {
                break;
            }
            if self.kind() != K::Comma {
                self.error_here("missing ',' in expression list".to_string());
            }
            self.bump();
        }
        (start, height)
    }

    /// Fields up to `}`, left on the scratch stack like [`Self::expression_list`]'s.
    fn field_list(&mut self) -> (usize, u32) {
        let start = self.scratch.len();
        let mut height = 0;
        while !matches!(self.kind(), K::RCurly | K::Eof) {
            let field = self.field();
            height = height.max(self.height);
            self.scratch.push(field.0);
            if self.kind() == K::RCurly {
                break;
            }
            if self.kind() != K::Comma {
                self.error_here("missing ',' in field list".to_string());
            }
            self.bump();
        }
        (start, height)
    }

    fn field(&mut self) -> NodeId {
        let token = self.current();
        let (key, quoted) = match token.kind {
            K::Ident | K::String => {
                self.bump();
                (token.span, token.kind == K::String && token.span.len() > 2)
            }
            other => {
                self.error_here(format!("expected field name (string or identifier), got {other}"));
                self.advance_to(K::Assign);
                (Span::at(token.span.start), false)
            }
        };
        self.expect(K::Assign);
        let value = self.expr();
        self.tree.add_field(key, quoted, value)
    }

    // ---- statements ----

    /// Statements up to `closer` (not consumed) or EOF, left on the scratch stack from the
    /// returned index.
    fn body(&mut self, closer: K) -> usize {
        let start = self.scratch.len();
        while !matches!(self.kind(), k if k == closer || k == K::Eof) {
            if let Some(stmt) = self.statement() {
                self.scratch.push(stmt.0);
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
        start
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
        let name_len = built.as_ref().map_or(span.len(), |name| name.len() as u32);
        let mut label = None;
        let next = self.current();
        if !matches!(next.kind, K::Assign | K::LCurly) {
            if next.kind == K::String {
                let raw = self.text(next.span);
                if !raw.starts_with('"') {
                    let quoted = go_quote_bytes(raw.as_bytes());
                    self.error_here(format!("expected block label to be a double quoted string, but got {quoted}"));
                }
                if raw.len() > 2 {
                    let inner = between_quotes(&raw);
                    if !is_valid_identifier(&String::from_utf8_lossy(inner)) {
                        let quoted = go_quote_bytes(inner);
                        self.error_here(format!("expected block label to be a valid identifier, but got {quoted}"));
                    }
                }
                label = Some(LabelToken { span: next.span, value_len: (raw.len() as u32).saturating_sub(2) });
            } else {
                self.error_here(format!("expected block label, got {}", next.kind));
            }
            self.bump();
        }
        Some(BlockName { fragments, first: first.span, built, name_len, span, label })
    }

    fn statement(&mut self) -> Option<NodeId> {
        let Some(name) = self.block_name() else {
            self.advance_to(K::Ident);
            return None;
        };
        match self.kind() {
            K::Assign => {
                self.bump();
                if name.fragments != 1 {
                    let end = name.span.start + name.name_len;
                    self.error_at(Span::new(name.span.start, end), r#"attribute names may only consist of a single identifier with no ".""#);
                } else if let Some(label) = &name.label {
                    let span = Span::new(label.span.start, label.span.start + label.value_len + 2);
                    self.error_at(span, "attribute names may not have labels");
                }
                let value = self.expr();
                Some(self.tree.attribute(name.first, value))
            }
            K::LCurly => {
                self.enter();
                let lcurly = self.expect(K::LCurly);
                let start = self.body(K::RCurly);
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
                let label = name.label.filter(|l| l.value_len > 0).map(|l| l.span);
                let header = BlockHeader { name_span: name.span, owned_name: name.built, label };
                let node = self.tree.block(header, lcurly.span, &self.scratch[start..], rcurly.span);
                self.scratch.truncate(start);
                Some(node)
            }
            other => {
                if name.fragments == 1 && name.label.as_ref().is_none_or(|l| l.value_len == 0) {
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

/// A block name as read before deciding between attribute and block.
struct BlockName {
    fragments: usize,
    /// The first fragment (an attribute's name).
    first: Span,
    /// The name when it is not the source text of `span` (blanks around a dot).
    built: Option<String>,
    /// Length of the name in bytes.
    name_len: u32,
    span: Span,
    label: Option<LabelToken>,
}

/// A string token read as a block label, and the length of its text between the quotes.
struct LabelToken {
    span: Span,
    value_len: u32,
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

/// Parses a whole file into a flat tree over `src`.
pub fn parse_tree(src: &[u8]) -> Parsed<Tree<'_>> {
    let mut parser = Parser::new(src);
    let start = parser.body(K::Eof);
    parser.tree.set_body(&parser.scratch[start..]);
    let too_deep = parser.too_deep.is_some();
    let mut tree = std::mem::replace(&mut parser.tree, Tree::new(&[], None));
    let (diagnostics, lexed) = parser.finish();
    if too_deep {
        tree.clear();
    }
    let Lexed { comments, comment_groups, lines, .. } = lexed;
    tree.comments = comments;
    tree.comment_groups = comment_groups;
    Parsed { tree, diagnostics, lines }
}

/// Parses a whole file into the owned tree.
pub fn parse_file(src: &[u8]) -> Parsed<File> {
    let Parsed { tree, diagnostics, lines } = parse_tree(src);
    Parsed { tree: tree.into_file(), diagnostics, lines }
}

/// Parses one expression; like upstream, anything after the first terminator is ignored.
pub fn parse_expression(src: &[u8]) -> Parsed<Expr> {
    let mut parser = Parser::new(src);
    let root = parser.expr();
    parser.expect(K::Terminator);
    let too_deep = parser.too_deep.is_some();
    let tree = if too_deep {
        Expr::Literal(crate::ast::Literal { kind: LiteralKind::Null, text: "null".into(), span: Span::at(0) })
    } else {
        parser.tree.to_expr(root)
    };
    let (diagnostics, lexed) = parser.finish();
    Parsed { tree, diagnostics, lines: lexed.lines }
}

/// Parses a sequence of statements (a block body without its braces).
pub fn parse_body_text(src: &[u8]) -> Parsed<Body> {
    let parsed = parse_file(src);
    Parsed { tree: parsed.tree.body, diagnostics: parsed.diagnostics, lines: parsed.lines }
}
