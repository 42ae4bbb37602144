//! The file side of `otelcol.receiver.filelog` on real files in temporary directories, and
//! its arguments' rules.

use std::io::Write as _;
use std::path::Path;
use std::time::SystemTime;

use super::files::Settings;
use super::header::HeaderRules;
use super::multiline::{Rules, Split};
use super::reader::Compression;
use super::*;
use crate::file_glob::glob::Glob;
use crate::loki::source::file::charset::Charset;
use crate::otelcol::consumer::Output;

fn append(path: &Path, text: &str) {
    append_bytes(path, text.as_bytes());
}

fn append_bytes(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open");
    f.write_all(bytes).expect("write");
}

fn settings(dir: &Path, include: &[&str], exclude: &[&str]) -> Settings {
    let glob = |p: &&str| Glob::new(&format!("{}/{p}", dir.display()), true).expect("a glob");
    Settings {
        include: include.iter().map(glob).collect(),
        exclude: exclude.iter().map(glob).collect(),
        start_at_beginning: true,
        fingerprint_size: 1000,
        charset: Charset::Utf8,
        exclude_older_than: Duration::ZERO,
        max_files: None,
        rules: Rules { split: Split::Lines, omit_pattern: false, preserve_leading: false, preserve_trailing: false, max_bytes: 1 << 20 },
        force_flush: Duration::from_millis(500),
        delete_after_read: false,
        owner: false,
        compression: Compression::None,
        ordering: Default::default(),
    }
}

/// Every text one poll reads, as (file name, text).
fn poll(set: &mut FileSet) -> Vec<(String, String)> {
    poll_at(set, Instant::now())
}

fn poll_at(set: &mut FileSet, now: Instant) -> Vec<(String, String)> {
    let (read, _) = set.poll(now);
    read.into_iter().flat_map(|t| t.texts.into_iter().map(move |x| (base_name(&t.path), x))).collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn start_at_end_skips_what_is_there_but_reads_files_that_appear_later_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.log");
    append(&a, "old 1\nold 2\n");
    let mut s = settings(dir.path(), &["*.log"], &[]);
    s.start_at_beginning = false;
    let mut set = FileSet::new(s, Known::default(), None);
    assert_eq!(poll(&mut set), [], "start_at end");
    append(&a, "new\n");
    let b = dir.path().join("b.log");
    append(&b, "b1\nb2\n");
    assert_eq!(poll(&mut set), pairs(&[("a.log", "new"), ("b.log", "b1"), ("b.log", "b2")]));

    let mut set = FileSet::new(settings(dir.path(), &["*.log"], &[]), Known::default(), None);
    assert_eq!(poll(&mut set).len(), 5, "start_at beginning reads everything");
}

#[test]
fn include_and_exclude_globs_and_old_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    for name in ["a.log", "skip.log", "c.txt", "sub/d.log"] {
        append(&dir.path().join(name), &format!("{name}\n"));
    }
    let old = dir.path().join("old.log");
    append(&old, "old\n");
    let f = std::fs::File::options().write(true).open(&old).expect("open");
    f.set_modified(SystemTime::now() - Duration::from_secs(3600)).expect("set mtime");
    let mut s = settings(dir.path(), &["**/*.log"], &["skip.log"]);
    s.exclude_older_than = Duration::from_secs(60);
    let mut set = FileSet::new(s, Known::default(), None);
    assert_eq!(poll(&mut set), pairs(&[("a.log", "a.log"), ("d.log", "sub/d.log")]));
}

#[test]
fn rename_rotation_reads_the_rest_of_the_old_file_then_the_new_one_without_repeats() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("app.log");
    append(&a, "1\n2\n");
    // `app.log*` also matches the rotated file: its fingerprint says it was read already.
    let mut set = FileSet::new(settings(dir.path(), &["app.log*"], &[]), Known::default(), None);
    assert_eq!(poll(&mut set), pairs(&[("app.log", "1"), ("app.log", "2")]));
    append(&a, "3\n");
    std::fs::rename(&a, dir.path().join("app.log.1")).expect("rename");
    append(&a, "4\n");
    assert_eq!(poll(&mut set), pairs(&[("app.log", "3"), ("app.log", "4")]));
    append(&dir.path().join("app.log.1"), "late\n");
    assert_eq!(poll(&mut set), pairs(&[("app.log.1", "late")]), "the rotated file is followed on from where it was read");

    // Without a match for the rotated name, the old file is still read to its end.
    let mut set = FileSet::new(settings(dir.path(), &["app.log"], &[]), Known::default(), None);
    assert_eq!(poll(&mut set), pairs(&[("app.log", "4")]));
    append(&a, "5\nunterminated");
    std::fs::rename(&a, dir.path().join("app.log.2")).expect("rename");
    assert_eq!(poll(&mut set), pairs(&[("app.log", "5"), ("app.log", "unterminated")]));
}

#[test]
fn copy_truncate_starts_again_at_zero_and_the_copy_is_not_read_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("app.log");
    append(&a, "first line of the file\n");
    let mut set = FileSet::new(settings(dir.path(), &["app.log*"], &[]), Known::default(), None);
    assert_eq!(poll(&mut set).len(), 1);
    std::fs::copy(&a, dir.path().join("app.log.1")).expect("copy");
    std::fs::write(&a, "").expect("truncate");
    append(&a, "after\n");
    assert_eq!(poll(&mut set), pairs(&[("app.log", "after")]));
}

#[test]
fn offsets_resume_by_fingerprint_in_a_new_file_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.log");
    append(&a, "one\ntwo\n");
    let mut set = FileSet::new(settings(dir.path(), &["*.log"], &[]), Known::default(), None);
    assert_eq!(poll(&mut set).len(), 2);
    let known = set.known.clone();
    append(&a, "three\n");
    // Renamed while nobody watched: still the same file by its fingerprint.
    std::fs::rename(&a, dir.path().join("b.log")).expect("rename");
    let mut s = settings(dir.path(), &["*.log"], &[]);
    s.start_at_beginning = false;
    let mut set = FileSet::new(s, known, None);
    assert_eq!(poll(&mut set), pairs(&[("b.log", "three")]));
}

#[test]
fn multiline_groups_and_an_unterminated_line_flushes_after_the_period() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.log");
    let mut s = settings(dir.path(), &["*.log"], &[]);
    s.rules.split = Split::Start(regex::Regex::new(r"^\[").expect("regex"));
    let mut set = FileSet::new(s, Known::default(), None);
    append(&a, "[1] boom\n  at x\n[2] ok\n[3] no newline yet");
    let t0 = Instant::now();
    assert_eq!(poll_at(&mut set, t0), pairs(&[("a.log", "[1] boom\n  at x")]));
    let later = t0 + Duration::from_secs(1);
    assert_eq!(poll_at(&mut set, later), pairs(&[("a.log", "[2] ok")]), "the group waited force_flush_period");
    assert_eq!(poll_at(&mut set, later + Duration::from_secs(1)), pairs(&[("a.log", "[3] no newline yet")]));
}

#[test]
fn utf16_files_decode_and_long_lines_split_at_max_log_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = dir.path().join("w.log");
    let bytes: Vec<u8> = "Grüße\r\nok\n".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    append_bytes(&w, &bytes);
    let mut s = settings(dir.path(), &["w.log"], &[]);
    s.charset = Charset::by_name("utf-16le").expect("known");
    let mut set = FileSet::new(s, Known::default(), None);
    assert_eq!(poll(&mut set), pairs(&[("w.log", "Grüße"), ("w.log", "ok")]));

    let l = dir.path().join("l.log");
    append(&l, "abcdefghij\n");
    let mut s = settings(dir.path(), &["l.log"], &[]);
    s.rules.max_bytes = 4;
    let mut set = FileSet::new(s, Known::default(), None);
    assert_eq!(poll(&mut set), pairs(&[("l.log", "abcd"), ("l.log", "efgh"), ("l.log", "ij")]));
}

#[test]
fn max_batches_limits_the_files_read_per_poll() {
    let dir = tempfile::tempdir().expect("tempdir");
    for n in 0..5 {
        // Distinct contents: files with the same first bytes are one file to upstream too.
        append(&dir.path().join(format!("{n}.log")), &format!("{n}\n"));
    }
    let mut s = settings(dir.path(), &["*.log"], &[]);
    s.max_files = Some(2);
    let mut set = FileSet::new(s, Known::default(), None);
    assert_eq!(poll(&mut set), pairs(&[("0.log", "0"), ("1.log", "1")]));
}

fn refused(body: &str) -> Vec<String> {
    let text = format!("otelcol.receiver.filelog \"t\" {{\n{body}\n  output {{}}\n}}\n");
    let v = crate::component::args::evaluated(&text).expect("evaluates");
    crate::component::args::check::<Args>(NAME, &v).iter().map(crate::component::args::describe).collect()
}

#[test]
fn arguments_are_checked_by_name() {
    let cases = [
        ("include = [\"/x\"]\n start_at = \"middle\"", "start_at: invalid start_at location \"middle\""),
        ("include = [\"/x\"]\n fingerprint_size = 8", "fingerprint_size: fingerprint_size must be at least 16 bytes"),
        ("include = [\"/x\"]\n encoding = \"klingon\"", "encoding: unsupported encoding 'klingon'"),
        ("include = [\"/x\"]\n delete_after_read = true", "delete_after_read: delete_after_read cannot be used with start_at = \"end\""),
        ("include = [\"/x\"]\n header {\n pattern = \"^#\"\n metadata_operators = []\n }", "header: header cannot be used with start_at = \"end\""),
        (
            "include = [\"/x\"]\n start_at = \"beginning\"\n header {\n pattern = \"^#\"\n metadata_operators = [{type = \"nope\"}]\n }",
            "header.metadata_operators[0].type: unsupported operator type \"nope\"",
        ),
        ("include = [\"/x\"]\n compression = \"zip\"", "compression: unsupported compression \"zip\""),
        ("include = [\"/x\"]\n multiline {\n omit_pattern = true\n }", "multiline: one of line_start_pattern or line_end_pattern must be set"),
        ("include = [\"/x\"]\n multiline {\n line_start_pattern = \"(\"\n }", "multiline.line_start_pattern: compile line_start_pattern regex"),
        (
            "include = [\"/x\"]\n operators = [{type = \"json_parsr\"}]",
            "operators[0].type: unsupported operator type \"json_parsr\"; did you mean \"json_parser\"?",
        ),
        ("include = [\"/x\"]\n operators = [{type = \"regex_parser\", regex = \"(\"}]", "operators[0].regex: invalid regular expression"),
        ("include = [\"/x\"]\n operators = [{type = \"move\", from = \"body\"}]", "operators[0]: missing required field \"to\""),
    ];
    for (body, want) in cases {
        let got = refused(body);
        assert!(got.iter().any(|m| m.starts_with(want)), "{body}: expected {want:?}, got {got:?}");
    }
    assert_eq!(refused("include = [\"/x\"]\n operators = [{type = \"noop\"}]"), Vec::<String>::new());
}

fn receiver_args(dir: &Path, version: &str) -> Value {
    let text = format!(
        "otelcol.receiver.filelog \"t\" {{\n include = [\"{}/*.log\"]\n start_at = \"beginning\"\n attributes = {{ v = \"{version}\" }}\n operators = [{{ type = \"recombine\", combine_field = \"body\", is_first_entry = \"body startsWith 'S'\", force_flush_period = \"1h\" }}]\n output {{}}\n}}\n",
        dir.display()
    );
    crate::component::args::evaluated(&text).expect("evaluates")
}

#[test]
fn an_update_releases_what_the_old_operators_held_and_reads_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.log");
    append(&a, "S1\ncont\nS2\n");
    let ctx = crate::component::detached_context("otelcol.receiver.filelog.update-test");
    let c = FilelogReceiver::new(ctx, &receiver_args(dir.path(), "1")).expect("builds");
    let bodies = |entries: Vec<Entry>| {
        entries.into_iter().map(|e| (e.body.to_text().unwrap_or_default(), e.attributes.get("v").and_then(Val::to_text))).collect::<Vec<_>>()
    };
    let (out, _) = c.poll(false);
    assert_eq!(bodies(out), [("S1\ncont".to_string(), Some("1".to_string()))], "S2 is held for its continuation");
    c.update(receiver_args(dir.path(), "2")).expect("updates");
    append(&a, "S3\n");
    let (out, _) = c.poll(false);
    assert_eq!(bodies(out), [("S2".to_string(), Some("1".to_string()))], "released by the update; S3 held by the new operators, nothing read twice");
    let (out, _) = c.poll(true);
    assert_eq!(bodies(out), [("S3".to_string(), Some("2".to_string()))], "released at shutdown");
}

#[test]
fn delete_after_read_removes_a_file_once_read_to_its_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.log");
    append(&a, "one\nlast without newline");
    let mut s = settings(dir.path(), &["*.log"], &[]);
    s.delete_after_read = true;
    let mut set = FileSet::new(s, Known::default(), None);
    assert_eq!(poll(&mut set), pairs(&[("a.log", "one"), ("a.log", "last without newline")]));
    assert!(!a.exists(), "deleted after reading");
    append(&a, "a new file\n");
    assert_eq!(poll(&mut set), pairs(&[("a.log", "a new file")]));
    assert!(!a.exists());
    assert!(set.problems.is_empty(), "{:?}", set.problems);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_on_failure_resends_what_the_next_component_refused_for_now() {
    use crate::otelcol::consumer::tests::sink_handle;
    use crate::otelcol::consumer::ConsumeError;

    for retry in [true, false] {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = format!(
            "otelcol.receiver.filelog \"t\" {{\n include = [\"{}/*.log\"]\n start_at = \"beginning\"\n poll_interval = \"20ms\"\n retry_on_failure {{\n enabled = {retry}\n initial_interval = \"20ms\"\n }}\n output {{}}\n}}\n",
            dir.path().display()
        );
        let args = crate::component::args::evaluated(&text).expect("evaluates");
        let ctx = crate::component::detached_context("otelcol.receiver.filelog.retry-test");
        let c = FilelogReceiver::new(ctx, &args).expect("builds");
        let (sink, handle) = sink_handle();
        *sink.refuse.lock().unwrap_or_else(|e| e.into_inner()) = Some(ConsumeError::Unavailable("busy".into()));
        c.fanout.set(Output { logs: vec![handle], ..Default::default() });
        let stop = CancellationToken::new();
        let task = tokio::spawn(c.clone().run(stop.clone()));
        append(&dir.path().join("a.log"), "hello\n");
        tokio::time::sleep(Duration::from_millis(300)).await;
        *sink.refuse.lock().unwrap_or_else(|e| e.into_inner()) = None;
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.cancel();
        task.await.expect("joins").expect("runs");
        assert_eq!(sink.items(), usize::from(retry), "retry_on_failure enabled = {retry}");
    }
}

#[cfg(unix)]
#[test]
fn file_attributes_follow_their_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let real = dir.path().join("real.log");
    append(&real, "line\n");
    let link = dir.path().join("link.log");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let text = format!(
        "otelcol.receiver.filelog \"t\" {{\n include = [\"{}\"]\n start_at = \"beginning\"\n include_file_name = false\n include_file_path = true\n include_file_name_resolved = true\n include_file_path_resolved = true\n include_file_owner_name = true\n include_file_owner_group_name = true\n output {{}}\n}}\n",
        link.display()
    );
    let ctx = crate::component::detached_context("otelcol.receiver.filelog.attributes-test");
    let c = FilelogReceiver::new(ctx, &crate::component::args::evaluated(&text).expect("evaluates")).expect("builds");
    let (out, _) = c.poll(false);
    assert_eq!(out.len(), 1);
    let (owner, group) = owner::owner_and_group(&real);
    let canonical = std::fs::canonicalize(&real).expect("canonical");
    let mut want: BTreeMap<String, Val> =
        [("log.file.path", text_of(&link)), ("log.file.name_resolved", "real.log".to_string()), ("log.file.path_resolved", text_of(&canonical))]
            .into_iter()
            .map(|(k, v)| (k.to_string(), Val::Str(v)))
            .collect();
    want.extend(owner.map(|o| ("log.file.owner.name".to_string(), Val::Str(o))));
    want.extend(group.map(|g| ("log.file.owner.group.name".to_string(), Val::Str(g))));
    assert_eq!(out[0].attributes, want);
}

fn gzip(path: &Path, text: &str) {
    use flate2::write::GzEncoder;
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).expect("compress");
    std::fs::write(path, enc.finish().expect("finish")).expect("write");
}

#[test]
fn auto_compression_decompresses_gz_files_once_and_tails_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    gzip(&dir.path().join("old.log.gz"), "z1\nz2\nlast");
    append(&dir.path().join("app.log"), "plain\n");
    let mut s = settings(dir.path(), &["*"], &[]);
    s.compression = Compression::Auto;
    let mut set = FileSet::new(s, Known::default(), None);
    let mut got = poll(&mut set);
    got.sort();
    assert_eq!(got, pairs(&[("app.log", "plain"), ("old.log.gz", "last"), ("old.log.gz", "z1"), ("old.log.gz", "z2")]));
    assert_eq!(poll(&mut set), [], "read once");

    // A restart knows the compressed file by its fingerprint: nothing twice.
    let known = set.known.clone();
    let mut s = settings(dir.path(), &["*"], &[]);
    s.compression = Compression::Auto;
    assert_eq!(poll(&mut FileSet::new(s, known, None)), []);

    // `start_at = "end"` leaves compressed files there at the start alone, not those after.
    let mut s = settings(dir.path(), &["*.gz"], &[]);
    s.compression = Compression::Gzip;
    s.start_at_beginning = false;
    let mut set = FileSet::new(s, Known::default(), None);
    assert_eq!(poll(&mut set), []);
    gzip(&dir.path().join("new.log.gz"), "fresh\n");
    assert_eq!(poll(&mut set), pairs(&[("new.log.gz", "fresh")]));
}

#[test]
fn a_file_that_is_not_gzip_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    append(&dir.path().join("fake.gz"), "not compressed\n");
    let mut s = settings(dir.path(), &["*.gz"], &[]);
    s.compression = Compression::Gzip;
    let mut set = FileSet::new(s, Known::default(), None);
    assert_eq!(poll(&mut set), []);
    assert_eq!(set.problems.len(), 1, "{:?}", set.problems);
}

fn header_rules() -> HeaderRules {
    let ops = vec![
        Val::Map([("type", "regex_replace"), ("field", "body"), ("regex", "^# ")].into_iter().map(|(k, v)| (k.to_string(), Val::str(v))).collect()),
        Val::Map([("type", "key_value_parser")].into_iter().map(|(k, v)| (k.to_string(), Val::str(v))).collect()),
    ];
    HeaderRules { pattern: regex::Regex::new("^#").expect("regex"), pipeline: Pipeline::build(&ops).expect("operators") }
}

/// Every record one poll reads, as (text, header attributes as `k=v` joined by commas).
fn poll_with_headers(set: &mut FileSet) -> Vec<(String, String)> {
    let (read, _) = set.poll(Instant::now());
    read.into_iter()
        .flat_map(|t| {
            let header: Vec<String> = t.about.header.iter().map(|(k, v)| format!("{k}={}", v.to_text().unwrap_or_default())).collect();
            let header = header.join(",");
            t.texts.into_iter().map(move |x| (x, header.clone()))
        })
        .collect()
}

#[test]
fn header_lines_become_attributes_of_the_file_records_across_restart_and_rotation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("app.log");
    append(&a, "# env=prod\n# team=shop\nfirst\n# not header\n");
    let mut set = FileSet::new(settings(dir.path(), &["app.log"], &[]), Known::default(), Some(header_rules()));
    let h = "env=prod,team=shop";
    assert_eq!(poll_with_headers(&mut set), pairs(&[("first", h), ("# not header", h)]), "header lines are not records");

    // A restart resumes past the header and reads it again.
    append(&a, "second\n");
    let mut set = FileSet::new(settings(dir.path(), &["app.log"], &[]), set.known.clone(), Some(header_rules()));
    assert_eq!(poll_with_headers(&mut set), pairs(&[("second", h)]));

    // The rotated file's last lines keep its header; the new file has its own.
    append(&a, "third\n");
    std::fs::rename(&a, dir.path().join("app.log.1")).expect("rotate");
    append(&a, "# env=test\nfourth\n");
    assert_eq!(poll_with_headers(&mut set), pairs(&[("third", h), ("fourth", "env=test")]));
}

#[test]
fn a_rotated_file_drained_over_several_polls_is_not_read_again_under_its_new_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("app.log");
    append(&a, "start\n");
    let mut set = FileSet::new(settings(dir.path(), &["app.log*"], &[]), Known::default(), None);
    assert_eq!(poll(&mut set).len(), 1);
    // More than one poll's worth (1 MiB) unread when the file is renamed.
    let line = format!("{}\n", "y".repeat(999));
    append(&a, &line.repeat(2500));
    std::fs::rename(&a, dir.path().join("app.log.1")).expect("rotate");
    append(&a, "fresh\n");
    let mut got = Vec::new();
    for _ in 0..10 {
        let (read, more) = set.poll(Instant::now());
        got.extend(read.into_iter().flat_map(|t| t.texts));
        if !more && got.last().is_some_and(|l| l == "fresh") {
            break;
        }
    }
    assert_eq!(got.len(), 2501, "each old line once, then the new file");
    let (read, _) = set.poll(Instant::now());
    assert!(read.is_empty(), "app.log.1 is known by its fingerprint: {:?}", read.iter().map(|t| t.texts.len()).collect::<Vec<_>>());
}
