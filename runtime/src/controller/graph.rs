//! Lowering a checked program into the runtime graph: one node per top-level block, edges
//! from the analyzer's references, nodes in dependency order.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use analyzer::{Analysis, FileReport};
use syntax::ast::{Block, File, Stmt};
use syntax::{Diagnostic, Parsed};

use crate::component::Registration;

/// One source file of the configuration.
pub struct Source {
    pub path: String,
    pub text: String,
    pub parsed: Arc<Parsed<File>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Component,
    Logging,
}

/// A node of the new graph, before it is matched with the running one.
pub struct NodeSpec {
    pub id: String,
    pub name: String,
    pub label: Option<String>,
    pub kind: Kind,
    pub block: Block,
    pub source: Arc<Source>,
}

pub struct Lowered {
    /// Dependencies before dependants.
    pub nodes: Vec<NodeSpec>,
    /// Node ID -> the node IDs it depends on.
    pub deps: HashMap<String, Vec<String>>,
    pub sources: Vec<Arc<Source>>,
}

/// Blocks the runtime does not run yet, with why.
fn unsupported(name: &str) -> Option<&'static str> {
    Some(match name {
        "declare" => "custom components (declare) are not supported by this runtime yet",
        "import.file" | "import.string" | "import.http" | "import.git" => "imports are not supported by this runtime yet",
        "foreach" => "foreach is not supported by this runtime yet",
        "tracing" => "the tracing block is not supported by this runtime yet",
        "http" | "remotecfg" | "labelstore" => "this service block is not supported by this runtime yet",
        _ => return None,
    })
}

/// Lowers an analysis without errors. Blocks the runtime cannot run are errors positioned
/// on the block's name.
pub fn lower(analysis: &Analysis, registrations: &HashMap<&'static str, Registration>) -> Result<Lowered, Vec<FileReport>> {
    let sources: Vec<Arc<Source>> =
        analysis.parsed_files().into_iter().map(|p| Arc::new(Source { path: p.path, text: p.text, parsed: p.parsed })).collect();
    let mut nodes = Vec::new();
    let mut reports = Vec::new();
    for src in &sources {
        let mut diags = Vec::new();
        for stmt in &src.parsed.tree.body {
            let Stmt::Block(b) = stmt else { continue };
            let (id, _) = analyzer::model::block_id(b);
            let kind = match b.name.as_str() {
                "logging" => Kind::Logging,
                // Live debugging has no effect without the UI; accepted so configs keep loading.
                "livedebugging" => {
                    tracing::warn!(block = %b.name, "live debugging is not supported by this runtime yet; the block is ignored");
                    continue;
                }
                name => {
                    if let Some(why) = unsupported(name) {
                        diags.push(Diagnostic::error(b.name_span, why).with_code("unsupported"));
                        continue;
                    }
                    if !registrations.contains_key(name) {
                        diags.push(Diagnostic::error(b.name_span, format!("component \"{name}\" is not supported by this runtime yet")).with_code("unsupported"));
                        continue;
                    }
                    Kind::Component
                }
            };
            nodes.push(NodeSpec {
                id,
                name: b.name.to_string(),
                label: b.label.as_ref().map(|l| l.value.to_string()),
                kind,
                block: b.clone(),
                source: src.clone(),
            });
        }
        if !diags.is_empty() {
            reports.push(FileReport { path: src.path.clone(), text: src.text.clone(), lines: src.parsed.lines.clone(), diagnostics: diags });
        }
    }
    if !reports.is_empty() {
        return Err(reports);
    }
    let ids: HashSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let mut deps: HashMap<String, Vec<String>> = HashMap::new();
    for (from, to) in analysis.edges() {
        if ids.contains(from.as_str()) && ids.contains(to.as_str()) && from != to {
            deps.entry(from).or_default().push(to);
        }
    }
    let nodes = topological(nodes, &deps);
    Ok(Lowered { nodes, deps, sources })
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
