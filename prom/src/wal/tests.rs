use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::record::{put_sample, SampleDelta, TYPE_SAMPLES, TYPE_SERIES};
use super::segment::{segment_path, Framer, Next, SegmentReader};
use super::*;
use crate::labels::{Labels, Store};
use crate::sample::*;

/// Small uncompressed segments: rotation at predictable points.
fn opts(segment_size: u64) -> WalOptions {
    WalOptions { segment_size, compress: false }
}

fn open(dir: &Path, o: WalOptions) -> Wal {
    let (wal, warnings) = Wal::open(dir, o).expect("open");
    assert_eq!(warnings, vec![], "unexpected warnings at open");
    wal
}

fn series(i: usize) -> Labels {
    Labels::new([("__name__", "metric".to_string()), ("instance", format!("host-{i}")), ("job", "test".to_string())])
}

/// A batch of samples of series `0..n` at time `t`, all with value `v`.
fn batch(store: &Store, n: usize, t: i64, v: f64) -> Batch {
    let samples = (0..n)
        .map(|i| {
            let (series, labels) = store.intern(series(i));
            Sample { series, labels, t, v }
        })
        .collect();
    Batch { samples, ..Batch::default() }
}

/// What a batch holds, in the order the log keeps it, with floats as bits.
#[derive(Clone, Debug, PartialEq)]
enum Flat {
    S(Labels, i64, u64),
    H(Labels, i64, Histogram),
    E(Labels, Labels, i64, u64),
    M(Labels, Metadata),
}

fn flatten(b: &Batch) -> Vec<Flat> {
    let mut out: Vec<Flat> = b.samples.iter().map(|s| Flat::S(s.labels.clone(), s.t, s.v.to_bits())).collect();
    out.extend(b.histograms.iter().map(|h| Flat::H(h.labels.clone(), h.t, (*h.histogram).clone())));
    out.extend(b.exemplars.iter().map(|e| Flat::E(e.labels.clone(), e.exemplar.labels.clone(), e.exemplar.t, e.exemplar.value.to_bits())));
    out.extend(b.metadata.iter().map(|m| Flat::M(m.labels.clone(), (*m.metadata).clone())));
    out
}

fn flatten_items(items: &[ReadItem]) -> Vec<Flat> {
    let mut b = Batch::default();
    let mut out = Vec::new();
    for it in items {
        it.data.clone().append_to(&mut b);
        out.extend(flatten(&b));
        b = Batch::default();
    }
    out
}

fn read_all(r: &mut WalReader) -> Vec<ReadItem> {
    let mut out = Vec::new();
    while let Some(it) = r.next().expect("read") {
        out.push(it);
    }
    out
}

fn sample_values(items: &[ReadItem]) -> Vec<f64> {
    items
        .iter()
        .flat_map(|it| match &it.data {
            ReadData::Samples(v) => v.iter().map(|s| s.v).collect(),
            _ => Vec::new(),
        })
        .collect()
}

fn histogram(i: usize) -> Histogram {
    Histogram {
        schema: 3 - i as i32,
        zero_threshold: 1e-128,
        zero_count: 2.0,
        count: 10.0 + i as f64,
        sum: -17.5,
        positive_spans: vec![BucketSpan { offset: -2, length: 2 }, BucketSpan { offset: 1, length: 1 }],
        positive: vec![1.0, 2.0, 3.0],
        negative_spans: vec![BucketSpan { offset: 0, length: 1 }],
        negative: vec![4.0],
        is_float: i.is_multiple_of(2),
        reset_hint: [ResetHint::Unknown, ResetHint::Yes, ResetHint::No, ResetHint::Gauge][i % 4],
        custom_values: if i == 3 { vec![0.5, 1.0, f64::INFINITY] } else { vec![] },
    }
}

fn full_batch(store: &Store) -> Batch {
    let values = [1.5, STALE_NAN, NORMAL_NAN, f64::NAN, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::MIN_POSITIVE];
    let mut b = Batch::default();
    for (i, v) in values.into_iter().enumerate() {
        let (series, labels) = store.intern(series(i));
        b.samples.push(Sample { series, labels, t: 1_700_000_000_000 - i as i64 * 1000, v });
    }
    for i in 0..4 {
        let (series, labels) = store.intern(Labels::new([("__name__", "h"), ("i", &*i.to_string())]));
        b.histograms.push(HistogramSample { series, labels, t: -5 + i as i64, histogram: Arc::new(histogram(i)) });
    }
    let (series, labels) = store.intern(series(0));
    b.exemplars.push(ExemplarSample {
        series,
        labels: labels.clone(),
        exemplar: Exemplar { labels: Labels::new([("trace_id", "abc")]), value: STALE_NAN, t: 42 },
    });
    b.exemplars.push(ExemplarSample { series, labels: labels.clone(), exemplar: Exemplar { labels: Labels::empty(), value: 3.0, t: i64::MIN } });
    let metadata = Metadata { metric_family: "metric".into(), metric_type: MetricType::GaugeHistogram, help: "Some ✓ help".into(), unit: "seconds".into() };
    b.metadata.push(MetadataUpdate { series, labels, metadata: Arc::new(metadata) });
    b
}

#[test]
fn every_record_kind_round_trips_with_nan_bits() {
    for compress in [false, true] {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::default();
        let mut wal = open(dir.path(), WalOptions { compress, ..WalOptions::default() });
        let b = full_batch(&store);
        let end = wal.append(&b).expect("append");
        wal.append(&b).expect("append");
        let mut r = WalReader::open(dir.path(), Position::default()).expect("reader");
        let items = read_all(&mut r);
        assert_eq!(r.take_warnings(), vec![]);
        let mut want = flatten(&b);
        want.extend(flatten(&b));
        assert_eq!(flatten_items(&items), want);
        assert_eq!(items.iter().filter(|i| i.end <= end).count(), 4, "one record per kind");
        assert_eq!(items[3].end, end);
        let stale = items.iter().find_map(|i| match &i.data {
            ReadData::Samples(v) => Some(v[1].clone()),
            _ => None,
        });
        assert!(stale.is_some_and(|s| s.is_stale()), "StaleNaN bits survive");
        // The WAL ref of a series is the same in every record.
        let refs: Vec<SeriesRef> = items
            .iter()
            .flat_map(|i| match &i.data {
                ReadData::Samples(v) => vec![v[0].series],
                ReadData::Exemplars(v) => vec![v[0].series],
                ReadData::Metadata(v) => vec![v[0].series],
                ReadData::Histograms(_) => vec![],
            })
            .collect();
        assert!(refs.windows(2).all(|w| w[0] == w[1]), "{refs:?}");
    }
}

fn frame_types(path: &Path) -> Vec<u8> {
    let mut r = SegmentReader::open(path, 0).expect("open segment");
    let mut out = Vec::new();
    while let Next::Frame(f) = r.next().expect("read") {
        out.push(f.ty & 0x7f);
    }
    out
}

#[test]
fn a_series_is_written_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::default();
    let mut wal = open(dir.path(), WalOptions::default());
    for t in 0..3 {
        wal.append(&batch(&store, 10, t, 1.0)).expect("append");
    }
    // The same series under different labels objects and without a process ref.
    let mut b = batch(&Store::default(), 10, 3, 1.0);
    b.samples.iter_mut().for_each(|s| s.series = SeriesRef(0));
    wal.append(&b).expect("append");
    assert_eq!(wal.series_count(), 10);
    assert_eq!(frame_types(&segment_path(dir.path(), 0)), vec![TYPE_SERIES, TYPE_SAMPLES, TYPE_SAMPLES, TYPE_SAMPLES, TYPE_SAMPLES]);
    drop(wal);
    // …and not again after a restart.
    let mut wal = open(dir.path(), WalOptions::default());
    assert_eq!(wal.series_count(), 10);
    wal.append(&batch(&store, 11, 4, 1.0)).expect("append");
    assert_eq!(frame_types(&segment_path(dir.path(), 1)), vec![TYPE_SERIES, TYPE_SAMPLES]);
    let mut r = WalReader::open(dir.path(), Position::default()).expect("reader");
    assert_eq!(sample_values(&read_all(&mut r)).len(), 51);
}

#[test]
fn reader_follows_the_writer_across_rotations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::default();
    let mut wal = open(dir.path(), opts(2048));
    let mut r = WalReader::open(dir.path(), Position::default()).expect("reader");
    let mut got = Vec::new();
    let mut last = Position::default();
    for n in 0..300 {
        let end = wal.append(&batch(&store, 7, n, n as f64)).expect("append");
        if n % 3 == 0 {
            for it in read_all(&mut r) {
                assert!(it.end > last);
                last = it.end;
                got.extend(sample_values(&[it]));
            }
            assert_eq!(r.position(), end);
        }
    }
    got.extend(sample_values(&read_all(&mut r)));
    let want: Vec<f64> = (0..300).flat_map(|n| [n as f64; 7]).collect();
    assert_eq!(got, want);
    assert!(wal.position().segment > 10, "rotated: {}", wal.position());
    assert!(wal.segments().expect("segments").iter().all(|s| s.size <= 2048));
    assert_eq!(r.take_warnings(), vec![]);
}

#[test]
fn reader_keeps_up_with_a_writer_on_another_thread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    let mut wal = open(&path, opts(16 << 10));
    let writer = std::thread::spawn(move || {
        let store = Store::default();
        for n in 0..2000 {
            wal.append(&batch(&store, 1 + n % 13, n as i64, n as f64)).expect("append");
        }
    });
    let mut r = WalReader::open(&path, Position::default()).expect("reader");
    let want: Vec<f64> = (0..2000).flat_map(|n| vec![n as f64; 1 + n % 13]).collect();
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.len() < want.len() && Instant::now() < deadline {
        match r.next().expect("read") {
            Some(it) => got.extend(sample_values(&[it])),
            None => std::thread::yield_now(),
        }
    }
    writer.join().expect("writer");
    assert_eq!(got, want);
    assert_eq!(r.take_warnings(), vec![]);
}

#[test]
fn restart_resumes_at_the_saved_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::default();
    let mut wal = open(dir.path(), opts(4096));
    for n in 0..50 {
        wal.append(&batch(&store, 5 + n % 3, n as i64, n as f64)).expect("append");
    }
    let progress = Progress::new(dir.path(), "endpoint");
    {
        let mut r = WalReader::open(dir.path(), progress.load().expect("load").unwrap_or_default()).expect("reader");
        let mut sent = None;
        for _ in 0..20 {
            sent = r.next().expect("read");
        }
        let sent = sent.expect("20 items");
        assert_eq!(sample_values(std::slice::from_ref(&sent)), vec![19.0; 5 + 19 % 3]);
        progress.save(sent.end).expect("save");
    }
    drop(wal);
    // The restarted process: the writer reopens (new segment), appends more.
    let mut wal = open(dir.path(), opts(4096));
    for n in 50..60 {
        wal.append(&batch(&store, 5 + n % 3, n as i64, n as f64)).expect("append");
    }
    let start = progress.load().expect("load").expect("saved");
    let mut r = WalReader::open(dir.path(), start).expect("reader");
    let items = read_all(&mut r);
    assert_eq!(r.take_warnings(), vec![]);
    let want: Vec<f64> = (20..60).flat_map(|n| vec![n as f64; 5 + n % 3]).collect();
    assert_eq!(sample_values(&items), want);
    for it in &items {
        if let ReadData::Samples(v) = &it.data {
            for (i, s) in v.iter().enumerate() {
                assert_eq!(s.labels, series(i), "labels resolved");
            }
        }
    }
}

#[test]
fn a_torn_tail_is_cut_at_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::default();
    let mut wal = open(dir.path(), WalOptions::default());
    let mut good = Position::default();
    for n in 0..10 {
        good = wal.append(&batch(&store, 4, n, n as f64)).expect("append");
    }
    drop(wal);
    let seg = segment_path(dir.path(), 0);
    let len = fs::metadata(&seg).expect("stat").len();
    let file = OpenOptions::new().write(true).open(&seg).expect("open");
    file.set_len(len - 5).expect("cut");
    drop(file);
    let (mut wal, warnings) = Wal::open(dir.path(), WalOptions::default()).expect("open");
    assert!(matches!(warnings.as_slice(), [Warning::TailTruncated { segment: 0, reason: Corruption::Torn, .. }]), "{warnings:?}");
    let cut = fs::metadata(&seg).expect("stat").len();
    assert!(cut < good.offset && cut > 0);
    wal.append(&batch(&store, 4, 10, 10.0)).expect("append");
    let mut r = WalReader::open(dir.path(), Position::default()).expect("reader");
    let want: Vec<f64> = (0..9).chain([10]).flat_map(|n| [n as f64; 4]).collect();
    assert_eq!(sample_values(&read_all(&mut r)), want);
    assert_eq!(r.take_warnings(), vec![]);
}

#[test]
fn garbage_at_the_tail_is_cut_at_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::default();
    let mut wal = open(dir.path(), WalOptions::default());
    wal.append(&batch(&store, 4, 0, 0.0)).expect("append");
    drop(wal);
    let seg = segment_path(dir.path(), 0);
    let good = fs::metadata(&seg).expect("stat").len();
    OpenOptions::new().append(true).open(&seg).expect("open").write_all(&[0u8; 4096]).expect("write");
    let (_wal, warnings) = Wal::open(dir.path(), WalOptions::default()).expect("open");
    assert!(matches!(warnings.as_slice(), [Warning::TailTruncated { segment: 0, dropped: 4096, .. }]), "{warnings:?}");
    assert_eq!(fs::metadata(&seg).expect("stat").len(), good);
}

#[test]
fn a_half_written_record_is_waited_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::default();
    let mut wal = open(dir.path(), WalOptions::default());
    wal.append(&batch(&store, 1, 0, 0.0)).expect("append");
    let mut r = WalReader::open(dir.path(), Position::default()).expect("reader");
    assert_eq!(sample_values(&read_all(&mut r)), vec![0.0]);
    // A samples record for WAL ref 1 (the series above), written in two halves.
    let mut body = Vec::new();
    put_sample(&mut body, &mut SampleDelta::default(), 1, 1, 7.0);
    let mut frame = Vec::new();
    Framer::new(false).frame(TYPE_SAMPLES, &body, &mut frame).expect("frame");
    let mut f = OpenOptions::new().append(true).open(segment_path(dir.path(), 0)).expect("open");
    for cut in [3, frame.len() - 1] {
        let done = fs::metadata(segment_path(dir.path(), 0)).expect("stat").len() - wal.position().offset;
        f.write_all(&frame[done as usize..cut]).expect("write");
        assert_eq!(r.next().expect("read"), None, "cut at {cut}");
    }
    f.write_all(&frame[frame.len() - 1..]).expect("write");
    assert_eq!(sample_values(&read_all(&mut r)), vec![7.0]);
    assert_eq!(r.take_warnings(), vec![]);
}

#[test]
fn a_corrupt_middle_segment_is_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::default();
    let mut wal = open(dir.path(), opts(512));
    let mut seg_of = Vec::new();
    for n in 0..60 {
        let end = wal.append(&batch(&store, 3, n, n as f64)).expect("append");
        seg_of.push(end.segment);
    }
    drop(wal);
    assert!(seg_of.last().is_some_and(|&s| s >= 4));
    let seg1 = segment_path(dir.path(), 1);
    let mut bytes = fs::read(&seg1).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid..mid + 8].copy_from_slice(b"garbage!");
    fs::write(&seg1, &bytes).expect("write");

    let (_wal, warnings) = Wal::open(dir.path(), opts(512)).expect("open");
    assert!(matches!(warnings.as_slice(), [Warning::SegmentSkipped { segment: 1, .. }]), "{warnings:?}");
    let mut r = WalReader::open(dir.path(), Position::default()).expect("reader");
    let got = sample_values(&read_all(&mut r));
    let warnings = r.take_warnings();
    assert!(matches!(warnings.as_slice(), [Warning::SegmentSkipped { segment: 1, .. }]), "{warnings:?}");
    // Everything outside segment 1 is there, in order; segment 1 up to the damage too.
    let want_outside: Vec<f64> = (0..60).filter(|&n| seg_of[n] != 1).flat_map(|n| [n as f64; 3]).collect();
    let got_outside: Vec<f64> = got.iter().copied().filter(|v| seg_of[*v as usize] != 1).collect();
    assert_eq!(got_outside, want_outside);
    assert!(got.windows(2).all(|w| w[0] <= w[1]));
    let in_seg1 = got.iter().filter(|v| seg_of[**v as usize] == 1).count();
    assert!(in_seg1 > 0 && in_seg1 < seg_of.iter().filter(|&&s| s == 1).count() * 3);
}

#[test]
fn truncation_checkpoints_live_series() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::default();
    let mut wal = open(dir.path(), opts(256));
    let (gone_ref, gone) = store.intern(Labels::new([("__name__", "gone")]));
    let mut b = batch(&store, 3, 0, 0.0);
    b.samples.push(Sample { series: gone_ref, labels: gone.clone(), t: 0, v: -1.0 });
    wal.append(&b).expect("append");
    let mut ends = Vec::new();
    for n in 1..80 {
        ends.push(wal.append(&batch(&store, 3, n, n as f64)).expect("append"));
    }
    let keep_from = ends[50];
    let before = wal.segments().expect("segments");
    let stats = wal.truncate(keep_from, |_, s| s.last_t > 0).expect("truncate");
    assert_eq!(stats.series_dropped, 1, "{stats:?}");
    assert_eq!(stats.series_kept, 3);
    let k = stats.checkpoint.expect("checkpoint written");
    assert!(k >= 2 && k < keep_from.segment);
    assert!(dir.path().join(format!("checkpoint.{k:08}")).exists());
    assert_eq!(stats.segments_removed, before.iter().filter(|s| s.index <= k).count());
    assert!(!segment_path(dir.path(), 0).exists());
    assert_eq!(wal.first_position().expect("first"), Position::new(k + 1, 0));

    // A reader starting after the cut still resolves the series written long before it.
    let mut r = WalReader::open(dir.path(), keep_from).expect("reader");
    let items = read_all(&mut r);
    assert_eq!(r.take_warnings(), vec![]);
    assert_eq!(sample_values(&items), (52..80).flat_map(|n| [n as f64; 3]).collect::<Vec<_>>());
    // The dropped series comes back under a new ref, and a reader from the start of what is
    // left (checkpoint + segments) resolves everything.
    let mut b = batch(&store, 3, 80, 80.0);
    b.samples.push(Sample { series: gone_ref, labels: gone.clone(), t: 80, v: 80.0 });
    wal.append(&b).expect("append");
    let back = read_all(&mut r);
    match &back[0].data {
        ReadData::Samples(v) => assert_eq!(v[3].labels, gone),
        other => panic!("{other:?}"),
    }
    let mut r = WalReader::open(dir.path(), Position::default()).expect("reader");
    let all = sample_values(&read_all(&mut r));
    assert_eq!(r.take_warnings(), vec![]);
    assert_eq!(all.len() % 3, 1);
    assert_eq!(all.last(), Some(&80.0));

    // A reopened writer knows the live series and the ref watermark.
    drop(wal);
    let mut wal = open(dir.path(), opts(256));
    assert_eq!(wal.series_count(), 4);
    wal.append(&batch(&store, 3, 81, 81.0)).expect("append");
    let segs = wal.segments().expect("segments");
    let last = segs.last().expect("a segment").index;
    assert_eq!(frame_types(&segment_path(dir.path(), last)), vec![TYPE_SAMPLES], "no series rewritten after reopen");
    // Everything sent: the next truncation leaves only the new, empty segment.
    let stats = wal.truncate(wal.position(), |_, _| true).expect("truncate");
    assert_eq!(wal.segments().expect("segments").len(), 1, "{stats:?}");
}

#[test]
fn a_reader_left_behind_by_truncation_skips_ahead() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::default();
    let mut wal = open(dir.path(), opts(256));
    let mut ends = Vec::new();
    for n in 0..40 {
        ends.push(wal.append(&batch(&store, 3, n, n as f64)).expect("append"));
    }
    let mut r = WalReader::open(dir.path(), Position::default()).expect("reader");
    assert_eq!(sample_values(&[r.next().expect("read").expect("item")]), vec![0.0; 3]);
    // Forced past the reader (max_keepalive); a crash leaves a removed segment behind.
    let stats = wal.truncate(ends[30], |_, _| false).expect("truncate");
    let k = stats.checkpoint.expect("checkpoint");
    for n in 40..45 {
        wal.append(&batch(&store, 3, n, n as f64)).expect("append");
    }
    let got = sample_values(&read_all(&mut r));
    let warnings = r.take_warnings();
    assert!(warnings.iter().any(|w| matches!(w, Warning::SegmentsMissing { .. })), "{warnings:?}");
    assert!(warnings.iter().all(|w| !matches!(w, Warning::UnknownSeries { .. })), "{warnings:?}");
    assert_eq!(got.last(), Some(&44.0));
    assert!(got.windows(2).all(|w| w[0] <= w[1]));
    assert!(got.contains(&31.0));

    drop(wal);
    fs::write(segment_path(dir.path(), k), b"left over").expect("write");
    let (_wal, warnings) = Wal::open(dir.path(), opts(256)).expect("open");
    assert_eq!(warnings, vec![]);
    assert!(!segment_path(dir.path(), k).exists(), "segments the checkpoint covers are removed at open");
}

#[test]
fn truncation_point_honours_keepalive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::default();
    let mut wal = open(dir.path(), opts(512));
    let hour = 3_600_000;
    let now = 100 * hour;
    let mut ends = Vec::new();
    for h in 0..100 {
        ends.push(wal.append(&batch(&store, 5, h * hour, 0.0)).expect("append"));
    }
    let ka = Keepalive { min: Duration::from_secs(5 * 3600), max: Duration::from_secs(50 * 3600) };
    // Nothing sent: data older than 50 h is given up.
    let p = wal.truncation_point(Some(Position::default()), now, ka);
    assert_eq!(p, Position::new(ends[50].segment, 0));
    // Everything sent: the last 5 h are kept anyway.
    let p = wal.truncation_point(None, now, ka);
    assert_eq!(p, Position::new(ends[95].segment, 0));
    // In between: the sender's position.
    assert_eq!(wal.truncation_point(Some(ends[70]), now, ka), ends[70]);
}

#[test]
fn odd_start_positions_resend_rather_than_lose() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::default();
    let mut wal = open(dir.path(), WalOptions::default());
    let first = wal.append(&batch(&store, 2, 0, 0.0)).expect("append");
    wal.append(&batch(&store, 2, 1, 1.0)).expect("append");
    // Inside a record: start at that record.
    let mut r = WalReader::open(dir.path(), Position::new(0, first.offset + 3)).expect("reader");
    assert_eq!(sample_values(&read_all(&mut r)), vec![1.0, 1.0]);
    assert!(matches!(r.take_warnings().as_slice(), [Warning::StartAdjusted { .. }]));
    // Past the end of the log: everything.
    let mut r = WalReader::open(dir.path(), Position::new(9, 0)).expect("reader");
    assert_eq!(sample_values(&read_all(&mut r)).len(), 4);
    assert!(matches!(r.take_warnings().as_slice(), [Warning::StartAdjusted { .. }]));
}

#[test]
fn a_reader_before_the_first_segment_waits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut r = WalReader::open(dir.path().join("wal"), Position::default()).expect("reader");
    assert_eq!(r.next().expect("read"), None);
    let mut wal = open(&dir.path().join("wal"), WalOptions::default());
    wal.append(&batch(&Store::default(), 1, 0, 5.0)).expect("append");
    assert_eq!(sample_values(&read_all(&mut r)), vec![5.0]);
}

#[test]
fn a_batch_too_large_for_a_record_is_refused_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut wal = open(dir.path(), WalOptions { compress: false, ..WalOptions::default() });
    let huge = "x".repeat(65 << 20);
    let b = Batch { samples: vec![Sample { series: SeriesRef(0), labels: Labels::new([("a", huge.as_str())]), t: 0, v: 0.0 }], ..Batch::default() };
    assert!(wal.append(&b).is_err());
    assert_eq!(wal.series_count(), 0);
    assert_eq!(wal.position(), Position::default());
    wal.append(&batch(&Store::default(), 1, 0, 1.0)).expect("append");
    let mut r = WalReader::open(dir.path(), Position::default()).expect("reader");
    assert_eq!(sample_values(&read_all(&mut r)), vec![1.0]);
}

fn arb_labels() -> impl Strategy<Value = Labels> {
    (0usize..6, prop::collection::vec(("[a-c]{1,2}", "[a-z0-9é]{0,3}"), 0..3))
        .prop_map(|(i, extra)| Labels::new([("__name__".to_string(), format!("m{i}"))].into_iter().chain(extra)))
}

fn arb_f64() -> impl Strategy<Value = f64> {
    prop_oneof![any::<u64>().prop_map(f64::from_bits), Just(STALE_NAN), -1e6f64..1e6]
}

fn arb_histogram() -> impl Strategy<Value = Histogram> {
    (-4i32..9, prop::collection::vec((-5i32..5, 0u32..3), 0..3), prop::collection::vec(0.0f64..100.0, 0..4), any::<bool>()).prop_map(
        |(schema, spans, buckets, is_float)| Histogram {
            schema,
            count: buckets.iter().sum(),
            positive_spans: spans.into_iter().map(|(offset, length)| BucketSpan { offset, length }).collect(),
            positive: buckets,
            is_float,
            reset_hint: ResetHint::No,
            ..Histogram::default()
        },
    )
}

fn arb_batch() -> impl Strategy<Value = Batch> {
    let sample = (arb_labels(), any::<i64>(), arb_f64()).prop_map(|(labels, t, v)| Sample { series: SeriesRef(0), labels, t, v });
    let hist =
        (arb_labels(), -1000i64..1000, arb_histogram()).prop_map(|(labels, t, h)| HistogramSample { series: SeriesRef(0), labels, t, histogram: Arc::new(h) });
    let ex = (arb_labels(), arb_labels(), any::<i64>(), arb_f64()).prop_map(|(labels, el, t, value)| ExemplarSample {
        series: SeriesRef(0),
        labels,
        exemplar: Exemplar { labels: el, value, t },
    });
    let meta = (arb_labels(), 0usize..8, ".{0,5}").prop_map(|(labels, ty, help)| MetadataUpdate {
        series: SeriesRef(0),
        labels,
        metadata: Arc::new(Metadata {
            metric_family: "m".into(),
            metric_type: MetricType::parse(["counter", "gauge", "info"][ty % 3]).unwrap_or_default(),
            help,
            unit: String::new(),
        }),
    });
    (prop::collection::vec(sample, 0..40), prop::collection::vec(hist, 0..3), prop::collection::vec(ex, 0..3), prop::collection::vec(meta, 0..2))
        .prop_map(|(samples, histograms, exemplars, metadata)| Batch { samples, histograms, exemplars, metadata })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_batches_round_trip(batches in prop::collection::vec(arb_batch(), 1..12), compress in any::<bool>(), segment_size in 256u64..4096, split in 0usize..12) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::default();
        let mut wal = open(dir.path(), WalOptions { segment_size, compress });
        let mut want = Vec::new();
        for (i, b) in batches.iter().enumerate() {
            // Half the batches come with interned process refs, half without.
            let mut b = b.clone();
            if i % 2 == 0 {
                b.samples.iter_mut().for_each(|s| (s.series, s.labels) = store.intern(s.labels.clone()));
            }
            if i == split {
                drop(wal);
                wal = open(dir.path(), WalOptions { segment_size, compress });
            }
            wal.append(&b).expect("append");
            want.extend(flatten(&b));
        }
        let mut r = WalReader::open(dir.path(), Position::default()).expect("reader");
        let items = read_all(&mut r);
        prop_assert_eq!(r.take_warnings(), vec![]);
        prop_assert_eq!(flatten_items(&items), want);
    }
}

const KILL_ENV: &str = "ALLOY_WAL_TEST_KILL_CHILD";
const KILL_BASE_ENV: &str = "ALLOY_WAL_TEST_KILL_BASE";
const KILL_BATCH: usize = 50;

fn kill_batch(store: &Store, n: usize) -> Batch {
    let samples = (0..KILL_BATCH)
        .map(|i| {
            let (series, labels) = store.intern(Labels::new([("__name__", "k".to_string()), ("s", i.to_string()), ("g", (n / 40).to_string())]));
            Sample { series, labels, t: n as i64, v: n as f64 }
        })
        .collect();
    Batch { samples, ..Batch::default() }
}

/// Run as a child process (the test binary itself) with `KILL_ENV` set: appends batches
/// numbered from `base` and acknowledges each on stdout once `append` returned, until killed.
fn kill_child(dir: &Path, base: usize) {
    let store = Store::default();
    let (mut wal, _) = Wal::open(dir, opts(64 << 10)).expect("open");
    let out = std::io::stdout();
    let deadline = Instant::now() + Duration::from_secs(60);
    for n in base.. {
        wal.append(&kill_batch(&store, n)).expect("append");
        let mut out = out.lock();
        writeln!(out, "ack {n}").expect("stdout");
        out.flush().expect("stdout");
        if Instant::now() > deadline {
            break;
        }
    }
}

#[cfg(unix)]
#[test]
fn kill9_loses_nothing_acknowledged() {
    if let Some(dir) = std::env::var_os(KILL_ENV) {
        let base = std::env::var(KILL_BASE_ENV).ok().and_then(|b| b.parse().ok()).unwrap_or(0);
        return kill_child(Path::new(&dir), base);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("test binary");
    let mut rounds = Vec::new();
    // Twice: the second child starts on the log the first was killed writing.
    for base in [0usize, 1_000_000] {
        let mut child = std::process::Command::new(&exe)
            .args(["wal::tests::kill9_loses_nothing_acknowledged", "--exact", "--nocapture", "--test-threads", "1"])
            .env(KILL_ENV, dir.path())
            .env(KILL_BASE_ENV, base.to_string())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().expect("piped");
        let mut acked = None;
        let mut killed = false;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("line");
            if let Some(n) = line.strip_prefix("ack ").and_then(|n| n.parse::<usize>().ok()) {
                acked = Some(n);
                if n >= base + 400 && !killed {
                    child.kill().expect("SIGKILL");
                    killed = true;
                }
            }
        }
        child.wait().expect("wait");
        assert!(killed, "child ended before it was killed");
        rounds.push((base, acked.expect("acks")));

        let (_wal, _warnings) = Wal::open(dir.path(), opts(64 << 10)).expect("reopen");
        let mut r = WalReader::open(dir.path(), Position::default()).expect("reader");
        let mut counts = std::collections::HashMap::new();
        for it in read_all(&mut r) {
            if let ReadData::Samples(v) = it.data {
                for s in v {
                    assert_eq!(s.labels.get("__name__"), Some("k"));
                    *counts.entry(s.v as usize).or_insert(0usize) += 1;
                }
            }
        }
        assert_eq!(r.take_warnings(), vec![]);
        for &(base, acked) in &rounds {
            for n in base..=acked {
                assert_eq!(counts.get(&n).copied(), Some(KILL_BATCH), "batch {n} lost");
            }
        }
    }
}

#[test]
fn writer_and_reader_move_between_threads() {
    fn send<T: Send>() {}
    send::<Wal>();
    send::<WalReader>();
}

/// `cargo test --release -p alloy-prom wal::tests::append_throughput -- --ignored --nocapture`
#[test]
#[ignore]
fn append_throughput() {
    for (what, interned) in [("interned refs", true), ("labels only", false)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::default();
        let mut wal = open(dir.path(), WalOptions::default());
        let mut batches: Vec<Batch> = (0..10).map(|k| batch(&store, 2000, k, 0.0)).collect();
        for (k, b) in batches.iter_mut().enumerate() {
            for (i, s) in b.samples.iter_mut().enumerate() {
                // Counter-like values that differ per series and batch, as scrapes give.
                s.v = ((i * 7919 + k * 104_729) % 1_000_003) as f64 * 1.37;
                if !interned {
                    s.series = SeriesRef(0);
                }
            }
        }
        wal.append(&batches[0]).expect("warm up");
        let rounds = 2000;
        let start = Instant::now();
        for i in 0..rounds {
            let mut b = batches[i % batches.len()].clone();
            b.samples.iter_mut().for_each(|s| s.t += i as i64 * 15_000);
            wal.append(&b).expect("append");
        }
        let took = start.elapsed();
        let n = (rounds * 2000) as f64;
        let bytes: u64 = wal.segments().expect("segments").iter().map(|s| s.size).sum();
        println!("{what}: append {:.1} M samples/s, {:.2} bytes/sample", n / took.as_secs_f64() / 1e6, bytes as f64 / n);
        drop(wal);
        let start = Instant::now();
        let _reopened = open(dir.path(), WalOptions::default());
        println!("{what}: reopen (replay) {:.1} M samples/s", n / start.elapsed().as_secs_f64() / 1e6);
        let start = Instant::now();
        let mut r = WalReader::open(dir.path(), Position::default()).expect("reader");
        let count: usize = read_all(&mut r).iter().map(|i| i.data.len()).sum();
        println!("{what}: read {:.1} M samples/s ({count})", count as f64 / start.elapsed().as_secs_f64() / 1e6);
    }
}
