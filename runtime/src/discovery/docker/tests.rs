//! `discovery.docker` against the stand-in daemon (`docker_engine::fake`).

use serde_json::json;

use super::*;
use crate::component::HealthState;
use crate::discovery::testing::{context, target};
use crate::docker_engine::fake::Fake;

fn args_value(body: &str) -> Value {
    crate::component::args::evaluated(&format!("discovery.docker \"t\" {{\n{body}\n}}\n")).expect("evaluates")
}

async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..250 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

fn web(fake: &Fake) {
    fake.add_network(
        json!({"Name": "app_net", "Id": "net-app", "Scope": "local", "Internal": true, "Ingress": false, "Labels": {"com.example.tier": "front"}}),
    );
    fake.add_network(json!({"Name": "bridge", "Id": "net-bridge", "Scope": "local", "Internal": false, "Ingress": false, "Labels": {}}));
    fake.add_container(
        json!({
            "Id": "c0ffee",
            "Names": ["/web", "/alias"],
            "Image": "nginx:1",
            "Labels": {"com.example.app-name": "shop", "team": "a"},
            "State": "running",
            "Ports": [
                {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                {"PrivatePort": 9090, "Type": "tcp"},
                {"PrivatePort": 53, "Type": "udp"}
            ],
            "HostConfig": {"NetworkMode": "app_net"},
            "NetworkSettings": {"Networks": {
                "bridge": {"NetworkID": "net-bridge", "IPAddress": "172.17.0.2"},
                "app_net": {"NetworkID": "net-app", "IPAddress": "10.5.0.3"}
            }}
        }),
        false,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_match_prometheus_for_a_container_with_labels_ports_and_networks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = Fake::start(dir.path());
    web(&fake);
    let (ctx, host) = context("discovery.docker.labels");
    let c = build(ctx, args_value(&format!("  host = {:?}\n  refresh_interval = \"100ms\"", fake.host()))).expect("builds");
    let stop = CancellationToken::new();
    let task = tokio::spawn(c.run(stop.clone()));
    until("targets", || !host.targets().is_empty()).await;

    let common = [
        ("__meta_docker_container_id", "c0ffee"),
        ("__meta_docker_container_name", "/web"),
        ("__meta_docker_container_network_mode", "app_net"),
        ("__meta_docker_container_label_com_example_app_name", "shop"),
        ("__meta_docker_container_label_team", "a"),
        ("__meta_docker_network_id", "net-app"),
        ("__meta_docker_network_name", "app_net"),
        ("__meta_docker_network_scope", "local"),
        ("__meta_docker_network_internal", "true"),
        ("__meta_docker_network_ingress", "false"),
        ("__meta_docker_network_label_com_example_tier", "front"),
        ("__meta_docker_network_ip", "10.5.0.3"),
    ];
    let with = |extra: &[(&str, &str)]| {
        let mut pairs = common.to_vec();
        pairs.extend_from_slice(extra);
        target(&pairs)
    };
    // match_first_network (the default): app_net only; the UDP port gives no target.
    assert_eq!(
        host.targets(),
        [
            with(&[
                ("__address__", "10.5.0.3:80"),
                ("__meta_docker_port_private", "80"),
                ("__meta_docker_port_public", "8080"),
                ("__meta_docker_port_public_ip", "0.0.0.0")
            ]),
            with(&[("__address__", "10.5.0.3:9090"), ("__meta_docker_port_private", "9090")]),
        ]
    );
    assert_eq!(host.health().map(|h| h.0), Some(HealthState::Healthy));
    stop.cancel();
    task.await.expect("joins").expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_go_to_the_daemon() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = Fake::start(dir.path());
    web(&fake);
    fake.add_container(json!({"Id": "db1", "Names": ["/db"], "Labels": {"team": "b"}, "HostConfig": {"NetworkMode": "host"}, "NetworkSettings": {"Networks": {"host": {"NetworkID": "h"}}}}), false);
    let (ctx, host) = context("discovery.docker.filters");
    let body = format!(
        "  host = {:?}\n  host_networking_host = \"docker-host\"\n  refresh_interval = \"100ms\"\n  filter {{\n    name = \"label\"\n    values = [\"team=b\"]\n  }}",
        fake.host()
    );
    let c = build(ctx, args_value(&body)).expect("builds");
    let stop = CancellationToken::new();
    let task = tokio::spawn(c.run(stop.clone()));
    until("targets", || !host.targets().is_empty()).await;
    let got = host.targets();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].get("__address__").map(String::as_str), Some("docker-host"), "host networking uses host_networking_host");
    assert_eq!(got[0].get("__meta_docker_container_name").map(String::as_str), Some("/db"));
    let listed = fake.requests().into_iter().find(|r| r.starts_with("/containers/json")).expect("listed");
    assert_eq!(listed, "/containers/json?filters=%7B%22label%22%3A%7B%22team%3Db%22%3Atrue%7D%7D");
    stop.cancel();
    task.await.expect("joins").expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_daemon_is_unhealthy_keeps_the_targets_and_recovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = Fake::start(dir.path());
    web(&fake);
    let (ctx, host) = context("discovery.docker.unreachable");
    let c = build(ctx, args_value(&format!("  host = {:?}\n  refresh_interval = \"100ms\"", fake.host()))).expect("builds");
    let stop = CancellationToken::new();
    let task = tokio::spawn(c.run(stop.clone()));
    until("targets", || host.targets().len() == 2).await;

    fake.stop();
    until("unhealthy", || host.health().is_some_and(|h| h.0 == HealthState::Unhealthy)).await;
    let (_, message) = host.health().expect("health");
    let expected = format!("error while listing containers: cannot connect to the Docker daemon at {} (is the docker daemon running?)", fake.host());
    assert!(message.starts_with(&expected), "{message}");
    assert_eq!(host.targets().len(), 2, "the last targets are kept");

    fake.add_container(json!({"Id": "new", "Names": ["/new"], "HostConfig": {"NetworkMode": "bridge"}, "NetworkSettings": {"Networks": {"bridge": {"NetworkID": "net-bridge", "IPAddress": "172.17.0.9"}}}}), false);
    fake.resume();
    until("recovered", || host.health().is_some_and(|h| h.0 == HealthState::Healthy) && host.targets().len() == 3).await;
    stop.cancel();
    task.await.expect("joins").expect("stops");
}

#[test]
fn rules() {
    let errs =
        |body: &str| -> Vec<String> { crate::component::args::check::<Args>(NAME, &args_value(body)).iter().map(crate::component::args::describe).collect() };
    assert!(errs("  host = \"unix:///var/run/docker.sock\"").is_empty());
    assert!(errs("  host = \"tcp://127.0.0.1:2375\"\n  bearer_token = \"t\"").is_empty());
    assert_eq!(errs("  host = \"\""), ["host: host attribute must not be empty"]);
    assert_eq!(
        errs("  host = \"ssh://me@box\""),
        ["host: parsing host attribute: unable to parse docker host \"ssh://me@box\": protocol \"ssh\" is not supported (expected unix, tcp, http or https)"]
    );
    assert_eq!(errs("  host = \"unix:///x\"\n  refresh_interval = \"0s\""), ["refresh_interval: refresh_interval must be greater than 0"]);
    assert_eq!(errs("  host = \"unix:///x\"\n  oauth2 {\n    client_id = \"a\"\n  }"), ["oauth2: block \"oauth2\" is not supported by this runtime yet"]);
    assert_eq!(
        errs("  host = \"unix:///x\"\n  proxy_connect_header = {\"a\" = [\"b\"]}"),
        ["proxy_connect_header: argument \"proxy_connect_header\" is not supported by this runtime yet"]
    );
}
