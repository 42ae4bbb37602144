use proptest::prelude::*;

use super::*;

fn config(f: impl FnOnce(&mut RuleConfig)) -> RuleConfig {
    let mut c = RuleConfig::default();
    f(&mut c);
    c
}

fn rule(f: impl FnOnce(&mut RuleConfig)) -> Rule {
    Rule::new(config(f)).unwrap_or_else(|e| panic!("{e}"))
}

fn error(f: impl FnOnce(&mut RuleConfig)) -> String {
    match Rule::new(config(f)) {
        Ok(r) => panic!("accepted: {r:?}"),
        Err(e) => e,
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn run_with(rules: &[Rule], input: &[(&str, &str)], names: NameValidation) -> Option<Vec<(String, String)>> {
    let out = process_labels(rules, &Labels::new(input.iter().copied()), names)?;
    Some(out.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect())
}

fn run(rules: &[Rule], input: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
    run_with(rules, input, NameValidation::Legacy)
}

fn set(pairs: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
    let mut v: Vec<(String, String)> = pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    v.sort();
    Some(v)
}

#[test]
fn actions_parse_and_print() {
    for a in Action::ALL {
        assert_eq!(Action::parse(a.as_str()), Ok(a));
    }
    assert_eq!(Action::parse("Replace"), Err(r#"unrecognized action type "Replace""#.to_string()));
    assert_eq!(Action::parse("x\"y"), Err(r#"unrecognized action type "x\"y""#.to_string()));
}

#[test]
fn defaults_are_alloys() {
    let c = RuleConfig::default();
    assert_eq!((c.separator.as_str(), c.regex.as_str(), c.replacement.as_str(), c.action, c.modulus), (";", "(.*)", "$1", Action::Replace, 0));
    assert!(c.source_labels.is_empty() && c.target_label.is_empty());
}

#[test]
fn replace_with_groups_and_separator() {
    let r = rule(|c| {
        c.source_labels = strings(&["a", "b"]);
        c.regex = "f(.*);(.*)r".into();
        c.target_label = "a".into();
        c.replacement = "b${1}${2}m".into();
    });
    assert_eq!(run(&[r], &[("a", "foo"), ("b", "bar")]), set(&[("a", "boobam"), ("b", "bar")]));
}

#[test]
fn replace_missing_source_is_empty_and_no_match_is_noop() {
    let r = rule(|c| {
        c.source_labels = strings(&["missing", "a"]);
        c.separator = "-".into();
        c.target_label = "out".into();
    });
    assert_eq!(run(std::slice::from_ref(&r), &[("a", "x")]), set(&[("a", "x"), ("out", "-x")]));
    let r = rule(|c| {
        c.source_labels = strings(&["a"]);
        c.regex = "y".into();
        c.target_label = "out".into();
        c.replacement = "z".into();
    });
    assert_eq!(run(&[r], &[("a", "x")]), set(&[("a", "x")]));
}

#[test]
fn replace_empty_result_deletes_the_expanded_target() {
    let r = rule(|c| {
        c.source_labels = strings(&["a"]);
        c.regex = "(.)(x)?".into();
        c.target_label = "t_$1".into();
        c.replacement = "$2".into();
    });
    assert_eq!(run(&[r], &[("a", "k"), ("t_k", "old")]), set(&[("a", "k")]));
}

#[test]
fn replace_target_validity_depends_on_component() {
    let r = rule(|c| {
        c.source_labels = strings(&["a"]);
        c.target_label = "utf-8.name".into();
    });
    assert_eq!(run(std::slice::from_ref(&r), &[("a", "v")]), set(&[("a", "v")]));
    assert_eq!(run_with(&[r], &[("a", "v")], NameValidation::Utf8), set(&[("a", "v"), ("utf-8.name", "v")]));
    // An expansion to an empty name is invalid everywhere.
    let r = rule(|c| {
        c.target_label = "${0}".into();
        c.replacement = "x".into();
    });
    assert_eq!(run_with(&[r], &[("a", "v")], NameValidation::Utf8), set(&[("a", "v")]));
}

#[test]
fn replace_with_named_groups_and_whole_match() {
    let r = rule(|c| {
        c.source_labels = strings(&["a"]);
        c.regex = "(?P<first>[a-z]+)-(?<second>\\d+)".into();
        c.target_label = "${first}".into();
        c.replacement = "$second:$0:$$".into();
    });
    assert_eq!(run(&[r], &[("a", "job-42")]), set(&[("a", "job-42"), ("job", "42:job-42:$")]));
}

#[test]
fn keep_and_drop() {
    let keep = rule(|c| {
        c.source_labels = strings(&["a"]);
        c.regex = "f.*".into();
        c.action = Action::Keep;
    });
    let drop = rule(|c| {
        c.source_labels = strings(&["a"]);
        c.regex = "f|o".into();
        c.action = Action::Drop;
    });
    assert_eq!(run(&[keep.clone(), drop.clone()], &[("a", "foo")]), set(&[("a", "foo")]), "the regex is anchored");
    assert_eq!(run(std::slice::from_ref(&keep), &[("a", "bar")]), None);
    assert_eq!(run(&[keep], &[]), None);
    assert_eq!(run(&[drop], &[("a", "f")]), None);
}

#[test]
fn regex_is_go_syntax_with_ascii_classes() {
    let keep = rule(|c| {
        c.source_labels = strings(&["a"]);
        c.regex = "\\d+".into();
        c.action = Action::Keep;
    });
    assert_eq!(run(std::slice::from_ref(&keep), &[("a", "٣")]), None, "\\d is ASCII in Go");
    assert!(run(&[keep], &[("a", "3")]).is_some());
    let dot = rule(|c| {
        c.source_labels = strings(&["a"]);
        c.regex = "line1.*line2".into();
        c.action = Action::Keep;
    });
    assert!(run(&[dot], &[("a", "line1\nline2")]).is_some(), ". matches a newline");
}

#[test]
fn keepequal_and_dropequal() {
    let keepeq = |t: &str| {
        rule(|c| {
            c.source_labels = strings(&["a"]);
            c.target_label = t.into();
            c.action = Action::KeepEqual;
        })
    };
    let dropeq = |t: &str| {
        rule(|c| {
            c.source_labels = strings(&["a"]);
            c.target_label = t.into();
            c.action = Action::DropEqual;
        })
    };
    let input = [("a", "1"), ("b", "1"), ("c", "2")];
    assert!(run(&[keepeq("b")], &input).is_some());
    assert_eq!(run(&[keepeq("c")], &input), None);
    assert_eq!(run(&[dropeq("b")], &input), None);
    assert!(run(&[dropeq("c")], &input).is_some());
    // A missing target and a missing source are both "".
    assert!(run(&[keepeq("missing")], &[("x", "1")]).is_some());
    assert_eq!(run(&[dropeq("missing")], &[("x", "1")]), None);
}

#[test]
fn hashmod_uses_md5_tail() {
    let r = |m: u64| {
        rule(|c| {
            c.source_labels = strings(&["a"]);
            c.modulus = m;
            c.target_label = "h".into();
            c.action = Action::HashMod;
        })
    };
    assert_eq!(run(&[r(1000)], &[("a", "baz")]), set(&[("a", "baz"), ("h", "976")]));
    assert_eq!(run(&[r(1000)], &[("a", "foo\nbar")]), set(&[("a", "foo\nbar"), ("h", "734")]));
}

#[test]
fn labelmap_copies_from_a_snapshot() {
    let r = rule(|c| {
        c.regex = "(b.*)".into();
        c.replacement = "bar_${1}".into();
        c.action = Action::LabelMap;
    });
    let out = run(&[r], &[("a", "foo"), ("b1", "bar"), ("b2", "baz")]);
    assert_eq!(out, set(&[("a", "foo"), ("b1", "bar"), ("b2", "baz"), ("bar_b1", "bar"), ("bar_b2", "baz")]));
    // Names produced by the rule are not mapped again.
    let r = rule(|c| {
        c.regex = "x(.*)".into();
        c.replacement = "xx$1".into();
        c.action = Action::LabelMap;
    });
    assert_eq!(run(&[r], &[("x1", "v")]), set(&[("x1", "v"), ("xx1", "v")]));
}

#[test]
fn labeldrop_and_labelkeep() {
    let drop = rule(|c| {
        c.regex = "(b.*)".into();
        c.action = Action::LabelDrop;
    });
    let keep = rule(|c| {
        c.regex = "(b.*)".into();
        c.action = Action::LabelKeep;
    });
    let input = [("a", "foo"), ("b1", "bar"), ("b2", "baz")];
    assert_eq!(run(&[drop], &input), set(&[("a", "foo")]));
    assert_eq!(run(&[keep], &input), set(&[("b1", "bar"), ("b2", "baz")]));
}

#[test]
fn lowercase_uppercase_and_empty_deletes() {
    let r = |a: Action, t: &str| {
        rule(|c| {
            c.source_labels = strings(&["foo"]);
            c.target_label = t.into();
            c.action = a;
        })
    };
    let rules = [r(Action::Uppercase, "up"), r(Action::Lowercase, "low")];
    assert_eq!(run(&rules, &[("foo", "bAr123Foo")]), set(&[("foo", "bAr123Foo"), ("low", "bar123foo"), ("up", "BAR123FOO")]));
    assert_eq!(run(&[r(Action::Lowercase, "low")], &[("low", "x")]), set(&[]), "an empty value deletes");
    // The target is literal for lowercase: no expansion.
    assert_eq!(run_with(&[r(Action::Lowercase, "${3}")], &[("foo", "A")], NameValidation::Legacy), set(&[("${3}", "a"), ("foo", "A")]));
}

#[test]
fn first_drop_stops_processing() {
    let set_x = rule(|c| {
        c.target_label = "x".into();
        c.replacement = "1".into();
    });
    let drop_all = rule(|c| c.action = Action::Drop);
    let set_y = rule(|c| {
        c.target_label = "y".into();
        c.replacement = "1".into();
    });
    let mut b = Labels::new([("a", "1")]).builder();
    assert!(!process(&[set_x, drop_all, set_y], &mut b, NameValidation::Legacy));
    assert_eq!(b.get("x"), Some("1"));
    assert_eq!(b.get("y"), None);
}

#[test]
fn regex_text_is_shown_as_written() {
    let r = rule(|c| {
        c.regex = "a|b".into();
        c.action = Action::Keep;
    });
    assert_eq!(r.regex_text(), "a|b");
    assert_eq!(r.regex().as_str(), "^(?s:a|b)$");
}

#[test]
fn validation_messages_in_order() {
    let cases: Vec<(RuleConfig, &str)> = vec![
        (config(|c| c.regex = "(".into()), "error parsing regexp: missing closing ): `^(?s:()$`"),
        (config(|c| c.regex = "\\q".into()), "error parsing regexp: invalid escape sequence: `\\q`"),
        (
            config(|c| {
                c.action = Action::HashMod;
                c.target_label = "h".into();
            }),
            "relabel configuration for hashmod requires non-zero modulus",
        ),
        (config(|c| c.action = Action::HashMod), "relabel configuration for hashmod requires non-zero modulus"),
        (
            config(|c| {
                c.action = Action::HashMod;
                c.modulus = 2;
            }),
            "relabel configuration for hashmod action requires 'target_label' value",
        ),
        (config(|_| {}), "relabel configuration for replace action requires 'target_label' value"),
        (config(|c| c.action = Action::Lowercase), "relabel configuration for lowercase action requires 'target_label' value"),
        (config(|c| c.action = Action::Uppercase), "relabel configuration for uppercase action requires 'target_label' value"),
        (config(|c| c.action = Action::KeepEqual), "relabel configuration for keepequal action requires 'target_label' value"),
        (config(|c| c.action = Action::DropEqual), "relabel configuration for dropequal action requires 'target_label' value"),
        (config(|c| c.target_label = "-${3}".into()), r#""-${3}" is invalid 'target_label' for replace action"#),
        (config(|c| c.target_label = "a\"$".into()), r#""a\"$" is invalid 'target_label' for replace action"#),
        (
            config(|c| {
                c.action = Action::Uppercase;
                c.target_label = "u".into();
                c.replacement = "x".into();
            }),
            "'replacement' can not be set for uppercase action",
        ),
        (
            config(|c| {
                c.action = Action::LabelMap;
                c.replacement = "-$1".into();
            }),
            r#""-$1" is invalid 'replacement' for labelmap action"#,
        ),
        (
            config(|c| {
                c.action = Action::LabelDrop;
                c.source_labels = strings(&["a"]);
            }),
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            config(|c| {
                c.action = Action::LabelKeep;
                c.separator = ",".into();
            }),
            "labelkeep action requires only 'regex', and no other fields",
        ),
        (
            config(|c| {
                c.action = Action::DropEqual;
                c.target_label = "t".into();
                c.modulus = 3;
            }),
            "dropequal action requires only 'source_labels' and 'target_label', and no other fields",
        ),
        (
            config(|c| {
                c.action = Action::KeepEqual;
                c.target_label = "t".into();
                c.regex = "x".into();
            }),
            "keepequal action requires only 'source_labels' and 'target_label', and no other fields",
        ),
    ];
    for (c, want) in cases {
        assert_eq!(Rule::new(c.clone()).err().as_deref(), Some(want), "{c:?}");
    }
    // Plain target names are checked with UTF-8 rules; templated ones with the legacy pattern.
    assert!(Rule::new(config(|c| c.target_label = "utf-8.label".into())).is_ok());
    assert!(Rule::new(config(|c| c.target_label = "foo${bar}foo".into())).is_ok());
    assert_eq!(error(|c| c.target_label = "utf-8.label${1}".into()), r#""utf-8.label${1}" is invalid 'target_label' for replace action"#);
}

fn valid_regex() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("(.*)".to_string()),
        Just("a.*".to_string()),
        Just("[ab]+|c".to_string()),
        Just("(?i)B(.)".to_string()),
        Just("\\w{2}".to_string()),
        Just("".to_string()),
        "[a-c_]{1,3}",
    ]
}

fn label_set() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec(("[a-c_]{1,3}", "[a-cB0-9]{0,3}"), 0..6)
}

fn any_config() -> impl Strategy<Value = RuleConfig> {
    let text = "[a-c_$0-9{}()|.*-]{0,5}";
    (
        proptest::collection::vec("[a-c_]{1,3}", 0..3),
        prop_oneof![Just(";".to_string()), Just("".to_string()), Just(",".to_string())],
        prop_oneof![valid_regex(), text],
        0u64..4,
        prop_oneof![Just(String::new()), "[a-c_]{1,3}", text],
        prop_oneof![Just("$1".to_string()), text],
        proptest::sample::select(Action::ALL.to_vec()),
    )
        .prop_map(|(source_labels, separator, regex, modulus, target_label, replacement, action)| RuleConfig {
            source_labels,
            separator,
            regex,
            modulus,
            target_label,
            replacement,
            action,
        })
}

proptest! {
    /// labelkeep R then labeldrop R leaves nothing; labeldrop R alone keeps exactly what labelkeep R removes.
    #[test]
    fn labelkeep_then_labeldrop_empties(regex in valid_regex(), input in label_set()) {
        let keep = Rule::new(config(|c| { c.regex = regex.clone(); c.action = Action::LabelKeep; })).map_err(TestCaseError::fail)?;
        let drop = Rule::new(config(|c| { c.regex = regex.clone(); c.action = Action::LabelDrop; })).map_err(TestCaseError::fail)?;
        let labels = Labels::new(input.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let both = process_labels(&[keep.clone(), drop.clone()], &labels, NameValidation::Legacy);
        prop_assert_eq!(both.map(|l| l.len()), Some(0));
        let kept = process_labels(&[keep], &labels, NameValidation::Legacy).unwrap_or_default();
        let dropped = process_labels(&[drop], &labels, NameValidation::Legacy).unwrap_or_default();
        prop_assert_eq!(kept.len() + dropped.len(), labels.len());
    }

    /// Any rule that validates runs without panicking, deterministically, and never leaves an empty value.
    #[test]
    fn process_is_total_and_deterministic(configs in proptest::collection::vec(any_config(), 1..4), input in label_set()) {
        let rules: Vec<Rule> = configs.into_iter().filter_map(|c| Rule::new(c).ok()).collect();
        let labels = Labels::new(input.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        for names in [NameValidation::Legacy, NameValidation::Utf8] {
            let a = process_labels(&rules, &labels, names);
            let b = process_labels(&rules, &labels, names);
            prop_assert_eq!(&a, &b);
            if let Some(out) = a {
                prop_assert!(out.iter().all(|(_, v)| !v.is_empty()));
            }
        }
    }

    /// hashmod always writes a number below the modulus.
    #[test]
    fn hashmod_in_range(value in ".{0,12}", modulus in 1u64..10_000) {
        let r = Rule::new(config(|c| { c.source_labels = vec!["a".into()]; c.modulus = modulus; c.target_label = "h".into(); c.action = Action::HashMod; }))
            .map_err(TestCaseError::fail)?;
        let out = process_labels(&[r], &Labels::new([("a", value.as_str())]), NameValidation::Legacy).unwrap_or_default();
        let h: u64 = out.get("h").and_then(|h| h.parse().ok()).unwrap_or(u64::MAX);
        prop_assert!(h < modulus);
    }
}
