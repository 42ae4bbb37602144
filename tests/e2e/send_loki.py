"""Pushes log records to a Loki push endpoint with python-logging-loki (a real client we did
not write): the URL comes from LOKI_URL. Prints the records it sent as JSON."""

import json
import logging
import os
import sys

import logging_loki

url = os.environ["LOKI_URL"]
handler = logging_loki.LokiHandler(url=url, tags={"app": "e2e"}, version="1")
logger = logging.getLogger("e2e-client")
logger.setLevel(logging.DEBUG)
logger.addHandler(handler)

sent = []
for i, level in enumerate(["info", "debug", "warning", "info"]):
    line = json.dumps({"level": level, "msg": f"message {i}"})
    getattr(logger, level)(line)
    sent.append({"line": line, "level": level})

json.dump(sent, sys.stdout)
