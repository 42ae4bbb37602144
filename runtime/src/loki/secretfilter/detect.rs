//! The detector: gitleaks' `Detector.DetectContext` for one log line (a fragment with no file
//! path, no commit, and no decoding passes, which is how `loki.secretfilter` calls it).
//!
//! A keyword prefilter (one Aho-Corasick pass over the line, case-insensitive) decides which
//! rules run; a rule without keywords runs on every line. Each match of a rule's regex is
//! trimmed of newlines, its secret taken from the capture group (the regex is run again on the
//! matched text alone, as gitleaks does), then dropped when the line says `gitleaks:allow`,
//! when the secret's entropy is too low, or when a global or the rule's allowlist allows it.
//! Rules with `[[rules.required]]` report only when every required rule finds something close
//! enough. Finally a `generic` rule's finding is dropped when a specific rule found a secret
//! containing it on the same line.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::config::{Allowlist, Config, Rule};

/// One secret found in a line.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding<'a> {
    /// The rule's index in [`Detector::rule`].
    pub rule: usize,
    /// 0-based line of the match within the entry's text (for `[[rules.required]]` and the
    /// generic-rule filter), and its 1-based column.
    pub start_line: usize,
    pub start_column: usize,
    /// The line(s) holding the match, as gitleaks slices them.
    pub line: &'a str,
    /// What the rule's regex matched, without surrounding newlines.
    pub matched: &'a str,
    /// The secret: the capture group, or the whole match.
    pub secret: &'a str,
}

/// What scanning one line found.
#[derive(Debug, Default)]
pub struct Scan<'a> {
    pub findings: Vec<Finding<'a>>,
    /// The deadline passed: some rules may not have run.
    pub timed_out: bool,
}

pub struct Detector {
    rules: Vec<Rule>,
    /// Whether a rule can find anything in a log line: a rule with a `path` needs the path to
    /// match, and a log line's path is empty; a path-only rule never reports.
    active: Vec<bool>,
    index: HashMap<String, usize>,
    allowlists: Vec<Arc<Allowlist>>,
    prefilter: Option<AhoCorasick>,
    /// Per keyword (pattern number in `prefilter`), the active rules it wakes.
    keyword_rules: Vec<Vec<usize>>,
    /// The active rules without keywords: they run on every line.
    always: Vec<usize>,
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector").field("rules", &self.rules.len()).finish()
    }
}

impl Detector {
    pub fn new(config: Config) -> Detector {
        let active: Vec<bool> = config.rules.iter().map(|r| r.regex.is_some() && r.path.as_ref().is_none_or(|p| p.is_match(""))).collect();
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut numbers: HashMap<String, usize> = HashMap::new();
        let mut always = Vec::new();
        for (i, rule) in config.rules.iter().enumerate().filter(|(i, _)| active[*i]) {
            if rule.keywords.is_empty() {
                always.push(i);
            }
            for k in &rule.keywords {
                let n = *numbers.entry(k.clone()).or_insert_with(|| {
                    keywords.push(k.clone());
                    keyword_rules.push(Vec::new());
                    keywords.len() - 1
                });
                if keyword_rules[n].last() != Some(&i) {
                    keyword_rules[n].push(i);
                }
            }
        }
        // Keywords are lowercase and lines are searched ASCII-case-insensitively (or lowercased
        // first when not ASCII), which is gitleaks' lowercase-then-search.
        let prefilter = (!keywords.is_empty())
            .then(|| AhoCorasick::builder().ascii_case_insensitive(true).match_kind(MatchKind::Standard).kind(Some(AhoCorasickKind::DFA)).build(&keywords).ok())
            .flatten();
        let index = config.rules.iter().enumerate().map(|(i, r)| (r.id.clone(), i)).collect();
        Detector { rules: config.rules, active, index, allowlists: config.allowlists, prefilter, keyword_rules, always, warnings: config.warnings }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn rule(&self, i: usize) -> &Rule {
        &self.rules[i]
    }

    /// The secrets in `raw`; rules not started by `deadline` are skipped (and the scan marked
    /// timed out), as gitleaks stops between rules when its context is done.
    pub fn detect<'a>(&self, raw: &'a str, deadline: Option<Instant>) -> Scan<'a> {
        let mut scan = Scan::default();
        let candidates = self.candidates(raw);
        let newlines: Vec<usize> = if candidates.is_empty() || !raw.contains('\n') { Vec::new() } else { raw.match_indices('\n').map(|(i, _)| i).collect() };
        for i in candidates {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                scan.timed_out = true;
                break;
            }
            let found = self.detect_rule(raw, &newlines, i, false);
            scan.findings.extend(found);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            scan.timed_out = true;
        }
        scan.findings = self.prefer_specific(scan.findings);
        scan
    }

    /// The rules to run on `raw`, in order: those without keywords and those with a keyword
    /// in `raw`.
    fn candidates(&self, raw: &str) -> Vec<usize> {
        let mut out = self.always.clone();
        let Some(ac) = &self.prefilter else { return out };
        let lowered;
        let hay = if raw.is_ascii() {
            raw
        } else {
            lowered = raw.to_lowercase();
            &lowered
        };
        let mut seen: Vec<usize> = Vec::new();
        for m in ac.find_overlapping_iter(hay) {
            let k = m.pattern().as_usize();
            if !seen.contains(&k) {
                seen.push(k);
                out.extend_from_slice(&self.keyword_rules[k]);
            }
        }
        if !seen.is_empty() {
            out.sort_unstable();
            out.dedup();
        }
        out
    }

    /// gitleaks' `detectRule`; `inherited` when run for another rule's `[[rules.required]]`.
    fn detect_rule<'a>(&self, raw: &'a str, newlines: &[usize], i: usize, inherited: bool) -> Vec<Finding<'a>> {
        let rule = &self.rules[i];
        let mut found = Vec::new();
        if (rule.skip_report && !inherited) || !self.active[i] {
            return found;
        }
        let Some(re) = &rule.regex else { return found };
        for m in re.regex().find_iter(raw) {
            let matched = m.as_str().trim_matches('\n');
            // gitleaks keeps the untrimmed start and moves the end by the trimmed length.
            let start = m.start();
            let end = floor_boundary(raw, start + matched.len());
            let loc = location(newlines, raw, start, end);
            let line = &raw[loc.start_index..loc.end_index.max(end)];
            if line.contains("gitleaks:allow") {
                continue;
            }
            let mut secret = matched;
            if let Some(groups) = re.regex().captures(matched).filter(|g| g.len() >= 2) {
                if rule.secret_group > 0 {
                    let g = rule.secret_group as usize;
                    if groups.len() <= g {
                        continue;
                    }
                    secret = groups.get(g).map_or("", |m| m.as_str());
                } else if let Some(s) = groups.iter().skip(1).flatten().map(|m| m.as_str()).find(|s| !s.is_empty()) {
                    secret = s;
                }
            }
            // An empty secret (an optional secret group that did not take part) would make the
            // component insert the placeholder between every character; nothing to redact.
            if secret.is_empty() {
                continue;
            }
            if rule.entropy != 0.0 && shannon_entropy(secret) <= rule.entropy {
                continue;
            }
            let allowed = |a: &Arc<Allowlist>| a.allows(secret, matched, line);
            if self.allowlists.iter().any(allowed) || rule.allowlists.iter().any(allowed) {
                continue;
            }
            found.push(Finding { rule: i, start_line: loc.start_line, start_column: loc.start_column, line, matched, secret });
        }
        if inherited || rule.required.is_empty() || found.is_empty() {
            return found;
        }
        self.with_required(raw, newlines, i, found)
    }

    /// gitleaks' `processRequiredRules`: the findings near which every required rule found
    /// something.
    fn with_required<'a>(&self, raw: &'a str, newlines: &[usize], i: usize, primary: Vec<Finding<'a>>) -> Vec<Finding<'a>> {
        let required = &self.rules[i].required;
        let others: Vec<Vec<Finding<'a>>> =
            required.iter().map(|r| self.index.get(&r.id).map(|&j| self.detect_rule(raw, newlines, j, true)).unwrap_or_default()).collect();
        primary
            .into_iter()
            .filter(|p| {
                required.iter().zip(&others).all(|(req, found)| {
                    found.iter().any(|f| {
                        let near = |limit: Option<i64>, a: usize, b: usize| limit.is_none_or(|l| (a as i64 - b as i64).abs() <= l);
                        near(req.within_lines, p.start_line, f.start_line) && near(req.within_columns, p.start_column, f.start_column)
                    })
                })
            })
            .collect()
    }

    /// gitleaks' `filter`: a finding of a `generic` rule gives way to a specific rule's finding
    /// on the same line whose secret contains it.
    fn prefer_specific<'a>(&self, findings: Vec<Finding<'a>>) -> Vec<Finding<'a>> {
        let generic = |f: &Finding<'_>| self.rules[f.rule].id.to_lowercase().contains("generic");
        if !findings.iter().any(generic) {
            return findings;
        }
        findings
            .iter()
            .filter(|f| !generic(f) || !findings.iter().any(|g| g.start_line == f.start_line && g.rule != f.rule && g.secret.contains(f.secret) && !generic(g)))
            .cloned()
            .collect()
    }
}

/// The largest char boundary of `s` at or below `i`.
fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

struct Location {
    start_line: usize,
    start_column: usize,
    start_index: usize,
    end_index: usize,
}

/// gitleaks' `location` (including its quirks: a line after the first starts at the newline
/// before it, and a match after the last newline takes the text from the start).
fn location(newlines: &[usize], raw: &str, start: usize, end: usize) -> Location {
    let whole = [raw.len()];
    let newlines = if newlines.is_empty() { &whole[..] } else { newlines };
    let mut loc = Location { start_line: 0, start_column: 0, start_index: 0, end_index: 0 };
    let (mut prev, mut set, mut last) = (0usize, false, 0usize);
    for (n, &nl) in newlines.iter().enumerate() {
        last = n;
        if prev <= start && start < nl {
            set = true;
            loc.start_line = n;
            loc.start_column = start - prev + 1;
            loc.start_index = prev;
            loc.end_index = nl;
        }
        if prev < end && end <= nl {
            loc.end_index = nl;
        }
        prev = nl;
    }
    if !set {
        loc.start_column = start.saturating_sub(prev) + 1;
        loc.start_line = last + 1;
        let rest = &raw.as_bytes()[end.min(raw.len())..];
        loc.end_index = end + rest.iter().position(|&b| b == b'\n' || b == b'\r').unwrap_or(rest.len());
    }
    loc
}

/// gitleaks' `shannonEntropy`: frequencies of characters over the length in bytes.
pub fn shannon_entropy(s: &str) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut ascii = [0u32; 128];
    let mut other: HashMap<char, u32> = HashMap::new();
    for c in s.chars() {
        if c.is_ascii() {
            ascii[c as usize] += 1;
        } else {
            *other.entry(c).or_default() += 1;
        }
    }
    let inv = 1.0 / s.len() as f64;
    ascii.iter().copied().chain(other.into_values()).filter(|&n| n > 0).fold(0.0, |e, n| {
        let freq = f64::from(n) * inv;
        e - freq * freq.log2()
    })
}
