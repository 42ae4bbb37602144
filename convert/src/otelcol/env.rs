//! The rewrite upstream applies to the rendered text: a quoted string that is exactly one
//! `${env:NAME}`, `${NAME}` or `${env:NAME:-default}` becomes
//! `coalesce(sys.env("NAME"), "default")`. The default is copied from the already escaped
//! text and, as upstream's greedy pattern does, runs to the last `}"` on the line.

pub fn rewrite(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for (i, line) in raw.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        rewrite_line(line, &mut out);
    }
    out
}

fn rewrite_line(line: &str, out: &mut String) {
    let mut rest = line;
    while let Some(pos) = rest.find("\"${") {
        out.push_str(&rest[..pos]);
        let candidate = &rest[pos..];
        match reference(candidate) {
            Some((name, default, len)) => {
                out.push_str(&format!("coalesce(sys.env(\"{name}\"), \"{default}\")"));
                rest = &candidate[len..];
            }
            None => {
                out.push_str("\"${");
                rest = &candidate[3..];
            }
        }
    }
    out.push_str(rest);
}

/// Matches `"${[env:]NAME[:-DEFAULT]}"` at the start of `s`: the name, the default and the
/// matched length.
fn reference(s: &str) -> Option<(&str, &str, usize)> {
    let body = &s[3..];
    let body = body.strip_prefix("env:").unwrap_or(body);
    let start = s.len() - body.len();
    let name_len = body.char_indices().take_while(|(i, c)| c.is_ascii_alphabetic() || *c == '_' || (*i > 0 && c.is_ascii_digit())).count();
    if name_len == 0 {
        return None;
    }
    let name = &body[..name_len];
    let after = &body[name_len..];
    if after.starts_with("}\"") {
        return Some((name, "", start + name_len + 2));
    }
    let default_text = after.strip_prefix(":-")?;
    let end = default_text.rfind("}\"")?;
    let default = &default_text[..end];
    Some((name, default, start + name_len + 2 + end + 2))
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn whole_strings_only() {
        assert_eq!(rewrite("a = \"${env:X}\""), "a = coalesce(sys.env(\"X\"), \"\")");
        assert_eq!(rewrite("a = \"${X}\""), "a = coalesce(sys.env(\"X\"), \"\")");
        assert_eq!(rewrite("a = \"${env:X:-a{b}\\\"c\\\"}\""), "a = coalesce(sys.env(\"X\"), \"a{b}\\\"c\\\"\")");
        assert_eq!(rewrite("a = \"http://${env:X}\""), "a = \"http://${env:X}\"");
        assert_eq!(rewrite("a = \"${env:1X}\""), "a = \"${env:1X}\"");
    }
}
