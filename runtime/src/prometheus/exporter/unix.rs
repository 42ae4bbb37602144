//! `prometheus.exporter.unix`: node_exporter's Linux collectors (the `exporters` crate) as a
//! scrape target served inside this process.

use std::sync::Arc;

use eval::{Object, Value};
use exporters::unix::{self as node, Collectors, Config};

use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, Component, ComponentError, Context, Reader, Registration};

const NAME: &str = "prometheus.exporter.unix";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["targets"], build);

/// Blocks of collectors this runtime does not have: refused by name when written.
const UNSUPPORTED_BLOCKS: &[&str] = &[
    "arp",
    "bcache",
    "ethtool",
    "hwmon",
    "ipvs",
    "ntp",
    "netclass",
    "perf",
    "powersupply",
    "runit",
    "supervisord",
    "sysctl",
    "systemd",
    "tapestats",
    "textfile",
];

#[derive(Default)]
pub struct Args(pub Config);

fn text(r: &mut Reader<'_>, name: &'static str, default: &str) -> String {
    r.computed::<String>(name).filter(|s| !s.is_empty()).unwrap_or_else(|| default.to_string())
}

struct Cpu(node::CpuConfig);
impl Default for Cpu {
    fn default() -> Self {
        Cpu(Config::default().cpu)
    }
}
impl Arguments for Cpu {
    fn decode(r: &mut Reader<'_>) -> Self {
        Cpu(node::CpuConfig { guest: r.get("guest"), info: r.get("info"), flags_include: r.get("flags_include"), bugs_include: r.get("bugs_include") })
    }
}

struct Disk(node::DiskConfig);
impl Default for Disk {
    fn default() -> Self {
        Disk(Config::default().disk)
    }
}
impl Arguments for Disk {
    fn decode(r: &mut Reader<'_>) -> Self {
        Disk(node::DiskConfig { device_include: r.get("device_include"), device_exclude: r.get("device_exclude") })
    }
}

struct Filesystem(node::FilesystemConfig);
impl Default for Filesystem {
    fn default() -> Self {
        Filesystem(Config::default().filesystem)
    }
}
impl Arguments for Filesystem {
    fn decode(r: &mut Reader<'_>) -> Self {
        Filesystem(node::FilesystemConfig {
            mount_points_exclude: text(r, "mount_points_exclude", node::DEFAULT_MOUNT_POINTS_EXCLUDE),
            fs_types_exclude: text(r, "fs_types_exclude", node::DEFAULT_FS_TYPES_EXCLUDE),
            mount_timeout: r.get::<Dur>("mount_timeout").0,
        })
    }
}

struct Netdev(node::NetdevConfig);
impl Default for Netdev {
    fn default() -> Self {
        Netdev(Config::default().netdev)
    }
}
impl Arguments for Netdev {
    fn decode(r: &mut Reader<'_>) -> Self {
        Netdev(node::NetdevConfig { address_info: r.get("address_info"), device_include: r.get("device_include"), device_exclude: r.get("device_exclude") })
    }
}

struct Netstat(node::NetstatConfig);
impl Default for Netstat {
    fn default() -> Self {
        Netstat(Config::default().netstat)
    }
}
impl Arguments for Netstat {
    fn decode(r: &mut Reader<'_>) -> Self {
        Netstat(node::NetstatConfig { fields: text(r, "fields", node::DEFAULT_NETSTAT_FIELDS) })
    }
}

struct Vmstat(node::VmstatConfig);
impl Default for Vmstat {
    fn default() -> Self {
        Vmstat(Config::default().vmstat)
    }
}
impl Arguments for Vmstat {
    fn decode(r: &mut Reader<'_>) -> Self {
        Vmstat(node::VmstatConfig { fields: r.get("fields") })
    }
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(UNSUPPORTED_BLOCKS);
        let d = Config::default();
        let c = Config {
            set_collectors: r.get("set_collectors"),
            enable_collectors: r.get("enable_collectors"),
            disable_collectors: r.get("disable_collectors"),
            include_exporter_metrics: r.get("include_exporter_metrics"),
            procfs_path: r.get("procfs_path"),
            sysfs_path: r.get("sysfs_path"),
            rootfs_path: r.get("rootfs_path"),
            udev_data_path: r.get("udev_data_path"),
            cpu: r.block::<Cpu>("cpu").map_or(d.cpu, |b| b.0),
            disk: r.block::<Disk>("disk").map_or(d.disk, |b| b.0),
            filesystem: r.block::<Filesystem>("filesystem").map_or(d.filesystem, |b| b.0),
            netdev: r.block::<Netdev>("netdev").map_or(d.netdev, |b| b.0),
            netstat: r.block::<Netstat>("netstat").map_or(d.netstat, |b| b.0),
            vmstat: r.block::<Vmstat>("vmstat").map_or(d.vmstat, |b| b.0),
        };
        Args(c)
    }

    fn validate(&self, r: &mut Reader<'_>) {
        let missing = node::names_unsupported(&self.0);
        if !missing.is_empty() {
            let field = if r.is_set("set_collectors") { "set_collectors" } else { "enable_collectors" };
            r.error(field, format!("collectors not supported by this runtime yet: {}", missing.join(", ")));
        }
        if let Err(e) = Collectors::new(&self.0) {
            r.error("", e.to_string());
        }
    }
}

struct Unix {
    collectors: Arc<std::sync::Mutex<Arc<Collectors>>>,
    _served: super::Registered,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    let collectors = Arc::new(std::sync::Mutex::new(Arc::new(Collectors::new(&args.0).map_err(|e| ComponentError(e.to_string()))?)));
    let current = collectors.clone();
    let id = ctx.id().to_string();
    let served = super::register(
        ctx.id(),
        Arc::new(move |_: &[(String, String)]| {
            let collectors = current.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let (text, errors) = node::gather_with_errors(&collectors);
            for e in errors {
                crate::prometheus::log(&id, tracing::Level::DEBUG, &format!("collector {} failed: {}", e.collector, e.message));
            }
            ("text/plain; version=0.0.4; charset=utf-8".to_string(), text.into_bytes())
        }),
    );
    let mut exports = Object::new();
    exports.insert("targets", super::target(&ctx, "unix", &super::host_instance()));
    ctx.set_exports(Value::object(exports));
    Ok(Arc::new(Unix { collectors, _served: served }))
}

impl Component for Unix {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        let c = Collectors::new(&args.0).map_err(|e| ComponentError(e.to_string()))?;
        *self.collectors.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(c);
        Ok(())
    }
}
