"""Sends Zipkin v2 spans with py_zipkin (JSON or protobuf) to a Zipkin endpoint, then prints
what it sent as JSON. Driven by tests/otel_bridges_e2e.rs.

Usage: send_zipkin.py PORT V2_JSON|V2_PROTO3
A service "checkout" records a SERVER span "POST /order" (tag order.id) with a child CLIENT
span "charge card" and an annotation "charged". Prints {"trace_id": hex, "spans": [...]}.
"""

import json
import sys

from py_zipkin import Encoding
from py_zipkin import Kind
from py_zipkin.transport import SimpleHTTPTransport
from py_zipkin.zipkin import zipkin_span, ZipkinAttrs
from py_zipkin.util import generate_random_128bit_string, generate_random_64bit_string


def main():
    port = int(sys.argv[1])
    encoding = Encoding[sys.argv[2]]
    transport = SimpleHTTPTransport("127.0.0.1", port)
    trace_id = generate_random_128bit_string()
    attrs = ZipkinAttrs(trace_id=trace_id, span_id=generate_random_64bit_string(), parent_span_id=None, flags="0", is_sampled=True)
    with zipkin_span(
        service_name="checkout",
        span_name="POST /order",
        transport_handler=transport,
        zipkin_attrs=attrs,
        kind=Kind.SERVER,
        encoding=encoding,
        binary_annotations={"order.id": "42"},
    ):
        with zipkin_span(service_name="checkout", span_name="charge card", kind=Kind.CLIENT) as child:
            child.add_annotation("charged")
    print(json.dumps({"trace_id": trace_id, "spans": ["POST /order", "charge card"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
