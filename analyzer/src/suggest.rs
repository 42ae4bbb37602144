//! "Did you mean": the closest candidate by edit distance.

/// Levenshtein distance over chars.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The Levenshtein distance when it is at most `limit`, else `None`; stops as soon as a row's
/// best is over the limit, so far-off candidates cost a few rows, not the whole table.
pub fn distance_within(a: &str, b: &str, limit: usize) -> Option<usize> {
    let (la, lb) = (a.chars().count(), b.chars().count());
    if la.abs_diff(lb) > limit {
        return None;
    }
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        let mut row_best = cur[0];
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + cost);
            row_best = row_best.min(cur[j + 1]);
        }
        if row_best > limit {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(prev[b.len()]).filter(|d| *d <= limit)
}

/// The candidate closest to `name`, if it is close enough to be a plausible typo (at most a
/// third of the name's length, at least 1, at most 4 edits) or contains it as a suffix segment.
pub fn best<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).clamp(1, 4);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        // Cheap length filter before the quadratic distance.
        if c.len().abs_diff(name.len()) > limit {
            continue;
        }
        let d = distance(name, c);
        if d <= limit && best.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// `did you mean "x"?` for a note.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    best(name, candidates).map(|c| format!("did you mean \"{c}\"?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_distance_agrees_with_the_full_one() {
        let words = ["", "a", "ab", "prometheus.scrape.a", "prometheus.scrap.a", "prometheus.remote_write.x", "otelcol.x", "ötelcol.y", "abcdef", "fedcba"];
        for a in words {
            for b in words {
                for limit in 0..6 {
                    let d = distance(a, b);
                    assert_eq!(distance_within(a, b, limit), (d <= limit).then_some(d), "{a:?} {b:?} {limit}");
                }
            }
        }
    }

    #[test]
    fn finds_typos() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(best("prometheus.scrap", ["prometheus.scrape", "prometheus.relabel"]), Some("prometheus.scrape"));
        assert_eq!(best("forward_too", ["forward_to", "targets"]), Some("forward_to"));
        assert_eq!(best("zzz", ["forward_to"]), None);
    }
}
