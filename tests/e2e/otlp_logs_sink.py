"""An OTLP/HTTP logs endpoint that decodes requests with the OpenTelemetry project's own
protobuf classes (opentelemetry-proto), independently of the code under test. Driven by
tests/filelog_e2e.rs.

Usage: otlp_logs_sink.py PORT OUT_FILE
Serves POST /v1/logs on 127.0.0.1:PORT (protobuf, optionally gzip-compressed). Every log
record of a request is appended to OUT_FILE as one JSON object per line:
  {"resource": {key: value}, "body": <value>, "attributes": {key: value},
   "time": <ns>, "observed": <ns>, "severity_number": N, "severity_text": "..."}
A body that does not decode is answered 400 and recorded in OUT_FILE.errors.
"""

import gzip
import http.server
import json
import sys
import threading

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest, ExportLogsServiceResponse


def plain(any_value):
    """An AnyValue as a JSON value."""
    kind = any_value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "kvlist_value":
        return {kv.key: plain(kv.value) for kv in any_value.kvlist_value.values}
    if kind == "array_value":
        return [plain(v) for v in any_value.array_value.values]
    if kind == "bytes_value":
        return any_value.bytes_value.hex()
    return getattr(any_value, kind)


def attributes(kvs):
    return {kv.key: plain(kv.value) for kv in kvs}


def main():
    port, out_path = int(sys.argv[1]), sys.argv[2]
    lock = threading.Lock()
    out = open(out_path, "a", encoding="utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, code, body=b"", content_type="text/plain"):
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path != "/v1/logs":
                return self.answer(404)
            try:
                if self.headers.get("Content-Encoding", "") == "gzip":
                    body = gzip.decompress(body)
                req = ExportLogsServiceRequest()
                req.ParseFromString(body)
            except Exception as e:  # noqa: BLE001 - any decoding failure is the sender's fault
                with lock, open(out_path + ".errors", "a", encoding="utf-8") as f:
                    f.write(f"{e}\n")
                return self.answer(400, str(e).encode())
            with lock:
                for rl in req.resource_logs:
                    resource = attributes(rl.resource.attributes)
                    for sl in rl.scope_logs:
                        for r in sl.log_records:
                            record = {
                                "resource": resource,
                                "body": plain(r.body),
                                "attributes": attributes(r.attributes),
                                "time": r.time_unix_nano,
                                "observed": r.observed_time_unix_nano,
                                "severity_number": r.severity_number,
                                "severity_text": r.severity_text,
                            }
                            out.write(json.dumps(record) + "\n")
                out.flush()
            self.answer(200, ExportLogsServiceResponse().SerializeToString(), "application/x-protobuf")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
