//! Code actions derived from the file's diagnostics: apply a did-you-mean, add the missing
//! required arguments of a block, replace a deprecated stdlib name.

use syntax::ast::Stmt;
use syntax::{Diagnostic, Span};

use super::schema;
use super::walk::{self, Hit};
use super::Snapshot;
use crate::types::Ty;

/// Replace `span` of the file by `text`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Edit {
    pub span: Span,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeAction {
    pub title: String,
    /// Edits of the file the action was asked for.
    pub edits: Vec<Edit>,
    /// The diagnostic the action fixes.
    pub fixes: Diagnostic,
    pub preferred: bool,
}

impl Snapshot {
    /// Fixes for the diagnostics overlapping `range`.
    pub fn code_actions(&self, path: &str, range: Span) -> Vec<CodeAction> {
        let (Some(text), Some(diags)) = (self.text(path), self.diagnostics(path)) else { return Vec::new() };
        let mut out = Vec::new();
        for d in diags.iter().filter(|d| d.span.start <= range.end && range.start <= d.span.end) {
            if let Some(a) = did_you_mean(text, d) {
                out.push(a);
            }
            if d.code == Some("deprecated") {
                let old = text.get(d.span.range()).unwrap_or_default();
                if let Some(new) = eval::stdlib::deprecated_replacement(old) {
                    out.push(CodeAction {
                        title: format!("Replace with \"{new}\""),
                        edits: vec![Edit { span: d.span, text: new.to_string() }],
                        fixes: d.clone(),
                        preferred: true,
                    });
                }
            }
            if d.code == Some("missing-required") {
                if let Some(a) = self.add_required(path, text, d) {
                    out.push(a);
                }
            }
        }
        // One "add missing arguments" per block.
        let mut seen = std::collections::HashSet::new();
        out.retain(|a| !a.title.starts_with("Add missing") || seen.insert(a.edits.clone()));
        out
    }

    /// Inserts every missing required argument of the block the diagnostic is on, before its
    /// closing brace.
    fn add_required(&self, path: &str, text: &str, d: &Diagnostic) -> Option<CodeAction> {
        let parsed = self.parsed(path)?;
        // The blocks (outermost first) down to the one whose name the diagnostic is on.
        let Some(Hit::BlockName { path: chain }) = walk::locate(&parsed.tree.body, d.span.start) else { return None };
        let block = *chain.last()?;
        if block.name_span != d.span {
            return None;
        }
        let (scope, inner) = self.scope_of(&chain);
        let schema = schema::body_schema(&scope.index, inner.iter().map(|b| b.name.as_str()))?;
        let present: Vec<&str> = block.body.iter().filter_map(|s| if let Stmt::Attribute(a) = s { Some(a.name.name.as_str()) } else { None }).collect();
        let missing: Vec<(String, Ty)> =
            schema.attrs().iter().filter(|a| a.required && !present.contains(&a.name)).map(|a| (a.name.to_string(), a.ty.clone())).collect();
        if missing.is_empty() {
            return None;
        }
        // The body's own indentation when it has statements, else one tab more than the block.
        let indent = match block.body.first() {
            Some(s) => line_indent(text, s.span().start),
            None => format!("{}\t", line_indent(text, block.name_span.start)),
        };
        let outer = line_indent(text, block.rcurly.start);
        let close = block.rcurly.start as usize;
        // Insert at the start of the closing brace's line when it is alone on it.
        let line_start = text[..close].rfind('\n').map_or(0, |i| i + 1);
        let brace_alone = text[line_start..close].trim().is_empty();
        let mut insert = String::new();
        if !brace_alone {
            insert.push('\n');
        }
        for (name, ty) in &missing {
            insert.push_str(&format!("{indent}{name} = {}\n", empty_value(ty)));
        }
        let at = if brace_alone { line_start } else { close };
        if !brace_alone {
            insert.push_str(&outer);
        }
        let names: Vec<String> = missing.iter().map(|(n, _)| format!("\"{n}\"")).collect();

        Some(CodeAction {
            title: format!("Add missing required arguments: {}", names.join(", ")),
            edits: vec![Edit { span: Span::at(at as u32), text: insert }],
            fixes: d.clone(),
            preferred: false,
        })
    }
}

/// `did you mean "x"?` in a note: replace the diagnostic's span with the suggestion (quoted
/// when the span is a string literal).
fn did_you_mean(text: &str, d: &Diagnostic) -> Option<CodeAction> {
    let note = d.notes.iter().find_map(|n| n.strip_prefix("did you mean \"")?.strip_suffix("\"?"))?;
    let old = text.get(d.span.range())?;
    let new = if old.starts_with('"') { syntax::quote::go_quote(note) } else { note.to_string() };
    Some(CodeAction {
        title: format!("Change to {}", if old.starts_with('"') { new.clone() } else { format!("\"{new}\"") }),
        edits: vec![Edit { span: d.span, text: new }],
        fixes: d.clone(),
        preferred: true,
    })
}

fn line_indent(text: &str, offset: u32) -> String {
    let offset = (offset as usize).min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    text[start..].chars().take_while(|c| *c == ' ' || *c == '\t').collect()
}

/// A syntactically valid empty value of a type, for the user to fill in.
fn empty_value(ty: &Ty) -> &'static str {
    match ty {
        Ty::List(_) => "[]",
        Ty::Map(_) | Ty::Object => "{}",
        Ty::Number => "0",
        Ty::Bool => "false",
        Ty::Any | Ty::Capsule(_) | Ty::Function | Ty::Null => "null",
        _ => "\"\"",
    }
}
