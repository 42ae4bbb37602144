"""Collects the failures the OpenTelemetry SDK's exporters log instead of raising, for the
sender scripts in this directory (send_otlp.py, send_otel_bridges.py)."""

import logging


class FailureWatch(logging.Handler):
    """The SDK exporters log failures instead of raising: collect them."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.failures = []

    def emit(self, record):
        if record.name.startswith("opentelemetry"):
            self.failures.append(record.getMessage())
