//! `cpu`: per-CPU time per mode from /proc/stat (clamped so counters never go backwards), optional guest time and
//! /proc/cpuinfo details, thermal throttle counts, isolated and online CPUs from sysfs.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::sync::Mutex;

use regex::Regex;

use crate::expfmt::{MetricType, Sink};
use crate::unix::util::{compile, read, read_trimmed, read_u64, Result};
use crate::unix::{Collector, Config, ConfigError};

/// USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture.
const USER_HZ: f64 = 100.0;
/// An idle counter dropping by this many seconds means a CPU went offline and came back: start over.
const JUMP_BACK_SECONDS: f64 = 3.0;

/// user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice — in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct CpuTimes([f64; 10]);

const MODES: [&str; 8] = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"];
const IDLE: usize = 3;

pub(crate) struct Cpu {
    stat: PathBuf,
    cpuinfo: PathBuf,
    cpu_dir: PathBuf,
    guest: bool,
    info: bool,
    flags_include: Option<Regex>,
    bugs_include: Option<Regex>,
    /// Read once at construction, as upstream (`None`: no isolated file).
    isolated: Option<Vec<u32>>,
    /// Last exported times per CPU number, for the never-backwards clamp.
    last: Mutex<BTreeMap<u32, CpuTimes>>,
}

/// A CPU list such as `0-3,8,10-11`.
fn parse_cpu_range(s: &str) -> std::result::Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let a: u32 = a.parse().map_err(|e| format!("invalid cpu start range: {e}"))?;
                let b: u32 = b.parse().map_err(|e| format!("invalid cpu end range: {e}"))?;
                out.extend(a..=b);
            }
            None => out.push(part.parse().map_err(|e| format!("invalid cpu {part:?}: {e}"))?),
        }
    }
    Ok(out)
}

impl Cpu {
    pub fn new(cfg: &Config) -> std::result::Result<Cpu, ConfigError> {
        let proc = PathBuf::from(&cfg.procfs_path);
        let cpu_dir = PathBuf::from(&cfg.sysfs_path).join("devices/system/cpu");
        let flags_include = compile("cpu.flags_include", &cfg.cpu.flags_include)?;
        let bugs_include = compile("cpu.bugs_include", &cfg.cpu.bugs_include)?;
        let isolated = match std::fs::read_to_string(cpu_dir.join("isolated")) {
            Ok(s) => Some(parse_cpu_range(&s).map_err(|e| ConfigError::Collector { collector: "cpu", message: format!("unable to get isolated cpus: {e}") })?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(ConfigError::Collector { collector: "cpu", message: format!("unable to get isolated cpus: {e}") }),
        };
        Ok(Cpu {
            stat: proc.join("stat"),
            cpuinfo: proc.join("cpuinfo"),
            cpu_dir,
            guest: cfg.cpu.guest,
            // Setting an include filter turns info on, as upstream.
            info: cfg.cpu.info || flags_include.is_some() || bugs_include.is_some(),
            flags_include,
            bugs_include,
            isolated,
            last: Mutex::new(BTreeMap::new()),
        })
    }

    fn update_info(&self, sink: &mut Sink) -> Result<()> {
        let text = read(&self.cpuinfo)?;
        let info = sink.family(
            "node_cpu_info",
            "CPU information from /proc/cpuinfo.",
            MetricType::Gauge,
            &["package", "core", "cpu", "vendor", "family", "model", "model_name", "microcode", "stepping", "cachesize"],
        );
        let mut first: Option<(String, String)> = None;
        for block in text.split("\n\n") {
            let mut f: BTreeMap<&str, &str> = BTreeMap::new();
            for line in block.lines() {
                if let Some((k, v)) = line.split_once(':') {
                    f.entry(k.trim()).or_insert(v.trim());
                }
            }
            let Some(processor) = f.get("processor").and_then(|p| p.parse::<u32>().ok()) else { continue };
            let g = |k: &str| f.get(k).copied().unwrap_or("");
            let cpu = processor.to_string();
            let values = [
                g("physical id"),
                g("core id"),
                &cpu,
                g("vendor_id"),
                g("cpu family"),
                g("model"),
                g("model name"),
                g("microcode"),
                g("stepping"),
                g("cache size"),
            ];
            sink.add(info, &values, 1.0);
            if first.is_none() {
                let flags = if f.contains_key("flags") { g("flags") } else { g("Features") };
                first = Some((flags.to_string(), g("bugs").to_string()));
            }
        }
        // Flags and bugs of the first CPU only, filtered (nothing without a filter).
        if let Some((flags, bugs)) = first {
            for (list, filter, name, help, label) in [
                (
                    &flags,
                    &self.flags_include,
                    "node_cpu_flag_info",
                    "The `flags` field of CPU information from /proc/cpuinfo taken from the first core.",
                    &["flag"],
                ),
                (&bugs, &self.bugs_include, "node_cpu_bug_info", "The `bugs` field of CPU information from /proc/cpuinfo taken from the first core.", &["bug"]),
            ] {
                let Some(re) = filter else { continue };
                let id = sink.family(name, help, MetricType::Gauge, label);
                for item in list.split_whitespace().filter(|i| re.is_match(i)) {
                    sink.add(id, &[item], 1.0);
                }
            }
        }
        Ok(())
    }

    fn update_stat(&self, sink: &mut Sink) -> Result<()> {
        let text = read(&self.stat)?;
        let mut fresh: BTreeMap<u32, CpuTimes> = BTreeMap::new();
        for line in text.lines() {
            let mut parts = line.split_whitespace();
            let Some(n) = parts.next().and_then(|k| k.strip_prefix("cpu")).and_then(|n| n.parse::<u32>().ok()) else { continue };
            let mut t = CpuTimes::default();
            let mut ok = true;
            for (slot, p) in t.0.iter_mut().zip(parts) {
                match p.parse::<f64>() {
                    Ok(v) => *slot = v / USER_HZ,
                    Err(_) => ok = false,
                }
            }
            if ok {
                fresh.insert(n, t);
            }
        }
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        for (n, new) in &fresh {
            let mut cur = last.get(n).copied().unwrap_or_default();
            if cur.0[IDLE] - new.0[IDLE] >= JUMP_BACK_SECONDS {
                cur = CpuTimes::default();
            }
            for (c, v) in cur.0.iter_mut().zip(new.0) {
                if v >= *c {
                    *c = v;
                }
            }
            last.insert(*n, cur);
        }
        // CPUs gone offline disappear.
        last.retain(|n, _| fresh.contains_key(n));
        let secs = sink.family("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", MetricType::Counter, &["cpu", "mode"]);
        let guest = self.guest.then(|| {
            sink.family("node_cpu_guest_seconds_total", "Seconds the CPUs spent in guests (VMs) for each mode.", MetricType::Counter, &["cpu", "mode"])
        });
        let mut label = String::new();
        for (n, t) in last.iter() {
            label.clear();
            label.push_str(&n.to_string());
            for (i, mode) in MODES.iter().enumerate() {
                sink.add(secs, &[&label, mode], t.0[i]);
            }
            if let Some(g) = guest {
                // Guest time is also counted in user and nice.
                sink.add(g, &[&label, "user"], t.0[8]);
                sink.add(g, &[&label, "nice"], t.0[9]);
            }
        }
        Ok(())
    }

    /// `cpu[0-9]*` directories under devices/system/cpu, sorted by name as Go's Glob returns them.
    fn cpu_dirs(&self) -> Vec<(String, PathBuf)> {
        let Ok(rd) = std::fs::read_dir(&self.cpu_dir) else { return Vec::new() };
        let mut v: Vec<(String, PathBuf)> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let num = name.strip_prefix("cpu")?;
                num.starts_with(|c: char| c.is_ascii_digit()).then(|| (num.to_string(), e.path()))
            })
            .collect();
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v
    }

    fn update_throttle(&self, sink: &mut Sink, cpus: &[(String, PathBuf)]) {
        let mut package: BTreeMap<u64, u64> = BTreeMap::new();
        let mut core: BTreeMap<(u64, u64), u64> = BTreeMap::new();
        for (_, dir) in cpus {
            let topo = |f: &str| read_u64(&dir.join("topology").join(f));
            let (Ok(pkg), Ok(core_id)) = (topo("physical_package_id"), topo("core_id")) else { continue };
            let tt = |f: &str| read_u64(&dir.join("thermal_throttle").join(f)).ok();
            // Read once per core and per package (a sibling retries a failed read); some CPUs only have core counts.
            if let Entry::Vacant(e) = core.entry((pkg, core_id)) {
                if let Some(c) = tt("core_throttle_count") {
                    e.insert(c);
                }
            }
            if let Entry::Vacant(e) = package.entry(pkg) {
                if let Some(c) = tt("package_throttle_count") {
                    e.insert(c);
                }
            }
        }
        let p = sink.family("node_cpu_package_throttles_total", "Number of times this CPU package has been throttled.", MetricType::Counter, &["package"]);
        for (pkg, count) in &package {
            sink.add(p, &[&pkg.to_string()], *count as f64);
        }
        let c = sink.family("node_cpu_core_throttles_total", "Number of times this CPU core has been throttled.", MetricType::Counter, &["package", "core"]);
        for ((pkg, core_id), count) in &core {
            sink.add(c, &[&pkg.to_string(), &core_id.to_string()], *count as f64);
        }
    }

    fn update_online(&self, sink: &mut Sink, cpus: &[(String, PathBuf)]) {
        // No `online` file on cpu0 (the usual case: cpu0 cannot be unplugged) means no online metric at all.
        let Some((_, first)) = cpus.first() else { return };
        if matches!(read_trimmed(&first.join("online")), Err(e) if e.kind() == io::ErrorKind::NotFound) {
            return;
        }
        let id = sink.family("node_cpu_online", "CPUs that are online and being scheduled.", MetricType::Gauge, &["cpu"]);
        for (num, dir) in cpus {
            let online = read_trimmed(&dir.join("online")).is_ok_and(|s| s == "1");
            sink.add(id, &[num], if online { 1.0 } else { 0.0 });
        }
    }
}

impl Collector for Cpu {
    fn update(&self, sink: &mut Sink) -> Result<()> {
        if self.info {
            self.update_info(sink)?;
        }
        self.update_stat(sink)?;
        if let Some(iso) = &self.isolated {
            let id = sink.family(
                "node_cpu_isolated",
                "Whether each core is isolated, information from /sys/devices/system/cpu/isolated.",
                MetricType::Gauge,
                &["cpu"],
            );
            for n in iso {
                sink.add(id, &[&n.to_string()], 1.0);
            }
        }
        let cpus = self.cpu_dirs();
        self.update_throttle(sink, &cpus);
        self.update_online(sink, &cpus);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ranges() {
        assert_eq!(parse_cpu_range("0-2,5\n").unwrap(), [0, 1, 2, 5]);
        assert_eq!(parse_cpu_range("\n").unwrap(), Vec::<u32>::new());
        assert!(parse_cpu_range("a-b").is_err());
    }

    #[test]
    fn counters_never_go_backwards_and_reset_on_hotplug() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("devices/system/cpu")).unwrap();
        let cfg = Config { procfs_path: dir.path().display().to_string(), sysfs_path: dir.path().display().to_string(), ..Config::default() };
        let c = Cpu::new(&cfg).unwrap();
        let run = |stat: &str| {
            std::fs::write(dir.path().join("stat"), stat).unwrap();
            let mut s = Sink::new();
            c.update(&mut s).unwrap();
            let mut out = String::new();
            s.render(&mut out);
            out.lines().filter(|l| l.contains("mode=\"user\"") || l.contains("mode=\"idle\"")).map(str::to_string).collect::<Vec<_>>()
        };
        run("cpu0 1000 0 0 50000 0 0 0 0 0 0\n");
        // user dropped slightly: keep the old value; idle dropped by 1 s (< 3 s): keep too.
        let out = run("cpu0 900 0 0 49900 0 0 0 0 0 0\n");
        assert_eq!(out, ["node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 500", "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 10"]);
        // idle dropped by 400 s: hotplug, start over.
        let out = run("cpu0 5 0 0 10000 0 0 0 0 0 0\n");
        assert_eq!(out, ["node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 100", "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 0.05"]);
    }
}
