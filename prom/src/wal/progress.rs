//! Where each sender has got to, in `<wal dir>/progress/<name>`, so a restarted sender resumes
//! where it stopped instead of resending the log or skipping what it had not sent.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::segment::sync_dir;
use super::Position;

const DIR: &str = "progress";
const MAGIC: &str = "alloy-wal-progress v1";

/// One sender's saved position.
#[derive(Clone, Debug)]
pub struct Progress {
    dir: PathBuf,
    path: PathBuf,
    tmp: PathBuf,
}

/// Endpoint names become file names: bytes outside `[A-Za-z0-9_-]` (and a leading `.`) are
/// `%XX`-escaped, so any name maps to one file and back.
fn escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, b) in name.bytes().enumerate() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && i > 0) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() {
        out.push('%');
    }
    out
}

fn unescape(file: &str) -> Option<String> {
    if file == "%" {
        return Some(String::new());
    }
    let mut bytes = Vec::with_capacity(file.len());
    let mut it = file.bytes();
    while let Some(b) = it.next() {
        if b == b'%' {
            let hex = [it.next()?, it.next()?];
            bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).ok()
}

fn parse(text: &str) -> Option<Position> {
    let rest = text.strip_prefix(MAGIC)?.strip_prefix(' ')?.strip_suffix('\n')?;
    let (seg, off) = rest.split_once(' ')?;
    Some(Position::new(seg.parse().ok()?, off.parse().ok()?))
}

impl Progress {
    pub fn new(wal_dir: impl AsRef<Path>, name: &str) -> Progress {
        let dir = wal_dir.as_ref().join(DIR);
        let file = escape(name);
        Progress { path: dir.join(&file), tmp: dir.join(format!(".{file}.tmp")), dir }
    }

    /// The saved position; `None` when nothing was saved. A file that does not parse is an
    /// `InvalidData` error: the caller should start from the oldest data (resend, not lose).
    pub fn load(&self) -> io::Result<Option<Position>> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        parse(&text).map(Some).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("{}: not a WAL progress file", self.path.display())))
    }

    /// Saves atomically (temp file, rename): after the process dies the file holds this
    /// position or the previous one, never a mix. Not fsynced: after a power loss the file may
    /// be empty, which [`Progress::load`] reports as `InvalidData` and the sender resends from
    /// the oldest data, so a lost save costs duplicates, never samples.
    pub fn save(&self, pos: Position) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let mut f = File::create(&self.tmp)?;
        f.write_all(format!("{MAGIC} {} {}\n", pos.segment, pos.offset).as_bytes())?;
        drop(f);
        fs::rename(&self.tmp, &self.path)
    }

    /// Forgets the sender (an endpoint removed from the configuration must not hold the log
    /// back).
    pub fn remove(&self) -> io::Result<()> {
        for p in [&self.path, &self.tmp] {
            match fs::remove_file(p) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        match sync_dir(&self.dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Every saved sender and its position (files that do not parse are left out).
    pub fn list(wal_dir: impl AsRef<Path>) -> io::Result<Vec<(String, Position)>> {
        let dir = wal_dir.as_ref().join(DIR);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry?;
            let file = entry.file_name();
            let Some(file) = file.to_str().filter(|f| !f.starts_with('.')) else { continue };
            let Some(name) = unescape(file) else { continue };
            if let Some(pos) = fs::read_to_string(entry.path()).ok().as_deref().and_then(parse) {
                out.push((name, pos));
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_escape_and_come_back() {
        for name in ["default", "a/b c", ".hidden", "", "ünï", "x%y", "a.b"] {
            let e = escape(name);
            assert!(!e.contains('/') && !e.starts_with('.') && !e.is_empty(), "{e}");
            assert_eq!(unescape(&e).as_deref(), Some(name));
        }
    }

    #[test]
    fn save_load_list_remove() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = Progress::new(dir.path(), "ep/1");
        assert_eq!(p.load().expect("load"), None);
        p.save(Position::new(3, 1234)).expect("save");
        p.save(Position::new(4, 5)).expect("save");
        assert_eq!(p.load().expect("load"), Some(Position::new(4, 5)));
        Progress::new(dir.path(), "other").save(Position::new(1, 0)).expect("save");
        assert_eq!(Progress::list(dir.path()).expect("list"), vec![("ep/1".to_string(), Position::new(4, 5)), ("other".to_string(), Position::new(1, 0))]);
        fs::write(&p.path, "garbage").expect("write");
        assert_eq!(p.load().map_err(|e| e.kind()), Err(io::ErrorKind::InvalidData));
        p.remove().expect("remove");
        assert_eq!(p.load().expect("load"), None);
    }
}
