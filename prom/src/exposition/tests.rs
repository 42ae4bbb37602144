//! Unit tests of the parsers (the conformance suite covers Prometheus' own cases).

use proptest::prelude::*;
use prost::Message as _;

use super::*;
use crate::sample::{MetricType, NORMAL_NAN_BITS};

/// All entries of `body`, described as text, and the error if any.
fn parse_all(format: Format, body: &[u8], options: ParserOptions) -> (Vec<String>, Option<String>) {
    collect(Parser::with_options(format, body, options))
}

/// Entries and error of a parser, described.
fn collect(mut p: Parser<'_>) -> (Vec<String>, Option<String>) {
    let mut out = Vec::new();
    let mut b = LabelsBuilder::default();
    while let Some(e) = p.next() {
        match e {
            Ok(e) => out.push(describe(&e, &mut b)),
            Err(e) => return (out, Some(e.to_string())),
        }
    }
    (out, None)
}

fn describe(e: &Entry<'_>, b: &mut LabelsBuilder) -> String {
    match e {
        Entry::Help { metric, text } => format!("help {metric} {text:?}"),
        Entry::Type { metric, metric_type } => format!("type {metric} {}", metric_type.as_str()),
        Entry::Unit { metric, unit } => format!("unit {metric} {unit}"),
        Entry::Comment(c) => format!("comment {}", String::from_utf8_lossy(c)),
        Entry::Series(s) => {
            s.labels(b);
            let mut d = format!("{} {} {}", String::from_utf8_lossy(s.series()), b.labels(), s.value());
            if let Some(t) = s.timestamp_ms() {
                d.push_str(&format!(" @{t}"));
            }
            if let Some(t) = s.start_timestamp_ms() {
                d.push_str(&format!(" st={t}"));
            }
            if let Some(x) = s.exemplar() {
                d.push_str(&format!(" # {}", x.to_exemplar(-1).labels));
                d.push_str(&format!(" {} {:?}", x.value(), x.timestamp_ms()));
            }
            d
        }
        Entry::Histogram(h) => {
            h.labels(b);
            format!("histogram {} {:?}", b.labels(), h.histogram())
        }
    }
}

fn text(body: &str) -> (Vec<String>, Option<String>) {
    parse_all(Format::PrometheusText, body.as_bytes(), ParserOptions::default())
}

fn om(body: &str, skip_created: bool) -> (Vec<String>, Option<String>) {
    parse_all(Format::OpenMetrics, body.as_bytes(), ParserOptions { skip_created_series: skip_created, ..Default::default() })
}

#[test]
fn text_series_keep_their_raw_text_and_parse_labels_lazily() {
    let body = "# HELP h Help \\\\ with \\n escapes\n# TYPE h histogram\nh_bucket{a=\"x\\\"y\",le=\"1\"} 2 1700000000000\nh_bucket{ le = \"+Inf\" , } +Inf\nother{le=\"1\"} NaN\n";
    let (entries, err) = text(body);
    assert_eq!(err, None);
    assert_eq!(
        entries,
        [
            "help h \"Help \\\\ with \\n escapes\"",
            "type h histogram",
            r#"h_bucket{a="x\"y",le="1"} {__name__="h_bucket", a="x\"y", le="1.0"} 2 @1700000000000"#,
            r#"h_bucket{ le = "+Inf" , } {__name__="h_bucket", le="+Inf"} inf"#,
            r#"other{le="1"} {__name__="other", le="1.0"} NaN"#,
        ]
    );
}

#[test]
fn text_nan_is_the_normal_nan_and_type_changes_normalisation() {
    let mut p = Parser::new(Format::PrometheusText, b"# TYPE g gauge\ng{le=\"1\"} nan\n");
    let _ = p.next();
    let Some(Ok(Entry::Series(s))) = p.next() else { panic!("no series") };
    assert_eq!(s.value().to_bits(), NORMAL_NAN_BITS);
    assert_eq!(s.metric_type(), MetricType::Gauge);
    assert_eq!(s.to_labels().get("le"), Some("1"));
}

#[test]
fn text_without_final_newline_and_with_quoted_names() {
    let (entries, err) = text("{\"my.metric\", \"a.b\"=\"1\"} 1");
    assert_eq!(err, None);
    assert_eq!(entries, [r#"{"my.metric", "a.b"="1"} {__name__="my.metric", a.b="1"} 1"#]);
}

#[test]
fn text_errors_stop_the_parser() {
    let mut p = Parser::new(Format::PrometheusText, b"a 1\nb{c='d'} 1\nc 2\n");
    assert!(matches!(p.next(), Some(Ok(Entry::Series(_)))));
    let err = p.next().and_then(Result::err).map(|e| e.to_string());
    assert_eq!(err.as_deref(), Some(r#"expected label value, got "'" ("INVALID") while parsing: "b{c='""#));
    assert!(p.next().is_none());
    assert_eq!(text("a 1e400\n").1.as_deref(), Some(r#"strconv.ParseFloat: parsing "1e400": value out of range while parsing: "a 1e400""#));
    assert_eq!(
        text("a 1 99999999999999999999\n").1.as_deref(),
        Some(r#"strconv.ParseInt: parsing "99999999999999999999": value out of range while parsing: "a 1 99999999999999999999""#)
    );
    assert_eq!(text("# TYPE a nope\n").1.as_deref(), Some(r#"invalid metric type "nope""#));
    assert_eq!(
        parse_all(Format::PrometheusText, b"a{b=\"\xff\"} 1\n", ParserOptions::default()).1.as_deref(),
        Some(r#"invalid UTF-8 label value: "\"\xff\"""#)
    );
}

#[test]
fn openmetrics_exemplars_timestamps_and_units() {
    let body = "# TYPE foo_seconds counter\n# UNIT foo_seconds seconds\nfoo_seconds_total{a=\"b\"} 1 1.5 # {id=\"x\\\"y\"} 2 3.25\nfoo_seconds_created{a=\"b\"} 1000\n# EOF\n";
    let (entries, err) = om(body, false);
    assert_eq!(err, None);
    assert_eq!(
        entries,
        [
            "type foo_seconds counter",
            "unit foo_seconds seconds",
            r#"foo_seconds_total{a="b"} {__name__="foo_seconds_total", a="b"} 1 @1500 # {id="x\"y"} 2 Some(3250)"#,
            r#"foo_seconds_created{a="b"} {__name__="foo_seconds_created", a="b"} 1000"#,
        ]
    );
    let (entries, err) = om(body, true);
    assert_eq!(err, None);
    assert_eq!(entries[2], r#"foo_seconds_total{a="b"} {__name__="foo_seconds_total", a="b"} 1 @1500 st=1000000 # {id="x\"y"} 2 Some(3250)"#);
    assert_eq!(entries.len(), 3);
}

#[test]
fn openmetrics_start_timestamps_follow_the_family() {
    let body = "# TYPE s summary\ns_count 2\ns_sum 3\ns{quantile=\"0.5\"} 1\ns_created 10\ns{quantile=\"0.9\"} 2\n# TYPE c counter\nc_total{x=\"1\"} 1\nc_total{x=\"2\"} 1\nc_created{x=\"2\"} 5\n# EOF\n";
    let (entries, err) = om(body, true);
    assert_eq!(err, None);
    let st: Vec<bool> = entries.iter().filter(|e| !e.starts_with("type")).map(|e| e.contains(" st=")).collect();
    assert_eq!(st, [true, true, true, true, false, true]);
}

#[test]
fn openmetrics_needs_eof() {
    assert_eq!(om("a 1\n", false).1.as_deref(), Some("data does not end with # EOF"));
    assert_eq!(om("# EOF\nx", false).1.as_deref(), Some("unexpected data after # EOF"));
    assert_eq!(om("a 1 # {} 1\n# EOF\n", false).1, None);
}

#[test]
fn openmetrics_lookahead_is_linear() {
    // A counter family of many series and no _created line: each lookahead would scan to the
    // end of the family; the remembered result keeps the total linear.
    let mut body = String::from("# TYPE c counter\n");
    for i in 0..20_000 {
        body.push_str(&format!("c_total{{i=\"{i}\"}} 1\n"));
    }
    body.push_str("# EOF\n");
    let start = std::time::Instant::now();
    let (entries, err) = om(&body, true);
    assert_eq!(err, None);
    assert_eq!(entries.len(), 20_001);
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

fn family(name: &str, t: proto::MetricType, metrics: Vec<proto::Metric>) -> proto::MetricFamily {
    proto::MetricFamily { name: name.into(), help: format!("{name} help"), r#type: t as i32, metric: metrics, unit: String::new() }
}

fn label(n: &str, v: &str) -> proto::LabelPair {
    proto::LabelPair { name: n.into(), value: v.into() }
}

fn delimited(families: &[proto::MetricFamily]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in families {
        f.encode_length_delimited(&mut out).unwrap_or_default();
    }
    out
}

#[test]
fn protobuf_flattens_summaries_and_classic_histograms() {
    let summary = proto::Metric {
        label: vec![label("z", "1"), label("a", "2")],
        summary: Some(proto::Summary {
            sample_count: 4,
            sample_sum: 10.0,
            quantile: vec![proto::Quantile { quantile: 0.5, value: 2.0 }, proto::Quantile { quantile: 1.0, value: 4.0 }],
            start_timestamp: Some(proto::Timestamp { seconds: 5, nanos: 500_000_000 }),
        }),
        timestamp_ms: 1234,
        ..Default::default()
    };
    let histogram = proto::Metric {
        histogram: Some(proto::Histogram {
            sample_count: 3,
            sample_sum: 1.5,
            bucket: vec![proto::Bucket {
                cumulative_count: 2,
                upper_bound: 1.0,
                exemplar: Some(proto::Exemplar { label: vec![label("id", "e")], value: 0.5, timestamp: None }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let counter = proto::Metric { counter: Some(proto::Counter { value: 7.0, ..Default::default() }), ..Default::default() };
    let body = delimited(&[
        family("s", proto::MetricType::Summary, vec![summary]),
        family("h", proto::MetricType::Histogram, vec![histogram]),
        family("empty", proto::MetricType::Gauge, vec![]),
        family("c_total", proto::MetricType::Counter, vec![counter]),
    ]);
    let (entries, err) = parse_all(Format::Protobuf, &body, ParserOptions::default());
    assert_eq!(err, None);
    let series: Vec<String> = entries.iter().map(|e| e.replace('\u{fffd}', "|")).collect();
    assert_eq!(
        series,
        [
            "help s \"s help\"",
            "type s summary",
            "s_count|a|2|z|1 {__name__=\"s_count\", a=\"2\", z=\"1\"} 4 @1234 st=5500",
            "s_sum|a|2|z|1 {__name__=\"s_sum\", a=\"2\", z=\"1\"} 10 @1234 st=5500",
            "s|a|2|quantile|0.5|z|1 {__name__=\"s\", a=\"2\", quantile=\"0.5\", z=\"1\"} 2 @1234 st=5500",
            "s|a|2|quantile|1.0|z|1 {__name__=\"s\", a=\"2\", quantile=\"1.0\", z=\"1\"} 4 @1234 st=5500",
            "help h \"h help\"",
            "type h histogram",
            "h_count {__name__=\"h_count\"} 3",
            "h_sum {__name__=\"h_sum\"} 1.5",
            "h_bucket|le|1.0 {__name__=\"h_bucket\", le=\"1.0\"} 2 # {id=\"e\"} 0.5 None",
            "h_bucket|le|+Inf {__name__=\"h_bucket\", le=\"+Inf\"} 3",
            "help c_total \"c_total help\"",
            "type c_total counter",
            "c_total {__name__=\"c_total\"} 7",
        ]
    );
}

#[test]
fn protobuf_native_histograms() {
    let h = proto::Metric {
        histogram: Some(proto::Histogram {
            sample_count: 5,
            sample_sum: 3.0,
            schema: 1,
            zero_threshold: 0.001,
            zero_count: 1,
            positive_span: vec![proto::BucketSpan { offset: -1, length: 3 }, proto::BucketSpan { offset: 2, length: 1 }],
            positive_delta: vec![1, -1, 2, 0],
            bucket: vec![proto::Bucket { cumulative_count: 5, upper_bound: 1.0, ..Default::default() }],
            exemplars: vec![proto::Exemplar { label: vec![label("t", "1")], value: 1.0, timestamp: Some(proto::Timestamp { seconds: 2, nanos: 0 }) }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let body = delimited(&[family("n", proto::MetricType::Histogram, vec![h])]);
    let mut p = Parser::with_options(Format::Protobuf, &body, ParserOptions { parse_classic_histograms: true, ..Default::default() });
    let mut kinds = Vec::new();
    while let Some(e) = p.next() {
        match e {
            Ok(Entry::Histogram(n)) => {
                let h = n.histogram();
                assert_eq!(h.positive, [1.0, 2.0, 2.0]);
                let span = |offset, length| crate::sample::BucketSpan { offset, length };
                assert_eq!(h.positive_spans, [span(-1, 1), span(1, 1), span(2, 1)]);
                assert_eq!((h.count, h.zero_count, h.is_float), (5.0, 1.0, false));
                assert_eq!(n.exemplars().len(), 1);
                assert_eq!(n.exemplars()[0].t, 2000);
                kinds.push("native".to_string());
            }
            Ok(Entry::Series(s)) => kinds.push(s.metric_name().into_owned()),
            Ok(_) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(kinds, ["native", "n_count", "n_sum", "n_bucket", "n_bucket"]);
}

#[test]
fn protobuf_errors() {
    let (_, err) = parse_all(Format::Protobuf, &[0x05, 0x0a], ParserOptions::default());
    assert_eq!(err.as_deref(), Some("clientpb: insufficient length of buffer, expected at least 6 bytes, got 2 bytes"));
    let (_, err) = parse_all(Format::Protobuf, &[0xff, 0xff, 0xff, 0xff, 0xff, 0x01], ParserOptions::default());
    assert_eq!(err.as_deref(), Some("clientpb: invalid varint encountered"));
    let bad = proto::Metric {
        histogram: Some(proto::Histogram { positive_span: vec![proto::BucketSpan { offset: 0, length: 2 }], positive_delta: vec![1], ..Default::default() }),
        ..Default::default()
    };
    let body = delimited(&[family("bad", proto::MetricType::Histogram, vec![bad])]);
    let (_, err) = parse_all(Format::Protobuf, &body, ParserOptions::default());
    assert_eq!(err.as_deref(), Some(r#"histogram "bad": positive side: spans require 2 buckets, have 1"#));
}

/// Drives a parser to the end; panics if it yields more entries than the input could hold.
fn drain(format: Format, body: &[u8], options: ParserOptions) {
    let mut p = Parser::with_options(format, body, options);
    let mut b = LabelsBuilder::default();
    let limit = 4 * body.len() + 16;
    for _ in 0..limit {
        match p.next() {
            None => return,
            Some(Ok(Entry::Series(s))) => {
                s.labels(&mut b);
                if let Some(e) = s.exemplar() {
                    e.labels(&mut b);
                }
            }
            Some(Ok(Entry::Histogram(h))) => h.labels(&mut b),
            Some(_) => {}
        }
    }
    panic!("parser did not stop within {limit} entries");
}

/// Series lines in many shapes, to compare the fast path with the state machine.
fn series_like() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(&b"m"[..]),
        Just(&b"m_created"[..]),
        Just(&b"x:y_total"[..]),
        Just(&b"m{a=\"b\",le=\"1\"} 1\n"[..]),
        Just(&b"m_total{a=\"b\",} 3 4.5\n"[..]),
        Just(&b"m_created{a=\"b\"} 5\n"[..]),
        Just(&b"m_count 1 2\n"[..]),
        Just(&b"m{quantile=\"0.5\"} 1 # {x=\"y\"} 1 2\n"[..]),
        Just(&b"{"[..]),
        Just(&b"}"[..]),
        Just(&b"a=\"b\""[..]),
        Just(&b"le=\"1\""[..]),
        Just(&b"quantile=\"0.5\""[..]),
        Just(&b"a=\"x\\\"y\\\\\""[..]),
        Just(&b"a=\"\xc3\xa9\""[..]),
        Just(&b"a=\"\xff\""[..]),
        Just(&b","[..]),
        Just(&b" "[..]),
        Just(&b"\t"[..]),
        Just(&b" 1"[..]),
        Just(&b" 1.5e3"[..]),
        Just(&b" NaN"[..]),
        Just(&b" 1_2"[..]),
        Just(&b" 123"[..]),
        Just(&b" 1.5"[..]),
        Just(&b" # {a=\"b\"} 1"[..]),
        Just(&b"\n"[..]),
        Just(&b"\n"[..]),
        Just(&b"# TYPE m counter\n"[..]),
        Just(&b"# TYPE m histogram\n"[..]),
        Just(&b"# TYPE m summary\n"[..]),
        Just(&b"# EOF\n"[..]),
        Just(&b"\0"[..]),
    ];
    prop::collection::vec(piece, 0..30).prop_map(|v| v.concat())
}

/// Lines that look like expositions, to reach deeper than random bytes do.
fn exposition_like() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(&b"# HELP "[..]),
        Just(&b"# TYPE "[..]),
        Just(&b"# UNIT "[..]),
        Just(&b"# EOF\n"[..]),
        Just(&b" counter\n"[..]),
        Just(&b" summary\n"[..]),
        Just(&b" histogram\n"[..]),
        Just(&b"m"[..]),
        Just(&b"_created"[..]),
        Just(&b"{"[..]),
        Just(&b"}"[..]),
        Just(&b"le=\"1\""[..]),
        Just(&b"\"q.x\""[..]),
        Just(&b","[..]),
        Just(&b" 1"[..]),
        Just(&b" NaN"[..]),
        Just(&b" # "[..]),
        Just(&b"\n"[..]),
        Just(&b"\\"[..]),
        Just(&b"\0"[..]),
        Just(&b" "[..]),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_or_spin(body in prop::collection::vec(any::<u8>(), 0..300)) {
        for format in [Format::PrometheusText, Format::OpenMetrics, Format::Protobuf] {
            drain(format, &body, ParserOptions::default());
            drain(format, &body, ParserOptions { skip_created_series: true, parse_classic_histograms: true, ignore_native_histograms: false });
        }
    }

    #[test]
    fn exposition_like_bytes_never_panic_or_spin(body in exposition_like()) {
        for format in [Format::PrometheusText, Format::OpenMetrics] {
            drain(format, &body, ParserOptions { skip_created_series: true, ..Default::default() });
        }
    }

    #[test]
    fn the_fast_path_reads_lines_as_the_state_machine_does(body in series_like(), skip in any::<bool>()) {
        let options = ParserOptions { skip_created_series: skip, ..Default::default() };
        for format in [Format::PrometheusText, Format::OpenMetrics] {
            let fast = collect(Parser::with_options(format, &body, options));
            let slow = collect(Parser::with_options(format, &body, options).without_fast_path());
            prop_assert_eq!(fast, slow);
        }
    }

    #[test]
    fn go_decimal_floats_match_the_standard_library(
        sign in prop_oneof![Just(""), Just("-"), Just("+")],
        int in "[0-9]{0,25}",
        frac in prop::option::of("[0-9]{0,25}"),
        exp in prop::option::of((prop_oneof![Just("e"), Just("E")], prop_oneof![Just(""), Just("-"), Just("+")], 0u32..400)),
    ) {
        let mut s = format!("{sign}{int}");
        if let Some(f) = &frac {
            s.push('.');
            s.push_str(f);
        }
        if let Some((e, es, n)) = &exp {
            s.push_str(&format!("{e}{es}{n}"));
        }
        let digits = !int.is_empty() || frac.as_ref().is_some_and(|f| !f.is_empty());
        let got = float::parse_value(s.as_bytes());
        if !digits {
            prop_assert_eq!(got, Err(NumberErrorKind::Syntax));
        } else {
            let want: f64 = s.parse().map_err(|e| TestCaseError::fail(format!("{s}: {e}")))?;
            if want.is_infinite() {
                prop_assert_eq!(got, Err(NumberErrorKind::Range));
            } else {
                prop_assert_eq!(got.map(f64::to_bits), Ok(want.to_bits()), "{}", s);
            }
        }
    }

    #[test]
    fn openmetrics_floats_round_trip(bits in any::<u64>()) {
        let f = f64::from_bits(bits);
        let s = format_openmetrics_float(f);
        prop_assert_eq!(float::with_openmetrics_float(f, str::to_string), s.clone());
        let back = parse_go_float(s.as_bytes());
        if f.is_nan() {
            prop_assert_eq!(s, "NaN");
        } else if f == 0.0 {
            prop_assert_eq!(s, "0.0");
        } else {
            prop_assert_eq!(back, Ok(f));
        }
    }
}

/// A large text exposition in the shape of a typical exporter: families of a few labels each.
fn large_exposition(series: usize) -> String {
    let mut body = String::with_capacity(series * 100);
    let mut n = 0;
    let mut family = 0;
    while n < series {
        body.push_str(&format!("# HELP family_{family}_seconds Some help text for the family.\n# TYPE family_{family}_seconds histogram\n"));
        for pod in 0..10 {
            for le in ["0.005", "0.01", "0.1", "1", "10", "+Inf"] {
                body.push_str(&format!(
                    "family_{family}_seconds_bucket{{method=\"GET\",handler=\"/api/v1/query\",pod=\"pod-{pod}\",le=\"{le}\"}} {}\n",
                    n * 7 + 3
                ));
                n += 1;
            }
            body.push_str(&format!("family_{family}_seconds_sum{{method=\"GET\",handler=\"/api/v1/query\",pod=\"pod-{pod}\"}} {}.25\n", n * 3));
            body.push_str(&format!("family_{family}_seconds_count{{method=\"GET\",handler=\"/api/v1/query\",pod=\"pod-{pod}\"}} {}\n", n));
            n += 2;
        }
        family += 1;
    }
    body
}

/// `cargo test --release -p alloy-prom throughput -- --ignored --nocapture`
#[test]
#[ignore]
fn throughput() {
    let text_body = large_exposition(1_000_000);
    let om_body = format!("{text_body}# EOF\n");
    // The last two read every line through the token machine (the fast path off), which is
    // what lines outside the common shape cost.
    let modes = [
        ("text", Format::PrometheusText, "series text + value", false, true),
        ("text", Format::PrometheusText, "with label sets", true, true),
        ("openmetrics", Format::OpenMetrics, "series text + value", false, true),
        ("text", Format::PrometheusText, "state machine only", false, false),
        ("openmetrics", Format::OpenMetrics, "state machine only", false, false),
    ];
    let hot_only = std::env::var_os("EXPO_BENCH_HOT").is_some();
    for (name, format, what, with_labels, fast) in modes.into_iter().filter(|m| !(hot_only && m.3)) {
        let body = if format == Format::OpenMetrics { &om_body } else { &text_body };
        let mut b = LabelsBuilder::default();
        let start = std::time::Instant::now();
        let mut count = 0usize;
        let mut checksum = 0.0;
        let mut p = Parser::new(format, body.as_bytes());
        if !fast {
            p = p.without_fast_path();
        }
        while let Some(e) = p.next() {
            if let Ok(Entry::Series(s)) = e {
                count += 1;
                checksum += s.value() + s.series().len() as f64;
                if with_labels {
                    s.labels(&mut b);
                    checksum += b.len() as f64;
                }
            }
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{name} {what}: {count} series in {secs:.3}s = {:.1}M series/s ({:.0} MB/s) [{checksum}]",
            count as f64 / secs / 1e6,
            body.len() as f64 / secs / 1e6
        );
    }
}
