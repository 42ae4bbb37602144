//! From a file's lines to its log entries' texts: one line each, or, with `multiline`,
//! lines joined (with `\n`) into entries that start at a line matching `line_start_pattern`
//! or end at a line matching `line_end_pattern` (the match removed with `omit_pattern`).
//! Entries are trimmed of leading and trailing whitespace unless `preserve_*_whitespaces`
//! says otherwise; entries left empty are not sent, and entries longer than `max_log_size`
//! go out in pieces of that size. An entry still waiting for its
//! continuation goes out once it waited `force_flush_period`. Patterns are applied line by
//! line (upstream applies them to the byte stream; for line-anchored patterns this is the same).

use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub enum Split {
    Lines,
    Start(regex::Regex),
    End(regex::Regex),
}

#[derive(Clone, Debug)]
pub struct Rules {
    pub split: Split,
    pub omit_pattern: bool,
    pub preserve_leading: bool,
    pub preserve_trailing: bool,
    /// The most bytes one entry may hold: longer ones go out in pieces (`max_log_size`).
    pub max_bytes: usize,
}

/// One file's entry in the making.
pub struct Joiner {
    rules: Rules,
    pending: Vec<String>,
    bytes: usize,
    since: Option<Instant>,
}

/// `s` in pieces of at most `max` bytes, cut at character boundaries.
fn pieces(s: &str, max: usize, out: &mut Vec<String>) {
    let mut rest = s;
    while rest.len() > max {
        let mut at = max;
        while !rest.is_char_boundary(at) {
            at -= 1;
        }
        // A character longer than `max` goes out whole rather than never.
        if at == 0 {
            at = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        out.push(rest[..at].to_string());
        rest = &rest[at..];
    }
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
}

impl Joiner {
    pub fn new(rules: Rules) -> Joiner {
        Joiner { rules, pending: Vec::new(), bytes: 0, since: None }
    }

    fn finish(&self, text: String, out: &mut Vec<String>) {
        let text = match (self.rules.preserve_leading, self.rules.preserve_trailing) {
            (true, true) => text,
            (false, true) => text.trim_start().to_string(),
            (true, false) => text.trim_end().to_string(),
            (false, false) => text.trim().to_string(),
        };
        pieces(&text, self.rules.max_bytes.max(1), out);
    }

    /// Sends what is pending as one entry.
    pub fn flush(&mut self, out: &mut Vec<String>) {
        if self.pending.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.pending).join("\n");
        self.bytes = 0;
        self.since = None;
        self.finish(text, out);
    }

    /// Sends what is pending if it waited `period`.
    pub fn flush_due(&mut self, now: Instant, period: Duration, out: &mut Vec<String>) {
        if self.since.is_some_and(|t| now.duration_since(t) >= period) {
            self.flush(out);
        }
    }

    #[cfg(test)]
    pub fn is_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    fn hold(&mut self, line: String, now: Instant) {
        self.bytes += line.len() + 1;
        self.pending.push(line);
        self.since.get_or_insert(now);
    }

    /// The line without the pattern's match at `at`, with `omit_pattern`.
    fn omit(&self, line: String, at: std::ops::Range<usize>) -> String {
        if self.rules.omit_pattern {
            format!("{}{}", &line[..at.start], &line[at.end..])
        } else {
            line
        }
    }

    /// Takes one line read at `now`.
    pub fn push(&mut self, line: String, now: Instant, out: &mut Vec<String>) {
        match self.rules.split.clone() {
            Split::Lines => self.finish(line, out),
            Split::Start(re) => match re.find(&line).map(|m| m.range()) {
                Some(at) => {
                    self.flush(out);
                    let line = self.omit(line, at);
                    self.hold(line, now);
                }
                None => self.hold(line, now),
            },
            Split::End(re) => match re.find(&line).map(|m| m.range()) {
                Some(at) => {
                    let line = self.omit(line, at);
                    self.hold(line, now);
                    self.flush(out);
                }
                None => self.hold(line, now),
            },
        }
        if self.bytes > self.rules.max_bytes {
            self.flush(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(split: Split) -> Rules {
        Rules { split, omit_pattern: false, preserve_leading: false, preserve_trailing: false, max_bytes: 1 << 20 }
    }

    fn feed(j: &mut Joiner, lines: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        for l in lines {
            j.push(l.to_string(), Instant::now(), &mut out);
        }
        out
    }

    #[test]
    fn start_pattern_groups_continuations_and_flushes_on_the_next_start() {
        let mut j = Joiner::new(rules(Split::Start(regex::Regex::new(r"^\d{4}-").unwrap())));
        let out = feed(&mut j, &["orphan", "2024-01-01 boom", "  at a", "  at b", "2024-01-02 ok"]);
        assert_eq!(out, ["orphan", "2024-01-01 boom\n  at a\n  at b"]);
        assert!(j.is_pending());
        let mut rest = Vec::new();
        j.flush_due(Instant::now(), Duration::from_secs(60), &mut rest);
        assert!(rest.is_empty(), "not yet due");
        j.flush_due(Instant::now() + Duration::from_secs(61), Duration::from_secs(60), &mut rest);
        assert_eq!(rest, ["2024-01-02 ok"]);
    }

    #[test]
    fn end_pattern_with_omit_and_whitespace_rules() {
        let mut r = rules(Split::End(regex::Regex::new(r";$").unwrap()));
        r.omit_pattern = true;
        let mut j = Joiner::new(r);
        assert_eq!(feed(&mut j, &["  select *", "from t;", "   ", "x;"]), ["select *\nfrom t", "x"]);

        let mut r = rules(Split::Lines);
        r.preserve_leading = true;
        let mut j = Joiner::new(r);
        assert_eq!(feed(&mut j, &["  a  ", "", " "]), ["  a"], "empty entries are not sent");
    }

    #[test]
    fn entries_are_cut_at_max_bytes() {
        let mut r = rules(Split::Start(regex::Regex::new("^S").unwrap()));
        r.max_bytes = 8;
        let mut j = Joiner::new(r);
        assert_eq!(feed(&mut j, &["S 1234", "56789", "é€€€"]), ["S 1234\n5", "6789", "é€€", "€"]);
    }
}
