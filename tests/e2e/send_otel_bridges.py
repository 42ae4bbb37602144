"""Sends known telemetry with the OpenTelemetry Python SDK over OTLP/gRPC for the bridge tests
(tests/otel_bridges_e2e.rs), then prints what it sent as JSON.

Usage: send_otel_bridges.py traces|logs      Environment: OTLP_GRPC (host:port).
Exits non-zero when an exporter reports a failure.

traces: service "shop" sends SERVER spans "GET /cart" (some with status ERROR) and CLIENT spans
        "SELECT cart"; prints {"name|SPAN_KIND_X|STATUS_CODE_Y": count, ...}.
logs:   service "shop" (resource attribute deployment.environment=e2e, promoted to a Loki label
        by the resource hint loki.resource.labels) logs warnings with a record attribute "user"
        promoted by loki.attribute.labels; prints [{"body", "user"}, ...].
"""

import json
import logging
import os
import sys

from sdk_failures import FailureWatch

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

SERVER_OK = 6
SERVER_ERROR = 2
CLIENT = 4
LOGS = 5


def send_traces(endpoint):
    provider = TracerProvider(resource=Resource.create({"service.name": "shop"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, insecure=True)))
    tracer = provider.get_tracer("bridges")
    sent = {}

    def count(key):
        sent[key] = sent.get(key, 0) + 1

    for i in range(SERVER_OK + SERVER_ERROR):
        with tracer.start_as_current_span("GET /cart", kind=SpanKind.SERVER) as span:
            if i < SERVER_ERROR:
                span.set_status(Status(StatusCode.ERROR, "boom"))
                count("GET /cart|SPAN_KIND_SERVER|STATUS_CODE_ERROR")
            else:
                count("GET /cart|SPAN_KIND_SERVER|STATUS_CODE_UNSET")
            if i < CLIENT:
                with tracer.start_as_current_span("SELECT cart", kind=SpanKind.CLIENT):
                    count("SELECT cart|SPAN_KIND_CLIENT|STATUS_CODE_UNSET")
    ok = provider.force_flush(10_000)
    provider.shutdown()
    if not ok:
        raise SystemExit("span export did not finish")
    return sent


def send_logs(endpoint):
    resource = Resource.create(
        {"service.name": "shop", "deployment.environment": "e2e", "loki.resource.labels": "deployment.environment"}
    )
    provider = LoggerProvider(resource=resource)
    provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=endpoint, insecure=True)))
    logger = logging.getLogger("bridges")
    logger.propagate = False
    logger.addHandler(LoggingHandler(level=logging.INFO, logger_provider=provider))
    logger.setLevel(logging.INFO)
    sent = []
    for i in range(LOGS):
        user = "u%d" % (i % 2)
        body = "order %d placed" % i
        logger.warning(body, extra={"user": user, "loki.attribute.labels": "user"})
        sent.append({"body": body, "user": user})
    ok = provider.force_flush(10_000)
    provider.shutdown()
    if not ok:
        raise SystemExit("log export did not finish")
    return sent


def main():
    watch = FailureWatch()
    logging.getLogger("opentelemetry").addHandler(watch)
    endpoint = os.environ["OTLP_GRPC"]
    result = send_traces(endpoint) if sys.argv[1] == "traces" else send_logs(endpoint)
    if watch.failures:
        print("exporter failures: %s" % watch.failures, file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
