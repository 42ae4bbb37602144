//! Values printed in Alloy syntax as upstream's value renderer and formatter print them
//!: objects always multi-line with sorted keys (map objects) and aligned `=`,
//! arrays on one line unless an element spans lines, Go-style string quoting.

use crate::value::{Object, Value};

/// Rendering options.
#[derive(Clone, Copy, Debug, Default)]
pub struct RenderOptions {
    /// Prints secrets' text instead of `(secret)`. Off unless a caller explicitly asks.
    pub unredact_secrets: bool,
}

/// The value as Alloy source text (no trailing newline).
pub fn render(v: &Value) -> String {
    render_with(v, RenderOptions::default())
}

pub fn render_with(v: &Value, opts: RenderOptions) -> String {
    let mut out = String::new();
    write_value(v, 0, opts, &mut out);
    out
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push('\t');
    }
}

fn write_value(v: &Value, depth: usize, opts: RenderOptions, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_text()),
        Value::String(s) => out.push_str(&syntax::quote::go_quote_bytes(s.as_bytes())),
        Value::Array(_) | Value::Bytes(_) => write_list(v, out, |it, out| write_value(it, depth, opts, out)),
        Value::Object(o) => write_object(o, depth, opts, out),
        Value::Function(_) => out.push_str("function"),
        Value::Secret(s) => {
            if opts.unredact_secrets {
                out.push_str(&syntax::quote::go_quote_bytes(s.expose().as_bytes()));
            } else {
                out.push_str("(secret)");
            }
        }
        Value::OptionalSecret(os) => {
            if os.is_secret && !opts.unredact_secrets {
                out.push_str("(secret)");
            } else {
                out.push_str(&syntax::quote::go_quote_bytes(os.expose().as_bytes()));
            }
        }
        Value::Capsule(c) => match c.0.to_object() {
            Some(o) => write_object(&o, depth, opts, out),
            None => {
                out.push_str("capsule(");
                out.push_str(&syntax::quote::go_quote(c.type_name()));
                out.push(')');
            }
        },
    }
}

/// The elements of an array as `[a, b]`, each written by `item`.
pub(crate) fn write_list(v: &Value, out: &mut String, mut item: impl FnMut(&Value, &mut String)) {
    out.push('[');
    for (i, it) in v.items().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        item(&it, out);
    }
    out.push(']');
}

/// An object key: bare when it is a valid identifier, Go-quoted otherwise.
pub fn render_key(k: &str) -> String {
    if syntax::lexer::is_valid_identifier(k) {
        k.to_string()
    } else {
        syntax::quote::go_quote(k)
    }
}

fn write_object(o: &Object, depth: usize, opts: RenderOptions, out: &mut String) {
    if o.is_empty() {
        out.push_str("{}");
        return;
    }
    let rendered: Vec<(String, String)> = o
        .entries()
        .into_iter()
        .map(|(k, v)| {
            let mut s = String::new();
            write_value(v, depth + 1, opts, &mut s);
            (render_key(k), s)
        })
        .collect();
    out.push_str("{\n");
    // Keys align within runs of fields; a multi-line value ends its run.
    let mut start = 0;
    while start < rendered.len() {
        let mut end = start;
        while end < rendered.len() {
            end += 1;
            if rendered[end - 1].1.contains('\n') {
                break;
            }
        }
        let width = rendered[start..end].iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
        for (k, v) in &rendered[start..end] {
            indent(out, depth + 1);
            out.push_str(k);
            for _ in k.chars().count()..width {
                out.push(' ');
            }
            out.push_str(" = ");
            out.push_str(v);
            out.push_str(",\n");
        }
        start = end;
    }
    indent(out, depth);
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn spec_example() {
        let (v, _) = crate::eval_source(r#"{a = 1, bb = {c = [1, {d = "x"}]}, "my key" = null}"#, &crate::Scope::new()).unwrap();
        assert_eq!(render(&v), "{\n\ta  = 1,\n\tbb = {\n\t\tc = [1, {\n\t\t\td = \"x\",\n\t\t}],\n\t},\n\t\"my key\" = null,\n}");
        assert_eq!(render(&Value::secret("hunter2")), "(secret)");
    }
}
