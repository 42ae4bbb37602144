//! Expected values are what Go's `text/template` with sprig (v3.2.3, as upstream vendors it)
//! gives; many are sprig's own test cases.

use std::collections::BTreeMap;

use super::*;

fn data() -> BTreeMap<String, TVal> {
    [("Value", "b"), ("Entry", "a line"), ("csv", "a,b,c,d,e"), ("n", "42"), ("empty", "")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), TVal::Str(v.to_string())))
        .collect()
}

fn run(src: &str) -> Result<String, String> {
    Template::parse(src)?.execute(data())
}

/// Each template with what it prints.
fn check(cases: &[(&str, &str)]) {
    for (src, want) in cases {
        assert_eq!(run(src).as_deref(), Ok(*want), "{src}");
    }
}

/// Templates that parse but fail when executed (the stage then leaves the value alone).
fn fails(cases: &[&str]) {
    for src in cases {
        let t = Template::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert!(t.execute(data()).is_err(), "{src} should fail");
    }
}

/// Templates Go refuses to parse.
fn refused(cases: &[&str]) {
    for src in cases {
        assert!(Template::parse(src).is_err(), "{src} should not parse");
    }
}

#[test]
fn control_structures() {
    check(&[
        (r#"{{if eq .Value "a"}}A{{else if eq .Value "b"}}B{{else}}C{{end}}"#, "B"),
        (r#"{{if eq .Value "x"}}A{{else if eq .Value "y"}}B{{else}}C{{end}}"#, "C"),
        (r#"{{if .missing}}yes{{end}}"#, ""),
        (r#"{{with .Value}}v={{.}}{{else}}none{{end}}"#, "v=b"),
        (r#"{{with .empty}}v={{.}}{{else}}none{{end}}"#, "none"),
        (r#"{{with .missing}}1{{else with .Value}}2{{.}}{{end}}"#, "2b"),
        (r#"{{with $x := .Value}}{{$x}}{{$.Entry}}{{end}}"#, "ba line"),
        (r#"{{range $i, $e := splitList "," .csv}}{{$i}}={{$e}};{{end}}"#, "0=a;1=b;2=c;3=d;4=e;"),
        (r#"{{range splitList "," .csv}}{{if eq . "b"}}{{continue}}{{end}}{{if eq . "d"}}{{break}}{{end}}{{.}}{{end}}"#, "ac"),
        (r#"{{range $k, $v := .}}{{$k}} {{end}}"#, "Entry Value csv empty n "),
        (r#"{{range 3}}{{.}}{{end}}"#, "012"),
        (r#"{{range .missing}}x{{else}}nothing{{end}}"#, "nothing"),
        (r#"{{$x := "a"}}{{$x = "b"}}{{$x}}"#, "b"),
        (r#"{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}"#, "21"),
        ("a {{- /* comment */ -}} b", "ab"),
        ("{{/* only a comment */}}", ""),
        (r#"{{ "x" | printf "%s-%s" "y" }}"#, "y-x"),
        (r#"{{ 'a' }} {{ 0x1F }} {{ 1_000 }} {{ 1.5 }} {{ 1e3 }} {{ -2 }}"#, "97 31 1000 1.5 1000 -2"),
        ("{{ `raw\\n` }}{{ \"esc\\t\\x41\" }}", "raw\\nesc\tA"),
        (r#"{{ .missing }}|{{ .missing.deeper }}|{{ . }}"#, "<no value>|<no value>|map[Entry:a line Value:b csv:a,b,c,d,e empty: n:42]"),
        (r#"{{ (splitList "," .csv) }}"#, "[a b c d e]"),
        (r#"{{ $v := "foo$bar$baz" | split "$" }}{{ $v._0 }} {{ $v._2 }} {{ $v }}"#, "foo baz map[_0:foo _1:bar _2:baz]"),
    ]);
    fails(&[r#"{{ .Value.field }}"#, r#"{{ "a" "b" }}"#, r#"{{ .Value | "x" }}"#, r#"{{ range .Value }}{{ end }}"#]);
    refused(&[
        "{{ $undefined }}",
        "{{ break }}",
        "{{ if true }}unclosed",
        "{{ end }}",
        "{{ nope 1 }}",
        r#"{{ define "x" }}{{ end }}"#,
        "{{ nil }}",
        "{{ 1 | }}",
        "{{ (1 }}",
        "{{ else }}",
        r#"{{ "unterminated }}"#,
    ]);
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("{}x{}", "{{if true}}".repeat(200), "{{end}}".repeat(200));
    assert!(Template::parse(&deep).is_err());
    let parens = format!("{{{{ {}1{} }}}}", "(".repeat(200), ")".repeat(200));
    assert!(Template::parse(&parens).is_err());
    let ok = format!("{}x{}", "{{if true}}".repeat(20), "{{end}}".repeat(20));
    assert_eq!(Template::parse(&ok).and_then(|t| t.execute(data())).as_deref(), Ok("x"));
}

#[test]
fn go_builtins() {
    check(&[
        (
            r#"{{ printf "%s-%d|%5.2f|%-4s|%05d|%x %X|%q|%t|%v" "a" 5 3.14159 "ab" -42 255 "hi" "a\"b" true 1.5 }}"#,
            r#"a-5| 3.14|ab  |-0042|ff 6869|"a\"b"|true|1.5"#,
        ),
        (
            r#"{{ printf "%d" "x" }}|{{ printf "%d" }}|{{ printf "%d" 1 2 }}|{{ printf "100%%" }}|{{ printf "%.3s" "abcdef" }}"#,
            "%!d(string=x)|%!d(MISSING)|1%!(EXTRA int=2)|100%|abc",
        ),
        (r#"{{ printf "%e|%g|%v|%v|%v|%.2g" 123456.789 0.00001234 1e6 123456.0 .missing 1234.5 }}"#, "1.234568e+05|1.234e-05|1e+06|123456|<nil>|1.2e+03"),
        (
            r#"{{ printf "%c%c" 'h' 105 }}|{{ printf "%08.3f" -3.5 }}|{{ printf "%+d %+.1f" 3 2.0 }}|{{ printf "%6v|%-6v|" 12 true }}"#,
            "hi|-003.500|+3 +2.0|    12|true  |",
        ),
        (r#"{{ printf "%s" (splitList "," "a,b") }}|{{ printf "%d" (list 1 2) }}|{{ printf "%v" (list) }}"#, "[a b]|[1 2]|[]"),
        (r#"{{ print 1 2 "a" 3 "b" }}|{{ println 1 "a" }}|{{ print .missing }}"#, "1 2a3b|1 a\n|<nil>"),
        (r#"{{ len "héllo" }} {{ len (splitList "," .csv) }} {{ len . }}"#, "6 5 5"),
        (r#"{{ index . "Value" }} {{ index (splitList "," .csv) 1 }} {{ index "abc" 1 }} {{ index . "missing" }}"#, "b b 98 <no value>"),
        (
            r#"{{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1 2 }} {{ ne .Value "b" }} {{ eq .missing "x" }} {{ eq 2 1 2 }}"#,
            "true true true false false false true",
        ),
        (r#"{{ and 1 0 "x" }} {{ or 0 "" "y" }} {{ and .missing (index .missing 1) }} {{ not "" }}"#, "0 y <no value> true"),
    ]);
    fails(&[
        r#"{{ lt 1 2.0 }}"#,
        r#"{{ eq 1 "1" }}"#,
        r#"{{ lt true false }}"#,
        r#"{{ lt .missing 1 }}"#,
        r#"{{ index (list 1) 5 }}"#,
        r#"{{ len 3 }}"#,
        "{{ printf 1 }}",
    ]);
}

#[test]
fn sprig_strings() {
    check(&[
        (r#"{{ title "hello world-foo_bar" }}|{{ untitle "First Try" }}|{{ upper "abc" }}|{{ lower "ABC" }}"#, "Hello World-Foo_bar|first try|ABC|abc"),
        (r#"{{ "fooo" | substr 0 3 }}|{{ "foo" | substr 0 10 }}|{{ substr 1 -1 "hello" }}|{{ substr -1 2 "hello" }}"#, "foo|foo|ello|he"),
        (r#"{{ "foooooo" | trunc 3 }}|{{ "baaaaaar" | trunc -3 }}|{{ "baaaaaar" | trunc -999 }}|{{ "baaaaaz" | trunc 0 }}|"#, "foo|aar|baaaaaar||"),
        (r#"{{ abbrev 5 "hello world" }}|{{ abbrevboth 5 10 "1234 5678 9123" }}|{{ abbrev 3 "hello" }}"#, "he...|...5678...|hello"),
        (r#"{{ quote "a" "b" "c" }}|{{ quote "\"a\"" 1 }}|{{ .missing | quote }}|{{ squote "a" 1 }}"#, r#""a" "b" "c"|"\"a\"" "1"||'a' '1'"#),
        (
            r#"{{ repeat 3 "ab" }}|{{ nospace "h e l l o " }}|{{ initials "First Try" }}|{{ $b := "b" }}{{ "c" | cat "a" $b .missing }}"#,
            "ababab|hello|FT|a b c",
        ),
        (
            r#"{{ trim "   5.00   " }}|{{ trimAll "$" "$5.00$" }}|{{ trimPrefix "$" "$5.00" }}|{{ trimSuffix "$" "5.00$" }}|{{ Trim "!x!" "!" }}"#,
            "5.00|5.00|5.00|5.00|x",
        ),
        (r#"{{ indent 4 "a\nb" }}|{{ nindent 2 "c" }}|{{ "I Am Henry" | replace " " "-" }}|{{ plural "one" "many" 2 }}"#, "    a\n    b|\n  c|I-Am-Henry|many"),
        (r#"{{ if contains "cat" "fair catch" }}1{{ end }}{{ if hasPrefix "cat" "catch" }}2{{ end }}{{ if hasSuffix "cat" "ducat" }}3{{ end }}"#, "123"),
        (
            r#"{{ b64enc "coffee" }}|{{ b64dec "Y29mZmVl" }}|{{ b64dec "Y29m\nZmVl" }}|{{ b64dec "!!" }}|{{ b64dec "Y29mZmV" }}|{{ b64enc "ab" }}"#,
            "Y29mZmVl|coffee|coffee|illegal base64 data at input byte 0|illegal base64 data at input byte 4|YWI=",
        ),
        (r#"{{ sha256sum "hello" }}|{{ adler32sum "hello" }}"#, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824|103547413"),
        (r#"{{ toString 1 }}|{{ toString 2.5 }}|{{ toString true }}|{{ toString (list "a" 1) }}"#, "1|2.5|true|[a 1]"),
        (r#"{{ Replace .Value "b" "B" -1 }}|{{ ToUpper .Value }}|{{ TrimSuffix "abc" "c" }}"#, "B|B|ab"),
    ]);
    fails(&[
        r#"{{ substr 4 2 "hello" }}"#,
        r#"{{ repeat -1 "x" }}"#,
        r#"{{ upper 5 }}"#,
        r#"{{ ToUpper .missing }}"#,
        r#"{{ repeat "3" "x" }}"#,
        r#"{{ Replace .Value "b" "B" "1" }}"#,
    ]);
}

#[test]
fn sprig_regex_and_lists() {
    check(&[
        (r#"{{ regexMatch "^[a-z]+$" "abc" }} {{ regexMatch "[" "abc" }}|{{ regexFind "[0-9]+" "ab12cd34" }}"#, "true false|12"),
        (
            r#"{{ regexFindAll "[0-9]+" "a1b22c333" -1 }}|{{ regexFindAll "[0-9]+" "a1b22c333" 2 }}|{{ regexFindAll "a*" "baaac" -1 | len }}"#,
            "[1 22 333]|[1 22]|3",
        ),
        (
            r#"{{ regexSplit "-+" "a-b--c" -1 }}|{{ regexSplit "" "abc" -1 }}|{{ regexSplit "/" "a/b/c" 2 }}|{{ regexSplit "/src/" "foo/src/bar" -1 | first }}"#,
            "[a b c]|[a b c]|[a b/c]|foo",
        ),
        (
            r#"{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}|{{ regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}" }}|{{ regexQuoteMeta "1.2.3" }}"#,
            "-W-xxW-|-${1}-${1}-|1\\.2\\.3",
        ),
        (r#"{{ $v := "foo$bar$baz" | splitn "$" 2 }}{{ $v._0 }}/{{ $v._1 }}|{{ splitList "" "abc" }}|{{ splitList "," "" | len }}"#, "foo/bar$baz|[a b c]|1"),
        (r#"{{ list "a" "b" "c" | join "-" }}|{{ list 1 2 3 | join "-" }}|{{ join "-" .Value }}|{{ list 1 .missing 2 | join "," }}"#, "a-b-c|1-2-3|b|1,2"),
        (r#"{{ list 1 2 3 | first }}|{{ list | first }}|{{ list 1 2 3 | last }}|{{ index (toStrings (list 1 2)) 1 }}"#, "1|<no value>|3|2"),
    ]);
    fails(&[r#"{{ regexFind "[" "x" }}"#, r#"{{ regexReplaceAll "\\K" "x" "y" }}"#, r#"{{ first "abc" }}"#]);
}

#[test]
fn sprig_numbers_and_defaults() {
    check(&[
        (
            r#"{{ atoi "42" }} {{ atoi "x" }} {{ atoi .n }} {{ int "0x1f" }} {{ int "12.7" }} {{ int64 "abc" }} {{ float64 "2.5" }} {{ int 3.9 }}"#,
            "42 0 42 31 12 0 2.5 3",
        ),
        (r#"{{ 3 | add1 }} {{ 3 | add 1 2 }} {{ 4 | div 5 }} {{ 1 | mul "2" 3 "4" }} {{ 3 | sub 14 }} {{ mod 7 3 }} {{ add .n 1 }}"#, "4 6 1 24 11 1 43"),
        (r#"{{ biggest 1 2 3 345 5 }} {{ max 345 }} {{ min 1 2 3 }} {{ max 2 "9" }}"#, "345 345 1 9"),
        (r#"{{ floor 1.5 }} {{ ceil "1.2" }} {{ round 3.14159 2 }} {{ round 2.5 0 }} {{ round 2.45 1 0.6 }}"#, "1 2 3.14 3 2.4"),
        (
            r#"{{ "" | default "foo" }}|{{ default "foo" 234 }}|{{ default "foo" 2.34 }}|{{ .Nothing | default "123" }}|{{ default "123" }}"#,
            "foo|234|2.34|123|123",
        ),
        (
            r#"{{ if empty 1 }}1{{ else }}0{{ end }}{{ if empty 0 }}1{{ else }}0{{ end }}{{ if empty "" }}1{{ else }}0{{ end }}{{ if empty .missing }}1{{ else }}0{{ end }}"#,
            "0111",
        ),
        (r#"{{ coalesce 1 }}|{{ coalesce "" 0 nil 2 }}|{{ $two := 2 }}{{ coalesce "" $two 3 }}|{{ coalesce }}"#, "1|2|2|<no value>"),
        (r#"{{ all 1 }} {{ all "" 0 nil 2 }} {{ all }} {{ any "" 0 nil 2 }} {{ any }}"#, "true false true true false"),
        (r#"{{ ternary "yes" "no" true }} {{ ternary "yes" "no" (eq .Value "x") }}"#, "yes no"),
    ]);
    fails(&[r#"{{ div 1 0 }}"#, r#"{{ mod 1 "0" }}"#, r#"{{ ternary "a" "b" "true" }}"#, r#"{{ round 1.5 "1" }}"#]);
}
