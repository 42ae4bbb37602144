//! Custom components (`declare`) at run time: arguments in, exports out, IDs and metrics under
//! the instance, reloads that keep unchanged inner components running.
//! The recording `remote.http` test component exports `content = url`.

mod common;

use std::sync::atomic::Ordering;

use common::{content, eventually, messages, stats, Config};

/// Waits for component `id` to export `content = want`.
async fn wait_for_content(c: &runtime::Controller, id: &str, want: &str) {
    eventually(&format!("{id} to export {want:?}"), || content(c, id).as_deref() == Some(want)).await;
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
    eventually("the new value to reach the consumer", || content(&c, "remote.http.consumer").as_deref() == Some("http://changed/default?from=http://b/given"))
        .await;
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

#[tokio::test]
async fn import_file_brings_declares_under_a_namespace_and_reloads_when_the_file_changes() {
    let cfg = Config::new(
        r#"import.file "lib" {
  filename = "$DIR/lib/main.alloy"
}

lib.echo "x" {
  path = "/first"
}

remote.http "imported_consumer" {
  url = lib.echo.x.url
}
"#,
    );
    let lib = cfg.file("lib");
    std::fs::create_dir_all(&lib).unwrap();
    let module = |suffix: &str| {
        format!(
            r#"import.file "helpers" {{
  filename = file.path_join(module_path, "helpers.alloy")
}}

declare "echo" {{
  argument "path" {{ }}

  helpers.join "j" {{
    a = module_path
    b = argument.path.value + "{suffix}"
  }}

  export "url" {{
    value = helpers.join.j.out
  }}
}}
"#
        )
    };
    std::fs::write(lib.join("main.alloy"), module("")).unwrap();
    std::fs::write(
        lib.join("helpers.alloy"),
        "declare \"join\" {\n  argument \"a\" { }\n\n  argument \"b\" { }\n\n  remote.http \"r\" {\n    url = argument.a.value + argument.b.value\n  }\n\n  export \"out\" {\n    value = remote.http.r.content\n  }\n}\n",
    )
    .unwrap();
    let c = cfg.controller();
    c.load().await.expect("loads");
    let dir = lib.display().to_string();
    assert_eq!(content(&c, "lib.echo.x/helpers.join.j/remote.http.r").as_deref(), Some(format!("{dir}/first").as_str()));
    assert_eq!(content(&c, "remote.http.imported_consumer").as_deref(), Some(format!("{dir}/first").as_str()));

    // Editing the module reloads without a signal.
    std::fs::write(lib.join("main.alloy"), module("/edited")).unwrap();
    let want = format!("{dir}/first/edited");
    wait_for_content(&c, "remote.http.imported_consumer", &want).await;
    c.shutdown().await;
}

#[tokio::test]
async fn import_string_and_what_an_imported_module_may_hold() {
    let cfg = Config::new(
        r#"import.string "inline" {
  content = "declare \"fixed\" {\n  remote.http \"r\" {\n    url = \"http://inline\"\n  }\n\n  export \"u\" {\n    value = remote.http.r.content\n  }\n}\n"
}

inline.fixed "f" { }

remote.http "string_consumer" {
  url = inline.fixed.f.u
}
"#,
    );
    let c = cfg.controller();
    c.load().await.expect("loads");
    assert_eq!(content(&c, "remote.http.string_consumer").as_deref(), Some("http://inline"));
    c.shutdown().await;

    let cfg = Config::new("import.string \"bad\" {\n  content = \"remote.http \\\"r\\\" {\\n  url = \\\"x\\\"\\n}\\n\"\n}\n");
    let err = cfg.controller().load().await.expect_err("a component at the top of a module");
    assert_eq!(messages(&err), ["config.alloy:import.string.bad:1:1: only declare and import blocks are allowed in a module, got remote.http"]);

    let cfg =
        Config::new("local.file \"name\" {\n  filename = \"$DIR/config.alloy\"\n}\n\nimport.file \"dynamic\" {\n  filename = local.file.name.content\n}\n");
    let err = cfg.controller().load().await.expect_err("an import that needs a component");
    let m = messages(&err);
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].starts_with("config.alloy:6:14: "), "{m:?}");
    assert!(err.reports()[0].diagnostics[0].notes.iter().any(|n| n.contains("reads imports when it loads")), "{:?}", err.reports()[0].diagnostics);

    let cfg = Config::new("import.file \"missing\" {\n  filename = \"$DIR/none.alloy\"\n}\n");
    let err = cfg.controller().load().await.expect_err("missing module");
    assert!(messages(&err)[0].contains("none.alloy"), "{:?}", messages(&err));
}

#[tokio::test]
async fn foreach_runs_the_template_per_item_and_follows_the_collection() {
    let cfg = Config::new(
        r#"local.file "hosts" {
  filename = "$DIR/hosts.txt"
}

remote.http "fe_proxy" {
  url = "http://proxy"
}

foreach "each" {
  collection = string.split(local.file.hosts.content, ",")
  var        = "host"

  template {
    remote.http "r" {
      url = remote.http.fe_proxy.content + "/" + host
    }
  }
}
"#,
    );
    std::fs::write(cfg.file("hosts.txt"), "a.example,b").unwrap();
    let c = cfg.experimental_controller();
    c.load().await.expect("loads");
    assert_eq!(content(&c, "foreach.each/foreach_a_example_1/remote.http.r").as_deref(), Some("http://proxy/a.example"));
    assert_eq!(content(&c, "foreach.each/foreach_b_1/remote.http.r").as_deref(), Some("http://proxy/b"));
    let child = c.module_components("foreach.each/foreach_b_1").expect("child module");
    assert_eq!(child.iter().map(|i| i.local_id.as_str()).collect::<Vec<_>>(), ["remote.http.r"]);
    let foreach = c.components().into_iter().find(|i| i.local_id == "foreach.each").expect("the foreach node is listed");
    assert_eq!(foreach.health.state, runtime::HealthState::Healthy, "{:?}", foreach.health);
    assert_eq!(c.child_modules("foreach.each"), ["foreach.each/foreach_a_example_1", "foreach.each/foreach_b_1"]);
    let kept = stats("foreach.each/foreach_b_1/remote.http.r");
    let dropped = stats("foreach.each/foreach_a_example_1/remote.http.r");
    eventually("children to run", || kept.runs.load(Ordering::SeqCst) == 1 && dropped.runs.load(Ordering::SeqCst) == 1).await;
    // Without `enable_metrics`, the children's metrics stay out of /metrics.
    let text = c.registry().render();
    assert!(!text.contains("component_path=\"/foreach.each/"), "{text}");

    // The collection changes at run time (local.file re-reads): a child goes, one comes, the
    // one that stays keeps running.
    std::fs::write(cfg.file("hosts.txt"), "b,c").unwrap();
    eventually("the new child", || content(&c, "foreach.each/foreach_c_1/remote.http.r").as_deref() == Some("http://proxy/c")).await;
    eventually("the old child to stop", || dropped.stopped.load(Ordering::SeqCst)).await;
    assert!(c.component("foreach.each/foreach_a_example_1/remote.http.r").is_none());
    assert_eq!(kept.builds.load(Ordering::SeqCst), 1);
    assert!(!kept.stopped.load(Ordering::SeqCst));
    c.shutdown().await;
}

#[tokio::test]
async fn foreach_items_with_an_id_field_keep_their_child_when_other_fields_change() {
    let cfg = Config::new(
        r#"foreach "by_id" {
  collection = [{name = "one", port = 1}, {name = "two", port = 2}, {name = "one", port = 3}]
  var            = "t"
  id             = "name"
  enable_metrics = true

  template {
    remote.http "r" {
      url = "http://" + t.name + ":" + string.format("%d", t.port)
    }
  }
}
"#,
    );
    let c = cfg.experimental_controller();
    c.load().await.expect("loads");
    assert_eq!(content(&c, "foreach.by_id/foreach_one_1/remote.http.r").as_deref(), Some("http://one:1"));
    assert_eq!(content(&c, "foreach.by_id/foreach_two_1/remote.http.r").as_deref(), Some("http://two:2"));
    assert_eq!(content(&c, "foreach.by_id/foreach_one_2/remote.http.r").as_deref(), Some("http://one:3"));

    cfg.write(&std::fs::read_to_string(cfg.path()).unwrap().replace("port = 2", "port = 22"));
    c.load().await.expect("reloads");
    assert_eq!(content(&c, "foreach.by_id/foreach_two_1/remote.http.r").as_deref(), Some("http://two:22"));
    let two = stats("foreach.by_id/foreach_two_1/remote.http.r");
    assert_eq!((two.builds.load(Ordering::SeqCst), two.updates.load(Ordering::SeqCst)), (1, 1));
    eventually("the child to run", || two.runs.load(Ordering::SeqCst) == 1).await;
    let text = c.registry().render();
    assert!(text.contains("test_echo_runs_total{component_id=\"remote.http.r\",component_path=\"/foreach.by_id/foreach_two_1\"} 1"), "{text}");

    // Turning the metrics off recreates the children.
    cfg.write(&std::fs::read_to_string(cfg.path()).unwrap().replace("enable_metrics = true", "enable_metrics = false"));
    c.load().await.expect("reloads");
    assert_eq!(two.builds.load(Ordering::SeqCst), 2);
    assert!(two.stopped.load(Ordering::SeqCst));
    assert!(!c.registry().render().contains("component_path=\"/foreach.by_id/"));
    c.shutdown().await;
}

#[tokio::test]
async fn foreach_templates_instantiate_custom_components_and_nest() {
    let cfg = Config::new(
        r#"declare "probe" {
  argument "target" { }

  remote.http "r" {
    url = "http://" + argument.target.value
  }

  export "url" {
    value = remote.http.r.content
  }
}

foreach "outer" {
  collection = ["x", "y"]
  var        = "o"

  template {
    foreach "inner" {
      collection = [1, 2]
      var        = "i"

      template {
        probe "p" {
          target = o + string.format("%d", i)
        }
      }
    }
  }
}
"#,
    );
    let c = cfg.experimental_controller();
    c.load().await.expect("loads");
    for (o, i) in [("x", 1), ("x", 2), ("y", 1), ("y", 2)] {
        let id = format!("foreach.outer/foreach_{o}_1/foreach.inner/foreach_{i}_1/probe.p/remote.http.r");
        assert_eq!(content(&c, &id).as_deref(), Some(format!("http://{o}{i}").as_str()), "{id}");
    }
    c.shutdown().await;
}

/// Serves `/lib.alloy` from `text` and counts requests.
async fn module_server(text: std::sync::Arc<std::sync::Mutex<String>>) -> std::net::SocketAddr {
    let app = axum::Router::new().route(
        "/mods/lib.alloy",
        axum::routing::get(move |headers: axum::http::HeaderMap| {
            let text = text.clone();
            async move {
                if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer t0k") {
                    return (axum::http::StatusCode::UNAUTHORIZED, String::new());
                }
                (axum::http::StatusCode::OK, text.lock().unwrap().clone())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_http_fetches_the_module_and_follows_it_when_polled() {
    let text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let module = |value: &str| {
        format!("declare \"echo\" {{\n  remote.http \"r\" {{\n    url = \"http://{value}\" + \"/\" + module_path\n  }}\n\n  export \"out\" {{\n    value = remote.http.r.content\n  }}\n}}\n")
    };
    *text.lock().unwrap() = module("first");
    let addr = module_server(text.clone()).await;
    let cfg = Config::new(&format!(
        r#"import.http "net" {{
  url            = "http://{addr}/mods/lib.alloy"
  poll_frequency = "100ms"

  client {{
    authorization {{
      type        = "Bearer"
      credentials = "t0k"
    }}
  }}
}}

net.echo "e" {{ }}

remote.http "http_consumer" {{
  url = net.echo.e.out
}}
"#
    ));
    let c = cfg.controller();
    c.load().await.expect("loads");
    let base = format!("http://{addr}/mods");
    assert_eq!(content(&c, "remote.http.http_consumer").as_deref(), Some(format!("http://first/{base}").as_str()), "module_path is the URL's directory");

    *text.lock().unwrap() = module("second");
    let want = format!("http://second/{base}");
    wait_for_content(&c, "remote.http.http_consumer", &want).await;
    assert_eq!(stats("net.echo.e/remote.http.r").builds.load(Ordering::SeqCst), 1, "the inner component was updated, not rebuilt");
    c.shutdown().await;

    // Without the credentials the server refuses, and the load says why and where.
    let cfg = Config::new(&format!("import.http \"net\" {{\n  url = \"http://{addr}/mods/lib.alloy\"\n}}\n"));
    let err = cfg.controller().load().await.expect_err("401");
    assert_eq!(messages(&err), [format!("config.alloy:2:9: failed to fetch http://{addr}/mods/lib.alloy: unexpected status code 401 Unauthorized")]);
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_git_checks_out_the_revision_and_pulls_changes() {
    let cfg = Config::new("");
    let repo = cfg.file("upstream");
    std::fs::create_dir_all(repo.join("modules")).unwrap();
    git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    let module = |v: &str| {
        format!(
            "declare \"echo\" {{\n  remote.http \"r\" {{\n    url = \"http://{v}\"\n  }}\n\n  export \"out\" {{\n    value = remote.http.r.content\n  }}\n}}\n"
        )
    };
    std::fs::write(repo.join("modules/lib.alloy"), module("v1")).unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "v1"]);
    git(&repo, &["tag", "v1"]);
    cfg.write(&format!(
        "import.git \"g\" {{\n  repository     = \"{}\"\n  revision       = \"main\"\n  path           = \"modules/lib.alloy\"\n  pull_frequency = \"100ms\"\n}}\n\ng.echo \"e\" {{ }}\n\nremote.http \"git_consumer\" {{\n  url = g.echo.e.out\n}}\n",
        repo.display()
    ));
    let c = cfg.controller();
    c.load().await.expect("loads");
    assert_eq!(content(&c, "remote.http.git_consumer").as_deref(), Some("http://v1"));

    std::fs::write(repo.join("modules/lib.alloy"), module("v2")).unwrap();
    git(&repo, &["commit", "--quiet", "-am", "v2"]);
    wait_for_content(&c, "remote.http.git_consumer", "http://v2").await;
    c.shutdown().await;

    // A tag pins the module; an unknown revision is a load error at the repository.
    cfg.write(&std::fs::read_to_string(cfg.path()).unwrap().replace("revision       = \"main\"", "revision       = \"v1\""));
    let c = cfg.controller();
    c.load().await.expect("loads the tag");
    assert_eq!(content(&c, "remote.http.git_consumer").as_deref(), Some("http://v1"));
    c.shutdown().await;
    cfg.write(&std::fs::read_to_string(cfg.path()).unwrap().replace("revision       = \"v1\"", "revision       = \"nope\""));
    let err = cfg.controller().load().await.expect_err("unknown revision");
    let m = messages(&err);
    assert!(
        m.len() == 1
            && m[0].starts_with("config.alloy:2:20: failed to get the module from git ")
            && m[0].ends_with(&format!("revision \"nope\" not found in {}", repo.display())),
        "{m:?}"
    );
}

#[tokio::test]
async fn import_file_with_the_poll_detector_looks_every_poll_frequency() {
    let cfg = Config::new(
        "import.file \"lib\" {\n  filename       = \"$DIR/lib.alloy\"\n  detector       = \"poll\"\n  poll_frequency = \"1h\"\n}\n\nlib.echo \"x\" {}\n\nremote.http \"polled\" {\n  url = lib.echo.x.url\n}\n",
    );
    let module = |url: &str| format!("declare \"echo\" {{\n  export \"url\" {{\n    value = \"{url}\"\n  }}\n}}\n");
    std::fs::write(cfg.file("lib.alloy"), module("http://first")).unwrap();
    let c = cfg.controller();
    c.load().await.expect("loads");
    assert_eq!(content(&c, "remote.http.polled").as_deref(), Some("http://first"));
    std::fs::write(cfg.file("lib.alloy"), module("http://second")).unwrap();
    // The default detector would have reloaded within a second or two; this one waits an hour.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(content(&c, "remote.http.polled").as_deref(), Some("http://first"));
    c.shutdown().await;
}
