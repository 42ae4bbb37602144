//! Diagnostics for broken YAML, unknown and unsupported fields, upstream's crash cases, and a
//! no-panic sweep over truncated and mutated inputs. Fixtures live in `fixtures/convert/`.

use std::path::PathBuf;

use convert::{convert, Severity};

fn fixture(path: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/convert").join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn non_info(c: &convert::Conversion) -> String {
    c.diagnostics.iter().filter(|d| d.severity != Severity::Info).map(|d| format!("{d}\n")).collect()
}

#[test]
fn broken_yaml_names_the_line_as_go_yaml_and_the_position_alongside() {
    let c = convert(&fixture("prometheus/broken_yaml.yaml"), "prometheus", &[]);
    assert!(c.output.is_none());
    assert_eq!(non_info(&c), "(Critical) failed to parse Prometheus config: yaml: line 7: did not find expected ',' or ']'\n");
    assert_eq!(c.diagnostics.len(), 1);
    // The token that does not fit, the next job's `-`.
    assert_eq!(c.diagnostics.0[0].at, Some((8, 3)));
}

#[test]
fn unknown_fields_name_their_lines() {
    let c = convert(&fixture("prometheus/unknown_field.yaml"), "prometheus", &[]);
    assert!(c.output.is_none());
    assert_eq!(
        non_info(&c),
        "(Critical) failed to parse Prometheus config: yaml: unmarshal errors:\n  line 4: field not_a_thing not found in type config.plain\n  line 8: field scrape_intervall not found in type config.plain\n"
    );
}

#[test]
fn keyword_job_name_is_critical_not_a_panic() {
    let c = convert(&fixture("prometheus/keyword_job.yaml"), "prometheus", &[]);
    assert!(c.output.is_none());
    let text = non_info(&c);
    assert!(text.starts_with("(Critical) failed to convert scrape config: the job_name \"true\" is an Alloy keyword"), "{text}");
}

#[test]
fn unsupported_features_are_errors_with_output() {
    let c = convert(&fixture("prometheus/unsupported.yaml"), "prometheus", &[]);
    assert_eq!(
        non_info(&c),
        "(Error) The converter does not support converting the provided global evaluation_interval config.\n\
         (Error) The converter does not support converting the provided rule_files config.\n\
         (Error) The converter does not support converting the provided scrape_configs keep_dropped_targets config.\n\
         (Error) The converter does not support converting the provided nomad service discovery.\n\
         (Error) The converter does not support converting the provided remote_read config.\n"
    );
    let expected = String::from_utf8(fixture("prometheus/unsupported.alloy")).unwrap_or_default();
    assert_eq!(c.output.as_deref(), Some(expected.as_str()));
    assert!(c.diagnostics.is_failure(false));
    assert!(!c.diagnostics.is_failure(true));
}

#[test]
fn sanitised_label_collisions_are_critical() {
    let c = convert(&fixture("prometheus/duplicate_labels.yaml"), "prometheus", &[]);
    assert_eq!(
        non_info(&c),
        "(Critical) duplicate label after conversion \"prometheus.scrape.a_b\". this is due to how valid Alloy labels are assembled and can be avoided by updating named properties in the source config.\n"
    );
}

#[test]
fn report_of_a_successful_conversion_lists_infos() {
    let c = convert(
        b"scrape_configs:\n  - job_name: x\n    static_configs:\n      - targets: [a:1]\nremote_write:\n  - url: http://r\n    name: r1\n",
        "prometheus",
        &[],
    );
    assert_eq!(
        c.diagnostics.report(false),
        "(Info) Converted scrape_configs job_name \"x\" into...\n\tA prometheus.scrape.x component\n(Info) Converted 1 remote_write[s] \"r1\" into...\n\tA prometheus.remote_write.default component\n\nA configuration file was generated successfully."
    );
}

#[test]
fn empty_input_gives_no_output_and_no_diagnostics() {
    let c = convert(b"", "prometheus", &[]);
    assert!(c.output.is_none());
    assert!(c.diagnostics.is_empty());
}

#[test]
fn no_input_panics() {
    let seeds: Vec<Vec<u8>> =
        ["prometheus/unsupported.yaml", "prometheus/broken_yaml.yaml", "prometheus/keyword_job.yaml"].iter().map(|p| fixture(p)).collect();
    for seed in &seeds {
        for cut in 0..seed.len() {
            for kind in ["prometheus", "promtail", "otelcol"] {
                let _ = convert(&seed[..cut], kind, &[]);
            }
        }
        // Replace each byte by characters YAML cares about.
        for i in 0..seed.len() {
            for b in [b':', b'-', b'[', b'{', b'"', b' ', b'\n', b'&', b'*'] {
                let mut m = seed.clone();
                m[i] = b;
                let _ = convert(&m, "prometheus", &[]);
            }
        }
    }
}

#[test]
fn http_headers_are_reported_not_dropped() {
    let src = b"scrape_configs:\n  - job_name: x\n    http_headers:\n      X-Scope-OrgID:\n        values: [a]\n    static_configs:\n      - targets: [a:1]\nremote_write:\n  - url: http://r\n    http_headers:\n      X-Token:\n        secrets: [s]\n";
    let c = convert(src, "prometheus", &[]);
    assert_eq!(
        non_info(&c),
        "(Error) The converter does not support converting the provided HTTP Client http_headers config.\n\
         (Error) The converter does not support converting the provided HTTP Client http_headers config.\n"
    );
    let c = convert(b"clients:\n  - url: http://loki\n    http_headers:\n      X-A:\n        values: [b]\ntracing: {enabled: false}\nserver: {register_instrumentation: false}\n", "promtail", &[]);
    assert_eq!(non_info(&c), "(Error) The converter does not support converting the provided HTTP Client http_headers config.\n");
    assert!(c.output.is_some_and(|o| !o.contains("X-A")));
}

#[test]
fn aliases_of_mappings_and_sequences_and_merge_keys_resolve() {
    let c = convert(&fixture("prometheus/aliases.yaml"), "prometheus", &[]);
    let out = c.output.as_deref().unwrap_or_default();
    assert_eq!(non_info(&c), "", "{out}");
    // Every job has both targets and the credentials, including those given by alias only.
    assert_eq!(out.matches("__address__ = \"a:9100\"").count(), 3, "{out}");
    assert_eq!(out.matches("password = \"secret\"").count(), 3, "{out}");
    // The merged job keeps the base's interval and its own name.
    assert!(out.contains("prometheus.scrape \"three\""), "{out}");
    assert_eq!(out.matches("scrape_interval = \"30s\"").count(), 2, "{out}");
}

/// Nested anchors each repeated ten times: 10⁹ nodes once expanded, from a few hundred bytes.
fn billion_laughs(prefix: &str) -> Vec<u8> {
    let mut s = format!("{prefix}\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        s.push_str(&format!("x{i}: &a{i} [{refs}]\n"));
    }
    s.into_bytes()
}

#[test]
fn excessive_aliasing_is_refused_with_its_position() {
    for format in ["prometheus", "promtail", "otelcol"] {
        let c = convert(&billion_laughs("# laughs"), format, &[]);
        assert!(c.output.is_none(), "{format}");
        let text = non_info(&c);
        if format == "otelcol" {
            assert!(text.contains("yaml: line 5: column 10: document contains excessive aliasing"), "{format}: {text}");
        } else {
            // go-yaml v2 names no line for it; ours goes alongside.
            assert!(text.contains("config: yaml: document contains excessive aliasing"), "{format}: {text}");
            assert_eq!(c.diagnostics.0[0].at, Some((5, 10)), "{format}");
        }
    }
}
