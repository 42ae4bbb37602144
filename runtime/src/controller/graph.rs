//! Lowering a checked program into the runtime graph: one node per top-level block, edges
//! from the analyzer's references, nodes in dependency order.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use analyzer::{Analysis, FileReport};
use syntax::ast::{Block, File, Stmt};
use syntax::{Diagnostic, Parsed};

use crate::component::Registrations;

/// One source file of the configuration.
pub struct Source {
    pub path: String,
    pub text: String,
    pub parsed: Arc<Parsed<File>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Component,
    /// A config block (`logging`, `http`) at the root: applied through its registration.
    /// An instance of a custom component (`declare`): evaluates its attributes into the
    /// module's arguments; its exports are what the module's `export` blocks publish.
    Instance,
    /// `argument "X"` inside a module: exports `{value = …}` from its instance's arguments.
    Argument,
    /// `export "Y"` inside a module: writes `value` into its instance's exports.
    Export,
    /// `foreach "L"`: evaluates its collection; its children are modules under its ID.
    Foreach,
    Config,
}

/// A node of the new graph, before it is matched with the running one.
pub struct NodeSpec {
    /// The global ID: the local ID, prefixed by `MODULE/` inside a module.
    pub id: String,
    /// The ID inside its module (`otelcol.processor.batch.b`).
    pub local_id: String,
    /// The module's ID: "" for the root, else the instance's global ID (`my_pipeline.a`).
    pub module: String,
    pub name: String,
    pub label: Option<String>,
    pub kind: Kind,
    pub block: Block,
    pub source: Arc<Source>,
    /// For instances: the declare they instantiate.
    pub declare: Option<Arc<DeclareDef>>,
    /// `module_path` in the node's scope: the root's, or that of the file a declare came from.
    pub module_path: String,
    /// The modules whose nodes this node may reference, its own first: a custom component's
    /// body sees only itself, a foreach child also what its foreach sees.
    pub visible: Vec<String>,
    /// The `foreach` variables bound around this node, outermost first.
    pub vars: Vec<(String, eval::Value)>,
    /// False inside a `foreach` without `enable_metrics = true`: the component's metrics go
    /// to a private registry instead of `/metrics`.
    pub expose_metrics: bool,
}

impl NodeSpec {
    /// The metric label `component_path`: `/` for the root, `/MODULE` inside a module.
    pub fn component_path(&self) -> String {
        format!("/{}", self.module)
    }
}

/// A `declare` block.
pub struct DeclareDef {
    pub block: Block,
    pub source: Arc<Source>,
    /// `module_path` inside its instances.
    pub module_path: String,
    /// For a declare reached through an import namespace: the imported module's chain (an
    /// index into the lowering's chains), so that it sees that module's declares, not the
    /// importer's.
    origin: Option<usize>,
}

impl DeclareDef {
    /// The `argument` blocks of the body: (label, optional). `optional` counts only when it
    /// is the literal `true`; anything else was already rejected or defaulted by the analyzer.
    pub fn arguments(&self) -> Vec<(String, bool)> {
        body_blocks(&self.block.body)
            .filter(|b| b.name == "argument")
            .filter_map(|b| {
                let optional = b.body.iter().any(|s| {
                    matches!(s, Stmt::Attribute(a) if a.name.name == "optional"
                        && matches!(&a.value, syntax::ast::Expr::Literal(l) if l.kind == syntax::ast::LiteralKind::Bool && l.text == "true"))
                });
                b.label.as_ref().map(|l| (l.value.to_string(), optional))
            })
            .collect()
    }
}

/// The declares of one body, by name.
type Declares = HashMap<String, Arc<DeclareDef>>;

/// The declares visible in a body, innermost last: a declare sees its siblings and what its
/// enclosing bodies see.
type Chain = Vec<Arc<Declares>>;

/// The declare `name` and the chain depth that defines it.
fn lookup(chain: &Chain, name: &str) -> Option<(Arc<DeclareDef>, usize)> {
    chain.iter().enumerate().rev().find_map(|(depth, d)| d.get(name).map(|def| (def.clone(), depth)))
}

fn body_blocks(body: &[Stmt]) -> impl Iterator<Item = &Block> {
    body.iter().filter_map(|s| match s {
        Stmt::Block(b) => Some(b),
        Stmt::Attribute(_) => None,
    })
}

pub struct Lowered {
    /// Dependencies before dependants.
    pub nodes: Vec<NodeSpec>,
    /// Node ID -> the node IDs it depends on.
    pub deps: HashMap<String, Vec<String>>,
    /// What `import.file` blocks read.
    pub watched: Vec<super::imports::Watched>,
    /// The HTTP modules this graph uses (for the watcher) and those still to fetch: when any
    /// are, the graph is incomplete and is lowered again after fetching.
    pub remote_used: Vec<super::imports::Remote>,
    pub to_fetch: Vec<super::imports::Remote>,
}

/// Blocks the runtime does not run yet, with why.
fn unsupported(name: &str) -> Option<&'static str> {
    Some(match name {
        "tracing" => "the tracing block is not supported by this runtime yet",
        "remotecfg" | "labelstore" => "this service block is not supported by this runtime yet",
        _ => return None,
    })
}

/// How deep custom components may nest; deeper is a recursive declare.
const MAX_MODULE_DEPTH: usize = 32;

struct Lowering<'r> {
    registrations: &'r Registrations,
    foreach: &'r HashMap<String, super::foreach::Items>,
    nodes: Vec<NodeSpec>,
    diags: Vec<(Arc<Source>, Diagnostic)>,
    /// The chains of imported modules, for declares reached through a namespace.
    chains: Vec<Chain>,
    /// The paths `import.file` read, for the watcher.
    watched: Vec<super::imports::Watched>,
    /// Remote modules fetched so far, the ones this lowering used, and the ones it still needs.
    fetched: &'r super::imports::Fetched,
    remote_used: Vec<super::imports::Remote>,
    to_fetch: Vec<super::imports::Remote>,
    /// `--storage.path`, where git clones live.
    storage: &'r std::path::Path,
    /// Namespaces of imports that failed: their instances are not reported again.
    failed_imports: std::collections::HashSet<String>,
}

impl Lowering<'_> {
    /// The declares one body defines: its `declare` blocks, and the declares of its imports
    /// under `NAMESPACE.` (read now).
    fn level(&mut self, blocks: &[(&Block, Arc<Source>)], module_path: &str, import_depth: usize, over_http: bool) -> Arc<Declares> {
        let mut out = Declares::new();
        for (b, source) in blocks {
            let Some(label) = &b.label else { continue };
            match b.name.as_str() {
                "declare" => {
                    let def = DeclareDef { block: (*b).clone(), source: source.clone(), module_path: module_path.to_string(), origin: None };
                    out.insert(label.value.to_string(), Arc::new(def));
                }
                "import.file" if over_http => {
                    let why = "a module fetched over HTTP may not use import.file";
                    self.diags.push((source.clone(), Diagnostic::error(b.name_span, why).with_code("import")));
                }
                "import.file" | "import.string" | "import.http" | "import.git" => {
                    if import_depth >= MAX_MODULE_DEPTH {
                        let why = format!("imports nest deeper than {MAX_MODULE_DEPTH} levels here; do the modules import each other?");
                        self.diags.push((source.clone(), Diagnostic::error(b.name_span, why).with_code("import")));
                        continue;
                    }
                    let module = match super::imports::read(b, source, module_path, self.fetched, self.storage) {
                        Ok(super::imports::Read::Module(m)) => m,
                        Ok(super::imports::Read::Fetch(request)) => {
                            // Its declares come in the next round, once fetched.
                            self.to_fetch.push(request);
                            continue;
                        }
                        Err(d) => {
                            self.diags.push((source.clone(), d));
                            self.failed_imports.insert(label.value.to_string());
                            continue;
                        }
                    };
                    let from_http = over_http || matches!(module.remote, Some(super::imports::Remote::Http(_)));
                    self.remote_used.extend(module.remote.clone());
                    self.watched.extend(module.watched.clone());
                    let mut blocks = Vec::new();
                    for src in &module.sources {
                        for d in src.parsed.diagnostics.iter().filter(|d| d.severity == syntax::Severity::Error) {
                            self.diags.push((src.clone(), d.clone()));
                        }
                        for stmt in &src.parsed.tree.body {
                            match stmt {
                                Stmt::Block(inner)
                                    if matches!(inner.name.as_str(), "declare" | "import.file" | "import.string" | "import.http" | "import.git") =>
                                {
                                    blocks.push((inner, src.clone()))
                                }
                                other => {
                                    let got = match other {
                                        Stmt::Block(x) => x.name.to_string(),
                                        Stmt::Attribute(a) => a.name.name.to_string(),
                                    };
                                    let why = format!("only declare and import blocks are allowed in a module, got {got}");
                                    self.diags.push((src.clone(), Diagnostic::error(other.span(), why).with_code("import")));
                                }
                            }
                        }
                    }
                    let inner = self.level(&blocks, &module.module_path, import_depth + 1, from_http);
                    self.chains.push(vec![inner.clone()]);
                    let origin = self.chains.len() - 1;
                    // Only the module's own declares: its imports' namespaces stay inside it.
                    for (name, def) in inner.iter().filter(|(name, _)| !name.contains('.')) {
                        let def =
                            DeclareDef { block: def.block.clone(), source: def.source.clone(), module_path: def.module_path.clone(), origin: Some(origin) };
                        out.insert(format!("{}.{name}", label.value), Arc::new(def));
                    }
                }
                _ => {}
            }
        }
        Arc::new(out)
    }

    /// Adds the nodes of one module body (the root's files, or a declare's body).
    fn body(&mut self, blocks: Vec<(&Block, Arc<Source>)>, at: &Place<'_>) {
        let Place { module, chain, depth, module_path, visible, vars, metrics } = *at;
        let global = |local: &str| if module.is_empty() { local.to_string() } else { format!("{module}/{local}") };
        for (b, src) in blocks {
            let (local_id, _) = analyzer::model::block_id(b);
            let mut declare = None;
            let kind = match b.name.as_str() {
                "declare" | "import.file" | "import.string" | "import.http" | "import.git" => continue,
                name if module.is_empty() && self.registrations.get(name).is_some_and(|r| r.apply.is_some()) => Kind::Config,
                "argument" if !module.is_empty() => Kind::Argument,
                "export" if !module.is_empty() => Kind::Export,
                "foreach" => Kind::Foreach,
                name => {
                    if let Some((def, defined_at)) = lookup(chain, name) {
                        if depth >= MAX_MODULE_DEPTH {
                            let why = format!("custom components nest deeper than {MAX_MODULE_DEPTH} levels here; is declare \"{name}\" recursive?");
                            self.diags.push((src.clone(), Diagnostic::error(b.name_span, why).with_code("unsupported")));
                            continue;
                        }
                        declare = Some((def, defined_at));
                        Kind::Instance
                    } else if name.split_once('.').is_some_and(|(ns, _)| self.failed_imports.contains(ns)) {
                        // The import's own error says what is wrong.
                        continue;
                    } else if let Some(why) = unsupported(name) {
                        self.diags.push((src.clone(), Diagnostic::error(b.name_span, why).with_code("unsupported")));
                        continue;
                    } else if !self.registrations.contains(name) {
                        let why = format!("component \"{name}\" is not supported by this runtime yet");
                        self.diags.push((src.clone(), Diagnostic::error(b.name_span, why).with_code("unsupported")));
                        continue;
                    } else {
                        Kind::Component
                    }
                }
            };
            let id = global(&local_id);
            self.nodes.push(NodeSpec {
                id: id.clone(),
                local_id,
                module: module.to_string(),
                name: b.name.to_string(),
                label: b.label.as_ref().map(|l| l.value.to_string()),
                kind,
                block: b.clone(),
                source: src.clone(),
                declare: declare.as_ref().map(|(d, _)| d.clone()),
                module_path: module_path.to_string(),
                visible: visible.to_vec(),
                vars: vars.to_vec(),
                expose_metrics: metrics,
            });
            if kind == Kind::Foreach {
                self.foreach_children(b, &src, &id, at);
            }
            if let Some((def, defined_at)) = declare {
                let inner: Vec<(&Block, Arc<Source>)> = body_blocks(&def.block.body).map(|x| (x, def.source.clone())).collect();
                let mut inner_chain = match def.origin {
                    Some(k) => self.chains[k].clone(),
                    None => chain[..=defined_at].to_vec(),
                };
                inner_chain.push(self.level(&inner, &def.module_path, 0, false));
                let visible = [id.clone()];
                let place = Place { module: &id, chain: &inner_chain, depth: depth + 1, module_path: &def.module_path, visible: &visible, vars: &[], metrics };
                self.body(inner, &place);
            }
        }
    }

    /// The children of a foreach as last evaluated: the template once per item, as module
    /// `FOREACH_ID/foreach_<fingerprint>_<n>` that also sees what the foreach sees.
    fn foreach_children(&mut self, b: &Block, src: &Arc<Source>, id: &str, at: &Place<'_>) {
        let Some(items) = self.foreach.get(id) else { return };
        let Some(template) = body_blocks(&b.body).find(|t| t.name == "template") else { return };
        if at.depth >= MAX_MODULE_DEPTH {
            let why = format!("foreach templates nest deeper than {MAX_MODULE_DEPTH} levels here");
            self.diags.push((src.clone(), Diagnostic::error(b.name_span, why).with_code("unsupported")));
            return;
        }
        for (child, item) in items.children.clone() {
            let module = format!("{id}/{child}");
            let visible: Vec<String> = std::iter::once(module.clone()).chain(at.visible.iter().cloned()).collect();
            let vars: Vec<(String, eval::Value)> = at.vars.iter().cloned().chain([(items.var.clone(), item)]).collect();
            let blocks = body_blocks(&template.body).map(|t| (t, src.clone())).collect();
            let metrics = at.metrics && items.enable_metrics;
            let place = Place { module: &module, chain: at.chain, depth: at.depth + 1, module_path: at.module_path, visible: &visible, vars: &vars, metrics };
            self.body(blocks, &place);
        }
    }
}

/// Where a body's nodes go: their module, the declares and names they see, their nesting.
#[derive(Clone, Copy)]
struct Place<'a> {
    module: &'a str,
    chain: &'a Chain,
    depth: usize,
    module_path: &'a str,
    visible: &'a [String],
    vars: &'a [(String, eval::Value)],
    metrics: bool,
}

/// Lowers an analysis without errors. Blocks the runtime cannot run are errors positioned
/// on the block's name. Custom components are expanded in place: each instance's body
/// becomes nodes with IDs prefixed by the instance's ID.
pub fn lower(
    analysis: &Analysis,
    registrations: &Registrations,
    module_path: &str,
    foreach: &HashMap<String, super::foreach::Items>,
    fetched: &super::imports::Fetched,
    storage: &std::path::Path,
) -> Result<Lowered, Vec<FileReport>> {
    let sources: Vec<Arc<Source>> = analysis.parsed_files().into_iter().map(|p| Arc::new(Source { path: p.path, text: p.text, parsed: p.parsed })).collect();
    let root_blocks: Vec<(&Block, Arc<Source>)> = sources.iter().flat_map(|src| body_blocks(&src.parsed.tree.body).map(|b| (b, src.clone()))).collect();
    let mut lowering = Lowering {
        registrations,
        foreach,
        nodes: Vec::new(),
        diags: Vec::new(),
        chains: Vec::new(),
        watched: Vec::new(),
        fetched,
        remote_used: Vec::new(),
        to_fetch: Vec::new(),
        storage,
        failed_imports: Default::default(),
    };
    let chain = vec![lowering.level(&root_blocks, module_path, 0, false)];
    let root = [String::new()];
    lowering.body(root_blocks, &Place { module: "", chain: &chain, depth: 0, module_path, visible: &root, vars: &[], metrics: true });
    if !lowering.to_fetch.is_empty() {
        // Whatever else failed may be for want of these modules: fetch, then lower again.
        return Ok(Lowered {
            nodes: Vec::new(),
            deps: HashMap::new(),
            watched: lowering.watched,
            remote_used: lowering.remote_used,
            to_fetch: lowering.to_fetch,
        });
    }
    if !lowering.diags.is_empty() {
        return Err(reports(lowering.diags.iter().map(|(src, d)| (&**src, d.clone()))));
    }
    let nodes = lowering.nodes;
    let deps = dependencies(&nodes, analysis.edges());
    let nodes = topological(nodes, &deps);
    Ok(Lowered { nodes, deps, watched: lowering.watched, remote_used: lowering.remote_used, to_fetch: lowering.to_fetch })
}

/// Node ID -> the IDs it depends on. The root's edges come from the analyzer; inside modules
/// references are resolved against the module's own IDs. Arguments depend on their instance,
/// and whatever references an instance also waits for the instance's `export` nodes, so it is
/// evaluated after the module published its exports.
fn dependencies(nodes: &[NodeSpec], root_edges: Vec<(String, String)>) -> HashMap<String, Vec<String>> {
    let root_ids: HashSet<&str> = nodes.iter().filter(|n| n.module.is_empty()).map(|n| n.id.as_str()).collect();
    let mut locals: HashMap<&str, HashSet<&str>> = HashMap::new();
    for n in nodes {
        locals.entry(n.module.as_str()).or_default().insert(n.local_id.as_str());
    }
    let mut deps: HashMap<String, Vec<String>> = HashMap::new();
    for (from, to) in root_edges {
        if root_ids.contains(from.as_str()) && root_ids.contains(to.as_str()) && from != to {
            deps.entry(from).or_default().push(to);
        }
    }
    let empty = HashSet::new();
    for n in nodes.iter().filter(|n| !n.module.is_empty()) {
        let mut refs = Vec::new();
        // A foreach's template is its children's business.
        if n.kind != Kind::Foreach {
            references(&n.block.body, &mut refs);
        } else {
            for stmt in n.block.body.iter().filter(|s| matches!(s, Stmt::Attribute(_))) {
                references(std::slice::from_ref(stmt), &mut refs);
            }
        }
        let out = deps.entry(n.id.clone()).or_default();
        for parts in refs {
            let found = n.visible.iter().find_map(|module| {
                let ids = locals.get(module.as_str()).unwrap_or(&empty);
                let mut prefix = String::new();
                for p in &parts {
                    if !prefix.is_empty() {
                        prefix.push('.');
                    }
                    prefix.push_str(p);
                    if ids.contains(prefix.as_str()) {
                        return Some(if module.is_empty() { prefix } else { format!("{module}/{prefix}") });
                    }
                }
                None
            });
            if let Some(dep) = found.filter(|d| *d != n.id) {
                out.push(dep);
            }
        }
        if n.kind == Kind::Argument {
            out.push(n.module.clone());
        }
    }
    let exports_of: HashMap<&str, Vec<&str>> = nodes.iter().filter(|n| n.kind == Kind::Export).fold(HashMap::new(), |mut m, n| {
        m.entry(n.module.as_str()).or_default().push(n.id.as_str());
        m
    });
    for (from, tos) in deps.iter_mut() {
        let extra: Vec<String> = tos
            .iter()
            .filter(|to| !from.starts_with(&format!("{to}/")))
            .flat_map(|to| exports_of.get(to.as_str()).into_iter().flatten().map(|e| e.to_string()))
            .collect();
        tos.extend(extra);
        tos.sort();
        tos.dedup();
    }
    deps.retain(|_, v| !v.is_empty());
    deps
}

/// Every traversal `a.b.c` in a body (indexing and calls cut a chain; their parts are scanned
/// on their own), as identifier lists: the analyzer's walk, so both agree on what references what.
fn references<'b>(body: &'b [Stmt], out: &mut Vec<Vec<&'b str>>) {
    analyzer::ide::module_traversals(body, &mut |parts| out.push(parts.iter().map(|p| p.name.as_str()).collect()));
}

/// Diagnostics grouped into one report per file, files in order of their first diagnostic.
pub(crate) fn reports<'s>(diagnostics: impl IntoIterator<Item = (&'s Source, Diagnostic)>) -> Vec<FileReport> {
    let mut out: Vec<FileReport> = Vec::new();
    for (src, d) in diagnostics {
        match out.iter_mut().find(|r| r.path == src.path) {
            Some(r) => r.diagnostics.push(d),
            None => out.push(FileReport { path: src.path.clone(), text: src.text.clone(), lines: src.parsed.lines.clone(), diagnostics: vec![d] }),
        }
    }
    out
}

/// Kahn's walk from the leaves; independent nodes keep source order. The analyzer rejected
/// cycles, so every node is placed.
fn topological(nodes: Vec<NodeSpec>, deps: &HashMap<String, Vec<String>>) -> Vec<NodeSpec> {
    let mut remaining: Vec<Option<NodeSpec>> = nodes.into_iter().map(Some).collect();
    let mut placed: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(remaining.len());
    loop {
        let mut progressed = false;
        for slot in remaining.iter_mut() {
            let ready = slot.as_ref().is_some_and(|n| deps.get(&n.id).is_none_or(|d| d.iter().all(|x| placed.contains(x))));
            if ready {
                if let Some(n) = slot.take() {
                    placed.insert(n.id.clone());
                    out.push(n);
                    progressed = true;
                }
            }
        }
        if !progressed {
            break;
        }
    }
    // Anything left is in a cycle the analyzer would have reported; keep it last.
    out.extend(remaining.into_iter().flatten());
    out
}
