//! `loki.source.file` on input that is wrong or goes away: bytes that are not UTF-8, binary
//! files, a file deleted while followed, an unreadable positions file. Uses the harness of
//! [`super::tests`].

use super::tests::{append, context, lines, start};
use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_and_binary_content_arrive_as_replacement_characters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("app.log");
    let mut bytes = b"ok\n".to_vec();
    bytes.extend_from_slice(b"caf\xe9 latin-1\n");
    bytes.extend_from_slice(&[0, 1, 2, 0xff, 0xfe, b'\n']);
    bytes.extend_from_slice(b"after\n");
    std::fs::write(&file, &bytes).expect("write");
    let (_c, stop, task, mut out) = start(context("binary"), &file, "");
    let got = lines(&mut out, 4).await;
    let texts: Vec<&str> = got.iter().map(|e| e.line.as_str()).collect();
    assert_eq!(texts, ["ok", "caf\u{fffd} latin-1", "\u{0}\u{1}\u{2}\u{fffd}\u{fffd}", "after"]);
    stop.cancel();
    task.await.expect("joins").expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_deleted_while_followed_is_picked_up_again_when_it_reappears() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("app.log");
    append(&file, "one\n");
    let (_c, stop, task, mut out) = start(context("deleted"), &file, "");
    assert_eq!(lines(&mut out, 1).await[0].line, "one");
    append(&file, "two (unterminated, but the file goes)");
    std::fs::remove_file(&file).expect("delete");
    tokio::time::sleep(Duration::from_millis(100)).await;
    append(&file, "three\n");
    let got = lines(&mut out, 2).await;
    let texts: Vec<&str> = got.iter().map(|e| e.line.as_str()).collect();
    assert_eq!(texts, ["two (unterminated, but the file goes)", "three"], "the deleted file is drained, the new one read from its start");
    assert!(!task.is_finished(), "still running");
    stop.cancel();
    task.await.expect("joins").expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_positions_file_is_warned_about_and_reading_starts_afresh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("app.log");
    append(&file, "kept\n");
    let ctx = context("badpositions");
    std::fs::create_dir_all(ctx.data_path()).expect("data dir");
    std::fs::write(ctx.data_path().join("positions.yml"), "positions: [this is: {not, what: it should be\n\u{0}").expect("write");
    let (_c, stop, task, mut out) = start(ctx.clone(), &file, "");
    assert_eq!(lines(&mut out, 1).await[0].line, "kept", "restart_from_beginning (the default) reads the file from its start");
    stop.cancel();
    task.await.expect("joins").expect("stops");
    let saved = std::fs::read_to_string(ctx.data_path().join("positions.yml")).expect("positions written again");
    assert!(saved.contains("\"5\""), "the new positions file holds the offset read: {saved}");

    // `skip`: the component refuses to start rather than read anything twice.
    std::fs::write(ctx.data_path().join("positions.yml"), "positions: [").expect("write");
    let text = format!(
        "loki.source.file \"t\" {{\n  forward_to = []\n  targets = [{{\"__path__\" = {:?}}}]\n  on_positions_file_error = \"skip\"\n}}\n",
        file.display().to_string()
    );
    let v = crate::component::args::evaluated(&text).expect("evaluates");
    let err = FileSource::new(ctx, &v).err().expect("refused");
    assert!(err.0.contains("positions file"), "{}", err.0);
}
