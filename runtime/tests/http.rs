//! The HTTP API: status codes, bodies and JSON shapes, /metrics names.

mod common;

use std::net::SocketAddr;

use common::{eventually, Config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// A minimal HTTP/1.1 client: (status, body).
async fn request(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    (status, if chunked { dechunk(body) } else { body.to_string() })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

async fn start(cfg: &Config) -> (runtime::Controller, SocketAddr, CancellationToken) {
    let c = cfg.controller();
    let stop = CancellationToken::new();
    c.load().await.expect("loads");
    let (addr, _) = runtime::http::serve("127.0.0.1:0", c.clone(), stop.clone()).await.expect("binds");
    (c, addr, stop)
}

/// Replaces volatile values (timestamps, temporary paths) for snapshots.
fn stable(json: &str, cfg: &Config) -> serde_json::Value {
    let text = json.replace(&cfg.dir.path().display().to_string(), "$DIR");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                if m.contains_key("updatedTime") {
                    m.insert("updatedTime".into(), "<time>".into());
                }
                m.values_mut().for_each(walk);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

#[tokio::test]
async fn ready_healthy_and_reload() {
    let cfg = Config::new("local.file \"h_file\" {\n  filename = \"$DIR/a.txt\"\n}\n");
    std::fs::write(cfg.file("a.txt"), "x").unwrap();
    let (c, addr, stop) = start(&cfg).await;
    assert_eq!(request(addr, "GET", "/-/ready").await, (200, "Alloy is ready.\n".into()));
    eventually("healthy", || c.component("local.file.h_file").is_some_and(|i| i.health.state == runtime::HealthState::Healthy)).await;
    assert_eq!(request(addr, "GET", "/-/healthy").await, (200, "All Alloy components are healthy.\n".into()));

    std::fs::remove_file(cfg.file("a.txt")).unwrap();
    eventually("unhealthy", || c.component("local.file.h_file").is_some_and(|i| i.health.state == runtime::HealthState::Unhealthy)).await;
    assert_eq!(request(addr, "GET", "/-/healthy").await, (500, "unhealthy components: local.file\n".into()));

    std::fs::write(cfg.file("a.txt"), "x").unwrap();
    assert_eq!(request(addr, "POST", "/-/reload").await, (200, "config reloaded\n".into()));
    assert_eq!(request(addr, "GET", "/-/reload").await, (200, "config reloaded\n".into()));
    cfg.write("local.file \"h_file\" {\n  filename = 1 +\n}\n");
    let (status, body) = request(addr, "POST", "/-/reload").await;
    assert_eq!(status, 400);
    assert!(body.contains("config.alloy:3:1: "), "{body}");
    assert_eq!(request(addr, "PUT", "/-/reload").await.0, 405);
    stop.cancel();
    c.shutdown().await;
}

#[tokio::test]
async fn not_ready_before_the_first_load() {
    let cfg = Config::new("local.file \"nr\" {\n  filename = \"$DIR/missing\"\n}\n");
    let c = cfg.controller();
    let stop = CancellationToken::new();
    let (addr, _) = runtime::http::serve("127.0.0.1:0", c.clone(), stop.clone()).await.expect("binds");
    assert!(c.load().await.is_err());
    assert_eq!(request(addr, "GET", "/-/ready").await, (503, "Alloy is not ready.\n".into()));
    stop.cancel();
}

#[tokio::test]
async fn component_list_and_detail_shapes() {
    let cfg = Config::new(
        r#"
local.file "api_src" {
  filename = "$DIR/path.txt"
}

local.file "api_secret" {
  filename  = "$DIR/token.txt"
  is_secret = true
}

remote.http "api_echo" {
  url     = "http://example.com/" + local.file.api_src.content
  method  = "GET"
  body    = "payload"
}
"#,
    );
    std::fs::write(cfg.file("token.txt"), "t0ken").unwrap();
    std::fs::write(cfg.file("path.txt"), "api").unwrap();
    let (c, addr, stop) = start(&cfg).await;
    let (status, list) = request(addr, "GET", "/api/v0/web/components").await;
    assert_eq!(status, 200);
    insta::assert_json_snapshot!("component_list", stable(&list, &cfg));

    let (status, detail) = request(addr, "GET", "/api/v0/web/components/local.file.api_secret").await;
    assert_eq!(status, 200);
    insta::assert_json_snapshot!("component_detail_local_file", stable(&detail, &cfg));
    assert!(!detail.contains("t0ken"), "secret leaked: {detail}");

    let (status, detail) = request(addr, "GET", "/api/v0/web/components/remote.http.api_echo").await;
    assert_eq!(status, 200);
    // `method` equals its default and is omitted.
    insta::assert_json_snapshot!("component_detail_echo", stable(&detail, &cfg));
    assert!(!detail.contains("t0ken"), "secret leaked: {detail}");

    assert_eq!(request(addr, "GET", "/api/v0/web/components/nope.x").await, (404, "404 page not found\n".into()));
    stop.cancel();
    c.shutdown().await;
}

#[tokio::test]
async fn metrics_exposes_controller_config_process_and_component_series() {
    let cfg = Config::new("remote.http \"m_echo\" { url = \"http://x\" }\n");
    let (c, addr, stop) = start(&cfg).await;
    runtime::process::register(c.registry());
    runtime::process::register_build_info(c.registry(), "v0.0.0-test");
    eventually("the component to run", || common::stats("remote.http.m_echo").runs.load(std::sync::atomic::Ordering::SeqCst) == 1).await;
    let (status, body) = request(addr, "GET", "/metrics").await;
    assert_eq!(status, 200);
    for line in [
        "alloy_config_last_load_successful 1",
        "alloy_config_load_failures_total 0",
        "alloy_component_controller_evaluating{controller_id=\"\",controller_path=\"/\"} 0",
        "alloy_component_controller_running_components{controller_id=\"\",controller_path=\"/\",health_type=\"healthy\"} 1",
        "test_echo_runs_total{component_id=\"remote.http.m_echo\",component_path=\"/\"} 1",
        "# TYPE alloy_component_evaluation_seconds histogram",
        "# TYPE alloy_component_dependencies_wait_seconds histogram",
        "# TYPE process_cpu_seconds_total counter",
    ] {
        assert!(body.lines().any(|l| l == line), "missing {line:?} in\n{body}");
    }
    for name in [
        "alloy_build_info{",
        "alloy_config_hash{cluster_name=\"\",sha256=\"",
        "process_resident_memory_bytes ",
        "process_start_time_seconds ",
        "process_open_fds ",
        "alloy_config_last_load_success_timestamp_seconds ",
    ] {
        assert!(body.lines().any(|l| l.starts_with(name)), "missing {name:?} in\n{body}");
    }
    cfg.write("remote.http \"m_echo\" {\n");
    assert!(c.load().await.is_err());
    let (_, body) = request(addr, "GET", "/metrics").await;
    assert!(body.lines().any(|l| l == "alloy_config_last_load_successful 0"), "{body}");
    assert!(body.lines().any(|l| l == "alloy_config_load_failures_total 1"), "{body}");
    stop.cancel();
    c.shutdown().await;
}

#[tokio::test]
async fn custom_components_and_their_modules() {
    let cfg = Config::new(
        r#"
declare "api_pipe" {
  argument "base" { }

  remote.http "inner" {
    url = argument.base.value
  }

  export "url" {
    value = remote.http.inner.content
  }
}

api_pipe "m" {
  base = "http://m"
}

remote.http "api_after" {
  url = api_pipe.m.url
}
"#,
    );
    let (c, addr, stop) = start(&cfg).await;
    let (status, list) = request(addr, "GET", "/api/v0/web/components").await;
    assert_eq!(status, 200);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let ids: Vec<(&str, &str)> = list.as_array().unwrap().iter().map(|c| (c["localID"].as_str().unwrap(), c["moduleID"].as_str().unwrap())).collect();
    assert_eq!(ids, [("api_pipe.m", ""), ("remote.http.api_after", "")]);

    let (status, inner) = request(addr, "GET", "/api/v0/web/modules/api_pipe.m/components").await;
    assert_eq!(status, 200);
    let inner: serde_json::Value = serde_json::from_str(&inner).unwrap();
    assert_eq!(inner.as_array().unwrap().len(), 1, "{inner}");
    assert_eq!((inner[0]["localID"].as_str(), inner[0]["moduleID"].as_str()), (Some("remote.http.inner"), Some("api_pipe.m")));

    let (status, detail) = request(addr, "GET", "/api/v0/web/components/api_pipe.m").await;
    assert_eq!(status, 200);
    insta::assert_json_snapshot!("custom_component_detail", stable(&detail, &cfg));
    let (status, detail) = request(addr, "GET", "/api/v0/web/components/api_pipe.m/remote.http.inner").await;
    assert_eq!(status, 200);
    assert!(detail.contains("\"moduleID\":\"api_pipe.m\""), "{detail}");

    assert_eq!(request(addr, "GET", "/api/v0/web/modules/nope.x/components").await, (500, "module not found\n".into()));

    // The UI: the list links every root component with its health; a custom component's page
    // shows its arguments, exports and module.
    let (status, index) = request(addr, "GET", "/").await;
    assert_eq!(status, 200);
    assert!(
        index.contains(
            "data-health=\"healthy\"><td><a href=\"component/api_pipe.m\">api_pipe.m</a></td><td>api_pipe</td><td><span class=\"badge healthy\">healthy</span>"
        ),
        "{index}"
    );
    assert!(index.contains("href=\"component/remote.http.api_after\""), "{index}");
    assert!(index.contains("<base href=\"/\">"), "{index}");
    let (status, page) = request(addr, "GET", "/component/api_pipe.m").await;
    assert_eq!(status, 200);
    assert!(page.contains("<h2>Module api_pipe.m <a class=\"module-graph\" href=\"graph/api_pipe.m\">graph</a></h2>"), "{page}");
    assert!(page.contains("href=\"component/api_pipe.m/remote.http.inner\""), "{page}");
    assert!(page.contains("url = &quot;http://m&quot;"), "arguments as Alloy, escaped: {page}");
    assert_eq!(request(addr, "GET", "/graph/api_pipe.m").await.0, 200);
    assert_eq!(request(addr, "GET", "/graph/nope.x").await.0, 404);
    assert_eq!(request(addr, "GET", "/component/nope.x").await.0, 404);
    stop.cancel();
    c.shutdown().await;
}

#[tokio::test]
async fn the_http_block_turns_on_tls_and_basic_auth_and_a_reload_turns_them_off() {
    let cfg = Config::new(
        r#"http {
  tls {
    cert_file = "$DIR/server.pem"
    key_file  = "$DIR/server.key"
  }

  auth {
    basic {
      username = "admin"
      password = "s3cret"
    }

    filter {
      paths                       = ["/-/"]
      authenticate_matching_paths = false
    }
  }
}

remote.http "svc_echo" {
  url = "http://example.com"
}
"#,
    );
    let pki = common::pki();
    pki.write_server(&cfg);
    let (c, addr, stop) = start(&cfg).await;
    let https = reqwest::Client::builder().tls_certs_only([reqwest::Certificate::from_pem(pki.ca.as_bytes()).unwrap()]).build().unwrap();
    let get = |path: &str, auth: bool| {
        let mut req = https.get(format!("https://{addr}{path}"));
        if auth {
            req = req.basic_auth("admin", Some("s3cret"));
        }
        async move { req.send().await.map(|r| r.status().as_u16()) }
    };
    assert_eq!(get("/-/ready", false).await.unwrap(), 200, "filtered paths need no credentials");
    assert_eq!(get("/metrics", false).await.unwrap(), 401);
    assert_eq!(get("/metrics", true).await.unwrap(), 200);
    let wrong = https.get(format!("https://{addr}/metrics")).basic_auth("admin", Some("nope")).send().await.unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    assert_eq!(wrong.headers().get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Basic realm=\"Alloy\""));
    // Plain HTTP gets no answer from a TLS port.
    assert!(reqwest::get(format!("http://{addr}/-/ready")).await.map(|r| r.status().as_u16() != 200).unwrap_or(true));

    // Without the block the same port serves plain HTTP, openly.
    cfg.write("remote.http \"svc_echo\" {\n  url = \"http://example.com\"\n}\n");
    c.load().await.expect("reloads");
    assert_eq!(request(addr, "GET", "/metrics").await.0, 200);
    stop.cancel();
    c.shutdown().await;
}

#[tokio::test]
async fn a_bad_http_block_is_refused_at_load_where_validate_refuses_it() {
    let cfg = Config::new("http {\n  tls {\n    cert_pem = \"not a certificate\"\n    key_pem  = \"x\"\n  }\n}\n");
    let err = cfg.controller().load().await.expect_err("bad certificate");
    let text = err.to_string();
    assert!(text.contains("config.alloy:3:16: invalid TLS cert: no PEM certificate found"), "{text}");
}

#[tokio::test]
async fn ui_links_inside_a_module_point_at_the_module_components() {
    let cfg = Config::new(
        r#"
declare "ui_pipe" {
  remote.http "first" {
    url = "http://a"
  }

  remote.http "second" {
    url = remote.http.first.content
  }
}

ui_pipe "p" { }
"#,
    );
    let (c, addr, stop) = start(&cfg).await;
    let (status, page) = request(addr, "GET", "/component/ui_pipe.p/remote.http.second").await;
    assert_eq!(status, 200);
    assert!(page.contains("<a href=\"component/ui_pipe.p/remote.http.first\">remote.http.first</a>"), "{page}");
    let (status, _) = request(addr, "GET", "/component/ui_pipe.p/remote.http.first").await;
    assert_eq!(status, 200);
    stop.cancel();
    c.shutdown().await;
}

#[tokio::test]
async fn a_rule_that_protects_the_web_api_protects_the_ui_pages_too() {
    let cfg = Config::new(
        r#"http {
  auth {
    basic {
      username = "admin"
      password = "s3cret"
    }

    filter {
      paths = ["/api/"]
    }
  }
}

remote.http "auth_ui" {
  url = "http://example.com"
}
"#,
    );
    let (c, addr, stop) = start(&cfg).await;
    for path in ["/api/v0/web/components", "/", "/component/remote.http.auth_ui", "/graph", "/debug/remote.http.auth_ui", "/assets/app.js"] {
        assert_eq!(request(addr, "GET", path).await.0, 401, "{path}");
    }
    let client = reqwest::Client::new();
    let ok = client.get(format!("http://{addr}/component/remote.http.auth_ui")).basic_auth("admin", Some("s3cret")).send().await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(request(addr, "GET", "/-/ready").await.0, 200, "outside the rule and not a UI page");
    stop.cancel();
    c.shutdown().await;
}

#[tokio::test]
async fn the_ui_and_web_api_move_under_the_path_prefix() {
    let cfg = Config::new("remote.http \"prefixed\" {\n  url = \"http://example.com\"\n}\n");
    let c = cfg.controller();
    let stop = CancellationToken::new();
    c.load().await.expect("loads");
    let prefix = runtime::http::Prefix::new("/proxy/alloy/");
    let (addr, _) = runtime::http::serve_with_prefix("127.0.0.1:0", c.clone(), &prefix, stop.clone()).await.expect("binds");
    let (status, index) = request(addr, "GET", "/proxy/alloy/").await;
    assert_eq!(status, 200);
    assert!(index.contains("<base href=\"/proxy/alloy/\">") && index.contains("href=\"component/remote.http.prefixed\""), "{index}");
    assert_eq!(request(addr, "GET", "/proxy/alloy/api/v0/web/components").await.0, 200);
    assert_eq!(request(addr, "GET", "/proxy/alloy/component/remote.http.prefixed").await.0, 200);
    assert_eq!(request(addr, "GET", "/proxy/alloy/assets/graph.js").await.0, 200);
    assert_eq!(request(addr, "POST", "/proxy/alloy/-/reload").await, (200, "config reloaded\n".into()));
    // Moved, not copied; the process endpoints stay at the root.
    assert_eq!(request(addr, "GET", "/api/v0/web/components").await.0, 404);
    assert_eq!(request(addr, "GET", "/-/ready").await.0, 200);
    let redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = redirect.get(format!("http://{addr}/proxy/alloy")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 302);
    assert_eq!(r.headers().get("location").and_then(|v| v.to_str().ok()), Some("/proxy/alloy/"));
    stop.cancel();
    c.shutdown().await;
}
