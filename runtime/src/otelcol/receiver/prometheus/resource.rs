//! The resource a (job, instance) pair stands for, as the collector's Prometheus receiver
//! builds it (with the legacy `net.host.*`/`http.scheme` attributes, whose removal gate is
//! off in Alloy).

use std::net::IpAddr;

/// Go's `net.SplitHostPort`, or `None` when the instance has no port.
fn split_host_port(instance: &str) -> Option<(&str, &str)> {
    if let Some(rest) = instance.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host, port));
    }
    let (host, port) = instance.rsplit_once(':')?;
    // An unbracketed address with more colons is an error in Go.
    (!host.contains(':')).then_some((host, port))
}

/// A host that names a machine: not loopback, not unspecified, not `localhost`.
fn discernible(host: &str) -> bool {
    match host.parse::<IpAddr>() {
        Ok(ip) => !ip.is_loopback() && !ip.is_unspecified(),
        Err(_) => host != "localhost",
    }
}

/// The resource attributes, in upstream's order.
pub fn attributes(job: &str, instance: &str, scheme: &str) -> Vec<(String, String)> {
    let (host, port) = split_host_port(instance).unwrap_or((instance, ""));
    let mut out = vec![("service.name", job)];
    if discernible(host) {
        out.push(("net.host.name", host));
        out.push(("server.address", host));
    }
    out.extend([("service.instance.id", instance), ("net.host.port", port), ("http.scheme", scheme), ("server.port", port), ("url.scheme", scheme)]);
    out.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(a: &[(String, String)]) -> Vec<String> {
        a.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    #[test]
    fn host_and_port_come_from_the_instance() {
        assert_eq!(
            keys(&attributes("node", "10.0.0.1:9100", "http")),
            [
                "service.name=node",
                "net.host.name=10.0.0.1",
                "server.address=10.0.0.1",
                "service.instance.id=10.0.0.1:9100",
                "net.host.port=9100",
                "http.scheme=http",
                "server.port=9100",
                "url.scheme=http"
            ]
        );
        let ipv6 = attributes("j", "[2001:db8::1]:80", "");
        assert_eq!(ipv6[1], ("net.host.name".to_string(), "2001:db8::1".to_string()));
    }

    #[test]
    fn loopback_unspecified_and_localhost_are_not_hosts() {
        for instance in ["127.0.0.1:9090", "localhost:9090", "0.0.0.0:1", "[::1]:2"] {
            assert!(!attributes("j", instance, "").iter().any(|(k, _)| k == "server.address"), "{instance}");
        }
        // No port: the whole instance is the host, the port empty.
        let a = attributes("j", "db-1", "");
        assert!(a.contains(&("server.address".to_string(), "db-1".to_string())));
        assert!(a.contains(&("server.port".to_string(), String::new())));
    }
}
