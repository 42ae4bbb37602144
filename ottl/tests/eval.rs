//! The evaluator, table-driven: a statement runs on a fixed item and the item's attributes
//! (or one of them) are compared with the expected JSON.

#![cfg(feature = "eval")]

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    metric::Data, number_data_point, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use ottl::eval::{self, EvalError, Group, Value};
use ottl::{check_condition, check_statement, Context};

fn s(v: &str) -> AnyValue {
    AnyValue { value: Some(any_value::Value::StringValue(v.into())) }
}

fn kv(k: &str, value: AnyValue) -> KeyValue {
    KeyValue { key: k.into(), value: Some(value), ..Default::default() }
}

fn int(i: i64) -> AnyValue {
    AnyValue { value: Some(any_value::Value::IntValue(i)) }
}

fn resource() -> Option<Resource> {
    Some(Resource { attributes: vec![kv("service.name", s("svc"))], ..Default::default() })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope { name: "lib".into(), version: "1.0".into(), ..Default::default() })
}

fn logs() -> ExportLogsServiceRequest {
    let attrs = vec![
        kv("a", s("1")),
        kv("n", int(2)),
        kv("d", AnyValue { value: Some(any_value::Value::DoubleValue(1.5)) }),
        kv("b", AnyValue { value: Some(any_value::Value::BoolValue(true)) }),
        kv("m", AnyValue { value: Some(any_value::Value::KvlistValue(KeyValueList { values: vec![kv("x", s("y")), kv("k", int(1))] })) }),
        kv("l", AnyValue { value: Some(any_value::Value::ArrayValue(ArrayValue { values: vec![s("p"), s("q")] })) }),
        kv("s", s("GET /api/users")),
        kv("kv", s("k1=v1 k2=\"v 2\"")),
        kv("j", s(r#"{"j":1,"arr":[true]}"#)),
    ];
    let log = LogRecord {
        body: Some(s("hello world")),
        attributes: attrs,
        severity_number: 9,
        severity_text: "INFO".into(),
        time_unix_nano: 1_700_000_000_000_000_000,
        trace_id: (1..=16).collect(),
        span_id: (1..=8).collect(),
        ..Default::default()
    };
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(),
            scope_logs: vec![ScopeLogs { scope: scope(), log_records: vec![log], ..Default::default() }],
            ..Default::default()
        }],
    }
}

fn traces() -> ExportTraceServiceRequest {
    let span = Span {
        name: "GET /users".into(),
        kind: 2,
        start_time_unix_nano: 1_000_000_000,
        end_time_unix_nano: 3_500_000_000,
        trace_id: vec![0xab; 16],
        span_id: vec![0xcd; 8],
        attributes: vec![kv("http.status_code", int(500))],
        events: vec![
            span::Event { name: "exception".into(), attributes: vec![kv("type", s("E"))], ..Default::default() },
            span::Event { name: "log".into(), ..Default::default() },
        ],
        status: Some(Status { code: 2, message: "boom".into() }),
        ..Default::default()
    };
    let child = Span { name: "child".into(), parent_span_id: vec![0xcd; 8], ..Default::default() };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(),
            scope_spans: vec![ScopeSpans { scope: scope(), spans: vec![span, child], ..Default::default() }],
            ..Default::default()
        }],
    }
}

fn point(host: &str, v: number_data_point::Value) -> NumberDataPoint {
    NumberDataPoint { attributes: vec![kv("host", s(host))], value: Some(v), time_unix_nano: 5, ..Default::default() }
}

fn metrics() -> ExportMetricsServiceRequest {
    use number_data_point::Value as V;
    let gauge = Metric {
        name: "g".into(),
        unit: "s".into(),
        data: Some(Data::Gauge(Gauge { data_points: vec![point("a", V::AsDouble(1.5)), point("b", V::AsInt(3))] })),
        ..Default::default()
    };
    let sum = Metric {
        name: "s".into(),
        data: Some(Data::Sum(Sum { data_points: vec![point("a", V::AsDouble(10.0))], aggregation_temporality: 2, is_monotonic: true })),
        ..Default::default()
    };
    let hist = Metric {
        name: "h".into(),
        data: Some(Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                count: 3,
                sum: Some(6.0),
                explicit_bounds: vec![1.0, 2.0],
                bucket_counts: vec![1, 1, 1],
                ..Default::default()
            }],
            aggregation_temporality: 1,
        })),
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(),
            scope_metrics: vec![ScopeMetrics { scope: scope(), metrics: vec![gauge, sum, hist], ..Default::default() }],
            ..Default::default()
        }],
    }
}

fn json(kvs: &[KeyValue]) -> String {
    Value::from_kvs(kvs).text()
}

fn stop(e: EvalError) -> Result<(), EvalError> {
    Err(e)
}

fn run_logs(stmt: &str) -> Result<ExportLogsServiceRequest, EvalError> {
    let st = check_statement(stmt, Context::Log).unwrap_or_else(|d| panic!("{stmt}: {}", d.message));
    let mut req = logs();
    eval::transform_logs(&mut req, &Group { context: Context::Log, statements: &[st], conditions: &[] }, &mut stop)?;
    Ok(req)
}

fn log_attrs(req: &ExportLogsServiceRequest) -> &[KeyValue] {
    &req.resource_logs[0].scope_logs[0].log_records[0].attributes
}

/// The JSON of `attributes["out"]` after the statement ran in the log context.
fn out(stmt: &str) -> String {
    let req = run_logs(stmt).unwrap_or_else(|e| panic!("{stmt}: {e}"));
    let attrs = log_attrs(&req);
    attrs
        .iter()
        .find(|kv| kv.key == "out")
        .map_or("<absent>".into(), |kv| Value::from_any(kv.value.as_ref().unwrap_or(&AnyValue::default())).to_json().to_string())
}

#[test]
fn converters() {
    let cases: &[(&str, &str)] = &[
        (r#"Concat([attributes["a"], body, 3, nil], "-")"#, r#""1-hello world-3-<nil>""#),
        (r#"Concat(attributes["l"], attributes["a"])"#, r#""p1q""#),
        (r#"Concat(Split("a,b", ","), "+")"#, r#""a+b""#),
        (r#"ConvertCase("HTTP request_countTotal", "snake")"#, r#""http_request_count_total""#),
        (r#"ConvertCase("http_request count", "camel")"#, r#""HttpRequestCount""#),
        (r#"ConvertCase(body, "upper")"#, r#""HELLO WORLD""#),
        (r#"Int(attributes["d"])"#, "1"),
        (r#"Int(" 42 ")"#, "42"),
        (r#"Int(attributes["b"])"#, "1"),
        (r#"Double(attributes["a"])"#, "1.0"),
        (r#"String(attributes["m"])"#, r#""{\"k\":1,\"x\":\"y\"}""#),
        (r#"String(attributes["d"])"#, r#""1.5""#),
        (r#"Bool("True")"#, "true"),
        (r#"Bool(attributes["n"])"#, "true"),
        (r#"IsMatch(attributes["s"], "^GET /api/.*")"#, "true"),
        (r#"IsMatch(attributes["missing"], ".*")"#, "false"),
        (r#"IsString(attributes["a"])"#, "true"),
        (r#"IsInt(attributes["n"])"#, "true"),
        (r#"IsDouble(attributes["n"])"#, "false"),
        (r#"IsBool(attributes["b"])"#, "true"),
        (r#"IsMap(attributes["m"])"#, "true"),
        (r#"IsList(attributes["l"])"#, "true"),
        (r#"Len(attributes["l"])"#, "2"),
        (r#"Len(body)"#, "11"),
        (r#"ParseJSON(attributes["j"])"#, r#"{"arr":[true],"j":1.0}"#),
        (r#"ParseKeyValue(attributes["kv"])"#, r#"{"k1":"v1","k2":"v 2"}"#),
        (r#"ParseKeyValue("a:1,b:2", ":", ",")"#, r#"{"a":"1","b":"2"}"#),
        (r#"SHA1("abc")"#, r#""a9993e364706816aba3e25717850c26c9cd0d89d""#),
        (r#"SHA256("abc")"#, r#""ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad""#),
        (r#"MD5("abc")"#, r#""900150983cd24fb0d6963f7d28e17f72""#),
        (r#"FNV("hello")"#, "-6615550055289275125"),
        (r#"Split(attributes["s"], "/")"#, r#"["GET ","api","users"]"#),
        (r#"Split(attributes["s"], "/")[2]"#, r#""users""#),
        (r#"Split("ab", "")"#, r#"["a","b"]"#),
        (r#"Substring(body, 6, 5)"#, r#""world""#),
        (r#"ToLowerCase("AbC")"#, r#""abc""#),
        (r#"ToUpperCase(severity_text)"#, r#""INFO""#),
        (r#"Trim("  x y  ")"#, r#""x y""#),
        (r#"Trim("--x--", "-")"#, r#""x""#),
        (r#"HasPrefix(body, "hello")"#, "true"),
        (r#"HasSuffix(body, "hello")"#, "false"),
        (r#"Hex(TraceID(0x0102030405060708090a0b0c0d0e0f10))"#, r#""0102030405060708090a0b0c0d0e0f10""#),
        (r#"Hex(SpanID(0x0102030405060708))"#, r#""0102030405060708""#),
        (r#"Hex(attributes["n"])"#, r#""0000000000000002""#),
        (r#"UnixSeconds(time)"#, "1700000000"),
        (r#"UnixMilli(Unix(2, 5000000))"#, "2005"),
        (r#"UnixNano(time + Duration("1ms"))"#, "1700000000001000000"),
        (r#"UnixNano(Unix(10) - Duration("1h30m"))"#, "-5390000000000"),
        (r#"String(Unix(5) - Unix(2))"#, r#""3s""#),
        (r#"UnixSeconds(Now()) > 1700000000"#, "true"),
        (r#"UnixSeconds(Time("14/Nov/2023:23:13:20 +0100", "%d/%b/%Y:%H:%M:%S %z"))"#, "1700000000"),
        (r#"FormatTime(time, "%Y-%m-%dT%H:%M:%S.%L")"#, r#""2023-11-14T22:13:20.000""#),
        (r#"[Year(time), Month(time), Day(time), Weekday(time), Hour(time), Minute(time), Second(time), Nanosecond(time)]"#, "[2023,11,14,2,22,13,20,0]"),
        (r#"[Hours(Duration("90m")), Minutes(Duration("90s")), Seconds(Duration("1500ms"))]"#, "[1.5,1.5,1.5]"),
        (r#"[Milliseconds(Duration("1.5s")), Microseconds(Duration("1ms")), Nanoseconds(Duration("1us"))]"#, "[1500,1000,1000]"),
        (r#"Format("%s=%d (%f)", [attributes["a"], attributes["n"], attributes["d"]])"#, r#""1=2 (1.500000)""#),
        (r#"Log(1)"#, "0.0"),
        (r#"ExtractPatterns(attributes["s"], "^(?P<method>\\w+) (?P<path>\\S+)$")"#, r#"{"method":"GET","path":"/api/users"}"#),
        (r#"Base64Decode("aGk=")"#, r#""hi""#),
        (r#"Decode("aGk", "base64-raw")"#, r#""hi""#),
        (r#"Base64Encode("hi?>", "base64-url")"#, r#""aGk_Pg==""#),
        (r#"Base64Encode("hi")"#, r#""aGk=""#),
        (r#"attributes["n"] * 3 + 1"#, "7"),
        (r#"attributes["d"] * 2"#, "3.0"),
        (r#"-attributes["n"] / 2"#, "-1"),
        (r#"attributes["m"]["x"]"#, r#""y""#),
        (r#"attributes["l"][1]"#, r#""q""#),
        (r#"resource.attributes["service.name"]"#, r#""svc""#),
        (r#"instrumentation_scope.name"#, r#""lib""#),
        (r#"instrumentation_scope.version"#, r#""1.0""#),
        (r#"trace_id.string"#, r#""0102030405060708090a0b0c0d0e0f10""#),
        (r#"span_id.string"#, r#""0102030405060708""#),
        (r#"severity_number"#, "9"),
        (r#"body.string"#, r#""hello world""#),
        (r#"{"k": [1, "x"], "n": nil}"#, r#"{"k":[1,"x"],"n":null}"#),
        (r#"1 == 1.0 and "a" < "b" and not (nil != nil)"#, "true"),
    ];
    let mut failures = Vec::new();
    for (expr, want) in cases {
        let got = out(&format!(r#"set(attributes["out"], {expr})"#));
        if got != *want {
            failures.push(format!("{expr}: got {got}, want {want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn editors() {
    let cases: &[(&str, &str)] = &[
        (r#"set(attributes["a"], nil)"#, r#""a":"1""#),
        (r#"set(attributes["m"]["new"]["deep"], 1)"#, r#""m":{"k":1,"new":{"deep":1},"x":"y"}"#),
        (r#"delete_key(attributes, "a")"#, r#"{"b":true,"d":1.5,"j""#),
        (r#"delete_matching_keys(attributes, "^[abdjklmns]$")"#, r#"{"kv":"k1=v1 k2=\"v 2\""}"#),
        (r#"keep_keys(attributes, ["a", "n", "zz"])"#, r#"{"a":"1","n":2}"#),
        (r#"keep_matching_keys(attributes, "^k")"#, r#"{"kv":"k1=v1 k2=\"v 2\""}"#),
        (r#"limit(attributes, 2, ["s"])"#, r#"{"a":"1","s":"GET /api/users"}"#),
        (r#"merge_maps(attributes, {"a": "new", "z": 1}, "insert")"#, r#""a":"1""#),
        (r#"merge_maps(attributes, {"a": "new", "z": 1}, "update")"#, r#""a":"new""#),
        (r#"merge_maps(attributes, ParseJSON(attributes["j"]), "upsert")"#, r#""arr":[true]"#),
        (r#"replace_pattern(attributes["s"], "/api/(\\w+)", "/v2/$1")"#, r#""s":"GET /v2/users""#),
        (r#"replace_pattern(attributes["s"], "users", "x", SHA1, "h:%s")"#, r#""s":"GET /api/h:11f6ad8ec52a2984abaafd7c3b516503785c2072""#),
        (r#"replace_all_patterns(attributes, "value", "^1$", "one")"#, r#""a":"one""#),
        (r#"replace_all_patterns(attributes, "key", "^kv$", "pairs")"#, r#""pairs":"k1=v1"#),
        (r#"replace_match(attributes["s"], "GET /api/*", "GET /api/{id}")"#, r#""s":"GET /api/{id}""#),
        (r#"replace_all_matches(attributes, "GET *", "redacted")"#, r#""s":"redacted""#),
        (r#"truncate_all(attributes, 3)"#, r#""s":"GET""#),
        (r#"flatten(attributes)"#, r#""m.k":1,"m.x":"y""#),
        (r#"flatten(attributes, "p", 0)"#, r#""p.m":{"k":1,"x":"y"}"#),
        (r#"append(attributes["l"], "r")"#, r#""l":["p","q","r"]"#),
        (r#"append(attributes["a"], values = [2, 3])"#, r#""a":["1",2,3]"#),
        (r#"set(cache["c"], body) where severity_number >= SEVERITY_NUMBER_INFO"#, r#""a":"1""#),
    ];
    let mut failures = Vec::new();
    for (stmt, want) in cases {
        match run_logs(stmt) {
            Ok(req) => {
                let got = json(log_attrs(&req));
                if !got.contains(want) {
                    failures.push(format!("{stmt}: got {got}, want it to contain {want}"));
                }
            }
            Err(e) => failures.push(format!("{stmt}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn log_fields_and_cache() {
    let req = run_logs(r#"set(body, Concat([body, "!"], ""))"#).unwrap();
    assert_eq!(req.resource_logs[0].scope_logs[0].log_records[0].body, Some(s("hello world!")));
    let req = run_logs(r#"set(severity_text, "WARN") where IsMatch(body, "world")"#).unwrap();
    assert_eq!(req.resource_logs[0].scope_logs[0].log_records[0].severity_text, "WARN");
    let req = run_logs(r#"set(resource.attributes["env"], "prod")"#).unwrap();
    assert_eq!(json(&req.resource_logs[0].resource.as_ref().unwrap().attributes), r#"{"env":"prod","service.name":"svc"}"#);
    let req = run_logs(r#"set(time, Unix(1))"#).unwrap();
    assert_eq!(req.resource_logs[0].scope_logs[0].log_records[0].time_unix_nano, 1_000_000_000);
    // The cache lives for one item across statements.
    let group = [r#"set(cache["x"], body)"#, r#"set(attributes["from_cache"], cache["x"])"#].map(|s| check_statement(s, Context::Log).unwrap());
    let mut req = logs();
    eval::transform_logs(&mut req, &Group { context: Context::Log, statements: &group, conditions: &[] }, &mut stop).unwrap();
    assert!(json(log_attrs(&req)).contains(r#""from_cache":"hello world""#));
}

#[test]
fn runtime_errors_reach_the_error_callback() {
    for stmt in [
        r#"set(attributes["x"], Substring(body, 5, 100))"#,
        r#"set(attributes["x"], ParseJSON(body))"#,
        r#"set(attributes["x"], 1 / Int("0"))"#,
        r#"set(attributes["x"], ToLowerCase(attributes["missing"]))"#,
        r#"set(severity_text, 3)"#,
        r#"set(attributes["x"], Now())"#,
        r#"set(attributes["x"], attributes["l"][5])"#,
        r#"limit(attributes, -1, [])"#,
        r#"set(attributes["x"], ParseKeyValue(body, "", " "))"#,
        r#"set(attributes["x"], Time(body, "%Y"))"#,
    ] {
        assert!(run_logs(stmt).is_err(), "{stmt} should fail");
    }
    // With a continuing callback, the next statement still runs.
    let group = [r#"set(attributes["x"], ParseJSON(body))"#, r#"set(attributes["y"], "ran")"#].map(|s| check_statement(s, Context::Log).unwrap());
    let mut req = logs();
    let mut seen = Vec::new();
    eval::transform_logs(&mut req, &Group { context: Context::Log, statements: &group, conditions: &[] }, &mut |e| {
        seen.push(e.0);
        Ok(())
    })
    .unwrap();
    assert_eq!(seen.len(), 1);
    assert!(json(log_attrs(&req)).contains(r#""y":"ran""#));
}

#[test]
fn trace_contexts() {
    let run = |ctx: Context, stmt: &str| {
        let st = check_statement(stmt, ctx).unwrap_or_else(|d| panic!("{stmt}: {}", d.message));
        let mut req = traces();
        eval::transform_traces(&mut req, &Group { context: ctx, statements: &[st], conditions: &[] }, &mut stop).unwrap();
        req
    };
    let req = run(Context::Span, r#"set(attributes["dur"], String(end_time - start_time)) where kind == SPAN_KIND_SERVER and IsRootSpan()"#);
    let spans = &req.resource_spans[0].scope_spans[0].spans;
    assert_eq!(json(&spans[0].attributes), r#"{"dur":"2.5s","http.status_code":500}"#);
    assert_eq!(json(&spans[1].attributes), "{}");
    let req = run(Context::Span, r#"set(status.code, STATUS_CODE_OK) where status.message == "boom" and kind.string == "Server""#);
    assert_eq!(req.resource_spans[0].scope_spans[0].spans[0].status.as_ref().map(|s| s.code), Some(1));
    let req = run(Context::Span, r#"set(name, Concat([trace_id.string, span_id.string], "/"))"#);
    assert_eq!(req.resource_spans[0].scope_spans[0].spans[0].name, format!("{}/{}", "ab".repeat(16), "cd".repeat(8)));
    let req = run(Context::SpanEvent, r#"set(attributes["span"], span.name) where name == "exception""#);
    let events = &req.resource_spans[0].scope_spans[0].spans[0].events;
    assert_eq!((json(&events[0].attributes), json(&events[1].attributes)), (r#"{"span":"GET /users","type":"E"}"#.into(), "{}".into()));
    let req = run(Context::Resource, r#"delete_key(attributes, "service.name")"#);
    assert_eq!(json(&req.resource_spans[0].resource.as_ref().unwrap().attributes), "{}");
    let req = run(Context::Scope, r#"set(version, "2.0") where resource.attributes["service.name"] == "svc""#);
    assert_eq!(req.resource_spans[0].scope_spans[0].scope.as_ref().unwrap().version, "2.0");
}

#[test]
fn metric_contexts() {
    let run = |ctx: Context, stmt: &str| {
        let st = check_statement(stmt, ctx).unwrap_or_else(|d| panic!("{stmt}: {}", d.message));
        let mut req = metrics();
        eval::transform_metrics(&mut req, &Group { context: ctx, statements: &[st], conditions: &[] }, &mut stop).unwrap();
        req
    };
    let metrics_of = |req: &ExportMetricsServiceRequest| req.resource_metrics[0].scope_metrics[0].metrics.clone();
    let m = metrics_of(&run(Context::Metric, r#"convert_sum_to_gauge() where name == "s""#));
    assert!(matches!(&m[1].data, Some(Data::Gauge(g)) if g.data_points.len() == 1));
    let m = metrics_of(&run(Context::Metric, r#"convert_gauge_to_sum("delta", true) where type == METRIC_DATA_TYPE_GAUGE"#));
    assert!(matches!(&m[0].data, Some(Data::Sum(s)) if s.aggregation_temporality == 1 && s.is_monotonic && s.data_points.len() == 2));
    let m = metrics_of(&run(Context::Metric, r#"scale_metric(1000, "ms") where unit == "s""#));
    let Some(Data::Gauge(g)) = &m[0].data else { panic!("gauge expected") };
    assert_eq!(
        (g.data_points[0].value, g.data_points[1].value, m[0].unit.as_str()),
        (Some(number_data_point::Value::AsDouble(1500.0)), Some(number_data_point::Value::AsInt(3000)), "ms")
    );
    let m = metrics_of(&run(Context::Metric, r#"extract_sum_metric(true) where name == "h""#));
    assert_eq!(m.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["g", "s", "h", "h.sum"]);
    assert!(
        matches!(&m[3].data, Some(Data::Sum(s)) if s.is_monotonic && s.aggregation_temporality == 1 && s.data_points[0].value == Some(number_data_point::Value::AsDouble(6.0)))
    );
    let m = metrics_of(&run(Context::Metric, r#"extract_count_metric(false, "_count") where type == METRIC_DATA_TYPE_HISTOGRAM"#));
    assert_eq!((m[3].name.as_str(), m[3].unit.as_str()), ("h_count", "1"));
    assert!(matches!(&m[3].data, Some(Data::Sum(s)) if !s.is_monotonic && s.data_points[0].value == Some(number_data_point::Value::AsInt(3))));
    let m = metrics_of(&run(Context::Metric, r#"aggregate_on_attributes("sum") where name == "g""#));
    let Some(Data::Gauge(g)) = &m[0].data else { panic!("gauge expected") };
    assert_eq!((g.data_points.len(), g.data_points[0].value, g.data_points[0].attributes.len()), (1, Some(number_data_point::Value::AsDouble(4.5)), 0));
    let m = metrics_of(&run(Context::Metric, r#"aggregate_on_attributes("max", ["host"]) where name == "g""#));
    let Some(Data::Gauge(g)) = &m[0].data else { panic!("gauge expected") };
    assert_eq!(g.data_points.len(), 2, "distinct hosts stay apart");
    let st = check_statement(r#"extract_sum_metric(true)"#, Context::Metric).unwrap();
    let mut req = metrics();
    let err = eval::transform_metrics(&mut req, &Group { context: Context::Metric, statements: &[st], conditions: &[] }, &mut stop).unwrap_err();
    assert!(err.0.contains("needs a histogram"), "{err}");
    let m = metrics_of(&run(Context::Metric, r#"set(description, "hist") where aggregation_temporality == AGGREGATION_TEMPORALITY_DELTA"#));
    assert_eq!(m.iter().map(|m| m.description.as_str()).collect::<Vec<_>>(), ["", "", "hist"]);
    let m = metrics_of(&run(Context::DataPoint, r#"set(attributes["name"], metric.name) where value_double > 1.0 or count == 3"#));
    let attrs: Vec<String> = m
        .iter()
        .flat_map(|m| match &m.data {
            Some(Data::Gauge(g)) => g.data_points.iter().map(|p| json(&p.attributes)).collect::<Vec<_>>(),
            Some(Data::Sum(s)) => s.data_points.iter().map(|p| json(&p.attributes)).collect(),
            Some(Data::Histogram(h)) => h.data_points.iter().map(|p| json(&p.attributes)).collect(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(attrs, [r#"{"host":"a","name":"g"}"#, r#"{"host":"b"}"#, r#"{"host":"a","name":"s"}"#, r#"{"name":"h"}"#]);
    let m = metrics_of(&run(Context::DataPoint, r#"set(value_double, value_double * 2) where metric.is_monotonic"#));
    assert!(matches!(&m[1].data, Some(Data::Sum(s)) if s.data_points[0].value == Some(number_data_point::Value::AsDouble(20.0))));
}

#[test]
fn filtering_drops_matches_and_empty_parents() {
    let conds = |ctx, cs: &[&str]| cs.iter().map(|c| check_condition(c, ctx).unwrap_or_else(|d| panic!("{c}: {}", d.message))).collect::<Vec<_>>();
    let mut req = traces();
    eval::filter_traces(&mut req, Context::Span, &conds(Context::Span, &[r#"name == "child""#]), &mut stop).unwrap();
    assert_eq!(req.resource_spans[0].scope_spans[0].spans.len(), 1);
    eval::filter_traces(&mut req, Context::SpanEvent, &conds(Context::SpanEvent, &[r#"name == "log""#]), &mut stop).unwrap();
    assert_eq!(req.resource_spans[0].scope_spans[0].spans[0].events.len(), 1);
    eval::filter_traces(&mut req, Context::Span, &conds(Context::Span, &[r#"attributes["http.status_code"] >= 500"#]), &mut stop).unwrap();
    assert!(req.resource_spans.is_empty(), "the empty scope and resource go too");

    let mut req = metrics();
    let has = |c: &str| ottl::check_filter_condition(c, Context::Metric).unwrap_or_else(|d| panic!("{c}: {}", d.message));
    eval::filter_metrics(&mut req, Context::Metric, &[has(r#"HasAttrOnDatapoint("host", "b")"#)], &mut stop).unwrap();
    let names: Vec<&str> = req.resource_metrics[0].scope_metrics[0].metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["s", "h"], "the gauge has a point on host b");
    eval::filter_metrics(&mut req, Context::Metric, &[has(r#"HasAttrKeyOnDatapoint("host")"#)], &mut stop).unwrap();
    assert_eq!(req.resource_metrics[0].scope_metrics[0].metrics.len(), 1, "the histogram's point has no host");

    let mut req = metrics();
    eval::filter_metrics(&mut req, Context::DataPoint, &conds(Context::DataPoint, &[r#"attributes["host"] == "a""#]), &mut stop).unwrap();
    let names: Vec<&str> = req.resource_metrics[0].scope_metrics[0].metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["g", "h"], "the sum lost its only point");
    eval::filter_metrics(&mut req, Context::Metric, &conds(Context::Metric, &[r#"name == "h""#, r#"type == METRIC_DATA_TYPE_SUMMARY"#]), &mut stop).unwrap();
    assert_eq!(req.resource_metrics[0].scope_metrics[0].metrics.len(), 1);

    let mut req = logs();
    let c = conds(Context::Log, &[r#"IsMatch(body, "^nothing")"#]);
    eval::filter_logs(&mut req, Context::Log, &c, &mut stop).unwrap();
    assert_eq!(req, logs());
    eval::filter_logs(&mut req, Context::Log, &conds(Context::Log, &[r#"severity_number < SEVERITY_NUMBER_WARN"#]), &mut stop).unwrap();
    assert!(req.resource_logs.is_empty());
    // A condition that fails: stopping reports it, ignoring keeps the item.
    let bad = conds(Context::Log, &[r#"Substring(body, 50, 1) == "x""#]);
    let mut req = logs();
    assert!(eval::filter_logs(&mut req, Context::Log, &bad, &mut stop).is_err());
    eval::filter_logs(&mut req, Context::Log, &bad, &mut |_| Ok(())).unwrap();
    assert_eq!(req, logs());
}

#[test]
fn group_conditions_select_items() {
    let st = [check_statement(r#"set(attributes["hit"], true)"#, Context::Span).unwrap()];
    let cs = [check_condition(r#"name == "child""#, Context::Span).unwrap()];
    let mut req = traces();
    eval::transform_traces(&mut req, &Group { context: Context::Span, statements: &st, conditions: &cs }, &mut stop).unwrap();
    let spans = &req.resource_spans[0].scope_spans[0].spans;
    assert_eq!((json(&spans[0].attributes).contains("hit"), json(&spans[1].attributes)), (false, r#"{"hit":true}"#.into()));
    assert!(eval::transform_traces(&mut req, &Group { context: Context::Log, statements: &[], conditions: &[] }, &mut stop).is_err());
}

/// The longest operator chains the parser accepts (`parser::MAX_OPERATORS`, inside the deepest
/// nesting it accepts) are checked, evaluated and dropped on a thread with tokio's 2 MiB stack,
/// in this debug build: processors run there.
#[test]
fn the_longest_accepted_chains_run_on_a_small_stack() {
    let ops = ottl::parser::MAX_OPERATORS;
    let nest = ottl::parser::MAX_DEPTH - 2;
    let statements = [
        format!("set(attributes[\"sum\"], {}1{}{})", "(".repeat(nest), " + 1".repeat(ops), ")".repeat(nest)),
        format!("set(attributes[\"ok\"], true) where {}true{}{}", "(".repeat(nest), " and true".repeat(ops), ")".repeat(nest)),
    ];
    let worker = std::thread::Builder::new().stack_size(2 << 20).spawn(move || statements.iter().map(|st| run_logs(st).map(|_| ())).collect::<Vec<_>>());
    for result in worker.expect("spawn").join().expect("no stack overflow") {
        assert!(result.is_ok(), "{result:?}");
    }
}
