//! The completion context at a cursor, read from the tokens before it.
//!
//! While a user types, the text is usually broken (`forward_to = [`, `otelcol.`), so the
//! context comes from a lexical scan rather than the syntax tree: starting at the top-level
//! statement around the cursor, a stack of open blocks, objects, arrays and parentheses is
//! kept, with the tokens of the current statement of each.

use syntax::token::TokenKind as K;
use syntax::Span;

/// What is being typed at the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Context {
    /// A new statement in a body: `blocks` are the names of the enclosing blocks, outermost
    /// first (empty at the top level of a file).
    Statement { blocks: Vec<String> },
    /// The value of attribute `attr` of the innermost of `blocks`; `nesting` are the
    /// brackets opened inside the value, outermost first.
    Value { blocks: Vec<String>, attr: String, nesting: Vec<Nest>, in_string: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Nest {
    Array,
    Object,
    Paren,
}

/// Where the top-level statement holding `offset` starts, found from the tokens after `from`
/// (a statement boundary): at depth 0, a statement starts with the first token after a `}`
/// that closed a block or after a line break. The parse tree cannot tell while the text is
/// broken (`traces = [otelcol.]` may make the parser resume mid-block).
pub(crate) fn statement_start(text: &str, from: usize, offset: usize) -> usize {
    let from = floor_char_boundary(text, from.min(offset));
    let offset = floor_char_boundary(text, offset);
    let lexed = syntax::lexer::lex(&text.as_bytes()[from..offset]);
    let mut depth: i32 = 0;
    let mut start = from;
    let mut prev_end: Option<usize> = None;
    let mut ended = true;
    for t in lexed.tokens.iter().filter(|t| !matches!(t.kind, K::Eof | K::Comment)) {
        let (t_start, t_end) = (from + t.span.start as usize, from + t.span.end as usize);
        let newline = prev_end.is_some_and(|e| text[e..t_start].contains('\n'));
        if depth == 0 && (ended || newline) {
            start = t_start;
        }
        ended = false;
        match t.kind {
            K::LCurly | K::LBrack | K::LParen => depth += 1,
            K::RCurly | K::RBrack | K::RParen => {
                depth = (depth - 1).max(0);
                ended = depth == 0 && t.kind == K::RCurly;
            }
            // The lexer's statement terminator (a line break) ends an attribute.
            K::Terminator => ended = depth == 0,
            _ => {}
        }
        prev_end = Some(t_end);
    }
    start
}

/// The context and the span of the partial word before the cursor (a dotted name, or the
/// text after a string's opening quote).
pub(crate) fn context_at(text: &str, start: usize, offset: usize) -> Option<(Context, Span)> {
    let offset = floor_char_boundary(text, offset);
    let start = floor_char_boundary(text, start.min(offset));
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1).max(start);
    let (scan_end, word_start, in_string) = match open_quote(&text[line_start..offset]) {
        Some(q) => (line_start + q, line_start + q + 1, true),
        None => {
            let ws = text[..offset]
                .char_indices()
                .rev()
                .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '.'))
                .map_or(0, |(i, c)| i + c.len_utf8())
                .max(start);
            (ws, ws, false)
        }
    };
    let word = Span::new(word_start as u32, offset as u32);
    let lexed = syntax::lexer::lex(&text.as_bytes()[start..scan_end]);

    struct Frame {
        kind: FrameKind,
        stmt: Vec<K>,
        /// For a statement `name = …`, the attribute name.
        attr: Option<String>,
        /// The identifier text of the statement's tokens, for block headers.
        header: Vec<String>,
    }
    #[derive(PartialEq)]
    enum FrameKind {
        Block(String),
        Nest(Nest),
    }
    let new = |kind| Frame { kind, stmt: Vec::new(), attr: None, header: Vec::new() };
    let mut frames = vec![new(FrameKind::Block(String::new()))];
    let src = &text[start..scan_end];
    for t in &lexed.tokens {
        let top = frames.len() - 1;
        match t.kind {
            K::Eof | K::Comment => {}
            K::LCurly => {
                let f = &frames[top];
                let header = matches!(f.kind, FrameKind::Block(_)) && is_block_header(&f.stmt);
                if header {
                    let name = f.header.join(".");
                    frames.push(new(FrameKind::Block(name)));
                } else {
                    frames.push(new(FrameKind::Nest(Nest::Object)));
                }
            }
            K::RCurly => {
                if frames.len() > 1 {
                    let closed = frames.pop();
                    let top = frames.len() - 1;
                    if matches!(closed.map(|f| f.kind), Some(FrameKind::Block(_))) {
                        frames[top] = new(std::mem::replace(&mut frames[top].kind, FrameKind::Nest(Nest::Paren)));
                    }
                }
            }
            K::LBrack => frames.push(new(FrameKind::Nest(Nest::Array))),
            K::LParen => frames.push(new(FrameKind::Nest(Nest::Paren))),
            K::RBrack | K::RParen => {
                let want = if t.kind == K::RBrack { Nest::Array } else { Nest::Paren };
                if frames[top].kind == FrameKind::Nest(want) {
                    frames.pop();
                }
            }
            K::Terminator | K::Comma => {
                let f = &mut frames[top];
                if matches!(f.kind, FrameKind::Block(_) | FrameKind::Nest(Nest::Object)) {
                    *f = new(std::mem::replace(&mut f.kind, FrameKind::Nest(Nest::Paren)));
                }
            }
            kind => {
                let f = &mut frames[top];
                if kind == K::Ident && f.stmt.len() % 2 == 0 && f.stmt.iter().enumerate().all(|(i, k)| if i % 2 == 0 { *k == K::Ident } else { *k == K::Dot }) {
                    f.header.push(src[t.span.range()].to_string());
                }
                if kind == K::Assign && f.stmt.len() == 1 && f.stmt[0] == K::Ident {
                    f.attr = f.header.first().cloned();
                }
                f.stmt.push(kind);
            }
        }
    }
    let blocks: Vec<String> = frames
        .iter()
        .skip(1)
        .filter_map(|f| match &f.kind {
            FrameKind::Block(n) => Some(n.clone()),
            FrameKind::Nest(_) => None,
        })
        .collect();
    let bi = frames.iter().rposition(|f| matches!(f.kind, FrameKind::Block(_)))?;
    if bi == frames.len() - 1 {
        let f = &frames[bi];
        if f.stmt.is_empty() && !in_string {
            return Some((Context::Statement { blocks }, word));
        }
        let attr = f.attr.clone()?;
        return Some((Context::Value { blocks, attr, nesting: Vec::new(), in_string }, word));
    }
    let attr = frames[bi].attr.clone()?;
    let nesting: Vec<Nest> = frames[bi + 1..]
        .iter()
        .map(|f| match f.kind {
            FrameKind::Nest(n) => n,
            FrameKind::Block(_) => Nest::Object,
        })
        .collect();
    // Typing an object key is not a value.
    let last = &frames[frames.len() - 1];
    if last.kind == FrameKind::Nest(Nest::Object) && !last.stmt.contains(&K::Assign) {
        return None;
    }
    Some((Context::Value { blocks, attr, nesting, in_string }, word))
}

/// `IDENT (. IDENT)* [STRING]`: the start of a block.
fn is_block_header(stmt: &[K]) -> bool {
    let names = match stmt.last() {
        Some(K::String) => &stmt[..stmt.len() - 1],
        _ => stmt,
    };
    !names.is_empty() && names.len() % 2 == 1 && names.iter().enumerate().all(|(i, k)| if i % 2 == 0 { *k == K::Ident } else { *k == K::Dot })
}

/// The offset of an unclosed double quote in a line's text before the cursor.
fn open_quote(line: &str) -> Option<usize> {
    let mut open = None;
    let mut escaped = false;
    let mut in_raw = false;
    for (i, c) in line.char_indices() {
        match (open, c) {
            (Some(_), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(_), '"') if !escaped => open = None,
            (None, '"') if !in_raw => open = Some(i),
            (None, '`') => in_raw = !in_raw,
            (None, '/') if !in_raw && line[i..].starts_with("//") => break,
            _ => {}
        }
        escaped = false;
    }
    open
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(text: &str) -> Option<Context> {
        let offset = text.find("$0").expect("cursor");
        let text = text.replace("$0", "");
        context_at(&text, 0, offset).map(|(c, _)| c)
    }

    #[test]
    fn statement_starts_are_found_in_broken_text() {
        let text = "a \"x\" {\n  b {\n    c = [d.]\n  }\n}\n\ne = 1\nf \"y\" {\n  g = [h.";
        let at = |s: &str| text.find(s).expect("present");
        assert_eq!(statement_start(text, 0, at("d.]") + 2), 0, "inside the first block");
        assert_eq!(statement_start(text, 0, at("e = 1") + 3), at("e = 1"));
        assert_eq!(statement_start(text, 0, text.len()), at("f \"y\""), "an unclosed block at the end");
    }

    #[test]
    fn statements_and_values() {
        assert_eq!(ctx("otelcol.$0"), Some(Context::Statement { blocks: vec![] }));
        assert_eq!(ctx("a \"x\" {\n  b {\n    $0"), Some(Context::Statement { blocks: vec!["a".into(), "b".into()] }));
        assert_eq!(
            ctx("prometheus.scrape \"x\" {\n  forward_to = [prometheus.$0"),
            Some(Context::Value { blocks: vec!["prometheus.scrape".into()], attr: "forward_to".into(), nesting: vec![Nest::Array], in_string: false })
        );
        assert_eq!(
            ctx("logging {\n  level = \"de$0"),
            Some(Context::Value { blocks: vec!["logging".into()], attr: "level".into(), nesting: vec![], in_string: true })
        );
        assert_eq!(ctx("a \"x\" {\n  b = {\n    k$0"), None);
        assert_eq!(ctx("a \"x\" {\n  b = 1\n}\n$0"), Some(Context::Statement { blocks: vec![] }));
    }
}
