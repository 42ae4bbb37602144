"""Decodes Prometheus remote-write 1.0 request bodies independently of the code under test:
Snappy block format with cramjam, protobuf with google.protobuf and message types built
here from upstream's prompb/types.proto and remote.proto field numbers. Driven by
tests/prometheus_e2e.rs.

Usage: decode_remote_write.py BODY_FILE...
Prints one JSON array, one entry per file in order:
  {"timeseries": [{"labels": [[name, value], ...], "samples": [[timestamp_ms, "<float64 bits as 16 hex digits>"], ...]}],
   "metadata": [[type, family, help, unit], ...]}
Values travel as bit patterns because JSON has no NaN and the staleness marker is a
particular NaN. Labels are printed in wire order so the caller can check they are sorted.
Exits non-zero when a body is not Snappy block format or not a WriteRequest.
"""

import json
import struct
import sys

import cramjam
from proto_messages import F, message_class


def build_write_request():
    label = [(1, "name", F.TYPE_STRING, False, None), (2, "value", F.TYPE_STRING, False, None)]
    return message_class(
        "e2eprompb",
        [
            ("Label", label),
            ("Sample", [(1, "value", F.TYPE_DOUBLE, False, None), (2, "timestamp", F.TYPE_INT64, False, None)]),
            ("Exemplar", [(1, "labels", F.TYPE_MESSAGE, True, "Label"), (2, "value", F.TYPE_DOUBLE, False, None), (3, "timestamp", F.TYPE_INT64, False, None)]),
            # Histograms (field 4) are left as unknown fields: these tests send none.
            (
                "TimeSeries",
                [
                    (1, "labels", F.TYPE_MESSAGE, True, "Label"),
                    (2, "samples", F.TYPE_MESSAGE, True, "Sample"),
                    (3, "exemplars", F.TYPE_MESSAGE, True, "Exemplar"),
                ],
            ),
            # MetricMetadata.type is an enum upstream; int32 has the same varint encoding.
            (
                "MetricMetadata",
                [
                    (1, "type", F.TYPE_INT32, False, None),
                    (2, "metric_family_name", F.TYPE_STRING, False, None),
                    (4, "help", F.TYPE_STRING, False, None),
                    (5, "unit", F.TYPE_STRING, False, None),
                ],
            ),
            ("WriteRequest", [(1, "timeseries", F.TYPE_MESSAGE, True, "TimeSeries"), (3, "metadata", F.TYPE_MESSAGE, True, "MetricMetadata")]),
        ],
        "WriteRequest",
    )


def bits(v):
    return struct.pack(">d", v).hex()


def main():
    WriteRequest = build_write_request()
    out = []
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            raw = f.read()
        body = bytes(cramjam.snappy.decompress_raw(raw))
        req = WriteRequest()
        req.ParseFromString(body)
        out.append(
            {
                "timeseries": [
                    {"labels": [[l.name, l.value] for l in ts.labels], "samples": [[s.timestamp, bits(s.value)] for s in ts.samples]}
                    for ts in req.timeseries
                ],
                "metadata": [[m.type, m.metric_family_name, m.help, m.unit] for m in req.metadata],
            }
        )
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
