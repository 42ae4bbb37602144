//! `uname`: `node_uname_info`, labelled with the uname(2) strings.

use super::sys::{self, Uname};
use crate::expfmt::{MetricType, Sink};
use crate::unix::util::{CollectError, Result};
use crate::unix::Collector;

pub(crate) struct UnameCollector;

const LABELS: &[&str] = &["sysname", "release", "version", "machine", "nodename", "domainname"];

/// Separate from the syscall so tests can feed fixed strings.
pub(crate) fn emit(sink: &mut Sink, u: &Uname) {
    sink.sample(
        "node_uname_info",
        "Labeled system information as provided by the uname system call.",
        MetricType::Gauge,
        LABELS,
        &[&u.sysname, &u.release, &u.version, &u.machine, &u.nodename, &u.domainname],
        1.0,
    );
}

impl Collector for UnameCollector {
    fn update(&self, sink: &mut Sink) -> Result<()> {
        let u = sys::uname().map_err(|e| CollectError::new(format!("uname: {e}")))?;
        emit(sink, &u);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot() {
        let u = Uname {
            sysname: "Linux".into(),
            release: "6.1.0-test".into(),
            version: "#1 SMP PREEMPT_DYNAMIC \"quoted\"".into(),
            machine: "x86_64".into(),
            nodename: "host".into(),
            domainname: "(none)".into(),
        };
        let mut sink = Sink::new();
        emit(&mut sink, &u);
        let mut out = String::new();
        sink.render(&mut out);
        insta::assert_snapshot!(out);
    }
}
