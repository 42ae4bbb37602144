//! The incremental engine: salsa inputs for file texts and tracked queries
//! parse → symbols → module index → per-file check (diagnostics and references) → graph
//! edges → cycles → diagnostics.
//!
//! Queries are shaped so that an edit inside one block recomputes that file's parse and check
//! only: the symbols of a file have no positions, so they compare equal after a value edit and
//! everything built from them (the module index, the graph, other files' checks) is reused.

use std::path::PathBuf;
use std::sync::Arc;

use syntax::ast::{File, Stmt};
use syntax::{Diagnostic, Parsed};

use crate::check::{Checker, Edge, Options};
use crate::graph::{self, Cycle};
use crate::model::{self, FileSymbols, ModuleIndex};

/// One source file: its path (as shown in diagnostics) and its text.
#[salsa::input(debug)]
pub struct SourceFile {
    #[returns(ref)]
    pub path: String,
    #[returns(ref)]
    pub text: String,
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

#[salsa::db]
#[derive(Clone, Default)]
pub struct Database {
    storage: salsa::Storage<Self>,
}

#[salsa::db]
impl salsa::Database for Database {}

/// The syntax tree, parse diagnostics and line index of a file.
#[derive(Clone, Debug)]
pub struct ParsedFile(pub Arc<Parsed<File>>);

#[salsa::tracked(returns(ref), no_eq)]
pub fn parse(db: &dyn salsa::Database, file: SourceFile) -> ParsedFile {
    ParsedFile(Arc::new(syntax::parse_file(file.text(db).as_bytes())))
}

#[salsa::tracked(returns(ref))]
pub fn file_symbols(db: &dyn salsa::Database, file: SourceFile) -> FileSymbols {
    model::file_symbols(&parse(db, file).0.tree.body)
}

#[salsa::tracked(returns(ref))]
pub fn module_index(db: &dyn salsa::Database, ws: Workspace) -> ModuleIndex {
    let symbols: Vec<&FileSymbols> = ws.files(db).iter().map(|f| file_symbols(db, *f)).collect();
    model::build_index(symbols.iter().copied(), ws.base_dir(db))
}

/// The checker's findings for one file of the root module.
#[derive(Clone, Debug)]
pub struct FileCheck {
    pub diagnostics: Vec<Diagnostic>,
    pub edges: Vec<Edge>,
}

#[salsa::tracked(returns(ref), no_eq)]
pub fn file_check(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> FileCheck {
    let parsed = &parse(db, file).0;
    let index = module_index(db, ws);
    let mut checker = Checker::new(*ws.options(db), file.path(db), &parsed.lines);
    checker.check_root(&parsed.tree.body, index);
    FileCheck { diagnostics: checker.diagnostics, edges: checker.edges }
}

/// The file's graph edges without positions (unchanged by most edits).
#[salsa::tracked(returns(ref))]
pub fn file_edges(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> Vec<(String, String)> {
    let mut edges: Vec<(String, String)> = file_check(db, ws, file).edges.iter().map(|e| (e.from.clone(), e.to.clone())).collect();
    edges.sort();
    edges.dedup();
    edges
}

/// Every cycle of the root module's dependency graph, each once.
#[salsa::tracked(returns(ref))]
pub fn cycles(db: &dyn salsa::Database, ws: Workspace) -> Vec<Cycle> {
    let all: Vec<&Vec<(String, String)>> = ws.files(db).iter().map(|f| file_edges(db, ws, *f)).collect();
    graph::find_cycles(all.iter().flat_map(|v| v.iter().map(|(a, b)| (a.as_str(), b.as_str()))))
}

/// Every diagnostic of one file: parse errors, checks, duplicates across files, cycles.
#[salsa::tracked(returns(ref))]
pub fn file_diagnostics(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> Vec<Diagnostic> {
    let parsed = &parse(db, file).0;
    let mut out = parsed.diagnostics.clone();
    out.extend(file_check(db, ws, file).diagnostics.iter().cloned());
    let files = ws.files(db);
    let me = files.iter().position(|f| *f == file).unwrap_or(0);

    // IDs first declared in an earlier file.
    let index = module_index(db, ws);
    if !index.duplicated.is_empty() {
        for stmt in &parsed.tree.body {
            let Stmt::Block(b) = stmt else { continue };
            let (id, span) = model::block_id(b);
            if !index.duplicated.contains(&id) {
                continue;
            }
            let Some((fi, other)) = files[..me].iter().enumerate().find_map(|(i, f)| first_block(db, *f, &id).map(|s| (i, s))) else { continue };
            let other_file = files[fi];
            let lines = &parse(db, other_file).0.lines;
            let mut d = Diagnostic::error(span, format!("block ID already declared at {}:{}", other_file.path(db), lines.line_col(other.start)))
                .with_code("duplicate-id");
            d.related.push(syntax::Related { file: Some(Arc::from(other_file.path(db).as_str())), span: other, message: format!("\"{id}\" first declared here") });
            out.push(d);
        }
    }

    // Cycles are reported in the file holding their first edge.
    for cycle in cycles(db, ws) {
        let edges: Vec<(usize, &Edge)> = files
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                let fe = file_edges(db, ws, **f);
                cycle.nodes.iter().any(|n| fe.iter().any(|(a, _)| a == n))
            })
            .flat_map(|(i, f)| file_check(db, ws, *f).edges.iter().map(move |e| (i, e)))
            .collect();
        if let Some((owner, d)) = graph::cycle_diagnostic(cycle, edges, |i| Arc::from(files[i].path(db).as_str())) {
            if owner == me {
                out.push(d);
            }
        }
    }
    out
}

fn first_block(db: &dyn salsa::Database, file: SourceFile, id: &str) -> Option<syntax::Span> {
    parse(db, file).0.tree.body.iter().find_map(|s| match s {
        Stmt::Block(b) => Some(model::block_id(b)).filter(|(i, _)| i == id).map(|(_, span)| span),
        _ => None,
    })
}
