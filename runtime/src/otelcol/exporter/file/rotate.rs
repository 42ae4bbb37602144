//! The output file: buffered writes, and size-based rotation into timestamped backups
//! (`name-2006-01-02T15-04-05.000.ext`, UTC) keeping at most `max_backups` of them and
//! none older than `max_days`, as upstream's rotation does.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Rotation limits; `None` means the file grows without limit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rotation {
    pub max_bytes: u64,
    pub max_backups: usize,
    pub max_days: u64,
}

pub struct Output {
    path: PathBuf,
    file: BufWriter<File>,
    size: u64,
    rotation: Option<Rotation>,
}

/// `2006-01-02T15-04-05.000` for a time (UTC).
fn stamp(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, m, day) = crate::civil_date::civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{day:02}T{:02}-{:02}-{:02}.{:03}", s / 3600, s / 60 % 60, s % 60, d.subsec_millis())
}

/// `dir/name-<stamp>.ext` for `dir/name.ext`.
fn backup_name(path: &Path, t: SystemTime) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    path.with_file_name(format!("{stem}-{}{ext}", stamp(t)))
}

impl Output {
    pub fn open(path: &Path, append: bool, rotation: Option<Rotation>) -> io::Result<Output> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).write(true).append(append).truncate(!append).open(path)?;
        let size = file.metadata()?.len();
        Ok(Output { path: path.to_path_buf(), file: BufWriter::new(file), size, rotation })
    }

    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        if let Some(r) = &self.rotation {
            if r.max_bytes > 0 && self.size > 0 && self.size + data.len() as u64 > r.max_bytes {
                self.rotate()?;
            }
        }
        self.file.write_all(data)?;
        self.size += data.len() as u64;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        std::fs::rename(&self.path, backup_name(&self.path, SystemTime::now()))?;
        self.file = BufWriter::new(OpenOptions::new().create(true).write(true).truncate(true).open(&self.path)?);
        self.size = 0;
        self.prune()
    }

    /// Removes backups beyond `max_backups` (oldest first) or older than `max_days`.
    fn prune(&self) -> io::Result<()> {
        let Some(r) = &self.rotation else { return Ok(()) };
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let stem = self.path.file_stem().map(|s| format!("{}-", s.to_string_lossy())).unwrap_or_default();
        let mut backups: Vec<(PathBuf, SystemTime)> = std::fs::read_dir(dir)?
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(&stem) && e.path() != self.path)
            .filter_map(|e| Some((e.path(), e.metadata().ok()?.modified().ok()?)))
            .collect();
        backups.sort_by_key(|b| std::cmp::Reverse(b.1));
        let max_age = (r.max_days > 0).then(|| Duration::from_secs(r.max_days * 86_400));
        for (i, (p, modified)) in backups.iter().enumerate() {
            let too_many = r.max_backups > 0 && i >= r.max_backups;
            let too_old = max_age.is_some_and(|age| modified.elapsed().unwrap_or_default() > age);
            if too_many || too_old {
                std::fs::remove_file(p)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_and_backup_names_follow_upstream() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(stamp(t), "2023-11-14T22-13-20.123");
        assert_eq!(backup_name(Path::new("/x/out.json"), t), PathBuf::from("/x/out-2023-11-14T22-13-20.123.json"));
    }

    #[test]
    fn rotates_by_size_and_keeps_max_backups() {
        let dir = std::env::temp_dir().join(format!("alloy-file-rotate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("out.json");
        let mut o = Output::open(&path, false, Some(Rotation { max_bytes: 10, max_backups: 2, max_days: 0 })).unwrap();
        for i in 0..5 {
            o.write(format!("line{i}...\n").as_bytes()).unwrap();
            // Distinct backup names need distinct milliseconds.
            std::thread::sleep(Duration::from_millis(5));
        }
        o.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "line4...\n");
        let backups: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(Result::ok).filter(|e| e.path() != path).collect();
        assert_eq!(backups.len(), 2, "older backups are pruned");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
