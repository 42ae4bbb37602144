//! Executing a parsed template: the dot, variables (`$` is the data), control flow.

use super::parse::{Arg, Cmd, Node, Pipe};
use super::{fmt, funcs, TVal};

pub(super) fn execute(nodes: &[Node], data: TVal) -> Result<String, String> {
    let mut st = State { out: String::new(), root: &data, vars: Vec::new() };
    st.walk(nodes, &data)?;
    Ok(st.out)
}

/// How a list of nodes ended.
#[derive(PartialEq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

struct State<'d> {
    out: String,
    /// `$`: the data the template was executed with.
    root: &'d TVal,
    /// Variables in scope, innermost last.
    vars: Vec<(String, TVal)>,
}

impl State<'_> {
    fn walk(&mut self, nodes: &[Node], dot: &TVal) -> Result<Flow, String> {
        for node in nodes {
            let flow = match node {
                Node::Text(t) => {
                    self.out.push_str(t);
                    Flow::Normal
                }
                Node::Action(p) => {
                    let v = self.pipe(p, dot)?;
                    if p.vars.is_empty() {
                        self.out.push_str(&fmt::action(&v));
                    }
                    Flow::Normal
                }
                Node::If { cond, then, els } => {
                    let mark = self.vars.len();
                    let v = self.pipe(cond, dot)?;
                    let flow = if v.truthy() { self.walk(then, dot) } else { self.walk(els, dot) };
                    self.vars.truncate(mark);
                    flow?
                }
                Node::With { value, then, els } => {
                    let mark = self.vars.len();
                    let v = self.pipe(value, dot)?;
                    let flow = if v.truthy() { self.walk(then, &v) } else { self.walk(els, dot) };
                    self.vars.truncate(mark);
                    flow?
                }
                Node::Range { value, body, els } => {
                    let mark = self.vars.len();
                    let flow = self.range(value, body, els, dot);
                    self.vars.truncate(mark);
                    flow?
                }
                Node::Break => Flow::Break,
                Node::Continue => Flow::Continue,
            };
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn range(&mut self, value: &Pipe, body: &[Node], els: &[Node], dot: &TVal) -> Result<Flow, String> {
        let items: Vec<(TVal, TVal)> = match self.commands(&value.cmds, dot)? {
            TVal::List(l) => l.into_iter().enumerate().map(|(i, e)| (TVal::Int(i as i64), e)).collect(),
            TVal::Map(m) => m.into_iter().map(|(k, v)| (TVal::Str(k), v)).collect(),
            TVal::StrMap(m) => m.into_iter().map(|(k, v)| (TVal::Str(k), TVal::Str(v))).collect(),
            TVal::Int(n) => (0..n.max(0)).map(|i| (TVal::Int(i), TVal::Int(i))).collect(),
            TVal::Nil => Vec::new(),
            other => return Err(format!("range can't iterate over {}", fmt::value(&other))),
        };
        if items.is_empty() {
            return self.walk(els, dot);
        }
        for (key, elem) in items {
            let mark = self.vars.len();
            match value.vars.as_slice() {
                [e] => self.vars.push((e.clone(), elem.clone())),
                [k, e] => {
                    self.vars.push((k.clone(), key));
                    self.vars.push((e.clone(), elem.clone()));
                }
                _ => {}
            }
            let flow = self.walk(body, &elem);
            self.vars.truncate(mark);
            if flow? == Flow::Break {
                break;
            }
        }
        Ok(Flow::Normal)
    }

    /// A pipeline's value, after declaring or assigning its variables.
    fn pipe(&mut self, p: &Pipe, dot: &TVal) -> Result<TVal, String> {
        let v = self.commands(&p.cmds, dot)?;
        for name in &p.vars {
            if p.declare {
                self.vars.push((name.clone(), v.clone()));
            } else {
                match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = v.clone(),
                    None => return Err(format!("undefined variable: {name}")),
                }
            }
        }
        Ok(v)
    }

    fn commands(&mut self, cmds: &[Cmd], dot: &TVal) -> Result<TVal, String> {
        let mut prev: Option<TVal> = None;
        for cmd in cmds {
            prev = Some(self.command(cmd, dot, prev)?);
        }
        prev.ok_or_else(|| "empty pipeline".into())
    }

    /// One command; `piped` is the previous command's value, passed as the last argument.
    fn command(&mut self, cmd: &Cmd, dot: &TVal, piped: Option<TVal>) -> Result<TVal, String> {
        let Some(Arg::Func(name)) = cmd.first() else {
            if cmd.len() > 1 || piped.is_some() {
                return Err(format!("can't give argument to non-function {:?}", cmd[0]));
            }
            return self.arg(&cmd[0], dot);
        };
        if name == "and" || name == "or" {
            // Go evaluates these lazily, left to right.
            let n = cmd.len() - 1 + usize::from(piped.is_some());
            if n == 0 {
                return Err(format!("wrong number of args for {name}: want at least 1 got 0"));
            }
            let mut last = TVal::Nil;
            for a in &cmd[1..] {
                last = self.arg(a, dot)?;
                if last.truthy() == (name == "or") {
                    return Ok(last);
                }
            }
            return Ok(piped.unwrap_or(last));
        }
        let mut args = cmd[1..].iter().map(|a| self.arg(a, dot)).collect::<Result<Vec<_>, _>>()?;
        args.extend(piped);
        funcs::call(name, &args)
    }

    fn arg(&mut self, a: &Arg, dot: &TVal) -> Result<TVal, String> {
        Ok(match a {
            Arg::Dot => dot.clone(),
            Arg::Field(chain) => fields(dot, chain)?,
            Arg::Var(name, chain) => {
                let v = if name == "$" {
                    self.root
                } else {
                    match self.vars.iter().rev().find(|(n, _)| n == name) {
                        Some((_, v)) => v,
                        None => return Err(format!("undefined variable: {name}")),
                    }
                };
                fields(v, chain)?
            }
            Arg::Pipe(p, chain) => {
                let v = self.commands(&p.cmds, dot)?;
                fields(&v, chain)?
            }
            Arg::Str(s) => TVal::Str(s.clone()),
            Arg::Int(i) => TVal::Int(*i),
            Arg::Float(f) => TVal::Float(*f),
            Arg::Bool(b) => TVal::Bool(*b),
            Arg::Nil => TVal::Nil,
            Arg::Func(name) => funcs::call(name, &[])?,
        })
    }
}

static NIL: TVal = TVal::Nil;

/// `v.a.b`: map entries (a missing one is Go's invalid value, `<no value>`).
fn fields(v: &TVal, chain: &[String]) -> Result<TVal, String> {
    let mut cur = v;
    for (i, name) in chain.iter().enumerate() {
        cur = match cur {
            TVal::Map(m) => m.get(name).unwrap_or(&NIL),
            TVal::StrMap(m) => match m.get(name) {
                None => &NIL,
                Some(s) if i + 1 == chain.len() => return Ok(TVal::Str(s.clone())),
                Some(_) => return Err(format!("can't evaluate field {} in type string", chain[i + 1])),
            },
            TVal::Nil => &NIL,
            other => return Err(format!("can't evaluate field {name} in type {}", other.type_name())),
        };
    }
    Ok(cur.clone())
}
