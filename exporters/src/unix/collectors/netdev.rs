//! `netdev`: per-interface counters from /proc/net/dev (Alloy turns node_exporter's netlink source off, so
//! `receive_nohandler` never appears), and with `address_info` the interface addresses (filtered by the device
//! filter too, as upstream HEAD; node_exporter before 1.11 listed every interface).

use std::net::IpAddr;
use std::path::PathBuf;

use super::sys;
use crate::expfmt::{MetricType, Sink};
use crate::unix::util::{compile, read, CollectError, DeviceFilter, Result};
use crate::unix::{Collector, Config, ConfigError};

/// /proc/net/dev columns after the interface name, named as node_exporter exports them (after its legacy renames).
const COLUMNS: [&str; 16] = [
    "receive_bytes",
    "receive_packets",
    "receive_errs",
    "receive_drop",
    "receive_fifo",
    "receive_frame",
    "receive_compressed",
    "receive_multicast",
    "transmit_bytes",
    "transmit_packets",
    "transmit_errs",
    "transmit_drop",
    "transmit_fifo",
    "transmit_colls",
    "transmit_carrier",
    "transmit_compressed",
];

pub(crate) struct Netdev {
    path: PathBuf,
    filter: DeviceFilter,
    address_info: bool,
    /// `node_network_<column>_total` and `Network device statistic <column>.`, built once.
    names: Vec<(String, String)>,
}

impl Netdev {
    pub fn new(cfg: &Config) -> std::result::Result<Netdev, ConfigError> {
        let n = &cfg.netdev;
        if !n.device_include.is_empty() && !n.device_exclude.is_empty() {
            return Err(ConfigError::MutuallyExclusive { first: "netdev.device_include", second: "netdev.device_exclude" });
        }
        Ok(Netdev {
            path: PathBuf::from(&cfg.procfs_path).join("net/dev"),
            filter: DeviceFilter {
                exclude: compile("netdev.device_exclude", &n.device_exclude)?,
                include: compile("netdev.device_include", &n.device_include)?,
            },
            address_info: n.address_info,
            names: COLUMNS.iter().map(|c| (format!("node_network_{c}_total"), format!("Network device statistic {c}."))).collect(),
        })
    }
}

/// Go's scope classification of an interface address.
fn scope(ip: &IpAddr) -> &'static str {
    let (loopback, link_local_unicast, link_local_multicast, interface_local_multicast, global_unicast) = match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            let ll = o[0] == 169 && o[1] == 254;
            let llm = o[0] == 224 && o[1] == 0 && o[2] == 0;
            (a.is_loopback(), ll, llm, false, !a.is_unspecified() && !a.is_loopback() && !a.is_multicast() && !ll && !a.is_broadcast())
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            let ll = s[0] & 0xffc0 == 0xfe80;
            let m = a.is_multicast();
            let llm = m && s[0] & 0xff0f == 0xff02;
            let ilm = m && s[0] & 0xff0f == 0xff01;
            if let Some(v4) = a.to_ipv4_mapped() {
                return scope(&IpAddr::V4(v4));
            }
            (a.is_loopback(), ll, llm, ilm, !a.is_unspecified() && !a.is_loopback() && !m && !ll)
        }
    };
    if loopback || link_local_unicast || link_local_multicast {
        "link-local"
    } else if interface_local_multicast {
        "interface-local"
    } else if global_unicast {
        "global"
    } else {
        ""
    }
}

impl Collector for Netdev {
    fn update(&self, sink: &mut Sink) -> Result<()> {
        let text = read(&self.path).map_err(|e| CollectError::new(format!("couldn't get netstats: {}", e.message)))?;
        // Two header lines, then `  name: v1 v2 ...`.
        for line in text.lines().skip(2) {
            let Some((dev, rest)) = line.split_once(':') else { continue };
            let dev = dev.trim();
            if self.filter.ignored(dev) {
                continue;
            }
            let values: Vec<&str> = rest.split_whitespace().collect();
            if values.len() != COLUMNS.len() {
                continue;
            }
            for ((name, help), raw) in self.names.iter().zip(values) {
                let Ok(v) = raw.parse::<u64>() else { continue };
                sink.sample(name, help, MetricType::Counter, &["device"], &[dev], v as f64);
            }
        }
        if self.address_info {
            let addrs = sys::interface_addrs().map_err(|e| CollectError::new(format!("could not get network interfaces: {e}")))?;
            let id = sink.family("node_network_address_info", "node network address by device", MetricType::Gauge, &["device", "address", "netmask", "scope"]);
            for a in addrs.iter().filter(|a| !self.filter.ignored(&a.device)) {
                sink.add(id, &[&a.device, &a.addr.to_string(), &a.prefix.to_string(), scope(&a.addr)], 1.0);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_like_go() {
        for (ip, want) in [
            ("127.0.0.1", "link-local"),
            ("169.254.1.1", "link-local"),
            ("10.0.0.1", "global"),
            ("::1", "link-local"),
            ("fe80::1", "link-local"),
            ("2001:db8::1", "global"),
            ("ff01::1", "interface-local"),
            ("ff05::1", ""),
            ("0.0.0.0", ""),
        ] {
            assert_eq!(scope(&ip.parse().unwrap()), want, "{ip}");
        }
    }
}
