//! `$` references in `target_label` and `replacement`, expanded exactly as Go's `Regexp.Expand`.
//!
//! A template is parsed once (when the rule is built) into literal runs and group references, so
//! evaluating a rule only copies text; names are resolved to group indices up front.

use smol_str::{SmolStr, SmolStrBuilder};

use super::re2::GoRegex;
use super::text::is_go_letter_or_digit;

/// Where expanded text goes: a `String`, or a `SmolStrBuilder` (no heap for short results).
pub trait Sink {
    fn push_str(&mut self, s: &str);
}

impl Sink for String {
    fn push_str(&mut self, s: &str) {
        String::push_str(self, s);
    }
}

impl Sink for SmolStrBuilder {
    fn push_str(&mut self, s: &str) {
        SmolStrBuilder::push_str(self, s);
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(Box<str>),
    /// `$n` / `${n}`: a group by number.
    Group(usize),
    /// `$name` / `${name}`: the groups of that name, in order; the first that took part counts.
    Named(Box<[usize]>),
}

/// A parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Box<[Part]>,
    /// The whole text when the template refers to no group (`$$` only, or no `$`).
    constant: Option<SmolStr>,
    max_group: Option<usize>,
}

impl Template {
    /// Parses `template` against the groups of `regex`.
    pub fn new(template: &str, regex: &GoRegex) -> Template {
        let names: Vec<Option<&str>> = regex.names().collect();
        Template::with_names(template, &names)
    }

    /// Parses `template` against group names by index (index 0 is the whole match).
    pub fn with_names(template: &str, names: &[Option<&str>]) -> Template {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut t = template;
        while let Some(i) = t.find('$') {
            literal.push_str(&t[..i]);
            t = &t[i + 1..];
            if let Some(rest) = t.strip_prefix('$') {
                literal.push('$');
                t = rest;
                continue;
            }
            let Some((name, number, rest)) = extract(t) else {
                // Not a reference: the `$` stays as text.
                literal.push('$');
                continue;
            };
            t = rest;
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal).into_boxed_str()));
            }
            parts.push(match number {
                Some(n) => Part::Group(n),
                None => Part::Named(names.iter().enumerate().filter(|(_, n)| **n == Some(name)).map(|(i, _)| i).collect()),
            });
        }
        literal.push_str(t);
        if !literal.is_empty() {
            parts.push(Part::Literal(literal.into_boxed_str()));
        }
        let max_group = parts
            .iter()
            .filter_map(|p| match p {
                Part::Literal(_) => None,
                Part::Group(n) => Some(*n),
                Part::Named(ix) => ix.iter().copied().max(),
            })
            .max();
        let constant = parts.iter().all(|p| matches!(p, Part::Literal(_))).then(|| {
            let mut b = SmolStrBuilder::new();
            for p in &parts {
                if let Part::Literal(s) = p {
                    b.push_str(s);
                }
            }
            b.finish()
        });
        Template { parts: parts.into_boxed_slice(), constant, max_group }
    }

    /// The expansion when it does not depend on the match.
    pub fn constant(&self) -> Option<&SmolStr> {
        self.constant.as_ref()
    }

    /// The highest group index referred to (a reference to a missing group expands to nothing).
    pub fn max_group(&self) -> Option<usize> {
        self.max_group
    }

    /// Appends the expansion; `group(i)` is the text of group `i`, `None` if it did not take part.
    pub fn expand_into<'h, F, S>(&self, group: F, out: &mut S)
    where
        F: Fn(usize) -> Option<&'h str>,
        S: Sink + ?Sized,
    {
        for part in self.parts.iter() {
            let text = match part {
                Part::Literal(s) => Some(&**s),
                Part::Group(n) => group(*n),
                Part::Named(ix) => ix.iter().find_map(|i| group(*i)),
            };
            if let Some(text) = text {
                out.push_str(text);
            }
        }
    }

    /// The expansion as a label name or value.
    pub fn expand<'h>(&self, group: impl Fn(usize) -> Option<&'h str>) -> SmolStr {
        if let Some(c) = &self.constant {
            return c.clone();
        }
        let mut b = SmolStrBuilder::new();
        self.expand_into(group, &mut b);
        b.finish()
    }
}

/// Go's `Regexp.Expand` for one template and one match, in a single call.
pub fn expand(regex: &GoRegex, template: &str, captures: &regex::Captures<'_>) -> String {
    let mut out = String::new();
    Template::new(template, regex).expand_into(|i| captures.get(i).map(|m| m.as_str()), &mut out);
    out
}

/// The name after a `$`: `name` or `{name}`, name = letters, digits, `_` (Unicode letters and
/// decimal digits, as Go). Returns the name, its number when it is one (no leading zero, below
/// 10^9), and the rest; `None` when there is no valid reference.
fn extract(s: &str) -> Option<(&str, Option<usize>, &str)> {
    let (brace, s) = match s.strip_prefix('{') {
        Some(inner) => (true, inner),
        None => (false, s),
    };
    let len =
        s.char_indices().find(|(_, c)| !(*c == '_' || c.is_ascii_alphanumeric() || (!c.is_ascii() && is_go_letter_or_digit(*c)))).map_or(s.len(), |(i, _)| i);
    if len == 0 {
        return None;
    }
    let (name, mut rest) = s.split_at(len);
    if brace {
        rest = rest.strip_prefix('}')?;
    }
    let mut number = Some(0usize);
    for b in name.bytes() {
        number = match number {
            Some(n) if b.is_ascii_digit() && n < 100_000_000 => Some(n * 10 + usize::from(b - b'0')),
            _ => None,
        };
    }
    if name.len() > 1 && name.starts_with('0') {
        number = None;
    }
    Some((name, number, rest))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Expands `template` with groups `groups[i]` and names `names[i]`.
    fn run(template: &str, groups: &[Option<&str>], names: &[Option<&str>]) -> String {
        let mut out = String::new();
        Template::with_names(template, names).expand_into(|i| groups.get(i).copied().flatten(), &mut out);
        out
    }

    const G: &[Option<&str>] = &[Some("whole"), Some("one"), None, Some("three")];
    const N: &[Option<&str>] = &[None, None, Some("two"), Some("name")];

    #[test]
    fn numbers_and_names() {
        assert_eq!(run("$1-${1}-$0", G, N), "one-one-whole");
        assert_eq!(run("${name}|$name|$two|${two}", G, N), "three|three||");
        assert_eq!(run("$3", G, N), "three", "named groups are addressable by index");
        assert_eq!(run("$9|${9}|$missing", G, N), "||", "unknown groups expand to nothing");
    }

    #[test]
    fn longest_name_wins() {
        assert_eq!(run("$1x", G, N), "", "$1x is group `1x`");
        assert_eq!(run("${1}x", G, N), "onex");
        assert_eq!(run("$10", G, N), "", "$10 is group 10, not $1 then 0");
        assert_eq!(run("$1é", G, N), "", "Unicode letters continue a name, as in Go");
        assert_eq!(run("$1-", G, N), "one-");
    }

    #[test]
    fn dollars_that_are_not_references() {
        assert_eq!(run("$$1", G, N), "$1");
        assert_eq!(run("a$", G, N), "a$");
        assert_eq!(run("${", G, N), "${");
        assert_eq!(run("${1", G, N), "${1");
        assert_eq!(run("${}", G, N), "${}");
        assert_eq!(run("$-1", G, N), "$-1");
        assert_eq!(run("${1 }", G, N), "${1 }");
    }

    #[test]
    fn leading_zero_is_a_name() {
        let names = [None, Some("01")];
        assert_eq!(run("$01|$1", &[Some("w"), Some("g")], &names), "g|g");
        assert_eq!(run("$01", G, N), "");
    }

    #[test]
    fn constants_and_max_group() {
        let t = Template::with_names("a$$b", N);
        assert_eq!(t.constant().map(SmolStr::as_str), Some("a$b"));
        assert_eq!(t.max_group(), None);
        let t = Template::with_names("${name}$1", N);
        assert_eq!(t.constant(), None);
        assert_eq!(t.max_group(), Some(3));
    }

    #[test]
    fn with_a_real_regex() {
        let r = GoRegex::new("^(?s:(line1).*(?<second>line2))$").unwrap_or_else(|e| panic!("{e}"));
        let caps = r.regex().captures("line1\nline2").unwrap_or_else(|| panic!("no match"));
        assert_eq!(expand(&r, "label_$1:${second}:$second", &caps), "label_line1:line2:line2");
    }

    proptest! {
        /// Text without `$` comes back unchanged; `$$` is one `$`.
        #[test]
        fn dollars_escape(s in "[^$]{0,20}", t in "[^$]{0,20}") {
            prop_assert_eq!(run(&s, G, N), s.clone());
            prop_assert_eq!(run(&format!("{s}$${t}"), G, N), format!("{s}${t}"));
        }

        /// Expansion never panics and only copies template text or group text.
        #[test]
        fn never_panics(s in "[$a-z0-9{}_é]{0,30}") {
            let out = run(&s, G, N);
            prop_assert!(out.len() <= s.len() * 5 + 16);
        }
    }
}
