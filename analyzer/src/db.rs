//! The incremental engine: salsa inputs for file texts and tracked queries
//! layout (chunks) → chunk parse → symbols → module index → chunk check (diagnostics and
//! references) → graph edges → cycles → file diagnostics.
//!
//! A file is cut into chunks of whole top-level statements ([`crate::chunk`]), interned by
//! their text. Everything computed from a chunk has positions relative to the chunk, so an
//! edit changes one chunk: only that chunk is re-parsed and re-checked, and the other chunks'
//! results (same interned text, same module index) are reused as they are, even when the edit
//! moved them. The symbols and graph edges of a chunk have no positions at all, so after an
//! edit inside a block they compare equal and salsa backdates them: the module index, the
//! cycles and the other files' checks are not recomputed.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use salsa::Setter;

use syntax::ast::{File, Stmt};
use syntax::{Diagnostic, LineIndex, Parsed, Span};

use crate::check::{Checker, Edge, Options};
use crate::graph::{self, Cycle};
use crate::model::{self, FileSymbols, ImportDecls, ImportSource, ModuleIndex};

/// One source file: its path (as shown in diagnostics) and its text.
#[salsa::input(debug)]
pub struct SourceFile {
    #[returns(ref)]
    pub path: String,
    #[returns(ref)]
    pub text: String,
    /// The chunk size to aim at; 0 for [`crate::chunk::DEFAULT_TARGET`] (tests use tiny ones).
    #[default]
    #[returns(copy)]
    pub chunk_target: u32,
}

/// The files of the root module (one file, or every `*.alloy` of a directory) and the options.
#[salsa::input(debug)]
pub struct Workspace {
    #[returns(ref)]
    pub files: Vec<SourceFile>,
    pub options: Options,
    /// The directory relative `import.file` names are resolved against.
    #[returns(ref)]
    pub base_dir: PathBuf,
}

/// What a path named by `import.file` held when it was last read: the texts of the file (or
/// of the `*.alloy` files of the directory), or why it could not be read.
#[salsa::input(debug)]
pub struct DiskModule {
    #[returns(ref)]
    pub path: PathBuf,
    #[returns(ref)]
    pub contents: Result<Vec<(String, String)>, String>,
}

/// The database the queries run on: salsa's storage, and the modules read from disk.
#[salsa::db]
pub trait Db: salsa::Database {
    /// The input for `path`, read from disk the first time it is asked for.
    fn disk_module(&self, path: &Path) -> DiskModule;

    /// The components' argument rules the binary provides: fixed for the database's life
    /// (set at construction, so memoized results never depend on a change of them).
    fn rules(&self) -> Option<&dyn crate::rules::ArgumentRules> {
        None
    }
}

/// Every path read for an import, so that [`DiskModules::reload`] can read them again.
#[derive(Clone, Default)]
pub struct DiskModules(Arc<Mutex<HashMap<PathBuf, DiskModule>>>);

impl DiskModules {
    fn get(&self, db: &dyn salsa::Database, path: &Path) -> DiskModule {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(path.to_path_buf()).or_insert_with(|| DiskModule::new(db, path.to_path_buf(), read_module(path)))
    }

    /// Reads every known path again and updates the inputs whose contents changed; returns
    /// whether any did.
    pub fn reload(&self, db: &mut dyn salsa::Database) -> bool {
        let known: Vec<(PathBuf, DiskModule)> = self.0.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|(p, m)| (p.clone(), *m)).collect();
        let mut changed = false;
        for (path, module) in known {
            let now = read_module(&path);
            if *module.contents(db) != now {
                let _previous = module.set_contents(db).to(now);
                changed = true;
            }
        }
        changed
    }
}

fn read_module(path: &Path) -> Result<Vec<(String, String)>, String> {
    crate::load_path(path).map_err(|e| e.to_string())
}

#[salsa::db]
#[derive(Clone, Default)]
pub struct Database {
    storage: salsa::Storage<Self>,
    disk: DiskModules,
    rules: crate::rules::SharedRules,
}

#[salsa::db]
impl salsa::Database for Database {}

#[salsa::db]
impl Db for Database {
    fn disk_module(&self, path: &Path) -> DiskModule {
        self.disk.get(self, path)
    }

    fn rules(&self) -> Option<&dyn crate::rules::ArgumentRules> {
        self.rules.as_deref()
    }
}

impl Database {
    /// A database whose diagnostics include `rules`' (see [`chunk_rules`]).
    pub fn with_rules(rules: Arc<dyn crate::rules::ArgumentRules>) -> Self {
        Database { rules: Some(rules), ..Database::default() }
    }

    pub fn disk_modules(&self) -> DiskModules {
        self.disk.clone()
    }
}

/// The declares a module read from disk defines.
#[salsa::tracked(returns(ref))]
pub fn disk_module_decls(db: &dyn Db, module: DiskModule) -> ImportDecls {
    match module.contents(db) {
        Ok(files) => ImportDecls::Known(model::declares_of(files.iter().map(|(_, t)| t.as_str()))),
        Err(why) => ImportDecls::Unreadable(why.clone()),
    }
}

/// The declares an import's source defines: files are read relative to the workspace's base
/// directory (upstream reads them relative to the process's working directory, at any depth of
/// nesting); `module_path` is the directory of the configuration.
pub(crate) fn resolve_import(db: &dyn Db, ws: Workspace, source: &ImportSource) -> ImportDecls {
    match source {
        ImportSource::File(f) => {
            let f = if f.contains(model::MODULE_PATH_MARK) { f.replace(model::MODULE_PATH_MARK, &module_path(db, ws)) } else { f.clone() };
            disk_module_decls(db, db.disk_module(&ws.base_dir(db).join(f))).clone()
        }
        ImportSource::Text(t) => ImportDecls::Known(model::declares_of([t.as_str()])),
        ImportSource::Other => ImportDecls::Unknown,
    }
}

/// `module_path` of the root module: the directory of its first file (as `alloy run` sets it).
fn module_path(db: &dyn Db, ws: Workspace) -> String {
    let first = ws.files(db).first().map(|f| f.path(db).clone()).unwrap_or_default();
    std::path::Path::new(&first).parent().map(|d| d.display().to_string()).filter(|d| !d.is_empty()).unwrap_or_else(|| ".".into())
}

/// A syntax tree, its parse diagnostics and its line index.
#[derive(Clone, Debug)]
pub struct ParsedFile(pub Arc<Parsed<File>>);

/// The whole file parsed at once, with absolute positions (for tools that want one tree; the
/// checks themselves parse chunks).
#[salsa::tracked(returns(ref), no_eq)]
pub fn parse(db: &dyn Db, file: SourceFile) -> ParsedFile {
    ParsedFile(Arc::new(syntax::parse_file(file.text(db).as_bytes())))
}

/// Where each line of a file starts.
#[salsa::tracked(returns(ref), no_eq)]
pub fn line_index(db: &dyn Db, file: SourceFile) -> LineIndex {
    LineIndex::new(file.text(db).as_bytes())
}

/// A run of whole top-level statements of some file; equal texts are one chunk.
#[salsa::interned(debug)]
pub struct Chunk<'db> {
    #[returns(ref)]
    pub text: String,
}

/// A chunk and the offset of its first byte in its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, salsa::SalsaValue)]
pub struct Placed<'db> {
    pub chunk: Chunk<'db>,
    pub offset: u32,
}

/// The chunks of a file, in order, covering its text (see [`crate::chunk`] for why parsing
/// them one by one is parsing the file).
#[salsa::tracked(returns(ref))]
pub fn layout<'db>(db: &'db dyn Db, file: SourceFile) -> Vec<Placed<'db>> {
    let text = file.text(db);
    let target = match file.chunk_target(db) {
        0 => crate::chunk::DEFAULT_TARGET,
        n => n as usize,
    };
    let ranges = crate::chunk::split(text, target);
    let mut out = Vec::with_capacity(ranges.len());
    for (i, r) in ranges.iter().enumerate() {
        let chunk = Chunk::new(db, &text[r.clone()]);
        let offset = r.start as u32;
        let clean = chunk_parse(db, chunk).0.diagnostics.is_empty();
        if let (false, Some(next)) = (clean, ranges.get(i + 1)) {
            let next = Chunk::new(db, &text[next.clone()]);
            if !error_stays_inside(db, chunk, next) {
                // Not a clean cut: the rest of the file is one chunk, parsed as a whole.
                out.push(Placed { chunk: Chunk::new(db, &text[r.start..]), offset });
                break;
            }
        }
        out.push(Placed { chunk, offset });
    }
    out
}

/// Whether a chunk with a syntax error can still be parsed on its own: parsing it together
/// with the chunk after it gives the two chunks' statements and diagnostics, so the parser was
/// back at a statement boundary, and the lexer in its default state, where the next chunk
/// starts (an edit in progress, like an unterminated string, usually stays inside its block).
fn error_stays_inside<'db>(db: &'db dyn Db, chunk: Chunk<'db>, next: Chunk<'db>) -> bool {
    let (a, b) = (&chunk_parse(db, chunk).0, &chunk_parse(db, next).0);
    let both = Chunk::new(db, format!("{}{}", chunk.text(db), next.text(db)));
    let both = &chunk_parse(db, both).0;
    let by = chunk.text(db).len() as u32;
    let statements = a.tree.body.iter().map(|s| s.span()).chain(b.tree.body.iter().map(|s| shift_span(s.span(), by)));
    let diagnostics = a.diagnostics.iter().cloned().chain(b.diagnostics.iter().map(|d| shifted(d, by)));
    both.tree.body.iter().map(|s| s.span()).eq(statements) && both.diagnostics.iter().cloned().eq(diagnostics)
}

/// A chunk's syntax tree, with positions relative to the chunk.
#[salsa::tracked(returns(ref), no_eq)]
pub fn chunk_parse<'db>(db: &'db dyn Db, chunk: Chunk<'db>) -> ParsedFile {
    ParsedFile(Arc::new(syntax::parse_file(chunk.text(db).as_bytes())))
}

/// The argument rules' diagnostics of a chunk, per block (positions relative to the chunk):
/// an edit evaluates only the blocks of the chunk it touched.
#[salsa::tracked(returns(ref), no_eq)]
pub fn chunk_rules<'db>(db: &'db dyn Db, chunk: Chunk<'db>) -> Arc<Vec<(Span, Vec<Diagnostic>)>> {
    let parsed = &chunk_parse(db, chunk).0;
    Arc::new(db.rules().map(|r| crate::rules::check_blocks(r, &parsed.tree.body, &parsed.lines)).unwrap_or_default())
}

#[salsa::tracked(returns(ref))]
pub fn chunk_symbols<'db>(db: &'db dyn Db, chunk: Chunk<'db>) -> Arc<FileSymbols> {
    Arc::new(model::file_symbols(&chunk_parse(db, chunk).0.tree.body))
}

/// The symbols of a file, chunk by chunk (equal after most edits, and cheap to compare:
/// unchanged chunks share their `Arc`).
#[salsa::tracked(returns(ref))]
pub fn file_symbol_parts(db: &dyn Db, file: SourceFile) -> Vec<Arc<FileSymbols>> {
    layout(db, file).iter().map(|p| chunk_symbols(db, p.chunk).clone()).collect()
}

#[salsa::tracked(returns(ref))]
pub fn module_index(db: &dyn Db, ws: Workspace) -> ModuleIndex {
    let parts: Vec<&Arc<FileSymbols>> = ws.files(db).iter().flat_map(|f| file_symbol_parts(db, *f)).collect();
    model::build_index(parts.iter().map(|p| &***p), &|source| resolve_import(db, ws, source))
}

/// The checker's findings for one chunk of the root module, positions relative to the chunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkCheck {
    /// The chunk's parse diagnostics (here so that a file's diagnostics need one query a chunk).
    pub syntax: Vec<Diagnostic>,
    /// See [`Checker::diagnostics`] for what is left to fill in.
    pub diagnostics: Vec<Diagnostic>,
    /// See [`Checker::deferred_hints`].
    pub deferred_hints: Vec<usize>,
    pub edges: Vec<Edge>,
}

#[salsa::tracked(returns(ref))]
pub fn chunk_check<'db>(db: &'db dyn Db, ws: Workspace, chunk: Chunk<'db>) -> Arc<ChunkCheck> {
    let parsed = &chunk_parse(db, chunk).0;
    let resolve = |source: &ImportSource| resolve_import(db, ws, source);
    let mut checker = Checker::new(*ws.options(db), &resolve);
    checker.check_root(&parsed.tree.body, module_index(db, ws));
    Arc::new(ChunkCheck { syntax: parsed.diagnostics.clone(), diagnostics: checker.diagnostics, deferred_hints: checker.deferred_hints, edges: checker.edges })
}

/// A chunk's graph edges without positions, sorted, each once.
#[salsa::tracked(returns(ref))]
pub fn chunk_edges<'db>(db: &'db dyn Db, ws: Workspace, chunk: Chunk<'db>) -> Arc<Vec<(String, String)>> {
    let mut edges: Vec<(String, String)> = chunk_check(db, ws, chunk).edges.iter().map(|e| (e.from.clone(), e.to.clone())).collect();
    edges.sort();
    edges.dedup();
    Arc::new(edges)
}

/// A file's graph edges without positions, chunk by chunk (equal after most edits).
#[salsa::tracked(returns(ref))]
pub fn file_edge_parts(db: &dyn Db, ws: Workspace, file: SourceFile) -> Vec<Arc<Vec<(String, String)>>> {
    layout(db, file).iter().map(|p| chunk_edges(db, ws, p.chunk).clone()).collect()
}

/// The file's graph edges without positions, sorted, each once.
#[salsa::tracked(returns(ref))]
pub fn file_edges(db: &dyn Db, ws: Workspace, file: SourceFile) -> Vec<(String, String)> {
    let mut edges: Vec<(String, String)> = file_edge_parts(db, ws, file).iter().flat_map(|p| p.iter().cloned()).collect();
    edges.sort();
    edges.dedup();
    edges
}

/// Every cycle of the root module's dependency graph, each once.
#[salsa::tracked(returns(ref))]
pub fn cycles(db: &dyn Db, ws: Workspace) -> Vec<Cycle> {
    let all: Vec<&Arc<Vec<(String, String)>>> = ws.files(db).iter().flat_map(|f| file_edge_parts(db, ws, *f)).collect();
    graph::find_cycles(all.iter().flat_map(|v| v.iter().map(|(a, b)| (a.as_str(), b.as_str()))))
}

/// The parser's and the checker's diagnostics of a file, chunk by chunk, placed in the file.
/// The file's checked diagnostics, and the indexes among them of unknown references whose
/// did-you-mean is left to the file (see `Checker::deferred_hints`).
fn checked(db: &dyn Db, ws: Workspace, file: SourceFile) -> (Vec<Diagnostic>, Vec<usize>) {
    let mut out = Vec::new();
    let mut deferred = Vec::new();
    for p in layout(db, file) {
        let check = chunk_check(db, ws, p.chunk);
        out.extend(check.syntax.iter().map(|d| shifted(d, p.offset)));
        deferred.extend(check.deferred_hints.iter().map(|i| out.len() + i));
        out.extend(check.diagnostics.iter().map(|d| {
            let mut d = shifted(d, p.offset);
            // A duplicate ID inside a module body: the message ends with where the first is.
            if d.code == Some("duplicate-id") {
                if let Some(first) = d.related.first() {
                    let at = position(file.path(db), line_index(db, file), first.span.start);
                    d.message.push_str(&at);
                }
            }
            d
        }));
    }
    (out, deferred)
}

/// The graph edges of a file with their positions in the file (for cycle diagnostics: a
/// query, so that it is computed once a revision, not for every cycle of every file).
#[salsa::tracked(returns(ref))]
fn placed_edges(db: &dyn Db, ws: Workspace, file: SourceFile) -> Vec<Edge> {
    let layout = layout(db, file);
    let shift = |e: &Edge, by: u32| Edge { span: shift_span(e.span, by), ..e.clone() };
    layout.iter().flat_map(|p| chunk_check(db, ws, p.chunk).edges.iter().map(move |e| shift(e, p.offset))).collect()
}

fn shift_span(s: Span, by: u32) -> Span {
    Span::new(s.start + by, s.end + by)
}

/// `d` moved by `by` bytes (with its related spans in the same file).
fn shifted(d: &Diagnostic, by: u32) -> Diagnostic {
    let mut d = d.clone();
    d.span = shift_span(d.span, by);
    for r in d.related.iter_mut().filter(|r| r.file.is_none()) {
        r.span = shift_span(r.span, by);
    }
    d
}

/// `PATH:LINE:COL` of an offset.
fn position(path: &str, lines: &LineIndex, offset: u32) -> String {
    format!("{path}:{}", lines.line_col(offset))
}

/// The ID and naming span of every top-level block of a file, in order.
fn top_blocks(db: &dyn Db, file: SourceFile) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    for p in layout(db, file) {
        for stmt in &chunk_parse(db, p.chunk).0.tree.body {
            if let Stmt::Block(b) = stmt {
                let (id, span) = model::block_id(b);
                out.push((id, shift_span(span, p.offset)));
            }
        }
    }
    out
}

/// Unknown top-level references of a large module that get a did-you-mean, per file.
const MAX_DEFERRED_HINTS: usize = 100;

/// The syntax errors of one file, at file positions.
#[salsa::tracked(returns(ref))]
fn file_syntax_errors(db: &dyn Db, file: SourceFile) -> Vec<Diagnostic> {
    layout(db, file).iter().flat_map(|p| chunk_parse(db, p.chunk).0.diagnostics.iter().map(move |d| shifted(d, p.offset))).collect()
}

/// Whether any file of the configuration has a syntax error.
#[salsa::tracked]
fn any_syntax_errors(db: &dyn Db, ws: Workspace) -> bool {
    ws.files(db).iter().any(|f| file_syntax_errors(db, *f).iter().any(Diagnostic::is_error))
}

/// Every diagnostic of one file: parse errors, checks, duplicates across files, cycles.
/// While any file has a syntax error only syntax errors are reported, as upstream's loader
/// stops at parsing: what a broken file would have declared is unknown, and checking the
/// rest would report the consequences (unknown blocks, missing components) as errors.
#[salsa::tracked(returns(ref))]
pub fn file_diagnostics(db: &dyn Db, ws: Workspace, file: SourceFile) -> Vec<Diagnostic> {
    if *any_syntax_errors(db, ws) {
        return file_syntax_errors(db, file).clone();
    }
    let (mut out, deferred) = checked(db, ws, file);
    let files = ws.files(db);
    let me = files.iter().position(|f| *f == file).unwrap_or(0);
    let index = module_index(db, ws);

    // Did-you-mean for unknown top-level references of a large module, for the first few of
    // the file only: each search compares with every ID (see `Checker::deferred_hints`).
    let text = file.text(db);
    for &i in deferred.iter().take(MAX_DEFERRED_HINTS) {
        let d = &mut out[i];
        let reference = text.get(d.span.start as usize..d.span.end as usize).unwrap_or_default();
        let parts: Vec<&str> = reference.split('.').map(str::trim).collect();
        if parts.iter().all(|p| syntax::lexer::is_valid_identifier(p)) {
            if let Some(h) = crate::check::nearest_name(&parts, &[(index, &[])]) {
                d.notes.push(format!("did you mean \"{h}\"?"));
            }
        }
    }

    // Top-level IDs declared earlier in this file or in an earlier one.
    if !index.duplicated.is_empty() {
        let duplicated: HashSet<&str> = index.duplicated.iter().map(String::as_str).collect();
        let mut first: HashMap<String, (usize, Span)> = HashMap::new();
        for (fi, f) in files[..me].iter().enumerate() {
            for (id, span) in top_blocks(db, *f) {
                if duplicated.contains(id.as_str()) {
                    first.entry(id).or_insert((fi, span));
                }
            }
        }
        for (id, span) in top_blocks(db, file) {
            if !duplicated.contains(id.as_str()) {
                continue;
            }
            let Some(&(fi, other)) = first.get(&id) else {
                first.insert(id, (me, span));
                continue;
            };
            let other_file = files[fi];
            let at = position(other_file.path(db), line_index(db, other_file), other.start);
            let mut d = Diagnostic::error(span, format!("block ID already declared at {at}")).with_code("duplicate-id");
            let related_file = (fi != me).then(|| Arc::from(other_file.path(db).as_str()));
            d.related.push(syntax::Related { file: related_file, span: other, message: format!("\"{id}\" first declared here") });
            out.push(d);
        }
    }

    // Cycles are reported in the file holding their first edge.
    for cycle in cycles(db, ws) {
        let edges = files
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                let fe = file_edge_parts(db, ws, **f);
                cycle.nodes.iter().any(|n| fe.iter().any(|part| part.iter().any(|(a, _)| a == n)))
            })
            .flat_map(|(i, f)| placed_edges(db, ws, *f).iter().map(move |e| (i, e)));
        if let Some((owner, d)) = graph::cycle_diagnostic(cycle, edges, |i| Arc::from(files[i].path(db).as_str())) {
            if owner == me {
                out.push(d);
            }
        }
    }

    // The components' own argument rules, for blocks the checks above found nothing wrong in.
    if db.rules().is_some() {
        let mut extra = Vec::new();
        for placed in layout(db, file) {
            extra.extend(crate::rules::unless_erroneous(chunk_rules(db, placed.chunk), placed.offset, &out));
        }
        out.extend(extra);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database that records which queries execute.
    #[salsa::db]
    #[derive(Clone)]
    struct LoggingDb {
        storage: salsa::Storage<Self>,
        log: Arc<Mutex<Vec<String>>>,
        disk: DiskModules,
        rules: crate::rules::SharedRules,
    }

    #[salsa::db]
    impl salsa::Database for LoggingDb {}

    #[salsa::db]
    impl Db for LoggingDb {
        fn disk_module(&self, path: &Path) -> DiskModule {
            self.disk.get(self, path)
        }

        fn rules(&self) -> Option<&dyn crate::rules::ArgumentRules> {
            self.rules.as_deref()
        }
    }

    impl LoggingDb {
        fn new() -> Self {
            let log: Arc<Mutex<Vec<String>>> = Arc::default();
            let sink = log.clone();
            let storage = salsa::Storage::new(Some(Box::new(move |event: salsa::Event| {
                if let salsa::EventKind::WillExecute { database_key } = event.kind {
                    if let Ok(mut l) = sink.lock() {
                        l.push(format!("{database_key:?}"));
                    }
                }
            })));
            LoggingDb { storage, log, disk: DiskModules::default(), rules: None }
        }

        /// How many times `query` ran since the log was last cleared.
        fn executed(&self, query: &str) -> usize {
            self.log.lock().expect("log").iter().filter(|k| k.starts_with(&format!("{query}("))).count()
        }

        fn clear(&self) {
            self.log.lock().expect("log").clear();
        }
    }

    fn block(i: usize, interval: &str) -> String {
        format!(
            "prometheus.scrape \"s{i}\" {{\n  targets         = []\n  forward_to      = [prometheus.remote_write.w.receiver]\n  scrape_interval = \"{interval}\"\n}}\n\n"
        )
    }

    fn config(blocks: usize, edited: Option<(usize, &str)>) -> String {
        let mut text = String::from("prometheus.remote_write \"w\" {}\n\n");
        for i in 0..blocks {
            let interval = match edited {
                Some((j, v)) if j == i => v,
                _ => "30s",
            };
            text.push_str(&block(i, interval));
        }
        text
    }

    fn setup(text: String) -> (LoggingDb, Workspace, SourceFile) {
        let db = LoggingDb::new();
        let file = SourceFile::builder("a.alloy".to_string(), text).chunk_target(1).new(&db);
        let ws = Workspace::new(&db, vec![file], Options::default(), PathBuf::from("."));
        (db, ws, file)
    }

    #[test]
    fn an_edit_inside_a_block_reparses_and_rechecks_that_block_only() {
        let (mut db, ws, file) = setup(config(50, None));
        assert_eq!(layout(&db, file).len(), 51);
        assert!(file_diagnostics(&db, ws, file).is_empty());
        db.clear();

        // A longer value moves every later block: they are reused all the same.
        file.set_text(&mut db).to(config(50, Some((20, "1m30s"))));
        assert!(file_diagnostics(&db, ws, file).is_empty());
        assert_eq!(db.executed("chunk_parse"), 1);
        assert_eq!(db.executed("chunk_check"), 1);
        assert_eq!(db.executed("module_index"), 0);
        assert_eq!(db.executed("cycles"), 0);
        db.clear();

        // An invalid value: reported at its place in the file.
        let bad = config(50, Some((30, "30 seconds")));
        file.set_text(&mut db).to(bad.clone());
        let d = file_diagnostics(&db, ws, file);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(&bad[d[0].span.range()], "\"30 seconds\"");
        assert_eq!(db.executed("chunk_check"), 1);
    }

    /// Refuses a `scrape_interval` of `1m30s`.
    struct NoNinety;

    impl crate::rules::ArgumentRules for NoNinety {
        fn covers(&self, name: &str) -> bool {
            name == "prometheus.scrape"
        }

        fn check(&self, _: &str, args: &eval::Value) -> Option<Vec<crate::rules::ArgError>> {
            let ninety = args.as_object()?.get("scrape_interval").is_some_and(|v| eval::render::render(v) == "\"1m30s\"");
            let at = vec![eval::PathSeg::Field("scrape_interval".into())];
            Some(if ninety { vec![crate::rules::ArgError::new(at, "not ninety seconds")] } else { Vec::new() })
        }
    }

    #[test]
    fn an_edit_re_runs_the_argument_rules_of_its_chunk_only() {
        let (mut db, ws, file) = setup(config(50, None));
        db.rules = Some(Arc::new(NoNinety));
        assert!(file_diagnostics(&db, ws, file).is_empty());
        db.clear();
        let edited = config(50, Some((20, "1m30s")));
        file.set_text(&mut db).to(edited.clone());
        let d = file_diagnostics(&db, ws, file);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!((&edited[d[0].span.range()], d[0].message.as_str()), ("\"1m30s\"", "not ninety seconds"));
        assert_eq!(db.executed("chunk_rules"), 1);
    }

    #[test]
    fn a_syntax_error_makes_the_rest_of_the_file_one_chunk_until_it_is_fixed() {
        let (mut db, ws, file) = setup(config(10, None));
        let broken = config(10, None).replace("\"s1\" {\n  targets         = []", "\"s1\" {\n  targets = [");
        file.set_text(&mut db).to(broken.clone());
        assert_eq!(layout(&db, file).len(), 2, "the first block, then the broken rest");
        assert_eq!(syntax_errors(&db, ws, file), syntax::parse_file(broken.as_bytes()).diagnostics);
        file.set_text(&mut db).to(config(10, None));
        assert_eq!(layout(&db, file).len(), 11);
        assert!(file_diagnostics(&db, ws, file).is_empty());
    }

    fn syntax_errors(db: &LoggingDb, ws: Workspace, file: SourceFile) -> Vec<Diagnostic> {
        file_diagnostics(db, ws, file).iter().filter(|d| matches!(d.code, Some("parse" | "scan"))).cloned().collect()
    }

    #[test]
    fn an_error_that_stays_in_its_block_keeps_the_other_chunks() {
        // Typing a string: it is not closed yet (inside an unclosed `[` it would not stay in
        // its block, and the rest of the file would be one chunk).
        let (mut db, ws, file) = setup(config(10, None));
        let typing = config(10, Some((1, "1m"))).replace("\"1m\"", "\"1m");
        file.set_text(&mut db).to(typing.clone());
        assert_eq!(layout(&db, file).len(), 11);
        let errors = syntax_errors(&db, ws, file);
        assert!(!errors.is_empty());
        assert_eq!(errors, syntax::parse_file(typing.as_bytes()).diagnostics);
    }

    #[test]
    fn duplicates_in_different_chunks_point_at_the_first() {
        let text = format!("{}{}", config(3, None), block(1, "10s"));
        let (db, ws, file) = setup(text.clone());
        let d = file_diagnostics(&db, ws, file);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].message, "block ID already declared at a.alloy:9:1");
        assert_eq!(&text[d[0].related[0].span.range()], "prometheus.scrape \"s1\"");
    }
}
