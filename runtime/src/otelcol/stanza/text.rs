//! The operators that rewrite a text field: `regex_replace` (every match of `regex`, or of a
//! well-known `regex_name`, replaced by `replace_with` with `$1`/`${name}` groups; removed
//! when it is not set) and `unquote` (Go's quoted-string syntax: `"..."` with escapes, `` `...` ``
//! raw, `'c'` one character).

use super::config::Conf;
use super::entry::{Entry, Field, Val};
use super::{edit, Edit, Operator};

/// ANSI "Control Sequence Introducer" codes: `ESC [`, parameters, intermediates, a final byte.
const ANSI_CONTROL_SEQUENCES: &str = r"\x1B\[[\x30-\x3F]*[\x20-\x2F]*[\x40-\x7E]";

/// The string at `field`; anything else is an error.
fn string_at<'e>(field: &Field, e: &'e Entry) -> Result<&'e str, String> {
    match field.get(e) {
        Some(Val::Str(s)) => Ok(s),
        Some(_) => Err(format!("type mismatch: {field} is not a string")),
        None => Err(format!("entry is missing the expected field {field}")),
    }
}

struct RegexReplace {
    field: Field,
    regex: Option<regex::Regex>,
    replace_with: String,
}

pub fn regex_replace(c: &mut Conf<'_>) -> Box<dyn Operator> {
    let field = c.required_field("field", "regex_replace");
    let regex = match (c.has("regex"), c.string("regex_name")) {
        (true, Some(_)) => {
            c.error("regex_name", "only one of regex and regex_name can be set");
            None
        }
        (true, None) => c.regex("regex"),
        (false, Some(name)) if name == "ansi_control_sequences" => regex::Regex::new(ANSI_CONTROL_SEQUENCES).ok(),
        (false, Some(name)) => {
            c.error("regex_name", format!("unknown regex_name {name:?}: expected \"ansi_control_sequences\""));
            None
        }
        (false, None) => {
            c.error("", "one of regex and regex_name must be set for operator type \"regex_replace\"");
            None
        }
    };
    let replace_with = c.string_or("replace_with", "");
    edit(RegexReplace { field, regex, replace_with })
}

impl Edit for RegexReplace {
    fn edit(&self, e: &mut Entry) -> Result<bool, String> {
        let re = self.regex.as_ref().ok_or("no regex configured")?;
        let replaced = re.replace_all(string_at(&self.field, e)?, self.replace_with.as_str()).into_owned();
        self.field.set(e, Val::Str(replaced));
        Ok(true)
    }
}

struct Unquote(Field);

pub fn unquote(c: &mut Conf<'_>) -> Box<dyn Operator> {
    edit(Unquote(c.required_field("field", "unquote")))
}

/// One escape after a backslash inside a double- or single-quoted Go string.
fn escape(chars: &mut std::str::Chars<'_>, quote: char) -> Option<char> {
    let hex = |chars: &mut std::str::Chars<'_>, n: usize| -> Option<char> {
        let digits: String = chars.take(n).collect();
        (digits.len() == n).then(|| u32::from_str_radix(&digits, 16).ok().and_then(char::from_u32)).flatten()
    };
    Some(match chars.next()? {
        'a' => '\u{7}',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\u{b}',
        '\\' => '\\',
        c if c == quote => c,
        'x' => hex(chars, 2)?,
        'u' => hex(chars, 4)?,
        'U' => hex(chars, 8)?,
        d @ '0'..='7' => {
            let rest: String = chars.take(2).collect();
            let digits = format!("{d}{rest}");
            (digits.len() == 3).then(|| u32::from_str_radix(&digits, 8).ok().filter(|v| *v <= 255).and_then(char::from_u32)).flatten()?
        }
        _ => return None,
    })
}

/// Go's `strconv.Unquote`.
pub fn go_unquote(s: &str) -> Option<String> {
    let quote = s.chars().next()?;
    let inner = s.strip_prefix(quote)?.strip_suffix(quote)?;
    if s.len() < 2 {
        return None;
    }
    match quote {
        '`' => (!inner.contains('`')).then(|| inner.replace('\r', "")),
        '"' | '\'' => {
            let mut out = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.push(escape(&mut chars, quote)?),
                    '\n' => return None,
                    c if c == quote => return None,
                    c => out.push(c),
                }
            }
            // A single-quoted literal is one character.
            (quote == '"' || out.chars().count() == 1).then_some(out)
        }
        _ => None,
    }
}

impl Edit for Unquote {
    fn edit(&self, e: &mut Entry) -> Result<bool, String> {
        let text = string_at(&self.0, e)?;
        let unquoted = go_unquote(text).ok_or_else(|| format!("unquote {text:?}: invalid syntax"))?;
        self.0.set(e, Val::Str(unquoted));
        Ok(true)
    }
}
