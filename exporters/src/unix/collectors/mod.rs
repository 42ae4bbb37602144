//! One module per node_exporter collector.

mod cpu;
mod diskstats;
mod entropy;
mod filefd;
mod filesystem;
mod loadavg;
mod meminfo;
mod netdev;
mod netstat;
mod os;
mod pressure;
mod sockstat;
mod stat;
mod sys;
mod time;
mod uname;
mod vmstat;

use super::{Collector, Config, ConfigError};

/// The collector `name` (one of [`super::IMPLEMENTED`]) built from `cfg`.
pub(crate) fn build(name: &'static str, cfg: &Config) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(match name {
        "cpu" => Box::new(cpu::Cpu::new(cfg)?),
        "diskstats" => Box::new(diskstats::Diskstats::new(cfg)?),
        "entropy" => Box::new(entropy::Entropy::new(cfg)),
        "filefd" => Box::new(filefd::Filefd::new(cfg)),
        "filesystem" => Box::new(filesystem::Filesystem::new(cfg)?),
        "loadavg" => Box::new(loadavg::Loadavg::new(cfg)),
        "meminfo" => Box::new(meminfo::Meminfo::new(cfg)),
        "netdev" => Box::new(netdev::Netdev::new(cfg)?),
        "netstat" => Box::new(netstat::Netstat::new(cfg)?),
        "os" => Box::new(os::OsRelease::new(cfg)),
        "pressure" => Box::new(pressure::Pressure::new(cfg)),
        "sockstat" => Box::new(sockstat::Sockstat::new(cfg)),
        "stat" => Box::new(stat::Stat::new(cfg)),
        "time" => Box::new(time::Time::new(cfg)),
        "uname" => Box::new(uname::UnameCollector),
        "vmstat" => Box::new(vmstat::Vmstat::new(cfg)?),
        _ => return Err(ConfigError::Collector { collector: name, message: "not implemented".into() }),
    })
}
