//! Decoding into a Rust configuration struct: text forms and attribute paths in errors.

use eval::decode::{ByteSize, Decode, Duration, StructDecoder};
use eval::{eval_and_decode, Scope, Secret, ValueError};

#[derive(Debug)]
struct Endpoint {
    url: String,
    timeout: Duration,
    max_size: ByteSize,
    password: Option<Secret>,
    headers: std::collections::BTreeMap<String, String>,
}

impl Decode for Endpoint {
    fn decode(v: &eval::Value) -> Result<Self, ValueError> {
        let mut d = StructDecoder::new(v)?;
        let e = Endpoint {
            url: d.required("url")?,
            timeout: d.optional("timeout")?.unwrap_or(Duration { nanos: 10_000_000_000 }),
            max_size: d.optional("max_size")?.unwrap_or(ByteSize(1 << 20)),
            password: d.optional("password")?,
            headers: d.optional("headers")?.unwrap_or_default(),
        };
        d.finish()?;
        Ok(e)
    }
}

#[derive(Debug)]
struct Args {
    endpoints: Vec<Endpoint>,
}

impl Decode for Args {
    fn decode(v: &eval::Value) -> Result<Self, ValueError> {
        let mut d = StructDecoder::new(v)?;
        let a = Args { endpoints: d.required("endpoints")? };
        d.finish()?;
        Ok(a)
    }
}

fn decode(src: &str) -> Result<Args, String> {
    eval_and_decode::<Args>(src, &Scope::new()).map_err(|e| e.render(""))
}

#[test]
fn decodes_text_forms() {
    let a = decode(r#"{endpoints = [{url = "http://a", timeout = "1m30s", max_size = "512KiB", password = "pw", headers = {x = 1}}]}"#).unwrap();
    let e = &a.endpoints[0];
    assert_eq!(e.url, "http://a");
    assert_eq!(e.timeout.nanos, 90_000_000_000);
    assert_eq!(e.timeout.to_string(), "1m30s");
    assert_eq!(e.max_size.0, 512 * 1024);
    assert_eq!(e.password.as_ref().map(|p| p.expose().to_string_lossy().into_owned()).as_deref(), Some("pw"));
    assert_eq!(e.headers.get("x").map(String::as_str), Some("1"));
    assert_eq!(format!("{:?}", e.password), "Some((secret))");
}

#[test]
fn errors_name_the_attribute_path() {
    assert_eq!(decode(r#"{endpoints = [{url = "a"}, {url = true}]}"#).unwrap_err(), "1:35: true should be string, got bool");
    let mut scope = Scope::new();
    scope.set("cfg", eval::testing::parse_binding(r#"{endpoints = [{url = "a", timeout = "soon"}]}"#).unwrap());
    assert_eq!(eval_and_decode::<Args>("cfg", &scope).unwrap_err().render(""), r#"1:1: cfg.endpoints[0].timeout time: invalid duration "soon""#);
    assert_eq!(
        eval_and_decode::<Args>("cfg.endpoints[0]", &scope).map(|_| ()).unwrap_err().render(""),
        r#"1:1: cfg.endpoints[0] missing required attribute "endpoints""#
    );
    assert_eq!(decode(r#"{endpoints = [{url = "a", nope = 1}]}"#).unwrap_err(), r#"1:15: {url = "a", nope = 1} does not have field named "nope""#);
}
