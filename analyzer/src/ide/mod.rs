//! Editor queries over an [`Analysis`]: hover, completion, navigation, rename, symbols,
//! folding, semantic tokens and code actions.
//!
//! A [`Snapshot`] is a read-only view of the analysis at one revision. It can be moved to
//! another thread; when the analysis is edited, queries running on older snapshots are
//! cancelled (they unwind with [`salsa::Cancelled`], which [`Snapshot::run`] turns into
//! `Err(Cancelled)`), so requests are always answered from the latest consistent state.
//!
//! Positions are byte offsets into a file's text, files are named by the paths given to
//! [`Analysis::set_files`]; the language server converts both to the protocol's terms.

mod actions;
mod completion;
mod context;
mod hover;
mod navigation;
mod ottl_strings;
mod schema;
mod symbols;
mod tokens;
mod walk;

pub use walk::module_traversals;

use std::path::PathBuf;
use std::sync::Arc;

use salsa::Setter;
use syntax::ast::File;
use syntax::{Diagnostic, LineIndex, Parsed, Span};

use crate::db::{self, SourceFile};
use crate::model::ModuleIndex;
use crate::Analysis;

pub use actions::{CodeAction, Edit};
pub use completion::{CompletionItem, CompletionKind};
pub use hover::Hover;
pub use navigation::{Location, RenameError};
pub use symbols::{Fold, FoldKind, Symbol, SymbolKind};
pub use tokens::{SemanticToken, TokenType};

/// A query was abandoned because the analysis changed underneath it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the analysis changed while the query ran")]
pub struct Cancelled;

impl Analysis {
    /// A read-only view of the current state, for queries on another thread.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot { db: self.db.clone(), ws: self.workspace }
    }

    /// The directory `import.file` names are resolved against (the workspace directory).
    pub fn set_base_dir(&mut self, dir: PathBuf) {
        self.workspace.set_base_dir(&mut self.db).to(dir);
    }
}

/// A read-only view of an [`Analysis`] at one revision.
#[derive(Clone)]
pub struct Snapshot {
    db: db::Database,
    ws: db::Workspace,
}

impl Snapshot {
    /// Runs a query; `Err(Cancelled)` when the analysis was edited meanwhile.
    pub fn run<T>(&self, query: impl FnOnce(&Snapshot) -> T) -> Result<T, Cancelled> {
        salsa::Cancelled::catch(std::panic::AssertUnwindSafe(|| query(self))).map_err(|_| Cancelled)
    }

    fn source(&self, path: &str) -> Option<SourceFile> {
        self.ws.files(&self.db).iter().copied().find(|f| f.path(&self.db) == path)
    }

    fn sources(&self) -> impl Iterator<Item = SourceFile> + '_ {
        self.ws.files(&self.db).iter().copied()
    }

    /// The paths of the workspace's files, in load order.
    pub fn files(&self) -> Vec<String> {
        self.sources().map(|f| f.path(&self.db).clone()).collect()
    }

    pub fn text(&self, path: &str) -> Option<&str> {
        self.source(path).map(|f| f.text(&self.db).as_str())
    }

    /// The file's line index, without parsing it (a whole-file parse of a large file would
    /// cost every diagnostics round after an edit).
    pub fn lines(&self, path: &str) -> Option<&LineIndex> {
        self.source(path).map(|f| db::line_index(&self.db, f))
    }

    fn parsed(&self, path: &str) -> Option<&Arc<Parsed<File>>> {
        self.source(path).map(|f| &db::parse(&self.db, f).0)
    }

    fn index(&self) -> &ModuleIndex {
        db::module_index(&self.db, self.ws)
    }

    /// Every diagnostic of one file (parser and analyzer), in source order.
    pub fn diagnostics(&self, path: &str) -> Option<Vec<Diagnostic>> {
        let f = self.source(path)?;
        let mut out = db::file_diagnostics(&self.db, self.ws, f).clone();
        out.sort_by_key(|d| (d.span.start, d.span.end));
        Some(out)
    }

    /// The file formatted by the project's formatter, or `None` when it does not parse.
    pub fn formatted(&self, path: &str) -> Option<String> {
        // The formatter reads the flat tree, which borrows the text: a parse of its own.
        let parsed = syntax::parse_tree(self.text(path)?.as_bytes());
        if parsed.has_errors() {
            return None;
        }
        let mut out = syntax::format::format_file(&parsed.tree, &parsed.lines);
        out.push('\n');
        Some(out)
    }

    /// The module index with an identifier inserted into `path` at `offset`, so that a
    /// half-typed value there parses.
    fn index_with_placeholder(&self, path: &str, offset: u32) -> Option<ModuleIndex> {
        let file = self.source(path)?;
        // Only the chunk holding the cursor is parsed again, with the name inserted; the
        // others keep their cached symbols.
        let layout = db::layout(&self.db, file);
        let at = layout.iter().rposition(|p| p.offset <= offset)?;
        let chunk = layout[at].chunk.text(&self.db);
        let local = (offset - layout[at].offset) as usize;
        if local > chunk.len() || !chunk.is_char_boundary(local) {
            return None;
        }
        let patched = format!("{}__completion_placeholder{}", &chunk[..local], &chunk[local..]);
        let own = Arc::new(crate::model::file_symbols(&syntax::parse_file(patched.as_bytes()).tree.body));
        let mut parts: Vec<Arc<crate::model::FileSymbols>> = Vec::new();
        for f in self.sources() {
            if f == file {
                for (k, p) in layout.iter().enumerate() {
                    parts.push(if k == at { own.clone() } else { db::chunk_symbols(&self.db, p.chunk).clone() });
                }
            } else {
                parts.extend(db::file_symbol_parts(&self.db, f).iter().cloned());
            }
        }
        let resolve = |source: &crate::model::ImportSource| db::resolve_import(&self.db, self.ws, source);
        Some(crate::model::build_index(parts.iter().map(|p| &**p), &resolve))
    }

    /// Every chunk of `path` parsed (each parse cached until its text changes), with the
    /// chunk's offset in the file: position queries walk these instead of a whole-file parse.
    fn chunk_trees(&self, path: &str) -> Vec<(&Arc<Parsed<File>>, u32)> {
        let Some(f) = self.source(path) else { return Vec::new() };
        db::layout(&self.db, f).iter().map(|p| (&db::chunk_parse(&self.db, p.chunk).0, p.offset)).collect()
    }

    /// The parsed chunk of `path` holding `offset`, and its offset in the file.
    fn chunk_tree_at(&self, path: &str, offset: u32) -> Option<(&Arc<Parsed<File>>, u32)> {
        self.chunk_trees(path).into_iter().rev().find(|(_, start)| *start <= offset)
    }

    /// Where the chunk holding `offset` starts: a top-level statement boundary.
    fn chunk_start(&self, path: &str, offset: u32) -> u32 {
        let Some(f) = self.source(path) else { return 0 };
        db::layout(&self.db, f).iter().map(|p| p.offset).filter(|&o| o <= offset).max().unwrap_or(0)
    }

    /// Every file's parse tree with its path, in load order.
    fn trees(&self) -> impl Iterator<Item = (&str, &Arc<Parsed<File>>)> + '_ {
        self.sources().map(|f| (f.path(&self.db).as_str(), &db::parse(&self.db, f).0))
    }
}

/// A span in a named file.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileSpan {
    pub path: String,
    pub span: Span,
}
