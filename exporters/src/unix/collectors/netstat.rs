//! `netstat`: the /proc/net/netstat, /proc/net/snmp and /proc/net/snmp6 counters whose `<Protocol>_<Name>` match
//! `netstat.fields`, untyped as upstream.

use std::path::PathBuf;

use regex::Regex;

use crate::expfmt::{MetricType, Sink};
use crate::unix::util::{compile, push_sanitized, read, read_optional, CollectError, Result};
use crate::unix::{Collector, Config, ConfigError};

pub(crate) struct Netstat {
    netstat: PathBuf,
    snmp: PathBuf,
    snmp6: PathBuf,
    fields: Option<Regex>,
}

impl Netstat {
    pub fn new(cfg: &Config) -> std::result::Result<Netstat, ConfigError> {
        let net = PathBuf::from(&cfg.procfs_path).join("net");
        Ok(Netstat { netstat: net.join("netstat"), snmp: net.join("snmp"), snmp6: net.join("snmp6"), fields: compile("netstat.fields", &cfg.netstat.fields)? })
    }

    /// Exports `<proto>_<field>` if it matches the fields pattern; `key` and `name` are reused buffers.
    fn emit(&self, sink: &mut Sink, bufs: &mut (String, String), proto: &str, field: &str, value: &str) {
        let (key, name) = bufs;
        key.clear();
        key.push_str(proto);
        key.push('_');
        key.push_str(field);
        if self.fields.as_ref().is_some_and(|r| !r.is_match(key)) {
            return;
        }
        let Ok(v) = value.parse::<f64>() else { return };
        name.clear();
        name.push_str("node_netstat_");
        push_sanitized(name, key);
        let id = sink.family_with(name, MetricType::Untyped, &[], |h| {
            h.push_str("Statistic ");
            h.push_str(proto);
            h.push_str(field);
            h.push('.');
        });
        sink.add(id, &[], v);
    }
}

impl Collector for Netstat {
    fn update(&self, sink: &mut Sink) -> Result<()> {
        let netstat = read(&self.netstat).map_err(|e| CollectError::new(format!("couldn't get netstats: {}", e.message)))?;
        let snmp = read(&self.snmp).map_err(|e| CollectError::new(format!("couldn't get SNMP stats: {}", e.message)))?;
        // Absent when IPv6 is disabled.
        let snmp6 = read_optional(&self.snmp6).map_err(|e| CollectError::new(format!("couldn't get SNMP6 stats: {}", e.message)))?;
        let mut bufs = (String::new(), String::new());
        for (text, path) in [(&netstat, &self.netstat), (&snmp, &self.snmp)] {
            // Pairs of lines: `Proto: Name1 Name2 ...` then `Proto: v1 v2 ...`.
            let mut lines = text.lines().filter(|l| !l.trim().is_empty());
            while let (Some(names), Some(values)) = (lines.next(), lines.next()) {
                let names: Vec<&str> = names.split(' ').collect();
                let values: Vec<&str> = values.split(' ').collect();
                let proto = names[0].strip_suffix(':').unwrap_or(names[0]);
                if names.len() != values.len() {
                    return Err(CollectError::new(format!("mismatch field count mismatch in {}: {proto}", path.display())));
                }
                for (n, v) in names.iter().zip(&values).skip(1) {
                    self.emit(sink, &mut bufs, proto, n, v);
                }
            }
        }
        for line in snmp6.as_deref().unwrap_or("").lines() {
            // `Ip6InReceives 123`: the protocol is everything up to and including the first `6`.
            let mut parts = line.split_whitespace();
            let (Some(key), Some(val)) = (parts.next(), parts.next()) else { continue };
            let Some(six) = key.find('6') else { continue };
            let (proto, field) = key.split_at(six + 1);
            self.emit(sink, &mut bufs, proto, field, val);
        }
        Ok(())
    }
}
