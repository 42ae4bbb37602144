//! Shared helpers of the collectors: errors, file reading, device filters.

use std::io;
use std::path::Path;

use regex::Regex;

use super::ConfigError;

/// Why a collector's update failed.
#[derive(Debug)]
pub(crate) struct CollectError {
    pub message: String,
    /// node_exporter's `ErrNoData`: nothing to report on this host, not a fault.
    pub no_data: bool,
}

impl CollectError {
    pub fn new(message: impl Into<String>) -> CollectError {
        CollectError { message: message.into(), no_data: false }
    }

    pub fn no_data(message: impl Into<String>) -> CollectError {
        CollectError { message: message.into(), no_data: true }
    }
}

pub(crate) type Result<T> = std::result::Result<T, CollectError>;

/// The text of an OS error as Go prints it (`no such file or directory`): strerror without Rust's
/// ` (os error N)` suffix, lower-cased first letter. Used where node_exporter puts the error into a label.
pub(crate) fn go_error_text(e: &io::Error) -> String {
    let s = e.to_string();
    let s = match s.find(" (os error ") {
        Some(i) => &s[..i],
        None => &s[..],
    };
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Reads a whole file; the error names the path.
pub(crate) fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| CollectError::new(format!("read {}: {}", path.display(), go_error_text(&e))))
}

/// Reads a file, `Ok(None)` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CollectError::new(format!("read {}: {}", path.display(), go_error_text(&e)))),
    }
}

/// Reads a one-line sysfs/procfs file, trimmed.
pub(crate) fn read_trimmed(path: &Path) -> io::Result<String> {
    Ok(std::fs::read_to_string(path)?.trim().to_string())
}

/// Reads a file holding one unsigned integer.
pub(crate) fn read_u64(path: &Path) -> io::Result<u64> {
    read_trimmed(path)?.parse().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Compiles `pattern` for the argument `argument`; `""` (unset) gives `None`.
pub(crate) fn compile(argument: &'static str, pattern: &str) -> std::result::Result<Option<Regex>, ConfigError> {
    if pattern.is_empty() {
        return Ok(None);
    }
    Regex::new(pattern).map(Some).map_err(|e| ConfigError::Regex { argument, error: Box::new(e) })
}

/// node_exporter's deviceFilter: a name is ignored when it matches the exclude pattern or misses the include one
/// (unanchored search, as Go's `MatchString`).
#[derive(Debug, Default)]
pub(crate) struct DeviceFilter {
    pub exclude: Option<Regex>,
    pub include: Option<Regex>,
}

impl DeviceFilter {
    pub fn ignored(&self, name: &str) -> bool {
        self.exclude.as_ref().is_some_and(|r| r.is_match(name)) || self.include.as_ref().is_some_and(|r| !r.is_match(name))
    }
}

/// Replaces characters not allowed in metric names by `_` (node_exporter's SanitizeMetricName collapses runs).
pub(crate) fn push_sanitized(out: &mut String, s: &str) {
    // `last_us`: the output ends in `_`; `after_bad`: inside or right after a run of invalid characters, where
    // further underscores are swallowed like Go's `_*[^0-9A-Za-z_]+_*` does.
    let (mut last_us, mut after_bad) = (false, false);
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
            (last_us, after_bad) = (false, false);
        } else if c == '_' {
            if !after_bad {
                out.push('_');
            }
            last_us = true;
        } else {
            if !last_us {
                out.push('_');
            }
            (last_us, after_bad) = (true, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_error_text_lowercases_and_drops_errno() {
        let e = io::Error::from_raw_os_error(2);
        assert_eq!(go_error_text(&e), "no such file or directory");
    }

    #[test]
    fn filter() {
        let f = DeviceFilter { exclude: compile("x", "^lo$").unwrap(), include: None };
        assert!(f.ignored("lo"));
        assert!(!f.ignored("eth0"));
        let f = DeviceFilter { exclude: None, include: compile("x", "eth").unwrap() };
        assert!(f.ignored("lo"));
        assert!(!f.ignored("veth0"));
    }

    #[test]
    fn sanitize_collapses_like_go() {
        for (i, want) in [("a(_b", "a_b"), ("a_(b", "a_b"), ("a-.b", "a_b"), ("a__b", "a__b"), ("ok_1", "ok_1")] {
            let mut s = String::new();
            push_sanitized(&mut s, i);
            assert_eq!(s, want, "{i}");
        }
    }
}
