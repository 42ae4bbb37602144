//! The program model: what the top-level names of a module (one file, a directory of files
//! sharing one namespace, or a `declare` body) refer to.

use std::borrow::Cow;
use std::collections::HashMap;

use smol_str::SmolStr;
use syntax::ast::{Block, Expr, LiteralKind, Stmt};

use crate::catalog::{Catalog, Kind};
use crate::types::Ty;

/// The interface of a custom component: its arguments (name, required) and exports.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DeclareSig {
    pub name: SmolStr,
    pub args: Vec<(SmolStr, bool)>,
    pub exports: Vec<SmolStr>,
    /// The static type of each export's `value`, in the order of `exports`.
    pub export_types: Vec<Ty>,
}

impl DeclareSig {
    /// Each export with its type.
    pub fn typed_exports(&self) -> impl Iterator<Item = (&str, &Ty)> {
        self.exports.iter().map(SmolStr::as_str).zip(self.export_types.iter())
    }
}

/// Where an import's content comes from, when it is a literal the analyzer can follow.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ImportSource {
    File(String),
    Text(String),
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImportSig {
    pub namespace: SmolStr,
    pub source: ImportSource,
}

/// The top-level names a file defines: no positions, so that editing a value inside a block
/// leaves this unchanged (and everything computed from it is reused).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct FileSymbols {
    /// `(block name, label)` of every top-level block, in order.
    pub blocks: Vec<(SmolStr, Option<SmolStr>)>,
    pub declares: Vec<DeclareSig>,
    pub imports: Vec<ImportSig>,
}

/// What a top-level block is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// A builtin component (catalogue name).
    Builtin(SmolStr),
    /// An instance of a local `declare`.
    Local(SmolStr),
    /// An instance of `NAMESPACE.DECLARE` from an import.
    Imported(SmolStr, SmolStr),
    Declare,
    Import,
    Argument,
    Export,
    Foreach,
    /// `logging`, `tracing`.
    Config,
    /// `http`, `remotecfg`, `livedebugging`, `labelstore`.
    Service,
    /// `cluster`, `ui`, `otel`: services without configuration.
    Unconfigurable,
    Unknown,
}

/// The declares an import provides, when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportDecls {
    Unknown,
    Known(Vec<DeclareSig>),
    /// The imported file could not be read (the message says why).
    Unreadable(String),
}

/// Finds the declares of an import's source (reading files through the database).
pub type ImportResolver<'r> = dyn Fn(&ImportSource) -> ImportDecls + 'r;

/// The namespace of one module.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ModuleIndex {
    /// Node ID -> kind (first definition wins).
    pub ids: HashMap<String, NodeKind>,
    /// Node IDs that are defined more than once.
    pub duplicated: Vec<String>,
    pub declares: HashMap<SmolStr, DeclareSig>,
    pub imports: HashMap<SmolStr, ImportDecls>,
}

pub const SERVICES: &[&str] = &["http", "remotecfg", "livedebugging", "labelstore"];
pub const UNCONFIGURABLE: &[&str] = &["cluster", "ui", "otel"];

/// The ID a block has in its module's namespace.
pub fn node_id(name: &str, label: Option<&str>) -> String {
    match label {
        Some(l) => format!("{name}.{l}"),
        None => name.to_string(),
    }
}

/// A top-level block's ID and the span naming it (name and label).
pub fn block_id(b: &Block) -> (String, syntax::Span) {
    (node_id(&b.name, b.label.as_ref().map(|l| l.value.as_str())), block_id_span(b))
}

/// The span naming a top-level block: its name and label.
pub fn block_id_span(b: &Block) -> syntax::Span {
    b.label.as_ref().map_or(b.name_span, |l| b.name_span.cover(l.span))
}

/// Collects a module body's top-level names.
pub fn file_symbols(body: &[Stmt]) -> FileSymbols {
    let mut s = FileSymbols::default();
    for stmt in body {
        let Stmt::Block(b) = stmt else { continue };
        let label = b.label.as_ref().map(|l| l.value.clone());
        s.blocks.push((b.name.clone(), label.clone()));
        match b.name.as_str() {
            "declare" => {
                if let Some(l) = label {
                    s.declares.push(declare_sig(l, &b.body));
                }
            }
            "import.file" | "import.string" | "import.http" | "import.git" => {
                if let Some(l) = label {
                    s.imports.push(ImportSig { namespace: l, source: import_source(b) });
                }
            }
            _ => {}
        }
    }
    s
}

/// The arguments and exports a declare body defines.
pub fn declare_sig(name: SmolStr, body: &[Stmt]) -> DeclareSig {
    let mut args = Vec::new();
    let mut exports = Vec::new();
    for stmt in body {
        let Stmt::Block(b) = stmt else { continue };
        let Some(label) = &b.label else { continue };
        match b.name.as_str() {
            "argument" => {
                let optional = b.body.iter().any(|s| match s {
                    Stmt::Attribute(a) => a.name.name == "optional" && matches!(&a.value, Expr::Literal(l) if l.kind == LiteralKind::Bool && l.text == "true"),
                    _ => false,
                });
                args.push((label.value.clone(), !optional));
            }
            "export" => exports.push((
                label.value.clone(),
                b.body.iter().find_map(|s| match s {
                    Stmt::Attribute(a) if a.name.name == "value" => Some(&a.value),
                    _ => None,
                }),
            )),
            _ => {}
        }
    }
    // Export values are typed in the declare body's own namespace (its components and
    // arguments; arguments are `any`).
    let export_types = if exports.iter().any(|(_, v)| v.is_some()) {
        let index = build_index([&file_symbols(body)], &|_| ImportDecls::Unknown);
        exports.iter().map(|(_, v)| v.map_or(Ty::Any, |v| crate::check::static_type(v, &index))).collect()
    } else {
        vec![Ty::Any; exports.len()]
    };
    DeclareSig { name, args, exports: exports.into_iter().map(|(n, _)| n).collect(), export_types }
}

fn literal_string(body: &[Stmt], name: &str) -> Option<String> {
    body.iter().find_map(|s| match s {
        Stmt::Attribute(a) if a.name.name == name => match &a.value {
            Expr::Literal(l) if l.kind == LiteralKind::String => eval::eval::unquote(&l.text).ok().and_then(|b| String::from_utf8(b).ok()),
            _ => None,
        },
        _ => None,
    })
}

/// Stands for `module_path` while an import's argument is evaluated without knowing where the
/// configuration lives; resolving the import puts the directory in.
pub const MODULE_PATH_MARK: &str = "\u{1}module_path\u{1}";

/// A string attribute whose value is known without the graph: a literal, or an expression of
/// constants, `module_path` and the standard library (`file.path_join(module_path, "x")`).
fn constant_string(body: &[Stmt], name: &str) -> Option<String> {
    literal_string(body, name).or_else(|| {
        let expr = body.iter().find_map(|s| match s {
            Stmt::Attribute(a) if a.name.name == name => Some(&a.value),
            _ => None,
        })?;
        let mut scope = eval::Scope::new();
        scope.set("module_path", eval::Value::string(MODULE_PATH_MARK));
        // Positions only matter for errors, which are dropped here.
        let lines = syntax::LineIndex::new(b"");
        match eval::Evaluator::new(&lines, &scope).eval(expr).ok()? {
            eval::Value::String(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        }
    })
}

fn import_source(b: &Block) -> ImportSource {
    match b.name.as_str() {
        "import.file" => constant_string(&b.body, "filename").map(ImportSource::File).unwrap_or(ImportSource::Other),
        "import.string" => constant_string(&b.body, "content").filter(|t| !t.contains(MODULE_PATH_MARK)).map(ImportSource::Text).unwrap_or(ImportSource::Other),
        _ => ImportSource::Other,
    }
}

/// The declares the top level of some module texts defines.
pub fn declares_of<'t>(texts: impl IntoIterator<Item = &'t str>) -> Vec<DeclareSig> {
    texts.into_iter().flat_map(|t| file_symbols(&syntax::parse_file(t.as_bytes()).tree.body).declares).collect()
}

/// Classifies a top-level block name given the module's declares and imports.
pub fn classify(name: &str, declares: &HashMap<SmolStr, DeclareSig>, imports: &HashMap<SmolStr, ImportDecls>) -> NodeKind {
    match name {
        "declare" => return NodeKind::Declare,
        "argument" => return NodeKind::Argument,
        "export" => return NodeKind::Export,
        "foreach" => return NodeKind::Foreach,
        "logging" | "tracing" => return NodeKind::Config,
        "import.file" | "import.string" | "import.http" | "import.git" => return NodeKind::Import,
        _ => {}
    }
    if SERVICES.contains(&name) {
        return NodeKind::Service;
    }
    if UNCONFIGURABLE.contains(&name) {
        return NodeKind::Unconfigurable;
    }
    // An import namespace shadows builtin namespaces with the same first segment.
    if let Some((first, rest)) = name.split_once('.') {
        if imports.contains_key(first) {
            return NodeKind::Imported(first.into(), rest.into());
        }
    }
    if declares.contains_key(name) {
        return NodeKind::Local(name.into());
    }
    match Catalog::get().lookup(name) {
        Some(c) if c.kind == Kind::Component => NodeKind::Builtin(name.into()),
        _ => NodeKind::Unknown,
    }
}

/// Builds a module's namespace from the symbols of its files (in file order).
pub fn build_index<'a>(files: impl IntoIterator<Item = &'a FileSymbols> + Clone, resolve: &ImportResolver<'_>) -> ModuleIndex {
    let mut index = ModuleIndex::default();
    for f in files.clone() {
        for d in &f.declares {
            index.declares.entry(d.name.clone()).or_insert_with(|| d.clone());
        }
        for i in &f.imports {
            index.imports.entry(i.namespace.clone()).or_insert_with(|| resolve(&i.source));
        }
    }
    for f in files {
        for (name, label) in &f.blocks {
            let id = node_id(name, label.as_deref());
            if index.ids.contains_key(&id) {
                index.duplicated.push(id);
                continue;
            }
            let kind = classify(name, &index.declares, &index.imports);
            index.ids.insert(id, kind);
        }
    }
    index.duplicated.sort();
    index.duplicated.dedup();
    index
}

impl ModuleIndex {
    /// The signature of the custom component a node instantiates, if known.
    pub fn custom_sig(&self, kind: &NodeKind) -> Option<&DeclareSig> {
        match kind {
            NodeKind::Local(d) => self.declares.get(d),
            NodeKind::Imported(ns, d) => match self.imports.get(ns) {
                Some(ImportDecls::Known(decls)) => decls.iter().find(|s| s.name == *d),
                _ => None,
            },
            _ => None,
        }
    }

    /// The exports of a node of kind `kind`, with their types: a builtin component's from the
    /// catalogue, a custom component's typed exports, a module argument's `value`. `None`
    /// when the node has no known exports (an unknown component or declare, or a kind of
    /// block that exports nothing).
    pub fn node_exports(&self, kind: &NodeKind) -> Option<Cow<'_, [(String, Ty)]>> {
        match kind {
            NodeKind::Builtin(n) => Catalog::get().lookup(n).map(|c| Cow::Borrowed(c.exports.as_slice())),
            NodeKind::Argument => Some(Cow::Owned(vec![("value".into(), Ty::Any)])),
            NodeKind::Local(_) | NodeKind::Imported(..) => {
                self.custom_sig(kind).map(|sig| Cow::Owned(sig.typed_exports().map(|(e, t)| (e.to_string(), t.clone())).collect()))
            }
            _ => None,
        }
    }
}
