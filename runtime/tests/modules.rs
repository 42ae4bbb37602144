//! Custom components (`declare`) at run time: arguments in, exports out, IDs and metrics under
//! the instance, reloads that keep unchanged inner components running (spec §1.7, §2.4, §6.1).
//! The recording `remote.http` test component exports `content = url`.

mod common;

use std::sync::atomic::Ordering;

use common::{content, eventually, stats, Config};
use runtime::LoadError;

fn messages(e: &LoadError) -> Vec<String> {
    e.reports().iter().flat_map(|r| r.diagnostics.iter().map(move |d| format!("{}:{}: {}", r.path.rsplit('/').next().unwrap_or(""), r.lines.line_col(d.span.start), d.message))).collect()
}

const PIPELINE: &str = r#"
declare "pipe" {
  argument "base" { }

  argument "suffix" {
    optional = true
    default  = "/default"
  }

  remote.http "inner" {
    url = argument.base.value + argument.suffix.value
  }

  export "url" {
    value = remote.http.inner.content
  }
}

pipe "a" {
  base = "http://a"
}

pipe "b" {
  base   = "http://b"
  suffix = "/given"
}

remote.http "consumer" {
  url = pipe.a.url + "?from=" + pipe.b.url
}
"#;

#[tokio::test]
async fn instances_take_arguments_and_publish_exports() {
    let cfg = Config::new(PIPELINE);
    let c = cfg.controller();
    c.load().await.expect("loads");
    assert_eq!(content(&c, "pipe.a/remote.http.inner").as_deref(), Some("http://a/default"));
    assert_eq!(content(&c, "pipe.b/remote.http.inner").as_deref(), Some("http://b/given"));
    assert_eq!(content(&c, "remote.http.consumer").as_deref(), Some("http://a/default?from=http://b/given"));

    // The root lists the instances, each module its own components, by local ID.
    let root: Vec<(String, String)> = c.components().into_iter().map(|i| (i.local_id, i.module_id)).collect();
    assert_eq!(root, [("pipe.a".into(), "".into()), ("pipe.b".into(), "".into()), ("remote.http.consumer".into(), "".into())]);
    let inner = c.module_components("pipe.a").expect("module pipe.a");
    assert_eq!(inner.iter().map(|i| (i.local_id.as_str(), i.module_id.as_str())).collect::<Vec<_>>(), [("remote.http.inner", "pipe.a")]);
    assert!(c.module_components("pipe.zzz").is_none());
    let consumer = c.component("remote.http.consumer").unwrap();
    assert_eq!(consumer.references_to, ["pipe.a", "pipe.b"]);

    // Metrics carry the module as component_path.
    eventually("inner components to run", || stats("pipe.a/remote.http.inner").runs.load(Ordering::SeqCst) == 1).await;
    let text = c.registry().render();
    assert!(text.contains("test_echo_runs_total{component_id=\"remote.http.inner\",component_path=\"/pipe.a\"} 1"), "{text}");
    assert!(text.contains("test_echo_runs_total{component_id=\"remote.http.inner\",component_path=\"/pipe.b\"} 1"), "{text}");
    c.shutdown().await;
}

#[tokio::test]
async fn a_changed_argument_updates_the_running_inner_component_and_flows_out() {
    let cfg = Config::new(&PIPELINE.replace("\"a\"", "\"u\"").replace("pipe.a", "pipe.u"));
    let c = cfg.controller();
    c.load().await.expect("loads");
    let inner = stats("pipe.u/remote.http.inner");
    assert_eq!(inner.builds.load(Ordering::SeqCst), 1);

    cfg.write(&PIPELINE.replace("\"a\"", "\"u\"").replace("pipe.a", "pipe.u").replace("http://a", "http://changed"));
    c.load().await.expect("reloads");
    eventually("the new value to reach the consumer", || content(&c, "remote.http.consumer").as_deref() == Some("http://changed/default?from=http://b/given")).await;
    assert_eq!(content(&c, "pipe.u/remote.http.inner").as_deref(), Some("http://changed/default"));
    assert_eq!(inner.builds.load(Ordering::SeqCst), 1, "kept running");
    assert_eq!(inner.updates.load(Ordering::SeqCst), 1);
    assert!(!inner.stopped.load(Ordering::SeqCst));

    // Removing the instance stops what ran inside it.
    eventually("the inner component to run", || inner.runs.load(Ordering::SeqCst) == 1).await;
    cfg.write("remote.http \"consumer\" {\n  url = \"http://alone\"\n}\n");
    c.load().await.expect("reloads");
    assert!(inner.stopped.load(Ordering::SeqCst));
    assert!(c.component("pipe.u/remote.http.inner").is_none());
    let text = c.registry().render();
    assert!(!text.contains("component_path=\"/pipe.u\""), "{text}");
    c.shutdown().await;
}

#[tokio::test]
async fn declares_nest_and_see_the_declares_around_them() {
    let cfg = Config::new(
        r#"
declare "leaf" {
  argument "url" { }

  remote.http "r" {
    url = argument.url.value
  }

  export "out" {
    value = remote.http.r.content
  }
}

declare "outer" {
  argument "host" { }

  declare "middle" {
    argument "h" { }

    leaf "l" {
      url = "http://" + argument.h.value
    }

    export "out" {
      value = leaf.l.out + "/middle"
    }
  }

  middle "m" {
    h = argument.host.value
  }

  export "out" {
    value = middle.m.out
  }
}

outer "o" {
  host = "example"
}

remote.http "nested_consumer" {
  url = outer.o.out
}
"#,
    );
    let c = cfg.controller();
    c.load().await.expect("loads");
    assert_eq!(content(&c, "outer.o/middle.m/leaf.l/remote.http.r").as_deref(), Some("http://example"));
    assert_eq!(content(&c, "remote.http.nested_consumer").as_deref(), Some("http://example/middle"));
    let modules = c.module_components("outer.o/middle.m").expect("nested module");
    assert_eq!(modules.iter().map(|i| i.local_id.as_str()).collect::<Vec<_>>(), ["leaf.l"]);
    c.shutdown().await;
}

#[tokio::test]
async fn a_failing_inner_component_fails_the_first_load_at_its_place() {
    let cfg = Config::new(
        r#"declare "broken" {
  argument "u" { }

  remote.http "r" {
    url = argument.u.value
  }
}

broken "x" {
  u = "http://x/fail"
}
"#,
    );
    let err = cfg.controller().load().await.expect_err("inner failure");
    assert_eq!(messages(&err), ["config.alloy:4:3: Failed to build component: building component: the url asks to fail"]);
}
