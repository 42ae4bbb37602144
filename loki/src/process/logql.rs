//! LogQL stream selectors with line filters, as `stage.match` takes them:
//! `{name="v", name!="v", name=~"re", name!~"re"} |= "text" != "text" |~ "re" !~ "re"`.

use prom::relabel::GoRegex;

use super::Item;

#[derive(Debug)]
enum Matcher {
    Eq(String, String),
    Ne(String, String),
    Re(String, GoRegex),
    NotRe(String, GoRegex),
}

#[derive(Debug)]
enum LineFilter {
    Contains(String),
    NotContains(String),
    Re(GoRegex),
    NotRe(GoRegex),
}

#[derive(Debug)]
pub struct Selector {
    matchers: Vec<Matcher>,
    filters: Vec<LineFilter>,
}

struct Lexer<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Lexer<'a> {
    fn skip_ws(&mut self) {
        while self.s[self.i..].starts_with(|c: char| c.is_whitespace()) {
            self.i += self.s[self.i..].chars().next().map_or(1, char::len_utf8);
        }
    }

    fn eat(&mut self, t: &str) -> bool {
        self.skip_ws();
        if self.s[self.i..].starts_with(t) {
            self.i += t.len();
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        self.skip_ws();
        let rest = &self.s[self.i..];
        let n = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
        if n == 0 || rest.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!("syntax error: unexpected {:?}, expecting IDENTIFIER", rest.chars().next().map(String::from).unwrap_or_default()));
        }
        self.i += n;
        Ok(rest[..n].to_string())
    }

    /// A double-quoted (Go escapes) or backquoted string.
    fn string(&mut self) -> Result<String, String> {
        self.skip_ws();
        let rest = &self.s[self.i..];
        if let Some(body) = rest.strip_prefix('`') {
            let end = body.find('`').ok_or("syntax error: unterminated raw string")?;
            self.i += end + 2;
            return Ok(body[..end].to_string());
        }
        if !rest.starts_with('"') {
            return Err("syntax error: expecting STRING".into());
        }
        let b = rest.as_bytes();
        let mut j = 1;
        while j < b.len() && b[j] != b'"' {
            j += if b[j] == b'\\' { 2 } else { 1 };
        }
        if j >= b.len() {
            return Err("syntax error: unterminated string".into());
        }
        let v: String = serde_json::from_str(&rest[..=j]).map_err(|e| format!("syntax error: invalid string: {e}"))?;
        self.i += j + 1;
        Ok(v)
    }
}

fn anchored(re: &str) -> Result<GoRegex, String> {
    GoRegex::new(&format!("^(?:{re})$")).map_err(|e| e.to_string())
}

impl Selector {
    pub fn parse(s: &str) -> Result<Selector, String> {
        let mut lx = Lexer { s, i: 0 };
        if !lx.eat("{") {
            return Err("parse error : syntax error: unexpected IDENTIFIER, expecting { or (".into());
        }
        let mut matchers = Vec::new();
        if lx.eat("}") {
            return Err("parse error : syntax error: unexpected }".into());
        }
        loop {
            let name = lx.ident()?;
            let m = if lx.eat("=~") {
                Matcher::Re(name, anchored(&lx.string()?)?)
            } else if lx.eat("!~") {
                Matcher::NotRe(name, anchored(&lx.string()?)?)
            } else if lx.eat("!=") {
                Matcher::Ne(name, lx.string()?)
            } else if lx.eat("=") {
                Matcher::Eq(name, lx.string()?)
            } else {
                return Err("parse error : syntax error: expecting a label matcher operator".into());
            };
            matchers.push(m);
            if lx.eat(",") {
                continue;
            }
            if lx.eat("}") {
                break;
            }
            return Err("parse error : syntax error: expecting , or }".into());
        }
        let mut filters = Vec::new();
        loop {
            lx.skip_ws();
            if lx.i >= s.len() {
                break;
            }
            let f = if lx.eat("|=") {
                LineFilter::Contains(lx.string()?)
            } else if lx.eat("!=") {
                LineFilter::NotContains(lx.string()?)
            } else if lx.eat("|~") {
                LineFilter::Re(GoRegex::new(&lx.string()?).map_err(|e| e.to_string())?)
            } else if lx.eat("!~") {
                LineFilter::NotRe(GoRegex::new(&lx.string()?).map_err(|e| e.to_string())?)
            } else {
                return Err("only label matchers and line filters are supported in a match stage selector".into());
            };
            filters.push(f);
        }
        Ok(Selector { matchers, filters })
    }

    pub fn matches(&self, item: &Item) -> bool {
        let label = |n: &str| item.labels.get(n).map_or("", String::as_str);
        let labels_ok = self.matchers.iter().all(|m| match m {
            Matcher::Eq(n, v) => label(n) == v,
            Matcher::Ne(n, v) => label(n) != v,
            Matcher::Re(n, re) => re.is_match(label(n)),
            Matcher::NotRe(n, re) => !re.is_match(label(n)),
        });
        labels_ok
            && self.filters.iter().all(|f| match f {
                LineFilter::Contains(t) => item.line.contains(t.as_str()),
                LineFilter::NotContains(t) => !item.line.contains(t.as_str()),
                LineFilter::Re(re) => re.is_match(&item.line),
                LineFilter::NotRe(re) => !re.is_match(&item.line),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{Extracted, Item};
    use crate::Entry;
    use prom::Labels;

    fn item(labels: &[(&str, &str)], line: &str) -> Item {
        Item::new(Entry::new(Labels::new(labels.iter().copied()), 0, line), Extracted::new())
    }

    #[test]
    fn matchers_and_line_filters() {
        let s = Selector::parse(r#"{app="a", env!~"dev|test"} |= "error" != "ignore" |~ `code=\d+`"#).expect("parses");
        assert!(s.matches(&item(&[("app", "a"), ("env", "prod")], "error code=5")));
        assert!(!s.matches(&item(&[("app", "a"), ("env", "dev")], "error code=5")));
        assert!(!s.matches(&item(&[("app", "a")], "error code=5 ignore")));
        assert!(Selector::parse(r#"{foo=""}"#).expect("parses").matches(&item(&[("app", "a")], "")), "an empty matcher matches a missing label");
        assert!(Selector::parse("{}").is_err() && Selector::parse("foo").is_err() && Selector::parse(r#"{a="b"} | json"#).is_err());
    }
}
