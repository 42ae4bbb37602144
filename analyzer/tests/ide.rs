//! The editor queries (analyzer::ide) on fixtures under `fixtures/lsp/`, with their results as
//! insta snapshots (`fixtures/lsp/snapshots/`).
//!
//! A fixture holds a query line and one or more virtual files of one workspace:
//!
//! ```text
//! //- query: hover            (or completion, definition, references, rename NEW_NAME,
//! //- file: main.alloy          symbols, workspace_symbols QUERY, folding, tokens, actions)
//! prometheus.scrape "a" { targ$0ets = [] }
//! //- file: other.alloy
//! …
//! ```
//!
//! `$0` marks the cursor (at most one, in any file).

use std::fmt::Write as _;
use std::path::Path;

use analyzer::ide::Snapshot;
use analyzer::{Analysis, Options};
use syntax::Span;

struct Fixture {
    query: String,
    files: Vec<(String, String)>,
    cursor: Option<(String, u32)>,
}

fn parse_fixture(text: &str) -> Fixture {
    let mut query = String::new();
    let mut files: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(q) = line.strip_prefix("//- query:") {
            query = q.trim().to_string();
        } else if let Some(f) = line.strip_prefix("//- file:") {
            files.push((f.trim().to_string(), String::new()));
        } else if let Some((_, body)) = files.last_mut() {
            body.push_str(line);
        }
    }
    let mut cursor = None;
    for (path, body) in &mut files {
        if let Some(i) = body.find("$0") {
            body.replace_range(i..i + 2, "");
            cursor = Some((path.clone(), i as u32));
        }
    }
    Fixture { query, files, cursor }
}

fn pos(snap: &Snapshot, path: &str, offset: u32) -> String {
    let lc = snap.lines(path).map(|l| l.line_col(offset).to_string()).unwrap_or_default();
    format!("{path}:{lc}")
}

fn span_text(snap: &Snapshot, path: &str, span: Span) -> String {
    format!("{} {:?}", pos(snap, path, span.start), snap.text(path).and_then(|t| t.get(span.range())).unwrap_or(""))
}

fn render(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let fx = parse_fixture(&text);
    let mut analysis = Analysis::new(Options::default());
    analysis.set_files(fx.files.clone());
    let snap = analysis.snapshot();
    let (file, offset) = fx.cursor.clone().unwrap_or_else(|| (fx.files[0].0.clone(), 0));
    let (verb, arg) = fx.query.split_once(' ').unwrap_or((fx.query.as_str(), ""));
    let mut out = String::new();
    match verb {
        "hover" => match snap.hover(&file, offset) {
            Some(h) => {
                let _ = writeln!(out, "range: {}\n---\n{}", span_text(&snap, &file, h.span), h.markdown);
            }
            None => out.push_str("no hover\n"),
        },
        "completion" => {
            for c in snap.completions(&file, offset) {
                let _ = writeln!(
                    out,
                    "{:<50} {:?} [{}] {}{}",
                    c.label,
                    c.kind,
                    c.sort,
                    c.detail.as_deref().unwrap_or("").chars().take(60).collect::<String>(),
                    if c.insert != c.label {
                        format!("\n    insert: {:?} replacing {:?}", c.insert, snap.text(&file).and_then(|t| t.get(c.replace.range())).unwrap_or(""))
                    } else {
                        String::new()
                    }
                );
            }
        }
        "definition" => match snap.definition(&file, offset) {
            Some(loc) => out.push_str(&span_text(&snap, &loc.path, loc.span)),
            None => out.push_str("no definition"),
        },
        "references" => {
            for loc in snap.references(&file, offset, true) {
                let _ = writeln!(out, "{}", span_text(&snap, &loc.path, loc.span));
            }
        }
        "rename" => match snap.rename(&file, offset, arg) {
            Ok(edits) => {
                for (path, edits) in edits {
                    let mut t = snap.text(&path).unwrap_or_default().to_string();
                    for e in edits.iter().rev() {
                        t.replace_range(e.span.range(), &e.text);
                    }
                    let _ = writeln!(out, "//- file: {path}\n{t}");
                }
            }
            Err(e) => {
                let _ = writeln!(out, "error: {e}");
            }
        },
        "symbols" => {
            fn tree(snap: &Snapshot, file: &str, syms: &[analyzer::ide::Symbol], depth: usize, out: &mut String) {
                for s in syms {
                    let _ = writeln!(
                        out,
                        "{}{} {:?} {} {}",
                        "  ".repeat(depth),
                        s.name,
                        s.kind,
                        s.detail.as_deref().unwrap_or("-"),
                        pos(snap, file, s.selection.start)
                    );
                    tree(snap, file, &s.children, depth + 1, out);
                }
            }
            tree(&snap, &file, &snap.document_symbols(&file), 0, &mut out);
        }
        "workspace_symbols" => {
            for (loc, s) in snap.workspace_symbols(arg) {
                let _ = writeln!(out, "{} {:?} {}", s.name, s.kind, pos(&snap, &loc.path, loc.span.start));
            }
        }
        "folding" => {
            for f in snap.folding_ranges(&file) {
                let _ = writeln!(out, "{}-{} {:?}", f.start_line, f.end_line, f.kind);
            }
        }
        "tokens" => {
            for t in snap.semantic_tokens(&file) {
                let _ = writeln!(out, "{:<10} {}", t.ty.as_str(), span_text(&snap, &file, t.span));
            }
        }
        "actions" => {
            for a in snap.code_actions(&file, Span::at(offset)) {
                let mut t = snap.text(&file).unwrap_or_default().to_string();
                for e in a.edits.iter().rev() {
                    t.replace_range(e.span.range(), &e.text);
                }
                let _ = writeln!(out, "== {} (fixes: {})\n{t}", a.title, a.fixes.message);
            }
        }
        other => panic!("unknown query {other:?} in {}", path.display()),
    }
    out
}

#[test]
fn ide_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/lsp");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir.join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::glob!(&dir, "*.txt", |path| {
            insta::assert_snapshot!(render(path));
        });
    });
}

/// No query panics, whatever the text and wherever the cursor.
#[test]
fn garbage_never_panics() {
    let samples = [
        "prometheus.scrape \"a\" { forward_to = [prometheus.",
        "}}}{{{ = = \"\n\t`raw",
        "otelcol.receiver.otlp \"x\" { output { traces = [otelcol. } }",
        "declare \"d\" { argument \"x\" {} export \"y\" { value = argument.x.value } }\nd \"i\" { x = 1 }",
        "a = b.c(\"ŝ٣\", [1, {k = v}])\nlogging { level = \"de",
        "\u{feff}ŝ \"٣\" {\n",
    ];
    for text in samples {
        let mut analysis = Analysis::new(Options::default());
        analysis.set_files(vec![("a.alloy".into(), text.to_string())]);
        let snap = analysis.snapshot();
        for offset in 0..=text.len() as u32 + 2 {
            let _ = snap.hover("a.alloy", offset);
            let _ = snap.completions("a.alloy", offset);
            let _ = snap.definition("a.alloy", offset);
            let _ = snap.references("a.alloy", offset, true);
            let _ = snap.rename("a.alloy", offset, "z");
            let _ = snap.code_actions("a.alloy", Span::at(offset));
        }
        let _ = (snap.document_symbols("a.alloy"), snap.folding_ranges("a.alloy"), snap.semantic_tokens("a.alloy"), snap.workspace_symbols(""));
    }
}
