//! Table-driven tests of every operator and standard-library function: each row is an
//! expression, the type it is decoded into, and the expected compact rendering or error text.

use eval::testing::{parse_binding, run_case};
use eval::Scope;

fn scope() -> Scope {
    let mut s = Scope::new();
    for (name, v) in [
        ("n", "42"),
        ("u1", "uint64(1)"),
        ("u2", "uint64(2)"),
        ("sec", r#"secret("pw")"#),
        ("opt", r#"optional_secret("plain", false)"#),
        ("optsec", r#"optional_secret("hidden", true)"#),
        ("obj", r#"{list = [1, 2, "three"]}"#),
    ] {
        s.set(name, parse_binding(v).unwrap());
    }
    s
}

fn check(rows: &[(&str, &str, &str)]) {
    let scope = scope();
    let mut failures = Vec::new();
    for (expr, ty, expected) in rows {
        let actual = match run_case(expr, ty, &scope) {
            Ok(v) => v,
            Err(e) => format!("ERROR {e}"),
        };
        if actual != *expected {
            failures.push(format!("{expr} as {ty}\n  expected: {expected}\n  actual:   {actual}"));
        }
    }
    assert!(failures.is_empty(), "{} failing rows:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn literals_and_numbers() {
    check(&[
        ("010", "any", "8"),
        ("08", "any", "8.0"),
        ("9223372036854775808", "kind", "uint64"),
        ("18446744073709551616", "kind", "float64"),
        ("1.", "any", "1.0"),
        ("2.71828e-1000", "any", "0.0"),
        ("1e400", "any", r#"ERROR strconv.ParseFloat: parsing "1e400": value out of range"#),
        (r#""\x41\u00e9\101""#, "any", r#""AéA""#),
        ("`a\\nb`", "any", r#""a\\nb""#),
        ("-0.0", "any", "-0.0"),
        ("-0", "any", "0"),
        ("-18446744073709551615", "any", "1"),
    ]);
}

#[test]
fn arithmetic() {
    check(&[
        ("1 + 2", "any", "3"),
        ("1 + 2.5", "any", "3.5"),
        ("5 - 7", "any", "-2"),
        ("u1 - u2", "any", "18446744073709551615"),
        ("6 * 7", "any", "42"),
        ("7 / 2", "any", "3"),
        ("-7 / 2", "any", "-3"),
        ("7 / 2.0", "any", "3.5"),
        ("7 % -3", "any", "1"),
        ("-7.5 % 2", "any", "-1.5"),
        ("1 / 0", "any", "ERROR 1:5: 0 divide by zero error"),
        ("1 % 0.0", "any", "ERROR 1:5: 0.0 divide by zero error"),
        ("2 ^ 10", "any", "1024"),
        ("2 ^ -3", "any", "2"),
        ("2 ^ 64", "any", "0"),
        ("2 ^ 3 ^ 2", "any", "512"),
        ("-2 ^ 2", "any", "4"),
        ("4.0 ^ 0.5", "any", "2.0"),
        ("9223372036854775807 + 1", "any", "-9223372036854775808"),
        ("1 + 2 * 3 - 4 / 2", "any", "5"),
        ("\"a\" * 2", "any", r#"ERROR 1:1: "a" should be one of [number] for binop *, got string"#),
        ("1 - \"a\"", "any", r#"ERROR 1:5: "a" should be one of [number] for binop -, got string"#),
    ]);
}

#[test]
fn comparison_logic_and_equality() {
    check(&[
        ("1 < 2", "any", "true"),
        ("2 <= 2.0", "any", "true"),
        ("3 > 4", "any", "false"),
        ("\"b\" >= \"a\"", "any", "true"),
        ("\"B\" < \"a\"", "any", "true"),
        ("1 < \"a\"", "any", r#"ERROR 1:5: "a" should be number, got string"#),
        ("true && false", "any", "false"),
        ("true || false", "any", "true"),
        ("false && nope", "any", r#"ERROR 1:10: identifier "nope" does not exist"#),
        ("1 || true", "any", "ERROR 1:1: 1 should be one of [bool] for binop ||, got number"),
        ("!true", "any", "false"),
        ("!0", "any", "ERROR 1:2: 0 should be bool, got number"),
        ("-\"x\"", "any", r#"ERROR 1:2: "x" should be number, got string"#),
        ("1 == 1.0", "any", "true"),
        ("1 == \"1\"", "any", "false"),
        ("1 != null", "any", "true"),
        ("[1, {a = 2}] == [1, {a = 2.0}]", "any", "true"),
        ("{a = 1} == {a = 1, b = 2}", "any", "false"),
        ("sys.env == sys.env", "any", "false"),
        ("null < 1", "any", "ERROR -:  should be one of [number string] for binop <, got null"),
    ]);
}

#[test]
fn access_index_call() {
    check(&[
        ("{a = {b = 1}}.a.b", "any", "1"),
        ("{a = 1}.b", "any", r#"ERROR 1:9: field "b" does not exist"#),
        ("{a = 1}[\"b\"]", "any", "null"),
        ("[1, 2, 3][1.7]", "any", "2"),
        ("[1, 2, 3][5]", "any", "ERROR 1:11: 5 index 5 is out of range of array with length 3"),
        ("\"s\".x", "any", r#"ERROR 1:1: "s" cannot access field "x" on value of type string"#),
        ("1[0]", "any", "ERROR 1:1: 1 expected object or array, got number"),
        ("obj.list[2]", "any", r#""three""#),
        ("obj", "map[string]any", r#"{list = [1, 2, "three"]}"#),
        ("obj.list", "[]int", r#"ERROR 1:1: obj.list[2] should be number, got string"#),
        ("[1, \"x\"]", "[]int", r#"ERROR 1:5: "x" should be number, got string"#),
        ("{a = [1, \"x\"]}.a", "[]int", r#"ERROR 1:10: "x" should be number, got string"#),
        ("n(1)", "any", "ERROR 1:1: n should be function, got number"),
        ("sys.env(\"A\", \"B\")", "any", "ERROR 1:1: sys.env expected 1 args, got 2"),
        ("(1 + 2) * n", "any", "126"),
    ]);
}

#[test]
fn secrets_in_operators_and_conversions() {
    check(&[
        ("sec + \"x\"", "alloytypes.Secret", r#"secret("pwx")"#),
        ("\"x\" + sec", "alloytypes.Secret", r#"secret("xpw")"#),
        ("opt + \"x\"", "any", r#""plainx""#),
        ("optsec + \"x\"", "alloytypes.OptionalSecret", r#"optional_secret("hiddenx", true)"#),
        ("sec == \"pw\"", "any", "true"),
        ("sec + 1", "any", "ERROR 1:7: 1 should be capsule, got number"),
        ("sec", "string", "ERROR 1:1: sec secrets may not be converted into strings"),
        ("optsec", "string", "ERROR 1:1: optsec secrets may not be converted into strings"),
        ("opt", "string", r#""plain""#),
        ("\"abc\"", "alloytypes.Secret", r#"secret("abc")"#),
        ("sec", "alloytypes.OptionalSecret", r#"optional_secret("pw", true)"#),
        ("convert.nonsensitive(sec)", "any", r#""pw""#),
        ("convert.nonsensitive(1)", "any", "ERROR 1:22: 1 should be capsule, got number"),
    ]);
}

#[test]
fn conversions_to_typed_targets() {
    check(&[
        ("\"12\"", "int", "12"),
        ("\"1e3\"", "int", "1000"),
        ("\"-1.5\"", "float64", r#"ERROR 1:1: "-1.5" should be number, got string"#),
        ("\"0x1.8p1\"", "float64", "3.0"),
        ("\"+5\"", "int", r#"ERROR 1:1: "+5" should be number, got string"#),
        ("300", "uint8", "44"),
        ("-1", "uint16", "65535"),
        ("3.9", "int", "3"),
        ("12", "string", r#""12""#),
        ("0.1 + 0.2", "string", r#""0.30000000000000004""#),
        ("1e21", "string", r#""1000000000000000000000""#),
        ("true", "string", "ERROR 1:1: true should be string, got bool"),
        ("null", "int", "0"),
        ("[0, 1]", "string", "ERROR 1:1: [0, 1] should be string, got array"),
    ]);
}

#[test]
fn array_functions() {
    check(&[
        ("array.concat()", "any", "[]"),
        ("array.concat([1], [2, 3])", "any", "[1, 2, 3]"),
        ("array.concat([1], \"x\")", "any", r#"ERROR 1:19: "x" should be array, got string"#),
        ("concat([1], [2])", "any", "[1, 2]"),
        ("array.combine_maps([{a = 1, b = 2}], [{a = 1, c = 3}], [\"a\"])", "any", "[{a = 1, b = 2, c = 3}]"),
        ("array.combine_maps([{a = 1}], [{a = 2}, {a = 3}], [\"a\"], true)", "any", "[{a = 1}, {a = 1}]"),
        ("array.combine_maps([{a = 1}], [{a = 1.0}], [\"a\"])", "any", "[]"),
        ("array.combine_maps([], [], [])", "any", "ERROR 1:28: [] combine_maps: merge conditions must not be empty"),
        ("array.combine_maps([], [])", "any", "ERROR combine_maps: expected 3 or 4 arguments, got 2"),
        ("array.group_by([{k = \"a\", v = 1}, {v = 2}], \"k\", true)", "any", r#"[{items = [{k = "a", v = 1}], k = "a"}]"#),
        ("array.group_by([{k = 1}], \"k\", false)", "any", "ERROR 1:22: 1 should be string, got number"),
        ("array.group_by([], \"k\")", "any", "ERROR group_by: expected 3 arguments, got 2"),
    ]);
}

#[test]
fn coalesce_constants_sys() {
    check(&[
        ("coalesce()", "any", "null"),
        ("coalesce(0, \"\", false, [], {}, \"x\")", "any", r#""x""#),
        ("coalesce(0, 0.0)", "any", "0.0"),
        ("coalesce(sys.env)", "any", "function"),
        ("coalesce(opt, 1)", "string", r#""plain""#),
        ("constants.nope", "any", r#"ERROR 1:11: field "nope" does not exist"#),
        ("sys.env(\"ALLOY_EVAL_TEST_SURELY_UNSET\")", "any", r#""""#),
        ("sys.env()", "any", "ERROR 1:1: sys.env expected 1 args, got 0"),
    ]);
}

#[test]
fn encoding_functions() {
    check(&[
        ("encoding.from_json(\"{\\\"a\\\": [1, true, null]}\")", "any", "{a = [1.0, true, null]}"),
        ("encoding.from_json(\"[1,\")", "any", "ERROR 1:1: encoding.from_json unexpected end of JSON input"),
        ("encoding.from_json(\"tru\")", "any", "ERROR 1:1: encoding.from_json unexpected end of JSON input"),
        ("encoding.from_json(\"nul1\")", "any", "ERROR 1:1: encoding.from_json invalid character '1' in literal null (expecting 'l')"),
        ("encoding.from_yaml(\"a: 017\\nb: [x, 1_000]\\nc: !!str 5\")", "any", r#"{a = 15, b = ["x", 1000], c = "5"}"#),
        ("encoding.from_yaml(\"t: '2001-12-14'\")", "any", r#"{t = "2001-12-14"}"#),
        ("encoding.from_yaml(\"true: 1\")", "any", r#"capsule("map[interface {}]interface {}")"#),
        ("encoding.from_base64(\"aGk=\")", "string", r#""hi""#),
        ("encoding.from_base64(\"a===\")", "any", "ERROR 1:1: encoding.from_base64 illegal base64 data at input byte 1"),
        ("encoding.to_base64(\"hi\")", "any", r#""aGk=""#),
        ("encoding.to_URLbase64(\"\\xfb\\xff\")", "any", r#""-_8=""#),
        ("encoding.url_encode(\"a b/c\")", "any", r#""a+b%2Fc""#),
        ("encoding.url_decode(\"%4\")", "any", r#"ERROR 1:1: encoding.url_decode invalid URL escape "%4""#),
        ("encoding.to_json({b = 1.5, a = [1e21, 1e-7], c = \"<\"})", "any", r#""{\"a\":[1e+21,1e-7],\"b\":1.5,\"c\":\"\\u003c\"}""#),
        ("encoding.to_json(\"x\")", "any", "ERROR 1:1: encoding.to_json jsonEncode only supports map"),
        ("json_path(\"{\\\"a\\\": [{\\\"b\\\": 1}, {\\\"b\\\": 2}]}\", \"$.a[*].b\")", "any", "[1, 2]"),
        ("json_path(\"{\\\"a\\\": {\\\"b\\\": {\\\"c\\\": 3}}}\", \"..c\")", "any", "[3]"),
        ("json_path(\"[{\\\"n\\\": 1}, {\\\"n\\\": 5}]\", \"[?(@.n > 2)].n\")", "any", "[5]"),
    ]);
}

#[test]
fn string_and_file_functions() {
    check(&[
        ("string.format(\"%s=%d\", \"a\", 1)", "any", r#""a=1""#),
        ("string.format(\"%6.2f|%-5s|%05d\", 3.14159, \"ab\", -42)", "any", r#""  3.14|ab   |-0042""#),
        ("string.format(\"%v %v %v\", [1, \"a\"], {k = true}, null)", "any", r#""[1 a] map[k:true] <nil>""#),
        ("string.format(\"%d %s\")", "any", r#""%!d(MISSING) %!s(MISSING)""#),
        ("string.format(\"%t\", 1)", "any", r#""%!t(int=1)""#),
        ("string.format(\"%e %G\", 1234.5678, 1e-10)", "any", r#""1.234568e+03 1E-10""#),
        ("string.format(\"%x %X %o %b %c %U\", 255, 255, 8, 5, 9731, 9731)", "any", r#""ff FF 10 101 ☃ U+2603""#),
        ("string.format(\"%+d % d %#x %#o\", 5, 5, 255, 8)", "any", r#""+5  5 0xff 010""#),
        ("string.format(\"%q %v\", \"a\\\"b\", 1.5)", "any", r#""\"a\\\"b\" 1.5""#),
        ("string.join([\"a\", 1, 2.5], \"-\")", "any", r#""a-1-2.5""#),
        ("string.join([true], \"-\")", "any", "ERROR 1:14: true should be string, got bool"),
        ("string.replace(\"aaa\", \"a\", \"bb\")", "any", r#""bbbbbb""#),
        ("string.split(\"a,,b\", \",\")", "any", r#"["a", "", "b"]"#),
        ("string.split(\"héj\", \"\")", "any", r#"["h", "é", "j"]"#),
        ("string.to_lower(\"ÀB\")", "any", r#""àb""#),
        ("string.to_upper(\"straße\")", "any", r#""STRAßE""#),
        ("string.trim(\"xxhixy\", \"xy\")", "any", r#""hi""#),
        ("string.trim_prefix(\"prefix-x\", \"prefix-\")", "any", r#""x""#),
        ("string.trim_suffix(\"x.alloy\", \".alloy\")", "any", r#""x""#),
        ("string.trim_space(\"\\u3000 hi\\n\")", "any", r#""hi""#),
        ("string.to_upper(true)", "any", "ERROR 1:17: true should be string, got bool"),
        ("file.path_join(\"a\", \"../b\", \"c/\")", "any", r#""b/c""#),
        ("file.path_join(\"/\", \"..\")", "any", r#""/""#),
        ("file.path_join()", "any", r#""""#),
        ("to_upper(\"x\")", "any", r#""X""#),
    ]);
}
