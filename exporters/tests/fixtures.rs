//! Each collector against the hand-written /proc, /sys, udev and rootfs trees under `tests/fixtures`, snapshotted.
//! Values that depend on the machine running the test (scrape durations, the clock, statfs of the fixture
//! directory) are masked as `<masked>`.

use exporters::unix::{gather_with_errors, Collectors, Config};

fn fixture(sub: &str) -> String {
    format!("{}/tests/fixtures/{sub}", env!("CARGO_MANIFEST_DIR"))
}

fn config(collectors: &[&str]) -> Config {
    Config {
        set_collectors: collectors.iter().map(|s| s.to_string()).collect(),
        procfs_path: fixture("proc"),
        sysfs_path: fixture("sys"),
        rootfs_path: fixture("rootfs"),
        udev_data_path: fixture("udev"),
        ..Config::default()
    }
}

/// Replaces the value of every sample of the named families.
fn mask(text: &str, families: &[&str]) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let name = line.split(['{', ' ']).next().unwrap_or("");
        if !line.starts_with('#') && families.contains(&name) {
            let cut = line.rfind(' ').unwrap_or(line.len());
            out.push_str(&line[..cut]);
            out.push_str(" <masked>");
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

fn run(cfg: &Config, extra_mask: &[&str]) -> String {
    let collectors = Collectors::new(cfg).expect("valid config");
    let (text, errors) = gather_with_errors(&collectors);
    let mut masked = vec!["node_scrape_collector_duration_seconds"];
    masked.extend_from_slice(extra_mask);
    let mut out = mask(&text, &masked);
    for e in errors {
        out.push_str(&format!("# error: {e} (no_data={})\n", e.no_data));
    }
    out
}

macro_rules! collector_snapshot {
    ($test:ident, $name:literal) => {
        #[test]
        fn $test() {
            insta::assert_snapshot!($name, run(&config(&[$name]), &[]));
        }
    };
}

collector_snapshot!(diskstats, "diskstats");
collector_snapshot!(entropy, "entropy");
collector_snapshot!(filefd, "filefd");
collector_snapshot!(loadavg, "loadavg");
collector_snapshot!(meminfo, "meminfo");
collector_snapshot!(netstat, "netstat");
collector_snapshot!(os, "os");
collector_snapshot!(pressure, "pressure");
collector_snapshot!(stat, "stat");
collector_snapshot!(vmstat, "vmstat");

#[test]
fn cpu() {
    insta::assert_snapshot!("cpu", run(&config(&["cpu"]), &[]));
}

#[test]
fn cpu_with_guest_and_info() {
    let mut cfg = config(&["cpu"]);
    cfg.cpu.guest = true;
    cfg.cpu.flags_include = "^sse".into();
    cfg.cpu.bugs_include = "spectre".into();
    insta::assert_snapshot!("cpu_guest_info", run(&cfg, &[]));
}

#[test]
fn sockstat() {
    // `mem_bytes` is pages times this machine's page size.
    insta::assert_snapshot!("sockstat", run(&config(&["sockstat"]), &["node_sockstat_TCP_mem_bytes", "node_sockstat_UDP_mem_bytes"]));
}

#[test]
fn netdev() {
    insta::assert_snapshot!("netdev", run(&config(&["netdev"]), &[]));
}

#[test]
fn netdev_filtered() {
    let mut cfg = config(&["netdev"]);
    cfg.netdev.device_exclude = "^lo$".into();
    insta::assert_snapshot!("netdev_exclude_lo", run(&cfg, &[]));
}

#[test]
fn netdev_address_info_lists_loopback() {
    let mut cfg = config(&["netdev"]);
    cfg.netdev.address_info = true;
    let out = run(&cfg, &[]);
    assert!(out.contains("node_network_address_info{address=\"127.0.0.1\",device=\"lo\",netmask=\"8\",scope=\"link-local\"} 1"), "{out}");
}

#[test]
fn diskstats_include() {
    let mut cfg = config(&["diskstats"]);
    cfg.disk.device_include = "^(sda1|loop0)$".into();
    let out = run(&cfg, &[]);
    assert!(out.contains("node_disk_reads_completed_total{device=\"sda1\"} 100"), "{out}");
    assert!(out.contains("device=\"loop0\""), "include overrides the default exclude");
    assert!(!out.contains("device=\"sda\""), "{out}");
}

#[test]
fn filesystem() {
    let size =
        ["node_filesystem_avail_bytes", "node_filesystem_files", "node_filesystem_files_free", "node_filesystem_free_bytes", "node_filesystem_size_bytes"];
    insta::assert_snapshot!("filesystem", run(&config(&["filesystem"]), &size));
}

#[test]
fn time() {
    let out = run(&config(&["time"]), &["node_time_seconds", "node_time_zone_offset_seconds"]);
    // The zone name depends on the machine: keep its presence, not its value.
    let out: String = out
        .lines()
        .map(|l| {
            if l.starts_with("node_time_zone_offset_seconds{") {
                "node_time_zone_offset_seconds{time_zone=...} <masked>\n".to_string()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    insta::assert_snapshot!("time", out);
}

#[test]
fn missing_files_fail_the_collector_only() {
    let cfg = Config { procfs_path: fixture("does-not-exist"), ..config(&["loadavg", "uname"]) };
    let out = run(&cfg, &[]);
    assert!(out.contains("node_scrape_collector_success{collector=\"loadavg\"} 0"), "{out}");
    assert!(out.contains("node_scrape_collector_success{collector=\"uname\"} 1"), "{out}");
    assert!(out.contains("# error: collector loadavg failed: read "), "{out}");
}

#[test]
fn gathers_repeatedly_with_same_shape() {
    let cfg = config(&["cpu", "diskstats", "meminfo", "netdev", "netstat", "sockstat", "stat", "vmstat", "filefd", "entropy", "loadavg", "pressure", "os"]);
    let collectors = Collectors::new(&cfg).unwrap();
    let first = mask(&exporters::unix::gather(&collectors), &["node_scrape_collector_duration_seconds"]);
    for _ in 0..3 {
        let again = mask(&exporters::unix::gather(&collectors), &["node_scrape_collector_duration_seconds"]);
        assert_eq!(first, again);
    }
}
