"""Sends traces, metrics and logs with the OpenTelemetry Python SDK over OTLP/gRPC and
OTLP/HTTP, then prints what it sent as JSON. Driven by tests/otlp_e2e.rs.

Environment: OTLP_GRPC (host:port) and OTLP_HTTP (http://host:port).
Exits non-zero when an exporter reports a failure.
"""

import json
import logging
import os
import sys

from sdk_failures import FailureWatch

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetrics
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogs
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetrics
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogs

SPANS_PER_TRANSPORT = 5
LOGS_PER_TRANSPORT = 3


def exporters(transport):
    if transport == "grpc":
        ep = os.environ["OTLP_GRPC"]
        return GrpcSpans(endpoint=ep, insecure=True), GrpcMetrics(endpoint=ep, insecure=True), GrpcLogs(endpoint=ep, insecure=True)
    base = os.environ["OTLP_HTTP"]
    return HttpSpans(endpoint=base + "/v1/traces"), HttpMetrics(endpoint=base + "/v1/metrics"), HttpLogs(endpoint=base + "/v1/logs")


def send(transport):
    spans_exp, metrics_exp, logs_exp = exporters(transport)
    resource = Resource.create({"service.name": "e2e-" + transport})
    sent = {"spans": [], "metrics": [], "logs": []}

    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(spans_exp))
    tracer = tracer_provider.get_tracer("e2e")
    for i in range(SPANS_PER_TRANSPORT):
        name = "%s-span-%d" % (transport, i)
        with tracer.start_as_current_span(name, attributes={"idx": i, "secret": "s3cr3t"}):
            pass
        sent["spans"].append(name)
    ok = tracer_provider.force_flush(10_000)
    tracer_provider.shutdown()
    if not ok:
        raise SystemExit("span export over %s did not finish" % transport)

    reader = PeriodicExportingMetricReader(metrics_exp, export_interval_millis=3_600_000)
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    counter = meter_provider.get_meter("e2e").create_counter("e2e_requests_" + transport)
    counter.add(3, {"route": "/a"})
    counter.add(4, {"route": "/b"})
    sent["metrics"].append("e2e_requests_" + transport)
    # Shutdown collects and exports once (a flush before it would export the cumulative
    # points a second time).
    meter_provider.shutdown()

    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(logs_exp))
    logger = logging.getLogger("e2e-" + transport)
    logger.propagate = False
    logger.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logger_provider))
    logger.setLevel(logging.INFO)
    for i in range(LOGS_PER_TRANSPORT):
        body = "%s-log-%d" % (transport, i)
        logger.warning(body)
        sent["logs"].append(body)
    ok = logger_provider.force_flush(10_000)
    logger_provider.shutdown()
    if not ok:
        raise SystemExit("log export over %s did not finish" % transport)
    return sent


def main():
    watch = FailureWatch()
    logging.getLogger("opentelemetry").addHandler(watch)
    result = {t: send(t) for t in ("grpc", "http")}
    if watch.failures:
        print("exporter failures: %s" % watch.failures, file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
