//! `vmstat`: the /proc/vmstat counters whose names match `vmstat.fields`, untyped as upstream.

use std::path::PathBuf;

use regex::Regex;

use crate::expfmt::{MetricType, Sink};
use crate::unix::util::{compile, push_sanitized, read, Result};
use crate::unix::{Collector, Config, ConfigError};

pub(crate) struct Vmstat {
    path: PathBuf,
    fields: Option<Regex>,
}

impl Vmstat {
    pub fn new(cfg: &Config) -> std::result::Result<Vmstat, ConfigError> {
        Ok(Vmstat { path: PathBuf::from(&cfg.procfs_path).join("vmstat"), fields: compile("vmstat.fields", &cfg.vmstat.fields)? })
    }
}

impl Collector for Vmstat {
    fn update(&self, sink: &mut Sink) -> Result<()> {
        let text = read(&self.path)?;
        let mut name = String::new();
        for line in text.lines() {
            let mut parts = line.split_whitespace();
            let (Some(key), Some(val)) = (parts.next(), parts.next()) else { continue };
            // An empty pattern matches everything, as Go's regexp.MustCompile("") does.
            if self.fields.as_ref().is_some_and(|r| !r.is_match(key)) {
                continue;
            }
            let Ok(v) = val.parse::<f64>() else { continue };
            name.clear();
            name.push_str("node_vmstat_");
            push_sanitized(&mut name, key);
            let id = sink.family_with(&name, MetricType::Untyped, &[], |h| {
                h.push_str("/proc/vmstat information field ");
                h.push_str(key);
                h.push('.');
            });
            sink.add(id, &[], v);
        }
        Ok(())
    }
}
