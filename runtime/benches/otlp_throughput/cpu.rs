//! CPU time of a set of this process's threads, picked by name: the component under test runs
//! on a tokio runtime whose threads (workers and blocking pool) all carry one name, so its
//! cost is measured apart from the load generator and the sink in the same process.

/// Thread names are cut to 15 bytes in /proc (`comm`).
pub const MAX_NAME: usize = 15;

/// On-CPU seconds of the live threads of this process named `name`. The kernel's exact
/// per-thread run time (`schedstat`, nanoseconds) where it exists, else utime + stime in
/// ticks from `stat`.
pub fn threads_cpu_seconds(name: &str) -> f64 {
    assert!(name.len() <= MAX_NAME, "thread name {name:?} is longer than /proc keeps");
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    let mut total = 0.0;
    for task in tasks.flatten() {
        let dir = task.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim_end_matches('\n') != name {
            continue;
        }
        let schedstat = std::fs::read_to_string(dir.join("schedstat")).ok();
        let ns = schedstat.as_deref().and_then(|s| s.split_whitespace().next()).and_then(|v| v.parse::<f64>().ok());
        total += match ns {
            Some(ns) => ns / 1e9,
            None => std::fs::read_to_string(dir.join("stat")).ok().and_then(|s| runtime::process::stat_cpu_seconds(&s)).unwrap_or(0.0),
        };
    }
    total
}
