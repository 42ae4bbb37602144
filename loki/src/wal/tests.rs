use std::fs::OpenOptions;
use std::io::Write;

use proptest::prelude::*;

use super::*;

fn entry(job: &str, ts: i64, line: &str) -> Entry {
    Entry::new(Labels::new([("job", job)]), ts, line)
}

fn read_all(r: &mut Reader) -> Vec<Read> {
    let mut out = Vec::new();
    while let Some(read) = r.next().expect("read") {
        out.push(read);
    }
    out
}

fn lines(reads: &[Read]) -> Vec<String> {
    reads.iter().flat_map(|r| r.entries.iter().map(|e| e.line.clone())).collect()
}

#[test]
fn entries_round_trip_with_metadata_and_shared_label_sets() {
    let mut with_meta = entry("a", -5, "négatif");
    with_meta.set_metadata("trace_id", "abc");
    with_meta.set_metadata("empty", "");
    let entries = vec![entry("a", 1, "one"), entry("a", 2, ""), with_meta, entry("b", i64::MAX, "b"), entry("a", i64::MIN, "a again")];
    let mut enc = Encoder::default();
    let bodies = enc.encode(&entries).to_vec();
    assert_eq!(bodies.len(), 1);
    assert_eq!(decode(&bodies[0]).expect("decodes"), entries);
    // Three runs: the label set of a run is written once.
    let once = enc.encode(&entries[..2])[0].len();
    let twice = enc.encode(&[entries[0].clone(), entry("z", 2, "")])[0].len();
    assert!(once < twice, "{once} < {twice}");
}

#[test]
fn large_batches_are_cut_into_records_of_about_64_kib() {
    let line = "x".repeat(10 << 10);
    let entries: Vec<Entry> = (0..25).map(|i| entry("a", i, &line)).collect();
    let mut enc = Encoder::default();
    let bodies = enc.encode(&entries).to_vec();
    assert_eq!(bodies.iter().map(|b| decode(b).expect("decodes").len()).collect::<Vec<_>>(), [7, 7, 7, 4], "cut after the entry past 64 KiB");
    let huge = enc.encode(&[entry("a", 1, &"y".repeat(200 << 10))]).to_vec();
    assert_eq!(huge.len(), 1, "a larger entry gets a record of its own");
    let back: Vec<Entry> = bodies.iter().flat_map(|b| decode(b).expect("decodes")).collect();
    assert_eq!(back, entries);
    assert!(enc.encode(&[]).is_empty());
}

#[test]
fn bad_bodies_are_errors_not_panics() {
    let mut enc = Encoder::default();
    let mut e = entry("a", 1, "line");
    e.set_metadata("k", "v");
    let body = enc.encode(&[e])[0].clone();
    for cut in 0..body.len() {
        assert!(decode(&body[..cut]).is_err() || cut == 0, "cut at {cut}");
    }
    let mut huge = body.clone();
    // A label count claiming more than the record holds.
    huge[0] = 0x7f;
    assert!(decode(&huge).is_err());
}

#[test]
fn a_writer_and_a_reader_resume_at_a_saved_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut w, warnings) = Writer::open(dir.path(), LogOptions::default()).expect("open");
    assert_eq!(warnings, vec![]);
    let mut r = Reader::open(dir.path(), Position::default()).expect("reader");
    w.append(&[entry("a", 1, "one"), entry("a", 2, "two")]).expect("append");
    let end = w.append(&[entry("b", 3, "three")]).expect("append");
    let reads = read_all(&mut r);
    assert_eq!(lines(&reads), ["one", "two", "three"]);
    assert_eq!(reads.last().map(|r| r.end), Some(end));
    let saved = reads[0].end;
    drop(w);
    let (mut w, warnings) = Writer::open(dir.path(), LogOptions::default()).expect("reopen");
    assert_eq!(warnings, vec![]);
    w.append(&[entry("c", 4, "four")]).expect("append");
    let mut r = Reader::open(dir.path(), saved).expect("reader");
    assert_eq!(lines(&read_all(&mut r)), ["three", "four"]);
    assert_eq!(r.take_warnings(), vec![]);
}

#[test]
fn a_truncated_final_record_is_cut_and_what_came_before_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut w, _) = Writer::open(dir.path(), LogOptions::default()).expect("open");
    w.append(&[entry("a", 1, "kept")]).expect("append");
    let before = w.position();
    w.append(&[entry("a", 2, "cut short by a crash")]).expect("append");
    let after = w.position();
    drop(w);
    // The last record loses its final bytes, as after a crash mid-write.
    let seg = dir.path().join(format!("{:08}", before.segment));
    OpenOptions::new().write(true).open(&seg).expect("segment").set_len(after.offset - 3).expect("truncate");
    let (mut w, warnings) = Writer::open(dir.path(), LogOptions::default()).expect("reopen");
    assert!(matches!(warnings.as_slice(), [Warning::TailTruncated { segment: 0, offset, .. }] if *offset == before.offset), "{warnings:?}");
    w.append(&[entry("a", 3, "after the restart")]).expect("append");
    let mut r = Reader::open(dir.path(), Position::default()).expect("reader");
    assert_eq!(lines(&read_all(&mut r)), ["kept", "after the restart"]);
    assert_eq!(r.take_warnings(), vec![]);
}

#[test]
fn a_reader_skips_a_corrupt_closed_segment_tail_with_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut w, _) = Writer::open(dir.path(), LogOptions::default()).expect("open");
    w.append(&[entry("a", 1, "first")]).expect("append");
    let end = w.append(&[entry("a", 2, "damaged")]).expect("append");
    w.rotate().expect("rotate");
    w.append(&[entry("a", 3, "next segment")]).expect("append");
    // Flip a byte in the second record of the closed segment: its checksum fails.
    let seg = dir.path().join("00000000");
    let mut bytes = std::fs::read(&seg).expect("read");
    let at = end.offset as usize - 2;
    bytes[at] ^= 0xff;
    OpenOptions::new().write(true).truncate(true).open(&seg).expect("open").write_all(&bytes).expect("write");
    let mut r = Reader::open(dir.path(), Position::default()).expect("reader");
    assert_eq!(lines(&read_all(&mut r)), ["first", "next segment"]);
    let warnings = r.take_warnings();
    assert!(matches!(warnings.as_slice(), [Warning::SegmentSkipped { segment: 0, reason: Corruption::Checksum, .. }]), "{warnings:?}");
}

fn arb_entry() -> impl Strategy<Value = Entry> {
    (prop::sample::select(vec!["a", "b", "c"]), any::<i64>(), ".{0,40}", prop::collection::btree_map("[a-z]{1,4}", ".{0,8}", 0..3)).prop_map(
        |(job, ts, line, meta)| {
            let mut e = entry(job, ts, &line);
            for (k, v) in meta {
                e.set_metadata(&k, &v);
            }
            e
        },
    )
}

proptest! {
    #[test]
    fn random_entries_round_trip(entries in prop::collection::vec(arb_entry(), 0..40)) {
        let mut enc = Encoder::default();
        let back: Vec<Entry> = enc.encode(&entries).iter().flat_map(|b| decode(b).expect("decodes")).collect();
        prop_assert_eq!(back, entries);
    }
}
