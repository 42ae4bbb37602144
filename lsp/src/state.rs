//! The server's state: open documents and one analysis per configuration.
//!
//! A configuration is, by the `configGrouping` setting ([`crate::settings`]), the directory of
//! an open file (all its `*.alloy` files share one namespace, as `alloy run DIR` sees them) or
//! the file alone; `auto` takes the directory unless two of its files declare the same
//! component, a sign of independent configurations side by side. Files are read from disk,
//! except open documents, whose text is the editor's.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use analyzer::ide::Snapshot;
use analyzer::Analysis;

use crate::settings::{Grouping, Settings};

pub struct Document {
    pub text: String,
    pub version: i32,
    /// The configuration's key: its directory, or the file itself.
    pub workspace: PathBuf,
}

pub struct Workspace {
    pub analysis: Analysis,
    /// A hash of the diagnostics last published per file.
    pub published: HashMap<String, u64>,
    /// Files edited since diagnostics were last published (always republished).
    pub dirty: HashSet<String>,
}

#[derive(Default)]
pub struct State {
    pub docs: HashMap<String, Document>,
    pub workspaces: HashMap<PathBuf, Workspace>,
    /// The components' argument rules the binary provides (see `analyzer::rules`).
    pub rules: analyzer::rules::SharedRules,
    pub settings: Settings,
}

/// The directory a document's workspace is; documents that are not files are alone.
fn workspace_dir(path: &str) -> PathBuf {
    let p = Path::new(path);
    match p.parent() {
        Some(dir) if p.is_absolute() => dir.to_path_buf(),
        _ => PathBuf::from(path),
    }
}

/// Whether two files of `dir` declare the same top-level component (open documents count with
/// the editor's text, `extra` with its own).
fn files_clash(dir: &Path, docs: &HashMap<String, Document>, extra: (&str, &str)) -> bool {
    let mut files = if dir.is_dir() { analyzer::load_path(dir).unwrap_or_default() } else { Vec::new() };
    if !files.iter().any(|(p, _)| p == extra.0) {
        files.push((extra.0.to_string(), extra.1.to_string()));
    }
    let mut seen: HashMap<String, &str> = HashMap::new();
    for (path, text) in &files {
        let text = if path == extra.0 { extra.1 } else { docs.get(path.as_str()).map_or(text.as_str(), |d| d.text.as_str()) };
        let parsed = syntax::parse_file(text.as_bytes());
        for (name, label) in analyzer::model::file_symbols(&parsed.tree.body).blocks {
            let id = match label {
                Some(l) => format!("{name}.{l}"),
                None => name.to_string(),
            };
            // Config blocks (`logging`) are singletons too: two files with one each clash.
            if let Some(other) = seen.insert(id, path) {
                if other != path {
                    return true;
                }
            }
        }
    }
    false
}

impl State {
    /// The configuration a file belongs to, by the grouping setting.
    fn workspace_key(&self, path: &str, text: &str) -> PathBuf {
        let dir = workspace_dir(path);
        let alone = PathBuf::from(path);
        if dir == alone {
            return alone;
        }
        match self.settings.grouping {
            Grouping::Directory => dir,
            Grouping::File => alone,
            Grouping::Auto if files_clash(&dir, &self.docs, (path, text)) => alone,
            Grouping::Auto => dir,
        }
    }

    /// Opens a document, creating its workspace on first use.
    pub fn open(&mut self, path: String, text: String, version: i32) {
        let dir = self.workspace_key(&path, &text);
        let (docs, rules, settings) = (&self.docs, &self.rules, self.settings);
        let ws = self.workspaces.entry(dir.clone()).or_insert_with(|| load_workspace(&dir, docs, rules, settings));
        let mut files = file_texts(&ws.analysis);
        match files.iter_mut().find(|(p, _)| *p == path) {
            Some((_, t)) => {
                if *t != text {
                    ws.analysis.set_file_text(&path, text.clone());
                }
            }
            None => {
                files.push((path.clone(), text.clone()));
                files.sort_by(|a, b| a.0.cmp(&b.0));
                ws.analysis.set_files(files);
            }
        }
        ws.dirty.insert(path.clone());
        self.docs.insert(path, Document { text, version, workspace: dir });
    }

    /// Replaces an open document's text (after the edits were applied to `Document::text`).
    pub fn changed(&mut self, path: &str) {
        let Some(doc) = self.docs.get(path) else { return };
        if let Some(ws) = self.workspaces.get_mut(&doc.workspace) {
            ws.analysis.set_file_text(path, doc.text.clone());
            ws.dirty.insert(path.to_string());
        }
    }

    /// Closes a document: its workspace sees the file on disk again (or loses it). Returns
    /// the files whose diagnostics should be cleared (those of a workspace closed with it).
    pub fn close(&mut self, path: &str) -> Vec<String> {
        let Some(doc) = self.docs.remove(path) else { return Vec::new() };
        if !self.docs.values().any(|d| d.workspace == doc.workspace) {
            let ws = self.workspaces.remove(&doc.workspace);
            return ws.map(|w| w.published.into_keys().collect()).unwrap_or_default();
        }
        let Some(ws) = self.workspaces.get_mut(&doc.workspace) else { return Vec::new() };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                ws.analysis.set_file_text(path, text);
                ws.dirty.insert(path.to_string());
            }
            Err(_) => {
                let files: Vec<(String, String)> = file_texts(&ws.analysis).into_iter().filter(|(p, _)| p != path).collect();
                ws.analysis.set_files(files);
                ws.published.remove(path);
                return vec![path.to_string()];
            }
        }
        Vec::new()
    }

    /// New settings: every configuration is rebuilt from the open documents. Returns the files
    /// whose diagnostics were published, to clear those no configuration reports any more.
    pub fn reconfigure(&mut self, settings: Settings) -> Vec<String> {
        self.settings = settings;
        let old = std::mem::take(&mut self.workspaces);
        let published: Vec<String> = old.into_values().flat_map(|w| w.published.into_keys()).collect();
        let mut docs: Vec<(String, String, i32)> = self.docs.drain().map(|(p, d)| (p, d.text, d.version)).collect();
        docs.sort();
        for (path, text, version) in docs {
            self.open(path, text, version);
        }
        published
    }

    pub fn snapshot_of(&self, path: &str) -> Option<Snapshot> {
        let doc = self.docs.get(path)?;
        Some(self.workspaces.get(&doc.workspace)?.analysis.snapshot())
    }
}

fn file_texts(analysis: &Analysis) -> Vec<(String, String)> {
    let snap = analysis.snapshot();
    snap.files()
        .into_iter()
        .map(|p| {
            let t = snap.text(&p).unwrap_or_default().to_string();
            (p, t)
        })
        .collect()
}

/// Reads a configuration's files (a directory's `*.alloy` files, or one file); open documents
/// replace their file's text.
fn load_workspace(key: &Path, docs: &HashMap<String, Document>, rules: &analyzer::rules::SharedRules, settings: Settings) -> Workspace {
    let mut files = if key.is_dir() { analyzer::load_path(key).unwrap_or_default() } else { Vec::new() };
    for (path, text) in &mut files {
        if let Some(d) = docs.get(path.as_str()) {
            *text = d.text.clone();
        }
    }
    let mut analysis = match rules {
        Some(r) => Analysis::with_rules(settings.options(), r.clone()),
        None => Analysis::new(settings.options()),
    };
    let base = if key.is_dir() { key } else { key.parent().unwrap_or(key) };
    analysis.set_base_dir(base.to_path_buf());
    analysis.set_files(files);
    Workspace { analysis, published: HashMap::new(), dirty: HashSet::new() }
}

/// A cheap fingerprint of a file's diagnostics, to publish only what changed.
pub fn fingerprint(diags: &[syntax::Diagnostic]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    diags.hash(&mut h);
    h.finish()
}
