//! Against the real thing on this machine: `/usr/bin/prometheus-node-exporter` (Debian's 1.5.0) run with only
//! the collectors we implement and the same settings, and `promtool check metrics` on our whole default output.
//!
//! Both skip with a loud message when the binary is missing, unless `CI=true`, where they fail.
//!
//! Known, intended differences between node_exporter 1.5.0 and upstream HEAD (which Alloy's fork and this crate
//! follow), allowed below:
//! - `node_filesystem_*` carry a `device_error` label (HEAD, since 1.8) and `node_filesystem_mount_info` exists
//!   (HEAD, since 1.9);
//! - `node_disk_info` has a `rotational` label (HEAD, since 1.9);
//! - `node_cpu_online` (since 1.9; only when cpu0 has an `online` file), `node_pressure_irq_stalled_seconds_total`
//!   (since 1.9; kernels with /proc/pressure/irq) and `node_os_support_end_timestamp_seconds` (since 1.8; os-release
//!   with SUPPORT_END) may appear on our side only;
//! - `node_network_receive_nohandler_total` only comes from netlink, which Alloy disables: 1.5.0 runs with
//!   `--no-collector.netdev.netlink`;
//! - `node_network_address_info` honours the netdev device filter (HEAD, since 1.11); 1.5.0 lists every interface.
//!
//! Differences this machine cannot show: upstream HEAD's meminfo reads a fixed field list (it lacks e.g.
//! `KReclaimable`, `FileHugePages`, `SecPageTables`, which 1.5.0 and we export); HEAD's default netstat fields add
//! `TcpExt_TCPOFOQueue` / `TcpExt_TCPRcvQDrop` and its default disk exclude adds `zram` (Alloy's defaults, used
//! here, have neither).
//!
//! Not compared: node_exporter's own `go_*`, `process_*`, `promhttp_*` and `node_exporter_build_info`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use exporters::unix::{gather_with_errors, Collectors, Config, IMPLEMENTED};

const NODE_EXPORTER: &str = "/usr/bin/prometheus-node-exporter";
const PROMTOOL: &str = "/usr/bin/promtool";

/// Families only we produce (see the module docs).
const OURS_ONLY: &[&str] =
    &["node_filesystem_mount_info", "node_cpu_online", "node_pressure_irq_stalled_seconds_total", "node_os_support_end_timestamp_seconds"];

/// `false` (after a loud message) when `bin` is missing and we are not on CI.
fn available(bin: &str) -> bool {
    if std::path::Path::new(bin).exists() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{bin} is required on CI (CI=true) but missing");
    }
    eprintln!("\n!!!!!!!! SKIPPED: {bin} not installed; the comparison with the real node_exporter did not run !!!!!!!!\n");
    false
}

/// Kills the spawned exporter (our own child, by handle) when the test ends, even on panic.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// `GET /metrics` over HTTP/1.0 (no chunking, connection closes at the end), retried until the server is up.
fn fetch(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(mut s) => {
                s.set_read_timeout(Some(Duration::from_secs(20))).ok();
                s.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("send request");
                let mut resp = String::new();
                s.read_to_string(&mut resp).expect("read response");
                let (head, body) = resp.split_once("\r\n\r\n").expect("HTTP response");
                assert!(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"), "{head}");
                return body.to_string();
            }
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("node_exporter did not come up on port {port}: {e}"),
        }
    }
}

/// A family as parsed from the exposition: type, help, the label-name sets of its samples, the samples.
#[derive(Debug, Default)]
struct Family {
    ty: String,
    help: String,
    label_names: BTreeSet<Vec<String>>,
    samples: Vec<(BTreeMap<String, String>, String)>,
}

fn parse_labels(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = s.chars().peekable();
    loop {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if name.is_empty() {
            break;
        }
        assert_eq!(chars.next(), Some('"'), "label {name} in {s}");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(c) => value.push(c),
                    None => {}
                },
                '"' => break,
                c => value.push(c),
            }
        }
        out.insert(name.trim_start_matches(',').to_string(), value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    out
}

fn parse(text: &str) -> BTreeMap<String, Family> {
    let mut fams: BTreeMap<String, Family> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            fams.entry(name.into()).or_default().help = help.into();
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').expect("TYPE line");
            fams.entry(name.into()).or_default().ty = ty.into();
        } else if !line.is_empty() && !line.starts_with('#') {
            let (series, value) = line.rsplit_once(' ').expect("sample line");
            let (name, labels) = match series.split_once('{') {
                Some((n, l)) => (n, parse_labels(l.strip_suffix('}').expect("closing brace"))),
                None => (series, BTreeMap::new()),
            };
            let f = fams.entry(name.into()).or_default();
            f.label_names.insert(labels.keys().cloned().collect());
            f.samples.push((labels, value.into()));
        }
    }
    fams
}

fn our_config() -> Config {
    let mut cfg = Config { set_collectors: IMPLEMENTED.iter().map(|s| s.to_string()).collect(), ..Config::default() };
    cfg.cpu.guest = true;
    cfg.cpu.info = true;
    cfg.cpu.flags_include = "^(fpu|sse2?|avx)$".into();
    cfg.cpu.bugs_include = ".".into();
    // Debian's default for its package, passed to both sides.
    cfg.netdev.device_exclude = "^lo$".into();
    cfg.netdev.address_info = true;
    cfg
}

fn their_args(cfg: &Config, port: u16) -> Vec<String> {
    let mut a = vec![format!("--web.listen-address=127.0.0.1:{port}"), "--collector.disable-defaults".into(), "--log.level=error".into()];
    a.extend(IMPLEMENTED.iter().map(|c| format!("--collector.{c}")));
    a.extend([
        "--collector.cpu.guest".to_string(),
        "--collector.cpu.info".into(),
        format!("--collector.cpu.info.flags-include={}", cfg.cpu.flags_include),
        format!("--collector.cpu.info.bugs-include={}", cfg.cpu.bugs_include),
        format!("--collector.diskstats.device-exclude={}", cfg.disk.device_exclude),
        format!("--collector.filesystem.mount-points-exclude={}", cfg.filesystem.mount_points_exclude),
        format!("--collector.filesystem.fs-types-exclude={}", cfg.filesystem.fs_types_exclude),
        format!("--collector.netdev.device-exclude={}", cfg.netdev.device_exclude),
        "--no-collector.netdev.netlink".into(),
        "--collector.netdev.address-info".into(),
        format!("--collector.netstat.fields={}", cfg.netstat.fields),
        format!("--collector.vmstat.fields={}", cfg.vmstat.fields),
        format!("--path.procfs={}", cfg.procfs_path),
        format!("--path.sysfs={}", cfg.sysfs_path),
        format!("--path.rootfs={}", cfg.rootfs_path),
        format!("--path.udev.data={}", cfg.udev_data_path),
    ]);
    a
}

fn not_compared(name: &str) -> bool {
    name.starts_with("go_") || name.starts_with("process_") || name.starts_with("promhttp_") || name == "node_exporter_build_info"
}

/// Label names we add on purpose to a family that 1.5.0 has.
fn extra_labels(name: &str) -> &'static [&'static str] {
    match name {
        "node_disk_info" => &["rotational"],
        n if n.starts_with("node_filesystem_") && n != "node_filesystem_mount_info" => &["device_error"],
        _ => &[],
    }
}

/// The samples of `name` as (labels minus the intended extras, value) for families whose values are stable
/// between two scrapes a moment apart.
fn stable(f: &Family, name: &str) -> BTreeSet<(Vec<(String, String)>, String)> {
    let extras = extra_labels(name);
    f.samples.iter().map(|(l, v)| (l.iter().filter(|(k, _)| !extras.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect(), v.clone())).collect()
}

#[test]
fn same_families_labels_and_types_as_node_exporter() {
    if !available(NODE_EXPORTER) {
        return;
    }
    let cfg = our_config();
    let port = free_port();
    let child = Command::new(NODE_EXPORTER).args(their_args(&cfg, port)).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start node_exporter");
    let _guard = Guard(child);
    let theirs_text = fetch(port);
    let collectors = Collectors::new(&cfg).expect("our config");
    let (ours_text, errors) = gather_with_errors(&collectors);
    // `no_data` (e.g. a kernel without PSI) shows as success 0 on both sides and is compared below.
    let failed: Vec<_> = errors.iter().filter(|e| !e.no_data).collect();
    assert!(failed.is_empty(), "our collectors failed: {failed:?}");
    let theirs = parse(&theirs_text);
    let ours = parse(&ours_text);

    let mut problems = Vec::new();
    for (name, t) in theirs.iter().filter(|(n, _)| !not_compared(n)) {
        let Some(o) = ours.get(name) else {
            problems.push(format!("missing family {name} (theirs: {:?} {:?})", t.ty, t.label_names));
            continue;
        };
        if o.ty != t.ty {
            problems.push(format!("{name}: TYPE ours {} theirs {}", o.ty, t.ty));
        }
        if o.help != t.help {
            problems.push(format!("{name}: HELP ours {:?} theirs {:?}", o.help, t.help));
        }
        let extras = extra_labels(name);
        let ours_names: BTreeSet<Vec<String>> = o.label_names.iter().map(|ls| ls.iter().filter(|l| !extras.contains(&l.as_str())).cloned().collect()).collect();
        if ours_names != t.label_names {
            problems.push(format!("{name}: labels ours {ours_names:?} theirs {:?}", t.label_names));
        }
        for l in extras {
            if !o.label_names.iter().all(|ls| ls.iter().any(|x| x == l)) {
                problems.push(format!("{name}: expected our extra label {l}"));
            }
        }
    }
    for name in ours.keys().filter(|n| !theirs.contains_key(*n)) {
        if !OURS_ONLY.contains(&name.as_str()) {
            problems.push(format!("unexpected family {name} (only ours)"));
        }
    }
    // Values that cannot change between the two scrapes must agree too.
    for name in [
        "node_memory_MemTotal_bytes",
        "node_boot_time_seconds",
        "node_filefd_maximum",
        "node_entropy_pool_size_bits",
        "node_uname_info",
        "node_os_info",
        "node_os_version",
        "node_cpu_info",
        "node_cpu_flag_info",
        "node_cpu_bug_info",
        "node_disk_info",
        "node_filesystem_size_bytes",
        "node_filesystem_files",
        "node_filesystem_device_error",
        "node_filesystem_readonly",
        "node_time_clocksource_available_info",
        "node_time_clocksource_current_info",
        "node_scrape_collector_success",
        "node_network_address_info",
    ] {
        if let (Some(o), Some(t)) = (ours.get(name), theirs.get(name)) {
            let mut t_stable = stable(t, name);
            if name == "node_network_address_info" {
                // 1.5.0 ignores the netdev device filter here; HEAD (and we) apply it.
                t_stable.retain(|(l, _)| !l.iter().any(|(k, v)| k == "device" && v == "lo"));
            }
            if stable(o, name) != t_stable {
                problems.push(format!("{name}: samples differ\n  ours   {:?}\n  theirs {:?}", stable(o, name), t_stable));
            }
        }
    }
    // The same devices and zone, whatever their counters.
    for name in ["node_network_receive_bytes_total", "node_disk_reads_completed_total", "node_cpu_seconds_total", "node_time_zone_offset_seconds"] {
        let keys = |f: Option<&Family>| f.map(|f| f.samples.iter().map(|(l, _)| l.clone()).collect::<BTreeSet<_>>());
        if keys(ours.get(name)) != keys(theirs.get(name)) {
            problems.push(format!("{name}: series differ: ours {:?} theirs {:?}", keys(ours.get(name)), keys(theirs.get(name))));
        }
    }
    let compared = theirs.keys().filter(|n| !not_compared(n)).count();
    eprintln!("compared {compared} node_exporter 1.5.0 families with ours ({} families)", ours.len());
    assert!(problems.is_empty(), "differences from node_exporter:\n{}", problems.join("\n"));
}

#[test]
fn promtool_accepts_our_output() {
    if !available(PROMTOOL) {
        return;
    }
    let mut cfg = Config::default();
    cfg.cpu.guest = true;
    cfg.cpu.info = true;
    cfg.netdev.address_info = true;
    let collectors = Collectors::new(&cfg).expect("default config");
    let (text, _errors) = gather_with_errors(&collectors);
    let mut child =
        Command::new(PROMTOOL).args(["check", "metrics"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run promtool");
    child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write metrics");
    let out = child.wait_with_output().expect("promtool output");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // Exit 3 is "lint problems": style remarks node_exporter's own output draws as well (camelCase meminfo and
    // netstat names, `_bits`); exit 1 is a parse error.
    let code = out.status.code();
    assert!(code == Some(0) || code == Some(3), "promtool exit {code:?}:\n{report}");
    assert!(!report.contains("error while linting"), "{report}");
    for line in report.lines().filter(|l| !l.is_empty()) {
        let ok = line.contains("should be written in 'snake_case' not 'camelCase'") || line.contains("use base unit");
        assert!(ok, "unexpected promtool remark: {line}\n{report}");
    }
}
