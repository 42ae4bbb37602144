//! Prometheus names for OTLP metrics and attributes: the collector's `BuildCompliantName`
//! (with the `NormalizeName` gate on, as in Alloy) and `NormalizeLabel`.

/// The unit words appended for a metric's main unit (`1` adds nothing).
fn unit_word(unit: &str) -> &str {
    match unit {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => "",
        "%" => "percent",
        other => other,
    }
}

/// The words for the unit after `/` (`per_<word>`).
fn per_unit_word(unit: &str) -> &str {
    match unit {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        other => other,
    }
}

/// Go's `unicode.IsLetter || unicode.IsDigit`.
fn alnum(c: char) -> bool {
    c.is_alphabetic() || c.is_numeric()
}

/// The alphanumeric runs of `s`.
fn tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !alnum(c)).filter(|t| !t.is_empty())
}

/// The alphanumeric runs of `s` joined with `_`.
fn clean(s: &str) -> String {
    tokens(s).collect::<Vec<_>>().join("_")
}

fn prefix_digit(mut name: String) -> String {
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

/// What kind of metric a name is built for: suffixes depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    MonotonicSum,
    Gauge,
    Other,
}

/// The metric's Prometheus name. With suffixes: its alphanumeric tokens, the unit (and
/// `per_<unit>`) unless already a token, `total` last for monotonic sums, `ratio` last for
/// gauges of unit `1`. Without: forbidden characters runs become `_`.
pub fn metric_name(name: &str, unit: &str, kind: Kind, add_suffixes: bool) -> String {
    if !add_suffixes {
        let kept = name.split(|c: char| !(alnum(c) || c == '_' || c == ':')).filter(|t| !t.is_empty()).collect::<Vec<_>>().join("_");
        return prefix_digit(kept);
    }
    let mut words: Vec<String> = tokens(name).map(str::to_string).collect();
    let mut units = unit.splitn(2, '/');
    let main = units.next().unwrap_or("").trim();
    if !main.is_empty() && !main.contains(['{', '}']) {
        let word = clean(unit_word(main));
        if !word.is_empty() && !words.contains(&word) {
            words.push(word);
        }
    }
    if let Some(per) = units.next().map(str::trim).filter(|p| !p.is_empty() && !p.contains(['{', '}'])) {
        let word = clean(per_unit_word(per));
        if !word.is_empty() && !words.contains(&word) {
            words.push("per".into());
            words.push(word);
        }
    }
    let move_last = |words: &mut Vec<String>, w: &str| {
        words.retain(|x| x != w);
        words.push(w.to_string());
    };
    if kind == Kind::MonotonicSum {
        move_last(&mut words, "total");
    }
    if unit == "1" && kind == Kind::Gauge {
        move_last(&mut words, "ratio");
    }
    prefix_digit(words.join("_"))
}

/// An attribute key as a label name: other characters than letters and digits become `_`,
/// a leading digit gets `key_`, a single leading `_` gets `key`.
pub fn label_name(key: &str) -> String {
    if key.is_empty() {
        return String::new();
    }
    let s: String = key.chars().map(|c| if alnum(c) { c } else { '_' }).collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("key_{s}")
    } else if s.starts_with('_') && !s.starts_with("__") {
        format!("key{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_per_units_become_words() {
        assert_eq!(metric_name("http.server.duration", "ms", Kind::Other, true), "http_server_duration_milliseconds");
        assert_eq!(metric_name("io", "By/s", Kind::Gauge, true), "io_bytes_per_second");
        assert_eq!(metric_name("requests", "{request}/mo", Kind::Gauge, true), "requests_per_month");
        assert_eq!(metric_name("latency", "seconds", Kind::Gauge, true), "latency_seconds");
        // A unit already among the tokens is not repeated.
        assert_eq!(metric_name("request_seconds", "s", Kind::Gauge, true), "request_seconds");
        assert_eq!(metric_name("temp", "Cel", Kind::Gauge, true), "temp_celsius");
        assert_eq!(metric_name("cpu", "%", Kind::Gauge, true), "cpu_percent");
        assert_eq!(metric_name("things", "{thing}", Kind::Gauge, true), "things");
    }

    #[test]
    fn total_goes_last_on_monotonic_sums_and_ratio_on_gauges_of_unit_one() {
        assert_eq!(metric_name("test_metric_total", "seconds", Kind::MonotonicSum, true), "test_metric_seconds_total");
        assert_eq!(metric_name("hits", "", Kind::MonotonicSum, true), "hits_total");
        assert_eq!(metric_name("used", "1", Kind::Gauge, true), "used_ratio");
        assert_eq!(metric_name("ratio_used", "1", Kind::Gauge, true), "used_ratio");
        // Unit 1 on a counter adds nothing.
        assert_eq!(metric_name("objects", "1", Kind::MonotonicSum, true), "objects_total");
        assert_eq!(metric_name("hits", "", Kind::Other, true), "hits");
    }

    #[test]
    fn names_without_suffixes_only_lose_forbidden_characters() {
        assert_eq!(metric_name("test_metric", "seconds", Kind::MonotonicSum, false), "test_metric");
        assert_eq!(metric_name("a.b-c:d__e", "", Kind::Gauge, false), "a_b_c:d__e");
        assert_eq!(metric_name("..a..", "", Kind::Gauge, false), "a");
        assert_eq!(metric_name("2xx.count", "", Kind::Gauge, false), "_2xx_count");
        assert_eq!(metric_name("2xx", "s", Kind::Gauge, true), "_2xx_seconds");
    }

    #[test]
    fn attribute_keys_become_label_names() {
        assert_eq!(label_name("service.instance.id"), "service_instance_id");
        assert_eq!(label_name("http-method"), "http_method");
        assert_eq!(label_name("0key"), "key_0key");
        assert_eq!(label_name("_private"), "key_private");
        assert_eq!(label_name("__reserved"), "__reserved");
        assert_eq!(label_name("größe"), "größe");
        assert_eq!(label_name(""), "");
    }
}
