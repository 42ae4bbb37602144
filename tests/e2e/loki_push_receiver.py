"""A Loki push endpoint that decodes requests independently of the code under test: Snappy
block format with cramjam, protobuf with google.protobuf and message types built here from
the field numbers of Loki's published push.proto (logproto PushRequest / StreamAdapter /
EntryAdapter / LabelPairAdapter, google.protobuf.Timestamp). Driven by tests/loki_e2e.rs.

Usage: loki_push_receiver.py PORT OUT_FILE [--fail-first N]
Serves POST /loki/api/v1/push on 127.0.0.1:PORT. Every entry of a request it accepts is
appended to OUT_FILE as one JSON object per line:
  {"labels": "{a=\"b\"}", "ts": <nanoseconds>, "line": "...", "metadata": [[name, value], ...],
   "tenant": "<X-Scope-OrgID or empty>"}
The first N requests are answered 500 without being recorded (a sender must retry them).
A body that is not Snappy or not a PushRequest is answered 400 and counted in
OUT_FILE.errors. Prints "ready" once listening.
"""

import http.server
import json
import sys
import threading

import cramjam
from proto_messages import F, message_class


def build_push_request():
    return message_class(
        "e2elogproto",
        [
            ("Timestamp", [(1, "seconds", F.TYPE_INT64, False, None), (2, "nanos", F.TYPE_INT32, False, None)]),
            ("LabelPairAdapter", [(1, "name", F.TYPE_STRING, False, None), (2, "value", F.TYPE_STRING, False, None)]),
            (
                "EntryAdapter",
                [
                    (1, "timestamp", F.TYPE_MESSAGE, False, "Timestamp"),
                    (2, "line", F.TYPE_STRING, False, None),
                    (3, "structuredMetadata", F.TYPE_MESSAGE, True, "LabelPairAdapter"),
                ],
            ),
            (
                "StreamAdapter",
                [(1, "labels", F.TYPE_STRING, False, None), (2, "entries", F.TYPE_MESSAGE, True, "EntryAdapter"), (3, "hash", F.TYPE_UINT64, False, None)],
            ),
            ("PushRequest", [(1, "streams", F.TYPE_MESSAGE, True, "StreamAdapter")]),
        ],
        "PushRequest",
    )


PushRequest = build_push_request()


def main():
    port, out_path = int(sys.argv[1]), sys.argv[2]
    fail_first = int(sys.argv[sys.argv.index("--fail-first") + 1]) if "--fail-first" in sys.argv else 0
    lock = threading.Lock()
    state = {"requests": 0, "errors": 0}
    out = open(out_path, "a", encoding="utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, code, text=b""):
            self.send_response(code)
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path != "/loki/api/v1/push":
                return self.answer(404)
            with lock:
                state["requests"] += 1
                if state["requests"] <= fail_first:
                    return self.answer(500, b"failing on purpose")
            try:
                req = PushRequest()
                req.ParseFromString(bytes(cramjam.snappy.decompress_raw(body)))
            except Exception as e:  # noqa: BLE001 - any decoding failure is the sender's fault
                with lock:
                    state["errors"] += 1
                    with open(out_path + ".errors", "w", encoding="utf-8") as f:
                        f.write(f"{state['errors']} {e}\n")
                return self.answer(400, str(e).encode())
            tenant = self.headers.get("X-Scope-OrgID", "")
            with lock:
                for s in req.streams:
                    for e in s.entries:
                        record = {
                            "labels": s.labels,
                            "ts": e.timestamp.seconds * 1_000_000_000 + e.timestamp.nanos,
                            "line": e.line,
                            "metadata": [[m.name, m.value] for m in e.structuredMetadata],
                            "tenant": tenant,
                        }
                        out.write(json.dumps(record) + "\n")
                out.flush()
            self.answer(204)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
