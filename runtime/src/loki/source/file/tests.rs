//! `loki.source.file` on real files in a temporary directory.

use std::io::Write;

use tokio::sync::mpsc;

use super::*;
use crate::loki::receiver::{channel, Entries};

pub(super) fn append(path: &std::path::Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open");
    f.write_all(text.as_bytes()).expect("write");
}

/// A context whose data directory is fresh for this test.
pub(super) fn context(test: &str) -> Context {
    let id = format!("loki.source.file.{test}-{}", std::process::id());
    let ctx = crate::component::detached_context(&id);
    let _ = std::fs::remove_dir_all(ctx.data_path());
    ctx
}

/// The component running, its stop token and task, and where its entries go.
pub(super) type Started = (Arc<FileSource>, CancellationToken, tokio::task::JoinHandle<Result<(), ComponentError>>, mpsc::Receiver<Entries>);

pub(super) fn start(ctx: Context, file: &std::path::Path, extra: &str) -> Started {
    start_with(ctx, &format!("[{{\"__path__\" = {:?}, job = \"app\", \"__internal\" = \"x\"}}]", file.display().to_string()), extra)
}

fn start_with(ctx: Context, targets: &str, extra: &str) -> Started {
    let text = format!(
        "loki.source.file \"t\" {{\n  forward_to = []\n  targets = {targets}\n  file_watch {{\n    min_poll_frequency = \"20ms\"\n    max_poll_frequency = \"20ms\"\n  }}\n{extra}\n}}\n"
    );
    let mut v = crate::component::args::evaluated(&text).expect("evaluates");
    let (handle, out) = channel("test.out", 64);
    if let Value::Object(o) = &mut v {
        Arc::make_mut(o).insert("forward_to", Value::array(vec![handle.to_value()]));
    }
    let c = FileSource::new(ctx, &v).expect("builds");
    let stop = CancellationToken::new();
    let task = tokio::spawn(c.clone().run(stop.clone()));
    (c, stop, task, out)
}

pub(super) async fn lines(out: &mut mpsc::Receiver<Entries>, n: usize) -> Vec<Entry> {
    let mut got = Vec::new();
    while got.len() < n {
        match tokio::time::timeout(Duration::from_secs(5), out.recv()).await {
            Ok(Some(batch)) => got.extend(batch),
            _ => break,
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appended_lines_arrive_labelled_and_a_restart_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("app.log");
    append(&file, "first\nsecond\n");
    let ctx = context("resume");
    let (_c, stop, task, mut out) = start(ctx.clone(), &file, "");
    let got = lines(&mut out, 2).await;
    assert_eq!(got.iter().map(|e| e.line.as_str()).collect::<Vec<_>>(), ["first", "second"]);
    assert_eq!(got[0].labels, Labels::new([("job", "app"), ("filename", file.to_str().unwrap_or_default())]));
    stop.cancel();
    task.await.expect("joins").expect("stops");

    // Written while stopped: only these arrive after the restart.
    append(&file, "third\n");
    let (_c, stop, task, mut out) = start(ctx, &file, "");
    let got = lines(&mut out, 1).await;
    assert_eq!(got.iter().map(|e| e.line.as_str()).collect::<Vec<_>>(), ["third"]);
    assert!(tokio::time::timeout(Duration::from_millis(200), out.recv()).await.is_err(), "nothing read twice");
    stop.cancel();
    task.await.expect("joins").expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_from_end_skips_what_is_there() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("app.log");
    append(&file, "old\n");
    let (_c, stop, task, mut out) = start(context("tail"), &file, "  tail_from_end = true");
    tokio::time::sleep(Duration::from_millis(100)).await;
    append(&file, "new\n");
    let got = lines(&mut out, 1).await;
    assert_eq!(got.iter().map(|e| e.line.as_str()).collect::<Vec<_>>(), ["new"]);
    stop.cancel();
    task.await.expect("joins").expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotations_while_running_lose_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("app.log");
    let (_c, stop, task, mut out) = start(context("rotate"), &file, "");
    append(&file, "1\n");
    assert_eq!(lines(&mut out, 1).await.len(), 1);
    append(&file, "2\n");
    std::fs::rename(&file, dir.path().join("app.log.1")).expect("rename");
    append(&file, "3\n");
    let got = lines(&mut out, 2).await;
    assert_eq!(got.iter().map(|e| e.line.as_str()).collect::<Vec<_>>(), ["2", "3"]);
    std::fs::write(&file, "").expect("copy-truncate");
    append(&file, "4\n");
    let got = lines(&mut out, 1).await;
    assert_eq!(got.iter().map(|e| e.line.as_str()).collect::<Vec<_>>(), ["4"]);
    stop.cancel();
    task.await.expect("joins").expect("stops");
}

#[test]
fn unknown_encodings_and_compression_formats_are_refused() {
    let errors = |body: &str| {
        let v = crate::component::args::evaluated(&format!("loki.source.file \"t\" {{\n  forward_to = []\n  targets = []\n{body}\n}}\n")).expect("evaluates");
        crate::component::args::check::<Args>(NAME, &v).into_iter().map(|e| e.message).collect::<Vec<_>>()
    };
    assert_eq!(
        errors("  encoding = \"UTF-7\""),
        ["unknown encoding \"UTF-7\": expected an IANA character set name upstream decodes, such as \"UTF-8\", \"UTF-16LE\", \"ISO-8859-1\", \"windows-1252\" or \"Shift_JIS\""]
    );
    assert_eq!(
        errors("  decompression {\n    enabled = false\n    format = \"zip\"\n  }"),
        ["unsupported compression format \"zip\": expected \"gz\", \"z\" or \"bz2\""]
    );
    assert_eq!(
        errors("  on_positions_file_error = \"panic\""),
        ["unknown on_positions_file_error \"panic\": expected \"restart_from_beginning\", \"restart_from_end\" or \"skip\""]
    );
    for ok in [
        "  encoding = \"utf-8\"",
        "  encoding = \"UTF-16LE\"",
        "  encoding = \"windows-1252\"",
        "  decompression {\n    enabled = true\n    format = \"bz2\"\n  }",
    ] {
        assert!(errors(ok).is_empty(), "{ok}: {:?}", errors(ok));
    }
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

fn append_bytes(path: &std::path::Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open");
    f.write_all(bytes).expect("write");
}

fn line_texts(entries: &[Entry]) -> Vec<&str> {
    entries.iter().map(|e| e.line.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utf16_lines_arrive_decoded_and_a_restart_resumes_at_the_byte_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("win.log");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(utf16le("démarré\r\nprêt\r\n"));
    append_bytes(&file, &bytes);
    let ctx = context("utf16");
    let (_c, stop, task, mut out) = start(ctx.clone(), &file, "  encoding = \"UTF-16LE\"");
    assert_eq!(line_texts(&lines(&mut out, 2).await), ["démarré", "prêt"]);
    stop.cancel();
    task.await.expect("joins").expect("stops");
    let saved = std::fs::read_to_string(ctx.data_path().join("positions.yml")).expect("positions");
    assert!(saved.contains(&format!(": \"{}\"", bytes.len())), "a byte offset in the file: {saved}");

    append_bytes(&file, &utf16le("arrêté\r\n"));
    let (_c, stop, task, mut out) = start(ctx, &file, "  encoding = \"UTF-16LE\"");
    assert_eq!(line_texts(&lines(&mut out, 1).await), ["arrêté"]);
    assert!(tokio::time::timeout(Duration::from_millis(200), out.recv()).await.is_err(), "nothing read twice");
    stop.cancel();
    task.await.expect("joins").expect("stops");
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("compress");
    e.finish().expect("compress")
}

const GZ: &str = "  decompression {\n    enabled = true\n    format = \"gz\"\n  }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_file_is_read_once_and_not_again_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("app.log.gz");
    std::fs::write(&file, gzip(b"first\nsecond\nlast")).expect("write");
    let ctx = context("gz");
    let (c, stop, task, mut out) = start(ctx.clone(), &file, GZ);
    assert_eq!(line_texts(&lines(&mut out, 3).await), ["first", "second", "last"]);
    let info = c.debug_info().map(|v| eval::render::render(&v)).unwrap_or_default();
    assert!(info.contains("is_running  = false") && info.contains("read_offset = \"17\""), "{info}");
    stop.cancel();
    task.await.expect("joins").expect("stops");

    let (c, stop, task, mut out) = start(ctx, &file, GZ);
    assert!(tokio::time::timeout(Duration::from_millis(300), out.recv()).await.is_err(), "nothing sent again");
    assert_eq!(c.decompression_errors.get(), 0);
    stop.cancel();
    task.await.expect("joins").expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_or_plain_file_under_decompression_is_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (plain, cut) = (dir.path().join("plain.log"), dir.path().join("cut.gz"));
    append(&plain, "not compressed\n");
    let text: String = (0..5000).map(|i| format!("entry {i}\n")).collect();
    let whole = gzip(text.as_bytes());
    std::fs::write(&cut, &whole[..whole.len() / 2]).expect("write");
    let targets = format!("[{{\"__path__\" = {:?}}}, {{\"__path__\" = {:?}}}]", plain.display().to_string(), cut.display().to_string());
    let (c, stop, task, mut out) = start_with(context("corrupt"), &targets, GZ);
    let got = lines(&mut out, 1).await;
    assert!(!got.is_empty() && got.iter().all(|e| e.line.starts_with("entry ")), "the lines before the damage arrive");
    let mut counted = false;
    for _ in 0..100 {
        counted = c.decompression_errors.get() == 2;
        if counted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(counted, "both files counted: {}", c.decompression_errors.get());
    stop.cancel();
    task.await.expect("joins").expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_match_expands_globs_and_legacy_positions_are_resumed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    append(&a, "old\nnew\n");
    append(&b, "b1\n");
    let legacy = dir.path().join("promtail-positions.yaml");
    std::fs::write(&legacy, format!("positions:\n  {}: \"4\"\n", a.display())).expect("legacy");
    let glob = format!("[{{\"__path__\" = {:?}, job = \"app\"}}]", dir.path().join("*.log").display().to_string());
    let extra = format!("  legacy_positions_file = {:?}\n  file_match {{\n    enabled = true\n    sync_period = \"50ms\"\n  }}", legacy.display().to_string());
    let (_c, stop, task, mut out) = start_with(context("glob"), &glob, &extra);
    let mut got: Vec<String> = lines(&mut out, 2).await.into_iter().map(|e| e.line).collect();
    got.sort();
    assert_eq!(got, ["b1", "new"], "a.log resumes at its promtail position");
    append(&dir.path().join("c.log"), "c1\n");
    let got = lines(&mut out, 1).await;
    assert_eq!(got.iter().map(|e| (e.line.as_str(), e.labels.get("job"))).collect::<Vec<_>>(), [("c1", Some("app"))], "a new file is found at the next sync");
    stop.cancel();
    task.await.expect("joins").expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_file_metrics_carry_the_path_as_upstream() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("app.log");
    append(&file, "one\ntwo\npartial");
    let ctx = context("metrics");
    let (_c, stop, task, mut out) = start(ctx.clone(), &file, "");
    assert_eq!(lines(&mut out, 2).await.len(), 2);
    let text = ctx.registry().render();
    let path = file.display().to_string();
    for want in [
        format!("loki_source_file_read_lines_total{{component_id=\"{}\",component_path=\"/\",path=\"{path}\"}} 2", ctx.id()),
        format!("loki_source_file_read_bytes_total{{component_id=\"{}\",component_path=\"/\",path=\"{path}\"}} 8", ctx.id()),
        format!("loki_source_file_file_bytes_total{{component_id=\"{}\",component_path=\"/\",path=\"{path}\"}} 15", ctx.id()),
        format!("loki_source_file_files_active_total{{component_id=\"{}\",component_path=\"/\"}} 1", ctx.id()),
    ] {
        assert!(text.contains(&want), "{want} missing from:\n{text}");
    }
    stop.cancel();
    task.await.expect("joins").expect("stops");
}
