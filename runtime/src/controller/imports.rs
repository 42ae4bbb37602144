//! `import.file` and `import.string` (spec §6.2): the module text an import names, read when the
//! configuration is loaded. The import's arguments are evaluated then, with `module_path` and
//! the standard library in scope; an argument that needs another component's exports cannot be
//! known at that point and is an error that says so.
//!
//! Changes to imported files are picked up by the controller's import watcher, which reloads.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use eval::{Scope, Value};
use syntax::ast::{Block, Stmt};
use syntax::{Diagnostic, Span};

use super::graph::Source;

/// What an import brought in.
pub(crate) struct Module {
    pub sources: Vec<Arc<Source>>,
    /// `module_path` inside the module's declares.
    pub module_path: String,
    /// For `import.file`: the path read and what it held, for the watcher.
    pub watched: Option<Watched>,
}

/// An imported path and the files it held when read.
#[derive(Clone, Debug, PartialEq)]
pub struct Watched {
    pub path: PathBuf,
    pub files: Vec<(String, String)>,
}

impl Watched {
    /// Whether the path now holds something else (or cannot be read any more).
    pub fn changed(&self) -> bool {
        analyzer::load_path(&self.path).map_or(true, |now| now != self.files)
    }
}

const LOAD_TIME_NOTE: &str =
    "this runtime reads imports when it loads the configuration, so their arguments may use constants, module_path and the standard library, but not other components";

fn span_of(b: &Block, attr: &str) -> Span {
    b.body
        .iter()
        .find_map(|s| match s {
            Stmt::Attribute(a) if a.name.name == attr => Some(a.value.span()),
            _ => None,
        })
        .unwrap_or(b.name_span)
}

/// Reads the module an `import.file` or `import.string` block names.
pub(crate) fn read(b: &Block, src: &Source, module_path: &str) -> Result<Module, Diagnostic> {
    let mut scope = Scope::new();
    scope.set("module_path", Value::string(module_path));
    let args = super::args::evaluate_block(&b.name, b, &src.parsed.lines, &scope).map_err(|e| {
        let mut d = e.to_diagnostic(b.name_span).with_code("import");
        d.notes.push(LOAD_TIME_NOTE.into());
        d
    })?;
    let arg = |name: &str| -> Option<String> {
        match args.as_object()?.get(name)? {
            Value::String(s) => Some(s.to_string_lossy().into_owned()),
            Value::Secret(s) => Some(s.expose().to_string_lossy().into_owned()),
            Value::OptionalSecret(s) => Some(s.expose().to_string_lossy().into_owned()),
            _ => None,
        }
    };
    let label = b.label.as_ref().map(|l| l.value.to_string()).unwrap_or_default();
    match b.name.as_str() {
        "import.file" => {
            let Some(filename) = arg("filename") else {
                return Err(Diagnostic::error(b.name_span, "missing required attribute \"filename\"").with_code("import"));
            };
            let path = PathBuf::from(&filename);
            let files = analyzer::load_path(&path).map_err(|e| Diagnostic::error(span_of(b, "filename"), format!("failed to read file: {e}")).with_code("import"))?;
            let module_path = if path.is_dir() { filename.clone() } else { parent_dir(&path) };
            let sources = files.iter().map(|(p, t)| parsed(p.clone(), t.clone())).collect();
            Ok(Module { sources, module_path, watched: Some(Watched { path, files }) })
        }
        "import.string" => {
            let Some(content) = arg("content") else {
                return Err(Diagnostic::error(b.name_span, "missing required attribute \"content\"").with_code("import"));
            };
            // The module is named after the import in reports.
            let sources = vec![parsed(format!("{}:import.string.{label}", src.path), content)];
            Ok(Module { sources, module_path: module_path.to_string(), watched: None })
        }
        other => Err(Diagnostic::error(b.name_span, format!("{other} is not supported by this runtime yet")).with_code("unsupported")),
    }
}

fn parent_dir(path: &Path) -> String {
    path.parent().map(|d| d.display().to_string()).filter(|d| !d.is_empty()).unwrap_or_else(|| ".".into())
}

fn parsed(path: String, text: String) -> Arc<Source> {
    let parsed = Arc::new(syntax::parse_file(text.as_bytes()));
    Arc::new(Source { path, text, parsed })
}
