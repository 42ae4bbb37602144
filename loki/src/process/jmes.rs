//! The JMESPath subset `stage.json` expressions use: field names (bare or quoted), `.` to
//! descend, and `[n]` to index arrays (negative from the end). A missing field yields null, as
//! in JMESPath.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Field(String),
    Index(i64),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr(Vec<Step>);

impl Expr {
    pub fn parse(s: &str) -> Result<Expr, String> {
        let b = s.as_bytes();
        let mut i = 0;
        let mut steps = Vec::new();
        let mut expect_field = true;
        while i < b.len() {
            match b[i] {
                b'[' => {
                    let end = s[i..].find(']').ok_or_else(|| format!("SyntaxError: unclosed '[' in {s:?}"))? + i;
                    let n: i64 = s[i + 1..end].trim().parse().map_err(|_| format!("SyntaxError: unsupported index in {s:?}"))?;
                    steps.push(Step::Index(n));
                    i = end + 1;
                    expect_field = false;
                }
                b'.' if !expect_field => {
                    i += 1;
                    expect_field = true;
                }
                b'"' if expect_field => {
                    let mut j = i + 1;
                    while j < b.len() && b[j] != b'"' {
                        j += if b[j] == b'\\' { 2 } else { 1 };
                    }
                    let name: String = serde_json::from_str(s.get(i..=j).unwrap_or("")).map_err(|_| format!("SyntaxError: bad quoted identifier in {s:?}"))?;
                    steps.push(Step::Field(name));
                    i = j + 1;
                    expect_field = false;
                }
                c if expect_field && (c.is_ascii_alphabetic() || c == b'_') => {
                    let start = i;
                    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                        i += 1;
                    }
                    steps.push(Step::Field(s[start..i].to_string()));
                    expect_field = false;
                }
                _ => return Err(format!("SyntaxError: unexpected character at {i} in {s:?}")),
            }
        }
        if expect_field {
            return Err(format!("SyntaxError: incomplete expression {s:?}"));
        }
        Ok(Expr(steps))
    }

    /// The field this path starts with, when it starts with one.
    pub fn first_field(&self) -> Option<&str> {
        match self.0.first() {
            Some(Step::Field(f)) => Some(f),
            _ => None,
        }
    }

    /// The value at the rest of this path (after [`Expr::first_field`]) from `v`.
    pub fn search_rest(&self, v: &Value) -> Option<Value> {
        walk(self.0.get(1..).unwrap_or_default(), v)
    }

    /// The value at this path; null when a step finds nothing.
    pub fn search(&self, doc: &Value) -> Option<Value> {
        walk(&self.0, doc)
    }
}

fn walk(steps: &[Step], doc: &Value) -> Option<Value> {
    let mut cur = doc;
    for step in steps {
        let next = match (step, cur) {
            (Step::Field(f), Value::Object(m)) => m.get(f),
            (Step::Index(n), Value::Array(a)) => {
                let idx = if *n < 0 { a.len() as i64 + n } else { *n };
                usize::try_from(idx).ok().and_then(|i| a.get(i))
            }
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None => return Some(Value::Null),
        }
    }
    Some(cur.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fields_and_indexes() {
        let doc: Value = serde_json::from_str(r#"{"a":{"b":[1,{"c":"x"}]},"d.e":true}"#).expect("json");
        let get = |e: &str| Expr::parse(e).expect("parses").search(&doc);
        assert_eq!(get("a.b[1].c"), Some(Value::String("x".into())));
        assert_eq!(get("a.b[-2]"), Some(serde_json::json!(1)));
        assert_eq!(get("\"d.e\""), Some(Value::Bool(true)));
        assert_eq!(get("a.missing"), Some(Value::Null));
        assert!(Expr::parse("a.*").is_err() && Expr::parse("a.").is_err());
    }
}
