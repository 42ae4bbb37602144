//! End-to-end tests of `alloy run`: the binary serving its API, reloading on SIGHUP, shutting
//! down on SIGTERM within a bound, refusing bad configurations and unsupported flags.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::*;

fn alloy(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_alloy"));
    c.arg("run").args(args).env("ALLOY_PLAIN_DIAGNOSTICS", "1").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

fn run_to_end(args: &[&str]) -> Output {
    alloy(args).output().expect("alloy runs")
}

fn wait_until(what: &str, child: &mut Child, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if cond() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
            panic!("alloy exited ({status}) while waiting for {what}:\n{err}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    panic!("timed out waiting for {what}");
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill").args([sig, &child.id().to_string()]).status().expect("kill runs").success();
    assert!(ok, "kill {sig} failed");
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("config.alloy");
    std::fs::write(&path, text.replace("$DIR", &dir.display().to_string())).expect("write config");
    path
}

#[test]
fn serves_reloads_on_sighup_and_stops_on_sigterm_within_a_bound() {
    let dir = scratch("run-lifecycle");
    std::fs::write(dir.join("a.txt"), "hello").unwrap();
    let config = write_config(&dir, "local.file \"a\" {\n  filename = \"$DIR/a.txt\"\n}\n");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let data = dir.join("data");
    let mut child = alloy(&["--server.http.listen-addr", &addr, "--storage.path", data.to_str().unwrap(), config.to_str().unwrap()]).spawn().expect("starts");

    wait_until("/-/ready", &mut child, || get(port, "/-/ready").is_some_and(|(s, _)| s == 200));
    let (status, body) = get(port, "/api/v0/web/components").expect("components");
    assert_eq!(status, 200);
    assert!(body.contains("\"localID\":\"local.file.a\""), "{body}");

    write_config(&dir, "local.file \"a\" {\n  filename = \"$DIR/a.txt\"\n}\n\nlocal.file \"b\" {\n  filename = local.file.a.filename\n}\n");
    // `filename` is an argument, not an export: the reload must fail and keep the old graph.
    signal(&child, "-HUP");
    std::thread::sleep(Duration::from_millis(300));
    let (_, body) = get(port, "/api/v0/web/components").expect("components");
    assert!(!body.contains("local.file.b"), "{body}");

    write_config(
        &dir,
        "local.file \"a\" {\n  filename = \"$DIR/a.txt\"\n}\n\nlocal.file \"b\" {\n  filename = \"$DIR/\" + local.file.a.content + \".txt\"\n}\n",
    );
    std::fs::write(dir.join("hello.txt"), "world").unwrap();
    signal(&child, "-HUP");
    wait_until("the reloaded component", &mut child, || get(port, "/api/v0/web/components/local.file.b").is_some_and(|(s, _)| s == 200));

    signal(&child, "-TERM");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "alloy did not exit within 5 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut err).unwrap();
    assert!(status.success(), "exit {status}: {err}");
    assert!(err.contains("msg=\"failed to reload config\""), "{err}");
    assert!(err.contains("msg=\"config reloaded\""), "{err}");
    assert!(err.contains("msg=\"Alloy has stopped\""), "{err}");
}

#[test]
fn initial_load_errors_are_printed_with_positions_and_exit_1() {
    let dir = scratch("run-bad");
    let config = write_config(&dir, "local.file \"a\" {\n  filename = 12 +\n}\n");
    let out = run_to_end(&["--server.http.listen-addr", "127.0.0.1:0", config.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("config.alloy:3:1"), "{err}");
    assert!(err.ends_with("Error: could not perform the initial load successfully\n"), "{err}");

    // A component the catalogue knows and this runtime does not run.
    let config = write_config(&dir, "beyla.ebpf \"s\" {}\n");
    let out = run_to_end(&["--server.http.listen-addr", "127.0.0.1:0", config.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("component \"beyla.ebpf\" is not supported by this runtime yet"), "{err}");
}

#[test]
fn unsupported_and_gated_flags_are_refused() {
    let dir = scratch("run-flags");
    let config = write_config(&dir, "");
    let cfg = config.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--cluster.enabled"], "Error: --cluster.enabled: clustering is not supported by this runtime yet\n"),
        (&["--cluster.join-addresses=a:1"], "Error: --cluster.join-addresses: clustering is not supported by this runtime yet\n"),
        (&["--server.http.enable-pprof=true"], "Error: --server.http.enable-pprof: the pprof endpoint is not supported by this runtime yet\n"),
        (
            &["--feature.prometheus.direct-fanout.enabled"],
            "Error: '--feature.prometheus.direct-fanout.enabled' can only be used at experimental stability level. Use --stability.level=experimental to enable.\n",
        ),
        (&["--config.format=yaml"], "Error: unknown config format \"yaml\" (expected alloy, otelcol, prometheus, promtail or static)\n"),
    ];
    for (flags, expected) in cases {
        let mut args = flags.to_vec();
        args.push(cfg);
        let out = run_to_end(&args);
        assert_eq!(out.status.code(), Some(1), "{flags:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), expected, "{flags:?}");
    }
}

#[test]
fn a_taken_address_fails_with_exit_1() {
    let dir = scratch("run-taken");
    let config = write_config(&dir, "");
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().unwrap().to_string();
    let out = run_to_end(&["--server.http.listen-addr", &addr, "--storage.path", dir.join("data").to_str().unwrap(), config.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("Error: failed to listen on {addr}")), "{err}");
}

#[test]
fn prometheus_configs_are_converted_before_loading() {
    let dir = scratch("run-convert");
    let config = dir.join("prometheus.yml");
    std::fs::write(&config, "scrape_configs:\n  - job_name: x\n    static_configs:\n      - targets: ['localhost:9090']\nremote_write:\n  - url: http://localhost:9009/api/v1/push\n").unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let data = dir.join("data");
    let mut child =
        alloy(&["--config.format=prometheus", "--server.http.listen-addr", &addr, "--storage.path", data.to_str().unwrap(), config.to_str().unwrap()])
            .spawn()
            .expect("starts");
    wait_until("/-/ready", &mut child, || get(port, "/-/ready").is_some_and(|(s, _)| s == 200));
    // The converted pipeline runs: its components are those the converter names.
    let (status, body) = get(port, "/api/v0/web/components").expect("components");
    signal(&child, "-TERM");
    let out = child.wait_with_output().expect("exits");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(status, 200);
    let components: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let names: Vec<&str> = components.as_array().into_iter().flatten().filter_map(|c| c["name"].as_str()).collect();
    assert!(names.contains(&"prometheus.scrape") && names.contains(&"prometheus.remote_write"), "{names:?}");
}

#[test]
fn the_logging_block_sets_format_and_level() {
    let dir = scratch("run-logging");
    let config = write_config(&dir, "logging {\n  level  = \"info\"\n  format = \"json\"\n}\n");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child =
        alloy(&["--server.http.listen-addr", &addr, "--storage.path", dir.join("data").to_str().unwrap(), config.to_str().unwrap()]).spawn().expect("starts");
    wait_until("/-/ready", &mut child, || get(port, "/-/ready").is_some_and(|(s, _)| s == 200));
    // Warnings only from now on: the reload's info lines disappear.
    write_config(&dir, "logging {\n  level  = \"warn\"\n  format = \"json\"\n}\n");
    assert_eq!(get(port, "/-/reload"), Some((200, "config reloaded\n".into())));
    signal(&child, "-TERM");
    let out = child.wait_with_output().expect("exits");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let lines: Vec<serde_json::Value> = err.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    let listening = lines.iter().find(|l| l["msg"] == "now listening for http traffic").expect("listening line");
    assert_eq!(listening["level"], "info");
    assert_eq!(listening["addr"], addr.as_str());
    assert!(listening["ts"].as_str().is_some_and(|t| t.ends_with('Z')), "{listening}");
    assert!(!lines.iter().any(|l| l["msg"] == "shutting down"), "info lines after the reload to level=warn: {err}");
}
