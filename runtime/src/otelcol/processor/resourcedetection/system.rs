//! The `system` detector: facts about the host read from the local system.

use crate::component::{Arguments, Reader};

/// A `resource_attributes` entry: whether the attribute is reported.
#[derive(Default)]
struct Toggle(Option<bool>);

impl Arguments for Toggle {
    fn decode(r: &mut Reader<'_>) -> Self {
        Toggle(r.computed("enabled"))
    }
}

/// An attribute this runtime cannot report: refused when enabled.
#[derive(Default)]
struct NotImplemented;

impl Arguments for NotImplemented {
    fn decode(r: &mut Reader<'_>) -> Self {
        if r.computed::<bool>("enabled") == Some(true) {
            r.error("enabled", "this resource attribute is not supported by this runtime yet");
        }
        NotImplemented
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attributes {
    pub host_name: bool,
    pub os_type: bool,
    pub host_arch: bool,
    pub host_id: bool,
}

impl Arguments for Attributes {
    fn decode(r: &mut Reader<'_>) -> Self {
        // Upstream reports host.name and os.type unless told otherwise.
        let mut on = |name: &'static str, default: bool| r.block::<Toggle>(name).and_then(|t| t.0).unwrap_or(default);
        let a = Attributes { host_name: on("host.name", true), os_type: on("os.type", true), host_arch: on("host.arch", false), host_id: on("host.id", false) };
        for name in [
            "host.cpu.cache.l2.size",
            "host.cpu.family",
            "host.cpu.model.id",
            "host.cpu.model.name",
            "host.cpu.stepping",
            "host.cpu.vendor.id",
            "host.interface",
            "host.ip",
            "host.mac",
            "os.build.id",
            "os.description",
            "os.name",
            "os.version",
        ] {
            let _ = r.block::<NotImplemented>(name);
        }
        a
    }
}

/// The `system` block.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SystemConfig {
    hostname_sources: Vec<String>,
    attributes: Attributes,
}

impl Arguments for SystemConfig {
    fn decode(r: &mut Reader<'_>) -> Self {
        let hostname_sources: Vec<String> = r.get("hostname_sources");
        for s in &hostname_sources {
            match s.as_str() {
                "dns" | "os" => {}
                "cname" | "lookup" => {
                    r.error("hostname_sources", format!("hostname source {} is not supported by this runtime yet", syntax::quote::go_quote(s)))
                }
                other => r.error("hostname_sources", format!("invalid hostname source {}", syntax::quote::go_quote(other))),
            }
        }
        SystemConfig { hostname_sources, attributes: r.block_or_default("resource_attributes") }
    }
}

fn os_hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The fully qualified name `/etc/hosts` gives the host: the first name of the line that
/// lists it.
pub fn fqdn_from_hosts(hosts: &str, host: &str) -> Option<String> {
    hosts.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or("");
        let names: Vec<&str> = line.split_whitespace().skip(1).collect();
        names.contains(&host).then(|| names[0].to_string())
    })
}

/// `os.type` as upstream names it (Go's `GOOS`).
pub fn os_type() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

/// `host.arch` in the semantic conventions' words.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "x86",
        "arm" => "arm32",
        "powerpc64" => "ppc64",
        other => other,
    }
}

impl SystemConfig {
    /// The host name from the first source that gives one.
    fn host_name(&self) -> Result<String, String> {
        for source in &self.hostname_sources {
            let found = match source.as_str() {
                "os" => os_hostname(),
                "dns" => os_hostname().and_then(|h| fqdn_from_hosts(&std::fs::read_to_string("/etc/hosts").unwrap_or_default(), &h)),
                _ => None,
            };
            if let Some(name) = found {
                return Ok(name);
            }
        }
        Err(format!("failed getting host name from sources {:?}", self.hostname_sources))
    }

    pub fn detect(&self) -> Result<Vec<(String, String)>, String> {
        let a = &self.attributes;
        let mut out = Vec::new();
        if a.host_name {
            out.push(("host.name".to_string(), self.host_name()?));
        }
        if a.host_id {
            let id = ["/etc/machine-id", "/var/lib/dbus/machine-id"].iter().find_map(|p| std::fs::read_to_string(p).ok()).map(|s| s.trim().to_string());
            if let Some(id) = id.filter(|s| !s.is_empty()) {
                out.push(("host.id".to_string(), id));
            }
        }
        if a.os_type {
            out.push(("os.type".to_string(), os_type().to_string()));
        }
        if a.host_arch {
            out.push(("host.arch".to_string(), host_arch().to_string()));
        }
        Ok(out)
    }
}
