//! Every example in grammar/alloy.ebnf parses without a diagnostic.

#[test]
fn grammar_examples_parse_cleanly() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../grammar/alloy.ebnf");
    let text = std::fs::read_to_string(path).expect("grammar/alloy.ebnf is part of the repository");
    let mut examples = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (line, current.as_mut()) {
            ("example:", None) => current = Some(String::new()),
            ("end", Some(_)) => examples.extend(current.take()),
            (_, Some(buf)) => {
                buf.push_str(line);
                buf.push('\n');
            }
            _ => {}
        }
    }
    assert!(examples.len() >= 5, "found only {} examples", examples.len());
    for example in examples {
        let parsed = syntax::parse_file(example.as_bytes());
        assert!(parsed.diagnostics.is_empty(), "example:\n{example}\ndiagnostics: {:?}", parsed.diagnostics);
    }
}
