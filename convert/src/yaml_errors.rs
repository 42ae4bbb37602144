//! YAML syntax errors in go-yaml v2's words (the library upstream's Prometheus and Promtail
//! loaders use): yaml-rust2 finds the same problems as libyaml, which go-yaml ports, but words
//! some of them differently and is stricter about indentation inside flow collections and
//! quoted scalars. Each of its problems is mapped to libyaml's text and kind, and the line is
//! chosen as go-yaml v2 chooses it: a scanner error names the (1-based) line where it was found,
//! a parser error the 0-based line of the offending token (so the line before), and an error
//! on the first line names none.

/// libyaml's error kinds, which decide the line go-yaml v2 prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Scanner,
    Parser,
    /// Found by go-yaml's own node builder: no line at all.
    Builder,
}

/// `yaml: [line N: ]problem` for yaml-rust2's `problem` found at 1-based `line`, character
/// `index` of `chars` (the whole source).
pub(crate) fn go_yaml_v2(chars: &[char], index: usize, line: usize, problem: &str) -> String {
    let index = index.min(chars.len());
    let (kind, text, line) = classify(chars, index, line, problem);
    let shown = match kind {
        Kind::Scanner if line > 1 => Some(line),
        Kind::Parser if line > 1 => Some(line - 1),
        _ => None,
    };
    match shown {
        Some(n) => format!("yaml: line {n}: {text}"),
        None => format!("yaml: {text}"),
    }
}

/// The kind, libyaml's text, and the 1-based line libyaml's mark is on.
fn classify(chars: &[char], index: usize, line: usize, problem: &str) -> (Kind, String, usize) {
    use Kind::*;
    // What libyaml expects where yaml-rust2 found a misplaced token: inside a flow collection
    // a separator or the closing bracket (or a node right after a separator), else a key.
    let misplaced = || match open_flow(chars, index) {
        None => "did not find expected key",
        Some(_) if previous_significant(chars, index).is_some_and(|c| matches!(c, ',' | '[' | '{' | ':')) => "did not find expected node content",
        Some('[') => "did not find expected ',' or ']'",
        Some(_) => "did not find expected ',' or '}'",
    };
    match problem {
        "mapping values are not allowed in this context"
        | "mapping keys are not allowed in this context"
        | "block sequence entries are not allowed in this context"
        | "found unexpected document indicator"
        | "found unknown escape character" => (Scanner, problem.into(), line),
        "simple key expect ':'" => (Scanner, "could not find expected ':'".into(), line),
        // libyaml reads an unclosed quoted scalar to the end of the input, whatever the
        // indentation of its lines, and reports the line the input ends on.
        "found unexpected end of stream" | "invalid indentation in quoted scalar" => {
            let eof_line = chars.iter().filter(|c| **c == '\n').count() + 1;
            (Scanner, "found unexpected end of stream".into(), eof_line)
        }
        // The tab is at the start of the line after the plain scalar's.
        "found a tab" => (Scanner, "found a tab character that violates indentation".into(), line + 1),
        // yaml-rust2 says so inside a single-pair mapping of a flow sequence too (`[a: b: c]`),
        // where libyaml expects the sequence's separator.
        "did not find expected ',' or '}'" if open_flow(chars, index) == Some('[') => (Parser, "did not find expected ',' or ']'".into(), line),
        "did not find expected key"
        | "did not find expected ',' or '}'"
        | "did not find expected '-' indicator"
        | "did not find expected node content"
        | "did not find expected <document start>" => (Parser, problem.into(), line),
        "expected ',' or ']'" => (Parser, "did not find expected ',' or ']'".into(), line),
        "found unknown anchor" => (Builder, format!("unknown anchor '{}' referenced", alias_name(chars, index)), line),
        p if p.starts_with("tab") || p.starts_with("unexpected character") => (Scanner, "found character that cannot start any token".into(), line),
        p if p.ends_with("is only valid inside a block")
            || p.starts_with("invalid indentation")
            || p == "illegal placement of ':' indicator"
            || p == "invalid trailing content after double-quoted scalar" =>
        {
            (Parser, misplaced().into(), line)
        }
        _ => (Scanner, problem.into(), line),
    }
}

/// The bracket of the innermost flow collection open at `index` (`[` or `{`), if any. Quoted
/// scalars and comments are skipped; a bracket opens a collection only where a token starts.
fn open_flow(chars: &[char], index: usize) -> Option<char> {
    let mut stack = Vec::new();
    let mut i = 0;
    let mut token_start = true;
    while i < index {
        let c = chars[i];
        match c {
            '"' | '\'' => {
                i += 1;
                while i < index && chars[i] != c {
                    if c == '"' && chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                token_start = false;
            }
            '#' if i == 0 || chars[i - 1].is_whitespace() => {
                while i < index && chars[i] != '\n' {
                    i += 1;
                }
                token_start = true;
                continue;
            }
            '[' | '{' if token_start || !stack.is_empty() => {
                stack.push(c);
                token_start = true;
            }
            ']' | '}' if !stack.is_empty() => {
                stack.pop();
                token_start = false;
            }
            ',' | ':' | '-' | '\n' => token_start = true,
            c if c.is_whitespace() => {}
            _ => token_start = false,
        }
        i += 1;
    }
    stack.pop()
}

/// The last character before `index` that is not whitespace.
fn previous_significant(chars: &[char], index: usize) -> Option<char> {
    chars[..index].iter().rev().copied().find(|c| !c.is_whitespace())
}

/// The anchor name of the alias at `index` (`*name`).
fn alias_name(chars: &[char], index: usize) -> String {
    let start = if chars.get(index) == Some(&'*') { index + 1 } else { index };
    chars[start.min(chars.len())..].iter().take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}')).collect()
}
