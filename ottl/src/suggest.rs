//! "Did you mean": the closest known name by edit distance.

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + usize::from(ca != cb));
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// `; did you mean "x"?` when a candidate is a plausible typo of `name` (at most a third of
/// its length in edits, at least 1, at most 4; case differences count as one edit in total)
/// or is the start of it.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let limit = (name.chars().count() / 3).clamp(1, 4);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        // A known name the typo starts with (`set_attr` → `set`) counts as the weakest match.
        let d = if c.eq_ignore_ascii_case(name) {
            1
        } else if c.len() >= 3 && name.starts_with(c) {
            // ...unless it is also a close typo (`WARNN` → `WARN`).
            distance(name, c).min(limit)
        } else {
            distance(name, c)
        };
        if c != name && d <= limit && best.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| format!("; did you mean \"{c}\"?")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("set_attr", ["set", "delete_key"]), "; did you mean \"set\"?");
        assert_eq!(did_you_mean("sett", ["set", "settle"]), "; did you mean \"set\"?");
        assert_eq!(did_you_mean("atributes", ["attributes", "name"]), "; did you mean \"attributes\"?");
        assert_eq!(did_you_mean("concat", ["Concat"]), "; did you mean \"Concat\"?");
        assert_eq!(did_you_mean("zzz", ["name"]), "");
        // A doubled last letter is one edit from the name it starts with.
        assert_eq!(did_you_mean("SEVERITY_NUMBER_WARNN", ["SEVERITY_NUMBER_WARN2", "SEVERITY_NUMBER_WARN"]), "; did you mean \"SEVERITY_NUMBER_WARN\"?");
    }
}
