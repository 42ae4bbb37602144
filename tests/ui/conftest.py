"""Fixtures for the browser tests: an `alloy run` process on loopback and headless Chromium.

ALLOY_BIN names the binary; SCREENSHOTS a folder the tests write a picture of each page to.
"""

import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

HERE = Path(__file__).parent
# What the secret file holds: no page may show it.
SECRET = "hunter2-token-do-not-show"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Alloy:
    """One `alloy run` child with its config file, API port and OTLP/HTTP port."""

    def __init__(self, workdir, prefix="/"):
        self.dir = Path(workdir)
        self.api = free_port()
        self.otlp = free_port()
        self.prefix = prefix.rstrip("/")
        self.config = self.dir / "pipeline.alloy"
        self.token = self.dir / "token.txt"
        self.token.write_text(SECRET)
        self.write_config("pipeline.alloy")
        self.log = open(self.dir / "alloy.log", "wb")
        self.proc = subprocess.Popen(
            [
                os.environ["ALLOY_BIN"],
                "run",
                "--stability.level=experimental",
                f"--server.http.listen-addr=127.0.0.1:{self.api}",
                f"--server.http.ui-path-prefix={prefix}",
                f"--storage.path={self.dir / 'data'}",
                str(self.config),
            ],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.api}/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("alloy did not become ready:\n" + (self.dir / "alloy.log").read_text())

    def write_config(self, template, **extra):
        text = (HERE / template).read_text().replace("OTLP_PORT", str(self.otlp)).replace("TOKEN_FILE", str(self.token))
        for k, v in extra.items():
            text = text.replace(k, v)
        self.config.write_text(text)

    def url(self, path=""):
        return f"http://127.0.0.1:{self.api}{self.prefix}/{path}"

    def send_spans(self, name, count=1):
        """Posts `count` spans named `name` as OTLP/JSON."""
        now = time.time_ns()
        spans = [
            {
                "traceId": os.urandom(16).hex(),
                "spanId": os.urandom(8).hex(),
                "name": name,
                "kind": 2,
                "startTimeUnixNano": str(now),
                "endTimeUnixNano": str(now + 1000),
            }
            for _ in range(count)
        ]
        body = {
            "resourceSpans": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "ui-test"}}]},
                    "scopeSpans": [{"scope": {"name": "ui-test"}, "spans": spans}],
                }
            ]
        }
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.otlp}/v1/traces",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture(scope="module")
def alloy():
    with tempfile.TemporaryDirectory() as d:
        a = Alloy(d)
        yield a
        a.stop()


@pytest.fixture(scope="module")
def prefixed_alloy():
    with tempfile.TemporaryDirectory() as d:
        a = Alloy(d, prefix="/proxy/alloy/")
        yield a
        a.stop()


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900", "--disable-gpu"]:
        options.add_argument(arg)
    service = Service(os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def screenshot(browser):
    """Writes the current page to SCREENSHOTS/<name>.png, for a person to look at."""

    folder = Path(os.environ.get("SCREENSHOTS", tempfile.gettempdir()))
    folder.mkdir(parents=True, exist_ok=True)

    def take(name):
        browser.save_screenshot(str(folder / f"{name}.png"))

    return take
