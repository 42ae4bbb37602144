//! Metric families as collectors produce them and their rendering in the Prometheus text format 0.0.4, byte for
//! byte as client_golang writes it (families sorted by name, label pairs sorted by name, samples sorted by label
//! values, floats in Go's shortest `%g` form), so scrapes of the Rust exporter diff cleanly against node_exporter.

use std::collections::HashMap;
use std::fmt::Write as _;

/// The `# TYPE` of a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Untyped,
}

impl MetricType {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Untyped => "untyped",
        }
    }
}

/// Index of a family inside a [`Sink`], valid until the sink is dropped (families are never removed, only emptied).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FamilyId(usize);

struct Family {
    name: Box<str>,
    help: Box<str>,
    ty: MetricType,
    labels: &'static [&'static str],
    /// Positions of `labels` in name order: client_golang sorts label pairs by name.
    order: Box<[usize]>,
    /// All label values of all samples, back to back; `ends` holds the end offset of each value.
    values: String,
    ends: Vec<u32>,
    nums: Vec<f64>,
}

impl Family {
    fn value(&self, sample: usize, label: usize) -> &str {
        let i = sample * self.labels.len() + label;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.values[start..self.ends[i] as usize]
    }

    fn len(&self) -> usize {
        self.nums.len()
    }

    fn clear(&mut self) {
        self.values.clear();
        self.ends.clear();
        self.nums.clear();
    }
}

/// Collects the samples of one gather. Families persist across gathers (emptied by [`Sink::clear`]) so a steady
/// state scrape allocates nothing for names, help texts or sample storage.
#[derive(Default)]
pub struct Sink {
    families: Vec<Family>,
    by_name: HashMap<Box<str>, usize>,
    scratch: Vec<u32>,
    fams: Vec<usize>,
}

impl Sink {
    pub fn new() -> Sink {
        Sink::default()
    }

    /// The family `name`, created with `help`, `ty` and `labels` the first time it is asked for.
    pub fn family(&mut self, name: &str, help: &str, ty: MetricType, labels: &'static [&'static str]) -> FamilyId {
        self.family_with(name, ty, labels, |h| h.push_str(help))
    }

    /// As [`Sink::family`], the help text written by `help` only when the family is new (dynamic help texts such as
    /// `Memory information field X.` cost nothing on later gathers).
    pub fn family_with(&mut self, name: &str, ty: MetricType, labels: &'static [&'static str], help: impl FnOnce(&mut String)) -> FamilyId {
        if let Some(&i) = self.by_name.get(name) {
            return FamilyId(i);
        }
        let mut h = String::new();
        help(&mut h);
        let mut order: Vec<usize> = (0..labels.len()).collect();
        order.sort_by_key(|&i| labels[i]);
        let i = self.families.len();
        self.families.push(Family {
            name: name.into(),
            help: h.into(),
            ty,
            labels,
            order: order.into(),
            values: String::new(),
            ends: Vec::new(),
            nums: Vec::new(),
        });
        self.by_name.insert(name.into(), i);
        FamilyId(i)
    }

    /// Adds a sample; `values` are in the order of the family's label names. A wrong count is a programming error:
    /// the sample is dropped (debug builds assert).
    pub fn add(&mut self, id: FamilyId, values: &[&str], v: f64) {
        let f = &mut self.families[id.0];
        debug_assert_eq!(values.len(), f.labels.len(), "label values of {}", f.name);
        if values.len() != f.labels.len() {
            return;
        }
        for val in values {
            f.values.push_str(val);
            f.ends.push(f.values.len() as u32);
        }
        f.nums.push(v);
    }

    /// Shorthand for a family with one sample and no labels.
    pub fn single(&mut self, name: &str, help: &str, ty: MetricType, v: f64) {
        let id = self.family(name, help, ty, &[]);
        self.add(id, &[], v);
    }

    /// Shorthand for `family` + `add`.
    pub fn sample(&mut self, name: &str, help: &str, ty: MetricType, labels: &'static [&'static str], values: &[&str], v: f64) {
        let id = self.family(name, help, ty, labels);
        self.add(id, values, v);
    }

    /// Empties every family, keeping their storage for the next gather.
    pub fn clear(&mut self) {
        for f in &mut self.families {
            f.clear();
        }
    }

    /// Appends the text exposition of every non-empty family to `out`. A second sample with the same label values
    /// as an earlier one is dropped, as client_golang's registry does under `ContinueOnError`.
    pub fn render(&mut self, out: &mut String) {
        let Sink { families, scratch, fams, .. } = self;
        fams.clear();
        fams.extend((0..families.len()).filter(|&i| families[i].len() > 0));
        fams.sort_by(|&a, &b| families[a].name.cmp(&families[b].name));
        for &fi in fams.iter() {
            let f = &families[fi];
            out.push_str("# HELP ");
            out.push_str(&f.name);
            out.push(' ');
            escape_help(out, &f.help);
            out.push_str("\n# TYPE ");
            out.push_str(&f.name);
            out.push(' ');
            out.push_str(f.ty.as_str());
            out.push('\n');
            scratch.clear();
            scratch.extend(0..f.len() as u32);
            let cmp = |a: &u32, b: &u32| {
                for &l in f.order.iter() {
                    match f.value(*a as usize, l).cmp(f.value(*b as usize, l)) {
                        std::cmp::Ordering::Equal => continue,
                        o => return o,
                    }
                }
                std::cmp::Ordering::Equal
            };
            // Stable: among duplicates the first collected one comes first and is the one kept.
            scratch.sort_by(cmp);
            let mut prev: Option<u32> = None;
            for &s in scratch.iter() {
                if let Some(p) = prev {
                    if cmp(&p, &s) == std::cmp::Ordering::Equal {
                        continue;
                    }
                }
                prev = Some(s);
                out.push_str(&f.name);
                if !f.labels.is_empty() {
                    out.push('{');
                    for (k, &l) in f.order.iter().enumerate() {
                        if k > 0 {
                            out.push(',');
                        }
                        out.push_str(f.labels[l]);
                        out.push_str("=\"");
                        escape_label_value(out, f.value(s as usize, l));
                        out.push('"');
                    }
                    out.push('}');
                }
                out.push(' ');
                write_float(out, f.nums[s as usize]);
                out.push('\n');
            }
        }
    }
}

/// `\` and newline escaped, as the text format requires in HELP lines.
pub fn escape_help(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// `\`, `"` and newline escaped, as the text format requires in label values.
pub fn escape_label_value(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A fixed stack buffer for `{:e}` formatting: the shortest exponent form of an f64 is at most 24 bytes.
struct Buf {
    b: [u8; 40],
    n: usize,
}

impl std::fmt::Write for Buf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.n + s.len();
        if end > self.b.len() {
            return Err(std::fmt::Error);
        }
        self.b[self.n..end].copy_from_slice(s.as_bytes());
        self.n = end;
        Ok(())
    }
}

/// Appends `v` as Go's `strconv.FormatFloat(v, 'g', -1, 64)` does, with client_golang's special cases (`1`, `0`,
/// `-1`, `NaN`, `+Inf`, `-Inf`): shortest round-trip digits, exponent form when the decimal exponent is below -4
/// or at least 6 (`1e+06`, `1.6805888e+07`, `7.2838e-05`), plain form otherwise (`786432`, `0.000557596`).
pub fn write_float(out: &mut String, v: f64) {
    if v == 1.0 {
        return out.push('1');
    }
    if v == 0.0 {
        return out.push('0');
    }
    if v == -1.0 {
        return out.push_str("-1");
    }
    if v.is_nan() {
        return out.push_str("NaN");
    }
    if v.is_infinite() {
        return out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    }
    // Rust's `{:e}` yields the same shortest round-trip digits as Go (both pick the closest shortest string).
    let mut buf = Buf { b: [0; 40], n: 0 };
    if write!(buf, "{:e}", v.abs()).is_err() {
        // Unreachable for finite f64 (at most 24 bytes); fall back to Display rather than panic.
        let _ = write!(out, "{v}");
        return;
    }
    let s = &buf.b[..buf.n];
    let epos = s.iter().position(|&c| c == b'e').unwrap_or(s.len());
    let (mant, exp_part) = s.split_at(epos);
    let exp: i32 = std::str::from_utf8(exp_part.get(1..).unwrap_or(b"0")).ok().and_then(|e| e.parse().ok()).unwrap_or(0);
    let mut digits = [0u8; 24];
    let mut nd = 0;
    for &c in mant {
        if c.is_ascii_digit() && nd < digits.len() {
            digits[nd] = c;
            nd += 1;
        }
    }
    let digits = &digits[..nd];
    if v < 0.0 {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push(digits[0] as char);
        if nd > 1 {
            out.push('.');
            for &d in &digits[1..] {
                out.push(d as char);
            }
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        let _ = write!(out, "{a}");
        return;
    }
    // Plain form: `dp` digits before the point (zero-padded), the rest after it.
    let dp = exp + 1;
    if dp <= 0 {
        out.push_str("0.");
        for _ in 0..-dp {
            out.push('0');
        }
        for &d in digits {
            out.push(d as char);
        }
        return;
    }
    let dp = dp as usize;
    for &d in digits.iter().take(dp) {
        out.push(d as char);
    }
    for _ in nd..dp {
        out.push('0');
    }
    if nd > dp {
        out.push('.');
        for &d in &digits[dp..] {
            out.push(d as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64) -> String {
        let mut s = String::new();
        write_float(&mut s, v);
        s
    }

    #[test]
    fn floats_match_go_shortest_g() {
        // Left: values node_exporter 1.5.0 printed on a real machine, right: what it printed.
        let cases: &[(f64, &str)] = &[
            (1.796416008e9, "1.796416008e+09"),
            (6547421.0, "6.547421e+06"),
            (3817.09, "3817.09"),
            (0.000557596, "0.000557596"),
            (7.2838e-05, "7.2838e-05"),
            (786432.0, "786432"),
            (1000000.0, "1e+06"),
            (1.6e10, "1.6e+10"),
            (1892.1490000000001, "1892.1490000000001"),
            (3.5184372087808e13, "3.5184372087808e+13"),
            (1.796424857065272e9, "1.796424857065272e+09"),
            (0.25, "0.25"),
            (256.0, "256"),
            (100000.0, "100000"),
            (123456.0, "123456"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (-1234567.0, "-1.234567e+06"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (1.0, "1"),
            (0.0, "0"),
            (-0.0, "0"),
            (-1.0, "-1"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for (v, want) in cases {
            assert_eq!(f(*v), *want, "{v:?}");
        }
    }

    #[test]
    fn render_sorts_and_escapes() {
        let mut s = Sink::new();
        let id = s.family("b_metric", "Help with \\ and\nnewline.", MetricType::Gauge, &["zeta", "alpha"]);
        s.add(id, &["2", "x\"y"], 2.0);
        s.add(id, &["1", "a\\b\nc"], 1.0);
        s.add(id, &["1", "a\\b\nc"], 9.0);
        s.single("a_metric", "First.", MetricType::Counter, 1e6);
        let mut out = String::new();
        s.render(&mut out);
        assert_eq!(
            out,
            "# HELP a_metric First.\n# TYPE a_metric counter\na_metric 1e+06\n\
             # HELP b_metric Help with \\\\ and\\nnewline.\n# TYPE b_metric gauge\n\
             b_metric{alpha=\"a\\\\b\\nc\",zeta=\"1\"} 1\nb_metric{alpha=\"x\\\"y\",zeta=\"2\"} 2\n"
        );
        s.clear();
        let mut out = String::new();
        s.render(&mut out);
        assert_eq!(out, "");
    }
}
