//! Stanza operators: the `operators` list of the log receivers that read text
//! (`otelcol.receiver.filelog`). Each operator is a map with a `type`; entries go through
//! them in order, or along the `output` ids they name, and leave the last one as log records.
//!
//! Common fields: `id` (default: the type), `output` (an id or a list of ids; default: the
//! next operator), `on_error` (`send`, `send_quiet`, `drop`, `drop_quiet`) and `if` (an
//! expression, see [`expr`]: when false the entry passes through untouched). The operators
//! are grouped by family: [`parsers`] (json, regex, key/value, csv, with the `timestamp`,
//! `severity`, `trace` and `scope_name` sub-parsers), [`container`], [`time`], [`severity`],
//! [`trace`], [`scope`], [`transform`]
//! (add, remove, move, copy, retain, flatten, assign_keys, noop), [`text`] (regex_replace,
//! unquote), [`filter`], [`recombine`] and [`router`].

pub mod config;
mod container;
pub mod entry;
pub mod expr;
mod filter;
pub mod otlp;
mod parsers;
mod recombine;
mod router;
mod scope;
mod severity;
#[cfg(test)]
mod tests;
mod text;
pub mod time;
mod trace;
mod transform;

use std::collections::BTreeMap;
use std::time::Instant;

use config::{Conf, ConfigError};
use entry::{Entry, Val};
use expr::Expr;

/// An entry an operator failed on, with the reason (boxed: entries are large).
pub struct Rejected {
    pub entry: Box<Entry>,
    pub message: String,
}

impl Rejected {
    pub fn new(entry: Entry, message: String) -> Rejected {
        Rejected { entry: Box::new(entry), message }
    }
}

/// What an operator does with one entry.
pub trait Operator: Send {
    /// Processes `e`, pushing what goes on to `out` (nothing: dropped or held). On failure
    /// the entry comes back with the reason, for `on_error` to decide.
    fn process(&mut self, e: Entry, out: &mut Vec<Entry>) -> Result<(), Rejected>;

    /// Releases held entries that waited long enough (`all`: every one, at shutdown).
    fn flush(&mut self, _now: Instant, _all: bool, _out: &mut Vec<Entry>) {}
}

/// An operator that changes an entry in place; `Ok(false)` drops it.
pub trait Edit: Send {
    fn edit(&self, e: &mut Entry) -> Result<bool, String>;
}

struct EditOp<T>(T);

impl<T: Edit> Operator for EditOp<T> {
    fn process(&mut self, mut e: Entry, out: &mut Vec<Entry>) -> Result<(), Rejected> {
        match self.0.edit(&mut e) {
            Ok(true) => out.push(e),
            Ok(false) => {}
            Err(why) => return Err(Rejected::new(e, why)),
        }
        Ok(())
    }
}

pub(crate) fn edit(op: impl Edit + 'static) -> Box<dyn Operator> {
    Box::new(EditOp(op))
}

/// A sub-parser (`timestamp`, `severity`, `trace`) that also runs as an operator of its own.
pub trait Apply: Send {
    fn apply(&self, e: &mut Entry) -> Result<(), String>;
}

struct Standalone<T>(T);

impl<T: Apply> Edit for Standalone<T> {
    fn edit(&self, e: &mut Entry) -> Result<bool, String> {
        self.0.apply(e)?;
        Ok(true)
    }
}

pub(crate) fn standalone(p: impl Apply + 'static) -> Box<dyn Operator> {
    edit(Standalone(p))
}

/// Operator types this runtime builds, with their builders.
type Builder = fn(&mut Conf<'_>) -> Box<dyn Operator>;

const BUILDERS: &[(&str, Builder)] = &[
    ("json_parser", parsers::json),
    ("regex_parser", parsers::regex),
    ("key_value_parser", parsers::key_value),
    ("csv_parser", parsers::csv),
    ("container", container::build),
    ("time_parser", time::build),
    ("severity_parser", severity::build),
    ("trace_parser", trace::build),
    ("scope_name_parser", scope::build),
    ("add", transform::add),
    ("remove", transform::remove),
    ("move", transform::move_op),
    ("copy", transform::copy),
    ("retain", transform::retain),
    ("flatten", transform::flatten),
    ("noop", transform::noop),
    ("assign_keys", transform::assign_keys),
    ("regex_replace", text::regex_replace),
    ("unquote", text::unquote),
    ("filter", filter::build),
    ("recombine", recombine::build),
];

/// Upstream operator types this runtime does not build yet: refused by name.
const NOT_YET: &[&str] = &["json_array_parser", "syslog_parser", "uri_parser", "stdout", "file_output", "drop_output"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OnError {
    Send,
    SendQuiet,
    Drop,
    DropQuiet,
}

struct Node {
    id: String,
    condition: Option<Expr>,
    on_error: OnError,
    /// Indices of the next operators; `nodes.len()` is the pipeline's end. A router's are
    /// all its routes' outputs (for the cycle check).
    outputs: Vec<usize>,
    op: Box<dyn Operator>,
    /// A router's routes: each entry goes along one of them instead of `outputs`.
    routes: Option<Vec<router::Route>>,
}

/// A failure an operator reported, for the component's log.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub operator: String,
    pub message: String,
    /// `send_quiet` / `drop_quiet`: logged at debug level.
    pub quiet: bool,
}

/// The configured operators, ready to run.
pub struct Pipeline {
    nodes: Vec<Node>,
}

/// A configuration problem in the operator at `index`.
#[derive(Clone, Debug, PartialEq)]
pub struct OperatorError {
    pub index: usize,
    pub error: ConfigError,
}

/// The most operator steps one entry may take: outputs can fan out, so a graph of a few
/// dozen operators could otherwise multiply one entry without end.
const MAX_STEPS: usize = 10_000;

struct Parsed {
    id: String,
    /// No `id` was written: the type serves, numbered when several operators share it.
    default_id: bool,
    outputs: Vec<String>,
    condition: Option<Expr>,
    on_error: OnError,
    op: Box<dyn Operator>,
    routes: Option<Vec<router::RouteConfig>>,
}

fn parse_one(map: &BTreeMap<String, Val>) -> (Option<Parsed>, Vec<ConfigError>) {
    let mut c = Conf::new(map, Vec::new());
    let Some(ty) = c.string("type") else {
        c.error("", "missing required field \"type\"");
        return (None, c.errors);
    };
    let builder = match ty.as_str() {
        // A router's outputs are its routes': it builds no operator of its own.
        "router" => Some(transform::noop as Builder),
        _ => BUILDERS.iter().find(|(name, _)| *name == ty).map(|(_, b)| *b),
    };
    let Some(builder) = builder else {
        let msg = if NOT_YET.contains(&ty.as_str()) {
            format!("operator type {ty:?} is not supported by this runtime yet")
        } else {
            let hint = analyzer::suggest::did_you_mean(&ty, BUILDERS.iter().map(|(n, _)| *n)).map(|h| format!("; {h}")).unwrap_or_default();
            format!("unsupported operator type {ty:?}{hint}")
        };
        c.error("type", msg);
        return (None, c.errors);
    };
    let default_id = !c.has("id");
    let id = c.string_or("id", &ty);
    let routes = (ty == "router").then(|| router::read(&mut c));
    if routes.is_some() && c.has("output") {
        c.error("output", "a router sends entries to its routes' outputs and its default");
    }
    if routes.is_some() && c.has("if") {
        c.error("if", "a router's routes carry their own expr");
    }
    let outputs = c.list_of_strings("output");
    let on_error = match c.string_or("on_error", "send").as_str() {
        "send" => OnError::Send,
        "send_quiet" => OnError::SendQuiet,
        "drop" => OnError::Drop,
        "drop_quiet" => OnError::DropQuiet,
        other => {
            c.error("on_error", format!("invalid on_error {other:?}: expected \"send\", \"send_quiet\", \"drop\" or \"drop_quiet\""));
            OnError::Send
        }
    };
    let condition = c.expr("if");
    let op = builder(&mut c);
    let errors = c.finish();
    (Some(Parsed { id, default_id, outputs, condition, on_error, op, routes }), errors)
}

impl Pipeline {
    /// Builds the operators of the `operators` argument; every problem found.
    pub fn build(ops: &[Val]) -> Result<Pipeline, Vec<OperatorError>> {
        let mut errors = Vec::new();
        let mut parsed = Vec::new();
        for (index, v) in ops.iter().enumerate() {
            let Val::Map(map) = v else {
                errors.push(OperatorError { index, error: ConfigError { keys: vec![], message: "an operator is an object".into(), within: None } });
                continue;
            };
            let (p, errs) = parse_one(map);
            errors.extend(errs.into_iter().map(|error| OperatorError { index, error }));
            parsed.push((index, p));
        }
        let mut ids: BTreeMap<String, usize> = BTreeMap::new();
        for (pos, (index, p)) in parsed.iter_mut().enumerate() {
            if let Some(p) = p {
                if p.default_id {
                    // Upstream numbers repeated default ids: json_parser, json_parser1, ...
                    let base = p.id.clone();
                    let mut n = 0;
                    while ids.contains_key(&p.id) {
                        n += 1;
                        p.id = format!("{base}{n}");
                    }
                }
                if ids.insert(p.id.clone(), pos).is_some() {
                    errors.push(OperatorError { index: *index, error: simple("id", format!("operator id {:?} is used twice", p.id)) });
                }
            }
        }
        let n = parsed.len();
        let mut nodes = Vec::new();
        for (pos, (index, p)) in parsed.into_iter().enumerate() {
            let Some(p) = p else { continue };
            let mut resolve = |wanted: &[String], key: &str| -> Vec<usize> {
                wanted
                    .iter()
                    .filter_map(|o| {
                        let found = ids.get(o).copied();
                        if found.is_none() {
                            let hint = analyzer::suggest::did_you_mean(o, ids.keys().map(String::as_str)).map(|h| format!("; {h}")).unwrap_or_default();
                            errors.push(OperatorError { index, error: simple(key, format!("operator {:?} has no output {o:?}{hint}", p.id)) });
                        }
                        found
                    })
                    .map(|o| o.min(n))
                    .collect()
            };
            let routes = p.routes.map(|routes| {
                routes
                    .into_iter()
                    .map(|r| router::Route { outputs: resolve(&r.outputs, "routes"), condition: r.condition, attributes: r.attributes })
                    .collect::<Vec<_>>()
            });
            let outputs = match (&routes, p.outputs.is_empty()) {
                (Some(routes), _) => routes.iter().flat_map(|r| r.outputs.iter().copied()).collect(),
                (None, true) => vec![(pos + 1).min(n)],
                (None, false) => resolve(&p.outputs, "output"),
            };
            nodes.push(Node { id: p.id, condition: p.condition, on_error: p.on_error, outputs, op: p.op, routes });
        }
        if errors.is_empty() {
            if let Some(at) = cycle(&nodes) {
                errors.push(OperatorError { index: at, error: simple("output", format!("operator {:?} leads back to itself", nodes[at].id)) });
            }
        }
        if errors.is_empty() {
            Ok(Pipeline { nodes })
        } else {
            Err(errors)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Runs one entry through; the entries that leave the pipeline, and what failed.
    pub fn process(&mut self, e: Entry, out: &mut Vec<Entry>, failures: &mut Vec<Failure>) {
        self.run(vec![(0, e)], out, failures);
    }

    /// Releases what operators hold (recombine) that waited long enough, or all of it.
    pub fn flush(&mut self, now: Instant, all: bool, out: &mut Vec<Entry>, failures: &mut Vec<Failure>) {
        let mut work = Vec::new();
        for node in &mut self.nodes {
            let mut released = Vec::new();
            node.op.flush(now, all, &mut released);
            for e in released {
                work.extend(node.outputs.iter().map(|&o| (o, e.clone())));
            }
        }
        self.run(work, out, failures);
    }

    fn run(&mut self, mut work: Vec<(usize, Entry)>, out: &mut Vec<Entry>, failures: &mut Vec<Failure>) {
        let mut steps = 0;
        // Processed in order: the stack is reversed so the first pushed goes first.
        work.reverse();
        while let Some((at, e)) = work.pop() {
            let Some(node) = self.nodes.get_mut(at) else {
                out.push(e);
                continue;
            };
            steps += 1;
            if steps > MAX_STEPS {
                failures.push(Failure { operator: node.id.clone(), message: "too many operator steps for one entry: dropped".into(), quiet: false });
                return;
            }
            let mut next = Vec::new();
            let applies = match &node.condition {
                None => true,
                Some(x) => x.matches(&e).unwrap_or(false),
            };
            if let (Some(routes), true) = (&node.routes, applies) {
                let mut e = e;
                if let Some(route) = router::pick(routes, &mut e) {
                    work.extend(route.outputs.iter().rev().map(|&o| (o, e.clone())));
                }
                continue;
            }
            if !applies {
                next.push(e);
            } else if let Err(r) = node.op.process(e, &mut next) {
                let quiet = matches!(node.on_error, OnError::SendQuiet | OnError::DropQuiet);
                failures.push(Failure { operator: node.id.clone(), message: r.message, quiet });
                if matches!(node.on_error, OnError::Send | OnError::SendQuiet) {
                    next.push(*r.entry);
                }
            }
            for e in next.into_iter().rev() {
                for &o in node.outputs.iter().rev() {
                    work.push((o, e.clone()));
                }
            }
        }
    }
}

fn simple(key: &str, message: String) -> ConfigError {
    ConfigError { keys: vec![eval::PathSeg::Field(key.into())], message, within: None }
}

/// The first node on a cycle of outputs, if any (outputs only point at nodes or the end).
fn cycle(nodes: &[Node]) -> Option<usize> {
    // 0 unvisited, 1 on the current path, 2 done; iterative depth-first search.
    let mut state = vec![0u8; nodes.len()];
    for start in 0..nodes.len() {
        if state[start] != 0 {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some((node, child)) = stack.pop() {
            let outs = &nodes[node].outputs;
            if child < outs.len() {
                stack.push((node, child + 1));
                let next = outs[child];
                if next >= nodes.len() {
                    continue;
                }
                match state[next] {
                    1 => return Some(next),
                    0 => {
                        state[next] = 1;
                        stack.push((next, 0));
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
            }
        }
    }
    None
}
