//! The type checker: resolves paths, functions and enums against the catalogue for one
//! context, checks argument counts and types and that conditions are boolean, and fills the
//! resolutions into the tree for the evaluator.

use crate::ast::{Arg, Call, Condition, Expr, ExprKind, MathOp, Path, Statement};
use crate::catalog::{self, Field, FunctionDoc, FunctionKind, ParamDoc, ParamKind, Ty};
use crate::suggest::did_you_mean;
use crate::{Context, Diagnostic};

type Result<T> = std::result::Result<T, Diagnostic>;

fn err<T>(span: &std::ops::Range<usize>, message: impl Into<String>) -> Result<T> {
    Err(Diagnostic { span: span.clone(), message: message.into() })
}

/// "a string", "an int".
fn article(t: Ty) -> String {
    let n = t.name();
    if t == Ty::Any {
        return "a value of any type".into();
    }
    if n.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {n}")
    } else {
        format!("a {n}")
    }
}

pub fn statement(s: &mut Statement, ctx: Context) -> Result<()> {
    let c = Checker { ctx, filter: false };
    c.call(&mut s.editor, FunctionKind::Editor)?;
    if let Some(cond) = &mut s.condition {
        c.condition(cond)?;
    }
    Ok(())
}

/// `filter`: the condition is one of `otelcol.processor.filter`'s, which has functions of its own.
pub fn condition(cond: &mut Condition, ctx: Context, filter: bool) -> Result<()> {
    Checker { ctx, filter }.condition(&mut cond.expr)
}

struct Checker {
    ctx: Context,
    filter: bool,
}

impl Checker {
    fn available(&self, f: &FunctionDoc) -> bool {
        f.contexts.is_empty() || f.contexts.contains(&self.ctx)
    }

    fn call(&self, call: &mut Call, want: FunctionKind) -> Result<Ty> {
        let Some(f) = catalog::function(&call.name) else {
            let kind = if want == FunctionKind::Editor { "editor" } else { "converter" };
            let names = catalog::functions().iter().filter(|f| f.kind == want && self.available(f) && (self.filter || !f.filter_only)).map(|f| f.name);
            return err(&call.name_span, format!("unknown {kind} \"{}\"{}", call.name, did_you_mean(&call.name, names)));
        };
        match (want, f.kind) {
            (FunctionKind::Editor, FunctionKind::Converter) => {
                return err(&call.name_span, format!("\"{}\" is a converter: a statement starts with an editor such as set(target, value)", f.name))
            }
            (FunctionKind::Converter, FunctionKind::Editor) => {
                return err(
                    &call.name_span,
                    format!("\"{}\" is an editor: it starts a statement and returns no value; converters start with a capital letter", f.name),
                )
            }
            _ => {}
        }
        if f.filter_only && !self.filter {
            return err(&call.name_span, format!("\"{}\" is only available in otelcol.processor.filter conditions", f.name));
        }
        if !self.available(f) {
            let ctxs: Vec<&str> = f.contexts.iter().map(|c| c.name()).collect();
            return err(&call.name_span, format!("\"{}\" is not available in the {} context (only in {})", f.name, self.ctx.name(), ctxs.join(", ")));
        }
        call.function = Some(f);
        self.args(f, call)?;
        if call.keys.is_empty() {
            return Ok(f.returns);
        }
        if f.kind == FunctionKind::Editor || !f.returns.indexable() {
            return err(&call.keys[0].span, format!("the result of \"{}\" is {} and cannot be indexed", f.name, article(f.returns)));
        }
        self.keys(&mut call.keys)?;
        Ok(Ty::Any)
    }

    /// Matches the arguments to the parameters, positionally then by name.
    fn args(&self, f: &FunctionDoc, call: &mut Call) -> Result<()> {
        let required = f.params.iter().filter(|p| !p.optional).count();
        let names: Vec<&str> = f.params.iter().map(|p| p.name).collect();
        let count = |n: usize| if required == f.params.len() { format!("{n}") } else { format!("{required} to {}", f.params.len()) };
        if call.args.len() > f.params.len() {
            let extra = &call.args[f.params.len()].value.span;
            return err(extra, format!("{} takes {} argument(s) ({}), found {}", f.name, count(f.params.len()), names.join(", "), call.args.len()));
        }
        let mut assigned: Vec<Option<usize>> = vec![None; f.params.len()];
        for (i, arg) in call.args.iter().enumerate() {
            let slot = match &arg.name {
                None => i,
                Some((n, span)) => match names.iter().position(|p| p == n) {
                    Some(k) => k,
                    None => {
                        return err(
                            span,
                            format!("{} has no parameter \"{n}\": its parameters are {}{}", f.name, names.join(", "), did_you_mean(n, names.iter().copied())),
                        )
                    }
                },
            };
            if assigned[slot].is_some() {
                return err(&arg.value.span, format!("argument \"{}\" of {} is given twice", names[slot], f.name));
            }
            assigned[slot] = Some(i);
        }
        if let Some(missing) = f.params.iter().zip(&assigned).find(|(p, a)| !p.optional && a.is_none()) {
            return err(
                &call.span,
                format!(
                    "{} takes {} argument(s) ({}), found {}: \"{}\" is missing",
                    f.name,
                    count(f.params.len()),
                    names.join(", "),
                    call.args.len(),
                    missing.0.name
                ),
            );
        }
        for (param, slot) in f.params.iter().zip(assigned) {
            if let Some(i) = slot {
                self.arg(f, param, &mut call.args[i])?;
            }
        }
        Ok(())
    }

    fn arg(&self, f: &FunctionDoc, param: &ParamDoc, arg: &mut Arg) -> Result<()> {
        let what = format!("argument \"{}\" of {}", param.name, f.name);
        let span = arg.value.span.clone();
        match param.kind {
            ParamKind::Target | ParamKind::MapTarget => {
                let ExprKind::Path(path) = &mut arg.value.kind else {
                    return err(&span, format!("{what} must be a path to write to, such as attributes[\"key\"]"));
                };
                let ty = self.path(path)?;
                if path.resolved.is_some_and(|(_, field)| field == Field::MetricType) {
                    return err(&span, format!("{what}: \"{}\" is read-only", path.dotted()));
                }
                if param.kind == ParamKind::MapTarget && !matches!(ty, Ty::Map | Ty::Any) {
                    return err(&span, format!("{what} must be a map, found {} ({})", article(ty), path.dotted()));
                }
            }
            ParamKind::Value(want) => {
                let got = self.value(&mut arg.value)?;
                if !compatible(want, got) {
                    return err(&span, format!("{what} must be {}, found {}", article(want), article(got)));
                }
            }
            ParamKind::Text => {
                self.value(&mut arg.value)?;
            }
            ParamKind::Values => {
                let got = self.value(&mut arg.value)?;
                if !matches!(got, Ty::List | Ty::Any | Ty::Nil) {
                    return err(&span, format!("{what} must be a list, found {}", article(got)));
                }
            }
            ParamKind::Pattern => {
                let ExprKind::Str(s) = &arg.value.kind else { return err(&span, format!("{what} must be a literal string (a regular expression)")) };
                match regex::Regex::new(s) {
                    Ok(re) if f.name == "ExtractPatterns" && re.capture_names().flatten().next().is_none() => {
                        return err(&span, format!("{what} needs at least one named group such as (?P<name>...)"))
                    }
                    Ok(re) => arg.regex = Some(re),
                    Err(e) => return err(&span, format!("{what} is not a valid regular expression: {}", one_line(&e.to_string()))),
                }
            }
            ParamKind::LitStr(allowed) => {
                let ExprKind::Str(s) = &arg.value.kind else { return err(&span, format!("{what} must be a literal string")) };
                if matches!(f.name, "Time" | "FormatTime") && param.name == "format" {
                    if let Some(d) = crate::timefmt::unsupported_directive(s) {
                        return err(&span, format!("{what}: the directive {d} is not supported"));
                    }
                }
                if !allowed.is_empty() && !allowed.contains(&s.as_str()) {
                    let quoted: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
                    return err(&span, format!("{what} must be one of {}, found \"{s}\"", quoted.join(", ")));
                }
            }
            ParamKind::LitInt => {
                if !matches!(arg.value.kind, ExprKind::Int(_)) {
                    return err(&span, format!("{what} must be a literal integer"));
                }
            }
            ParamKind::StrList => {
                let ok = matches!(&arg.value.kind, ExprKind::List(items) if items.iter().all(|i| matches!(i.kind, ExprKind::Str(_))));
                if !ok {
                    return err(&span, format!("{what} must be a list of literal strings"));
                }
            }
            ParamKind::HashFunction => {
                let ok = matches!(&arg.value.kind, ExprKind::Enum(n, _) if catalog::HASH_FUNCTIONS.contains(&n.as_str()));
                if !ok {
                    return err(&span, format!("{what} must name a hash converter without parentheses: {}", catalog::HASH_FUNCTIONS.join(", ")));
                }
            }
        }
        Ok(())
    }

    fn keys(&self, keys: &mut [Expr]) -> Result<()> {
        for k in keys {
            let t = self.value(k)?;
            if !matches!(t, Ty::String | Ty::Int | Ty::Any) {
                return err(&k.span, format!("a key must be a string or an int, found {}", article(t)));
            }
        }
        Ok(())
    }

    fn path(&self, path: &mut Path) -> Result<Ty> {
        let (owner, def_ty, field) = self.resolve(path)?;
        path.resolved = Some((owner, field));
        if path.keys.is_empty() {
            return Ok(def_ty);
        }
        if !def_ty.indexable() {
            return err(&path.keys[0].span, format!("\"{}\" is {} and cannot be indexed", path.dotted(), article(def_ty)));
        }
        self.keys(&mut path.keys)?;
        Ok(Ty::Any)
    }

    fn resolve(&self, path: &Path) -> Result<(Context, Ty, Field)> {
        let dotted = path.dotted();
        if dotted == "cache" {
            return Ok((self.ctx, Ty::Map, Field::Cache));
        }
        let first = path.parts[0].0.as_str();
        let prefixed = CONTEXTS.iter().copied().find(|&c| first == catalog::prefix(c) || first == c.name());
        if let (Some(c), true) = (prefixed, path.parts.len() > 1) {
            let rest = &dotted[first.len() + 1..];
            if c != self.ctx && !catalog::reaches(self.ctx).contains(&c) {
                return err(&path.span, format!("path \"{dotted}\" belongs to the {} context and cannot be used in the {} context", c.name(), self.ctx.name()));
            }
            if let Some(d) = catalog::own_fields(c).find(|d| d.name == rest) {
                return Ok((c, d.ty, d.field));
            }
        } else if let Some(d) = catalog::own_fields(self.ctx).find(|d| d.name == dotted) {
            return Ok((self.ctx, d.ty, d.field));
        }
        if prefixed.is_none() {
            // A field of a context this one reaches, written without its prefix.
            if let Some(&up) = catalog::reaches(self.ctx).iter().rev().find(|&&c| catalog::own_fields(c).any(|d| d.name == dotted)) {
                let ctx = self.ctx.name();
                return err(&path.span, format!("unknown path \"{dotted}\" in the {ctx} context; did you mean \"{}.{dotted}\"?", catalog::prefix(up)));
            }
            let mut owners: Vec<&str> = catalog::FIELDS.iter().filter(|d| d.name == dotted).map(|d| d.ctx.name()).collect();
            owners.dedup();
            if !owners.is_empty() {
                let plural = if owners.len() > 1 { "s" } else { "" };
                return err(
                    &path.span,
                    format!("path \"{dotted}\" is not valid in the {} context (it is a path of the {} context{plural})", self.ctx.name(), owners.join(", ")),
                );
            }
        }
        let known = catalog::paths(self.ctx);
        let hint = did_you_mean(&dotted, known.iter().map(|p| p.name.as_str()));
        err(&path.span, format!("unknown path \"{dotted}\" in the {} context{hint}", self.ctx.name()))
    }

    fn value(&self, e: &mut Expr) -> Result<Ty> {
        let span = e.span.clone();
        Ok(match &mut e.kind {
            ExprKind::Nil => Ty::Nil,
            ExprKind::Bool(_) => Ty::Bool,
            ExprKind::Int(_) => Ty::Int,
            ExprKind::Float(_) => Ty::Double,
            ExprKind::Str(_) => Ty::String,
            ExprKind::Bytes(_) => Ty::Bytes,
            ExprKind::List(items) => {
                for i in items {
                    self.value(i)?;
                }
                Ty::List
            }
            ExprKind::Map(entries) => {
                for (_, v) in entries {
                    self.value(v)?;
                }
                Ty::Map
            }
            ExprKind::Enum(name, value) => {
                let Some(def) = catalog::ENUMS.iter().find(|d| d.name == name.as_str()) else {
                    let names = catalog::ENUMS.iter().filter(|d| d.contexts.contains(&self.ctx)).map(|d| d.name);
                    let hint = did_you_mean(name, names);
                    let fallback = if catalog::function(name).is_some() { format!("; to call the converter, write {name}(...)") } else { String::new() };
                    return err(&span, format!("unknown enum \"{name}\"{}", if hint.is_empty() { fallback } else { hint }));
                };
                if !def.contexts.contains(&self.ctx) {
                    return err(&span, format!("enum \"{name}\" is not available in the {} context", self.ctx.name()));
                }
                *value = Some(def.value);
                Ty::Int
            }
            ExprKind::Path(p) => self.path(p)?,
            ExprKind::Call(c) => self.call(c, FunctionKind::Converter)?,
            ExprKind::Neg(inner) => {
                let t = self.value(inner)?;
                if !matches!(t, Ty::Int | Ty::Double | Ty::Duration | Ty::Any) {
                    return err(&span, format!("cannot negate {}", article(t)));
                }
                t
            }
            ExprKind::Math(op, l, r) => {
                let (lt, rt) = (self.value(l)?, self.value(r)?);
                match math_type(*op, lt, rt) {
                    Some(t) => t,
                    None => return err(&span, format!("cannot apply \"{}\" to {} and {}", op_symbol(*op), article(lt), article(rt))),
                }
            }
            ExprKind::Compare(_, l, r) => {
                self.value(l)?;
                self.value(r)?;
                Ty::Bool
            }
            ExprKind::Not(_) | ExprKind::And(..) | ExprKind::Or(..) => {
                self.condition(e)?;
                Ty::Bool
            }
        })
    }

    /// A boolean expression: comparisons, `and`/`or`/`not`, booleans and boolean converters.
    fn condition(&self, e: &mut Expr) -> Result<()> {
        let span = e.span.clone();
        match &mut e.kind {
            ExprKind::Not(inner) => self.condition(inner),
            ExprKind::And(l, r) | ExprKind::Or(l, r) => {
                self.condition(l)?;
                self.condition(r)
            }
            ExprKind::Bool(_) | ExprKind::Compare(..) => self.value(e).map(|_| ()),
            _ => {
                let t = self.value(e)?;
                if matches!(t, Ty::Bool) {
                    Ok(())
                } else {
                    err(&span, format!("expected a boolean condition (a comparison, a boolean converter, true or false), found {}", article(t)))
                }
            }
        }
    }
}

const CONTEXTS: [Context; 7] = [Context::Resource, Context::Scope, Context::Span, Context::SpanEvent, Context::Metric, Context::DataPoint, Context::Log];

fn compatible(want: Ty, got: Ty) -> bool {
    want == got || want == Ty::Any || got == Ty::Any || got == Ty::Nil || (want == Ty::Double && got == Ty::Int)
}

fn op_symbol(op: MathOp) -> &'static str {
    match op {
        MathOp::Add => "+",
        MathOp::Sub => "-",
        MathOp::Mul => "*",
        MathOp::Div => "/",
    }
}

/// The result type of arithmetic, as upstream allows it: numbers, and time/duration sums and
/// differences.
pub fn math_type(op: MathOp, l: Ty, r: Ty) -> Option<Ty> {
    use Ty::*;
    match (l, r) {
        (Any, _) | (_, Any) => Some(Any),
        (Int, Int) => Some(Int),
        (Int | Double, Int | Double) => Some(Double),
        (Time, Time) if op == MathOp::Sub => Some(Duration),
        (Time, Duration) if matches!(op, MathOp::Add | MathOp::Sub) => Some(Time),
        (Duration, Duration) if matches!(op, MathOp::Add | MathOp::Sub) => Some(Duration),
        _ => None,
    }
}

fn one_line(s: &str) -> String {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

/// See [`crate::infer_statement_context`].
pub(crate) fn infer_context(names: &crate::Names, candidates: &[Context]) -> Option<Context> {
    let named = |c: Context| names.paths.iter().any(|p| p.split('.').next().is_some_and(|first| first == c.name() || first == catalog::prefix(c)));
    let from_paths = candidates.iter().rposition(|&c| named(c));
    // The contexts each function or enum works in, where it is restricted.
    let needs: Vec<&[Context]> = names
        .functions
        .iter()
        .filter_map(|f| catalog::function(f).map(|d| d.contexts).filter(|cs| !cs.is_empty()))
        .chain(names.enums.iter().filter_map(|e| catalog::ENUMS.iter().find(|d| d.name == e.as_str()).map(|d| d.contexts)))
        .collect();
    let fits = candidates.iter().enumerate().skip(from_paths.unwrap_or(0)).find(|(_, c)| needs.iter().all(|cs| cs.contains(c)));
    match (from_paths, fits) {
        (None, _) if needs.is_empty() => None,
        (_, Some((_, &c))) => Some(c),
        (Some(i), None) => Some(candidates[i]),
        (None, None) => None,
    }
}
