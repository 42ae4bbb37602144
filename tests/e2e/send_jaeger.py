"""Sends Jaeger spans to otelcol.receiver.jaeger and prints what it sent as JSON. Driven by
tests/jaeger_e2e.rs.

Usage: send_jaeger.py thrift_http PORT | udp_compact PORT | grpc PORT

- thrift_http / udp_compact: the OpenTelemetry Python SDK with its Jaeger Thrift exporter
  (opentelemetry-exporter-jaeger-thrift, Apache Thrift underneath) records a SERVER span with
  a CLIENT child (typed attributes, an event, a link, an error status) and exports them to
  the collector endpoint (`POST /api/traces`, Thrift binary) or the agent port (UDP, Thrift
  compact). Prints {"service": ..., "scope": [name, version], "spans": [...]}, each span
  with its hex IDs, times in nanoseconds, kind, attributes, status, events and links.
- grpc: builds a `jaeger.api_v2.PostSpansRequest` with Google's protobuf runtime from a
  descriptor written here (the exporter that shipped generated code no longer imports with
  protobuf 6) and calls `CollectorService/PostSpans` with grpcio. Prints the request's
  fields in the same terms.
"""

import json
import sys
import time


def sdk_spans(exporter):
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": "jaeger-e2e"}))
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("e2e.lib", "1.2.3")
    other = trace.SpanContext(0x0AF7651916CD43DD8448EB211C80319C, 0x00F067AA0BA902B7, is_remote=True)
    with tracer.start_as_current_span("GET /cart", kind=trace.SpanKind.SERVER, links=[trace.Link(other)]) as parent:
        parent.set_attribute("http.method", "GET")
        parent.set_attribute("cart.items", 3)
        parent.set_attribute("cart.total", 12.5)
        parent.set_attribute("cart.guest", True)
        parent.add_event("cache miss", {"cache.key": "cart:42"})
        with tracer.start_as_current_span("SELECT carts", kind=trace.SpanKind.CLIENT) as child:
            child.set_status(trace.Status(trace.StatusCode.ERROR, "connection reset"))
    provider.shutdown()
    return memory.get_finished_spans()


def hex_id(n, width):
    return format(n, "0%dx" % width)


def describe(spans):
    out = []
    for s in spans:
        ctx = s.get_span_context()
        out.append(
            {
                "trace_id": hex_id(ctx.trace_id, 32),
                "span_id": hex_id(ctx.span_id, 16),
                "parent_span_id": hex_id(s.parent.span_id, 16) if s.parent else "",
                "name": s.name,
                "kind": s.kind.name,
                "start": s.start_time,
                "end": s.end_time,
                "attributes": dict(s.attributes),
                "status": [s.status.status_code.name, s.status.description or ""],
                "events": [{"name": e.name, "time": e.timestamp, "attributes": dict(e.attributes)} for e in s.events],
                "links": [[hex_id(l.context.trace_id, 32), hex_id(l.context.span_id, 16)] for l in s.links],
            }
        )
    return {"service": "jaeger-e2e", "scope": ["e2e.lib", "1.2.3"], "spans": out}


def send_thrift(mode, port):
    from opentelemetry.exporter.jaeger.thrift import JaegerExporter

    if mode == "thrift_http":
        exporter = JaegerExporter(collector_endpoint="http://127.0.0.1:%d/api/traces" % port)
    else:
        exporter = JaegerExporter(agent_host_name="127.0.0.1", agent_port=port)
    return describe(sdk_spans(exporter))


# model.proto and collector.proto (package jaeger.api_v2): the messages PostSpans needs.
FIELDS = {
    "KeyValue": [("key", 1, "string"), ("v_type", 2, "int32"), ("v_str", 3, "string"), ("v_bool", 4, "bool"),
                 ("v_int64", 5, "int64"), ("v_float64", 6, "double"), ("v_binary", 7, "bytes")],
    "Log": [("timestamp", 1, ".google.protobuf.Timestamp"), ("fields", 2, "*KeyValue")],
    "SpanRef": [("trace_id", 1, "bytes"), ("span_id", 2, "bytes"), ("ref_type", 3, "int32")],
    "Process": [("service_name", 1, "string"), ("tags", 2, "*KeyValue")],
    "Span": [("trace_id", 1, "bytes"), ("span_id", 2, "bytes"), ("operation_name", 3, "string"),
             ("references", 4, "*SpanRef"), ("flags", 5, "uint32"), ("start_time", 6, ".google.protobuf.Timestamp"),
             ("duration", 7, ".google.protobuf.Duration"), ("tags", 8, "*KeyValue"), ("logs", 9, "*Log"),
             ("process", 10, "Process"), ("process_id", 11, "string")],
    "Batch": [("spans", 1, "*Span"), ("process", 2, "Process")],
    "PostSpansRequest": [("batch", 1, "Batch")],
    "PostSpansResponse": [],
}


def messages():
    from google.protobuf import descriptor_pb2, descriptor_pool, duration_pb2, message_factory, timestamp_pb2

    F = descriptor_pb2.FieldDescriptorProto
    scalar = {"string": F.TYPE_STRING, "int32": F.TYPE_INT32, "bool": F.TYPE_BOOL, "int64": F.TYPE_INT64,
              "double": F.TYPE_DOUBLE, "bytes": F.TYPE_BYTES, "uint32": F.TYPE_UINT32}
    fd = descriptor_pb2.FileDescriptorProto(name="e2e_jaeger_model.proto", package="jaeger.api_v2", syntax="proto3")
    fd.dependency.extend(["google/protobuf/timestamp.proto", "google/protobuf/duration.proto"])
    for name, fields in FIELDS.items():
        m = fd.message_type.add(name=name)
        for fname, number, ftype in fields:
            f = m.field.add(name=fname, number=number, label=F.LABEL_OPTIONAL)
            if ftype.startswith("*"):
                f.label, ftype = F.LABEL_REPEATED, ftype[1:]
            if ftype in scalar:
                f.type = scalar[ftype]
            else:
                f.type = F.TYPE_MESSAGE
                f.type_name = ftype if ftype.startswith(".") else ".jaeger.api_v2." + ftype
    pool = descriptor_pool.DescriptorPool()
    for dep in (timestamp_pb2, duration_pb2):
        pool.AddSerializedFile(dep.DESCRIPTOR.serialized_pb)
    pool.Add(fd)
    classes = {n: message_factory.GetMessageClass(pool.FindMessageTypeByName("jaeger.api_v2." + n)) for n in FIELDS}
    for wkt in ("Timestamp", "Duration"):
        classes[wkt] = message_factory.GetMessageClass(pool.FindMessageTypeByName("google.protobuf." + wkt))
    return classes


def send_grpc(port):
    import grpc

    M = messages()
    trace_id = bytes.fromhex("5b8efff798038103d269b633813fc60c")
    root, child = bytes.fromhex("eee19b7ec3c1b174"), bytes.fromhex("0102030405060708")
    start_ns = time.time_ns() // 1000 * 1000

    def kv(key, value):
        if isinstance(value, bool):
            return M["KeyValue"](key=key, v_type=1, v_bool=value)
        if isinstance(value, int):
            return M["KeyValue"](key=key, v_type=2, v_int64=value)
        if isinstance(value, float):
            return M["KeyValue"](key=key, v_type=3, v_float64=value)
        if isinstance(value, bytes):
            return M["KeyValue"](key=key, v_type=4, v_binary=value)
        return M["KeyValue"](key=key, v_str=value)

    def ts(ns, kind="Timestamp"):
        return M[kind](seconds=ns // 10**9, nanos=ns % 10**9)

    process = M["Process"](service_name="inventory", tags=[kv("hostname", "db-host"), kv("jaeger.version", "Go-2.30.0"), kv("pod.index", 7)])
    server = M["Span"](
        trace_id=trace_id, span_id=root, operation_name="reserve", flags=1,
        start_time=ts(start_ns), duration=ts(2_500_000, "Duration"),
        tags=[kv("span.kind", "server"), kv("otel.scope.name", "inventory.lib"), kv("otel.scope.version", "0.4"),
              kv("w3c.tracestate", "vendor=abc"), kv("retries", 2), kv("ratio", 0.25), kv("cached", False),
              kv("blob", b"\x00\x01\xfe"), kv("http.status_code", 503)],
        logs=[M["Log"](timestamp=ts(start_ns + 1_000_000), fields=[kv("event", "stock checked"), kv("sku", "A-1")])],
    )
    client = M["Span"](
        trace_id=trace_id, span_id=child, operation_name="UPDATE stock", flags=1,
        start_time=ts(start_ns + 500_000), duration=ts(1_000_000, "Duration"),
        references=[M["SpanRef"](trace_id=trace_id, span_id=root, ref_type=0),
                    M["SpanRef"](trace_id=bytes(15) + b"\x09", span_id=bytes(7) + b"\x05", ref_type=1)],
        tags=[kv("span.kind", "client"), kv("error", True), kv("otel.status_description", "deadlock")],
        process=M["Process"](service_name="stock-db", tags=[kv("db.system", "postgresql")]),
    )
    request = M["PostSpansRequest"](batch=M["Batch"](spans=[server, client], process=process))
    with grpc.insecure_channel("127.0.0.1:%d" % port) as channel:
        call = channel.unary_unary(
            "/jaeger.api_v2.CollectorService/PostSpans",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=M["PostSpansResponse"].FromString,
        )
        call(request, timeout=10)
    return {"trace_id": trace_id.hex(), "server": root.hex(), "client": child.hex(), "start": start_ns}


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    sent = send_grpc(port) if mode == "grpc" else send_thrift(mode, port)
    print(json.dumps(sent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
