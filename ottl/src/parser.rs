//! Recursive descent over the tokens: statements and conditions into [`crate::ast`].
//!
//! Precedence, loosest first: `or`, `and`, `not`, comparisons, `+ -`, `* /`, unary `-`.

use std::ops::Range;

use crate::ast::{Arg, Call, CompareOp, Condition, Expr, ExprKind, MathOp, Path, Statement};
use crate::lexer::{lex, Tok, Token};
use crate::Diagnostic;

/// Nesting deeper than this is refused instead of exhausting the stack.
pub const MAX_DEPTH: usize = 64;

/// The most binary operators (`or`, `and`, `+`, `-`, `*`, `/`) in one statement or condition. A
/// chain `a and b and c …` nests without brackets, one tree level per operator, and the
/// checker, the evaluator and dropping the tree recurse through every level.
pub const MAX_OPERATORS: usize = 256;

const KEYWORDS: [&str; 4] = ["where", "and", "or", "not"];

pub fn parse_statement(src: &str) -> Result<Statement, Diagnostic> {
    let mut p = Parser::new(src)?;
    let editor = match p.peek() {
        Tok::Ident(name) if !KEYWORDS.contains(&name.as_str()) && matches!(p.peek_at(1), Tok::LParen) => p.call()?,
        _ => return Err(p.unexpected("an editor invocation such as set(...)")),
    };
    let condition = if p.eat_keyword("where") { Some(p.expr()?) } else { None };
    p.expect_end(if condition.is_some() { "\"and\", \"or\" or the end of the statement" } else { "\"where\" or the end of the statement" })?;
    let end = condition.as_ref().map_or(editor.span.end, |c| c.span.end);
    Ok(Statement { span: editor.span.start..end, editor, condition })
}

pub fn parse_condition(src: &str) -> Result<Condition, Diagnostic> {
    let mut p = Parser::new(src)?;
    if matches!(p.peek(), Tok::Eof) {
        return Err(p.unexpected("a condition"));
    }
    let expr = p.expr()?;
    p.expect_end("\"and\", \"or\" or the end of the condition")?;
    Ok(Condition { expr })
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    operators: usize,
}

impl Parser {
    fn new(src: &str) -> Result<Parser, Diagnostic> {
        Ok(Parser { toks: lex(src)?, pos: 0, depth: 0, operators: 0 })
    }

    fn peek(&self) -> &Tok {
        self.peek_at(0)
    }

    fn peek_at(&self, n: usize) -> &Tok {
        let last = self.toks.len() - 1;
        &self.toks[(self.pos + n).min(last)].tok
    }

    fn span(&self) -> Range<usize> {
        self.toks[self.pos.min(self.toks.len() - 1)].span.clone()
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos.min(self.toks.len() - 1)].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn unexpected(&self, expected: &str) -> Diagnostic {
        Diagnostic { span: self.span(), message: format!("expected {expected}, found {}", self.peek().describe()) }
    }

    fn expect(&mut self, tok: Tok, expected: &str) -> Result<Range<usize>, Diagnostic> {
        if *self.peek() == tok {
            Ok(self.bump().span)
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn expect_end(&mut self, expected: &str) -> Result<(), Diagnostic> {
        if matches!(self.peek(), Tok::Eof) {
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        if matches!(self.peek(), Tok::Ident(s) if s == kw) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn enter(&mut self) -> Result<(), Diagnostic> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Diagnostic { span: self.span(), message: format!("expression nested too deeply (more than {MAX_DEPTH} levels)") });
        }
        Ok(())
    }

    /// Counts a binary operator (the current token), refusing one past [`MAX_OPERATORS`].
    fn operator(&mut self) -> Result<(), Diagnostic> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return Err(Diagnostic { span: self.span(), message: format!("expression has too many operators (more than {MAX_OPERATORS})") });
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, Diagnostic> {
        self.enter()?;
        let e = self.or();
        self.depth -= 1;
        e
    }

    fn or(&mut self) -> Result<Expr, Diagnostic> {
        let mut left = self.and()?;
        while matches!(self.peek(), Tok::Ident(s) if s == "or") {
            self.operator()?;
            self.bump();
            let right = self.and()?;
            left = Expr { span: left.span.start..right.span.end, kind: ExprKind::Or(Box::new(left), Box::new(right)) };
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, Diagnostic> {
        let mut left = self.not()?;
        while matches!(self.peek(), Tok::Ident(s) if s == "and") {
            self.operator()?;
            self.bump();
            let right = self.not()?;
            left = Expr { span: left.span.start..right.span.end, kind: ExprKind::And(Box::new(left), Box::new(right)) };
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, Diagnostic> {
        let start = self.span().start;
        if self.eat_keyword("not") {
            self.enter()?;
            let inner = self.not();
            self.depth -= 1;
            let inner = inner?;
            return Ok(Expr { span: start..inner.span.end, kind: ExprKind::Not(Box::new(inner)) });
        }
        self.compare()
    }

    fn compare(&mut self) -> Result<Expr, Diagnostic> {
        let left = self.additive()?;
        let op = match self.peek() {
            Tok::Eq => CompareOp::Eq,
            Tok::Ne => CompareOp::Ne,
            Tok::Lt => CompareOp::Lt,
            Tok::Le => CompareOp::Le,
            Tok::Gt => CompareOp::Gt,
            Tok::Ge => CompareOp::Ge,
            Tok::Assign => return Err(Diagnostic { span: self.span(), message: "expected a comparison operator, found \"=\" (use \"==\" to compare)".into() }),
            _ => return Ok(left),
        };
        self.bump();
        let right = self.additive()?;
        Ok(Expr { span: left.span.start..right.span.end, kind: ExprKind::Compare(op, Box::new(left), Box::new(right)) })
    }

    fn additive(&mut self) -> Result<Expr, Diagnostic> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => MathOp::Add,
                Tok::Minus => MathOp::Sub,
                _ => return Ok(left),
            };
            self.operator()?;
            self.bump();
            let right = self.multiplicative()?;
            left = Expr { span: left.span.start..right.span.end, kind: ExprKind::Math(op, Box::new(left), Box::new(right)) };
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, Diagnostic> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Star => MathOp::Mul,
                Tok::Slash => MathOp::Div,
                _ => return Ok(left),
            };
            self.operator()?;
            self.bump();
            let right = self.unary()?;
            left = Expr { span: left.span.start..right.span.end, kind: ExprKind::Math(op, Box::new(left), Box::new(right)) };
        }
    }

    fn unary(&mut self) -> Result<Expr, Diagnostic> {
        if matches!(self.peek(), Tok::Minus) {
            let start = self.bump().span.start;
            self.enter()?;
            let inner = self.unary();
            self.depth -= 1;
            let inner = inner?;
            let span = start..inner.span.end;
            // Fold literals so `-1` is an integer literal, as upstream lexes it.
            let kind = match inner.kind {
                ExprKind::Int(i) => ExprKind::Int(i.wrapping_neg()),
                ExprKind::Float(f) => ExprKind::Float(-f),
                other => ExprKind::Neg(Box::new(Expr { kind: other, span: inner.span })),
            };
            return Ok(Expr { kind, span });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, Diagnostic> {
        let span = self.span();
        let kind = match self.peek().clone() {
            Tok::Str(s) => ExprKind::Str(s),
            Tok::Int(i) => ExprKind::Int(i),
            Tok::Float(f) => ExprKind::Float(f),
            Tok::Bytes(b) => ExprKind::Bytes(b),
            Tok::LParen => {
                self.bump();
                let inner = self.expr()?;
                let end = self.expect(Tok::RParen, "\")\"")?.end;
                return Ok(Expr { kind: inner.kind, span: span.start..end });
            }
            Tok::LBracket => return self.list(),
            Tok::LBrace => return self.map(),
            Tok::Ident(name) => return self.named(name),
            _ => return Err(self.unexpected("a value (path, literal, converter, list or map)")),
        };
        self.bump();
        Ok(Expr { kind, span })
    }

    fn list(&mut self) -> Result<Expr, Diagnostic> {
        let start = self.bump().span.start;
        let mut items = Vec::new();
        if !matches!(self.peek(), Tok::RBracket) {
            loop {
                items.push(self.expr()?);
                if matches!(self.peek(), Tok::Comma) {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        let end = self.expect(Tok::RBracket, "\",\" or \"]\"")?.end;
        Ok(Expr { kind: ExprKind::List(items), span: start..end })
    }

    fn map(&mut self) -> Result<Expr, Diagnostic> {
        let start = self.bump().span.start;
        let mut entries = Vec::new();
        if !matches!(self.peek(), Tok::RBrace) {
            loop {
                let Tok::Str(key) = self.peek().clone() else { return Err(self.unexpected("a string key")) };
                self.bump();
                self.expect(Tok::Colon, "\":\"")?;
                entries.push((key, self.expr()?));
                if matches!(self.peek(), Tok::Comma) {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        let end = self.expect(Tok::RBrace, "\",\" or \"}\"")?.end;
        Ok(Expr { kind: ExprKind::Map(entries), span: start..end })
    }

    /// A name in value position: keyword literal, call, enum or path.
    fn named(&mut self, name: String) -> Result<Expr, Diagnostic> {
        let span = self.span();
        let literal = match name.as_str() {
            "true" => Some(ExprKind::Bool(true)),
            "false" => Some(ExprKind::Bool(false)),
            "nil" => Some(ExprKind::Nil),
            kw if KEYWORDS.contains(&kw) => return Err(self.unexpected("a value")),
            _ => None,
        };
        if let Some(kind) = literal {
            self.bump();
            return Ok(Expr { kind, span });
        }
        if matches!(self.peek_at(1), Tok::LParen) {
            let call = self.call()?;
            return Ok(Expr { span: call.span.clone(), kind: ExprKind::Call(call) });
        }
        if name.starts_with(|c: char| c.is_ascii_uppercase()) {
            self.bump();
            if is_enum_name(&name) {
                return Ok(Expr { kind: ExprKind::Enum(name, None), span });
            }
            return Err(self.unexpected(&format!("\"(\" after the converter name \"{name}\"")));
        }
        self.path()
    }

    fn path(&mut self) -> Result<Expr, Diagnostic> {
        let mut parts = Vec::new();
        loop {
            match self.peek().clone() {
                Tok::Ident(seg) if !KEYWORDS.contains(&seg.as_str()) => parts.push((seg, self.bump().span)),
                _ => return Err(self.unexpected("a path segment")),
            }
            if matches!(self.peek(), Tok::Dot) {
                self.bump();
            } else {
                break;
            }
        }
        let start = parts[0].1.start;
        let keys = self.keys()?;
        let end = keys.last().map_or(parts[parts.len() - 1].1.end, |k: &Expr| k.span.end + 1);
        let span = start..end;
        Ok(Expr { kind: ExprKind::Path(Path { parts, keys, span: span.clone(), resolved: None }), span })
    }

    /// `[key]...`; each key's span is the key expression, the bracket follows it.
    fn keys(&mut self) -> Result<Vec<Expr>, Diagnostic> {
        let mut keys = Vec::new();
        while matches!(self.peek(), Tok::LBracket) {
            self.bump();
            let key = self.expr()?;
            let close = self.expect(Tok::RBracket, "\"]\"")?;
            keys.push(Expr { span: key.span.start..close.start, kind: key.kind });
        }
        Ok(keys)
    }

    fn call(&mut self) -> Result<Call, Diagnostic> {
        self.enter()?;
        let c = self.call_inner();
        self.depth -= 1;
        c
    }

    fn call_inner(&mut self) -> Result<Call, Diagnostic> {
        let tok = self.bump();
        let Tok::Ident(name) = tok.tok else { return Err(Diagnostic { span: tok.span, message: "expected a function name".into() }) };
        self.expect(Tok::LParen, "\"(\"")?;
        let mut args = Vec::new();
        if !matches!(self.peek(), Tok::RParen) {
            loop {
                let arg_name = match (self.peek().clone(), self.peek_at(1)) {
                    (Tok::Ident(n), Tok::Assign) => {
                        let s = self.bump().span;
                        self.bump();
                        Some((n, s))
                    }
                    _ => None,
                };
                if arg_name.is_none() && args.iter().any(|a: &Arg| a.name.is_some()) {
                    return Err(Diagnostic {
                        span: self.span(),
                        message: "expected a named argument (name = value): positional arguments cannot follow named ones".into(),
                    });
                }
                args.push(Arg { name: arg_name, value: self.expr()?, regex: None });
                if matches!(self.peek(), Tok::Comma) {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        let mut end = self.expect(Tok::RParen, "\",\" or \")\"")?.end;
        let keys = self.keys()?;
        if let Some(k) = keys.last() {
            end = k.span.end + 1;
        }
        Ok(Call { name, name_span: tok.span.clone(), args, keys, span: tok.span.start..end, function: None })
    }
}

/// `SPAN_KIND_SERVER`: capitals, digits and underscores.
fn is_enum_name(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_statement_with_every_construct() {
        let s = parse_statement(
            r#"set(attributes["a"]["b"], Concat([1, -2.5, nil], "x")[0]) where not (name == "x" or kind >= SPAN_KIND_SERVER) and 1 + 2 * 3 > 0x01"#,
        )
        .unwrap();
        assert_eq!(s.editor.name, "set");
        assert_eq!(s.editor.args.len(), 2);
        let ExprKind::Path(p) = &s.editor.args[0].value.kind else { panic!("path expected") };
        assert_eq!(p.dotted(), "attributes");
        assert_eq!(p.keys.len(), 2);
        assert_eq!(p.span, 4..24);
        let ExprKind::Call(c) = &s.editor.args[1].value.kind else { panic!("call expected") };
        assert_eq!((c.name.as_str(), c.keys.len()), ("Concat", 1));
        let Some(Expr { kind: ExprKind::And(l, r), .. }) = &s.condition else { panic!("and expected") };
        assert!(matches!(l.kind, ExprKind::Not(_)));
        let ExprKind::Compare(CompareOp::Gt, math, _) = &r.kind else { panic!("comparison expected") };
        // `*` binds tighter than `+`.
        assert!(matches!(&math.kind, ExprKind::Math(MathOp::Add, _, m) if matches!(m.kind, ExprKind::Math(MathOp::Mul, _, _))));
    }

    #[test]
    fn named_arguments_and_maps() {
        let s = parse_statement(r#"merge_maps(attributes, {"k": "v", "n": {"m": 1}}, strategy = "upsert")"#).unwrap();
        assert_eq!(s.editor.args[2].name.as_ref().map(|n| n.0.as_str()), Some("strategy"));
        assert!(matches!(&s.editor.args[1].value.kind, ExprKind::Map(e) if e.len() == 2));
    }

    #[test]
    fn errors_say_what_was_found_and_expected() {
        let e = parse_statement("set(name, \"x\") wher true").unwrap_err();
        assert_eq!(e.message, "expected \"where\" or the end of the statement, found \"wher\"");
        assert_eq!(e.span, 15..19);
        let e = parse_statement("set(name \"x\")").unwrap_err();
        assert_eq!((e.message.as_str(), e.span), ("expected \",\" or \")\", found string \"x\"", 9..12));
        let e = parse_condition("name = \"x\"").unwrap_err();
        assert!(e.message.contains("use \"==\""));
        let e = parse_statement("name == 1").unwrap_err();
        assert_eq!(e.message, "expected an editor invocation such as set(...), found \"name\"");
        assert!(parse_condition("").unwrap_err().message.starts_with("expected a condition"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}true{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse_condition(&deep).unwrap_err().message.contains("nested too deeply"));
        let deep = format!("set(x, {}1{})", "Int(".repeat(5_000), ")".repeat(5_000));
        assert!(parse_statement(&deep).unwrap_err().message.contains("nested too deeply"));
        let deep = format!("{}true", "not ".repeat(10_000));
        assert!(parse_condition(&deep).is_err());
        let deep = format!("{}1 == 1", "-".repeat(10_000));
        assert!(parse_condition(&deep).is_err());
    }

    #[test]
    fn long_operator_chains_are_an_error_not_a_crash() {
        let at_limit = format!("true{}", " and true".repeat(MAX_OPERATORS));
        assert!(parse_condition(&at_limit).is_ok());
        for op in [" and true", " or true"] {
            let e = parse_condition(&format!("true{}", op.repeat(200_000))).unwrap_err();
            assert_eq!(e.message, format!("expression has too many operators (more than {MAX_OPERATORS})"));
            let first = "true".len() + op.len() * MAX_OPERATORS;
            assert_eq!(e.span, first + 1..first + op.trim_start().find(' ').unwrap_or(0) + 1, "at the operator one past the limit");
        }
        for op in [" + 1", " - 1", " * 1", " / 1"] {
            let e = parse_statement(&format!("set(x, 1{})", op.repeat(200_000))).unwrap_err();
            assert!(e.message.starts_with("expression has too many operators"), "{}", e.message);
        }
    }
}
