use std::io::Write as _;

use prom::Labels;

use super::config::{self, Target};
use super::*;
use crate::component::args::{check, evaluated};
use crate::loki::receiver::channel;

// Fake secrets of upstream's tests (internal/component/loki/secretfilter/testhelper), split so
// that scanners of this repository do not flag them.
const GRAFANA: &str =
    concat!("eyJr", "IjoiT0x6NWJuNDRuZkI1NHJ6dEJrR0g3aDVuRnY0NWJuNDRuZkI1NHJ6dEJrR0g3aDVuRnY0NWJuNDRuZkI1NHJ6dEJrR0g3aDVuRnY0NWJuNDRuZkI1NHJ6dEJrR0g3aDVu");
const GCP: &str = concat!("AIza", "SyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe");
const STRIPE: &str = concat!("sk_live_", "51HFxYz2eZvKYlo2C9kKM5nE6qO4yKn8N3bP7hXxYz2eZvKYlo2C");
const NPM: &str = concat!("npm_", "1A2b3C4d5E6f7G8h9I0jK1lM2nO3pQ4rS5tU");
const GENERIC: &str = concat!("Aa1Bb2Cc3Dd4", "Ee5Ff6Gg7Hh8Ii9Jj0Kk");
const AWS: &str = concat!("AKIA", "Z3MSJV4WWNKWW5FG");
const GITHUB: &str = concat!("ghp_", "u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d");
const SLACK: &str = concat!("xoxb-", "1234567890123-1234567890123-", "nV7qR2sT9wX4yZ1aB6cD3eF8");

/// A component with `body` as arguments, forwarding to the returned queue.
fn component(body: &str) -> (Arc<SecretFilter>, tokio::sync::mpsc::Receiver<Entries>) {
    let v = evaluated(&format!("loki.secretfilter \"s\" {{\n  forward_to = []\n{body}\n}}\n")).expect("evaluates");
    let mut args: Args = decode_checked(NAME, &v).expect("valid");
    let (out, rx) = channel("test.out", 8);
    args.forward_to = vec![out];
    (filter(crate::component::detached_context("loki.secretfilter.s"), args).expect("builds"), rx)
}

fn entry(line: &str) -> Entry {
    Entry::new(Labels::new([("job", "test-job"), ("instance", "test-instance")]), 7, line)
}

/// The line after one pass through the component (`None`: dropped).
fn run_line(c: &SecretFilter, line: &str) -> Option<String> {
    c.process(vec![entry(line)]).pop().map(|e| e.line)
}

fn gitleaks_file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().expect("temp file");
    f.write_all(text.as_bytes()).expect("write");
    f
}

fn load_err(text: &str) -> (String, String) {
    let f = gitleaks_file(text);
    let path = f.path().display().to_string();
    let e = config::load_file(&path).expect_err("refused");
    (e.to_string(), path)
}

#[test]
fn the_default_rule_set_loads_completely() {
    let c = config::default_config().unwrap_or_else(|e| panic!("the built-in gitleaks.toml: {e}"));
    assert_eq!(c.title, "gitleaks config");
    assert_eq!(c.rules.len(), 222, "every rule of gitleaks v8.30.1's default config");
    let without_regex: Vec<&str> = c.rules.iter().filter(|r| r.regex.is_none()).map(|r| r.id.as_str()).collect();
    assert_eq!(without_regex, ["pkcs12-file"], "only the path-only rule has no pattern");
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.allowlists.len(), 1);
    let global = &c.allowlists[0];
    assert!(global.regex.is_some() && !global.paths.is_empty() && !global.stopwords.is_empty());
    let generic = c.rules.iter().find(|r| r.id == "generic-api-key").expect("generic-api-key");
    assert_eq!((generic.entropy, generic.allowlists.len()), (3.5, 4));
    assert_eq!(generic.allowlists[1].target, Target::Match);
}

#[test]
fn well_known_secrets_are_redacted_with_their_rule_name() {
    let (c, _rx) = component("  redact_with = \"<$SECRET_NAME>\"");
    let key = concat!("MIIEpAIBAAKCAQEA", "YgCfrL1spNxnyVmihA/2O76UMFxFkM/R5Kjp1vRt+1fjORS/6ilI8ihN5KXSc7Tv");
    let cases = [
        (format!("This is a simple log message with a secret value {GRAFANA} !"), "grafana-api-key"),
        (format!("{{\n\t\"message\": \"a secret value {GCP} !\n}}"), "gcp-api-key"),
        (format!("a secret value {STRIPE} !"), "stripe-access-token"),
        (format!("a secret value {NPM} !"), "npm-access-token"),
        (format!("a secret value token:{GENERIC} !"), "generic-api-key"),
        (format!("level=info aws_access_key_id={AWS} region=eu-west-1"), "aws-access-token"),
        (format!("cloning with {GITHUB} done"), "github-pat"),
        (format!("posting to slack with {SLACK} ok"), "slack-bot-token"),
        (format!("config api_key=\"{GENERIC}\" loaded"), "generic-api-key"),
    ];
    for (line, rule) in &cases {
        let out = run_line(&c, line).expect("forwarded");
        assert!(out.contains(&format!("<{rule}>")), "{rule}: {out}");
        for secret in [GRAFANA, GCP, STRIPE, NPM, GENERIC, AWS, GITHUB, SLACK] {
            assert!(!out.contains(secret), "{rule}: {out}");
        }
    }
    let pem = format!("-----BEGIN RSA PRIVATE KEY-----\n{key}\n-----END RSA PRIVATE KEY-----");
    assert_eq!(run_line(&c, &format!("dump: {pem} end")).as_deref(), Some("dump: <private-key> end"));
    // Two secrets of two rules in one line.
    let out = run_line(&c, &format!("first {GRAFANA} and another {GCP} !")).expect("forwarded");
    assert_eq!(out, "first <grafana-api-key> and another <gcp-api-key> !");
}

#[test]
fn lines_without_secrets_pass_unchanged() {
    let (c, _rx) = component("");
    for line in [
        "{\n\t\"message\": \"This is a simple log message\"\n}",
        "level=info msg=\"request served\" path=/api/v1/users status=200 duration=12ms user=alice",
        "auth ok for user bob, token refreshed",
        r#"{"message": "audit tokenID=550e8400-e29b-41d4-a716-446655440000 resourceID=6ba7b810-9dad-11d1-80b4-00c04fd430c8"}"#,
        "",
        "ünïcödé ⚠ keyword-free line",
    ] {
        assert_eq!(run_line(&c, line).as_deref(), Some(line));
    }
    assert_eq!(c.metrics.redacted.get(), 0);
}

#[test]
fn partial_masks_keep_the_leading_part() {
    // The default: 80 percent redacted, the first 20 percent kept (6.4 → 6 of 32 bytes).
    let (c, _rx) = component("");
    assert_eq!(run_line(&c, &format!("key={GENERIC} end")).as_deref(), Some("key=Aa1Bb2... end"));
    let (c, _rx) = component("  redact_percent = 50");
    assert_eq!(run_line(&c, &format!("key={GENERIC} end")).as_deref(), Some("key=Aa1Bb2Cc3Dd4Ee5F... end"));
    let (c, _rx) = component("  redact_percent = 100");
    assert_eq!(run_line(&c, &format!("key={GENERIC} end")).as_deref(), Some("key=REDACTED end"));
    // Outside 1..=100 the default applies, as upstream does.
    let (c, _rx) = component("  redact_percent = 0");
    assert_eq!(run_line(&c, &format!("key={GENERIC} end")).as_deref(), Some("key=Aa1Bb2... end"));
    let (c, _rx) = component("  redact_percent = 250");
    assert_eq!(run_line(&c, &format!("key={GENERIC} end")).as_deref(), Some("key=Aa1Bb2... end"));
    // gitleaks rounds half to even and cuts bytes (here moved back to a character boundary).
    assert_eq!(mask("0123456789", 75), "01...");
    assert_eq!(mask("0123456789abcd", 75), "0123...");
    assert_eq!(mask("ééééé", 80), "é...");
    assert_eq!(mask("x", 100), "REDACTED");
}

#[test]
fn redact_with_substitutes_the_rule_name_and_the_sha1_of_the_secret() {
    let (c, _rx) = component("  redact_with = \"<ALLOY-REDACTED-SECRET:$SECRET_NAME:$SECRET_HASH>\"");
    let out = run_line(&c, &format!("id {AWS} and again {AWS}")).expect("forwarded");
    let placeholder = "<ALLOY-REDACTED-SECRET:aws-access-token:81764d18957a5443f25bba5a6764ba8f64f35c22>";
    assert_eq!(out, format!("id {placeholder} and again {placeholder}"), "every occurrence is replaced");
}

#[test]
fn allowlisted_values_pass_through() {
    let (c, _rx) = component("");
    // The global allowlist's stopword, and the generic rule's allowlists (stopwords, and the
    // matched text naming a key id).
    let github_stop = "token ghp_abcdefghijklmnopqrstuvwxyz0123456789 here";
    let generic_stop = "password=aaaaaaXq9Zr2Lm5Tv8Kp end";
    let key_id = "key_id=Q7v2Lp9Xz4Kc8Rt3Wm6N end";
    let marked = format!("deploy {GITHUB} # gitleaks:allow");
    for line in [github_stop, generic_stop, key_id, &marked] {
        assert_eq!(run_line(&c, line).as_deref(), Some(line));
    }
    // Below the rule's entropy: not a secret.
    assert_eq!(run_line(&c, "password=aabbaabbaabbaabb x").as_deref(), Some("password=aabbaabbaabbaabb x"));
}

#[test]
fn custom_rules_and_their_allowlists() {
    let f = gitleaks_file(
        r#"
title = "custom"

[[rules]]
id = "internal-token"
regex = '''(?i)itok_([0-9a-z]{16})'''
keywords = ["ITOK_"]

  [[rules.allowlists]]
  regexTarget = "secret"
  regexes = ['''^0{16}$''']

  [[rules.allowlists]]
  regexTarget = "line"
  regexes = ['''(?i)healthcheck''']

  [[rules.allowlists]]
  stopwords = ["DEADBEEF"]

  [[rules.allowlists]]
  condition = "AND"
  paths = ['''.*''']
  regexes = ['''.*''']

[[rules]]
id = "no-keywords"
regex = '''serial=(\d{6})'''
"#,
    );
    let (c, _rx) = component(&format!("  gitleaks_config = {:?}\n  redact_with = \"[$SECRET_NAME]\"", f.path().display().to_string()));
    assert_eq!(c.settings().detector.rules().len(), 2, "only the file's rules: no [extend]");
    assert_eq!(run_line(&c, "got ITOK_a1b2c3d4e5f6a7b8 ok").as_deref(), Some("got ITOK_[internal-token] ok"), "the capture group is the secret");
    assert_eq!(run_line(&c, "got itok_0000000000000000").as_deref(), Some("got itok_0000000000000000"));
    assert_eq!(run_line(&c, "healthcheck itok_a1b2c3d4e5f6a7b8").as_deref(), Some("healthcheck itok_a1b2c3d4e5f6a7b8"));
    assert_eq!(run_line(&c, "itok_a1b2deadbeef7b8c").as_deref(), Some("itok_a1b2deadbeef7b8c"));
    assert_eq!(run_line(&c, "serial=123456").as_deref(), Some("serial=[no-keywords]"), "a rule without keywords runs on every line");
    // The default rules are not loaded without [extend].
    let aws = format!("aws {AWS}");
    assert_eq!(run_line(&c, &aws).as_deref(), Some(aws.as_str()));
}

#[test]
fn a_custom_file_extends_the_default_rules() {
    // Upstream's extend test file: the default rules plus a UUID allowlist on generic-api-key.
    let f = gitleaks_file(
        r#"
title = "gitleakstests extended config"

[extend]
useDefault = true
disabledRules = ["npm-access-token", "no-such-rule"]

[[rules]]
id = "generic-api-key"
  [[rules.allowlists]]
  description = "ignore when extracted secret is a UUID"
  regexTarget = "secret"
  regexes = [
    '''^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$''',
  ]

[[rules]]
id = "secret-internal-token"
description = "Secret internal service token"
regex = '''secret_tok_[0-9a-zA-Z]{32}'''
keywords = ["secret_tok_"]

[[allowlists]]
targetRules = ["aws-access-token"]
regexes = ['''Z3MSJV''']
"#,
    );
    let d = detector_for(&f.path().display().to_string()).expect("loads");
    assert_eq!(d.rules().len(), 222, "222 - npm-access-token + secret-internal-token");
    let ids: Vec<&str> = d.rules().iter().map(|r| r.id.as_str()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "extended rules are sorted by ID");
    let generic = d.rules().iter().find(|r| r.id == "generic-api-key").expect("merged");
    assert_eq!((generic.entropy, generic.allowlists.len()), (3.5, 5), "the base rule keeps its fields and gains the allowlist");
    assert!(d.warnings.iter().any(|w| w.contains("no-such-rule")), "{:?}", d.warnings);

    let (c, _rx) = component(&format!("  gitleaks_config = {:?}\n  redact_with = \"[$SECRET_NAME]\"", f.path().display().to_string()));
    let tok = concat!("secret_tok_", "0123456789abcdefABCDEF0123456789");
    assert_eq!(run_line(&c, &format!("t={tok}")).as_deref(), Some("t=[secret-internal-token]"));
    assert_eq!(run_line(&c, &format!("v {GCP}")).as_deref(), Some("v [gcp-api-key]"), "default rules apply");
    let npm = format!("a secret value {NPM} !");
    assert_eq!(run_line(&c, &npm).as_deref(), Some(npm.as_str()), "disabled");
    let aws = format!("aws {AWS}");
    assert_eq!(run_line(&c, &aws).as_deref(), Some(aws.as_str()), "targetRules allowlist");
    let uuid = "api_key=8f14e45f-ceea-467a-9c2b-1f0a3e4d5c6b end";
    assert_eq!(run_line(&c, uuid).as_deref(), Some(uuid), "UUIDs allowed");
    let (plain, _rx) = component("  redact_with = \"[$SECRET_NAME]\"");
    assert_eq!(run_line(&plain, uuid).as_deref(), Some("api_key=[generic-api-key] end"), "the default config redacts it");
}

#[test]
fn required_rules_report_only_together() {
    let f = gitleaks_file(
        r#"
[[rules]]
id = "db-user"
regex = '''user=(\w+)'''
skipReport = true

[[rules]]
id = "db-pass"
regex = '''pass=(\w+)'''
  [[rules.required]]
  id = "db-user"
  withinLines = 0
"#,
    );
    let (c, _rx) = component(&format!("  gitleaks_config = {:?}\n  redact_with = \"*\"", f.path().display().to_string()));
    assert_eq!(run_line(&c, "user=bob pass=hunter2x").as_deref(), Some("user=bob pass=*"));
    assert_eq!(run_line(&c, "pass=hunter2x").as_deref(), Some("pass=hunter2x"), "no user nearby");
    assert_eq!(run_line(&c, "user=bob\npass=hunter2x").as_deref(), Some("user=bob\npass=hunter2x"), "not on the same line");
}

#[test]
fn keywords_match_case_insensitively_and_multiline_entries_are_scanned() {
    let (c, _rx) = component("  redact_with = \"<$SECRET_NAME>\"");
    assert_eq!(run_line(&c, &format!("ünïcödé {GITHUB}")).as_deref(), Some("ünïcödé <github-pat>"));
    assert_eq!(run_line(&c, &format!("first line\nsecond {AWS}\nthird")).as_deref(), Some("first line\nsecond <aws-access-token>\nthird"));
    let f = gitleaks_file("[[rules]]\nid = \"k\"\nregex = '''kw-[0-9]{4}'''\nkeywords = [\"KW-\"]\n");
    let d = detector_for(&f.path().display().to_string()).expect("loads");
    assert_eq!(d.detect("x Kw-1234", None).findings.len(), 0, "the regex itself is case-sensitive");
    assert_eq!(d.detect("x kw-1234", None).findings.len(), 1, "the keyword matched KW- case-insensitively");
}

#[test]
fn a_generic_finding_gives_way_to_a_specific_rule() {
    let d = detector_for("").expect("default");
    let line = format!("secret={GITHUB}");
    let ids: Vec<&str> = d.detect(&line, None).findings.iter().map(|f| d.rule(f.rule).id.as_str()).collect();
    assert_eq!(ids, ["github-pat"], "generic-api-key matched the same secret and is dropped");
}

#[test]
fn bad_gitleaks_files_are_refused_naming_the_file_line_and_rule() {
    let missing = "/nonexistent/dir/gitleaks.toml";
    let (c, _rx) = component("");
    let e = c.update(evaluated(&format!("loki.secretfilter \"s\" {{\n  forward_to = []\n  gitleaks_config = {missing:?}\n}}\n")).expect("evaluates"));
    let e = e.expect_err("refused").to_string();
    assert!(e.starts_with("failed to create gitleaks detector: read gitleaks config /nonexistent/dir/gitleaks.toml: "), "{e}");

    let (e, path) = load_err("title = \"x\"\n[[rules]]\nid = \"a\"\nregex = '''x'''\nkeywords = [\"a\",\n");
    assert_eq!(e, format!("parse gitleaks config {path}: line 5, column 17: unclosed array, expected `]`"));

    let (e, path) = load_err("[[rules]]\nid = \"ok\"\nregex = '''ok'''\n\n[[rules]]\nid = \"broken\"\nregex = '''(?i)key=([a-z]+'''\n");
    assert_eq!(e, format!("{path}:7: rule broken: regex: error parsing regexp: missing closing ): `(?i)key=([a-z]+`"));

    let (e, path) = load_err("[[rules]]\nid = \"g\"\nregex = '''a(b)'''\nsecretGroup = 2\n");
    assert_eq!(e, format!("{path}:2: rule g: invalid regex secret group 2, max regex secret group 1"));

    let (e, path) = load_err("[[rules]]\nid = \"g\"\nregex = '''a'''\n[[rules.allowlists]]\nregexTarget = \"path\"\nregexes = ['''x''']\n");
    assert_eq!(e, format!("{path}:5: rule g: [[rules.allowlists]] unknown allowlist |regexTarget| 'path' (expected 'match', 'line')"));

    let (e, path) = load_err("[[rules]]\nid = \"g\"\nregex = '''a'''\n[[rules.allowlists]]\ndescription = \"empty\"\n");
    assert_eq!(e, format!("{path}:5: rule g: [[rules.allowlists]] must contain at least one check for: commits, paths, regexes, or stopwords"));

    let (e, path) = load_err("[[rules]]\ndescription = \"no id\"\nregex = '''a'''\n");
    assert_eq!(e, format!("{path}:2: rule |id| is missing or empty, description: no id, regex: a"));

    let (e, path) = load_err("[[rules]]\nid = \"a\"\nentropy = \"high\"\nregex = '''a'''\n");
    assert_eq!(e, format!("{path}:3: rule a: \"entropy\" must be a number"));

    let (e, path) = load_err("[extend]\nuseDefault = true\npath = \"other.toml\"\n");
    assert_eq!(e, format!("{path}: unable to load config due to extend.path and extend.useDefault being set"));

    let (e, path) = load_err("[[rules]]\nid = \"a\"\nregex = '''a'''\n\n[[allowlists]]\ntargetRules = [\"b\"]\nregexes = ['''x''']\n");
    assert_eq!(e, format!("{path}:6: [[allowlists]] target rule ID 'b' does not exist"));

    let (e, path) = load_err("[[rules]]\nid = \"a\"\nregex = '''a'''\n[[rules.required]]\nid = \"b\"\n");
    assert_eq!(e, format!("{path}:2: rule a: [[rules.required]] rule ID 'b' does not exist"));
}

#[test]
fn a_failed_update_keeps_the_previous_rules() {
    let (c, _rx) = component("  redact_with = \"<$SECRET_NAME>\"");
    let bad = evaluated("loki.secretfilter \"s\" {\n  forward_to = []\n  gitleaks_config = \"/nonexistent.toml\"\n}\n").expect("evaluates");
    assert!(c.update(bad).is_err());
    assert_eq!(run_line(&c, &format!("v {GCP}")).as_deref(), Some("v <gcp-api-key>"));
}

#[test]
fn keys_match_case_insensitively_and_unknown_keys_are_reported() {
    let f = gitleaks_file("[[rules]]\nID = \"a\"\nREGEX = '''a(b+)'''\nSecretGroup = 1\nkeywords = \"AB\"\ncolour = \"red\"\n");
    let d = detector_for(&f.path().display().to_string()).expect("loads");
    assert_eq!(d.rules()[0].keywords, ["ab"], "a single string is a list of one, lowercased");
    assert_eq!(d.detect("xabbb", None).findings.iter().map(|f| f.secret).collect::<Vec<_>>(), ["bbb"]);
    assert_eq!(d.warnings.len(), 1);
    assert!(d.warnings[0].ends_with(":6: unknown key \"colour\" in rule a ignored"), "{:?}", d.warnings);
}

#[test]
fn processing_timeout_forwards_drops_or_labels() {
    let line = format!("log line with secret {GRAFANA} end");
    // 1ns: every scan is over its deadline before its first rule.
    let (c, _rx) = component("  processing_timeout = \"1ns\"");
    assert_eq!(run_line(&c, &line).as_deref(), Some(line.as_str()), "forwarded unredacted");
    assert_eq!((c.metrics.timed_out.get(), c.metrics.dropped.get()), (1, 0));

    let (c, _rx) = component("  processing_timeout = \"1ns\"\n  drop_on_timeout = true");
    assert_eq!(run_line(&c, &line), None, "dropped");
    assert_eq!((c.metrics.timed_out.get(), c.metrics.dropped.get()), (1, 1));
    assert_eq!(c.metrics.duration.count(), 1);

    let (c, _rx) = component("  processing_timeout = \"1ns\"\n  label_timed_out = true");
    let out = c.process(vec![entry(&line)]);
    assert_eq!(out[0].labels.get("secretfilter"), Some("timed-out"));
    assert_eq!(out[0].labels.get("job"), Some("test-job"));

    let (c, _rx) = component("  processing_timeout = \"-1s\"\n  label_timed_out = true");
    assert_eq!(c.settings().timeout, None, "negative: no timeout, as upstream's `> 0` test");
    let (c, _rx) = component("  processing_timeout = \"10s\"\n  label_timed_out = true");
    let out = c.process(vec![entry(&line)]);
    assert_eq!((out[0].labels.get("secretfilter"), c.metrics.timed_out.get()), (None, 0));
    assert!(!out[0].line.contains(GRAFANA));
}

#[test]
fn rate_samples_the_entries_scanned() {
    let line = format!("log {GRAFANA} end");
    let (c, _rx) = component("  rate = 0");
    assert_eq!(run_line(&c, &line).as_deref(), Some(line.as_str()));
    assert_eq!(c.metrics.bypassed.get(), 1);

    let (c, _rx) = component("  rate = 0.5");
    let out = c.process((0..400).map(|_| entry(&line)).collect());
    let unchanged = out.iter().filter(|e| e.line == line).count() as u64;
    assert_eq!(unchanged, c.metrics.bypassed.get());
    assert!((140..=260).contains(&unchanged), "{unchanged} of 400 bypassed");

    for (rate, shown) in [("1.1", "1.100000"), ("-0.1", "-0.100000")] {
        let v = evaluated(&format!("loki.secretfilter \"s\" {{\n  forward_to = []\n  rate = {rate}\n}}\n")).expect("evaluates");
        let errs: Vec<String> = check::<Args>(NAME, &v).into_iter().map(|e| e.message).collect();
        assert_eq!(errs, [format!("secretfilter: rate must be between 0.0 and 1.0, received {shown}")]);
    }
}

#[test]
fn metrics_count_secrets_by_rule_and_origin() {
    let (c, _rx) = component("  origin_label = \"job\"");
    c.process(vec![entry(&format!("{GRAFANA} and {GCP}")), entry("nothing"), entry(&format!("again {GRAFANA}"))]);
    assert_eq!(c.metrics.redacted.get(), 3);
    assert_eq!(c.metrics.duration.count(), 3);
    let text = c.ctx.registry().render();
    let series = |rule: &str| {
        format!("loki_secretfilter_secrets_redacted_by_category_total{{component_id=\"loki.secretfilter.s\",component_path=\"/\",rule=\"{rule}\",origin=\"test-job\"}}")
    };
    assert!(text.contains(&format!("{} 2\n", series("grafana-api-key"))), "{text}");
    assert!(text.contains(&format!("{} 1\n", series("gcp-api-key"))), "{text}");
    assert!(text.contains("# TYPE loki_secretfilter_processing_duration_seconds summary\n"), "{text}");
    for name in ["secrets_redacted_total", "entries_bypassed_total", "lines_timed_out_total", "lines_dropped_total"] {
        assert!(text.contains(&format!("# TYPE loki_secretfilter_{name} counter\n")), "{name}: {text}");
    }

    let (c, _rx) = component("");
    c.process(vec![entry(GRAFANA)]);
    assert!(c.ctx.registry().render().contains("rule=\"grafana-api-key\",origin=\"\"} 1\n"), "origin is empty without origin_label");
}

#[tokio::test]
async fn entries_flow_from_the_receiver_to_forward_to() {
    let (c, mut rx) = component("  redact_percent = 100");
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(c.clone().run(shutdown.clone()));
    let mut e = entry(&format!("deploy {GITHUB} ok"));
    e.set_metadata("trace_id", "t1");
    c.inbox.receiver().send(vec![e, entry("plain")]).await.expect("sent");
    let got = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("in time").expect("a batch");
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].line.as_str(), got[0].metadata("trace_id"), got[0].timestamp_ns), ("deploy REDACTED ok", Some("t1"), 7));
    assert_eq!(got[1].line, "plain");
    shutdown.cancel();
    task.await.expect("joins").expect("runs");
}

/// Lines per second through the default rules, for ~200-byte logfmt lines without secrets:
/// `cargo test -p alloy-runtime --release --lib secretfilter_throughput -- --ignored --nocapture`.
/// "plain" lines hold no rule keyword (only the prefilter runs); in "keyword" lines the path
/// holds `api`, which wakes the generic-api-key rule's regex.
#[test]
#[ignore]
fn secretfilter_throughput() {
    let d = detector_for("").expect("default");
    let lines = |paths: &[&str]| -> Vec<String> {
        let words = ["served", "cache miss", "retrying upstream", "done", "slow query"];
        (0..10_000)
            .map(|i| {
                format!(
                    "ts=2024-05-01T12:{:02}:{:02}.{:03}Z level=info component=http-gateway caller=server.go:{} msg=\"request {}\" method=GET path={} status=200 duration={}ms user=user{} trace_id={:016x}",
                    i % 60,
                    (i / 60) % 60,
                    i % 1000,
                    100 + i % 300,
                    words[i % words.len()],
                    paths[i % paths.len()],
                    i % 500,
                    i % 97,
                    (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                )
            })
            .collect()
    };
    let plain = lines(&["/v1/users", "/v1/orders/42", "/healthz", "/static/app.js", "/login"]);
    let keyword = lines(&["/api/v1/users", "/api/v1/orders/42", "/api/healthz", "/api/static/app.js", "/api/login"]);
    for (name, set) in [("plain", &plain), ("keyword", &keyword)] {
        let avg = set.iter().map(String::len).sum::<usize>() / set.len();
        let start = Instant::now();
        let (mut n, mut found) = (0, 0);
        while start.elapsed() < Duration::from_secs(2) {
            for l in set {
                found += d.detect(l, None).findings.len();
            }
            n += set.len();
        }
        let per_sec = n as f64 / start.elapsed().as_secs_f64();
        println!("{name}: {per_sec:.0} lines/s ({avg}-byte lines, {found} findings)");
    }
}
