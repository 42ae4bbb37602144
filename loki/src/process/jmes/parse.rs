//! A JMESPath parser: the reference implementation's top-down operator precedence (Pratt)
//! parser, building the same tree shapes (projections absorb what follows them until a token
//! binding weaker than 10: `|`, `||`, `&&`, comparators, `[]`).

use serde_json::Value;

use super::functions::Func;
use super::lex::{quoted, syntax_error, tokenize, Cmp, Tok};
use super::MAX_DEPTH;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Node {
    /// `@`, and the implicit left or right side of a projection.
    Current,
    Field(String),
    Literal(Value),
    /// `left.right`, `left | right`, and `left[index]`: `right` applied to what `left` gives.
    Sub(Box<Node>, Box<Node>),
    Index(i64),
    Slice(Option<i64>, Option<i64>, i64),
    /// `left[*] right` (and a slice's): `right` over each element of the array `left` gives.
    Projection(Box<Node>, Box<Node>),
    /// `left.* right`: `right` over each value of the object `left` gives.
    ValueProjection(Box<Node>, Box<Node>),
    /// `left[?cond] right`.
    FilterProjection(Box<Node>, Box<Node>, Box<Node>),
    /// One level of nested arrays merged (the left side of a `[]` projection).
    Flatten(Box<Node>),
    Compare(Cmp, Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Not(Box<Node>),
    MultiList(Vec<Node>),
    MultiHash(Vec<(String, Node)>),
    Call(Func, Vec<Node>),
    ExpRef(Box<Node>),
}

impl Node {
    fn children(&self) -> Vec<&Node> {
        match self {
            Node::Current | Node::Field(_) | Node::Literal(_) | Node::Index(_) | Node::Slice(..) => Vec::new(),
            Node::Sub(a, b) | Node::Projection(a, b) | Node::ValueProjection(a, b) | Node::Compare(_, a, b) | Node::Or(a, b) | Node::And(a, b) => {
                vec![a, b]
            }
            Node::FilterProjection(a, b, c) => vec![a, b, c],
            Node::Flatten(a) | Node::Not(a) | Node::ExpRef(a) => vec![a],
            Node::MultiList(v) | Node::Call(_, v) => v.iter().collect(),
            Node::MultiHash(v) => v.iter().map(|(_, n)| n).collect(),
        }
    }

    /// Whether the tree is more than `levels` deep (looking no deeper than that).
    fn deeper_than(&self, levels: usize) -> bool {
        match levels.checked_sub(1) {
            None => true,
            Some(rest) => self.children().into_iter().any(|c| c.deeper_than(rest)),
        }
    }
}

/// Projections stop at tokens binding weaker than this.
const PROJECTION_STOP: u8 = 10;

pub(super) fn parse(expr: &str) -> Result<Node, String> {
    let mut p = Parser { expr, toks: tokenize(expr)?, pos: 0, depth: 0 };
    let node = p.expression(0)?;
    if p.current() != &Tok::Eof {
        return Err(p.error("unexpected token after the expression"));
    }
    if node.deeper_than(MAX_DEPTH) {
        return Err(p.too_deep());
    }
    Ok(node)
}

struct Parser<'s> {
    expr: &'s str,
    toks: Vec<(Tok, usize)>,
    pos: usize,
    /// Nesting of `expression` calls.
    depth: usize,
}

impl Parser<'_> {
    fn current(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].0
    }

    fn peek(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].0
    }

    fn advance(&mut self) -> Tok {
        let t = self.current().clone();
        self.pos += 1;
        t
    }

    fn error(&self, msg: &str) -> String {
        let (tok, at) = &self.toks[self.pos.min(self.toks.len() - 1)];
        let found = match tok {
            Tok::Eof => "the end".to_string(),
            t => format!("{t:?}"),
        };
        syntax_error(self.expr, *at, &format!("{msg} (found {found})"))
    }

    fn expect(&mut self, t: Tok) -> Result<(), String> {
        if self.current() == &t {
            self.advance();
            Ok(())
        } else {
            Err(self.error(&format!("expected {t:?}")))
        }
    }

    fn too_deep(&self) -> String {
        format!("SyntaxError: expression nested more than {MAX_DEPTH} levels deep in {}", quoted(self.expr))
    }

    fn expression(&mut self, bp: u8) -> Result<Node, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.too_deep());
        }
        let result = self.expression_inner(bp);
        self.depth -= 1;
        result
    }

    fn expression_inner(&mut self, bp: u8) -> Result<Node, String> {
        let tok = self.advance();
        let mut left = self.nud(tok)?;
        while bp < self.current().binding_power() {
            let tok = self.advance();
            left = self.led(tok, left)?;
            // Chains (`a.b.c`, `a || b || c`, `a[0][0]`) grow the tree without recursing here.
            if left.deeper_than(MAX_DEPTH) {
                return Err(self.too_deep());
            }
        }
        Ok(left)
    }

    fn nud(&mut self, tok: Tok) -> Result<Node, String> {
        Ok(match tok {
            Tok::Literal(v) => Node::Literal(v),
            Tok::Ident(name) => Node::Field(name),
            Tok::Quoted(name) => {
                if self.current() == &Tok::LParen {
                    return Err(self.error("a quoted identifier cannot name a function"));
                }
                Node::Field(name)
            }
            Tok::Star => {
                let right = if self.current() == &Tok::RBracket { Node::Current } else { self.projection_rhs(Tok::Star.binding_power())? };
                Node::ValueProjection(Box::new(Node::Current), Box::new(right))
            }
            Tok::Filter => self.filter(Node::Current)?,
            Tok::LBrace => self.multi_hash()?,
            Tok::Flatten => {
                let right = self.projection_rhs(Tok::Flatten.binding_power())?;
                Node::Projection(Box::new(Node::Flatten(Box::new(Node::Current))), Box::new(right))
            }
            Tok::LBracket => match (self.current(), self.peek(1)) {
                (Tok::Number(_) | Tok::Colon, _) => {
                    let index = self.index()?;
                    self.project_if_slice(Node::Current, index)?
                }
                (Tok::Star, Tok::RBracket) => {
                    self.advance();
                    self.advance();
                    let right = self.projection_rhs(Tok::Star.binding_power())?;
                    Node::Projection(Box::new(Node::Current), Box::new(right))
                }
                _ => self.multi_list()?,
            },
            Tok::Current => Node::Current,
            Tok::Expref => Node::ExpRef(Box::new(self.expression(Tok::Expref.binding_power())?)),
            Tok::Not => Node::Not(Box::new(self.expression(Tok::Not.binding_power())?)),
            Tok::LParen => {
                let inner = self.expression(0)?;
                self.expect(Tok::RParen)?;
                inner
            }
            _ => {
                self.pos -= 1;
                return Err(self.error("unexpected token"));
            }
        })
    }

    fn led(&mut self, tok: Tok, left: Node) -> Result<Node, String> {
        let bp = tok.binding_power();
        Ok(match tok {
            Tok::Dot => {
                if self.current() == &Tok::Star {
                    self.advance();
                    let right = self.projection_rhs(bp)?;
                    Node::ValueProjection(Box::new(left), Box::new(right))
                } else {
                    let right = self.dot_rhs(bp)?;
                    Node::Sub(Box::new(left), Box::new(right))
                }
            }
            Tok::Pipe => Node::Sub(Box::new(left), Box::new(self.expression(bp)?)),
            Tok::Or => Node::Or(Box::new(left), Box::new(self.expression(bp)?)),
            Tok::And => Node::And(Box::new(left), Box::new(self.expression(bp)?)),
            Tok::Cmp(op) => Node::Compare(op, Box::new(left), Box::new(self.expression(bp)?)),
            Tok::LParen => {
                let Node::Field(name) = left else {
                    self.pos -= 1;
                    return Err(self.error("only a name can be called as a function"));
                };
                let mut args = Vec::new();
                while self.current() != &Tok::RParen {
                    args.push(self.expression(0)?);
                    match self.current() {
                        Tok::Comma => {
                            self.advance();
                            if self.current() == &Tok::RParen {
                                return Err(self.error("expected a function argument"));
                            }
                        }
                        Tok::RParen => {}
                        _ => return Err(self.error("expected ',' or ')'")),
                    }
                }
                self.advance();
                let func = Func::named(&name).ok_or_else(|| format!("unknown function: {name}()"))?;
                func.check_arity(args.len())?;
                Node::Call(func, args)
            }
            Tok::Filter => self.filter(left)?,
            Tok::Flatten => {
                let right = self.projection_rhs(bp)?;
                Node::Projection(Box::new(Node::Flatten(Box::new(left))), Box::new(right))
            }
            Tok::LBracket => match self.current() {
                Tok::Number(_) | Tok::Colon => {
                    let index = self.index()?;
                    self.project_if_slice(left, index)?
                }
                _ => {
                    self.expect(Tok::Star)?;
                    self.expect(Tok::RBracket)?;
                    let right = self.projection_rhs(Tok::Star.binding_power())?;
                    Node::Projection(Box::new(left), Box::new(right))
                }
            },
            _ => {
                self.pos -= 1;
                return Err(self.error("unexpected token"));
            }
        })
    }

    /// After `[`: `n]` or a slice `start:stop:step]`.
    fn index(&mut self) -> Result<Node, String> {
        if let (Tok::Number(n), Tok::RBracket) = (self.current(), self.peek(1)) {
            let n = *n;
            self.advance();
            self.advance();
            return Ok(Node::Index(n));
        }
        let mut parts: [Option<i64>; 3] = [None; 3];
        let mut part = 0;
        loop {
            match self.current().clone() {
                Tok::RBracket => break,
                Tok::Colon if part < 2 => part += 1,
                Tok::Number(n) if parts[part].is_none() => parts[part] = Some(n),
                _ => return Err(self.error("invalid slice")),
            }
            self.advance();
        }
        self.advance();
        let step = parts[2].unwrap_or(1);
        if step == 0 {
            return Err(self.error("slice step cannot be 0"));
        }
        Ok(Node::Slice(parts[0], parts[1], step))
    }

    fn project_if_slice(&mut self, left: Node, index: Node) -> Result<Node, String> {
        let is_slice = matches!(index, Node::Slice(..));
        let indexed = Node::Sub(Box::new(left), Box::new(index));
        if !is_slice {
            return Ok(indexed);
        }
        let right = self.projection_rhs(Tok::Star.binding_power())?;
        Ok(Node::Projection(Box::new(indexed), Box::new(right)))
    }

    fn filter(&mut self, left: Node) -> Result<Node, String> {
        let cond = self.expression(0)?;
        self.expect(Tok::RBracket)?;
        let right = if self.current() == &Tok::Flatten { Node::Current } else { self.projection_rhs(Tok::Filter.binding_power())? };
        Ok(Node::FilterProjection(Box::new(left), Box::new(right), Box::new(cond)))
    }

    /// What follows a projection: nothing (it stops), `[...]`, `[?...]`, or `.rhs`.
    fn projection_rhs(&mut self, bp: u8) -> Result<Node, String> {
        match self.current() {
            t if t.binding_power() < PROJECTION_STOP => Ok(Node::Current),
            Tok::LBracket | Tok::Filter => self.expression(bp),
            Tok::Dot => {
                self.advance();
                self.dot_rhs(bp)
            }
            _ => Err(self.error("unexpected token after a projection")),
        }
    }

    /// After `.`: a name, `*`, a multi-select list or hash.
    fn dot_rhs(&mut self, bp: u8) -> Result<Node, String> {
        match self.current() {
            Tok::Ident(_) | Tok::Quoted(_) | Tok::Star => self.expression(bp),
            Tok::LBracket => {
                self.advance();
                self.multi_list()
            }
            Tok::LBrace => {
                self.advance();
                self.multi_hash()
            }
            _ => Err(self.error("expected a name, '*', '[' or '{' after '.'")),
        }
    }

    /// After `[`: `expr, expr, ...]`.
    fn multi_list(&mut self) -> Result<Node, String> {
        let mut items = Vec::new();
        loop {
            items.push(self.expression(0)?);
            match self.advance() {
                Tok::RBracket => break,
                Tok::Comma => {}
                _ => {
                    self.pos -= 1;
                    return Err(self.error("expected ',' or ']'"));
                }
            }
        }
        Ok(Node::MultiList(items))
    }

    /// After `{`: `key: expr, ...}`.
    fn multi_hash(&mut self) -> Result<Node, String> {
        let mut pairs = Vec::new();
        loop {
            let key = match self.advance() {
                Tok::Ident(k) | Tok::Quoted(k) => k,
                _ => {
                    self.pos -= 1;
                    return Err(self.error("expected a key"));
                }
            };
            self.expect(Tok::Colon)?;
            pairs.push((key, self.expression(0)?));
            match self.advance() {
                Tok::RBrace => break,
                Tok::Comma => {}
                _ => {
                    self.pos -= 1;
                    return Err(self.error("expected ',' or '}'"));
                }
            }
        }
        Ok(Node::MultiHash(pairs))
    }
}
