use std::collections::HashMap;

use super::*;
use crate::otelcol::collector::print::to_yaml;

/// Resolves `configs` and `sets` against an environment and a set of files held in memory.
fn resolve_with(configs: &[&str], sets: &[&str], env: &[(&str, &str)], files: &[(&str, &str)]) -> Result<Resolved, ConfigError> {
    resolve_failing(configs, sets, env, files).map_err(|f| f.error)
}

fn resolve_failing(configs: &[&str], sets: &[&str], env: &[(&str, &str)], files: &[(&str, &str)]) -> Result<Resolved, Failed> {
    let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let files: HashMap<String, String> = files.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let env_fn = move |name: &str| env.get(name).cloned();
    let read_fn = move |path: &str| files.get(path).map(|t| t.clone().into_bytes()).ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound));
    let host = Host { env: &env_fn, read_file: &read_fn };
    let configs: Vec<String> = configs.iter().map(|s| s.to_string()).collect();
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    resolve(&configs, &sets, &host)
}

fn yaml_of(configs: &[&str], sets: &[&str], env: &[(&str, &str)], files: &[(&str, &str)]) -> String {
    match resolve_with(configs, sets, env, files) {
        Ok(r) => to_yaml(&r.root, false),
        Err(e) => panic!("resolve failed: {e}"),
    }
}

#[test]
fn configs_merge_in_order_maps_deeply_lists_replaced() {
    let a = "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: a:1\n      http: {}\nservice:\n  extensions: [x, y]\n";
    let b = "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: b:2\nservice:\n  extensions: [z]\n";
    let out = yaml_of(&["a.yaml", "file:b.yaml"], &[], &[], &[("a.yaml", a), ("b.yaml", b)]);
    assert_eq!(out, "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: \"b:2\"\n      http: {}\nservice:\n  extensions:\n    - z\n");
}

#[test]
fn env_and_yaml_uris_and_set_values() {
    let out = yaml_of(
        &["env:CFG", "yaml:processors::batch::timeout: 2s"],
        &["processors::batch::send_batch_size=10", "exporters::debug::verbosity=basic"],
        &[("CFG", "processors:\n  batch:\n    timeout: 1s\n")],
        &[],
    );
    assert_eq!(out, "processors:\n  batch:\n    timeout: 2s\n    send_batch_size: 10\nexporters:\n  debug:\n    verbosity: basic\n");
}

#[test]
fn references_expand_with_types_defaults_escapes_and_files() {
    let src = "a: ${env:PORT}\nb: http://${HOST}:${env:PORT}/x\nc: ${env:MISSING:-fallback value}\nd: pa$$word\ne: $${env:PORT}\nf: ${file:secret.txt}\ng: ${env:LIST}\nh: $PORT\ni: ${env:EMPTY:-d}\nj: ${env:NESTED}\n";
    let env = [("PORT", "4317"), ("HOST", "127.0.0.1"), ("LIST", "[a, b]"), ("EMPTY", ""), ("NESTED", "${env:HOST}")];
    let out = yaml_of(&["c.yaml"], &[], &env, &[("c.yaml", src), ("secret.txt", "s3cr3t\n")]);
    let expected = "a: 4317\nb: \"http://127.0.0.1:4317/x\"\nc: fallback value\nd: pa$word\ne: \"${env:PORT}\"\nf: s3cr3t\ng:\n  - a\n  - b\nh: $PORT\ni: ~\nj: 127.0.0.1\n";
    assert_eq!(out, expected, "a whole reference keeps its type; embedded ones make strings; a default applies only when unset");
}

#[test]
fn unset_variables_warn_at_their_reference() {
    let r = resolve_with(&["c.yaml"], &[], &[], &[("c.yaml", "x:\n  k: ${env:NOPE}\n")]).expect("resolves");
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.warnings[0].render(&r.sources), "c.yaml:2:6: configuration references unset environment variable \"NOPE\"");
    assert_eq!(to_yaml(&r.root, false), "x:\n  k: ~\n");
}

#[test]
fn errors_say_what_and_where() {
    let err = |configs: &[&str], sets: &[&str], files: &[(&str, &str)]| match resolve_with(configs, sets, &[], files) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    };
    let rendered = |configs: &[&str], files: &[(&str, &str)]| {
        let f = resolve_failing(configs, &[], &[], files).expect_err("an error");
        f.error.render(&f.sources)
    };
    assert_eq!(err(&[], &[], &[]), "at least one config flag must be provided");
    assert!(err(&["nope.yaml"], &[], &[]).starts_with("cannot retrieve the configuration: unable to read the file nope.yaml: "));
    assert_eq!(err(&["s3:bucket/x"], &[], &[]), "unsupported scheme on URI \"s3:bucket/x\"");
    assert_eq!(err(&["c.yaml"], &["novalue"], &[("c.yaml", "a: 1\n")]), "missing equal sign for set value \"novalue\"");
    assert_eq!(rendered(&["c.yaml"], &[("c.yaml", "a:\n  b: ${vault:x}\n")]), "c.yaml:2:6: scheme \"vault\" is not supported for uri \"vault:x\"");
    assert_eq!(
        rendered(&["c.yaml"], &[("c.yaml", "a: ${env:1BAD}\n")]),
        "c.yaml:1:4: environment variable \"1BAD\" has invalid name: must match regex ^[a-zA-Z_][a-zA-Z0-9_]*$"
    );
    assert_eq!(rendered(&["c.yaml"], &[("c.yaml", "a: [1, 2\n")]).split(": ").next(), Some("c.yaml:2:1"), "a syntax error is placed");
    assert_eq!(
        rendered(&["c.yaml"], &[("c.yaml", "- 1\n")]),
        "c.yaml:1:1: cannot retrieve the configuration: retrieved value (type=!!seq) cannot be used as a Conf"
    );
}

#[test]
fn self_referencing_variables_stop() {
    let e = resolve_with(&["c.yaml"], &[], &[("LOOP", "x${env:LOOP}")], &[("c.yaml", "a: ${env:LOOP}\n")]).expect_err("an error");
    assert!(e.message.starts_with("too many recursive expansions"), "{e}");
}

#[test]
fn positions_follow_each_source() {
    let r = resolve_with(&["a.yaml", "b.yaml"], &[], &[], &[("a.yaml", "x: 1\n"), ("b.yaml", "\n\ny: 2\n")]).expect("resolves");
    let y = r.root.get("y").expect("y is there");
    assert_eq!((r.sources[usize::from(y.source)].name.as_str(), y.line, y.col), ("b.yaml", 3, 4));
}
