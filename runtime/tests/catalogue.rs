//! Every registered component against the analyzer's catalogue: the name exists, nothing is
//! registered twice, every argument and block of the catalogue entry is read or declared
//! unsupported by the component's decoder, and the exports match.

use std::collections::BTreeSet;

use analyzer::catalog::{Body, Catalog, Kind};
use analyzer::types::Ty;
use eval::{Object, Value};
use runtime::component::Registrations;

/// A value of every catalogue type, for decoding a fully written configuration.
fn sample(ty: &Ty) -> Value {
    match ty {
        Ty::String | Ty::Regex => Value::string("x"),
        Ty::Url => Value::string("http://127.0.0.1:1"),
        Ty::Duration => Value::string("1s"),
        Ty::Size => Value::string("1KiB"),
        Ty::Number => Value::int(1),
        Ty::Bool => Value::Bool(false),
        Ty::Secret => Value::secret("x"),
        Ty::OptSecret => Value::optional_secret("x", false),
        Ty::List(_) => Value::array(vec![]),
        Ty::Map(_) | Ty::Object => Value::object(Object::new()),
        _ => analyzer::args::unknown(),
    }
}

/// Every attribute (its default, else a sample) and every block once, recursively.
fn full(body: &Body) -> Value {
    let mut o = Object::ordered();
    for a in &body.attrs {
        let v = a.default.as_deref().and_then(analyzer::args::catalogue_default).unwrap_or_else(|| sample(&a.ty));
        o.insert(a.name.as_str(), v);
    }
    for b in &body.blocks {
        let mut inner = full(&b.body);
        if b.label {
            if let Value::Object(obj) = &mut inner {
                std::sync::Arc::make_mut(obj).insert("label", Value::string("x"));
            }
        }
        o.insert(b.name.as_str(), if b.repeatable { Value::array(vec![inner]) } else { inner });
    }
    Value::object(o)
}

/// The dotted names of everything in a body.
fn names(body: &Body, prefix: &str, out: &mut BTreeSet<String>) {
    for a in &body.attrs {
        out.insert(format!("{prefix}{}", a.name));
    }
    for b in &body.blocks {
        let name = format!("{prefix}{}", b.name);
        out.insert(name.clone());
        names(&b.body, &format!("{name}."), out);
    }
}

/// A name counts as handled when it, or a block around it, is read whole; a block is
/// handled when something inside it is.
fn handled(name: &str, seen: &BTreeSet<String>) -> bool {
    if seen.iter().any(|s| s.starts_with(&format!("{name}."))) {
        return true;
    }
    let mut prefix = name;
    loop {
        if seen.contains(prefix) && (prefix == name || !seen.iter().any(|s| s.starts_with(&format!("{prefix}.")))) {
            return true;
        }
        match prefix.rsplit_once('.') {
            Some((p, _)) => prefix = p,
            None => return false,
        }
    }
}

#[test]
fn every_registration_matches_the_catalogue() {
    let list = runtime::components::registrations();
    let regs = Registrations::new(list.clone());
    assert!(regs.duplicates.is_empty(), "registered twice: {:?}", regs.duplicates);
    let mut problems = Vec::new();
    for r in &list {
        let Some(entry) = Catalog::get().lookup(r.name) else {
            problems.push(format!("{}: not in the catalogue", r.name));
            continue;
        };
        match (entry.kind, r.build.is_some()) {
            (Kind::Component, false) => problems.push(format!("{}: a component registered without a build", r.name)),
            (Kind::Config, true) => problems.push(format!("{}: a config block registered as a component", r.name)),
            _ => {}
        }
        let exports: BTreeSet<&str> = entry.exports.iter().map(|(n, _)| n.as_str()).collect();
        let registered: BTreeSet<&str> = r.exports.iter().copied().collect();
        if exports != registered {
            problems.push(format!("{}: exports {registered:?}, the catalogue says {exports:?}", r.name));
        }
        let coverage = (r.coverage)(r.name, &full(&entry.body));
        if !coverage.misread.is_empty() {
            problems.push(format!("{}: computed defaults read as plain values (use Reader::computed): {:?}", r.name, coverage.misread));
        }
        let seen = coverage.seen;
        let mut all = BTreeSet::new();
        names(&entry.body, "", &mut all);
        let missing: Vec<&String> = all.iter().filter(|n| !handled(n, &seen)).collect();
        if !missing.is_empty() {
            problems.push(format!("{}: neither read nor declared unsupported: {missing:?}", r.name));
        }
        // An inheriting block (`stage.match`) reads the top-level blocks inside itself.
        let inheriting: Vec<String> = entry.body.blocks.iter().filter(|b| b.inherit).map(|b| format!("{}.", b.name)).collect();
        let inherited = |n: &str| inheriting.iter().any(|p| n.strip_prefix(p.as_str()).is_some_and(|rest| all.contains(rest)));
        let unknown: Vec<&String> = seen.iter().filter(|n| !all.contains(*n) && !inherited(n)).collect();
        if !unknown.is_empty() {
            problems.push(format!("{}: reads names the catalogue does not have: {unknown:?}", r.name));
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}
