//! Process resource metrics read from `/proc/self` at scrape time (Linux; elsewhere the
//! families are absent): `process_*` as Prometheus' standard collector names them, and
//! upstream's `alloy_resources_process_*`.

use crate::metrics::{Kind, Registry, Snapshot};

struct Usage {
    cpu_seconds: f64,
    resident_bytes: f64,
    virtual_bytes: f64,
    start_time_seconds: f64,
    open_fds: f64,
    max_fds: Option<f64>,
}

/// USER_HZ is 100 on every Linux platform Rust supports.
const TICKS: f64 = 100.0;
const PAGE: f64 = 4096.0;

/// The numeric fields of a `stat` line after the command name (which is in parentheses and
/// may contain spaces or parentheses): index = field number from proc(5) minus 3.
fn parse_stat(stat: &str) -> Option<Vec<f64>> {
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    Some(rest.split_whitespace().map(|s| s.parse::<f64>().unwrap_or(f64::NAN)).collect())
}

fn stat_fields() -> Option<Vec<f64>> {
    parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// User plus system CPU time, in seconds, of a `stat` line (`/proc/PID/stat` or a thread's
/// `/proc/PID/task/TID/stat`).
pub fn stat_cpu_seconds(stat: &str) -> Option<f64> {
    let f = parse_stat(stat)?;
    Some((f.get(11)? + f.get(12)?) / TICKS)
}

/// User plus system CPU time of this process, in seconds.
pub fn cpu_seconds() -> Option<f64> {
    stat_cpu_seconds(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// Resident memory of this process, in bytes.
pub fn resident_bytes() -> Option<u64> {
    Some((stat_fields()?.get(21)? * PAGE) as u64)
}

fn read_usage() -> Option<Usage> {
    let f = stat_fields()?;
    let num = |i: usize| f.get(i).copied().filter(|v| !v.is_nan());
    let (ticks, page) = (TICKS, PAGE);
    let utime = num(11)?;
    let stime = num(12)?;
    let starttime = num(19)?;
    let vsize = num(20)?;
    let rss_pages = num(21)?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime").ok()?.split_whitespace().next()?.parse().ok()?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64();
    let boot = now - uptime;
    let open_fds = std::fs::read_dir("/proc/self/fd").map(|d| d.count() as f64).unwrap_or(0.0);
    let max_fds = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| l.lines().find(|x| x.starts_with("Max open files")).and_then(|x| x.split_whitespace().nth(3)).and_then(|v| v.parse().ok()));
    Some(Usage {
        cpu_seconds: (utime + stime) / ticks,
        resident_bytes: rss_pages * page,
        virtual_bytes: vsize,
        start_time_seconds: boot + starttime / ticks,
        open_fds,
        max_fds,
    })
}

/// Registers the collector.
pub fn register(registry: &Registry) {
    registry.register_collector(|| {
        let Some(u) = read_usage() else { return Vec::new() };
        let g = |name: &str, help: &str, v: f64| Snapshot::new(name, help, Kind::Gauge).sample(&[], v);
        let c = |name: &str, help: &str, v: f64| Snapshot::new(name, help, Kind::Counter).sample(&[], v);
        let mut out = vec![
            c("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", u.cpu_seconds),
            g("process_resident_memory_bytes", "Resident memory size in bytes.", u.resident_bytes),
            g("process_virtual_memory_bytes", "Virtual memory size in bytes.", u.virtual_bytes),
            g("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", u.start_time_seconds),
            g("process_open_fds", "Number of open file descriptors.", u.open_fds),
            c("alloy_resources_process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", u.cpu_seconds),
            g("alloy_resources_process_resident_memory_bytes", "Current resident memory size in bytes.", u.resident_bytes),
            g("alloy_resources_process_virtual_memory_bytes", "Current virtual memory size in bytes.", u.virtual_bytes),
            g("alloy_resources_process_start_time_seconds", "Start time of the process since unix epoch in seconds.", u.start_time_seconds),
        ];
        if let Some(m) = u.max_fds {
            out.push(g("process_max_fds", "Maximum number of open file descriptors.", m));
        }
        out
    });
}

/// `alloy_build_info{version,revision,branch,goversion,goos,goarch,tags}` = 1.
pub fn register_build_info(registry: &Registry, version: &str) {
    let labels: Vec<(String, String)> = [
        ("branch", ""),
        ("goarch", std::env::consts::ARCH),
        ("goos", std::env::consts::OS),
        ("goversion", "rust"),
        ("revision", ""),
        ("tags", ""),
        ("version", version),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    registry.gauge("alloy_build_info", "A metric with a constant '1' value labeled by version, revision, branch, goversion from which alloy was built, and the goos and goarch for the build.", &labels).set(1.0);
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn reads_this_process() {
        let u = super::read_usage().expect("reads /proc/self");
        assert!(u.resident_bytes > 0.0);
        assert!(u.open_fds > 0.0);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        assert!(u.start_time_seconds <= now + 1.0 && u.start_time_seconds > now - 86_400.0 * 365.0);
        assert!(super::resident_bytes().is_some_and(|b| b > 0));
        assert!(super::cpu_seconds().is_some_and(|s| s >= 0.0));
    }
}
