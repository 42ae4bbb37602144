//! Targets from the daemon's container and network lists, labelled as Prometheus' Docker
//! service discovery labels them (the version upstream Alloy vendors):
//!
//! * every target: `__meta_docker_container_id`, `__meta_docker_container_name` (the first
//!   name), `__meta_docker_container_network_mode`, `__meta_docker_container_label_<name>`
//!   (names sanitized), `__meta_docker_network_ip` and the network's `__meta_docker_network_id`,
//!   `_name`, `_scope`, `_internal`, `_ingress`, `_label_<name>`;
//! * one target per TCP port of each network, with `__meta_docker_port_private` (and
//!   `__meta_docker_port_public`, `__meta_docker_port_public_ip` for a published port) and
//!   `__address__` = `IP:private port`;
//! * a network without TCP ports gives one target at `IP:port` (the `port` argument), or at
//!   `host_networking_host` for a container in host networking mode.
//!
//! Containers without a name are left out; a container sharing another's network stack
//! (`container:<id>` mode) takes that container's networks; with `match_first_network` only
//! the first network by name is used.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::super::Target;

const PREFIX: &str = "__meta_docker_";

/// The settings that shape targets.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shape {
    pub port: i64,
    pub host_networking_host: String,
    pub match_first_network: bool,
}

/// Every character but ASCII letters, digits and `_` becomes `_` (Prometheus'
/// `SanitizeLabelName`).
pub fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

fn text(j: &Json) -> String {
    j.as_str().unwrap_or_default().to_string()
}

/// `host:port`, brackets around an IPv6 host (Go's `net.JoinHostPort`).
fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// An address as Go prints a valid `netip.Addr`; empty when it is not one.
fn ip(j: &Json) -> String {
    j.as_str().and_then(|s| s.parse::<std::net::IpAddr>().ok()).map(|a| a.to_string()).unwrap_or_default()
}

fn labels_of(j: &Json, prefix: &str, out: &mut BTreeMap<String, String>) {
    if let Some(m) = j.as_object() {
        for (k, v) in m {
            out.insert(format!("{prefix}{}", sanitize(k)), text(v));
        }
    }
}

/// Network ID → its labels.
pub fn network_labels(networks: &[Json]) -> BTreeMap<String, Target> {
    networks
        .iter()
        .map(|n| {
            let mut l = Target::new();
            l.insert(format!("{PREFIX}network_id"), text(&n["Id"]));
            l.insert(format!("{PREFIX}network_name"), text(&n["Name"]));
            l.insert(format!("{PREFIX}network_scope"), text(&n["Scope"]));
            l.insert(format!("{PREFIX}network_internal"), n["Internal"].as_bool().unwrap_or(false).to_string());
            l.insert(format!("{PREFIX}network_ingress"), n["Ingress"].as_bool().unwrap_or(false).to_string());
            labels_of(&n["Labels"], &format!("{PREFIX}network_label_"), &mut l);
            (text(&n["Id"]), l)
        })
        .collect()
}

/// A container's networks: its own, or, in `container:<id>` mode, those of the container it
/// shares a stack with (followed through further `container:` modes).
fn networks_of<'a>(c: &'a Json, by_id: &BTreeMap<&str, &'a Json>) -> Vec<(&'a str, &'a Json)> {
    let own = |c: &'a Json| -> Vec<(&'a str, &'a Json)> {
        c.pointer("/NetworkSettings/Networks").and_then(Json::as_object).map(|m| m.iter().map(|(k, v)| (k.as_str(), v)).collect()).unwrap_or_default()
    };
    let mut networks = own(c);
    let mut mode = c.pointer("/HostConfig/NetworkMode").and_then(Json::as_str).unwrap_or_default();
    let mut hops = 0;
    while networks.is_empty() && hops < by_id.len() {
        let Some(other) = mode.strip_prefix("container:").and_then(|id| by_id.get(id)) else { break };
        networks = own(other);
        mode = other.pointer("/HostConfig/NetworkMode").and_then(Json::as_str).unwrap_or_default();
        hops += 1;
    }
    networks
}

/// The targets of `containers` (`/containers/json`) given `networks` (`/networks`).
pub fn targets(containers: &[Json], networks: &[Json], shape: &Shape) -> Vec<Target> {
    let network_labels = network_labels(networks);
    let by_id: BTreeMap<&str, &Json> = containers.iter().map(|c| (c["Id"].as_str().unwrap_or_default(), c)).collect();
    let mut out = Vec::new();
    for c in containers {
        let Some(name) = c["Names"].as_array().and_then(|n| n.first()) else { continue };
        let network_mode = c.pointer("/HostConfig/NetworkMode").and_then(Json::as_str).unwrap_or_default();
        let mut common = Target::new();
        common.insert(format!("{PREFIX}container_id"), text(&c["Id"]));
        common.insert(format!("{PREFIX}container_name"), text(name));
        common.insert(format!("{PREFIX}container_network_mode"), network_mode.to_string());
        labels_of(&c["Labels"], &format!("{PREFIX}container_label_"), &mut common);

        let mut networks: Vec<(&str, &Json)> = networks_of(c, &by_id).into_iter().filter(|(_, n)| !n.is_null()).collect();
        if shape.match_first_network && networks.len() > 1 {
            networks.sort_by_key(|(name, _)| *name);
            networks.truncate(1);
        }
        let ports: Vec<&Json> = c["Ports"].as_array().map(|p| p.iter().filter(|p| p["Type"].as_str() == Some("tcp")).collect()).unwrap_or_default();
        for (_, n) in networks {
            let ip_addr = ip(&n["IPAddress"]);
            let mut base = common.clone();
            if let Some(l) = network_labels.get(n["NetworkID"].as_str().unwrap_or_default()) {
                base.extend(l.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            base.insert(format!("{PREFIX}network_ip"), ip_addr.clone());
            for p in &ports {
                let private = p["PrivatePort"].as_u64().unwrap_or(0).to_string();
                let mut t = base.clone();
                t.insert(format!("{PREFIX}port_private"), private.clone());
                let public = p["PublicPort"].as_u64().unwrap_or(0);
                if public > 0 {
                    t.insert(format!("{PREFIX}port_public"), public.to_string());
                    t.insert(format!("{PREFIX}port_public_ip"), ip(&p["IP"]));
                }
                t.insert("__address__".into(), join_host_port(&ip_addr, &private));
                out.push(t);
            }
            if ports.is_empty() {
                let mut t = base;
                let address = if network_mode == "host" { shape.host_networking_host.clone() } else { join_host_port(&ip_addr, &shape.port.to_string()) };
                t.insert("__address__".into(), address);
                out.push(t);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn shape() -> Shape {
        Shape { port: 80, host_networking_host: "localhost".into(), match_first_network: true }
    }

    #[test]
    fn names_are_sanitized_like_prometheus() {
        assert_eq!(sanitize("com.example.app-name"), "com_example_app_name");
        assert_eq!(sanitize("ünï_1"), "_n__1");
    }

    #[test]
    fn host_mode_shared_stacks_and_ipv6() {
        let containers = vec![
            json!({"Id": "h", "Names": ["/host"], "HostConfig": {"NetworkMode": "host"}, "NetworkSettings": {"Networks": {"host": {"NetworkID": "n-host", "IPAddress": ""}}}}),
            json!({"Id": "side", "Names": ["/side"], "HostConfig": {"NetworkMode": "container:main"}, "NetworkSettings": {"Networks": {}}}),
            json!({"Id": "main", "Names": ["/main"], "HostConfig": {"NetworkMode": "bridge"}, "Ports": [{"PrivatePort": 53, "Type": "udp"}],
                   "NetworkSettings": {"Networks": {"bridge": {"NetworkID": "n-b", "IPAddress": "fd00::0:2"}}}}),
            json!({"Id": "anon", "Names": [], "HostConfig": {"NetworkMode": "bridge"}}),
        ];
        let mut got: Vec<(String, String)> =
            targets(&containers, &[], &shape()).into_iter().map(|t| (t["__meta_docker_container_id"].clone(), t["__address__"].clone())).collect();
        got.sort();
        assert_eq!(got, [("h".into(), "localhost".into()), ("main".into(), "[fd00::2]:80".into()), ("side".into(), "[fd00::2]:80".into())]);
    }

    #[test]
    fn every_network_when_not_matching_the_first() {
        let c = json!({"Id": "m", "Names": ["/m"], "HostConfig": {"NetworkMode": "a"},
            "NetworkSettings": {"Networks": {"b": {"NetworkID": "nb", "IPAddress": "10.0.1.2"}, "a": {"NetworkID": "na", "IPAddress": "10.0.0.2"}}}});
        let first = targets(std::slice::from_ref(&c), &[], &shape());
        assert_eq!(first.iter().map(|t| t["__address__"].as_str()).collect::<Vec<_>>(), ["10.0.0.2:80"]);
        let all = targets(&[c], &[], &Shape { match_first_network: false, ..shape() });
        let mut addrs: Vec<&str> = all.iter().map(|t| t["__address__"].as_str()).collect();
        addrs.sort();
        assert_eq!(addrs, ["10.0.0.2:80", "10.0.1.2:80"]);
    }
}
