//! A file's owner and group names (`include_file_owner_name`, `include_file_owner_group_name`),
//! looked up in `/etc/passwd` and `/etc/group` as Go's pure user lookup does.

use std::path::Path;

/// The name whose id (third field) is `id` in a passwd- or group-format text.
fn name_of(db: &str, id: u32) -> Option<String> {
    db.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let mut fields = l.split(':');
        let name = fields.next()?;
        let found: u32 = fields.nth(1)?.parse().ok()?;
        (found == id && !name.is_empty()).then(|| name.to_string())
    })
}

/// The owner's and the group's names of the file at `path`, where they can be found.
#[cfg(unix)]
pub fn owner_and_group(path: &Path) -> (Option<String>, Option<String>) {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(m) = std::fs::metadata(path) else { return (None, None) };
    let lookup = |db: &str, id: u32| std::fs::read_to_string(db).ok().and_then(|text| name_of(&text, id));
    (lookup("/etc/passwd", m.uid()), lookup("/etc/group", m.gid()))
}

#[cfg(not(unix))]
pub fn owner_and_group(_: &Path) -> (Option<String>, Option<String>) {
    (None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_map_to_names() {
        let passwd = "# comment\nroot:x:0:0:root:/root:/bin/sh\nalloy:x:473:473::/var/lib/alloy:/sbin/nologin\n";
        assert_eq!(name_of(passwd, 473).as_deref(), Some("alloy"));
        assert_eq!(name_of(passwd, 0).as_deref(), Some("root"));
        assert_eq!(name_of(passwd, 9), None);
        assert_eq!(name_of("broken line\n::x\n", 0), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_we_write_is_owned_by_a_known_user() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.log");
        std::fs::write(&p, "x").expect("write");
        let (owner, group) = owner_and_group(&p);
        // Whoever runs the tests has a passwd entry on any ordinary machine.
        assert!(owner.is_some() && group.is_some(), "{owner:?} {group:?}");
    }
}
