//! `local.file_match`: expands the `__path__` glob of each of `path_targets` and exports one
//! target per matching file (the target's other labels kept, `__path__` set to the file's
//! absolute path). Files matching `__path_exclude__`, directories and, with
//! `ignore_older_than`, files not modified for that long are left out. The files are listed
//! again every `sync_period` and whenever the arguments change.
//!
//! Globs follow upstream's doublestar: `*`, `?`, `[a-z]`/`[!a-z]`, `{a,b}`, backslash escapes,
//! and `**` as a whole path element for any number of directories ([`glob`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use eval::Value;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{targets_exports, Target};
use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, HealthState, Reader, Registration};
use glob::Glob;

const NAME: &str = "local.file_match";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["targets"], build);

const PATH: &str = "__path__";
const EXCLUDE: &str = "__path_exclude__";

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
    let cwd = std::env::current_dir().unwrap_or_default();
    let oldest = (!args.ignore_older_than.is_zero()).then(|| SystemTime::now().checked_sub(args.ignore_older_than)).flatten();
    let mut out = Vec::new();
    for t in &args.path_targets {
        // Checked by the rules; a target without `__path__` matches nothing, as upstream.
        let Some(Ok(glob)) = t.get(PATH).map(|p| Glob::new(p, true)) else { continue };
        let exclude = t.get(EXCLUDE).filter(|p| !p.is_empty()).and_then(|p| Glob::new(p, true).ok());
        for path in glob.expand() {
            if exclude.as_ref().is_some_and(|x| x.matches_path(&path)) {
                continue;
            }
            // Follows symlinks: a link to a log file is tailed like the file.
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            if meta.is_dir() {
                continue;
            }
            if let (Some(oldest), Ok(modified)) = (oldest, meta.modified()) {
                if modified < oldest {
                    continue;
                }
            }
            let mut target = t.clone();
            target.insert(PATH.to_string(), glob::absolute(&path, &cwd));
            out.push(target);
        }
    }
    out
}

struct FileMatch {
    ctx: Context,
    args: Mutex<Args>,
    /// Wakes the sync loop after an update (the period starts again).
    updated: Notify,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    let c = FileMatch { ctx, args: Mutex::new(args), updated: Notify::new() };
    // Dependants get the files at load time.
    c.sync();
    Ok(Arc::new(c))
}

impl FileMatch {
    fn sync(&self) {
        let args = self.args.lock().unwrap_or_else(|e| e.into_inner()).clone();
        self.ctx.set_exports(targets_exports(matching_files(&args)));
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

/// Glob patterns and the files they match, as Go's `filepath.Glob` and doublestar do.
pub(crate) mod glob {
    use std::collections::HashSet;
    use std::path::{Path, PathBuf};

    #[derive(Clone, Debug, PartialEq)]
    enum Tok {
        Char(char),
        /// `?`
        Any,
        /// `*`
        Star,
        Class {
            negated: bool,
            ranges: Vec<(char, char)>,
        },
        /// `{a,b}`
        Alt(Vec<Vec<Tok>>),
    }

    /// One path element of a pattern.
    #[derive(Clone, Debug, PartialEq)]
    enum Piece {
        Literal(String),
        Pattern(Vec<Tok>),
        /// `**`: any number of directories.
        AnyDirs,
    }

    /// A compiled pattern.
    #[derive(Clone, Debug, PartialEq)]
    pub(crate) struct Glob {
        pattern: String,
        absolute: bool,
        pieces: Vec<Piece>,
    }

    impl Glob {
        /// With `doublestar`, a `**` element matches any number of directories, `{a,b}` is a
        /// choice and `[!a]` a negated class (doublestar); without, `**` is a `*`, braces are
        /// plain characters and only `[^a]` negates (Go's `filepath.Glob`, for `discovery.file`).
        pub(crate) fn new(pattern: &str, doublestar: bool) -> Result<Glob, String> {
            let mut pieces = Vec::new();
            for element in pattern.split('/').filter(|e| !e.is_empty()) {
                if doublestar && element == "**" {
                    if pieces.last() != Some(&Piece::AnyDirs) {
                        pieces.push(Piece::AnyDirs);
                    }
                    continue;
                }
                let toks = parse(element, doublestar).map_err(|e| format!("bad pattern {pattern:?}: {e}"))?;
                let literal: Option<String> = toks.iter().map(|t| if let Tok::Char(c) = t { Some(*c) } else { None }).collect();
                pieces.push(match literal {
                    Some(s) => Piece::Literal(s),
                    None => Piece::Pattern(toks),
                });
            }
            Ok(Glob { pattern: pattern.to_string(), absolute: pattern.starts_with('/'), pieces })
        }

        /// The paths that exist and match, cleaned, sorted and unique. Directories that
        /// cannot be read are skipped (upstream ignores them too).
        pub(crate) fn expand(&self) -> Vec<String> {
            if self.pieces.is_empty() && !self.absolute {
                return Vec::new();
            }
            // A name without pattern characters is returned as written (Go does not clean it).
            if !self.pattern.contains(['*', '?', '[', '\\', '{']) {
                return if exists(Path::new(&self.pattern)) { vec![self.pattern.clone()] } else { Vec::new() };
            }
            let base = if self.absolute { PathBuf::from("/") } else { PathBuf::new() };
            let mut out = Vec::new();
            walk(&base, &self.pieces, &mut out);
            let mut out: Vec<String> = out.iter().filter_map(|p| p.to_str()).map(clean).collect();
            out.sort();
            out.dedup();
            out
        }

        /// Whether `path` as a whole matches (doublestar's `PathMatch`).
        pub(crate) fn matches_path(&self, path: &str) -> bool {
            if path.starts_with('/') != self.absolute {
                return false;
            }
            let elements: Vec<&str> = path.split('/').filter(|e| !e.is_empty()).collect();
            match_pieces(&self.pieces, &elements)
        }
    }

    fn match_pieces(pieces: &[Piece], elements: &[&str]) -> bool {
        match pieces.split_first() {
            None => elements.is_empty(),
            Some((Piece::AnyDirs, rest)) => (0..=elements.len()).any(|k| match_pieces(rest, &elements[k..])),
            Some((p, rest)) => elements.split_first().is_some_and(|(e, more)| piece_matches(p, e) && match_pieces(rest, more)),
        }
    }

    fn piece_matches(p: &Piece, name: &str) -> bool {
        match p {
            Piece::Literal(l) => l == name,
            Piece::Pattern(toks) => {
                let chars: Vec<char> = name.chars().collect();
                match_toks(toks, &chars)
            }
            Piece::AnyDirs => true,
        }
    }

    fn parse(element: &str, doublestar: bool) -> Result<Vec<Tok>, String> {
        let chars: Vec<char> = element.chars().collect();
        let mut i = 0;
        parse_seq(&chars, &mut i, false, doublestar)
    }

    fn parse_seq(c: &[char], i: &mut usize, in_alt: bool, doublestar: bool) -> Result<Vec<Tok>, String> {
        let mut out = Vec::new();
        while let Some(&ch) = c.get(*i) {
            match ch {
                ',' | '}' if in_alt => return Ok(out),
                '\\' => {
                    let next = *c.get(*i + 1).ok_or("trailing backslash")?;
                    out.push(Tok::Char(next));
                    *i += 2;
                }
                '*' => {
                    // `**` inside an element is one `*`.
                    if out.last() != Some(&Tok::Star) {
                        out.push(Tok::Star);
                    }
                    *i += 1;
                }
                '?' => {
                    out.push(Tok::Any);
                    *i += 1;
                }
                '[' => {
                    *i += 1;
                    out.push(parse_class(c, i, doublestar)?);
                }
                '{' if doublestar => {
                    *i += 1;
                    let mut alts = Vec::new();
                    loop {
                        alts.push(parse_seq(c, i, true, doublestar)?);
                        match c.get(*i) {
                            Some(',') => *i += 1,
                            Some('}') => {
                                *i += 1;
                                break;
                            }
                            _ => return Err("unclosed '{'".into()),
                        }
                    }
                    out.push(Tok::Alt(alts));
                }
                _ => {
                    out.push(Tok::Char(ch));
                    *i += 1;
                }
            }
        }
        Ok(out)
    }

    /// A class after its `[`: `[abc]`, `[a-z]`, `[^a]` or (doublestar) `[!a]`.
    fn parse_class(c: &[char], i: &mut usize, doublestar: bool) -> Result<Tok, String> {
        let negated = match c.get(*i) {
            Some('^') => true,
            Some('!') => doublestar,
            _ => false,
        };
        if negated {
            *i += 1;
        }
        let mut ranges = Vec::new();
        let one = |i: &mut usize| -> Result<char, String> {
            match c.get(*i) {
                None => Err("unclosed '['".into()),
                Some('\\') => {
                    let ch = *c.get(*i + 1).ok_or("unclosed '['")?;
                    *i += 2;
                    Ok(ch)
                }
                Some(&ch) => {
                    *i += 1;
                    Ok(ch)
                }
            }
        };
        loop {
            match c.get(*i) {
                None => return Err("unclosed '['".into()),
                Some(']') if !ranges.is_empty() => {
                    *i += 1;
                    return Ok(Tok::Class { negated, ranges });
                }
                Some(']') => return Err("empty character class".into()),
                _ => {}
            }
            let lo = one(i)?;
            let hi = if c.get(*i) == Some(&'-') && c.get(*i + 1).is_some_and(|n| *n != ']') {
                *i += 1;
                one(i)?
            } else {
                lo
            };
            if hi < lo {
                return Err(format!("invalid range {lo}-{hi}"));
            }
            ranges.push((lo, hi));
        }
    }

    fn match_toks(toks: &[Tok], s: &[char]) -> bool {
        match toks.split_first() {
            None => s.is_empty(),
            Some((Tok::Star, rest)) => (0..=s.len()).any(|k| match_toks(rest, &s[k..])),
            Some((Tok::Any, rest)) => !s.is_empty() && match_toks(rest, &s[1..]),
            Some((Tok::Char(c), rest)) => s.first() == Some(c) && match_toks(rest, &s[1..]),
            Some((Tok::Class { negated, ranges }, rest)) => {
                s.first().is_some_and(|ch| ranges.iter().any(|(lo, hi)| (lo..=hi).contains(&ch)) != *negated) && match_toks(rest, &s[1..])
            }
            Some((Tok::Alt(alts), rest)) => alts.iter().any(|a| {
                let mut seq = a.clone();
                seq.extend_from_slice(rest);
                match_toks(&seq, s)
            }),
        }
    }

    /// Names in `dir` (the current directory for the empty path), sorted; non-UTF-8 names
    /// cannot match a pattern and are left out.
    fn entries(dir: &Path) -> Vec<String> {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
        let mut names: Vec<String> = rd.flatten().filter_map(|e| e.file_name().into_string().ok()).collect();
        names.sort();
        names
    }

    fn exists(p: &Path) -> bool {
        !p.as_os_str().is_empty() && std::fs::symlink_metadata(p).is_ok()
    }

    fn walk(base: &Path, pieces: &[Piece], out: &mut Vec<PathBuf>) {
        let Some((first, rest)) = pieces.split_first() else {
            if exists(base) {
                out.push(base.to_path_buf());
            }
            return;
        };
        match first {
            Piece::Literal(name) => walk(&base.join(name), rest, out),
            Piece::Pattern(toks) => {
                for name in entries(base) {
                    if piece_matches(&Piece::Pattern(toks.clone()), &name) {
                        walk(&base.join(&name), rest, out);
                    }
                }
            }
            Piece::AnyDirs => any_dirs(base, rest, out, &mut HashSet::new()),
        }
    }

    /// `**` then `rest`: `rest` from `dir` and from every directory below it. Symlinked
    /// directories are followed once each (a link loop ends).
    fn any_dirs(dir: &Path, rest: &[Piece], out: &mut Vec<PathBuf>, seen: &mut HashSet<PathBuf>) {
        if rest.is_empty() {
            // A trailing `**` matches the directory and everything below it.
            if exists(dir) {
                out.push(dir.to_path_buf());
            }
        } else {
            walk(dir, rest, out);
        }
        for name in entries(dir) {
            let p = dir.join(&name);
            if !std::fs::metadata(&p).is_ok_and(|m| m.is_dir()) {
                if rest.is_empty() {
                    out.push(p);
                }
                continue;
            }
            let key = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
            if seen.insert(key) {
                any_dirs(&p, rest, out, seen);
            }
        }
    }

    /// Go's `filepath.Clean`: no `.`, no `dir/..`, no doubled or trailing `/`.
    pub(crate) fn clean(path: &str) -> String {
        let rooted = path.starts_with('/');
        let mut parts: Vec<&str> = Vec::new();
        for e in path.split('/') {
            match e {
                "" | "." => {}
                ".." => {
                    if parts.last().is_some_and(|p| *p != "..") {
                        parts.pop();
                    } else if !rooted {
                        parts.push("..");
                    }
                }
                e => parts.push(e),
            }
        }
        let joined = parts.join("/");
        match (rooted, joined.is_empty()) {
            (true, _) => format!("/{joined}"),
            (false, true) => ".".to_string(),
            (false, false) => joined,
        }
    }

    /// `path` made absolute against `cwd` and cleaned (Go's `filepath.Abs`).
    pub(crate) fn absolute(path: &str, cwd: &Path) -> String {
        if path.starts_with('/') {
            clean(path)
        } else {
            clean(&format!("{}/{path}", cwd.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::glob::{clean, Glob};
    use super::*;
    use crate::discovery::testing::{context, target};

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
