//! The expression evaluator and the attribution of value errors to source.

use std::collections::HashMap;

use smol_str::SmolStr;
use syntax::ast::{BinaryOp, Expr, Literal, LiteralKind, UnaryOp};
use syntax::{Diagnostic, LineIndex, Span};

use crate::error::{ErrorPos, EvalError, PathSeg, ValueError};
use crate::function::CallError;
use crate::number::{parse_float_literal, parse_number_literal};
use crate::stdlib;
use crate::value::{values_equal, Object, Str, Type, Value};

/// Variables available to an expression: one flat map. Names not found here fall
/// back to the standard library.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    vars: HashMap<SmolStr, Value>,
}

impl Scope {
    pub fn new() -> Self {
        Scope::default()
    }

    pub fn set(&mut self, name: impl Into<SmolStr>, value: Value) {
        self.vars.insert(name.into(), value);
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }

    /// Looks a name up in the scope, then in the standard library.
    pub fn lookup(&self, name: &str) -> Option<Value> {
        self.vars.get(name).cloned().or_else(|| stdlib::lookup(name))
    }
}

/// Evaluates expressions of one source text.
pub struct Evaluator<'a> {
    lines: &'a LineIndex,
    scope: &'a Scope,
    warnings: Vec<Diagnostic>,
}

impl<'a> Evaluator<'a> {
    pub fn new(lines: &'a LineIndex, scope: &'a Scope) -> Self {
        Evaluator { lines, scope, warnings: Vec::new() }
    }

    /// Warnings met so far (uses of deprecated standard-library names).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    pub fn take_warnings(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.warnings)
    }

    /// Evaluates `expr`; the first error stops evaluation.
    pub fn eval(&mut self, expr: &Expr) -> Result<Value, EvalError> {
        match expr {
            Expr::Literal(lit) => literal_value(lit),
            Expr::Ident(ident) => {
                if let Some(v) = self.scope.get(&ident.name) {
                    return Ok(v.clone());
                }
                let Some((v, replacement)) = stdlib::resolve(&ident.name) else {
                    return Err(EvalError::at(ident.span, format!("identifier {} does not exist", quote(&ident.name))));
                };
                if let Some(new) = replacement {
                    self.warnings.push(
                        Diagnostic::warning(ident.span, format!("this stdlib function is deprecated; please refer to the documentation for updated usage and alternatives ({} is replaced by {new})", ident.name))
                            .with_code("deprecated"),
                    );
                }
                Ok(v.clone())
            }
            Expr::Array(arr) => {
                let mut items = Vec::with_capacity(arr.elements.len());
                for e in &arr.elements {
                    items.push(self.eval(e)?);
                }
                Ok(Value::array(items))
            }
            Expr::Object(obj) => {
                let mut o = Object::with_capacity(obj.fields.len());
                for f in &obj.fields {
                    let v = self.eval(&f.value)?;
                    o.insert(f.key.name.clone(), v);
                }
                Ok(Value::object(o))
            }
            Expr::Paren(p) => self.eval(&p.inner),
            Expr::Access(acc) => {
                let v = self.eval(&acc.value)?;
                let name = &acc.field.name;
                let missing = || EvalError::at(acc.field.span, format!("field {} does not exist", quote(name)));
                match &v {
                    Value::Object(o) => o.get(name).cloned().ok_or_else(missing),
                    Value::Capsule(_) | Value::Secret(_) | Value::OptionalSecret(_) => match v.as_object() {
                        Some(o) => o.get(name).cloned().ok_or_else(missing),
                        None => Err(self.value_error(
                            Some(&acc.value),
                            &v,
                            ValueError::message(format!("expected object or array or a capsule convertible to an object, got {}", v.ty())),
                        )),
                    },
                    _ => Err(self.value_error(
                        Some(&acc.value),
                        &v,
                        ValueError::message(format!("cannot access field {} on value of type {}", quote(name), v.ty())),
                    )),
                }
            }
            Expr::Index(ix) => {
                let v = self.eval(&ix.value)?;
                let idx = self.eval(&ix.index)?;
                match &v {
                    Value::Array(_) | Value::Bytes(_) => {
                        let Value::Number(n) = idx else {
                            return Err(self.value_error(Some(&ix.index), &idx, ValueError::type_error(Type::Number, idx.ty())));
                        };
                        let i = n.as_i64();
                        let len = v.len().unwrap_or(0);
                        if i < 0 || i as u64 >= len as u64 {
                            return Err(self.value_error(
                                Some(&ix.index),
                                &idx,
                                ValueError::message(format!("index {i} is out of range of array with length {len}")),
                            ));
                        }
                        Ok(v.index(i as usize).unwrap_or_default())
                    }
                    Value::Object(_) | Value::Capsule(_) | Value::Secret(_) | Value::OptionalSecret(_) => {
                        let Some(o) = v.as_object() else {
                            return Err(self.value_error(
                                Some(&ix.value),
                                &v,
                                ValueError::message(format!("expected object or array or a capsule convertible to an object, got {}", v.ty())),
                            ));
                        };
                        let Value::String(key) = &idx else {
                            return Err(self.value_error(Some(&ix.index), &idx, ValueError::type_error(Type::String, idx.ty())));
                        };
                        let key = String::from_utf8_lossy(key.as_bytes());
                        Ok(o.get(&key).cloned().unwrap_or_default())
                    }
                    _ => Err(self.value_error(Some(&ix.value), &v, ValueError::message(format!("expected object or array, got {}", v.ty())))),
                }
            }
            Expr::Call(call) => {
                let callee = self.eval(&call.callee)?;
                let Value::Function(f) = &callee else {
                    return Err(self.value_error(Some(&call.callee), &callee, ValueError::type_error(Type::Function, callee.ty())));
                };
                let mut args = Vec::with_capacity(call.args.len());
                for a in &call.args {
                    args.push(self.eval(a)?);
                }
                f.call(&args).map_err(|e| match e {
                    CallError::Callee(msg) => self.value_error(Some(&call.callee), &callee, ValueError::message(msg)),
                    CallError::Plain(msg) => EvalError::plain(msg),
                    CallError::Arg { index, error, converting } => {
                        let arg = args.get(index).cloned().unwrap_or_default();
                        self.attribute(call.args.get(index), &arg, error, converting)
                    }
                })
            }
            Expr::Unary(u) => {
                let v = self.eval(&u.operand)?;
                match (u.op, &v) {
                    (UnaryOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                    (UnaryOp::Not, _) => Err(self.value_error(Some(&u.operand), &v, ValueError::type_error(Type::Bool, v.ty()))),
                    (UnaryOp::Neg, Value::Number(n)) => Ok(Value::Number(n.negate())),
                    (UnaryOp::Neg, _) => Err(self.value_error(Some(&u.operand), &v, ValueError::type_error(Type::Number, v.ty()))),
                }
            }
            Expr::Binary(b) => {
                let lhs = self.eval(&b.left)?;
                let rhs = self.eval(&b.right)?;
                self.binary(b.op, &b.left, lhs, &b.right, rhs)
            }
        }
    }

    /// A binary operation on the evaluated operands; errors name the original operands.
    fn binary(&mut self, op: BinaryOp, lexpr: &Expr, lhs: Value, rexpr: &Expr, rhs: Value) -> Result<Value, EvalError> {
        let unwrapped = if lhs.ty() == Type::Capsule || rhs.ty() == Type::Capsule { unwrap_capsules(&lhs, &rhs) } else { None };
        let (l, r, r_changed) = match &unwrapped {
            Some((l, r, r_changed)) => (l, r, *r_changed),
            None => (&lhs, &rhs, false),
        };
        match op {
            BinaryOp::Eq => return Ok(Value::Bool(values_equal(l, r))),
            BinaryOp::Neq => return Ok(Value::Bool(!values_equal(l, r))),
            _ => {}
        }
        let allowed: &[Type] = match op {
            BinaryOp::Or | BinaryOp::And => &[Type::Bool],
            BinaryOp::Add => &[Type::Number, Type::String, Type::Capsule],
            BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::Pow => &[Type::Number],
            _ => &[Type::Number, Type::String],
        };
        for (operand, node, orig) in [(l, lexpr, &lhs), (r, rexpr, &rhs)] {
            if !allowed.contains(&operand.ty()) {
                let list = allowed.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(" ");
                let msg = format!("should be one of [{list}] for binop {}, got {}", op.as_str(), operand.ty());
                return Err(self.value_error(Some(node), orig, ValueError::message(msg)));
            }
        }
        if l.ty() != r.ty() {
            let node = if r_changed { None } else { Some(rexpr) };
            return Err(self.value_error(node, r, ValueError::type_error(l.ty(), r.ty())));
        }
        match (op, l, r) {
            (BinaryOp::Or, Value::Bool(x), Value::Bool(y)) => Ok(Value::Bool(*x || *y)),
            (BinaryOp::And, Value::Bool(x), Value::Bool(y)) => Ok(Value::Bool(*x && *y)),
            (BinaryOp::Lt | BinaryOp::Lte | BinaryOp::Gt | BinaryOp::Gte, _, _) => {
                let ord = match (l, r) {
                    (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
                    (Value::Number(x), Value::Number(y)) => x.compare(*y),
                    _ => None,
                };
                Ok(Value::Bool(ord.is_some_and(|o| match op {
                    BinaryOp::Lt => o.is_lt(),
                    BinaryOp::Lte => o.is_le(),
                    BinaryOp::Gt => o.is_gt(),
                    _ => o.is_ge(),
                })))
            }
            (BinaryOp::Add, Value::String(x), Value::String(y)) => Ok(Value::string(concat(x, y.as_bytes()))),
            (BinaryOp::Add, Value::OptionalSecret(x), _) => {
                let (ytext, yflag) = match r {
                    Value::OptionalSecret(y) => (y.expose().as_bytes(), y.is_secret),
                    _ => (&[][..], false),
                };
                Ok(Value::optional_secret(concat(x.expose(), ytext), x.is_secret || yflag))
            }
            (BinaryOp::Add, Value::Secret(x), _) => {
                let ytext = match r {
                    Value::Secret(y) => y.expose().as_bytes(),
                    _ => &[],
                };
                Ok(Value::secret(concat(x.expose(), ytext)))
            }
            (BinaryOp::Add, Value::Number(_), _) | (BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::Pow, _, _) => {
                let (Value::Number(x), Value::Number(y)) = (l, r) else { return Ok(Value::Null) };
                if matches!(op, BinaryOp::Div | BinaryOp::Mod) && y.is_zero() {
                    return Err(self.value_error(Some(rexpr), &rhs, ValueError::message("divide by zero error")));
                }
                Ok(x.arith(op, *y).map_or(Value::Null, Value::Number))
            }
            (BinaryOp::Add, _, _) => {
                let msg = format!("could not perform binop + for unknown types lhs {} rhs {}", l.ty(), r.ty());
                Err(self.value_error(Some(lexpr), &lhs, ValueError::message(msg)))
            }
            _ => Ok(Value::Null),
        }
    }

    /// Attributes an error about `value`, the result of `node`.
    fn value_error(&self, node: Option<&Expr>, value: &Value, err: ValueError) -> EvalError {
        self.attribute(node, value, err, false)
    }

    /// Upstream's walk over nested value errors: each level may find the node that
    /// produced its value; the path printed is the part below the last node found.
    pub fn attribute(&self, root: Option<&Expr>, root_val: &Value, err: ValueError, arg_level: bool) -> EvalError {
        let path = &err.path;
        let mut levels: Vec<(usize, Option<&PathSeg>)> = Vec::new();
        if arg_level {
            levels.push((0, None));
        }
        if err.wrapped {
            for (k, seg) in path.iter().enumerate() {
                levels.push((k, Some(seg)));
            }
        }
        levels.push((path.len(), None));

        let node_of = |prefix: usize| -> Option<&Expr> {
            let root = root?;
            match root_val.at_path(&path[..prefix]) {
                Some(Value::Null) | None => None,
                Some(_) => locate(root, &path[..prefix]),
            }
        };

        let mut expr_path = String::new();
        let mut node: Option<&Expr> = None;
        let mut literal = false;
        for (prefix, seg) in levels {
            if let Some(seg) = seg {
                expr_path.push_str(&seg.to_string());
            }
            if let Some(n) = node_of(prefix) {
                if literal {
                    expr_path.clear();
                }
                node = Some(n);
                literal = true;
            } else {
                literal = false;
            }
        }
        let detail = err.kind.detail();
        match node {
            Some(n) => EvalError { pos: ErrorPos::Span(n.span()), message: format!("{}{expr_path} {detail}", self.expr_text(n)) },
            None => EvalError { pos: ErrorPos::Unknown, message: format!("{expr_path} {detail}") },
        }
    }

    /// The expression as upstream's printer shows it.
    pub fn expr_text(&self, e: &Expr) -> String {
        syntax::format::format_expr(e, self.lines)
    }
}

/// The sub-expression that directly produced the part of `expr`'s value reached by `path`.
fn locate<'e>(expr: &'e Expr, path: &[PathSeg]) -> Option<&'e Expr> {
    if path.is_empty() {
        return Some(expr);
    }
    match expr {
        Expr::Paren(p) => locate(&p.inner, path),
        Expr::Array(a) => match &path[0] {
            PathSeg::Index(i) => locate(a.elements.get(*i)?, &path[1..]),
            PathSeg::Field(_) => None,
        },
        Expr::Object(o) => match &path[0] {
            PathSeg::Field(k) => {
                let f = o.fields.iter().rev().find(|f| f.key.name == *k)?;
                locate(&f.value, &path[1..])
            }
            PathSeg::Index(_) => None,
        },
        Expr::Access(a) => {
            let mut p = Vec::with_capacity(path.len() + 1);
            p.push(PathSeg::Field(a.field.name.clone()));
            p.extend_from_slice(path);
            locate(&a.value, &p)
        }
        Expr::Index(ix) => {
            let seg = match &ix.index {
                Expr::Literal(l) => match literal_value(l).ok()? {
                    Value::Number(n) if n.as_i64() >= 0 => PathSeg::Index(n.as_i64() as usize),
                    Value::String(s) => PathSeg::Field(SmolStr::new(s.to_string_lossy())),
                    _ => return None,
                },
                _ => return None,
            };
            let mut p = Vec::with_capacity(path.len() + 1);
            p.push(seg);
            p.extend_from_slice(path);
            locate(&ix.value, &p)
        }
        _ => None,
    }
}

/// Upstream's capsule pre-step for binary operators: the operands as replaced and
/// whether the right one was, or `None` when neither changes.
fn unwrap_capsules(lhs: &Value, rhs: &Value) -> Option<(Value, Value, bool)> {
    Some(match (lhs, rhs) {
        (Value::OptionalSecret(x), Value::Secret(_)) => (Value::secret(x.expose().clone()), rhs.clone(), false),
        (Value::OptionalSecret(x), Value::String(y)) if x.is_secret => (lhs.clone(), Value::optional_secret(y.clone(), true), true),
        (Value::OptionalSecret(x), Value::String(_)) => (Value::String(x.expose().clone()), rhs.clone(), true),
        (Value::Secret(_), Value::OptionalSecret(y)) => (lhs.clone(), Value::secret(y.expose().clone()), true),
        (Value::Secret(_), Value::String(y)) => (lhs.clone(), Value::secret(y.clone()), true),
        (Value::String(x), Value::OptionalSecret(y)) if y.is_secret => (Value::optional_secret(x.clone(), true), rhs.clone(), false),
        (Value::String(_), Value::OptionalSecret(y)) => (lhs.clone(), Value::String(y.expose().clone()), true),
        (Value::String(x), Value::Secret(_)) => (Value::secret(x.clone()), rhs.clone(), false),
        _ => return None,
    })
}

/// The bytes of `x` followed by `y`.
fn concat(x: &Str, y: &[u8]) -> Vec<u8> {
    let mut s = Vec::with_capacity(x.len() + y.len());
    s.extend_from_slice(x.as_bytes());
    s.extend_from_slice(y);
    s
}

fn quote(s: &str) -> String {
    syntax::quote::go_quote(s)
}

/// The value of a literal.
pub fn literal_value(lit: &Literal) -> Result<Value, EvalError> {
    match lit.kind {
        LiteralKind::Null => Ok(Value::Null),
        LiteralKind::Bool => Ok(Value::Bool(lit.text == "true")),
        LiteralKind::Number => Ok(Value::Number(parse_number_literal(&lit.text))),
        LiteralKind::Float => parse_float_literal(&lit.text).map(Value::float).map_err(EvalError::plain),
        LiteralKind::String => unquote(&lit.text).map(|b| Value::String(Str::from(b))).map_err(|e| EvalError::at(lit.span, e)),
    }
}

/// Go's `strconv.Unquote` for the two string literal forms (the parser has already reported
/// malformed escapes; this only needs to produce the bytes).
pub fn unquote(text: &str) -> Result<Vec<u8>, String> {
    let b = text.as_bytes();
    if b.len() >= 2 && b[0] == b'`' && b[b.len() - 1] == b'`' {
        return Ok(b[1..b.len() - 1].iter().copied().filter(|&c| c != b'\r').collect());
    }
    if b.len() < 2 || b[0] != b'"' || b[b.len() - 1] != b'"' {
        return Err("invalid syntax".into());
    }
    let body = &text[1..text.len() - 1];
    let mut out = Vec::with_capacity(body.len());
    let mut chars = body.char_indices().peekable();
    let bad = || "invalid syntax".to_string();
    while let Some((_, c)) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let (_, e) = chars.next().ok_or_else(bad)?;
        let mut hex = |n: usize, radix: u32| -> Result<u32, String> {
            let mut v = 0u32;
            for _ in 0..n {
                let (_, d) = chars.next().ok_or_else(bad)?;
                v = v * radix + d.to_digit(radix).ok_or_else(bad)?;
            }
            Ok(v)
        };
        match e {
            'a' => out.push(7),
            'b' => out.push(8),
            'f' => out.push(12),
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            't' => out.push(b'\t'),
            'v' => out.push(11),
            '\\' => out.push(b'\\'),
            '"' => out.push(b'"'),
            'x' => out.push(hex(2, 16)? as u8),
            '0'..='7' => {
                let rest = hex(2, 8)?;
                let v = (e as u32 - '0' as u32) * 64 + rest;
                if v > 255 {
                    return Err(bad());
                }
                out.push(v as u8);
            }
            'u' | 'U' => {
                let v = hex(if e == 'u' { 4 } else { 8 }, 16)?;
                let c = char::from_u32(v).ok_or_else(bad)?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

/// Parses and evaluates one expression source with `scope`. Parse errors come back as the
/// parser's diagnostics.
pub fn eval_source(src: &str, scope: &Scope) -> Result<(Value, Vec<Diagnostic>), EvalFailure> {
    let parsed = syntax::parse_expression(src.as_bytes());
    if parsed.has_errors() {
        return Err(EvalFailure::Parse { diagnostics: parsed.diagnostics, lines: parsed.lines });
    }
    let mut ev = Evaluator::new(&parsed.lines, scope);
    match ev.eval(&parsed.tree) {
        Ok(v) => Ok((v, ev.take_warnings())),
        Err(error) => Err(EvalFailure::Eval { error, span: parsed.tree.span(), lines: parsed.lines }),
    }
}

/// Why [`eval_source`] failed.
#[derive(Debug)]
pub enum EvalFailure {
    Parse { diagnostics: Vec<Diagnostic>, lines: LineIndex },
    Eval { error: EvalError, span: Span, lines: LineIndex },
}

impl EvalFailure {
    /// Upstream's error string (`L:C: message`; for parse errors, the first diagnostic and
    /// `(and N more diagnostics)`).
    pub fn render(&self, file: &str) -> String {
        match self {
            EvalFailure::Parse { diagnostics, lines } => {
                let first = diagnostics.iter().find(|d| d.is_error()).or(diagnostics.first());
                let Some(d) = first else { return String::from("parse error") };
                let pos = lines.line_col(d.span.start);
                let head = if file.is_empty() { format!("{pos}: {}", d.message) } else { format!("{file}:{pos}: {}", d.message) };
                let more = diagnostics.len() - 1;
                if more > 0 {
                    format!("{head} (and {more} more diagnostics)")
                } else {
                    head
                }
            }
            EvalFailure::Eval { error, lines, .. } => error.render(file, lines),
        }
    }

    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            EvalFailure::Parse { diagnostics, .. } => diagnostics.clone(),
            EvalFailure::Eval { error, span, .. } => vec![error.to_diagnostic(*span)],
        }
    }
}
