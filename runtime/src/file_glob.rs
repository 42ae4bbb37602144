//! Glob expansion of `__path__` targets, shared by `local.file_match` and
//! `loki.source.file { file_match { enabled = true } }`: one target per matching file, with
//! `__path__` made absolute, `__path_exclude__` honoured, directories and (optionally) old
//! files skipped.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use glob::Glob;

/// A target: its labels.
pub type Target = BTreeMap<String, String>;

pub const PATH: &str = "__path__";
pub const EXCLUDE: &str = "__path_exclude__";

/// One target per file matched by the targets' globs, sorted by the caller.
pub fn matching_files(path_targets: &[Target], ignore_older_than: Duration) -> Vec<Target> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let oldest = (!ignore_older_than.is_zero()).then(|| SystemTime::now().checked_sub(ignore_older_than)).flatten();
    let mut out = Vec::new();
    for t in path_targets {
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
