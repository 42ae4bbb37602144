//! The syntax suites: formatter goldens, parse-error goldens and the parser's annotated files.

use std::path::Path;

use regex::Regex;
use syntax::lexer::lex;
use syntax::token::TokenKind;
use syntax::{diagnostics, parse_file, Diagnostic};

use crate::harness::{files_with_suffix, first_difference, guarded, stem, CaseResult};

/// How the expected output of a formatter golden relates to the printer's output.
#[derive(Clone, Copy)]
enum Golden {
    /// Raw printer output (no trailing newline).
    Printer,
    /// Raw printer output against an expected file whose trailing whitespace is not part of
    /// the expectation (upstream's harness for `printer/` strips it; the files end variously).
    PrinterTrimmed,
    /// What `alloy fmt` writes: printer output plus one newline.
    FmtStdout,
}

/// How a `.error` file states the expected diagnostics.
#[derive(Clone, Copy)]
enum ErrorGolden {
    /// The combined error string (`pos: message (and N more diagnostics)`) contains the text.
    Contains,
    /// One `LINE:COL: message` line per diagnostic, in order.
    Lines,
}

pub fn printer(dir: &Path) -> Vec<CaseResult> {
    formatter_suite(dir, Golden::PrinterTrimmed, ErrorGolden::Contains)
}

pub fn printer_extra(dir: &Path) -> Vec<CaseResult> {
    formatter_suite(dir, Golden::Printer, ErrorGolden::Contains)
}

pub fn fmt_corpus(dir: &Path) -> Vec<CaseResult> {
    formatter_suite(dir, Golden::FmtStdout, ErrorGolden::Lines)
}

pub fn docs_snippets(dir: &Path) -> Vec<CaseResult> {
    formatter_suite(dir, Golden::FmtStdout, ErrorGolden::Lines)
}

fn formatter_suite(dir: &Path, golden: Golden, errors: ErrorGolden) -> Vec<CaseResult> {
    files_with_suffix(dir, ".in")
        .into_iter()
        .map(|input| {
            let name = stem(&input, ".in");
            let expect = dir.join(format!("{name}.expect"));
            let error = dir.join(format!("{name}.error"));
            let outcome = guarded(move || {
                let src = std::fs::read(&input).map_err(|e| e.to_string())?;
                if error.exists() {
                    let want = std::fs::read_to_string(&error).map_err(|e| e.to_string())?;
                    check_errors(&src, &want.replace("\r\n", "\n"), errors)
                } else {
                    let want = std::fs::read_to_string(&expect).map_err(|e| e.to_string())?;
                    check_format(&src, &want, golden)
                }
            });
            CaseResult::new(name, outcome)
        })
        .collect()
}

fn check_format(src: &[u8], want: &str, golden: Golden) -> Result<(), String> {
    let parsed = syntax::parse_tree(src);
    if let Some(d) = parsed.diagnostics.iter().find(|d| d.is_error()) {
        return Err(format!("unexpected parse error: {}: {}", parsed.lines.line_col(d.span.start), d.message));
    }
    let mut got = syntax::format::format_file(&parsed.tree, &parsed.lines);
    let want = match golden {
        Golden::Printer => want,
        Golden::PrinterTrimmed => want.trim_end(),
        Golden::FmtStdout => {
            got.push('\n');
            want
        }
    };
    if got == want {
        Ok(())
    } else {
        Err(first_difference(want, &got))
    }
}

fn check_errors(src: &[u8], want: &str, errors: ErrorGolden) -> Result<(), String> {
    let parsed = parse_file(src);
    let owned: Vec<Diagnostic> = parsed.diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
    if owned.is_empty() {
        return Err("expected a parse error, got none".into());
    }
    match errors {
        ErrorGolden::Contains => {
            let first = &owned[0];
            let mut combined = format!("{}: {}", parsed.lines.line_col(first.span.start), first.message);
            if owned.len() > 1 {
                combined.push_str(&format!(" (and {} more diagnostics)", owned.len() - 1));
            }
            if combined.contains(want.trim_end()) {
                Ok(())
            } else {
                Err(format!("error {combined:?} does not contain {:?}", want.trim_end()))
            }
        }
        ErrorGolden::Lines => {
            let got = diagnostics::render_short("", &parsed.lines, &owned);
            if got.trim_end() == want.trim_end() {
                Ok(())
            } else {
                Err(first_difference(want.trim_end(), got.trim_end()))
            }
        }
    }
}

/// `valid/` files parse cleanly; annotated files report exactly the annotated errors;
/// fuzz corpus entries parse without a crash.
pub fn parser(dir: &Path) -> Vec<CaseResult> {
    let mut results = Vec::new();
    for path in files_with_suffix(&dir.join("valid"), ".alloy") {
        let name = format!("valid/{}", stem(&path, ""));
        results.push(CaseResult::new(
            name,
            guarded(move || {
                let src = std::fs::read(&path).map_err(|e| e.to_string())?;
                let parsed = parse_file(&src);
                match parsed.diagnostics.first() {
                    None => Ok(()),
                    Some(d) => Err(format!("{}: {}", parsed.lines.line_col(d.span.start), d.message)),
                }
            }),
        ));
    }
    for path in files_with_suffix(dir, ".alloy") {
        let name = stem(&path, "");
        results.push(CaseResult::new(
            name,
            guarded(move || {
                let src = std::fs::read(&path).map_err(|e| e.to_string())?;
                check_annotations(&src)
            }),
        ));
    }
    for path in files_with_suffix(&dir.join("fuzz/FuzzParser"), "") {
        let name = format!("fuzz/{}", stem(&path, ""));
        results.push(CaseResult::new(
            name,
            guarded(move || {
                let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
                let input = go_fuzz_input(&text).ok_or("unreadable fuzz entry")?;
                let parsed = syntax::parse_tree(&input);
                if !parsed.has_errors() {
                    syntax::format::format_file(&parsed.tree, &parsed.lines);
                }
                Ok(())
            }),
        ));
    }
    results
}

/// Compares diagnostics with `/* ERROR "regexp" */` annotations.
fn check_annotations(src: &[u8]) -> Result<(), String> {
    let annotation = Regex::new(r#"^/\* *ERROR *(HERE)? *"([^"]*)" *\*/$"#).map_err(|e| e.to_string())?;
    let lexed = lex(src);
    let mut expected: std::collections::BTreeMap<u32, Regex> = std::collections::BTreeMap::new();
    for comment in &lexed.comments {
        let Some(caps) = annotation.captures(&comment.text) else { continue };
        // The most recent token before the comment that is neither a comment nor a terminator.
        let prev = lexed
            .tokens
            .iter()
            .take_while(|t| t.span.start < comment.span.start)
            .filter(|t| t.kind != TokenKind::Terminator)
            .last()
            .ok_or("annotation before any token")?;
        let offset = if caps.get(1).is_some() {
            let len = match prev.kind {
                TokenKind::Ident | TokenKind::Number | TokenKind::Float | TokenKind::String => prev.span.len(),
                other => other.name().len() as u32,
            };
            prev.span.start + len
        } else {
            prev.span.start
        };
        let re = go_regex(&caps[2])?;
        expected.insert(offset, re);
    }
    let parsed = parse_file(src);
    for d in &parsed.diagnostics {
        let pos = parsed.lines.line_col(d.span.start);
        match expected.remove(&d.span.start) {
            Some(re) if re.is_match(&d.message) => {}
            Some(re) => return Err(format!("{pos}: {:?} does not match {:?}", d.message, re.as_str())),
            None => return Err(format!("{pos}: unexpected error {:?}", d.message)),
        }
    }
    match expected.into_iter().next() {
        None => Ok(()),
        Some((offset, re)) => Err(format!("{}: missing error {:?}", parsed.lines.line_col(offset), re.as_str())),
    }
}

/// Compiles an RE2 pattern; Go treats a `{` that starts no repetition as a literal brace.
fn go_regex(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).or_else(|_| {
        let repetition = Regex::new(r"^\{\d+(,\d*)?\}").map_err(|e| e.to_string())?;
        let mut escaped = String::new();
        let mut rest = pattern;
        while let Some(c) = rest.chars().next() {
            if c == '\\' {
                let len = rest.chars().take(2).map(char::len_utf8).sum();
                escaped.push_str(&rest[..len]);
                rest = &rest[len..];
                continue;
            }
            if let Some(m) = repetition.find(rest).filter(|_| c == '{') {
                escaped.push_str(m.as_str());
                rest = &rest[m.end()..];
                continue;
            }
            if c == '{' || c == '}' {
                escaped.push('\\');
            }
            escaped.push(c);
            rest = &rest[c.len_utf8()..];
        }
        Regex::new(&escaped).map_err(|e| e.to_string())
    })
}

/// The input of a Go fuzz corpus file: `go test fuzz v1` then `[]byte("…")`.
fn go_fuzz_input(text: &str) -> Option<Vec<u8>> {
    let line = text.lines().nth(1)?.trim();
    let quoted = line.strip_prefix("[]byte(")?.strip_suffix(')')?;
    go_unquote(quoted)
}

/// Unquotes a Go interpreted string literal into bytes.
fn go_unquote(quoted: &str) -> Option<Vec<u8>> {
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let e = chars.next()?;
        let simple = match e {
            'a' => Some(7u8),
            'b' => Some(8),
            'f' => Some(12),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'v' => Some(11),
            '\\' => Some(b'\\'),
            '"' => Some(b'"'),
            '\'' => Some(b'\''),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            continue;
        }
        let (digits, radix) = match e {
            'x' => (2, 16),
            'u' => (4, 16),
            'U' => (8, 16),
            '0'..='7' => (2, 8),
            _ => return None,
        };
        let mut s = String::new();
        if radix == 8 {
            s.push(e);
        }
        for _ in 0..digits {
            s.push(chars.next()?);
        }
        let v = u32::from_str_radix(&s, radix).ok()?;
        if e == 'u' || e == 'U' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(char::from_u32(v)?.encode_utf8(&mut buf).as_bytes());
        } else {
            out.push(v as u8);
        }
    }
    Some(out)
}
