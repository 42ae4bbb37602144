//! Persistent queues: a directory (the `handler` of `otelcol.storage.file`, passed to an
//! exporter's `sending_queue { storage = ... }`) where each queued request is a file until it
//! is sent, so a restart sends what was queued before it. Files are named by a sequence
//! number and a kind, written to a temporary name and renamed (so a crash never leaves half a
//! request under a final name), and removed once the request is done with.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The capsule type `otelcol.storage.file` exports (the collector's extension handler).
pub const HANDLER_TYPE: &str = "otelcol.Handler";

/// A storage extension's directory, as exporters receive it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageDir {
    pub component_id: String,
    pub dir: PathBuf,
    pub fsync: bool,
}

impl eval::CapsuleValue for StorageDir {
    fn type_name(&self) -> &str {
        HANDLER_TYPE
    }

    fn equals(&self, other: &dyn eval::CapsuleValue) -> bool {
        other.as_any().downcast_ref::<StorageDir>() == Some(self)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl eval::Decode for StorageDir {
    fn decode(v: &eval::Value) -> Result<Self, eval::ValueError> {
        eval::decode::decode_capsule::<StorageDir>(v, HANDLER_TYPE)
            .map_err(|_| eval::ValueError::message("storage must be the handler of an otelcol.storage.file component"))
    }
}

/// One client's files inside a storage directory (an exporter's queue).
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    fsync: bool,
    next: AtomicU64,
}

/// A stored request: its file, kind and bytes.
pub struct Stored {
    pub file: PathBuf,
    pub kind: String,
    pub bytes: Vec<u8>,
}

/// A client's directory inside a storage directory: its name made safe for a file system.
pub fn client_dir(storage: &StorageDir, client: &str) -> PathBuf {
    let safe: String = client.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    storage.dir.join(safe)
}

impl Store {
    /// Opens (creating) `<storage dir>/<client>`.
    pub fn open(storage: &StorageDir, client: &str) -> std::io::Result<Store> {
        let dir = client_dir(storage, client);
        std::fs::create_dir_all(&dir)?;
        let store = Store { dir, fsync: storage.fsync, next: AtomicU64::new(0) };
        let last = store.list()?.last().map_or(0, |(seq, _, _)| seq + 1);
        store.next.store(last, Ordering::SeqCst);
        Ok(store)
    }

    /// The stored files, oldest first: (sequence, kind, path).
    fn list(&self) -> std::io::Result<Vec<(u64, String, PathBuf)>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
            // `<seq>.<kind>`; temporary files (`.tmp` suffix) are leftovers of a crash.
            if name.ends_with(".tmp") {
                let _ = std::fs::remove_file(&path);
                continue;
            }
            if let Some((seq, kind)) = name.split_once('.') {
                if let Ok(seq) = seq.parse::<u64>() {
                    out.push((seq, kind.to_string(), path));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Everything stored, oldest first; unreadable files are skipped and reported.
    pub fn load(&self) -> (Vec<Stored>, Vec<String>) {
        let (mut items, mut problems) = (Vec::new(), Vec::new());
        match self.list() {
            Ok(files) => {
                for (_, kind, file) in files {
                    match std::fs::read(&file) {
                        Ok(bytes) => items.push(Stored { file, kind, bytes }),
                        Err(e) => problems.push(format!("{}: {e}", file.display())),
                    }
                }
            }
            Err(e) => problems.push(format!("{}: {e}", self.dir.display())),
        }
        (items, problems)
    }

    /// Writes a request; the file it is in.
    pub fn put(&self, kind: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let seq = self.next.fetch_add(1, Ordering::SeqCst);
        let file = self.dir.join(format!("{seq:020}.{kind}"));
        let tmp = file.with_extension(format!("{kind}.tmp"));
        {
            use std::io::Write as _;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            if self.fsync {
                f.sync_all()?;
            }
        }
        std::fs::rename(&tmp, &file)?;
        Ok(file)
    }

    /// Forgets a request that was sent or given up on.
    pub fn remove(file: &Path) {
        let _ = std::fs::remove_file(file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_survive_a_reopen_in_order_and_leave_when_removed() {
        let root = std::env::temp_dir().join(format!("alloy-store-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let storage = StorageDir { component_id: "otelcol.storage.file.t".into(), dir: root.clone(), fsync: true };
        let s = Store::open(&storage, "otelcol.exporter.otlp.a/b").unwrap();
        let a = s.put("traces", b"one").unwrap();
        s.put("logs", b"two").unwrap();
        // A crash between write and rename leaves a temporary file, which is ignored.
        std::fs::write(s.dir.join("00000000000000000009.traces.tmp"), b"half").unwrap();
        Store::remove(&a);
        let again = Store::open(&storage, "otelcol.exporter.otlp.a/b").unwrap();
        let (items, problems) = again.load();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(items.iter().map(|i| (i.kind.as_str(), i.bytes.as_slice())).collect::<Vec<_>>(), [("logs", &b"two"[..])]);
        // New requests go after the stored ones.
        let c = again.put("metrics", b"three").unwrap();
        assert!(c > items[0].file);
        let _ = std::fs::remove_dir_all(&root);
    }
}
