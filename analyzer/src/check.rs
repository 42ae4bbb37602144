//! The checker: walks a module body against the catalogue and the module's namespace,
//! resolving references, checking structure and types, and collecting diagnostics and the
//! edges of the dependency graph.

use std::collections::HashMap;
use std::sync::OnceLock;

use smol_str::SmolStr;
use syntax::ast::{self, Block, Expr, Ident, Literal, LiteralKind, Stmt, UnaryOp};
use syntax::{Diagnostic, Span};

use crate::catalog::{self, Catalog, Stability};
use crate::graph;
use crate::literal;
use crate::model::{self, ImportDecls, ImportResolver, ModuleIndex, NodeKind};
use crate::suggest;
use crate::types::{assignable, Ty};

/// What the checker is told by the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Options {
    /// `--stability.level`: the least stable level allowed.
    pub stability: Stability,
    /// `--feature.community-components.enabled`.
    pub community: bool,
}

/// A reference from one top-level node to another: `from` depends on `to`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub span: Span,
}

/// The kind of module being checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ModuleKind {
    Root,
    /// A `declare` body.
    Declare,
    /// A `foreach` template.
    Template,
}

/// One level of names: a module's namespace plus local variables (`foreach` vars).
struct Level<'s> {
    index: &'s ModuleIndex,
    locals: Vec<SmolStr>,
}

struct Scope<'s> {
    levels: Vec<Level<'s>>,
}

impl<'s> Scope<'s> {
    fn innermost(&self) -> &Level<'s> {
        &self.levels[self.levels.len() - 1]
    }
}

pub struct Checker<'r> {
    opts: Options,
    /// Reads the modules `import.file` and `import.string` blocks of nested modules name.
    resolve: &'r ImportResolver<'r>,
    catalog: &'static Catalog,
    /// A `duplicate-id` diagnostic's message ends with "declared at ": the position of its
    /// first related span is written there once the file and its line are known (a checked
    /// chunk has neither, so that its result stays equal when lines are added above it).
    pub diagnostics: Vec<Diagnostic>,
    /// Indexes into `diagnostics` of unknown top-level references whose did-you-mean the
    /// file's diagnostics add (see [`DEFER_HINTS_ABOVE`]).
    pub deferred_hints: Vec<usize>,
    /// Edges between top-level nodes of the module being checked at the outermost level.
    pub edges: Vec<Edge>,
    /// One per module being checked (root, declare bodies, templates), innermost last.
    frames: Vec<Frame>,
}

/// A module being checked: the top-level node whose body is being walked, and the edges
/// collected between its nodes.
#[derive(Default)]
struct Frame {
    node: Option<String>,
    edges: Vec<Edge>,
}

impl<'r> Checker<'r> {
    pub fn new(opts: Options, resolve: &'r ImportResolver<'r>) -> Self {
        Checker { opts, resolve, catalog: Catalog::get(), diagnostics: Vec::new(), deferred_hints: Vec::new(), edges: Vec::new(), frames: Vec::new() }
    }

    fn error(&mut self, span: Span, code: &'static str, message: impl Into<String>) -> &mut Diagnostic {
        self.diagnostics.push(Diagnostic::error(span, message).with_code(code));
        let n = self.diagnostics.len();
        &mut self.diagnostics[n - 1]
    }

    /// Checks top-level statements of the root module (one file of it, or a chunk of one):
    /// `index` is the namespace of all its files. IDs declared twice at the top level are the
    /// caller's to report, since the two may be in different chunks or files.
    pub fn check_root(&mut self, body: &[Stmt], index: &ModuleIndex) {
        let scope = Scope { levels: vec![Level { index, locals: Vec::new() }] };
        self.frames.push(Frame::default());
        self.check_module(body, &scope, ModuleKind::Root);
        self.edges = self.frames.pop().unwrap_or_default().edges;
    }

    fn check_module(&mut self, body: &[Stmt], scope: &Scope<'_>, kind: ModuleKind) {
        let mut first: HashMap<String, Span> = HashMap::new();
        for stmt in body {
            match stmt {
                Stmt::Attribute(a) => {
                    self.error(a.name.span, "unknown-attribute", format!("unrecognized attribute name \"{}\"", a.name.name));
                    self.infer(&a.value, scope);
                }
                Stmt::Block(b) => {
                    let (id, span) = model::block_id(b);
                    if kind != ModuleKind::Root {
                        if let Some(&prev) = first.get(&id) {
                            self.error(span, "duplicate-id", "block ID already declared at ").with_related_mut(prev, format!("\"{id}\" first declared here"));
                        } else {
                            first.insert(id.clone(), span);
                        }
                    }
                    if let Some(f) = self.frames.last_mut() {
                        f.node = Some(id);
                    }
                    self.check_top_block(b, scope, kind);
                }
            }
        }
    }

    fn check_top_block(&mut self, b: &Block, scope: &Scope<'_>, module: ModuleKind) {
        let level = scope.innermost();
        let kind = model::classify(&b.name, &level.index.declares, &level.index.imports);
        let has_label = b.label.as_ref().is_some_and(|l| !l.value.is_empty());
        let name = b.name.as_str();
        match &kind {
            NodeKind::Builtin(n) => {
                let Some(comp) = self.catalog.lookup(n) else { return };
                if !has_label {
                    self.error(b.name_span, "missing-label", format!("component \"{name}\" must have a label"));
                }
                self.gate(comp, b.name_span);
                self.check_body(&b.body, &comp.body, &comp.body, false, b.name_span, scope);
            }
            NodeKind::Local(_) | NodeKind::Imported(..) => {
                if !has_label {
                    self.error(b.name_span, "missing-label", format!("component \"{name}\" must have a label"));
                }
                let sig = level.index.custom_sig(&kind).cloned();
                match sig {
                    Some(sig) => self.check_custom(b, &sig, scope),
                    None => self.walk_body(&b.body, scope),
                }
            }
            NodeKind::Declare => {
                match &b.label {
                    None => {
                        self.error(b.name_span, "missing-label", "declare block must have a label");
                    }
                    Some(l) if l.value == "declare" => {
                        self.error(l.span, "invalid-label", "'declare' is not a valid label for a declare block");
                    }
                    _ => {}
                }
                self.check_declare(b, scope);
            }
            NodeKind::Import | NodeKind::Argument | NodeKind::Export | NodeKind::Foreach | NodeKind::Config | NodeKind::Service => {
                if matches!(kind, NodeKind::Argument | NodeKind::Export) && module == ModuleKind::Root {
                    self.error(b.name_span, "placement", format!("{name} blocks only allowed inside a module"));
                }
                if matches!(kind, NodeKind::Config) && module != ModuleKind::Root {
                    self.error(b.name_span, "placement", format!("{name} block not allowed inside a module"));
                }
                if matches!(kind, NodeKind::Service) && module != ModuleKind::Root {
                    self.error(b.name_span, "placement", format!("service blocks not allowed inside a module: \"{name}\""));
                }
                if name == "labelstore" {
                    self.walk_body(&b.body, scope);
                    return;
                }
                let Some(comp) = self.catalog.lookup(name) else { return };
                if comp.label_required && !has_label {
                    self.error(b.name_span, "missing-label", format!("block \"{name}\" requires non-empty label"));
                } else if !comp.label_required {
                    if let Some(l) = &b.label {
                        self.error(l.span, "unexpected-label", format!("block \"{name}\" does not support specifying labels"));
                    }
                }
                if let Some(s) = comp.stability {
                    if s < self.opts.stability {
                        self.error(b.name_span, "stability", stability_message("config block", name, s, self.opts.stability));
                    }
                }
                if matches!(kind, NodeKind::Foreach) {
                    self.check_foreach(b, comp, scope);
                } else {
                    self.check_body(&b.body, &comp.body, &comp.body, false, b.name_span, scope);
                }
                if name == "import.file" {
                    self.check_import_read(b, level.index);
                }
            }
            NodeKind::Unconfigurable => {
                self.error(b.name_span, "unknown-component", format!("service \"{name}\" does not support being configured"));
            }
            NodeKind::Unknown => {
                let candidates = self.catalog.component_names().chain(level.index.declares.keys().map(|k| k.as_str()));
                let hint = suggest::did_you_mean(name, candidates);
                let removed = self.catalog.lookup(name).is_some_and(|c| c.removed);
                let d = self.error(b.name_span, "unknown-component", format!("cannot find the definition of component name \"{name}\""));
                if let Some(h) = hint {
                    d.notes.push(h);
                }
                if removed {
                    d.notes.push(format!("\"{name}\" was removed from Alloy"));
                }
                self.walk_body(&b.body, scope);
            }
        }
    }

    /// An `import.file` whose file could not be read is an error at its `filename`.
    fn check_import_read(&mut self, b: &Block, index: &ModuleIndex) {
        let Some(label) = &b.label else { return };
        let Some(ImportDecls::Unreadable(why)) = index.imports.get(&label.value) else { return };
        let at = b.body.iter().find_map(|s| match s {
            Stmt::Attribute(a) if a.name.name == "filename" => Some(a.value.span()),
            _ => None,
        });
        self.error(at.unwrap_or(b.name_span), "import", why.clone());
    }

    /// Stability and community gates of a builtin component.
    fn gate(&mut self, comp: &catalog::Component, span: Span) {
        if comp.removed {
            self.error(span, "unknown-component", format!("cannot find the definition of component name \"{}\"", comp.name))
                .notes
                .push(format!("\"{}\" was removed from Alloy", comp.name));
            return;
        }
        if comp.community {
            if !self.opts.community {
                self.error(span, "community", format!(
                    "the component \"{}\" is a community component. Use the --feature.community-components.enabled command-line flag to enable community components",
                    comp.name
                ));
            }
            return;
        }
        if let Some(s) = comp.stability {
            if s < self.opts.stability {
                self.error(span, "stability", stability_message("component", &comp.name, s, self.opts.stability));
            }
        }
    }

    fn check_custom(&mut self, b: &Block, sig: &model::DeclareSig, scope: &Scope<'_>) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for stmt in &b.body {
            match stmt {
                Stmt::Attribute(a) => {
                    let n = a.name.name.as_str();
                    if let Some(&prev) = seen.get(n) {
                        self.error(a.name.span, "duplicate-attribute", format!("attribute \"{n}\" may only be provided once"))
                            .with_related_mut(prev, "first provided here");
                    }
                    seen.insert(n, a.name.span);
                    if !sig.args.iter().any(|(x, _)| x == n) {
                        let hint = suggest::did_you_mean(n, sig.args.iter().map(|(x, _)| x.as_str()));
                        let d = self.error(a.name.span, "unknown-attribute", format!("unrecognized attribute name \"{n}\""));
                        d.notes.push(format!("\"{}\" declares the arguments: {}", sig.name, list(sig.args.iter().map(|(x, _)| x.as_str()))));
                        if let Some(h) = hint {
                            d.notes.push(h);
                        }
                    }
                    self.infer(&a.value, scope);
                }
                Stmt::Block(inner) => {
                    self.error(inner.name_span, "unknown-block", format!("unrecognized block name \"{}\"", inner.name));
                    self.walk_body(&inner.body, scope);
                }
            }
        }
        for (arg, required) in &sig.args {
            if *required && !seen.contains_key(arg.as_str()) {
                self.error(b.name_span, "missing-required", format!("missing required attribute \"{arg}\""));
            }
        }
    }

    fn check_declare(&mut self, b: &Block, scope: &Scope<'_>) {
        // The body is a module of its own: it sees its own components and arguments, and the
        // declares and imports of the enclosing modules, but no enclosing components.
        let symbols = model::file_symbols(&b.body);
        let mut index = nested_index(&symbols, scope.levels.iter().map(|l| l.index), self.resolve);
        // Reclassify now that the enclosing declares are visible.
        for (name, label) in &symbols.blocks {
            if let Some(kind @ NodeKind::Unknown) = index.ids.get_mut(&model::node_id(name, label.as_deref())) {
                *kind = model::classify(name, &index.declares, &index.imports);
            }
        }
        let inner = Scope { levels: vec![Level { index: &index, locals: Vec::new() }] };
        self.frames.push(Frame::default());
        self.check_module(&b.body, &inner, ModuleKind::Declare);
        let edges = self.frames.pop().unwrap_or_default().edges;
        self.diagnostics.extend(graph::cycle_diagnostics(&edges));
    }

    fn check_foreach(&mut self, b: &Block, comp: &catalog::Component, scope: &Scope<'_>) {
        let var = b.body.iter().find_map(|s| match s {
            Stmt::Attribute(a) if a.name.name == "var" => match &a.value {
                Expr::Literal(l) if l.kind == LiteralKind::String => eval::eval::unquote(&l.text).ok().and_then(|v| String::from_utf8(v).ok()),
                _ => None,
            },
            _ => None,
        });
        for stmt in &b.body {
            let Stmt::Block(t) = stmt else { continue };
            if t.name != "template" {
                continue;
            }
            let symbols = model::file_symbols(&t.body);
            let index = nested_index(&symbols, [scope.innermost().index], self.resolve);
            let mut levels: Vec<Level<'_>> = scope.levels.iter().map(|l| Level { index: l.index, locals: l.locals.clone() }).collect();
            levels.push(Level { index: &index, locals: var.iter().map(SmolStr::from).collect() });
            let inner = Scope { levels };
            // References between the template's components form the template's own graph;
            // references to outer components are edges of the foreach block (see `resolve`).
            self.frames.push(Frame::default());
            self.check_module(&t.body, &inner, ModuleKind::Template);
            let edges = self.frames.pop().unwrap_or_default().edges;
            self.diagnostics.extend(graph::cycle_diagnostics(&edges));
        }
        // The rest of the body against the schema, which then no longer asks for a template.
        let others: Vec<Stmt> = b.body.iter().filter(|s| !matches!(s, Stmt::Block(t) if t.name == "template")).cloned().collect();
        if others.len() == b.body.len() {
            self.check_body(&others, &comp.body, &comp.body, false, b.name_span, scope);
        } else {
            // `comp` is the catalogue's `foreach`: its schema without `template`, built once.
            static WITHOUT_TEMPLATE: OnceLock<catalog::Body> = OnceLock::new();
            let schema = WITHOUT_TEMPLATE.get_or_init(|| {
                let mut schema = comp.body.clone();
                schema.blocks.retain(|x| x.name != "template");
                schema
            });
            self.check_body(&others, schema, schema, false, b.name_span, scope);
        }
    }

    /// Checks a body against a schema, recursing into nested blocks.
    fn check_body(&mut self, body: &[Stmt], schema: &catalog::Body, root: &catalog::Body, inherit: bool, owner: Span, scope: &Scope<'_>) {
        let mut seen_attrs: HashMap<&str, Span> = HashMap::new();
        let mut seen_blocks: HashMap<&str, Span> = HashMap::new();
        for stmt in body {
            match stmt {
                Stmt::Attribute(a) => {
                    let n = a.name.name.as_str();
                    if let Some(&prev) = seen_attrs.get(n) {
                        self.error(a.name.span, "duplicate-attribute", format!("attribute \"{n}\" may only be provided once"))
                            .with_related_mut(prev, "first provided here");
                        self.infer(&a.value, scope);
                        continue;
                    }
                    seen_attrs.insert(n, a.name.span);
                    match schema.attr(n) {
                        Some(attr) => self.check_value(&a.value, &attr.ty, attr.enum_members.as_deref(), scope),
                        None => {
                            if schema.block(n).is_some() {
                                self.error(a.name.span, "block-as-attribute", format!("\"{n}\" must be a block, but is used as an attribute"));
                            } else if !schema.open {
                                let hint = suggest::did_you_mean(n, schema.attrs.iter().map(|x| x.name.as_str()));
                                let d = self.error(a.name.span, "unknown-attribute", format!("unrecognized attribute name \"{n}\""));
                                if let Some(h) = hint {
                                    d.notes.push(h);
                                }
                            }
                            self.infer(&a.value, scope);
                        }
                    }
                }
                Stmt::Block(b) => {
                    let n = b.name.as_str();
                    let bs = schema.block(n).or_else(|| if inherit { root.block(n) } else { None });
                    match bs {
                        Some(bs) => {
                            match &b.label {
                                Some(l) if !bs.label => {
                                    self.error(l.span, "unexpected-label", format!("block \"{n}\" does not support specifying labels"));
                                }
                                None if bs.label => {
                                    self.error(b.name_span, "missing-label", format!("block \"{n}\" requires non-empty label"));
                                }
                                _ => {}
                            }
                            if let Some(&prev) = seen_blocks.get(n) {
                                if !bs.repeatable {
                                    self.error(b.name_span, "duplicate-block", format!("block \"{n}\" may only be specified once"))
                                        .with_related_mut(prev, "first specified here");
                                }
                            } else {
                                seen_blocks.insert(n, b.name_span);
                            }
                            self.check_body(&b.body, &bs.body, root, bs.inherit, b.name_span, scope);
                        }
                        None => {
                            if schema.attr(n).is_some() {
                                self.error(b.name_span, "attribute-as-block", format!("\"{n}\" must be an attribute, but is used as a block"));
                            } else if !schema.open {
                                let mut names: Vec<&str> = schema.blocks.iter().map(|x| x.name.as_str()).collect();
                                if inherit {
                                    names.extend(root.blocks.iter().map(|x| x.name.as_str()));
                                }
                                let hint = suggest::did_you_mean(n, names);
                                let d = self.error(b.name_span, "unknown-block", format!("unrecognized block name \"{n}\""));
                                if let Some(h) = hint {
                                    d.notes.push(h);
                                }
                            }
                            self.walk_body(&b.body, scope);
                        }
                    }
                }
            }
        }
        if schema.open {
            return;
        }
        for a in schema.attrs.iter().filter(|a| a.required && !seen_attrs.contains_key(a.name.as_str())) {
            self.error(owner, "missing-required", format!("missing required attribute \"{}\"", a.name));
        }
        for b in schema.blocks.iter().filter(|b| b.required && !seen_blocks.contains_key(b.name.as_str())) {
            self.error(owner, "missing-required", format!("missing required block \"{}\"", b.name));
        }
    }

    /// Visits every expression of a body whose schema is unknown (for references).
    fn walk_body(&mut self, body: &[Stmt], scope: &Scope<'_>) {
        for stmt in body {
            match stmt {
                Stmt::Attribute(a) => {
                    self.infer(&a.value, scope);
                }
                Stmt::Block(b) => self.walk_body(&b.body, scope),
            }
        }
    }

    /// Checks an expression against the type its attribute expects.
    fn check_value(&mut self, expr: &Expr, expected: &Ty, enums: Option<&[String]>, scope: &Scope<'_>) {
        match expr {
            Expr::Literal(l) => self.check_literal(l, expected, enums),
            Expr::Paren(p) => self.check_value(&p.inner, expected, enums, scope),
            Expr::Array(a) => match expected {
                Ty::List(el) => {
                    for e in &a.elements {
                        self.check_value(e, el, None, scope);
                    }
                }
                Ty::Any => {
                    for e in &a.elements {
                        self.infer(e, scope);
                    }
                }
                _ => {
                    self.mismatch(expr.span(), expected, "array", None);
                    for e in &a.elements {
                        self.infer(e, scope);
                    }
                }
            },
            Expr::Object(o) => match expected {
                Ty::Map(el) => {
                    for f in &o.fields {
                        self.check_value(&f.value, el, None, scope);
                    }
                }
                Ty::Object | Ty::Any => {
                    for f in &o.fields {
                        self.infer(&f.value, scope);
                    }
                }
                _ => {
                    self.mismatch(expr.span(), expected, "object", None);
                    for f in &o.fields {
                        self.infer(&f.value, scope);
                    }
                }
            },
            _ => {
                let found = self.infer(expr, scope);
                if let Err(m) = assignable(&found, expected) {
                    if m.secret {
                        self.error(expr.span(), "type-mismatch", format!("expected {expected}, got secret: secrets may not be converted into strings"));
                    } else {
                        self.mismatch(expr.span(), expected, &found.to_string(), expr_text(expr));
                    }
                }
            }
        }
    }

    /// `what` is the reference the value came from (`"a.b.c"`), if any.
    fn mismatch(&mut self, span: Span, expected: &Ty, found_name: &str, what: Option<String>) {
        let d = self.error(span, "type-mismatch", format!("expected {expected}, got {found_name}"));
        if let Some(w) = what {
            d.notes.push(format!("{w} is of type {found_name}"));
        }
    }

    fn check_literal(&mut self, l: &Literal, expected: &Ty, enums: Option<&[String]>) {
        let got = match l.kind {
            LiteralKind::Null => return,
            LiteralKind::Bool => "bool",
            LiteralKind::Number | LiteralKind::Float => "number",
            LiteralKind::String => "string",
        };
        let text: Option<String> = match l.kind {
            LiteralKind::String => eval::eval::unquote(&l.text).ok().map(|b| String::from_utf8_lossy(&b).into_owned()),
            LiteralKind::Number | LiteralKind::Float => Some(l.text.to_string()),
            _ => None,
        };
        let ok_kind = match expected {
            Ty::Any | Ty::Null => true,
            Ty::Bool => got == "bool",
            Ty::Number => got != "bool",
            Ty::String | Ty::Duration | Ty::Size | Ty::Url | Ty::Regex | Ty::Secret | Ty::OptSecret => got != "bool",
            Ty::List(_) | Ty::Map(_) | Ty::Object | Ty::Capsule(_) | Ty::Function => false,
        };
        if !ok_kind {
            let expected_text = match expected {
                Ty::Capsule(c) => format!("capsule {}", c.as_str()),
                t => t.to_string(),
            };
            self.error(l.span, "type-mismatch", format!("expected {expected_text}, got {got}"));
            return;
        }
        let Some(text) = text else { return };
        let checked = match expected {
            Ty::Duration => literal::check_duration(&text),
            Ty::Size if got == "string" => literal::check_size(&text),
            Ty::Url => literal::check_url(&text),
            Ty::Regex if got == "string" => literal::check_regex(&text),
            _ => Ok(()),
        };
        if let Err(e) = checked {
            self.error(l.span, "invalid-value", e);
            return;
        }
        if let Some(members) = enums {
            if !members.contains(&text) {
                let hint = suggest::did_you_mean(&text, members.iter().map(String::as_str));
                let d = self.error(
                    l.span,
                    "invalid-value",
                    format!(
                        "invalid value {}: must be one of {}",
                        syntax::quote::go_quote(&text),
                        list(members.iter().filter(|m| !m.is_empty()).map(String::as_str))
                    ),
                );
                if let Some(h) = hint {
                    d.notes.push(h);
                }
            }
        }
    }

    /// The static type of an expression; reports undefined references and misuse on the way.
    fn infer(&mut self, expr: &Expr, scope: &Scope<'_>) -> Ty {
        match expr {
            Expr::Literal(l) => match l.kind {
                LiteralKind::String => Ty::String,
                LiteralKind::Number | LiteralKind::Float => Ty::Number,
                LiteralKind::Bool => Ty::Bool,
                LiteralKind::Null => Ty::Null,
            },
            Expr::Ident(_) | Expr::Access(_) => {
                let mut parts = Vec::new();
                if traversal(expr, &mut parts) {
                    return self.resolve(&parts, expr.span(), scope).0;
                }
                let Expr::Access(a) = expr else { return Ty::Any };
                let base = self.infer(&a.value, scope);
                match base {
                    Ty::Map(t) => *t,
                    _ => Ty::Any,
                }
            }
            Expr::Array(a) => {
                let mut el: Option<Ty> = None;
                for e in &a.elements {
                    let t = self.infer(e, scope);
                    el = match el {
                        None => Some(t),
                        Some(prev) if prev == t => Some(prev),
                        Some(_) => Some(Ty::Any),
                    };
                }
                Ty::List(Box::new(el.unwrap_or(Ty::Any)))
            }
            Expr::Object(o) => {
                for f in &o.fields {
                    self.infer(&f.value, scope);
                }
                Ty::Object
            }
            Expr::Index(i) => {
                let base = self.infer(&i.value, scope);
                self.infer(&i.index, scope);
                base.element()
            }
            Expr::Call(c) => {
                let mut parts = Vec::new();
                let ret = if traversal(&c.callee, &mut parts) {
                    match self.resolve(&parts, c.callee.span(), scope).1 {
                        Some(f) => {
                            self.check_arity(&f, c);
                            return_type(&f)
                        }
                        None => Ty::Any,
                    }
                } else {
                    self.infer(&c.callee, scope);
                    Ty::Any
                };
                for a in &c.args {
                    self.infer(a, scope);
                }
                ret
            }
            Expr::Unary(u) => {
                let t = self.infer(&u.operand, scope);
                let (want, name) = match u.op {
                    UnaryOp::Not => (Ty::Bool, "bool"),
                    UnaryOp::Neg => (Ty::Number, "number"),
                };
                if is_literal(&u.operand) && t != want && t != Ty::Null {
                    self.error(u.operand.span(), "type-mismatch", format!("expected {name}, got {}", t.value_kind()));
                    return Ty::Any;
                }
                want
            }
            Expr::Binary(b) => {
                let l = self.infer(&b.left, scope);
                let r = self.infer(&b.right, scope);
                use ast::BinaryOp::*;
                let both_literal = is_literal(&b.left) && is_literal(&b.right);
                match b.op {
                    Or | And => {
                        if both_literal && (l != Ty::Bool || r != Ty::Bool) {
                            let bad = if l != Ty::Bool { &l } else { &r };
                            self.error(b.left.span().cover(b.right.span()), "type-mismatch", format!("expected bool, got {}", bad.value_kind()));
                        }
                        Ty::Bool
                    }
                    Eq | Neq => Ty::Bool,
                    Lt | Lte | Gt | Gte => {
                        if both_literal && l.value_kind() != r.value_kind() {
                            self.error(b.left.span().cover(b.right.span()), "type-mismatch", format!("expected {}, got {}", l.value_kind(), r.value_kind()));
                        }
                        Ty::Bool
                    }
                    Add => {
                        if both_literal && l.value_kind() != r.value_kind() {
                            self.error(b.left.span().cover(b.right.span()), "type-mismatch", format!("expected {}, got {}", l.value_kind(), r.value_kind()));
                        }
                        match (&l, &r) {
                            (Ty::Number, Ty::Number) => Ty::Number,
                            (a, b) if a.is_stringish() && b.is_stringish() => Ty::String,
                            _ => Ty::Any,
                        }
                    }
                    Sub | Mul | Div | Mod | Pow => {
                        if both_literal && (l != Ty::Number || r != Ty::Number) {
                            let bad = if l != Ty::Number { &l } else { &r };
                            self.error(b.left.span().cover(b.right.span()), "type-mismatch", format!("expected number, got {}", bad.value_kind()));
                        }
                        Ty::Number
                    }
                }
            }
            Expr::Paren(p) => self.infer(&p.inner, scope),
        }
    }

    fn check_arity(&mut self, f: &eval::Function, call: &ast::Call) {
        let Some((min, variadic)) = arity(f.go_type()) else { return };
        let name = f.name();
        let n = call.args.len();
        if variadic && n < min {
            self.error(call.callee.span().cover(call.rparen), "arity", format!("{name} expected at least {min} args, got {n}"));
        } else if !variadic && n != min {
            self.error(call.callee.span().cover(call.rparen), "arity", format!("{name} expected {min} args, got {n}"));
        }
    }

    /// Resolves a traversal `a.b.c…`: to a node of some enclosing module (recording an edge), a
    /// local variable, or the standard library. Returns its type and, for stdlib functions,
    /// the function.
    fn resolve(&mut self, parts: &[&Ident], span: Span, scope: &Scope<'_>) -> (Ty, Option<eval::Function>) {
        let depth = scope.levels.len();
        for (li, level) in scope.levels.iter().enumerate().rev() {
            if level.locals.iter().any(|l| *l == parts[0].name) {
                return (Ty::Any, None);
            }
            let mut id = String::new();
            for (k, p) in parts.iter().enumerate() {
                if k > 0 {
                    id.push('.');
                }
                id.push_str(&p.name);
                if let Some(kind) = level.index.ids.get(&id) {
                    let ref_span = parts[0].span.cover(p.span);
                    // Edges belong to the innermost module; references to outer levels are
                    // dependencies of the node at that level being checked.
                    let edge_level = self.frames.len() - (depth - li);
                    if let Some(Frame { node: Some(from), edges }) = self.frames.get_mut(edge_level) {
                        edges.push(Edge { from: from.clone(), to: id.clone(), span: ref_span });
                    }
                    let ty = self.export_type(kind, &id, &parts[k + 1..], level.index);
                    return (ty, None);
                }
            }
        }
        let first = parts[0].name.as_str();
        if first == "module_path" && parts.len() == 1 {
            return (Ty::String, None);
        }
        if let Some(value) = eval::stdlib::lookup(first) {
            return self.resolve_stdlib(first, value, parts);
        }
        let full = parts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(".");
        // In a large module, a reference at the top level gets its did-you-mean from the file's
        // diagnostics, for the first few only: comparing every unknown reference with every ID
        // made a large broken file quadratic (`db::file_diagnostics`).
        let deferred = matches!(&scope.levels[..], [only] if only.locals.is_empty() && only.index.ids.len() > DEFER_HINTS_ABOVE);
        let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
        let hint = if deferred { None } else { nearest_name(&names, &scope.levels.iter().map(|l| (l.index, l.locals.as_slice())).collect::<Vec<_>>()) };
        let d = self.error(span, "undefined-reference", format!("component \"{full}\" does not exist or is out of scope"));
        if let Some(h) = hint {
            d.notes.push(format!("did you mean \"{h}\"?"));
        }
        if deferred {
            self.deferred_hints.push(self.diagnostics.len() - 1);
        }
        (Ty::Any, None)
    }

    fn resolve_stdlib(&mut self, first: &str, value: eval::Value, parts: &[&Ident]) -> (Ty, Option<eval::Function>) {
        let mut v = value;
        let mut name = first.to_string();
        for p in &parts[1..] {
            let next = match &v {
                eval::Value::Object(o) => o.get(&p.name).cloned(),
                _ => return (Ty::Any, None),
            };
            match next {
                Some(n) => {
                    v = n;
                    name.push('.');
                    name.push_str(&p.name);
                }
                None => {
                    let keys: Vec<String> = match &v {
                        eval::Value::Object(o) => o.keys().map(|k| format!("{name}.{k}")).collect(),
                        _ => Vec::new(),
                    };
                    let missing = format!("{name}.{}", p.name);
                    let hint = suggest::did_you_mean(&missing, keys.iter().map(String::as_str));
                    let d = self.error(parts[0].span.cover(p.span), "undefined-reference", format!("\"{missing}\" does not exist in the standard library"));
                    if let Some(h) = hint {
                        d.notes.push(h);
                    }
                    return (Ty::Any, None);
                }
            }
        }
        match v {
            eval::Value::Function(f) => {
                let span = parts[0].span.cover(parts[parts.len() - 1].span);
                if parts.len() == 1 {
                    if let Some(new) = eval::stdlib::deprecated_replacement(first) {
                        self.diagnostics
                            .push(Diagnostic::warning(span, format!("function \"{first}\" is deprecated; use \"{new}\" instead")).with_code("deprecated"));
                    }
                }
                let canonical = f.name();
                if eval::stdlib::is_experimental(canonical) && self.opts.stability > Stability::Experimental {
                    self.error(span, "stability", stability_message("function", canonical, Stability::Experimental, self.opts.stability));
                }
                (Ty::Function, Some(f))
            }
            eval::Value::String(_) => (Ty::String, None),
            eval::Value::Object(_) => (Ty::Object, None),
            _ => (Ty::Any, None),
        }
    }

    /// The type of `rest` applied to node `id` (an export path).
    fn export_type(&mut self, kind: &NodeKind, id: &str, rest: &[&Ident], index: &ModuleIndex) -> Ty {
        let Some(first) = rest.first() else { return Ty::Object };
        let Some(exports) = index.node_exports(kind) else { return Ty::Any };
        match exports.iter().find(|(n, _)| *n == first.name) {
            Some((_, t)) => {
                let mut t = t.clone();
                for _ in &rest[1..] {
                    t = match t {
                        Ty::Map(el) => *el,
                        _ => Ty::Any,
                    };
                }
                t
            }
            None => {
                let hint = suggest::did_you_mean(&first.name, exports.iter().map(|(n, _)| n.as_str()));
                let msg = if exports.is_empty() {
                    format!("{id} has no exports, so \"{}\" cannot be referenced", first.name)
                } else {
                    format!("{id} does not export \"{}\"", first.name)
                };
                let d = self.error(first.span, "unknown-export", msg);
                if !exports.is_empty() {
                    d.notes.push(format!("exports: {}", list(exports.iter().map(|(n, _)| n.as_str()))));
                }
                if let Some(h) = hint {
                    d.notes.push(h);
                }
                Ty::Any
            }
        }
    }
}

/// The static type of an expression in a module whose namespace is `index` (nothing is
/// reported: the module's own check does that).
pub fn static_type(expr: &Expr, index: &ModuleIndex) -> Ty {
    let resolve = |_: &model::ImportSource| ImportDecls::Unknown;
    let mut checker = Checker::new(Options { stability: Stability::Experimental, community: true }, &resolve);
    let scope = Scope { levels: vec![Level { index, locals: Vec::new() }] };
    checker.frames.push(Frame::default());
    checker.infer(expr, &scope)
}

trait DiagExt {
    fn with_related_mut(&mut self, span: Span, message: impl Into<String>) -> &mut Self;
}

impl DiagExt for Diagnostic {
    fn with_related_mut(&mut self, span: Span, message: impl Into<String>) -> &mut Self {
        self.related.push(syntax::Related { file: None, span, message: message.into() });
        self
    }
}

pub fn stability_message(what: &str, name: &str, level: Stability, min: Stability) -> String {
    format!(
        "{what} \"{name}\" is at stability level \"{}\", which is below the minimum allowed stability level \"{}\". Use --stability.level command-line flag to enable \"{}\" features",
        level.as_str(),
        min.as_str(),
        level.as_str()
    )
}

/// The namespace of a nested module (a `declare` body or a `foreach` template): its own
/// top-level names (its imports read with `resolve`), plus the declares and imports of `outer`
/// it does not define itself (the first of `outer` wins).
pub(crate) fn nested_index<'i>(symbols: &model::FileSymbols, outer: impl IntoIterator<Item = &'i ModuleIndex>, resolve: &ImportResolver<'_>) -> ModuleIndex {
    let mut index = model::build_index([symbols], resolve);
    for o in outer {
        for (k, v) in &o.declares {
            index.declares.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, v) in &o.imports {
            index.imports.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    index
}

fn list<'x>(items: impl Iterator<Item = &'x str>) -> String {
    items.map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ")
}

fn is_literal(e: &Expr) -> bool {
    match e {
        Expr::Literal(_) => true,
        Expr::Paren(p) => is_literal(&p.inner),
        _ => false,
    }
}

/// `a.b.c` as a list of identifiers, if `e` is an identifier followed only by field accesses.
pub(crate) fn traversal<'e>(e: &'e Expr, out: &mut Vec<&'e Ident>) -> bool {
    match e {
        Expr::Ident(i) => {
            out.push(i);
            true
        }
        Expr::Access(a) if traversal(&a.value, out) => {
            out.push(&a.field);
            true
        }
        _ => false,
    }
}

fn expr_text(e: &Expr) -> Option<String> {
    let mut parts = Vec::new();
    traversal(e, &mut parts).then(|| format!("\"{}\"", parts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(".")))
}

/// Parameter count and whether the function is variadic, from its host signature
/// (`func(string, ...interface {}) string`).
fn arity(go: &str) -> Option<(usize, bool)> {
    let inner = go.strip_prefix("func(")?;
    let params = &inner[..inner.find(')')?];
    if params.is_empty() {
        return Some((0, false));
    }
    let list: Vec<&str> = params.split(", ").collect();
    let variadic = list.last().is_some_and(|p| p.starts_with("..."));
    Some((if variadic { list.len() - 1 } else { list.len() }, variadic))
}

/// The result type of a stdlib function, known without calling it.
fn return_type(f: &eval::Function) -> Ty {
    match f.name() {
        "coalesce" => return Ty::Any,
        "array.concat" => return Ty::List(Box::new(Ty::Any)),
        "array.combine_maps" | "array.group_by" => return Ty::List(Box::new(Ty::Object)),
        _ => {}
    }
    let go = f.go_type();
    let Some(close) = go.find(')') else { return Ty::Any };
    let ret = go[close + 1..].trim();
    let ret = ret.strip_prefix('(').map(|r| r.split(',').next().unwrap_or("")).unwrap_or(ret).trim();
    match ret {
        "string" => Ty::String,
        "[]string" => Ty::List(Box::new(Ty::String)),
        "[]uint8" => Ty::List(Box::new(Ty::Number)),
        "[]interface {}" => Ty::List(Box::new(Ty::Any)),
        "alloytypes.Secret" => Ty::Secret,
        _ => Ty::Any,
    }
}

/// Did-you-mean hints for an unknown top-level reference are computed by the file's
/// diagnostics (see [`crate::db`]) when the module has more IDs than this.
pub(crate) const DEFER_HINTS_ABOVE: usize = 1000;

/// The closest name to the reference `parts` among the locals and IDs of `levels` (each a
/// module index and the local names in scope there), if one is close enough.
pub(crate) fn nearest_name(parts: &[&str], levels: &[(&ModuleIndex, &[SmolStr])]) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    // `parts[..n]` joined, for every n: built once, not once per candidate.
    let prefixes: Vec<String> = (1..=parts.len()).map(|n| parts[..n].join(".")).collect();
    for (index, locals) in levels {
        for l in locals.iter() {
            let d = suggest::distance(parts[0], l);
            if d <= 2 && best.as_ref().is_none_or(|(bd, _)| d < *bd) {
                best = Some((d, l.to_string()));
            }
        }
        for id in index.ids.keys() {
            let segs = id.split('.').count();
            if segs > parts.len() {
                continue;
            }
            let prefix = &prefixes[segs - 1];
            if prefix.len().abs_diff(id.len()) > 4 {
                continue;
            }
            // Only a closer candidate than the best so far matters: bound the distance by
            // that, so most candidates stop after a few rows (many unknown references in a
            // large file made this quadratic in cost).
            let mut limit = (prefix.len() / 3).clamp(1, 4);
            if let Some((bd, _)) = &best {
                if *bd == 0 {
                    break;
                }
                limit = limit.min(bd - 1);
            }
            let Some(d) = suggest::distance_within(prefix, id, limit) else { continue };
            if best.as_ref().is_none_or(|(bd, _)| d < *bd) {
                let rest: Vec<&str> = parts[segs..].to_vec();
                let full = if rest.is_empty() { id.clone() } else { format!("{id}.{}", rest.join(".")) };
                best = Some((d, full));
            }
        }
    }
    best.map(|(_, s)| s)
}
