//! Go to definition, find references and rename of components, declares, arguments and
//! imports across the files of a workspace.

use syntax::ast::{Block, Ident, Stmt};
use syntax::Span;

use super::actions::Edit;
use super::schema::Scope;
use super::walk::{self, Hit};
use super::{FileSpan, Snapshot};
use crate::model::{self, NodeKind};

pub type Location = FileSpan;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RenameError {
    #[error("there is no component label to rename here")]
    NothingToRename,
    #[error("\"{0}\" is not a valid identifier")]
    InvalidName(String),
    #[error("\"{0}\" is already declared")]
    Taken(String),
    #[error("{0} blocks are part of their module's interface; rename them by hand")]
    Interface(String),
}

/// A node of a module, named by its ID, and the module it lives in.
pub(crate) struct NodeRef<'a> {
    pub id: String,
    pub scope: Scope<'a>,
    /// The file holding the module when it is a `declare` body.
    pub file: &'a str,
}

impl Snapshot {
    /// The top-level block declaring `id` in a scope, with its file.
    pub(crate) fn node_block<'a>(&'a self, node: &NodeRef<'a>) -> Option<(&'a str, &'a Block)> {
        let find = |body: &'a [Stmt]| {
            body.iter().find_map(|s| match s {
                Stmt::Block(b) if model::block_id(b).0 == node.id => Some(b),
                _ => None,
            })
        };
        match node.scope.declare {
            Some(d) => find(&d.body).map(|b| (node.file, b)),
            None => self.trees().find_map(|(p, t)| find(&t.tree.body).map(|b| (p, b))),
        }
    }

    /// The node a traversal refers to in `scope`, and how many of its parts name the node.
    pub(crate) fn resolve_node(scope: &Scope<'_>, parts: &[&Ident]) -> Option<(String, usize)> {
        let mut id = String::new();
        for (k, p) in parts.iter().enumerate() {
            if k > 0 {
                id.push('.');
            }
            id.push_str(&p.name);
            if scope.index.ids.contains_key(&id) {
                return Some((id, k + 1));
            }
        }
        None
    }

    /// The node under the cursor: a top-level block's name or label, or a reference to one.
    pub(crate) fn node_at<'a>(&'a self, path: &'a str, offset: u32) -> Option<NodeRef<'a>> {
        let parsed = self.parsed(path)?;
        match walk::locate(&parsed.tree.body, offset)? {
            Hit::BlockName { path: blocks } | Hit::Label { path: blocks } => {
                let (b, outer) = blocks.split_last()?;
                let (scope, inner) = self.scope_of(outer);
                if !inner.is_empty() {
                    return None;
                }
                Some(NodeRef { id: model::block_id(b).0, scope, file: path })
            }
            Hit::Reference { path: blocks, parts, .. } => {
                let (scope, _) = self.scope_of(&blocks);
                let (id, _) = Self::resolve_node(&scope, &parts)?;
                Some(NodeRef { id, scope, file: path })
            }
            Hit::AttrName { .. } => None,
        }
    }

    pub fn definition(&self, path: &str, offset: u32) -> Option<Location> {
        let parsed = self.parsed(path)?;
        let hit = walk::locate(&parsed.tree.body, offset)?;
        // The name of an instance of a custom component: its declare or its import.
        if let Hit::BlockName { path: blocks } = &hit {
            let (b, outer) = blocks.split_last()?;
            let (scope, inner) = self.scope_of(outer);
            if inner.is_empty() {
                if let Some(loc) = self.custom_definition(&scope, path, &b.name) {
                    return Some(loc);
                }
            }
        }
        // An argument of a custom component instance: the declare's `argument` block.
        if let Hit::AttrName { path: blocks, attr } = &hit {
            let (scope, inner) = self.scope_of(blocks);
            if let [instance] = inner {
                let decl = self.custom_definition(&scope, path, &instance.name)?;
                let (file, body) = self.declare_body(&decl)?;
                return body.iter().find_map(|s| match s {
                    Stmt::Block(b) if b.name == "argument" && b.label.as_ref().is_some_and(|l| l.value == attr.name.name) => {
                        Some(FileSpan { path: file.to_string(), span: model::block_id_span(b) })
                    }
                    _ => None,
                });
            }
            return None;
        }
        let node = self.node_at(path, offset)?;
        let (file, b) = self.node_block(&node)?;
        Some(FileSpan { path: file.to_string(), span: model::block_id_span(b) })
    }

    /// Where the custom component `name` is declared: a local `declare`, or the import
    /// providing its namespace.
    fn custom_definition(&self, scope: &Scope<'_>, file: &str, name: &str) -> Option<Location> {
        let kind = model::classify(name, &scope.index.declares, &scope.index.imports);
        // A `declare` labelled with the component's name, or an import labelled with its
        // namespace.
        let (label, is_import) = match &kind {
            NodeKind::Local(d) => (d, false),
            NodeKind::Imported(ns, _) => (ns, true),
            _ => return None,
        };
        let wanted = |b: &Block| {
            let defines = if is_import { b.name.starts_with("import.") } else { b.name == "declare" };
            defines && b.label.as_ref().is_some_and(|l| l.value == *label)
        };
        if let Some(d) = scope.declare {
            if let Some(b) = d.body.iter().find_map(|s| match s {
                Stmt::Block(b) if wanted(b) => Some(b),
                _ => None,
            }) {
                return Some(FileSpan { path: file.to_string(), span: model::block_id_span(b) });
            }
        }
        self.trees().find_map(|(p, t)| {
            t.tree.body.iter().find_map(|s| match s {
                Stmt::Block(b) if wanted(b) => Some(FileSpan { path: p.to_string(), span: model::block_id_span(b) }),
                _ => None,
            })
        })
    }

    /// The body of the `declare` block named at `loc`.
    fn declare_body(&self, loc: &Location) -> Option<(&str, &[Stmt])> {
        let (file, tree) = self.trees().find(|(p, _)| *p == loc.path)?;
        fn find(body: &[Stmt], span: Span) -> Option<&[Stmt]> {
            body.iter().find_map(|s| match s {
                Stmt::Block(b) if b.name == "declare" && model::block_id_span(b) == span => Some(b.body.as_slice()),
                Stmt::Block(b) if b.name == "declare" => find(&b.body, span),
                _ => None,
            })
        }
        find(&tree.tree.body, loc.span).map(|b| (file, b))
    }

    /// Every reference to the node under the cursor (and its declaration when asked), each
    /// as the span of the node's ID within the reference.
    pub fn references(&self, path: &str, offset: u32, include_declaration: bool) -> Vec<Location> {
        let Some(node) = self.node_at(path, offset) else { return Vec::new() };
        let mut out = Vec::new();
        if include_declaration {
            if let Some((file, b)) = self.node_block(&node) {
                out.push(FileSpan { path: file.to_string(), span: model::block_id_span(b) });
            }
        }
        self.each_reference(&node, |file, parts| {
            out.push(FileSpan { path: file.to_string(), span: parts[0].span.cover(parts[parts.len() - 1].span) });
        });
        out
    }

    /// Calls `f` with the file and the parts naming `node` of each reference to it.
    fn each_reference<'a>(&'a self, node: &NodeRef<'a>, mut f: impl FnMut(&'a str, &[&'a Ident])) {
        let n = node.id.split('.').count();
        let mut visit = |file: &'a str, body: &'a [Stmt]| {
            walk::module_traversals(body, &mut |parts| {
                if parts.len() >= n && parts[..n].iter().map(|p| p.name.as_str()).eq(node.id.split('.')) {
                    f(file, &parts[..n]);
                }
            });
        };
        match node.scope.declare {
            Some(d) => visit(node.file, &d.body),
            None => {
                for (p, t) in self.trees() {
                    visit(p, &t.tree.body);
                }
            }
        }
    }

    /// What a rename at `offset` in `path` would change there, and the current label: the
    /// label inside its quotes, or the label's part of the reference under the cursor.
    pub fn prepare_rename(&self, path: &str, offset: u32) -> Result<(Span, String), RenameError> {
        let node = self.node_at(path, offset).ok_or(RenameError::NothingToRename)?;
        let (file, b) = self.node_block(&node).ok_or(RenameError::NothingToRename)?;
        let label = b.label.as_ref().ok_or(RenameError::NothingToRename)?;
        if matches!(b.name.as_str(), "argument" | "export" | "declare") {
            return Err(RenameError::Interface(b.name.to_string()));
        }
        let inner = Span::new(label.span.start + 1, label.span.end.saturating_sub(1).max(label.span.start + 1));
        let mut at = (file == path && label.span.start <= offset && offset <= label.span.end).then_some(inner);
        if at.is_none() {
            self.each_reference(&node, |f, parts| {
                let (first, last) = (parts[0].span, parts[parts.len() - 1].span);
                if at.is_none() && f == path && first.start <= offset && offset <= last.end {
                    at = Some(last);
                }
            });
        }
        // The cursor is on the block's name or elsewhere in its header: the label.
        let span = if file == path { at.unwrap_or(inner) } else { at.ok_or(RenameError::NothingToRename)? };
        Ok((span, label.value.to_string()))
    }

    /// The edits renaming the label of the component under the cursor and every reference to
    /// it, grouped by file.
    pub fn rename(&self, path: &str, offset: u32, new_name: &str) -> Result<Vec<(String, Vec<Edit>)>, RenameError> {
        let node = self.node_at(path, offset).ok_or(RenameError::NothingToRename)?;
        let (file, b) = self.node_block(&node).ok_or(RenameError::NothingToRename)?;
        let label = b.label.as_ref().ok_or(RenameError::NothingToRename)?;
        if matches!(b.name.as_str(), "argument" | "export" | "declare") {
            return Err(RenameError::Interface(b.name.to_string()));
        }
        if !syntax::lexer::is_valid_identifier(new_name) {
            return Err(RenameError::InvalidName(new_name.to_string()));
        }
        let new_id = model::node_id(&b.name, Some(new_name));
        if new_id != node.id && node.scope.index.ids.contains_key(&new_id) {
            return Err(RenameError::Taken(new_id));
        }
        let mut edits: Vec<(String, Vec<Edit>)> = Vec::new();
        let mut push = |file: &str, span: Span| {
            let e = Edit { span, text: new_name.to_string() };
            match edits.iter_mut().find(|(p, _)| p == file) {
                Some((_, v)) => v.push(e),
                None => edits.push((file.to_string(), vec![e])),
            }
        };
        // Inside the quotes of the label.
        push(file, Span::new(label.span.start + 1, label.span.end.saturating_sub(1).max(label.span.start + 1)));
        self.each_reference(&node, |file, parts| push(file, parts[parts.len() - 1].span));
        for (_, v) in &mut edits {
            v.sort_by_key(|e| e.span.start);
        }
        Ok(edits)
    }
}
