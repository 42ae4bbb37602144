//! Where each file was read to, by the file's fingerprint (its first `fingerprint_size`
//! bytes, as upstream identifies files): a file renamed, or found again after a restart, is
//! read on from there. Kept in memory, and in `<storage dir>/<component id>/file_offsets.json`
//! when `storage` names an `otelcol.storage.file` (written to a temporary name and renamed).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::delivery::storage::{client_dir, StorageDir};

/// The most files remembered: the oldest are forgotten first.
const MAX_KNOWN: usize = 4096;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Known {
    /// (fingerprint, offset), oldest first.
    entries: Vec<(Vec<u8>, u64)>,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    files: Vec<SavedFile>,
}

#[derive(Serialize, Deserialize)]
struct SavedFile {
    fingerprint: String,
    offset: u64,
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()).collect()
}

impl Known {
    /// The offset of the file whose fingerprint `fp` starts with a known one (the longest).
    pub fn lookup(&self, fp: &[u8]) -> Option<u64> {
        if fp.is_empty() {
            return None;
        }
        self.entries.iter().filter(|(k, _)| !k.is_empty() && fp.starts_with(k)).max_by_key(|(k, _)| k.len()).map(|(_, o)| *o)
    }

    /// Records a file's offset; an entry for the same file seen when it was shorter (a
    /// prefix of `fp`) is replaced.
    pub fn put(&mut self, fp: &[u8], offset: u64) {
        if fp.is_empty() {
            return;
        }
        self.entries.retain(|(k, _)| !fp.starts_with(k));
        self.entries.push((fp.to_vec(), offset));
        if self.entries.len() > MAX_KNOWN {
            let excess = self.entries.len() - MAX_KNOWN;
            self.entries.drain(..excess);
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The file offsets are kept in, for a storage directory and this component.
pub fn path_for(storage: &StorageDir, component_id: &str) -> PathBuf {
    client_dir(storage, component_id).join("file_offsets.json")
}

pub fn load(path: &Path) -> Result<Known, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Known::default()),
        Err(e) => return Err(format!("reading {}: {e}", path.display())),
    };
    let saved: Saved = serde_json::from_slice(&bytes).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let mut known = Known::default();
    for f in saved.files {
        let fp = from_hex(&f.fingerprint).ok_or_else(|| format!("reading {}: a fingerprint is not hex", path.display()))?;
        known.put(&fp, f.offset);
    }
    Ok(known)
}

pub fn save(path: &Path, known: &Known, fsync: bool) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let saved = Saved { files: known.entries.iter().map(|(fp, offset)| SavedFile { fingerprint: crate::otelcol::hex(fp), offset: *offset }).collect() };
    let bytes = serde_json::to_vec(&saved).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("json.tmp");
    {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        if fsync {
            f.sync_all()?;
        }
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grown_file_replaces_its_shorter_fingerprint_and_lookups_match_by_prefix() {
        let mut k = Known::default();
        k.put(b"abc", 3);
        k.put(b"abcdef", 6);
        assert_eq!(k.len(), 1);
        assert_eq!(k.lookup(b"abcdefgh"), Some(6), "the file grew past the fingerprint seen");
        assert_eq!(k.lookup(b"abx"), None);
        assert_eq!(k.lookup(b""), None);
        k.put(b"xyz", 9);
        assert_eq!(k.lookup(b"xyz"), Some(9));
    }

    #[test]
    fn offsets_survive_a_save_and_load_and_garbage_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = StorageDir { component_id: "otelcol.storage.file.s".into(), dir: dir.path().to_path_buf(), fsync: false };
        let p = path_for(&storage, "otelcol.receiver.filelog.a");
        assert_eq!(load(&p), Ok(Known::default()), "nothing saved yet");
        let mut k = Known::default();
        k.put(&[0, 255, 10], 42);
        save(&p, &k, true).expect("saves");
        assert_eq!(load(&p), Ok(k));
        std::fs::write(&p, "{not json").expect("write");
        assert!(load(&p).is_err());
    }
}
