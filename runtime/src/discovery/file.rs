//! `discovery.file`: targets from JSON or YAML target-group files (Prometheus' file_sd).
//!
//! `files` are paths whose last element may hold a `*` glob; each must end in `.json`,
//! `.yml` or `.yaml`, which picks the parser. Every target gets `__meta_filepath`. The files
//! are read again every `refresh_interval`, and as soon as the set of matching files or
//! their size or modification time changes (upstream watches the directories; this polls
//! them every half second). A file that cannot be read or parsed keeps the targets it had
//! at its last good read, and makes the component unhealthy until it reads again.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use eval::Value;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::target_groups::{flatten, parse_json, parse_yaml, Group};
use super::Outcome;
use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::file_glob::glob::Glob;
use crate::metrics::Counter;

const NAME: &str = "discovery.file";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["targets"], build);

const META_FILEPATH: &str = "__meta_filepath";

/// How often the matching files' sizes and times are compared (upstream: file events).
const WATCH: Duration = Duration::from_millis(500);

#[derive(Clone, Debug, Default, PartialEq)]
struct Args {
    files: Vec<String>,
    refresh_interval: Duration,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        Args { files: r.get("files"), refresh_interval: r.get::<Dur>("refresh_interval").0 }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(!self.refresh_interval.is_zero(), &["refresh_interval"], "refresh_interval must be greater than 0");
        for f in &self.files {
            if let Err(e) = check_name(f) {
                r.error("files", e);
            }
        }
    }
}

/// Upstream's rule for names (`^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$`): a `*`
/// only in the last element, and an extension that says how to parse the file.
fn check_name(name: &str) -> Result<(), String> {
    let invalid = || {
        format!("path name {name:?} is not valid for file discovery: a glob (*) is allowed in the last path element only, and the name must end in .json, .yml or .yaml")
    };
    if name.find('*').is_some_and(|i| name[i..].contains('/')) {
        return Err(invalid());
    }
    if !["json", "yml", "yaml", "JSON", "YML", "YAML"].iter().any(|ext| name.strip_suffix(ext).is_some_and(|rest| rest.ends_with('.'))) {
        return Err(invalid());
    }
    Glob::new(name, false).map(|_| ())
}

/// Reads one file's groups; the extension picks JSON or YAML.
fn read_file(path: &str) -> Result<Vec<Group>, String> {
    let text = std::fs::read(path).map_err(|e| e.to_string())?;
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".json") {
        parse_json(&text)
    } else {
        parse_yaml(&text)
    }
}

/// The matching files (sorted) and any glob errors.
fn list(files: &[String]) -> (Vec<String>, Vec<String>) {
    let mut paths = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match Glob::new(f, false) {
            Ok(g) => paths.extend(g.expand()),
            Err(e) => errors.push(e),
        }
    }
    paths.sort();
    paths.dedup();
    (paths, errors)
}

/// What a change shows as: each matching file's modification time and size.
type Fingerprint = Vec<(String, Option<SystemTime>, u64)>;

fn fingerprint(paths: &[String]) -> Fingerprint {
    paths
        .iter()
        .map(|p| {
            let m = std::fs::metadata(p).ok();
            (p.clone(), m.as_ref().and_then(|m| m.modified().ok()), m.map_or(0, |m| m.len()))
        })
        .collect()
}

#[derive(Default)]
struct State {
    /// The groups of each file at its last good read.
    groups: BTreeMap<String, Vec<Group>>,
    fingerprint: Fingerprint,
    refreshed: Option<Instant>,
}

struct FileDiscovery {
    ctx: Context,
    args: Mutex<Args>,
    state: Mutex<State>,
    updated: Notify,
    outcome: Outcome,
    read_errors: Counter,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    let read_errors = ctx.counter("prometheus_sd_file_read_errors_total", "The number of File-SD read errors.", &[]);
    let c = FileDiscovery { ctx, args: Mutex::new(args), state: Mutex::default(), updated: Notify::new(), outcome: Outcome::default(), read_errors };
    // Reading a few small files: dependants get the targets at load time.
    c.refresh();
    Ok(Arc::new(c))
}

impl FileDiscovery {
    fn args(&self) -> Args {
        self.args.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reads every matching file and publishes the targets.
    fn refresh(&self) {
        let args = self.args();
        let (paths, mut errors) = list(&args.files);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut groups = BTreeMap::new();
        for p in &paths {
            match read_file(p) {
                Ok(g) => {
                    groups.insert(p.clone(), g);
                }
                Err(e) => {
                    self.read_errors.inc();
                    errors.push(format!("error reading file {p:?}: {e}"));
                    if let Some(old) = state.groups.get(p) {
                        groups.insert(p.clone(), old.clone());
                    }
                }
            }
        }
        let targets = groups.iter().flat_map(|(p, g)| flatten(g, (META_FILEPATH, p))).collect();
        state.groups = groups;
        state.fingerprint = fingerprint(&paths);
        state.refreshed = Some(Instant::now());
        drop(state);
        self.outcome.published.export(&self.ctx, targets);
        self.outcome.report(&self.ctx, if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) });
    }

    /// Whether the files changed or the refresh interval passed.
    fn due(&self) -> bool {
        let args = self.args();
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.refreshed.is_none_or(|t| t.elapsed() >= args.refresh_interval) {
            return true;
        }
        let known = state.fingerprint.clone();
        drop(state);
        fingerprint(&list(&args.files).0) != known
    }
}

impl Component for FileDiscovery {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        *self.args.lock().unwrap_or_else(|e| e.into_inner()) = args;
        self.refresh();
        self.updated.notify_one();
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = self.updated.notified() => continue,
                    _ = tokio::time::sleep(WATCH) => {}
                }
                // File system calls block: off the async workers.
                let this = self.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    if this.due() {
                        this.refresh();
                    }
                })
                .await;
            }
        })
    }

    fn debug_info(&self) -> Option<Value> {
        let mut o = eval::Object::ordered();
        o.insert("last_error", Value::string(self.outcome.error().unwrap_or_default()));
        Some(Value::object(o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::HealthState;
    use crate::discovery::testing::{context, target};

    fn args_value(files: &[String]) -> Value {
        let list: Vec<String> = files.iter().map(|f| format!("{f:?}")).collect();
        crate::component::args::evaluated(&format!("discovery.file \"t\" {{\n  files = [{}]\n}}\n", list.join(", "))).unwrap()
    }

    #[test]
    fn names_must_say_how_to_parse_them() {
        assert!(check_name("/etc/sd/*.json").is_ok());
        assert!(check_name("/etc/sd/targets.YML").is_ok());
        assert!(check_name("sd/a*b.yaml").is_ok());
        assert!(check_name("/etc/*/x.json").unwrap_err().contains("is not valid for file discovery"));
        assert!(check_name("/etc/sd/targets.txt").unwrap_err().contains("is not valid for file discovery"));
        assert!(check_name("/etc/sd/json").is_err());
        assert!(check_name("/etc/sd/[a.json").unwrap_err().contains("unclosed '['"));
        let v = crate::component::args::evaluated("discovery.file \"t\" {\n  files = [\"/x/*.txt\"]\n  refresh_interval = \"0s\"\n}\n").unwrap();
        let errs: Vec<String> = crate::component::args::check::<Args>(NAME, &v).iter().map(crate::component::args::describe).collect();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(errs[0], "refresh_interval: refresh_interval must be greater than 0");
        assert!(errs[1].starts_with("files: path name \"/x/*.txt\" is not valid"), "{errs:?}");
    }

    #[tokio::test]
    async fn files_are_read_and_bad_ones_keep_their_last_targets() {
        let d = tempfile::tempdir().unwrap();
        let json = d.path().join("a.json");
        let yaml = d.path().join("b.yml");
        std::fs::write(&json, r#"[{"targets": ["a:1"], "labels": {"job": "j"}}]"#).unwrap();
        std::fs::write(&yaml, "- targets: ['b:2', 'c:3']\n").unwrap();
        let (ctx, host) = context("discovery.file.t");
        let c = build(ctx, args_value(&[format!("{}/*.json", d.path().display()), yaml.display().to_string()])).unwrap();
        let (jp, yp) = (json.display().to_string(), yaml.display().to_string());
        let expected = vec![
            target(&[("__address__", "a:1"), ("__meta_filepath", &jp), ("job", "j")]),
            target(&[("__address__", "b:2"), ("__meta_filepath", &yp)]),
            target(&[("__address__", "c:3"), ("__meta_filepath", &yp)]),
        ];
        assert_eq!(host.targets(), expected);
        assert_eq!(host.health().unwrap().0, HealthState::Healthy);

        // A broken file keeps what it had; the component says why it is unhealthy.
        std::fs::write(&json, "[{\"targets\": [").unwrap();
        c.update(args_value(&[format!("{}/*.json", d.path().display()), yp.clone()])).unwrap();
        assert_eq!(host.targets(), expected);
        let (state, message) = host.health().unwrap();
        assert_eq!(state, HealthState::Unhealthy);
        assert!(message.contains("a.json") && message.contains("json: "), "{message}");

        // A new file is picked up, a deleted one drops its targets.
        std::fs::write(&json, "[]").unwrap();
        std::fs::write(d.path().join("n.json"), r#"[{"targets": ["n:1"]}]"#).unwrap();
        std::fs::remove_file(&yaml).unwrap();
        c.update(args_value(&[format!("{}/*.json", d.path().display()), yp])).unwrap();
        let np = d.path().join("n.json").display().to_string();
        assert_eq!(host.targets(), [target(&[("__address__", "n:1"), ("__meta_filepath", &np)])]);
        assert_eq!(host.health().unwrap().0, HealthState::Healthy);
    }

    #[tokio::test]
    async fn changes_are_noticed_without_waiting_for_the_interval() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("t.json");
        std::fs::write(&path, r#"[{"targets": ["a:1"]}]"#).unwrap();
        let (ctx, host) = context("discovery.file.w");
        let c = build(ctx, args_value(&[path.display().to_string()])).unwrap();
        let stop = CancellationToken::new();
        let task = tokio::spawn(c.clone().run(stop.clone()));
        std::fs::write(&path, r#"[{"targets": ["a:1", "b:22"]}]"#).unwrap();
        let mut seen = 0;
        for _ in 0..100 {
            seen = host.targets().len();
            if seen == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stop.cancel();
        let _ = task.await;
        assert_eq!(seen, 2, "the new target was found");
    }
}
