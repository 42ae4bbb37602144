//! The converter's Alloy tree: blocks, attributes and expressions as the converters build them,
//! rendered to text in the layout of upstream's token builder, then parsed and printed with the
//! project's formatter (upstream prints its builder output the same way, so positions in the
//! raw text decide which lists and objects span several lines).

use syntax::lexer::is_valid_identifier;
use syntax::quote::go_quote;

/// An expression as the converters produce it.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A reference or other raw expression text (`prometheus.remote_write.default.receiver`).
    Raw(String),
    /// Printed on one line: `["a", "b"]` (objects inside still spread over lines).
    Array(Vec<Expr>),
    /// Printed one field a line, with a trailing comma; keys are kept in the given order.
    Object(Vec<(String, Expr)>),
    /// `name(` then one argument a line `)`.
    Call(String, Vec<Expr>),
}

impl Expr {
    pub fn str(s: impl Into<String>) -> Expr {
        Expr::Str(s.into())
    }

    pub fn raw(s: impl Into<String>) -> Expr {
        Expr::Raw(s.into())
    }

    pub fn strings<S: AsRef<str>>(items: &[S]) -> Expr {
        Expr::Array(items.iter().map(|s| Expr::Str(s.as_ref().to_string())).collect())
    }

    /// An object from a string map, keys sorted (as Go's map printing does).
    pub fn string_map(entries: &[(String, String)]) -> Expr {
        let mut e: Vec<(String, Expr)> = entries.iter().map(|(k, v)| (k.clone(), Expr::Str(v.clone()))).collect();
        e.sort_by(|a, b| a.0.cmp(&b.0));
        e.dedup_by(|a, b| a.0 == b.0);
        Expr::Object(e)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    Attr(String, Expr),
    Block(Block),
}

/// `name "label" { body }`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Block {
    pub name: String,
    pub label: Option<String>,
    pub body: Vec<Stmt>,
}

impl Block {
    pub fn new(name: impl Into<String>, label: Option<&str>) -> Block {
        Block { name: name.into(), label: label.map(str::to_string), body: Vec::new() }
    }

    /// `name.label` (or `name`).
    pub fn full_name(&self) -> String {
        match &self.label {
            Some(l) => format!("{}.{}", self.name, l),
            None => self.name.clone(),
        }
    }

    pub fn attr(&mut self, name: &str, value: Expr) -> &mut Self {
        self.body.push(Stmt::Attr(name.to_string(), value));
        self
    }

    pub fn block(&mut self, b: Block) -> &mut Self {
        self.body.push(Stmt::Block(b));
        self
    }

    /// Appends `name = value()` when `keep`; the `opt_*` helpers below leave out defaults.
    fn attr_if(&mut self, name: &str, keep: bool, value: impl FnOnce() -> Expr) -> &mut Self {
        if keep {
            self.attr(name, value());
        }
        self
    }

    /// A string attribute unless it equals `default`.
    pub fn opt_str(&mut self, name: &str, value: &str, default: &str) -> &mut Self {
        self.attr_if(name, value != default, || Expr::str(value))
    }

    pub fn opt_bool(&mut self, name: &str, value: bool, default: bool) -> &mut Self {
        self.attr_if(name, value != default, || Expr::Bool(value))
    }

    pub fn opt_int(&mut self, name: &str, value: i64, default: i64) -> &mut Self {
        self.attr_if(name, value != default, || Expr::Int(value))
    }

    pub fn opt_float(&mut self, name: &str, value: f64, default: f64) -> &mut Self {
        self.attr_if(name, value != default, || Expr::Float(value))
    }

    /// A duration (nanoseconds) printed in Go's form, unless it equals `default`.
    pub fn opt_duration(&mut self, name: &str, nanos: i64, default: i64) -> &mut Self {
        self.attr_if(name, nanos != default, || Expr::Str(crate::values::go_duration(nanos)))
    }

    pub fn opt_strings(&mut self, name: &str, value: &[String]) -> &mut Self {
        self.attr_if(name, !value.is_empty(), || Expr::strings(value))
    }

    /// A sorted object of strings unless empty.
    pub fn opt_map(&mut self, name: &str, value: &[(String, String)]) -> &mut Self {
        self.attr_if(name, !value.is_empty(), || Expr::string_map(value))
    }

    /// Appends the block unless it has an empty body.
    pub fn opt_block(&mut self, b: Block) -> &mut Self {
        if !b.body.is_empty() {
            self.block(b);
        }
        self
    }
}

/// An Alloy file under construction.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct File {
    pub blocks: Vec<Block>,
}

impl File {
    /// The raw text, one statement a line, as upstream's builder writes it.
    pub fn raw_text(&self) -> String {
        let mut out = String::new();
        for b in &self.blocks {
            write_block(&mut out, b);
        }
        out
    }
}

fn write_block(out: &mut String, b: &Block) {
    out.push_str(&b.name);
    if let Some(l) = &b.label {
        out.push(' ');
        out.push_str(&go_quote(l));
    }
    out.push_str(" {\n");
    for s in &b.body {
        match s {
            Stmt::Attr(name, value) => {
                out.push_str(name);
                out.push_str(" = ");
                write_expr(out, value);
                out.push('\n');
            }
            Stmt::Block(inner) => write_block(out, inner),
        }
    }
    out.push_str("}\n");
}

fn write_expr(out: &mut String, e: &Expr) {
    match e {
        Expr::Str(s) => out.push_str(&go_quote(s)),
        Expr::Int(i) => out.push_str(&i.to_string()),
        Expr::Float(f) => out.push_str(&crate::values::go_float(*f)),
        Expr::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Expr::Raw(r) => out.push_str(r),
        Expr::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, item);
            }
            out.push(']');
        }
        Expr::Object(fields) => {
            if fields.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{\n");
            for (k, v) in fields {
                if is_valid_identifier(k) {
                    out.push_str(k);
                } else {
                    out.push_str(&go_quote(k));
                }
                out.push_str(" = ");
                write_expr(out, v);
                out.push_str(",\n");
            }
            out.push('}');
        }
        Expr::Call(name, args) => {
            out.push_str(name);
            out.push_str("(\n");
            for a in args {
                write_expr(out, a);
                out.push_str(",\n");
            }
            out.push(')');
        }
    }
}

/// Parses `raw` and prints it with the canonical formatter, ending with one newline. A parse
/// failure is returned as the parser's first message.
pub fn pretty_print(raw: &str) -> Result<String, String> {
    syntax::format::format_source(raw.as_bytes()).map(|text| text + "\n").map_err(|diags| {
        let lines = syntax::LineIndex::new(raw.as_bytes());
        let d = diags.iter().find(|d| d.is_error());
        d.map(|d| format!("{}: {}", lines.line_col(d.span.start), d.message)).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_upstream() {
        let mut b = Block::new("prometheus.scrape", Some("x"));
        b.attr(
            "targets",
            Expr::Call(
                "array.concat".into(),
                vec![Expr::raw("discovery.a.b.targets"), Expr::Array(vec![Expr::Object(vec![("__address__".into(), Expr::str("h:1"))])])],
            ),
        );
        b.attr("forward_to", Expr::Array(vec![Expr::raw("prometheus.remote_write.default.receiver")]));
        b.attr("job_name", Expr::str("x"));
        let mut auth = Block::new("basic_auth", None);
        auth.attr("username", Expr::str("u"));
        b.block(auth);
        b.block(Block::new("queue_config", None));
        let f = File { blocks: vec![b] };
        let text = pretty_print(&f.raw_text()).unwrap();
        assert_eq!(
            text,
            "prometheus.scrape \"x\" {\n\ttargets = array.concat(\n\t\tdiscovery.a.b.targets,\n\t\t[{\n\t\t\t__address__ = \"h:1\",\n\t\t}],\n\t)\n\tforward_to = [prometheus.remote_write.default.receiver]\n\tjob_name   = \"x\"\n\n\tbasic_auth {\n\t\tusername = \"u\"\n\t}\n\n\tqueue_config { }\n}\n"
        );
    }
}
