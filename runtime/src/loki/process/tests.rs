use std::sync::Arc;

use loki::process::{Extracted, Item, NoObserver};
use loki::Entry;
use prom::Labels;

use super::*;

fn args(body: &str) -> Result<Args, Vec<String>> {
    let v = crate::component::args::evaluated(&format!("loki.process \"p\" {{\n  forward_to = []\n{body}\n}}\n")).expect("evaluates");
    crate::component::args::decode::<Args>(NAME, &v).map_err(|errs| errs.iter().map(crate::component::args::describe).collect())
}

fn run(body: &str, lines: &[&str]) -> Vec<Entry> {
    let a = args(body).expect("valid");
    let mut p = pipeline(&a.stages, Arc::new(NoObserver)).expect("builds");
    let items = lines.iter().map(|l| Item::new(Entry::new(Labels::new([("job", "t")]), 1, *l), Extracted::new())).collect();
    let mut out = p.run(items);
    out.extend(p.flush());
    out.into_iter().map(Item::into_entry).collect()
}

#[test]
fn stages_run_in_written_order_across_kinds() {
    let body = "  stage.json {\n    expressions = { level = \"\" }\n  }\n  stage.labels {\n    values = { level = \"\" }\n  }\n  stage.json {\n    expressions = { msg = \"\" }\n  }\n  stage.output {\n    source = \"msg\"\n  }";
    let out = run(body, &[r#"{"level":"warn","msg":"hello"}"#]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].line, "hello");
    assert_eq!(out[0].labels.get("level"), Some("warn"));
}

#[test]
fn nested_match_stages_get_their_defaults() {
    let body = "  stage.match {\n    selector = \"{job=\\\"t\\\"}\"\n    stage.drop {\n      source = \"a,b\"\n      value = \"1;2\"\n    }\n  }";
    let out = run(&format!("  stage.regex {{\n    expression = \"a=(?P<a>\\\\d) b=(?P<b>\\\\d)\"\n  }}\n{body}"), &["a=1 b=2", "a=1 b=3"]);
    assert_eq!(out.iter().map(|e| e.line.as_str()).collect::<Vec<_>>(), ["a=1 b=3"], "the default separator `;` joins the sources");
}

#[test]
fn stage_errors_are_reported_at_their_block() {
    let errs = args("  stage.drop {\n    value = \"b\"\n  }").err().expect("refused");
    assert_eq!(errs, ["stage.drop[0]: drop stage config must contain `source` if `value` is specified"]);
    let errs = args("  stage.match {\n    selector = \"{a=\\\"b\\\"}\"\n    stage.json {\n      source = \"x\"\n    }\n  }").err().expect("refused");
    assert_eq!(errs, ["stage.match[0].stage.json[0]: JMES expressions or regex is required"]);
    let errs = args("  stage.luhn {\n    min_length = 10\n  }").err().expect("refused");
    assert!(errs[0].contains("block \"stage.luhn\" is not supported by this runtime yet"), "{errs:?}");
}

#[tokio::test]
async fn entries_flow_through_and_held_blocks_flush_on_stop() {
    let (sink, mut out) = crate::loki::receiver::channel("sink", 8);
    let mut a = args("  stage.multiline {\n    firstline = \"^START\"\n  }\n  stage.static_labels {\n    values = { env = \"test\" }\n  }").expect("valid");
    a.forward_to = vec![sink];
    let c = start(crate::component::detached_context("loki.process.p"), a).expect("starts");
    let stop = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(c.clone().run(stop.clone()));
    let lines = ["START one", "more", "START two"].map(|l| Entry::new(Labels::new([("job", "t")]), 1, l));
    c.receiver.send(lines.to_vec()).await.expect("sent");
    let first = out.recv().await.expect("a batch");
    assert_eq!(first.iter().map(|e| e.line.as_str()).collect::<Vec<_>>(), ["START one\nmore"]);
    assert_eq!(first[0].labels.get("env"), Some("test"));
    stop.cancel();
    task.await.expect("joins").expect("stops cleanly");
    let rest = out.recv().await.expect("the held block");
    assert_eq!(rest.iter().map(|e| e.line.as_str()).collect::<Vec<_>>(), ["START two"]);
}

#[test]
fn metrics_stages_count_per_stream_and_render_as_families() {
    let body = "  stage.regex {\n    expression = \"took=(?P<took>\\\\S+)\"\n  }\n  stage.metrics {\n    metric.counter {\n      name = \"lines\"\n      description = \"lines seen\"\n      match_all = true\n      action = \"inc\"\n    }\n    metric.histogram {\n      name = \"took_seconds\"\n      description = \"time taken\"\n      source = \"took\"\n      buckets = [0.5, 1]\n    }\n  }";
    let a = args(body).expect("valid");
    let store = Arc::new(CustomMetrics::default());
    struct Obs(Arc<CustomMetrics>);
    impl PipelineObserver for Obs {
        fn custom_metrics(&self) -> Option<Arc<CustomMetrics>> {
            Some(self.0.clone())
        }
    }
    let mut p = pipeline(&a.stages, Arc::new(Obs(store.clone()))).expect("builds");
    let items = ["took=250ms", "took=0.75", "took=x"]
        .iter()
        .map(|l| Item::new(Entry::new(Labels::new([("job", "t"), ("__tmp", "x")]), 1, *l), Extracted::new()))
        .collect();
    assert_eq!(p.run(items).len(), 3);
    let registry = crate::metrics::Registry::new();
    registry.register_collector(move || snapshots(&store, &[]));
    let text = registry.render();
    assert!(text.contains("# TYPE loki_process_custom_lines counter\nloki_process_custom_lines{job=\"t\"} 3\n"), "{text}");
    assert!(text.contains("loki_process_custom_took_seconds_bucket{job=\"t\",le=\"0.5\"} 1\n"), "{text}");
    assert!(text.contains("loki_process_custom_took_seconds_bucket{job=\"t\",le=\"1\"} 2\n"), "{text}");
    assert!(text.contains("loki_process_custom_took_seconds_count{job=\"t\"} 2\n"), "{text}");
}

#[test]
fn metric_settings_are_checked() {
    let errs = args("  stage.metrics {\n    metric.counter {\n      name = \"x\"\n      action = \"set\"\n    }\n  }").err().expect("refused");
    assert_eq!(errs, ["stage.metrics[0]: the 'action' counter field must be either 'inc' or 'add'"]);
}

#[test]
fn timestamps_without_a_zone_are_read_in_the_location() {
    if loki::process::tz::Zone::load("America/New_York").is_err() {
        return; // no time zone database here
    }
    let body = "  stage.regex {\n    expression = \"^(?P<ts>[^,]+),\"\n  }\n  stage.timestamp {\n    source = \"ts\"\n    format = \"2006-01-02 15:04:05\"\n    location = \"America/New_York\"\n  }";
    let out = run(body, &["2012-07-01 12:00:00,summer", "2013-01-01 12:00:00,winter"]);
    let times: Vec<String> = out.iter().map(|e| time::format_rfc3339(e.timestamp_ns)).collect();
    assert_eq!(times, ["2012-07-01T16:00:00Z", "2013-01-01T17:00:00Z"]);
    assert!(args("  stage.timestamp {\n    source = \"ts\"\n    format = \"RFC3339\"\n    location = \"Nowhere/Else\"\n  }").is_err());
}

#[test]
fn templates_calling_unknown_functions_are_refused() {
    let errs = args("  stage.template {\n    source = \"x\"\n    template = \"{{ nope .Value }}\"\n  }").err().expect("refused");
    assert_eq!(errs, ["stage.template[0]: template: function \"nope\" not defined"]);
    let out = run("  stage.pattern {\n    pattern = \"<level> <_>\"\n    labels_from_groups = true\n  }", &["warn something"]);
    assert_eq!(out[0].labels.get("level"), Some("warn"));
}
