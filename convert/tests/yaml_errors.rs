//! YAML syntax errors read as go-yaml v2 (upstream's Prometheus and Promtail loaders) reports
//! them: libyaml's wording, and its line: a scanner error names the line it was found on, a
//! parser error the line before the offending token, and a problem on the first line no line.

use convert::{convert, Severity};

/// (input, go-yaml v2's message).
const CASES: &[(&str, &str)] = &[
    // Parser errors: the line before the token that does not fit.
    ("a:\n  b: 1\n c: 2\n", "yaml: line 2: did not find expected key"),
    ("a:\n  - b\n - c\n", "yaml: line 2: did not find expected key"),
    ("a: 1\n- b\n", "yaml: line 1: did not find expected key"),
    ("a: \"x\" y\n", "yaml: did not find expected key"),
    ("x: 1\na: 'it''s' y\n", "yaml: line 1: did not find expected key"),
    ("a:\n  - b: 1\n   c: 2\n", "yaml: line 2: did not find expected '-' indicator"),
    ("- a\nb: 1\n", "yaml: line 1: did not find expected '-' indicator"),
    ("a: 1\nb: }\n", "yaml: line 1: did not find expected node content"),
    ("a: [1,\n  - 2]\n", "yaml: line 1: did not find expected node content"),
    // Unclosed flow collections: the line before the token found instead of `,` or the bracket.
    ("a:\n  b: [\"x\", \"y\"\n  c: 1\n", "yaml: line 2: did not find expected ',' or ']'"),
    ("a: [1, 2\n", "yaml: line 1: did not find expected ',' or ']'"),
    ("a: [b, c}\n", "yaml: did not find expected ',' or ']'"),
    ("x: 1\na: [b: c: d]\n", "yaml: line 1: did not find expected ',' or ']'"),
    ("a: {b: 1\nc: 2\n", "yaml: line 1: did not find expected ',' or '}'"),
    ("a: {b: 1 c: 2}\n", "yaml: did not find expected ',' or '}'"),
    (
        "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: [\"localhost:9090\"\n  - job_name: b\n",
        "yaml: line 4: did not find expected ',' or ']'",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [__name__\n        regex: x\n",
        "yaml: line 4: did not find expected ',' or ']'",
    ),
    // Scanner errors: the line they are found on.
    ("a: b: c\n", "yaml: mapping values are not allowed in this context"),
    ("a: 1\nb: c: d\n", "yaml: line 2: mapping values are not allowed in this context"),
    ("key: value\n  bad: 1\n", "yaml: line 2: mapping values are not allowed in this context"),
    ("a:\n\tb: 1\n", "yaml: line 2: found character that cannot start any token"),
    ("a: 1\nb: @x\n", "yaml: line 2: found character that cannot start any token"),
    ("a: 1\nb: `x\n", "yaml: line 2: found character that cannot start any token"),
    ("a: 1\nb: %x\n", "yaml: line 2: found character that cannot start any token"),
    ("a: 1\nb\nc: 2\n", "yaml: line 3: could not find expected ':'"),
    ("a:\n  b: 1\n  c\n  d: 2\n", "yaml: line 4: could not find expected ':'"),
    ("a: 1\n\tb: 2\n", "yaml: line 2: found a tab character that violates indentation"),
    // Unclosed quotes: read to the end of the input, whose line is named.
    ("a: \"abc\nb: 1\n", "yaml: line 3: found unexpected end of stream"),
    ("a: 'abc\nb: 1\n", "yaml: line 3: found unexpected end of stream"),
    ("a:\n  - \"x\n  - y\n", "yaml: line 4: found unexpected end of stream"),
    ("a: \"abc", "yaml: found unexpected end of stream"),
    // go-yaml's own node builder: no line.
    ("x: 1\ny: *nope\n", "yaml: unknown anchor 'nope' referenced"),
];

fn critical(input: &str, format: &str) -> (String, Option<(u32, u32)>) {
    let c = convert(input.as_bytes(), format, &[]);
    assert!(c.output.is_none(), "{input:?} converted");
    let d = c.diagnostics.iter().find(|d| d.severity == Severity::Critical).unwrap_or_else(|| panic!("{input:?}: no Critical"));
    (d.summary.clone(), d.at)
}

#[test]
fn syntax_errors_read_as_go_yaml_v2() {
    let mut wrong = Vec::new();
    for (input, expected) in CASES {
        let (got, at) = critical(input, "prometheus");
        if got != format!("failed to parse Prometheus config: {expected}") {
            wrong.push(format!("{input:?}\n  expected {expected}\n  got      {got}"));
        }
        // Where we found it goes alongside upstream's text.
        assert!(at.is_some_and(|(line, col)| line >= 1 && col >= 1), "{input:?}: {at:?}");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn promtail_reports_the_same_text() {
    let (got, _) = critical("clients:\n  - url: [x\n    batchwait: 1s\n", "promtail");
    assert_eq!(got, "failed to parse Promtail config: yaml: line 2: did not find expected ',' or ']'");
}

/// go-yaml's strict decoding (Prometheus' and Promtail's loaders) refuses repeated fields and
/// map keys, at each repeat.
#[test]
fn repeated_fields_and_keys_are_refused() {
    let (got, _) = critical("global:\n  scrape_interval: 1m\n  external_labels:\n    a: x\n    a: y\n  scrape_interval: 2m\n", "prometheus");
    assert_eq!(
        got,
        "failed to parse Prometheus config: yaml: unmarshal errors:\n  line 5: key \"a\" already set in map\n  line 6: field scrape_interval already set in type config.plain"
    );
}
