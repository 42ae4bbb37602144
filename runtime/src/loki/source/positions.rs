//! The positions file (`positions.yml` in a log source's data directory): how far each source
//! was read, keyed by a path and the target's label text, in upstream's format, so a restart
//! resumes where it stopped. `loki.source.file` keeps byte offsets under the file's path;
//! `loki.source.docker` keeps timestamps under `cursor-<container id>`:
//!
//! ```yaml
//! positions:
//!   ? path: /var/log/app.log
//!     labels: '{job="app"}'
//!   : "1234"
//! ```
//!
//! Written atomically (temporary file, then rename; mode 0600).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

/// A source's key: its path (or cursor name) and its target's labels as text.
pub type Key = (String, String);

/// What a position is: read from and written as the entry's text.
pub trait Position: Clone + PartialEq + std::fmt::Debug {
    /// What a position is, for the error about one that is not.
    const WHAT: &'static str;
    fn parse(text: &str) -> Option<Self>;
    fn render(&self) -> String;
}

/// A byte offset (`loki.source.file`).
impl Position for u64 {
    const WHAT: &'static str = "a byte offset";

    fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }

    fn render(&self) -> String {
        self.to_string()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Positions<P = u64> {
    pub offsets: BTreeMap<Key, P>,
}

impl<P> Default for Positions<P> {
    fn default() -> Self {
        Positions { offsets: BTreeMap::new() }
    }
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Real(r) => Some(r.clone()),
        _ => None,
    }
}

impl<P: Position> Positions<P> {
    /// Reads `path`; a missing file is no positions. Offsets that are not numbers are an error
    /// (the caller decides, as `on_positions_file_error` says).
    pub fn load(path: &Path) -> Result<Positions<P>, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Positions::default()),
            Err(e) => return Err(format!("reading {}: {e}", path.display())),
        };
        Positions::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Positions<P>, String> {
        let docs = YamlLoader::load_from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
        let mut out = Positions::default();
        let Some(doc) = docs.first() else { return Ok(out) };
        let entries = match &doc["positions"] {
            Yaml::Hash(h) => h,
            Yaml::Null | Yaml::BadValue => return Ok(out),
            _ => return Err("`positions` is not a map".into()),
        };
        for (k, v) in entries {
            let key = match k {
                Yaml::Hash(_) => (scalar(&k["path"]).unwrap_or_default(), scalar(&k["labels"]).unwrap_or_default()),
                // Promtail's form: the path alone.
                other => (scalar(other).unwrap_or_default(), "{}".to_string()),
            };
            let offset = scalar(v).and_then(|s| P::parse(&s)).ok_or_else(|| format!("the position of {:?} is not {}", key.0, P::WHAT))?;
            out.offsets.insert(key, offset);
        }
        Ok(out)
    }

    pub fn render(&self) -> String {
        let mut out = String::from("positions:\n");
        for ((path, labels), offset) in &self.offsets {
            out.push_str(&format!("  ? path: {}\n    labels: {}\n  : \"{}\"\n", quote(path), quote(labels), offset.render()));
        }
        if self.offsets.is_empty() {
            out = "positions: {}\n".into();
        }
        out
    }

    /// Writes atomically next to `path`.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = tmp_path(path);
        {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&tmp)?;
            f.write_all(self.render().as_bytes())?;
        }
        std::fs::rename(&tmp, path)
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// A YAML single-quoted scalar (quotes doubled).
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_file() {
        let mut p = Positions::<u64>::default();
        p.offsets.insert(("/var/log/a b.log".into(), r#"{job="it's"}"#.into()), 1234);
        p.offsets.insert(("/var/log/c.log".into(), "{}".into()), 0);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("positions.yml");
        p.save(&path).expect("saves");
        assert_eq!(Positions::load(&path), Ok(p));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777).ok(), Some(0o600));
        }
    }

    #[test]
    fn reads_promtail_positions_and_refuses_bad_offsets() {
        let p = Positions::<u64>::parse("positions:\n  /var/log/syslog: \"42\"\n").expect("parses");
        assert_eq!(p.offsets.get(&("/var/log/syslog".to_string(), "{}".to_string())), Some(&42));
        assert!(Positions::<u64>::parse("positions:\n  /x: nope\n").is_err());
        assert_eq!(Positions::parse(""), Ok(Positions::<u64>::default()));
        assert_eq!(Positions::load(Path::new("/nonexistent/positions.yml")), Ok(Positions::<u64>::default()));
    }
}
