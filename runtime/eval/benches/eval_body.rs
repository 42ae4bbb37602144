//! Evaluates a large generated argument body: 10k objects with references, arithmetic,
//! indexing and function calls. Prints the time per AST node.
//!
//! `cargo bench -p alloy-eval --bench eval_body`

use std::time::Instant;

use eval::{Evaluator, Scope, Value};
use syntax::ast::Expr;

fn generate(n: usize) -> String {
    let mut s = String::from("[\n");
    for i in 0..n {
        s.push_str(&format!(
            "  {{ name = \"target_{i}\", port = base_port + {i} % 100, enabled = {i} % 2 == 0 && true, \
             address = string.format(\"%s:%d\", host, base_port + {i}), \
             labels = {{ job = labels.job, instance = string.to_upper(\"i{i}\"), \"le\" = labels[\"le\"] }}, \
             targets = [targets[0], targets[{i} % 3]], weight = ({i} * 1.5) / 2 - 1 }},\n"
        ));
    }
    s.push(']');
    s
}

fn count_nodes(e: &Expr) -> usize {
    1 + match e {
        Expr::Literal(_) | Expr::Ident(_) => 0,
        Expr::Array(a) => a.elements.iter().map(count_nodes).sum(),
        Expr::Object(o) => o.fields.iter().map(|f| count_nodes(&f.value)).sum(),
        Expr::Access(a) => count_nodes(&a.value),
        Expr::Index(i) => count_nodes(&i.value) + count_nodes(&i.index),
        Expr::Call(c) => count_nodes(&c.callee) + c.args.iter().map(count_nodes).sum::<usize>(),
        Expr::Unary(u) => count_nodes(&u.operand),
        Expr::Binary(b) => count_nodes(&b.left) + count_nodes(&b.right),
        Expr::Paren(p) => count_nodes(&p.inner),
    }
}

fn main() {
    let src = generate(10_000);
    let parsed = syntax::parse_expression(src.as_bytes());
    assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics.first());
    let nodes = count_nodes(&parsed.tree);

    let mut scope = Scope::new();
    scope.set("base_port", Value::int(8000));
    scope.set("host", Value::string("localhost"));
    let mut labels = eval::Object::new();
    labels.insert("job", Value::string("integrations/node"));
    labels.insert("le", Value::string("0.5"));
    scope.set("labels", Value::object(labels));
    scope.set(
        "targets",
        eval::eval_source(r#"[{__address__ = "a:1"}, {__address__ = "b:2"}, {__address__ = "c:3"}]"#, &Scope::new()).map(|r| r.0).unwrap_or_default(),
    );

    let runs = 20;
    let mut best = f64::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        let mut ev = Evaluator::new(&parsed.lines, &scope);
        let v = ev.eval(&parsed.tree).expect("evaluates");
        std::hint::black_box(v);
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!("eval_body: {} objects, {nodes} nodes, best of {runs}: {:.2} ms, {:.1} ns/node", 10_000, best * 1e3, best * 1e9 / nodes as f64);
}
