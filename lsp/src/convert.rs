//! Between the analyzer's terms (byte offsets, file paths, its own result types) and the
//! protocol's (line/character positions in UTF-16 or UTF-8 units, URIs).

use std::path::Path;
use std::str::FromStr;

use analyzer::ide::{self, Snapshot};
use syntax::{LineIndex, Span};
use tower_lsp_server::ls_types as lsp;

/// How the client counts characters in a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

/// One file's text and line starts, for converting positions.
pub struct Text<'a> {
    pub text: &'a str,
    pub lines: &'a LineIndex,
    pub encoding: Encoding,
}

impl<'a> Text<'a> {
    /// The file `path` of a snapshot.
    pub fn of(snap: &'a Snapshot, path: &str, encoding: Encoding) -> Option<Text<'a>> {
        Some(Text { text: snap.text(path)?, lines: snap.lines(path)?, encoding })
    }

    pub fn position(&self, offset: u32) -> lsp::Position {
        position(self.text, self.lines, offset, self.encoding)
    }

    pub fn range(&self, span: Span) -> lsp::Range {
        lsp::Range { start: self.position(span.start), end: self.position(span.end) }
    }

    pub fn offset(&self, pos: lsp::Position) -> u32 {
        offset(self.text, self.lines, pos, self.encoding)
    }

    pub fn span(&self, range: lsp::Range) -> Span {
        let (a, b) = (self.offset(range.start), self.offset(range.end));
        Span::new(a.min(b), a.max(b))
    }
}

pub fn position(text: &str, lines: &LineIndex, offset: u32, encoding: Encoding) -> lsp::Position {
    let mut offset = (offset as usize).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line = lines.line(offset as u32);
    let start = (lines.line_start(line) as usize).min(offset);
    let prefix = &text[start..offset];
    let character = match encoding {
        Encoding::Utf8 => prefix.len(),
        Encoding::Utf16 => prefix.chars().map(char::len_utf16).sum(),
    };
    lsp::Position { line: line - 1, character: character as u32 }
}

/// The byte offset of a position, clamped to its line (and the text).
pub fn offset(text: &str, lines: &LineIndex, pos: lsp::Position, encoding: Encoding) -> u32 {
    if pos.line >= lines.line_count() {
        return text.len() as u32;
    }
    let start = lines.line_start(pos.line + 1) as usize;
    let line = &text[start..];
    let line = &line[..line.find('\n').unwrap_or(line.len())];
    let mut units = 0usize;
    for (i, c) in line.char_indices() {
        if units >= pos.character as usize {
            return (start + i) as u32;
        }
        units += match encoding {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
        };
    }
    (start + line.len()) as u32
}

/// Applies one change of `textDocument/didChange` to a text.
pub fn apply_change(text: &mut String, change: lsp::TextDocumentContentChangeEvent, encoding: Encoding) {
    match change.range {
        None => *text = change.text,
        Some(range) => {
            let lines = LineIndex::new(text.as_bytes());
            let a = offset(text, &lines, range.start, encoding) as usize;
            let b = (offset(text, &lines, range.end, encoding) as usize).max(a);
            text.replace_range(a..b, &change.text);
        }
    }
}

/// The path the analyzer knows a document by: its file path, or the URI itself for documents
/// that are not files (`untitled:`).
pub fn path_of(uri: &lsp::Uri) -> String {
    match uri.to_file_path() {
        Some(p) => p.display().to_string(),
        None => uri.as_str().to_string(),
    }
}

pub fn uri_of(path: &str) -> Option<lsp::Uri> {
    if Path::new(path).is_absolute() {
        lsp::Uri::from_file_path(path)
    } else {
        lsp::Uri::from_str(path).ok()
    }
}

pub fn diagnostic(snap: &Snapshot, path: &str, text: &Text<'_>, d: &syntax::Diagnostic) -> lsp::Diagnostic {
    let severity = match d.severity {
        syntax::Severity::Error => lsp::DiagnosticSeverity::ERROR,
        syntax::Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        syntax::Severity::Info => lsp::DiagnosticSeverity::INFORMATION,
        syntax::Severity::Hint => lsp::DiagnosticSeverity::HINT,
    };
    let mut message = d.message.clone();
    for n in &d.notes {
        message.push('\n');
        message.push_str(n);
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .related
        .iter()
        .filter_map(|r| {
            let file = r.file.as_deref().unwrap_or(path);
            let other;
            let t = if file == path {
                text
            } else {
                other = Text::of(snap, file, text.encoding)?;
                &other
            };
            Some(lsp::DiagnosticRelatedInformation { location: lsp::Location { uri: uri_of(file)?, range: t.range(r.span) }, message: r.message.clone() })
        })
        .collect();
    lsp::Diagnostic {
        range: text.range(d.span),
        severity: Some(severity),
        code: d.code.map(|c| lsp::NumberOrString::String(c.to_string())),
        source: Some("alloy".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}

pub fn location(snap: &Snapshot, loc: &ide::Location, encoding: Encoding) -> Option<lsp::Location> {
    let t = Text::of(snap, &loc.path, encoding)?;
    Some(lsp::Location { uri: uri_of(&loc.path)?, range: t.range(loc.span) })
}

pub fn edits(text: &Text<'_>, edits: &[ide::Edit]) -> Vec<lsp::TextEdit> {
    edits.iter().map(|e| lsp::TextEdit { range: text.range(e.span), new_text: e.text.clone() }).collect()
}

pub fn completion(text: &Text<'_>, c: ide::CompletionItem) -> lsp::CompletionItem {
    use ide::CompletionKind as K;
    let kind = match c.kind {
        K::Component => lsp::CompletionItemKind::CLASS,
        K::Block => lsp::CompletionItemKind::STRUCT,
        K::Attribute => lsp::CompletionItemKind::PROPERTY,
        K::EnumValue => lsp::CompletionItemKind::ENUM_MEMBER,
        K::Reference => lsp::CompletionItemKind::REFERENCE,
        K::Function => lsp::CompletionItemKind::FUNCTION,
        K::Keyword => lsp::CompletionItemKind::KEYWORD,
    };
    lsp::CompletionItem {
        filter_text: Some(c.label.clone()),
        label: c.label,
        kind: Some(kind),
        detail: c.detail,
        documentation: c.documentation.map(|d| lsp::Documentation::MarkupContent(lsp::MarkupContent { kind: lsp::MarkupKind::Markdown, value: d })),
        sort_text: Some(c.sort),
        insert_text_format: Some(if c.snippet { lsp::InsertTextFormat::SNIPPET } else { lsp::InsertTextFormat::PLAIN_TEXT }),
        text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit { range: text.range(c.replace), new_text: c.insert })),
        ..Default::default()
    }
}

pub fn symbol_kind(k: ide::SymbolKind) -> lsp::SymbolKind {
    match k {
        ide::SymbolKind::Component => lsp::SymbolKind::CLASS,
        ide::SymbolKind::Module => lsp::SymbolKind::MODULE,
        ide::SymbolKind::Config => lsp::SymbolKind::NAMESPACE,
        ide::SymbolKind::Block => lsp::SymbolKind::STRUCT,
        ide::SymbolKind::Attribute => lsp::SymbolKind::PROPERTY,
    }
}

#[allow(deprecated)] // `deprecated` is a required field of the protocol's struct
pub fn document_symbol(text: &Text<'_>, s: ide::Symbol) -> lsp::DocumentSymbol {
    lsp::DocumentSymbol {
        name: s.name,
        detail: s.detail,
        kind: symbol_kind(s.kind),
        tags: None,
        deprecated: None,
        range: text.range(s.span),
        selection_range: text.range(s.selection),
        children: (!s.children.is_empty()).then(|| s.children.into_iter().map(|c| document_symbol(text, c)).collect()),
    }
}

/// Delta-encoded tokens; tokens spanning lines are split at line ends.
pub fn semantic_tokens(text: &Text<'_>, tokens: &[ide::SemanticToken]) -> Vec<lsp::SemanticToken> {
    let mut out = Vec::with_capacity(tokens.len());
    let (mut prev_line, mut prev_start) = (0u32, 0u32);
    for t in tokens {
        let ty = ide::TokenType::ALL.iter().position(|x| *x == t.ty).unwrap_or(0) as u32;
        let mut start = t.span.start;
        while start < t.span.end {
            let line_end = text.text[start as usize..].find('\n').map_or(text.text.len(), |i| start as usize + i) as u32;
            let end = t.span.end.min(line_end);
            if end > start {
                let (a, b) = (text.position(start), text.position(end));
                let delta_line = a.line - prev_line;
                let delta_start = if delta_line == 0 { a.character - prev_start } else { a.character };
                out.push(lsp::SemanticToken { delta_line, delta_start, length: b.character - a.character, token_type: ty, token_modifiers_bitset: 0 });
                prev_line = a.line;
                prev_start = a.character;
            }
            start = line_end + 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_positions_round_trip() {
        let text = "a = \"ŝ😀\"\nb = 1\n";
        let lines = LineIndex::new(text.as_bytes());
        let after_emoji = text.find('😀').unwrap() + 4;
        let p = position(text, &lines, after_emoji as u32, Encoding::Utf16);
        assert_eq!(p, lsp::Position { line: 0, character: 8 });
        assert_eq!(offset(text, &lines, p, Encoding::Utf16) as usize, after_emoji);
        assert_eq!(position(text, &lines, after_emoji as u32, Encoding::Utf8).character, 11);
        // Past the end of a line clamps to the line's end.
        assert_eq!(offset(text, &lines, lsp::Position { line: 1, character: 99 }, Encoding::Utf16) as usize, text.len() - 1);
        assert_eq!(offset(text, &lines, lsp::Position { line: 9, character: 0 }, Encoding::Utf16) as usize, text.len());
    }

    #[test]
    fn incremental_changes_apply() {
        let mut text = String::from("a = 1\nb = 2\n");
        let change = lsp::TextDocumentContentChangeEvent {
            range: Some(lsp::Range { start: lsp::Position { line: 1, character: 4 }, end: lsp::Position { line: 1, character: 5 } }),
            range_length: None,
            text: "\"x\"".into(),
        };
        apply_change(&mut text, change, Encoding::Utf16);
        assert_eq!(text, "a = 1\nb = \"x\"\n");
    }
}
