//! `filesystem`: statfs(2) of every mount in /proc/1/mountinfo (or /proc/self/mountinfo) not excluded by mount
//! point or filesystem type.
//!
//! statfs runs on a worker thread; a mount that does not answer within `mount_timeout` is reported with
//! `device_error="mountpoint timeout"` and skipped on later scrapes until its statfs finally returns (upstream
//! waits for the stuck call on the first scrape; here that scrape is not held up either).

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use regex::Regex;

use super::sys::{self, FsStats};
use crate::expfmt::{MetricType, Sink};
use crate::unix::util::{compile, go_error_text, read_optional, CollectError, Result};
use crate::unix::{Collector, Config, ConfigError};

const LABELS: &[&str] = &["device", "mountpoint", "fstype", "device_error"];

pub(crate) struct Filesystem {
    mountinfo: [PathBuf; 2],
    rootfs: String,
    mount_points_exclude: Option<Regex>,
    fs_types_exclude: Option<Regex>,
    timeout: Duration,
    /// Mount points whose statfs timed out and has not returned yet.
    stuck: Arc<Mutex<HashSet<String>>>,
    /// `sys::statfs`; tests substitute a slow one.
    statfs: fn(&Path) -> io::Result<FsStats>,
}

/// One line of mountinfo, the fields node_exporter uses.
#[derive(Clone, Debug, PartialEq)]
struct Mount {
    device: String,
    mount_point: String,
    fs_type: String,
    major: String,
    minor: String,
    read_only: bool,
}

/// `\040` and `\011` in mount points are a space and a tab (fstab(5) escaping); the rest stays as written.
fn unescape(s: &str) -> String {
    s.replace("\\040", " ").replace("\\011", "\t")
}

/// Parses mountinfo(5) lines: `id parent major:minor root mount_point options [optional...] - fstype source super`.
/// Malformed lines are skipped.
fn parse_mountinfo(text: &str) -> Vec<Mount> {
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let Some(sep) = f.iter().skip(6).position(|x| *x == "-").map(|p| p + 6) else { continue };
        if f.len() < sep + 3 {
            continue;
        }
        let Some((major, minor)) = f[2].split_once(':') else { continue };
        let (Ok(major), Ok(minor)) = (major.parse::<u32>(), minor.parse::<u32>()) else { continue };
        let opts = |s: &str| s.split(',').any(|o| o == "ro");
        let super_opts = f.get(sep + 3).copied().unwrap_or("");
        out.push(Mount {
            device: f[sep + 2].to_string(),
            mount_point: unescape(f[4]),
            fs_type: f[sep + 1].to_string(),
            major: major.to_string(),
            minor: minor.to_string(),
            // `ro` in the mount or superblock options, or an ext4 superblock forced read-only after errors.
            read_only: opts(f[5]) || opts(super_opts) || super_opts.split(',').any(|o| o == "emergency_ro"),
        });
    }
    out
}

/// The outcome of one statfs.
enum Stat {
    Ok(FsStats),
    Err(String),
}

impl Filesystem {
    pub fn new(cfg: &Config) -> std::result::Result<Filesystem, ConfigError> {
        let proc = PathBuf::from(&cfg.procfs_path);
        Ok(Filesystem {
            mountinfo: [proc.join("1/mountinfo"), proc.join("self/mountinfo")],
            rootfs: cfg.rootfs_path.clone(),
            mount_points_exclude: compile("filesystem.mount_points_exclude", &cfg.filesystem.mount_points_exclude)?,
            fs_types_exclude: compile("filesystem.fs_types_exclude", &cfg.filesystem.fs_types_exclude)?,
            timeout: cfg.filesystem.mount_timeout,
            stuck: Arc::new(Mutex::new(HashSet::new())),
            statfs: sys::statfs,
        })
    }

    /// The mount point as seen from `rootfs_path` (`/host/data` → `/data` with rootfs `/host`).
    fn strip_rootfs(&self, mp: &str) -> String {
        if self.rootfs == "/" {
            return mp.to_string();
        }
        match mp.strip_prefix(self.rootfs.as_str()) {
            Some("") => "/".to_string(),
            Some(rest) => rest.to_string(),
            None => mp.to_string(),
        }
    }

    /// statfs of each `(mount_point, path)` in order on worker threads; `None` for one that timed out.
    fn stat_all(&self, jobs: Vec<(String, PathBuf)>) -> Vec<Option<Stat>> {
        let n = jobs.len();
        let jobs = Arc::new(jobs);
        let mut results: Vec<Option<Stat>> = (0..n).map(|_| None).collect();
        let mut next = 0;
        while next < n {
            let (tx, rx) = mpsc::channel::<(usize, io::Result<FsStats>)>();
            // Jobs finished by this worker (index of the next one), updated under the `stuck` lock so the timeout
            // path can tell a late answer from a stuck mount.
            let done = Arc::new(AtomicUsize::new(next));
            let abandoned = Arc::new(AtomicBool::new(false));
            let spawned = {
                let (jobs, stuck, done, abandoned, statfs) = (jobs.clone(), self.stuck.clone(), done.clone(), abandoned.clone(), self.statfs);
                let start = next;
                std::thread::Builder::new().name("filesystem-statfs".into()).spawn(move || {
                    for (i, (mp, path)) in jobs.iter().enumerate().skip(start) {
                        if abandoned.load(Ordering::SeqCst) {
                            return;
                        }
                        let r = statfs(path);
                        {
                            let mut s = stuck.lock().unwrap_or_else(|p| p.into_inner());
                            // It answered: if it had been marked stuck, it has recovered.
                            s.remove(mp);
                            done.store(i + 1, Ordering::SeqCst);
                        }
                        if tx.send((i, r)).is_err() {
                            return;
                        }
                    }
                })
            };
            if let Err(e) = spawned {
                for r in results.iter_mut().skip(next) {
                    *r = Some(Stat::Err(format!("cannot start statfs worker: {e}")));
                }
                break;
            }
            while next < n {
                match rx.recv_timeout(self.timeout) {
                    Ok((i, r)) => {
                        results[i] = Some(match r {
                            Ok(s) => Stat::Ok(s),
                            Err(e) => Stat::Err(go_error_text(&e)),
                        });
                        next = i + 1;
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        let mut s = self.stuck.lock().unwrap_or_else(|p| p.into_inner());
                        if done.load(Ordering::SeqCst) > next {
                            // Answered just after the deadline; its result is in the channel.
                            continue;
                        }
                        s.insert(jobs[next].0.clone());
                        abandoned.store(true, Ordering::SeqCst);
                        next += 1;
                        break;
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        for r in results.iter_mut().skip(next) {
                            *r = Some(Stat::Err("statfs worker stopped".into()));
                        }
                        return results;
                    }
                }
            }
        }
        results
    }
}

impl Collector for Filesystem {
    fn update(&self, sink: &mut Sink) -> Result<()> {
        // /proc/1 can be hidden (hidepid): fall back to our own mount namespace's view.
        let text = match read_optional(&self.mountinfo[0])? {
            Some(t) => t,
            None => read_optional(&self.mountinfo[1])?
                .ok_or_else(|| CollectError::new(format!("read {}: no such file or directory", self.mountinfo[1].display())))?,
        };
        let mut mounts = parse_mountinfo(&text);
        for m in &mut mounts {
            m.mount_point = self.strip_rootfs(&m.mount_point);
        }
        mounts.retain(|m| {
            !self.mount_points_exclude.as_ref().is_some_and(|r| r.is_match(&m.mount_point))
                && !self.fs_types_exclude.as_ref().is_some_and(|r| r.is_match(&m.fs_type))
        });
        let stuck_now: Vec<bool> = {
            let s = self.stuck.lock().unwrap_or_else(|p| p.into_inner());
            mounts.iter().map(|m| s.contains(&m.mount_point)).collect()
        };
        let root = PathBuf::from(&self.rootfs);
        let jobs: Vec<(String, PathBuf)> = mounts
            .iter()
            .zip(&stuck_now)
            .filter(|(_, stuck)| !**stuck)
            .map(|(m, _)| (m.mount_point.clone(), root.join(m.mount_point.trim_start_matches('/'))))
            .collect();
        let mut results = self.stat_all(jobs).into_iter();
        let fam = |sink: &mut Sink, name: &str, help: &str| sink.family(name, help, MetricType::Gauge, LABELS);
        let err_f = fam(sink, "node_filesystem_device_error", "Whether an error occurred while getting statistics for the given device.");
        let ro_f = fam(sink, "node_filesystem_readonly", "Filesystem read-only status.");
        let size_f = fam(sink, "node_filesystem_size_bytes", "Filesystem size in bytes.");
        let free_f = fam(sink, "node_filesystem_free_bytes", "Filesystem free space in bytes.");
        let avail_f = fam(sink, "node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.");
        let files_f = fam(sink, "node_filesystem_files", "Filesystem total file nodes.");
        let ffree_f = fam(sink, "node_filesystem_files_free", "Filesystem total free file nodes.");
        let info_f = sink.family("node_filesystem_mount_info", "Filesystem mount information.", MetricType::Gauge, &["device", "major", "minor", "mountpoint"]);
        for (m, stuck) in mounts.iter().zip(stuck_now) {
            let stat = if stuck { None } else { results.next().flatten() };
            let ro = if m.read_only { 1.0 } else { 0.0 };
            let labels = |err: &str| [m.device.clone(), m.mount_point.clone(), m.fs_type.clone(), err.to_string()];
            match stat {
                Some(Stat::Ok(s)) => {
                    let l = labels("");
                    let l = [l[0].as_str(), &l[1], &l[2], &l[3]];
                    let bs = s.bsize as f64;
                    sink.add(err_f, &l, 0.0);
                    sink.add(ro_f, &l, ro);
                    sink.add(size_f, &l, s.blocks as f64 * bs);
                    sink.add(free_f, &l, s.bfree as f64 * bs);
                    sink.add(avail_f, &l, s.bavail as f64 * bs);
                    sink.add(files_f, &l, s.files as f64);
                    sink.add(ffree_f, &l, s.ffree as f64);
                    sink.add(info_f, &[&m.device, &m.major, &m.minor, &m.mount_point], 1.0);
                }
                Some(Stat::Err(e)) => {
                    let l = labels(&e);
                    let l = [l[0].as_str(), &l[1], &l[2], &l[3]];
                    sink.add(err_f, &l, 1.0);
                    sink.add(ro_f, &l, ro);
                }
                None => {
                    // Stuck (now or before): upstream reports read-only 0 for these.
                    let l = labels("mountpoint timeout");
                    let l = [l[0].as_str(), &l[1], &l[2], &l[3]];
                    sink.add(err_f, &l, 1.0);
                    sink.add(ro_f, &l, 0.0);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_lines() {
        let text = "36 35 98:0 /mnt1 /mnt\\0402 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n\
                    garbage\n\
                    37 35 8:1 / /ro ro,relatime shared:2 - ext4 /dev/sda1 rw\n\
                    38 35 8:2 / /sb rw - ext4 /dev/sda2 rw,emergency_ro\n";
        let m = parse_mountinfo(text);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].mount_point, "/mnt 2");
        assert_eq!((m[0].device.as_str(), m[0].fs_type.as_str(), m[0].major.as_str(), m[0].read_only), ("/dev/root", "ext3", "98", false));
        assert!(m[1].read_only);
        assert!(m[2].read_only);
    }

    /// statfs answering after 300 ms for `/slow`, at once for anything else.
    fn slow_statfs(p: &Path) -> io::Result<FsStats> {
        if p.ends_with("slow") {
            std::thread::sleep(Duration::from_millis(300));
        }
        Ok(FsStats { blocks: 10, bfree: 5, bavail: 4, files: 3, ffree: 2, bsize: 1024 })
    }

    #[test]
    fn stuck_mount_times_out_then_recovers() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("1")).unwrap();
        std::fs::write(
            dir.path().join("1/mountinfo"),
            "1 0 8:1 / / rw - ext4 /dev/a rw\n2 1 8:2 / /slow rw - ext4 /dev/b rw\n3 1 8:3 / /fast rw - ext4 /dev/c rw\n",
        )
        .unwrap();
        let mut cfg = Config { procfs_path: dir.path().display().to_string(), ..Config::default() };
        cfg.filesystem.mount_timeout = Duration::from_millis(50);
        let mut f = Filesystem::new(&cfg).unwrap();
        f.statfs = slow_statfs;
        let gather = |f: &Filesystem| {
            let mut sink = Sink::new();
            f.update(&mut sink).unwrap();
            let mut out = String::new();
            sink.render(&mut out);
            out.lines().filter(|l| l.starts_with("node_filesystem_device_error")).map(str::to_string).collect::<Vec<_>>()
        };
        let timed_out = [
            "node_filesystem_device_error{device=\"/dev/a\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/\"} 0",
            "node_filesystem_device_error{device=\"/dev/b\",device_error=\"mountpoint timeout\",fstype=\"ext4\",mountpoint=\"/slow\"} 1",
            "node_filesystem_device_error{device=\"/dev/c\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/fast\"} 0",
        ];
        // The scrape is not held up by the slow mount, and the mount after it is still measured.
        let start = std::time::Instant::now();
        assert_eq!(gather(&f), timed_out);
        assert!(start.elapsed() < Duration::from_millis(250), "{:?}", start.elapsed());
        // Still stuck: skipped without another statfs.
        assert_eq!(gather(&f), timed_out);
        // Once the stuck call has returned, the mount is measured again.
        std::thread::sleep(Duration::from_millis(400));
        assert!(f.stuck.lock().unwrap().is_empty());
        let mut cfg2 = cfg.clone();
        cfg2.filesystem.mount_timeout = Duration::from_secs(5);
        let mut f2 = Filesystem::new(&cfg2).unwrap();
        f2.statfs = slow_statfs;
        f2.stuck = f.stuck.clone();
        assert!(gather(&f2).iter().all(|l| l.ends_with(" 0")), "{:?}", gather(&f2));
    }

    #[test]
    fn rootfs_prefix_is_stripped() {
        let cfg = Config { rootfs_path: "/host".into(), ..Config::default() };
        let f = Filesystem::new(&cfg).unwrap();
        assert_eq!(f.strip_rootfs("/host"), "/");
        assert_eq!(f.strip_rootfs("/host/data"), "/data");
        assert_eq!(f.strip_rootfs("/other"), "/other");
    }
}
