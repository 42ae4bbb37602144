//! `json_path`: a JSONPath evaluator for the Goessner syntax upstream accepts: `$`, `@`,
//! `.name`, `..name`, `.*`, `[n]`, `[-n]`, `[*]`, `['a', "b"]`, `[n, m]`, `[start:end:step]`
//! and filters `[?(@.a == "x" && @.b > 1)]`. A path may start with `.` or `[` (relative to
//! the root). The result is always a list of matches.

use crate::value::{values_equal, Value};

#[derive(Clone, Debug)]
enum Seg {
    Child(String),
    Wild,
    Descend(Box<Seg>),
    Indexes(Vec<i64>),
    Names(Vec<String>),
    Slice(Option<i64>, Option<i64>, i64),
    Filter(Box<FExpr>),
}

#[derive(Clone, Debug)]
enum FExpr {
    Or(Box<FExpr>, Box<FExpr>),
    And(Box<FExpr>, Box<FExpr>),
    Not(Box<FExpr>),
    Cmp(Operand, &'static str, Operand),
    Exists(Vec<Seg>),
}

#[derive(Clone, Debug)]
enum Operand {
    Path(Vec<Seg>),
    Lit(Value),
}

pub fn query(doc: &Value, path: &str) -> Result<Vec<Value>, String> {
    let mut p = P { s: path.as_bytes(), i: 0 };
    p.ws();
    let _root = p.eat(b'$') || p.eat(b'@');
    let segs = p.segments()?;
    p.ws();
    if p.i < p.s.len() {
        return Err(format!("parse error at {} in {path}", p.i + 1));
    }
    Ok(apply(&segs, vec![doc.clone()]))
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i] == b' ' {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn err<T>(&self) -> Result<T, String> {
        Err(format!("parse error at {} in {}", self.i + 1, String::from_utf8_lossy(self.s)))
    }
    fn name(&mut self) -> String {
        let start = self.i;
        while self.i < self.s.len() && !b".[]()=!<>&|, ".contains(&self.s[self.i]) {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn segments(&mut self) -> Result<Vec<Seg>, String> {
        let mut segs = Vec::new();
        loop {
            if self.s[self.i..].starts_with(b"..") {
                self.i += 2;
                let inner = if self.eat(b'*') {
                    Seg::Wild
                } else if self.s.get(self.i) == Some(&b'[') {
                    self.bracket()?
                } else {
                    Seg::Child(self.name())
                };
                segs.push(Seg::Descend(Box::new(inner)));
            } else if self.eat(b'.') {
                if self.eat(b'*') {
                    segs.push(Seg::Wild);
                } else {
                    let n = self.name();
                    if n.is_empty() {
                        return self.err();
                    }
                    segs.push(Seg::Child(n));
                }
            } else if self.s.get(self.i) == Some(&b'[') {
                segs.push(self.bracket()?);
            } else if segs.is_empty() && self.i < self.s.len() && (self.s[self.i].is_ascii_alphabetic() || self.s[self.i] == b'_') {
                segs.push(Seg::Child(self.name()));
            } else {
                return Ok(segs);
            }
        }
    }

    fn bracket(&mut self) -> Result<Seg, String> {
        self.i += 1;
        self.ws();
        if self.eat(b'*') {
            self.ws();
            if !self.eat(b']') {
                return self.err();
            }
            return Ok(Seg::Wild);
        }
        if self.eat(b'?') {
            self.ws();
            let paren = self.eat(b'(');
            let e = self.or_expr()?;
            self.ws();
            if paren && !self.eat(b')') {
                return self.err();
            }
            self.ws();
            if !self.eat(b']') {
                return self.err();
            }
            return Ok(Seg::Filter(Box::new(e)));
        }
        if matches!(self.s.get(self.i), Some(b'\'' | b'"')) {
            let mut names = Vec::new();
            loop {
                self.ws();
                names.push(self.quoted()?);
                self.ws();
                if self.eat(b']') {
                    return Ok(Seg::Names(names));
                }
                if !self.eat(b',') {
                    return self.err();
                }
            }
        }
        // Numbers or a slice.
        let first = self.int();
        self.ws();
        if self.eat(b':') {
            self.ws();
            let end = self.int();
            self.ws();
            let step = if self.eat(b':') {
                self.ws();
                self.int().unwrap_or(1)
            } else {
                1
            };
            self.ws();
            if !self.eat(b']') {
                return self.err();
            }
            return Ok(Seg::Slice(first, end, step));
        }
        let mut idx = vec![match first {
            Some(i) => i,
            None => return self.err(),
        }];
        loop {
            self.ws();
            if self.eat(b']') {
                return Ok(Seg::Indexes(idx));
            }
            if !self.eat(b',') {
                return self.err();
            }
            self.ws();
            match self.int() {
                Some(i) => idx.push(i),
                None => return self.err(),
            }
        }
    }

    fn int(&mut self) -> Option<i64> {
        let start = self.i;
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
            self.i += 1;
        }
        let r = std::str::from_utf8(&self.s[start..self.i]).ok()?.parse().ok();
        if r.is_none() {
            self.i = start;
        }
        r
    }

    fn quoted(&mut self) -> Result<String, String> {
        let q = self.s.get(self.i).copied().unwrap_or(0);
        if q != b'\'' && q != b'"' {
            return self.err();
        }
        self.i += 1;
        let mut out = Vec::new();
        while self.i < self.s.len() && self.s[self.i] != q {
            if self.s[self.i] == b'\\' && self.i + 1 < self.s.len() {
                self.i += 1;
            }
            out.push(self.s[self.i]);
            self.i += 1;
        }
        if !self.eat(q) {
            return self.err();
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn or_expr(&mut self) -> Result<FExpr, String> {
        let mut l = self.and_expr()?;
        loop {
            self.ws();
            if self.s[self.i..].starts_with(b"||") {
                self.i += 2;
                let r = self.and_expr()?;
                l = FExpr::Or(Box::new(l), Box::new(r));
            } else {
                return Ok(l);
            }
        }
    }

    fn and_expr(&mut self) -> Result<FExpr, String> {
        let mut l = self.cmp_expr()?;
        loop {
            self.ws();
            if self.s[self.i..].starts_with(b"&&") {
                self.i += 2;
                let r = self.cmp_expr()?;
                l = FExpr::And(Box::new(l), Box::new(r));
            } else {
                return Ok(l);
            }
        }
    }

    fn cmp_expr(&mut self) -> Result<FExpr, String> {
        self.ws();
        if self.eat(b'!') {
            let e = self.cmp_expr()?;
            return Ok(FExpr::Not(Box::new(e)));
        }
        if self.eat(b'(') {
            let e = self.or_expr()?;
            self.ws();
            if !self.eat(b')') {
                return self.err();
            }
            return Ok(e);
        }
        let l = self.operand()?;
        self.ws();
        for op in ["==", "!=", "<=", ">=", "<", ">"] {
            if self.s[self.i..].starts_with(op.as_bytes()) {
                self.i += op.len();
                self.ws();
                let r = self.operand()?;
                return Ok(FExpr::Cmp(l, op, r));
            }
        }
        match l {
            Operand::Path(p) => Ok(FExpr::Exists(p)),
            Operand::Lit(v) => Ok(FExpr::Cmp(Operand::Lit(v), "==", Operand::Lit(Value::Bool(true)))),
        }
    }

    fn operand(&mut self) -> Result<Operand, String> {
        self.ws();
        match self.s.get(self.i) {
            Some(b'@') | Some(b'$') => {
                self.i += 1;
                Ok(Operand::Path(self.segments()?))
            }
            Some(b'\'') | Some(b'"') => Ok(Operand::Lit(Value::string(self.quoted()?))),
            _ => {
                let start = self.i;
                while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || b"+-.".contains(&self.s[self.i])) {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                match t {
                    "true" => Ok(Operand::Lit(Value::Bool(true))),
                    "false" => Ok(Operand::Lit(Value::Bool(false))),
                    "null" => Ok(Operand::Lit(Value::Null)),
                    _ => {
                        if let Ok(i) = t.parse::<i64>() {
                            Ok(Operand::Lit(Value::int(i)))
                        } else if let Ok(f) = t.parse::<f64>() {
                            Ok(Operand::Lit(Value::float(f)))
                        } else {
                            self.err()
                        }
                    }
                }
            }
        }
    }
}

fn children(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.to_vec(),
        Value::Object(o) => o.entries().into_iter().map(|(_, v)| v.clone()).collect(),
        _ => Vec::new(),
    }
}

fn step(seg: &Seg, v: &Value, out: &mut Vec<Value>) {
    match seg {
        Seg::Child(n) => {
            if let Value::Object(o) = v {
                if let Some(x) = o.get(n) {
                    out.push(x.clone());
                }
            }
        }
        Seg::Names(ns) => {
            if let Value::Object(o) = v {
                for n in ns {
                    if let Some(x) = o.get(n) {
                        out.push(x.clone());
                    }
                }
            }
        }
        Seg::Wild => out.extend(children(v)),
        Seg::Indexes(ix) => {
            if let Value::Array(a) = v {
                for &i in ix {
                    let k = if i < 0 { a.len() as i64 + i } else { i };
                    if k >= 0 && (k as usize) < a.len() {
                        out.push(a[k as usize].clone());
                    }
                }
            }
        }
        Seg::Slice(start, end, stride) => {
            if let Value::Array(a) = v {
                let n = a.len() as i64;
                let norm = |x: i64| if x < 0 { (n + x).max(0) } else { x.min(n) };
                let s = start.map(norm).unwrap_or(0);
                let e = end.map(norm).unwrap_or(n);
                if *stride > 0 {
                    let mut i = s;
                    while i < e {
                        out.push(a[i as usize].clone());
                        i += stride;
                    }
                }
            }
        }
        Seg::Filter(f) => {
            for c in children(v) {
                if eval_filter(f, &c) {
                    out.push(c);
                }
            }
        }
        Seg::Descend(inner) => {
            let mut stack = vec![v.clone()];
            while let Some(x) = stack.pop() {
                step(inner, &x, out);
                let mut kids = children(&x);
                kids.reverse();
                stack.extend(kids);
            }
        }
    }
}

fn apply(segs: &[Seg], mut cur: Vec<Value>) -> Vec<Value> {
    for seg in segs {
        let mut next = Vec::new();
        for v in &cur {
            step(seg, v, &mut next);
        }
        cur = next;
    }
    cur
}

fn operand_value(o: &Operand, item: &Value) -> Option<Value> {
    match o {
        Operand::Lit(v) => Some(v.clone()),
        Operand::Path(p) => apply(p, vec![item.clone()]).into_iter().next(),
    }
}

fn eval_filter(f: &FExpr, item: &Value) -> bool {
    match f {
        FExpr::Or(a, b) => eval_filter(a, item) || eval_filter(b, item),
        FExpr::And(a, b) => eval_filter(a, item) && eval_filter(b, item),
        FExpr::Not(a) => !eval_filter(a, item),
        FExpr::Exists(p) => !apply(p, vec![item.clone()]).is_empty(),
        FExpr::Cmp(l, op, r) => {
            let (Some(a), Some(b)) = (operand_value(l, item), operand_value(r, item)) else {
                return *op == "!=";
            };
            let ord = match (&a, &b) {
                (Value::Number(x), Value::Number(y)) => x.compare(*y),
                (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
                _ => None,
            };
            match *op {
                "==" => values_equal(&a, &b),
                "!=" => !values_equal(&a, &b),
                "<" => ord == Some(std::cmp::Ordering::Less),
                "<=" => matches!(ord, Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)),
                ">" => ord == Some(std::cmp::Ordering::Greater),
                _ => matches!(ord, Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)),
            }
        }
    }
}
