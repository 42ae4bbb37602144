//! `os`: `node_os_info` and `node_os_version` from os-release(5) under `rootfs_path` (`/etc/os-release`, else
//! `/usr/lib/os-release`), plus `node_os_support_end_timestamp_seconds` when `SUPPORT_END` is set.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::expfmt::{MetricType, Sink};
use crate::unix::util::{read_optional, CollectError, Result};
use crate::unix::{Collector, Config};

pub(crate) struct OsRelease {
    files: [PathBuf; 2],
}

impl OsRelease {
    pub fn new(cfg: &Config) -> OsRelease {
        let root = PathBuf::from(&cfg.rootfs_path);
        OsRelease { files: [root.join("etc/os-release"), root.join("usr/lib/os-release")] }
    }
}

/// Parses `KEY=value` lines: double-quoted values with backslash escapes, single-quoted literal values, unquoted
/// values up to a ` #` comment. Lines that are not assignments are skipped.
pub(crate) fn parse_env(text: &str) -> HashMap<String, String> {
    let mut env = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else { continue };
        let k = k.trim();
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let v = v.trim_start();
        let value = if let Some(rest) = v.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = rest.chars();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('n') => out.push('\n'),
                        Some(e) => out.push(e),
                        None => {}
                    },
                    c => out.push(c),
                }
            }
            out
        } else if let Some(rest) = v.strip_prefix('\'') {
            rest.split('\'').next().unwrap_or("").to_string()
        } else {
            let end = v.find(" #").unwrap_or(v.len());
            v[..end].trim_end().to_string()
        };
        env.insert(k.to_string(), value);
    }
    env
}

/// The leading `major[.minor]` of VERSION_ID as a number (`22.04.1` → 22.04), 0 when absent.
fn major_minor(version_id: &str) -> f64 {
    let b = version_id.as_bytes();
    let mut end = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if end == 0 {
        return 0.0;
    }
    if b.get(end) == Some(&b'.') {
        end += 1;
        end += b[end..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    version_id[..end].trim_end_matches('.').parse().unwrap_or(0.0)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// `YYYY-MM-DD` (Go's time.DateOnly) as Unix seconds at UTC midnight.
fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (s[..4].parse().ok()?, s[5..7].parse().ok()?, s[8..].parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&m) || d < 1 || d > days_in[(m - 1) as usize] {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86400)
}

const INFO_LABELS: &[&str] =
    &["build_id", "id", "id_like", "image_id", "image_version", "name", "pretty_name", "variant", "variant_id", "version", "version_codename", "version_id"];

impl Collector for OsRelease {
    fn update(&self, sink: &mut Sink) -> Result<()> {
        let mut text = None;
        for f in &self.files {
            if let Some(t) = read_optional(f)? {
                text = Some(t);
                break;
            }
        }
        let Some(text) = text else { return Err(CollectError::no_data("no os-release file found")) };
        let env = parse_env(&text);
        let get = |k: &str| env.get(k).map(String::as_str).unwrap_or("");
        let support_end = match get("SUPPORT_END") {
            "" => None,
            s => Some(parse_date(s).ok_or_else(|| CollectError::new(format!("invalid SUPPORT_END {s:?}")))?),
        };
        let values: Vec<&str> = [
            "BUILD_ID",
            "ID",
            "ID_LIKE",
            "IMAGE_ID",
            "IMAGE_VERSION",
            "NAME",
            "PRETTY_NAME",
            "VARIANT",
            "VARIANT_ID",
            "VERSION",
            "VERSION_CODENAME",
            "VERSION_ID",
        ]
        .iter()
        .map(|k| get(k))
        .collect();
        sink.sample(
            "node_os_info",
            "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, image_version, name, pretty_name, variant, variant_id, version, version_codename, version_id.",
            MetricType::Gauge,
            INFO_LABELS,
            &values,
            1.0,
        );
        let version = major_minor(get("VERSION_ID"));
        if version > 0.0 {
            sink.sample(
                "node_os_version",
                "Metric containing the major.minor part of the OS version.",
                MetricType::Gauge,
                &["id", "id_like", "name"],
                &[get("ID"), get("ID_LIKE"), get("NAME")],
                version,
            );
        }
        if let Some(ts) = support_end {
            sink.single("node_os_support_end_timestamp_seconds", "Metric containing the end-of-life date timestamp of the OS.", MetricType::Gauge, ts as f64);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_parsing() {
        let env = parse_env("# c\nNAME=\"Ubuntu \\\"x\\\"\"\nID=ubuntu # comment\nVERSION_ID='22.04'\nbroken line\n");
        assert_eq!(env["NAME"], "Ubuntu \"x\"");
        assert_eq!(env["ID"], "ubuntu");
        assert_eq!(env["VERSION_ID"], "22.04");
        assert_eq!(env.len(), 3);
    }

    #[test]
    fn versions_and_dates() {
        assert_eq!(major_minor("22.04.1"), 22.04);
        assert_eq!(major_minor("12"), 12.0);
        assert_eq!(major_minor("rolling"), 0.0);
        assert_eq!(parse_date("1970-01-02"), Some(86400));
        assert_eq!(parse_date("2025-12-31"), Some(1767139200));
        assert_eq!(parse_date("2024-02-30"), None);
    }
}
