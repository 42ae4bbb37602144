//! Static analysis of Alloy configurations: the component catalogue, the program model
//! (components, custom components, imports, references and the dependency graph), type
//! checking through expressions, and diagnostics.
//!
//! Everything is computed by incremental queries ([`db`]) so that an editor can keep one
//! [`Analysis`] alive and re-check after each edit; `alloy validate` uses the same queries
//! once.
//!
//! ```
//! let mut analysis = analyzer::Analysis::new(analyzer::Options::default());
//! analysis.set_files(vec![("a.alloy".into(), "prometheus.scrape \"x\" {}".into())]);
//! let report = analysis.diagnostics();
//! assert!(report[0].diagnostics.iter().any(|d| d.message == "missing required attribute \"targets\""));
//! ```

pub mod args;
pub mod catalog;
pub mod check;
pub mod chunk;
pub mod db;
pub mod graph;
pub mod ide;
pub mod literal;
pub mod model;
pub mod rules;
pub mod suggest;
pub mod types;

use salsa::Setter;
use std::path::{Path, PathBuf};
use syntax::{Diagnostic, LineIndex};

pub use catalog::{Catalog, Stability};
pub use check::Options;

/// The diagnostics of one file, with what is needed to render them.
#[derive(Clone, Debug)]
pub struct FileReport {
    pub path: String,
    pub text: String,
    pub lines: LineIndex,
    pub diagnostics: Vec<Diagnostic>,
}

impl FileReport {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// One file of the root module with its syntax tree.
#[derive(Clone, Debug)]
pub struct ParsedSource {
    pub path: String,
    pub text: String,
    pub parsed: std::sync::Arc<syntax::Parsed<syntax::ast::File>>,
}

/// A long-lived analysis of one root module (one file or a directory of files).
pub struct Analysis {
    db: db::Database,
    workspace: db::Workspace,
    /// The chunk size files are cut at (0: the default).
    chunk_target: u32,
}

impl Analysis {
    pub fn new(options: Options) -> Self {
        Analysis::on(db::Database::default(), options)
    }

    /// An analysis that also checks components' arguments with `rules` (see [`rules`]).
    pub fn with_rules(options: Options, rules: std::sync::Arc<dyn rules::ArgumentRules>) -> Self {
        Analysis::on(db::Database::with_rules(rules), options)
    }

    fn on(db: db::Database, options: Options) -> Self {
        let base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let workspace = db::Workspace::new(&db, Vec::new(), options, base);
        Analysis { db, workspace, chunk_target: 0 }
    }

    /// Replaces the set of files (path, text), in the order they are loaded. Modules read for
    /// `import.file` are read again.
    pub fn set_files(&mut self, files: Vec<(String, String)>) {
        self.reload_imports();
        let inputs: Vec<db::SourceFile> = files.into_iter().map(|(p, t)| db::SourceFile::builder(p, t).chunk_target(self.chunk_target).new(&self.db)).collect();
        self.workspace.set_files(&mut self.db).to(inputs);
    }

    /// Sets the size in bytes files are cut into chunks at (see [`chunk`]); 0 restores the
    /// default. Results do not depend on it, only the cost of a re-check does.
    pub fn set_chunk_target(&mut self, bytes: u32) {
        self.chunk_target = bytes;
        for f in self.workspace.files(&self.db).clone() {
            f.set_chunk_target(&mut self.db).to(bytes);
        }
    }

    /// Changes the text of one file (by path); returns false if there is no such file. Modules
    /// read for `import.file` are not read again (that is disk I/O an editor should not do on
    /// every keystroke): call [`Analysis::reload_imports`] for that.
    pub fn set_file_text(&mut self, path: &str, text: String) -> bool {
        let file = self.workspace.files(&self.db).iter().copied().find(|f| f.path(&self.db) == path);
        match file {
            Some(f) => {
                f.set_text(&mut self.db).to(text);
                true
            }
            None => false,
        }
    }

    /// Reads every file and directory read for an `import.file` again, so that the next
    /// diagnostics see their edits; returns whether any changed.
    pub fn reload_imports(&mut self) -> bool {
        self.db.disk_modules().reload(&mut self.db)
    }

    pub fn set_options(&mut self, options: Options) {
        self.workspace.set_options(&mut self.db).to(options);
    }

    /// Diagnostics of every file, in file order; within a file, in source order.
    pub fn diagnostics(&self) -> Vec<FileReport> {
        let files = self.workspace.files(&self.db).clone();
        files
            .iter()
            .map(|f| {
                let mut diagnostics = db::file_diagnostics(&self.db, self.workspace, *f).clone();
                diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
                FileReport { path: f.path(&self.db).clone(), text: f.text(&self.db).clone(), lines: db::line_index(&self.db, *f).clone(), diagnostics }
            })
            .collect()
    }

    /// Path, text and syntax tree of every file, in file order (shared, not re-parsed): what
    /// the runtime lowers into its graph after the checks passed.
    pub fn parsed_files(&self) -> Vec<ParsedSource> {
        let files = self.workspace.files(&self.db).clone();
        files
            .iter()
            .map(|f| ParsedSource { path: f.path(&self.db).clone(), text: f.text(&self.db).clone(), parsed: db::parse(&self.db, *f).0.clone() })
            .collect()
    }

    /// The dependency edges between top-level nodes of the root module (`from` depends on
    /// `to`), each once, sorted.
    pub fn edges(&self) -> Vec<(String, String)> {
        let files = self.workspace.files(&self.db).clone();
        let mut edges: Vec<(String, String)> = files.iter().flat_map(|f| db::file_edges(&self.db, self.workspace, *f).iter().cloned()).collect();
        edges.sort();
        edges.dedup();
        edges
    }

    /// The number of diagnostics of each file, without cloning texts (for benchmarks).
    pub fn diagnostic_counts(&self) -> Vec<usize> {
        let files = self.workspace.files(&self.db).clone();
        files.iter().map(|f| db::file_diagnostics(&self.db, self.workspace, *f).len()).collect()
    }
}

/// Why a configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    // The OS error is part of the message and deliberately not a `source()`: anyhow's `{:#}`
    // would print it twice.
    #[error("failed to read {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path}: configuration is not valid UTF-8")]
    Encoding { path: String },
}

/// Reads a configuration path as `alloy run` does: one file, or every regular `*.alloy` file
/// directly inside a directory, in lexicographic order.
pub fn load_path(path: &Path) -> Result<Vec<(String, String)>, LoadError> {
    let read = |p: &Path| -> Result<(String, String), LoadError> {
        let name = p.display().to_string();
        let bytes = std::fs::read(p).map_err(|error| LoadError::Read { path: name.clone(), error })?;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").map(<[u8]>::to_vec).unwrap_or(bytes);
        let text = String::from_utf8(bytes).map_err(|_| LoadError::Encoding { path: name.clone() })?;
        Ok((name, text))
    };
    if path.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|error| LoadError::Read { path: path.display().to_string(), error })?;
        let mut files: Vec<PathBuf> =
            entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "alloy")).collect();
        files.sort();
        files.iter().map(|p| read(p)).collect()
    } else {
        Ok(vec![read(path)?])
    }
}

/// Checks one text on its own (a convenience for tests and tools).
pub fn check_text(path: &str, text: &str, options: Options) -> FileReport {
    let mut a = Analysis::new(options);
    a.set_files(vec![(path.to_string(), text.to_string())]);
    a.diagnostics().pop().expect("one report per file")
}
