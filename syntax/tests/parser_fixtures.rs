//! Data-driven parser tests: every fixture under `fixtures/parser/` is parsed and its
//! diagnostics (in upstream's line format and as a report for people) and a compact dump of its
//! tree are compared with an insta snapshot. One fixture per error class.

use std::fmt::Write as _;

use syntax::ast::*;
use syntax::diagnostics::{render_pretty, render_short};

#[test]
fn parser_fixtures() {
    insta::glob!("../../fixtures/parser", "**/*.alloy", |path| {
        let src = std::fs::read_to_string(path).expect("fixture is readable");
        let parsed = syntax::parse_file(src.as_bytes());
        let mut out = String::new();
        let _ = writeln!(out, "--- diagnostics");
        out.push_str(&render_short("", &parsed.lines, &parsed.diagnostics));
        if !parsed.diagnostics.is_empty() {
            let _ = writeln!(out, "--- report");
            out.push_str(&render_pretty("input.alloy", &src, &parsed.diagnostics, false));
        }
        let _ = writeln!(out, "--- tree");
        for stmt in &parsed.tree.body {
            dump_stmt(&mut out, stmt, 0);
        }
        let _ = writeln!(out, "--- comments");
        for group in &parsed.tree.comment_groups {
            let texts: Vec<&str> = parsed.tree.comments[group.start as usize..group.end as usize].iter().map(|c| &*c.text).collect();
            let _ = writeln!(out, "{texts:?}");
        }
        insta::assert_snapshot!(out);
    });
}

fn dump_stmt(out: &mut String, stmt: &Stmt, depth: usize) {
    let pad = "  ".repeat(depth);
    match stmt {
        Stmt::Attribute(a) => {
            let _ = writeln!(out, "{pad}attr {} @{} = {}", a.name.name, a.name.span.start, dump_expr(&a.value));
        }
        Stmt::Block(b) => {
            let label = b.label.as_ref().map(|l| format!(" {:?}", l.value.as_str())).unwrap_or_default();
            let _ = writeln!(out, "{pad}block {}{label} @{}..{}", b.name, b.name_span.start, b.rcurly.end);
            for s in &b.body {
                dump_stmt(out, s, depth + 1);
            }
        }
    }
}

fn dump_expr(e: &Expr) -> String {
    match e {
        Expr::Literal(l) => format!("{:?}({})", l.kind, l.text),
        Expr::Ident(i) => i.name.to_string(),
        Expr::Array(a) => format!("[{}]", a.elements.iter().map(dump_expr).collect::<Vec<_>>().join(", ")),
        Expr::Object(o) => format!(
            "{{{}}}",
            o.fields.iter().map(|f| format!("{}{} = {}", if f.quoted { "q:" } else { "" }, f.key.name, dump_expr(&f.value))).collect::<Vec<_>>().join(", ")
        ),
        Expr::Access(a) => format!("{}.{}", dump_expr(&a.value), a.field.name),
        Expr::Index(i) => format!("{}[{}]", dump_expr(&i.value), dump_expr(&i.index)),
        Expr::Call(c) => format!("{}({})", dump_expr(&c.callee), c.args.iter().map(dump_expr).collect::<Vec<_>>().join(", ")),
        Expr::Unary(u) => format!("({}{})", u.op.as_str(), dump_expr(&u.operand)),
        Expr::Binary(b) => format!("({} {} {})", dump_expr(&b.left), b.op.as_str(), dump_expr(&b.right)),
        Expr::Paren(p) => format!("paren({})", dump_expr(&p.inner)),
    }
}
