//! `local.file_match`: expands the `__path__` glob of each of `path_targets` and exports one
//! target per matching file (the target's other labels kept, `__path__` set to the file's
//! absolute path). Files matching `__path_exclude__`, directories and, with
//! `ignore_older_than`, files not modified for that long are left out. The files are listed
//! again every `sync_period` and whenever the arguments change.
//!
//! Globs follow upstream's doublestar: `*`, `?`, `[a-z]`/`[!a-z]`, `{a,b}`, backslash escapes,
//! and `**` as a whole path element for any number of directories ([`glob`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use eval::Value;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{Published, Target};
use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, HealthState, Reader, Registration};
use crate::file_glob::glob::Glob;

const NAME: &str = "local.file_match";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["targets"], build);

use crate::file_glob::{EXCLUDE, PATH};

#[derive(Clone, Debug, Default, PartialEq)]
struct Args {
    path_targets: Vec<Target>,
    sync_period: Duration,
    ignore_older_than: Duration,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        Args { path_targets: r.get("path_targets"), sync_period: r.get::<Dur>("sync_period").0, ignore_older_than: r.get::<Dur>("ignore_older_than").0 }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(!self.sync_period.is_zero(), &["sync_period"], "sync_period must be greater than 0");
        // A bad glob would match nothing, silently: refuse it, with the target it is in.
        for (i, t) in self.path_targets.iter().enumerate() {
            for label in [PATH, EXCLUDE] {
                if let Some(Err(e)) = t.get(label).map(|p| Glob::new(p, true)) {
                    r.error("path_targets", format!("path_targets[{i}]: invalid {label}: {e}"));
                }
            }
        }
    }
}

/// One target per file matched by the targets' globs, sorted by the caller.
fn matching_files(args: &Args) -> Vec<Target> {
    crate::file_glob::matching_files(&args.path_targets, args.ignore_older_than)
}

struct FileMatch {
    ctx: Context,
    published: Published,
    args: Mutex<Args>,
    /// Wakes the sync loop after an update (the period starts again).
    updated: Notify,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    let c = FileMatch { ctx, published: Published::default(), args: Mutex::new(args), updated: Notify::new() };
    // Dependants get the files at load time.
    c.sync();
    Ok(Arc::new(c))
}

impl FileMatch {
    fn sync(&self) {
        let args = self.args.lock().unwrap_or_else(|e| e.into_inner()).clone();
        self.published.export(&self.ctx, matching_files(&args));
        self.ctx.set_health(HealthState::Healthy, "files listed");
    }
}

impl Component for FileMatch {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        *self.args.lock().unwrap_or_else(|e| e.into_inner()) = args;
        self.sync();
        self.updated.notify_one();
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            loop {
                let period = self.args.lock().unwrap_or_else(|e| e.into_inner()).sync_period;
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = self.updated.notified() => continue,
                    _ = tokio::time::sleep(period) => {}
                }
                // Listing directories blocks: off the async workers.
                let this = self.clone();
                let _ = tokio::task::spawn_blocking(move || this.sync()).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::discovery::testing::{context, target};
    use crate::file_glob::glob::{self, clean, Glob};

    fn touch(dir: &std::path::Path, rel: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "x").unwrap();
    }

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for f in ["a.log", "b.txt", ".hidden.log", "sub/c.log", "sub/deep/d.log", "sub/deep/e.txt", "other/f.log"] {
            touch(d.path(), f);
        }
        d
    }

    fn names(dir: &std::path::Path, pattern: &str, doublestar: bool) -> Vec<String> {
        let root = dir.display().to_string();
        Glob::new(&format!("{root}/{pattern}"), doublestar).unwrap().expand().into_iter().map(|p| p.trim_start_matches(&root).to_string()).collect()
    }

    #[test]
    fn stars_questions_classes_and_alternatives() {
        let d = tree();
        assert_eq!(names(d.path(), "*.log", true), ["/.hidden.log", "/a.log"]);
        assert_eq!(names(d.path(), "?.txt", true), ["/b.txt"]);
        assert_eq!(names(d.path(), "[a-b].*", true), ["/a.log", "/b.txt"]);
        assert_eq!(names(d.path(), "[!a].*", true), ["/b.txt"]);
        assert_eq!(names(d.path(), "{a,b}.{log,txt}", true), ["/a.log", "/b.txt"]);
        assert_eq!(names(d.path(), "*/*.log", true), ["/other/f.log", "/sub/c.log"]);
        assert_eq!(names(d.path(), "sub/deep/d.log", true), ["/sub/deep/d.log"]);
        assert!(names(d.path(), "sub/missing.log", true).is_empty());
    }

    #[test]
    fn double_star_spans_directories() {
        let d = tree();
        assert_eq!(names(d.path(), "**/*.log", true), ["/.hidden.log", "/a.log", "/other/f.log", "/sub/c.log", "/sub/deep/d.log"]);
        assert_eq!(names(d.path(), "sub/**/*.txt", true), ["/sub/deep/e.txt"]);
        let all = names(d.path(), "sub/**", true);
        assert_eq!(all, ["/sub", "/sub/c.log", "/sub/deep", "/sub/deep/d.log", "/sub/deep/e.txt"]);
        // Without doublestar (discovery.file), `**` is one element like `*`, and braces and
        // `!` are plain characters as in Go.
        assert_eq!(names(d.path(), "**/*.log", false), ["/other/f.log", "/sub/c.log"]);
        touch(d.path(), "{a}.log");
        assert_eq!(names(d.path(), "{a}.*", false), ["/{a}.log"]);
        assert_eq!(names(d.path(), "{a}.*", true), ["/a.log"]);
        assert_eq!(names(d.path(), "[^a.]*.txt", false), ["/b.txt"]);
    }

    #[test]
    fn symlink_loops_end() {
        let d = tree();
        std::os::unix::fs::symlink(d.path().join("sub"), d.path().join("sub/deep/loop")).unwrap();
        let found = names(d.path(), "**/d.log", true);
        assert!(found.contains(&"/sub/deep/d.log".to_string()), "{found:?}");
        assert!(found.len() <= 3, "a loop is followed once: {found:?}");
    }

    #[test]
    fn whole_path_matching_for_excludes() {
        let g = Glob::new("/var/log/**/*.gz", true).unwrap();
        assert!(g.matches_path("/var/log/a.gz"));
        assert!(g.matches_path("/var/log/x/y/a.gz"));
        assert!(!g.matches_path("/var/log/a.log"));
        assert!(!g.matches_path("var/log/a.gz"));
        assert!(Glob::new("/a/*", true).unwrap().matches_path("/a/b"));
        assert!(!Glob::new("/a/*", true).unwrap().matches_path("/a/b/c"));
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert!(Glob::new("/a/[b", true).unwrap_err().contains("unclosed '['"));
        assert!(Glob::new("/a/{b,c", true).unwrap_err().contains("unclosed '{'"));
        assert!(Glob::new("/a/b\\", true).unwrap_err().contains("trailing backslash"));
        assert!(Glob::new("/a/[]", true).unwrap_err().contains("empty character class"));
        assert!(Glob::new("/a/[z-a]", true).unwrap_err().contains("invalid range"));
        assert!(Glob::new("/a/\\[b\\]", true).unwrap().matches_path("/a/[b]"));
    }

    #[test]
    fn paths_are_cleaned_like_go() {
        assert_eq!(clean("./a//b/../c/"), "a/c");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean("../a"), "../a");
        assert_eq!(clean(""), ".");
        assert_eq!(glob::absolute("x/y", std::path::Path::new("/w")), "/w/x/y");
    }

    fn args(targets: Vec<Target>, ignore_older_than: Duration) -> Args {
        Args { path_targets: targets, sync_period: Duration::from_secs(10), ignore_older_than }
    }

    #[test]
    fn targets_keep_labels_and_excludes_apply() {
        let d = tree();
        let root = d.path().display().to_string();
        let t = target(&[("__path__", &format!("{root}/**/*.log")), ("__path_exclude__", &format!("{root}/sub/**")), ("job", "logs")]);
        let mut files = matching_files(&args(vec![t, target(&[("job", "no path")])], Duration::ZERO));
        files.sort();
        let paths: Vec<&str> = files.iter().map(|t| t["__path__"].as_str()).collect();
        assert_eq!(paths, [format!("{root}/.hidden.log"), format!("{root}/a.log"), format!("{root}/other/f.log")]);
        assert!(files.iter().all(|t| t["job"] == "logs" && t.contains_key("__path_exclude__")));
    }

    #[test]
    fn relative_patterns_become_absolute_and_directories_are_skipped() {
        // Tests run in the crate's directory.
        let cwd = std::env::current_dir().unwrap().display().to_string();
        let files = matching_files(&args(vec![target(&[("__path__", "src/discovery/*")])], Duration::ZERO));
        let paths: Vec<&str> = files.iter().map(|t| t["__path__"].as_str()).collect();
        assert!(paths.contains(&format!("{cwd}/src/discovery/file_match.rs").as_str()), "{paths:?}");
        let dirs = matching_files(&args(vec![target(&[("__path__", "src/*")])], Duration::ZERO));
        assert!(!dirs.iter().any(|t| t["__path__"].ends_with("/src/discovery")), "directories are not targets");
    }

    #[test]
    fn old_files_are_ignored() {
        let d = tree();
        let old = d.path().join("a.log");
        let f = std::fs::File::options().write(true).open(&old).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(3600)).unwrap();
        let root = d.path().display().to_string();
        let t = target(&[("__path__", &format!("{root}/*.log"))]);
        let files = matching_files(&args(vec![t.clone()], Duration::from_secs(60)));
        assert_eq!(files.len(), 1, "only .hidden.log is recent: {files:?}");
        assert_eq!(matching_files(&args(vec![t], Duration::ZERO)).len(), 2);
    }

    #[test]
    fn rules_refuse_bad_globs_and_zero_periods() {
        let v = crate::component::args::evaluated(
            "local.file_match \"x\" {\n  path_targets = [{\"__path__\" = \"/a/[b\"}, {\"__path__\" = \"/ok\", \"__path_exclude__\" = \"{x\"}]\n  sync_period = \"0s\"\n}\n",
        )
        .unwrap();
        let errs: Vec<String> = crate::component::args::check::<Args>(NAME, &v).iter().map(crate::component::args::describe).collect();
        assert_eq!(
            errs,
            [
                "sync_period: sync_period must be greater than 0",
                "path_targets: path_targets[0]: invalid __path__: bad pattern \"/a/[b\": unclosed '['",
                "path_targets: path_targets[1]: invalid __path_exclude__: bad pattern \"{x\": unclosed '{'",
            ]
        );
    }

    #[tokio::test]
    async fn the_component_exports_sorted_targets_and_follows_updates() {
        let d = tree();
        let root = d.path().display().to_string();
        let (ctx, host) = context("local.file_match.t");
        let v = crate::component::args::evaluated(&format!("local.file_match \"t\" {{\n  path_targets = [{{\"__path__\" = \"{root}/*.txt\"}}]\n}}\n")).unwrap();
        let c = build(ctx, v).unwrap();
        assert_eq!(host.targets(), [target(&[("__path__", &format!("{root}/b.txt"))])]);
        let v =
            crate::component::args::evaluated(&format!("local.file_match \"t\" {{\n  path_targets = [{{\"__path__\" = \"{root}/{{b,a}}.*\"}}]\n}}\n")).unwrap();
        c.update(v).unwrap();
        assert_eq!(host.targets(), [target(&[("__path__", &format!("{root}/a.log"))]), target(&[("__path__", &format!("{root}/b.txt"))])]);
    }
}
