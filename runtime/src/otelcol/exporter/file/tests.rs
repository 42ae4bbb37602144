use super::*;
use crate::otelcol::pdata::tests::traces;
use prost::Message;

/// A scratch directory removed when the test ends, passed or failed.
fn dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(&format!("alloy-file-exporter-{name}-")).tempdir().unwrap()
}

fn exporter(body: &str) -> Result<Arc<FileExporter>, String> {
    let v = crate::component::args::evaluated(&format!("otelcol.exporter.file \"f\" {{\n{body}\n}}\n"))?;
    FileExporter::new(crate::otelcol::detached_context("otelcol.exporter.file.f"), &v).map_err(|e| e.0)
}

#[tokio::test]
async fn json_lines_round_trip_through_the_otlp_json_parser() {
    let d = dir("json");
    let path = d.path().join("out.json");
    let e = exporter(&format!("  path = {:?}", path.display().to_string())).unwrap();
    let stop = CancellationToken::new();
    let run = tokio::spawn(e.clone().run(stop.clone()));
    e.input().consume(Payload::from_traces(&traces(1, 2))).await.unwrap();
    e.input().consume(Payload::from_traces(&traces(2, 1))).await.unwrap();
    stop.cancel();
    run.await.unwrap().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].contains("\"resourceSpans\"") && lines[0].contains("\"traceId\":\"01010101010101010101010101010101\""), "{}", lines[0]);
    let back = Payload::from_json(Signal::Traces, lines[1].as_bytes()).unwrap();
    assert_eq!(back.decode_traces().unwrap(), traces(2, 1));
}

#[tokio::test]
async fn proto_and_zstd_messages_are_length_prefixed() {
    let d = dir("proto");
    let path = d.path().join("out.bin");
    let e = exporter(&format!("  path = {:?}\n  format = \"proto\"\n  compression = \"zstd\"", path.display().to_string())).unwrap();
    e.input().consume(Payload::from_traces(&traces(1, 3))).await.unwrap();
    e.flush();
    let bytes = std::fs::read(&path).unwrap();
    let len = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
    assert_eq!(bytes.len(), 4 + len);
    let raw = zstd::decode_all(&bytes[4..]).unwrap();
    let req = opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(&raw[..]).unwrap();
    assert_eq!(req, traces(1, 3));
}

#[tokio::test]
async fn append_keeps_what_the_file_had() {
    let d = dir("append");
    let path = d.path().join("out.json");
    std::fs::write(&path, "old\n").unwrap();
    let e = exporter(&format!("  path = {:?}\n  append = true", path.display().to_string())).unwrap();
    e.input().consume(Payload::from_traces(&traces(1, 1))).await.unwrap();
    e.flush();
    assert!(std::fs::read_to_string(&path).unwrap().starts_with("old\n{"));
    let e = exporter(&format!("  path = {:?}", path.display().to_string())).unwrap();
    e.flush();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "", "without append the file starts empty");
}

#[test]
fn settings_are_checked() {
    let err = |b: &str| exporter(&format!("  path = \"/tmp/x\"\n{b}")).err().unwrap_or_default();
    assert!(err("  format = \"xml\"").contains("format type is not supported"));
    assert!(err("  compression = \"gzip\"").contains("compression is not supported"));
    assert!(err("  append = true\n  compression = \"zstd\"").contains("append and compression"));
    assert!(err("  group_by {\n    enabled = true\n  }").contains("not supported"));
}
