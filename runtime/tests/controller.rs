//! The controller's load, evaluation, propagation and reload semantics.

mod common;

use std::sync::atomic::Ordering;

use common::{content, eventually, messages, stats, Config};
use runtime::{HealthState, LoadError};

#[tokio::test]
async fn evaluates_in_dependency_order_and_propagates_file_changes() {
    let cfg = Config::new(
        r#"
remote.http "order_last" {
  url = remote.http.order_mid.content + "/last"
}

remote.http "order_mid" {
  url = "http://" + string.trim_space(local.file.order_src.content)
}

local.file "order_src" {
  filename       = "$DIR/host.txt"
  detector       = "poll"
  poll_frequency = "50ms"
}
"#,
    );
    std::fs::write(cfg.file("host.txt"), "a.example\n").unwrap();
    let c = cfg.controller();
    c.load().await.expect("loads");
    // Dependants see exports published by their dependencies' constructors in the same pass.
    assert_eq!(content(&c, "remote.http.order_last").as_deref(), Some("http://a.example/last"));
    let order: Vec<String> = c.components().into_iter().map(|i| i.local_id).collect();
    assert_eq!(order, ["local.file.order_src", "remote.http.order_mid", "remote.http.order_last"]);

    std::fs::write(cfg.file("host.txt"), "b.example\n").unwrap();
    eventually("the change to reach the last node", || content(&c, "remote.http.order_last").as_deref() == Some("http://b.example/last")).await;
    assert_eq!(stats("remote.http.order_last").updates.load(Ordering::SeqCst), 1);
    assert_eq!(stats("remote.http.order_last").builds.load(Ordering::SeqCst), 1);
    c.shutdown().await;
}

#[tokio::test]
async fn update_is_called_only_when_arguments_change() {
    let cfg = Config::new(
        r#"
local.file "same_src" {
  filename       = "$DIR/v.txt"
  detector       = "poll"
  poll_frequency = "50ms"
}

remote.http "same_dep" {
  url = "http://" + string.trim_space(local.file.same_src.content)
}
"#,
    );
    std::fs::write(cfg.file("v.txt"), "x\n").unwrap();
    let c = cfg.controller();
    c.load().await.expect("loads");
    // The file changes, but the trimmed value the dependant uses does not.
    std::fs::write(cfg.file("v.txt"), "x \n").unwrap();
    eventually("the new content", || content(&c, "local.file.same_src").as_deref() == Some("x \n")).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(stats("remote.http.same_dep").updates.load(Ordering::SeqCst), 0);
    // A reload of an identical configuration updates nothing either.
    c.load().await.expect("reloads");
    assert_eq!(stats("remote.http.same_dep").updates.load(Ordering::SeqCst), 0);
    assert_eq!(stats("remote.http.same_dep").builds.load(Ordering::SeqCst), 1);
    c.shutdown().await;
}

#[tokio::test]
async fn good_reload_keeps_same_ids_stops_removed_and_starts_added() {
    let cfg = Config::new(
        r#"
remote.http "keep" { url = "http://one" }
remote.http "gone" { url = "http://gone" }
"#,
    );
    let c = cfg.controller();
    c.load().await.expect("loads");
    eventually("both running", || stats("remote.http.keep").runs.load(Ordering::SeqCst) == 1 && stats("remote.http.gone").runs.load(Ordering::SeqCst) == 1)
        .await;

    cfg.write(
        r#"
remote.http "keep" { url = "http://two" }
remote.http "added" { url = remote.http.keep.content }
"#,
    );
    c.load().await.expect("reloads");
    assert!(stats("remote.http.gone").stopped.load(Ordering::SeqCst), "removed node stopped before the reload returned");
    let keep = stats("remote.http.keep");
    assert_eq!((keep.builds.load(Ordering::SeqCst), keep.updates.load(Ordering::SeqCst)), (1, 1));
    assert!(!keep.stopped.load(Ordering::SeqCst), "kept node was not restarted");
    assert_eq!(content(&c, "remote.http.added").as_deref(), Some("http://two"));
    eventually("added running", || stats("remote.http.added").runs.load(Ordering::SeqCst) == 1).await;
    let ids: Vec<String> = c.components().into_iter().map(|i| i.local_id).collect();
    assert_eq!(ids, ["remote.http.keep", "remote.http.added"]);
    c.shutdown().await;
    assert!(keep.stopped.load(Ordering::SeqCst));
}

#[tokio::test]
async fn bad_reload_is_rejected_and_the_old_pipeline_keeps_running() {
    let cfg = Config::new("remote.http \"bad_keep\" { url = \"http://one\" }\n");
    let c = cfg.controller();
    c.load().await.expect("loads");
    cfg.write("remote.http \"bad_keep\" { url = \"http://two\" }\nremote.http \"bad_new\" { url = nope.value }\n");
    let err = c.load().await.expect_err("bad reference");
    assert!(matches!(err, LoadError::Rejected(_)));
    assert_eq!(messages(&err), ["config.alloy:2:31: component \"nope.value\" does not exist or is out of scope"]);
    assert_eq!(content(&c, "remote.http.bad_keep").as_deref(), Some("http://one"));
    assert!(c.component("remote.http.bad_new").is_none());
    assert_eq!(stats("remote.http.bad_keep").updates.load(Ordering::SeqCst), 0);
    assert!(!stats("remote.http.bad_keep").stopped.load(Ordering::SeqCst));

    cfg.write("remote.http \"bad_keep\" {\n");
    assert!(matches!(c.load().await, Err(LoadError::Rejected(_))));
    assert_eq!(content(&c, "remote.http.bad_keep").as_deref(), Some("http://one"));
    c.shutdown().await;
}

#[tokio::test]
async fn reload_with_evaluation_errors_installs_the_graph_and_keeps_last_good_arguments() {
    let cfg = Config::new("remote.http \"partial_a\" { url = \"http://one\" }\nremote.http \"partial_b\" { url = \"http://b\" }\n");
    let c = cfg.controller();
    c.load().await.expect("loads");
    cfg.write("remote.http \"partial_a\" { url = \"http://one/fail\" }\nremote.http \"partial_c\" { url = \"http://c\" }\n");
    let err = c.load().await.expect_err("update fails");
    assert!(matches!(err, LoadError::Evaluation(_)));
    assert_eq!(messages(&err), ["config.alloy:1:1: Failed to build component: updating component: the url asks to fail"]);
    let a = c.component("remote.http.partial_a").expect("still there");
    assert_eq!(a.health.state, HealthState::Unhealthy);
    assert_eq!(a.health.message, "component evaluation failed: Failed to build component: updating component: the url asks to fail");
    assert_eq!(content(&c, "remote.http.partial_a").as_deref(), Some("http://one"));
    assert!(c.component("remote.http.partial_b").is_none(), "removed despite the error");
    assert_eq!(content(&c, "remote.http.partial_c").as_deref(), Some("http://c"));
    c.shutdown().await;
}

#[tokio::test]
async fn first_load_evaluation_error_starts_nothing_and_is_positioned() {
    let cfg = Config::new("remote.http \"first_ok\" { url = \"http://x\" }\n\nremote.http \"first_bad\" {\n  url = encoding.from_json(\"{}\").host\n}\n");
    let c = cfg.controller();
    let err = c.load().await.expect_err("evaluation fails");
    assert!(matches!(err, LoadError::Evaluation(_)));
    assert_eq!(messages(&err), ["config.alloy:4:34: field \"host\" does not exist"]);
    assert!(!c.is_ready());
    assert!(c.components().is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(stats("remote.http.first_ok").runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn components_the_runtime_lacks_fail_the_load_with_their_name() {
    let cfg =
        Config::new("local.file \"f\" {\n  filename = \"$DIR/config.alloy\"\n}\n\nprometheus.exporter.redis \"s\" {\n  redis_addr = \"localhost:6379\"\n}\n");
    let c = cfg.controller();
    let err = c.load().await.expect_err("unsupported");
    assert_eq!(messages(&err), ["config.alloy:5:1: component \"prometheus.exporter.redis\" is not supported by this runtime yet"]);

    cfg.write("local.fil \"f\" {\n  filename = \"x\"\n}\n");
    let err = c.load().await.expect_err("unknown");
    assert!(matches!(err, LoadError::Rejected(_)));
    assert!(messages(&err)[0].starts_with("config.alloy:1:1: "), "{:?}", messages(&err));

    cfg.write("tracing {\n  sampling_fraction = 0.5\n}\n");
    let err = c.load().await.expect_err("tracing");
    assert_eq!(messages(&err), ["config.alloy:1:1: the tracing block is not supported by this runtime yet"]);
}

#[tokio::test]
async fn local_file_turns_unhealthy_when_the_file_disappears_and_recovers() {
    let cfg = Config::new("local.file \"lf_gone\" {\n  filename = \"$DIR/x.txt\"\n  is_secret = true\n}\n");
    std::fs::write(cfg.file("x.txt"), "s3cret").unwrap();
    let c = cfg.controller();
    c.load().await.expect("loads");
    let health = |c: &runtime::Controller| c.component("local.file.lf_gone").map(|i| (i.health.state, i.health.message)).unwrap();
    eventually("running", || health(&c).0 == HealthState::Healthy).await;
    std::fs::remove_file(cfg.file("x.txt")).unwrap();
    eventually("unhealthy", || health(&c).0 == HealthState::Unhealthy).await;
    assert!(health(&c).1.starts_with("failed to read file: "), "{:?}", health(&c));
    assert_eq!(content(&c, "local.file.lf_gone").as_deref(), Some("s3cret"), "last content kept");
    std::fs::write(cfg.file("x.txt"), "back").unwrap();
    eventually("healthy again", || health(&c).0 == HealthState::Healthy && content(&c, "local.file.lf_gone").as_deref() == Some("back")).await;
    c.shutdown().await;
    assert_eq!(health(&c), (HealthState::Exited, "component shut down cleanly".to_string()));
}

#[tokio::test]
async fn a_missing_file_fails_the_first_load() {
    let cfg = Config::new("local.file \"lf_missing\" {\n  filename = \"$DIR/none.txt\"\n}\n");
    let err = cfg.controller().load().await.expect_err("missing file");
    let m = messages(&err);
    assert!(m[0].starts_with("config.alloy:1:1: Failed to build component: building component: failed to read file: "), "{m:?}");
}

#[tokio::test]
async fn a_failed_component_causes_no_follow_on_errors_at_its_references() {
    let cfg = Config::new(
        "local.file \"gone\" {\n  filename = \"$DIR/missing.txt\"\n}\n\nremote.http \"uses_gone\" {\n  url = \"http://x/\" + local.file.gone.content\n}\n",
    );
    let c = cfg.controller();
    let err = c.load().await.expect_err("the file is missing");
    let m = messages(&err);
    assert_eq!(m.len(), 1, "one error, at the component that failed: {m:?}");
    assert!(m[0].starts_with("config.alloy:1:1: Failed to build component: building component: failed to read file"), "{m:?}");
    c.shutdown().await;
}

/// Hostile nesting reaches the controller on tokio worker threads (reloads, imported modules),
/// whose stacks are small: it must be an error there, never a stack overflow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_nesting_is_an_error_on_worker_threads() {
    let cfg = Config::new("local.file \"deep\" {\n  filename = \"$DIR/deep.json\"\n}\n");
    let c = cfg.controller();
    std::fs::write(cfg.file("deep.json"), "[".repeat(200_000) + &"]".repeat(200_000)).unwrap();
    tokio::spawn({
        let c = c.clone();
        async move { c.load().await }
    })
    .await
    .expect("the load task does not die")
    .expect("loads");
    // A reload whose text nests far too deep, and a value decoded from deep JSON.
    for text in [
        format!("x = {}1{}\n", "(".repeat(100_000), ")".repeat(100_000)),
        format!("y = {}1{}\n", "{a=".repeat(20_000), "}".repeat(20_000)),
        "local.file \"deep\" {\n  filename = \"$DIR/deep.json\"\n}\n\nlocal.file \"user\" {\n  filename = encoding.from_json(local.file.deep.content)[0]\n}\n"
            .to_string(),
    ] {
        cfg.write(&text);
        let result = tokio::spawn({
            let c = c.clone();
            async move { c.load().await }
        })
        .await
        .expect("the reload task does not die");
        let err = result.expect_err("refused");
        let text = messages(&err).join("\n");
        assert!(text.contains("nesting is too deep") || text.contains("exceeded max depth"), "{text}");
    }
    c.shutdown().await;
}
