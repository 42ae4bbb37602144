//! The flat syntax tree: what the parser builds and the formatter walks.
//!
//! Nodes are 16 bytes in one vector and point into the source by byte offsets, so a parse
//! allocates a handful of vectors instead of one box per node, and names and literals are
//! never copied. Children lists and the rarer spans live in a side vector of `u32`s (`extra`).
//! Comments are kept beside the nodes, as on [`ast::File`](crate::ast::File).
//!
//! The analyzer, the evaluator and the language server read the owned [`ast`](crate::ast);
//! [`Tree::to_file`] builds it from this tree ([`crate::parse_file`] does so for them).

use std::borrow::Cow;
use std::ops::Range;

use crate::ast::{BinaryOp, LiteralKind, UnaryOp};
use crate::lexer::Comment;
use crate::span::Span;

/// A node of a [`Tree`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId(pub(crate) u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Tag {
    /// `flag` = kind; `a..b` = text and span.
    Literal,
    /// A primary the parser could not read, standing in as `null`; `a..b` = span.
    Missing,
    /// `a..b` = name and span.
    Ident,
    /// `a` = value; `b..c` = field span; `flag` = 1 when the field token has a name.
    Access,
    /// `a` = value; `b` = `[`; `extra[c..]` = `]` start, end, index.
    Index,
    /// `a` = callee; `b` = `(`; `extra[c..]` = `)` start, end, then the argument list.
    Call,
    /// `flag` = op; `a` = operand; `b` = operator start.
    Unary,
    /// `flag` = op | operator length << 4; `a` = left; `b` = right; `c` = operator start.
    Binary,
    /// `a` = inner; `b` = `(`; `extra[c..]` = `)` start, end.
    Paren,
    /// `a` = `[`; `extra[c..]` = `]` start, end, then the element list.
    Array,
    /// `a` = `{`; `extra[c..]` = `}` start, end, then the field list.
    Object,
    /// `flag` = 1 when quoted; `a..b` = key token span; `c` = value.
    Field,
    /// `a..b` = name; `c` = value.
    Attribute,
    /// `a` = `{`; `extra[c..]` = see [`Tree::block`].
    Block,
}

#[derive(Clone, Copy, Debug)]
struct Node {
    tag: Tag,
    flag: u8,
    a: u32,
    b: u32,
    c: u32,
}

/// Marks an absent optional value in `extra`.
const NONE: u32 = u32::MAX;

/// A parsed file as a flat tree over its source text.
#[derive(Clone, Debug)]
pub struct Tree<'src> {
    src: &'src [u8],
    /// The source as text when it is valid UTF-8 (checked once, not per lookup).
    text: Option<&'src str>,
    nodes: Vec<Node>,
    extra: Vec<u32>,
    /// Block names that are not a run of the source (`a . b` is named `a.b`).
    names: Vec<Box<str>>,
    /// Offset in `extra` of the top-level statement list.
    body: u32,
    pub comments: Vec<Comment>,
    /// Comment groups as index ranges into `comments`.
    pub comment_groups: Vec<Range<u32>>,
}

/// A list of nodes (statements, elements, arguments or fields).
#[derive(Clone, Copy, Debug)]
pub struct Nodes<'t>(&'t [u32]);

impl<'t> Nodes<'t> {
    pub fn len(self) -> usize {
        self.0.len()
    }

    pub fn is_empty(self) -> bool {
        self.0.is_empty()
    }

    pub fn get(self, i: usize) -> Option<NodeId> {
        self.0.get(i).map(|&n| NodeId(n))
    }

    pub fn iter(self) -> impl ExactSizeIterator<Item = NodeId> + 't {
        self.0.iter().map(|&n| NodeId(n))
    }
}

/// A list of children as the formatter reads it: the flat tree's [`Nodes`] or a slice of the
/// owned tree.
pub trait Seq: Copy {
    type Item: Copy;
    fn count(self) -> usize;
    fn at(self, i: usize) -> Self::Item;
}

impl Seq for Nodes<'_> {
    type Item = NodeId;
    fn count(self) -> usize {
        self.0.len()
    }
    fn at(self, i: usize) -> NodeId {
        NodeId(self.0[i])
    }
}

impl<'t, T> Seq for &'t [T] {
    type Item = &'t T;
    fn count(self) -> usize {
        self.len()
    }
    fn at(self, i: usize) -> &'t T {
        &self[i]
    }
}

/// An expression node with its parts. The parameters let the owned tree be read the same way
/// (children as references, lists as slices); the flat tree uses the defaults.
#[derive(Clone, Debug)]
pub enum ExprView<'t, Id = NodeId, Exprs = Nodes<'t>, Fields = Nodes<'t>> {
    /// `text` is exactly as written (strings keep their quotes and escapes).
    Literal {
        kind: LiteralKind,
        text: Cow<'t, str>,
        span: Span,
    },
    Ident {
        name: Cow<'t, str>,
        span: Span,
    },
    Access {
        value: Id,
        field: Cow<'t, str>,
        field_span: Span,
    },
    Index {
        value: Id,
        index: Id,
        lbrack: Span,
        rbrack: Span,
    },
    Call {
        callee: Id,
        args: Exprs,
        lparen: Span,
        rparen: Span,
    },
    Unary {
        op: UnaryOp,
        op_span: Span,
        operand: Id,
    },
    Binary {
        op: BinaryOp,
        op_span: Span,
        left: Id,
        right: Id,
    },
    Paren {
        inner: Id,
        lparen: Span,
        rparen: Span,
    },
    Array {
        elements: Exprs,
        lbrack: Span,
        rbrack: Span,
    },
    Object {
        fields: Fields,
        lcurly: Span,
        rcurly: Span,
    },
}

/// `key = value` in an object.
#[derive(Clone, Debug)]
pub struct FieldView<'t, Id = NodeId> {
    /// An identifier, or the raw text between a string key's quotes.
    pub key: Cow<'t, str>,
    /// The key token's span.
    pub key_span: Span,
    /// Whether the key was written as a string (`""` is not flagged).
    pub quoted: bool,
    pub value: Id,
}

/// A statement node.
#[derive(Clone, Debug)]
pub enum StmtView<'t> {
    Attribute { name: Cow<'t, str>, name_span: Span, value: NodeId },
    Block(BlockView<'t>),
}

#[derive(Clone, Debug)]
pub struct BlockView<'t> {
    /// The name fragments joined with `.`.
    pub name: Cow<'t, str>,
    pub name_span: Span,
    /// The label's text between its quotes (never empty) and the string token's span.
    pub label: Option<(Cow<'t, str>, Span)>,
    pub body: Nodes<'t>,
    pub lcurly: Span,
    pub rcurly: Span,
}

fn unary_op(flag: u8) -> UnaryOp {
    if flag == 0 {
        UnaryOp::Not
    } else {
        UnaryOp::Neg
    }
}

const BINARY_OPS: [BinaryOp; 14] = {
    use BinaryOp::*;
    [Or, And, Eq, Neq, Lt, Lte, Gt, Gte, Add, Sub, Mul, Div, Mod, Pow]
};

fn binary_op(flag: u8) -> BinaryOp {
    BINARY_OPS[(flag & 0x0f) as usize % BINARY_OPS.len()]
}

/// A one-byte token at `start` (the parser only builds nodes at the opening bracket itself).
fn opener(start: u32) -> Span {
    Span::new(start, start + 1)
}

impl<'src> Tree<'src> {
    // ---- reading ----

    /// The source text of `span` (replacing bad UTF-8, which the scanner has reported).
    pub fn text(&self, span: Span) -> Cow<'src, str> {
        match self.text.and_then(|t| t.get(span.range())) {
            Some(s) => Cow::Borrowed(s),
            None => String::from_utf8_lossy(self.src.get(span.range()).unwrap_or_default()),
        }
    }

    /// The top-level statements.
    pub fn body(&self) -> Nodes<'_> {
        self.list(self.body)
    }

    fn node(&self, id: NodeId) -> Node {
        self.nodes[id.0 as usize]
    }

    fn list(&self, at: u32) -> Nodes<'_> {
        let at = at as usize;
        let n = self.extra[at] as usize;
        Nodes(&self.extra[at + 1..at + 1 + n])
    }

    fn span_at(&self, at: u32) -> Span {
        Span::new(self.extra[at as usize], self.extra[at as usize + 1])
    }

    pub fn expr(&self, id: NodeId) -> ExprView<'_> {
        let n = self.node(id);
        match n.tag {
            Tag::Literal => {
                let span = Span::new(n.a, n.b);
                ExprView::Literal { kind: literal_kind(n.flag), text: self.text(span), span }
            }
            Tag::Missing => ExprView::Literal { kind: LiteralKind::Null, text: Cow::Borrowed("null"), span: Span::new(n.a, n.b) },
            Tag::Ident => {
                let span = Span::new(n.a, n.b);
                ExprView::Ident { name: self.text(span), span }
            }
            Tag::Access => {
                let field_span = Span::new(n.b, n.c);
                let field = if n.flag == 1 { self.text(field_span) } else { Cow::Borrowed("") };
                ExprView::Access { value: NodeId(n.a), field, field_span }
            }
            Tag::Index => ExprView::Index { value: NodeId(n.a), index: NodeId(self.extra[n.c as usize + 2]), lbrack: opener(n.b), rbrack: self.span_at(n.c) },
            Tag::Call => ExprView::Call { callee: NodeId(n.a), args: self.list(n.c + 2), lparen: opener(n.b), rparen: self.span_at(n.c) },
            Tag::Unary => ExprView::Unary { op: unary_op(n.flag), op_span: opener(n.b), operand: NodeId(n.a) },
            Tag::Binary => {
                ExprView::Binary { op: binary_op(n.flag), op_span: Span::new(n.c, n.c + u32::from(n.flag >> 4)), left: NodeId(n.a), right: NodeId(n.b) }
            }
            Tag::Paren => ExprView::Paren { inner: NodeId(n.a), lparen: opener(n.b), rparen: self.span_at(n.c) },
            Tag::Array => ExprView::Array { elements: self.list(n.c + 2), lbrack: opener(n.a), rbrack: self.span_at(n.c) },
            Tag::Object => ExprView::Object { fields: self.list(n.c + 2), lcurly: opener(n.a), rcurly: self.span_at(n.c) },
            // Not an expression: only reachable through a `NodeId` from another list.
            Tag::Field | Tag::Attribute | Tag::Block => ExprView::Literal { kind: LiteralKind::Null, text: Cow::Borrowed("null"), span: Span::at(n.a) },
        }
    }

    pub fn field(&self, id: NodeId) -> FieldView<'_> {
        let n = self.node(id);
        let key_span = Span::new(n.a, n.b);
        let quoted = n.flag == 1;
        let key = if quoted { self.text(Span::new(n.a + 1, n.b - 1)) } else { self.text(key_span) };
        FieldView { key, key_span, quoted, value: NodeId(n.c) }
    }

    pub fn stmt(&self, id: NodeId) -> StmtView<'_> {
        let n = self.node(id);
        if n.tag == Tag::Attribute {
            let name_span = Span::new(n.a, n.b);
            return StmtView::Attribute { name: self.text(name_span), name_span, value: NodeId(n.c) };
        }
        // extra[c..]: `}` start, end; name start, end; owned name index or NONE; label start,
        // end (NONE: no label); the statement list.
        let e = &self.extra[n.c as usize..n.c as usize + 7];
        let name_span = Span::new(e[2], e[3]);
        let name = match e[4] {
            NONE => self.text(name_span),
            i => Cow::Borrowed(&*self.names[i as usize]),
        };
        let label = (e[5] != NONE).then(|| (self.text(Span::new(e[5] + 1, e[6] - 1)), Span::new(e[5], e[6])));
        StmtView::Block(BlockView { name, name_span, label, body: self.list(n.c + 7), lcurly: opener(n.a), rcurly: Span::new(e[0], e[1]) })
    }

    /// Upstream's `StartPos` of an expression (found without recursion: left operands nest
    /// deeply).
    pub fn expr_start(&self, mut id: NodeId) -> u32 {
        loop {
            let n = self.node(id);
            id = match n.tag {
                Tag::Access | Tag::Index | Tag::Call | Tag::Binary => NodeId(n.a),
                Tag::Unary | Tag::Paren => return n.b,
                _ => return n.a,
            };
        }
    }

    /// Upstream's inclusive `EndPos` of an expression.
    pub fn expr_end(&self, mut id: NodeId) -> u32 {
        loop {
            let n = self.node(id);
            id = match n.tag {
                Tag::Unary => NodeId(n.a),
                Tag::Binary => NodeId(n.b),
                Tag::Literal | Tag::Missing | Tag::Ident => return Span::new(n.a, n.b).last_byte(),
                Tag::Access => return Span::new(n.b, n.c).last_byte(),
                Tag::Index | Tag::Call | Tag::Paren | Tag::Array | Tag::Object => return self.extra[n.c as usize],
                Tag::Field | Tag::Attribute | Tag::Block => return n.a,
            };
        }
    }

    // ---- building (the parser's side) ----

    pub(crate) fn new(src: &'src [u8], text: Option<&'src str>) -> Self {
        // A typical configuration has about one node per 12 bytes and one `extra` word per 7.
        Tree {
            src,
            text,
            nodes: Vec::with_capacity(src.len() / 11 + 4),
            extra: Vec::with_capacity(src.len() / 6 + 4),
            names: Vec::new(),
            body: 0,
            comments: Vec::new(),
            comment_groups: Vec::new(),
        }
    }

    fn push(&mut self, tag: Tag, flag: u8, a: u32, b: u32, c: u32) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(Node { tag, flag, a, b, c });
        id
    }

    /// Appends a closing token's span and a list; returns where they start in `extra`.
    fn closer_and_list(&mut self, close: Span, items: &[u32]) -> u32 {
        let at = self.extra.len() as u32;
        self.extra.extend_from_slice(&[close.start, close.end, items.len() as u32]);
        self.extra.extend_from_slice(items);
        at
    }

    pub(crate) fn literal(&mut self, kind: LiteralKind, span: Span) -> NodeId {
        self.push(Tag::Literal, kind as u8, span.start, span.end, 0)
    }

    pub(crate) fn missing(&mut self, span: Span) -> NodeId {
        self.push(Tag::Missing, 0, span.start, span.end, 0)
    }

    pub(crate) fn ident(&mut self, span: Span) -> NodeId {
        self.push(Tag::Ident, 0, span.start, span.end, 0)
    }

    pub(crate) fn access(&mut self, value: NodeId, field: Span, named: bool) -> NodeId {
        self.push(Tag::Access, named as u8, value.0, field.start, field.end)
    }

    pub(crate) fn index(&mut self, value: NodeId, lbrack: Span, index: NodeId, rbrack: Span) -> NodeId {
        let at = self.extra.len() as u32;
        self.extra.extend_from_slice(&[rbrack.start, rbrack.end, index.0]);
        self.push(Tag::Index, 0, value.0, lbrack.start, at)
    }

    pub(crate) fn call(&mut self, callee: NodeId, lparen: Span, args: &[u32], rparen: Span) -> NodeId {
        let at = self.closer_and_list(rparen, args);
        self.push(Tag::Call, 0, callee.0, lparen.start, at)
    }

    pub(crate) fn unary(&mut self, op: UnaryOp, op_span: Span, operand: NodeId) -> NodeId {
        self.push(Tag::Unary, (op == UnaryOp::Neg) as u8, operand.0, op_span.start, 0)
    }

    pub(crate) fn binary(&mut self, op: BinaryOp, op_span: Span, left: NodeId, right: NodeId) -> NodeId {
        let code = BINARY_OPS.iter().position(|&o| o == op).unwrap_or(0) as u8;
        let flag = code | ((op_span.len().min(15) as u8) << 4);
        self.push(Tag::Binary, flag, left.0, right.0, op_span.start)
    }

    pub(crate) fn paren(&mut self, lparen: Span, inner: NodeId, rparen: Span) -> NodeId {
        let at = self.extra.len() as u32;
        self.extra.extend_from_slice(&[rparen.start, rparen.end]);
        self.push(Tag::Paren, 0, inner.0, lparen.start, at)
    }

    pub(crate) fn array(&mut self, lbrack: Span, elements: &[u32], rbrack: Span) -> NodeId {
        let at = self.closer_and_list(rbrack, elements);
        self.push(Tag::Array, 0, lbrack.start, 0, at)
    }

    pub(crate) fn object(&mut self, lcurly: Span, fields: &[u32], rcurly: Span) -> NodeId {
        let at = self.closer_and_list(rcurly, fields);
        self.push(Tag::Object, 0, lcurly.start, 0, at)
    }

    /// A field whose key token spans `key`; a quoted key's name is the text between its quotes.
    pub(crate) fn add_field(&mut self, key: Span, quoted: bool, value: NodeId) -> NodeId {
        self.push(Tag::Field, quoted as u8, key.start, key.end, value.0)
    }

    pub(crate) fn attribute(&mut self, name: Span, value: NodeId) -> NodeId {
        self.push(Tag::Attribute, 0, name.start, name.end, value.0)
    }

    /// A block; `owned_name` is given when the name is not the source text of `name_span`,
    /// and `label` is the span of a string token with at least one byte between its quotes.
    pub(crate) fn block(&mut self, header: BlockHeader, lcurly: Span, body: &[u32], rcurly: Span) -> NodeId {
        let name = match header.owned_name {
            Some(name) => {
                self.names.push(name.into_boxed_str());
                self.names.len() as u32 - 1
            }
            None => NONE,
        };
        let (label_start, label_end) = header.label.map_or((NONE, NONE), |l| (l.start, l.end));
        let at = self.extra.len() as u32;
        let name_span = header.name_span;
        self.extra.extend_from_slice(&[rcurly.start, rcurly.end, name_span.start, name_span.end, name, label_start, label_end]);
        self.extra.push(body.len() as u32);
        self.extra.extend_from_slice(body);
        self.push(Tag::Block, 0, lcurly.start, 0, at)
    }

    /// Sets the top-level statements.
    pub(crate) fn set_body(&mut self, stmts: &[u32]) {
        self.body = self.extra.len() as u32;
        self.extra.push(stmts.len() as u32);
        self.extra.extend_from_slice(stmts);
    }

    /// Drops every node (for input refused as too deep), keeping an empty body.
    pub(crate) fn clear(&mut self) {
        self.nodes = Vec::new();
        self.extra = Vec::new();
        self.names = Vec::new();
        self.set_body(&[]);
    }

    /// Heap bytes held by the nodes and lists (the bench's memory report shows them).
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>() + self.extra.capacity() * 4
    }
}

/// What the parser knows of a block before its body.
pub(crate) struct BlockHeader {
    pub name_span: Span,
    pub owned_name: Option<String>,
    pub label: Option<Span>,
}

fn literal_kind(flag: u8) -> LiteralKind {
    match flag {
        0 => LiteralKind::String,
        1 => LiteralKind::Number,
        2 => LiteralKind::Float,
        3 => LiteralKind::Bool,
        _ => LiteralKind::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_stay_small() {
        assert_eq!(std::mem::size_of::<Node>(), 16);
    }

    #[test]
    fn literal_kinds_round_trip() {
        for kind in [LiteralKind::String, LiteralKind::Number, LiteralKind::Float, LiteralKind::Bool, LiteralKind::Null] {
            assert_eq!(literal_kind(kind as u8), kind);
        }
    }

    #[test]
    fn binary_ops_round_trip() {
        for (i, &op) in BINARY_OPS.iter().enumerate() {
            assert_eq!(binary_op(i as u8 | 0x20), op);
        }
    }
}
