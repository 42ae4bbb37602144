//! `prometheus.exporter.unix`: node_exporter's Linux collectors.
//!
//! Build a [`Collectors`] once from a [`Config`] (regexes compiled, paths resolved, invalid settings refused), then
//! call [`gather`] per scrape. Metric names, label names, types and help texts are node_exporter's (upstream HEAD,
//! which Alloy's fork tracks); the collectors read `procfs_path`, `sysfs_path`, `rootfs_path` and
//! `udev_data_path` so tests run against fixture trees.
//!
//! Implemented: `cpu`, `diskstats`, `entropy`, `filefd`, `filesystem`, `loadavg`, `meminfo`, `netdev`, `netstat`,
//! `os`, `pressure`, `sockstat`, `stat`, `time`, `uname`, `vmstat`. node_exporter's other default-enabled Linux
//! collectors ([`DEFAULT_NOT_IMPLEMENTED`]) are simply absent from the default set; naming one in
//! `set_collectors` / `enable_collectors` is reported by [`names_unsupported`].

mod collectors;
mod util;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::expfmt::{MetricType, Sink};

/// The collectors this crate implements, sorted.
pub const IMPLEMENTED: &[&str] = &[
    "cpu",
    "diskstats",
    "entropy",
    "filefd",
    "filesystem",
    "loadavg",
    "meminfo",
    "netdev",
    "netstat",
    "os",
    "pressure",
    "sockstat",
    "stat",
    "time",
    "uname",
    "vmstat",
];

/// node_exporter's default-enabled Linux collectors (upstream HEAD registrations; `boottime` and `exec` are BSD-only).
pub const DEFAULT_ENABLED: &[&str] = &[
    "arp",
    "bcache",
    "bonding",
    "btrfs",
    "conntrack",
    "cpu",
    "cpufreq",
    "diskstats",
    "dmi",
    "edac",
    "entropy",
    "fibrechannel",
    "filefd",
    "filesystem",
    "hwmon",
    "infiniband",
    "ipvs",
    "loadavg",
    "mdadm",
    "meminfo",
    "netclass",
    "netdev",
    "netstat",
    "nfs",
    "nfsd",
    "nvme",
    "os",
    "powersupplyclass",
    "pressure",
    "rapl",
    "schedstat",
    "selinux",
    "sockstat",
    "softnet",
    "stat",
    "tapestats",
    "textfile",
    "thermal_zone",
    "time",
    "timex",
    "udp_queues",
    "uname",
    "vmstat",
    "watchdog",
    "xfs",
    "zfs",
];

/// Default-enabled collectors this crate does not implement: absent from the default set.
pub const DEFAULT_NOT_IMPLEMENTED: &[&str] = &[
    "arp",
    "bcache",
    "bonding",
    "btrfs",
    "conntrack",
    "cpufreq",
    "dmi",
    "edac",
    "fibrechannel",
    "hwmon",
    "infiniband",
    "ipvs",
    "mdadm",
    "netclass",
    "nfs",
    "nfsd",
    "nvme",
    "powersupplyclass",
    "rapl",
    "schedstat",
    "selinux",
    "softnet",
    "tapestats",
    "textfile",
    "thermal_zone",
    "timex",
    "udp_queues",
    "watchdog",
    "xfs",
    "zfs",
];

/// Alloy's Linux default for `filesystem.mount_points_exclude`.
pub const DEFAULT_MOUNT_POINTS_EXCLUDE: &str = "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+)($|/)";
/// Alloy's Linux default for `filesystem.fs_types_exclude`.
pub const DEFAULT_FS_TYPES_EXCLUDE: &str = "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$";
/// Alloy's default for `disk.device_exclude` (node_exporter's before it also excluded `zram`).
pub const DEFAULT_DISK_DEVICE_EXCLUDE: &str = "^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$";
/// Alloy's default for `netstat.fields` (upstream HEAD also has `TCPOFOQueue` and `TCPRcvQDrop`).
pub const DEFAULT_NETSTAT_FIELDS: &str = "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$";
/// Alloy's default for `vmstat.fields`.
pub const DEFAULT_VMSTAT_FIELDS: &str = "^(oom_kill|pgpg|pswp|pg.*fault).*";

/// The arguments of `prometheus.exporter.unix` the implemented collectors use. String settings follow Go's
/// convention: `""` means unset. [`Config::default`] holds Alloy's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Replaces the default set when non-empty.
    pub set_collectors: Vec<String>,
    pub enable_collectors: Vec<String>,
    pub disable_collectors: Vec<String>,
    /// Accepted for compatibility; the Go runtime/process metrics it adds upstream have no equivalent here.
    pub include_exporter_metrics: bool,
    pub procfs_path: String,
    pub sysfs_path: String,
    pub rootfs_path: String,
    pub udev_data_path: String,
    pub cpu: CpuConfig,
    pub disk: DiskConfig,
    pub filesystem: FilesystemConfig,
    pub netdev: NetdevConfig,
    pub netstat: NetstatConfig,
    pub vmstat: VmstatConfig,
}

/// Block `cpu`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CpuConfig {
    /// `node_cpu_guest_seconds_total` (Alloy defaults to off; node_exporter's flag defaults to on).
    pub guest: bool,
    /// `node_cpu_info`; implied by a non-empty `flags_include` / `bugs_include`, as upstream.
    pub info: bool,
    pub flags_include: String,
    pub bugs_include: String,
}

/// Block `disk` (the `diskstats` collector). A non-empty `device_include` makes `device_exclude` ignored.
#[derive(Clone, Debug, PartialEq)]
pub struct DiskConfig {
    pub device_include: String,
    pub device_exclude: String,
}

/// Block `filesystem`.
#[derive(Clone, Debug, PartialEq)]
pub struct FilesystemConfig {
    pub mount_points_exclude: String,
    pub fs_types_exclude: String,
    /// A `statfs` slower than this marks the mount point stuck (`device_error`) until it answers.
    pub mount_timeout: Duration,
}

/// Block `netdev`. Include and exclude are mutually exclusive.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetdevConfig {
    pub address_info: bool,
    pub device_include: String,
    pub device_exclude: String,
}

/// Block `netstat`.
#[derive(Clone, Debug, PartialEq)]
pub struct NetstatConfig {
    pub fields: String,
}

/// Block `vmstat`.
#[derive(Clone, Debug, PartialEq)]
pub struct VmstatConfig {
    pub fields: String,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            set_collectors: Vec::new(),
            enable_collectors: Vec::new(),
            disable_collectors: Vec::new(),
            include_exporter_metrics: false,
            procfs_path: "/proc".into(),
            sysfs_path: "/sys".into(),
            rootfs_path: "/".into(),
            udev_data_path: "/run/udev/data".into(),
            cpu: CpuConfig::default(),
            disk: DiskConfig { device_include: String::new(), device_exclude: DEFAULT_DISK_DEVICE_EXCLUDE.into() },
            filesystem: FilesystemConfig {
                mount_points_exclude: DEFAULT_MOUNT_POINTS_EXCLUDE.into(),
                fs_types_exclude: DEFAULT_FS_TYPES_EXCLUDE.into(),
                mount_timeout: Duration::from_secs(5),
            },
            netdev: NetdevConfig::default(),
            netstat: NetstatConfig { fields: DEFAULT_NETSTAT_FIELDS.into() },
            vmstat: VmstatConfig { fields: DEFAULT_VMSTAT_FIELDS.into() },
        }
    }
}

/// A setting [`Collectors::new`] refuses; `argument` is the Alloy argument path (`disk.device_exclude`).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The regex error is in the message, so it is not also a `source()` (chains print it twice).
    #[error("invalid regular expression in {argument}: {error}")]
    Regex { argument: &'static str, error: Box<regex::Error> },
    #[error("{first} and {second} are mutually exclusive")]
    MutuallyExclusive { first: &'static str, second: &'static str },
    #[error("{collector} collector: {message}")]
    Collector { collector: &'static str, message: String },
}

/// A collector that failed during a gather (it reported `node_scrape_collector_success 0`). `no_data` marks
/// node_exporter's `ErrNoData` (e.g. no PSI support), which it logs at debug level only.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("collector {collector} failed: {message}")]
pub struct CollectorError {
    pub collector: &'static str,
    pub message: String,
    pub no_data: bool,
}

/// The enabled collector names for `cfg`, following Alloy's rules: `set_collectors` (when non-empty) replaces
/// node_exporter's default set, then `disable_collectors` and finally `enable_collectors` apply (so a name in
/// both lists ends up enabled, as Alloy's code does). Names this crate does not implement are left out.
pub fn enabled_names(cfg: &Config) -> Vec<&'static str> {
    let mut on: Vec<&'static str> = if cfg.set_collectors.is_empty() {
        IMPLEMENTED.iter().copied().filter(|n| DEFAULT_ENABLED.contains(n)).collect()
    } else {
        IMPLEMENTED.iter().copied().filter(|n| cfg.set_collectors.iter().any(|s| s == n)).collect()
    };
    on.retain(|n| !cfg.disable_collectors.iter().any(|d| d == n));
    for e in &cfg.enable_collectors {
        if let Some(n) = IMPLEMENTED.iter().find(|n| **n == e) {
            if !on.contains(n) {
                on.push(n);
            }
        }
    }
    on.sort_unstable();
    on
}

/// Collectors named in `set_collectors` or `enable_collectors` that this crate does not implement (unknown names
/// included), sorted and deduplicated; the runtime refuses the component with them. A name that is also in
/// `disable_collectors` counts only if `enable_collectors` has it (enable wins, as in Alloy).
pub fn names_unsupported(cfg: &Config) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let set = cfg.set_collectors.iter().filter(|n| !cfg.disable_collectors.contains(n));
    for n in set.chain(cfg.enable_collectors.iter()) {
        if !IMPLEMENTED.contains(&n.as_str()) && !out.contains(n) {
            out.push(n.clone());
        }
    }
    out.sort();
    out
}

/// One collector: appends its families to the sink, or fails (what it appended before failing is kept, as
/// node_exporter exposes metrics sent before an error).
pub(crate) trait Collector: Send + Sync {
    fn update(&self, sink: &mut Sink) -> Result<(), util::CollectError>;
}

/// The enabled collectors, built once from a [`Config`] and gathered many times (concurrent gathers serialise).
pub struct Collectors {
    list: Vec<(&'static str, Box<dyn Collector>)>,
    sink: Mutex<Sink>,
}

impl std::fmt::Debug for Collectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collectors").field("enabled", &self.names()).finish()
    }
}

impl Collectors {
    /// Compiles the regexes and checks the settings of the enabled collectors only (a bad `disk.device_exclude`
    /// does not matter when `diskstats` is disabled, as in node_exporter).
    pub fn new(cfg: &Config) -> Result<Collectors, ConfigError> {
        let mut list: Vec<(&'static str, Box<dyn Collector>)> = Vec::new();
        for name in enabled_names(cfg) {
            list.push((name, collectors::build(name, cfg)?));
        }
        Ok(Collectors { list, sink: Mutex::new(Sink::new()) })
    }

    /// The enabled collector names, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        self.list.iter().map(|(n, _)| *n).collect()
    }

    /// Runs every collector and appends the exposition to `out`; returns the failures (nothing is logged here).
    pub fn gather_into(&self, out: &mut String) -> Vec<CollectorError> {
        let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        sink.clear();
        let mut errors = Vec::new();
        for (name, c) in &self.list {
            let start = Instant::now();
            let res = c.update(&mut sink);
            let secs = start.elapsed().as_secs_f64();
            let ok = match res {
                Ok(()) => 1.0,
                Err(e) => {
                    errors.push(CollectorError { collector: name, no_data: e.no_data, message: e.message });
                    0.0
                }
            };
            sink.sample(
                "node_scrape_collector_duration_seconds",
                "node_exporter: Duration of a collector scrape.",
                MetricType::Gauge,
                &["collector"],
                &[name],
                secs,
            );
            sink.sample("node_scrape_collector_success", "node_exporter: Whether a collector succeeded.", MetricType::Gauge, &["collector"], &[name], ok);
        }
        sink.render(out);
        errors
    }
}

/// One scrape: the text exposition (format 0.0.4) of every enabled collector plus
/// `node_scrape_collector_{duration_seconds,success}`. Failures only show as `success 0`; use
/// [`gather_with_errors`] to log them.
pub fn gather(collectors: &Collectors) -> String {
    gather_with_errors(collectors).0
}

/// As [`gather`], also returning the collectors' errors for the caller to log.
pub fn gather_with_errors(collectors: &Collectors) -> (String, Vec<CollectorError>) {
    let mut out = String::with_capacity(64 * 1024);
    let errors = collectors.gather_into(&mut out);
    (out, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_set_is_defaults_we_implement() {
        let on = enabled_names(&Config::default());
        assert_eq!(on, IMPLEMENTED);
        for n in DEFAULT_ENABLED {
            assert!(IMPLEMENTED.contains(n) != DEFAULT_NOT_IMPLEMENTED.contains(n), "{n}");
        }
    }

    #[test]
    fn set_enable_disable() {
        let cfg = Config {
            set_collectors: names(&["cpu", "meminfo", "arp"]),
            disable_collectors: names(&["meminfo", "uname"]),
            enable_collectors: names(&["uname", "wifi", "uname"]),
            ..Config::default()
        };
        assert_eq!(enabled_names(&cfg), ["cpu", "uname"]);
        assert_eq!(names_unsupported(&cfg), ["arp", "wifi"]);
        let cfg = Config { set_collectors: names(&["arp"]), disable_collectors: names(&["arp"]), ..Config::default() };
        assert!(names_unsupported(&cfg).is_empty());
        assert!(enabled_names(&cfg).is_empty());
    }

    #[test]
    fn collectors_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Collectors>();
    }

    #[test]
    fn bad_regex_names_the_argument() {
        let mut cfg = Config { set_collectors: names(&["diskstats"]), ..Config::default() };
        cfg.disk.device_exclude = "(".into();
        let err = Collectors::new(&cfg).unwrap_err();
        assert!(err.to_string().starts_with("invalid regular expression in disk.device_exclude"), "{err}");
        // Ignored when the collector is disabled.
        cfg.set_collectors = names(&["loadavg"]);
        assert!(Collectors::new(&cfg).is_ok());
        let mut cfg = Config { set_collectors: names(&["netdev"]), ..Config::default() };
        cfg.netdev.device_include = "eth".into();
        cfg.netdev.device_exclude = "lo".into();
        assert_eq!(Collectors::new(&cfg).unwrap_err().to_string(), "netdev.device_include and netdev.device_exclude are mutually exclusive");
    }
}
