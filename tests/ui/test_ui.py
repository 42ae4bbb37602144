"""The web UI in a real browser (headless Chromium through Selenium) against `alloy run`."""

import threading
import time
import urllib.request

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import SECRET

RECEIVER = "otelcol.receiver.otlp.default"
BATCH = "otelcol.processor.batch.default"
EXPORTER = "otelcol.exporter.debug.default"


def wait(browser, seconds=15):
    # A page that reloads itself (the list after a successful reload) replaces its elements
    # while a condition reads them: that is "not yet", not a failure.
    return WebDriverWait(browser, seconds, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException, NoSuchElementException])


def open_page(browser, url):
    """Loads a page and waits until its scripts have attached their handlers (a click
    before that would submit the reload form natively and leave the page)."""
    browser.get(url)
    wait(browser).until(lambda b: b.execute_script("return document.documentElement.dataset.ready") == "1")


def visible_rows(browser):
    return [r.get_attribute("data-id") for r in browser.find_elements(By.CSS_SELECTOR, "tr.component") if r.is_displayed()]


class Sender:
    """Posts spans in the background until stopped, so rates stay non-zero."""

    def __init__(self, alloy, name):
        self.alloy, self.name, self.stop = alloy, name, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            try:
                self.alloy.send_spans(self.name, count=20)
            except OSError:
                pass
            time.sleep(0.1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)


def test_component_list_search_and_health_filter(alloy, browser, screenshot):
    open_page(browser, alloy.url())
    rows = visible_rows(browser)
    for component in [RECEIVER, BATCH, EXPORTER, "local.file.token", "relay.one"]:
        assert component in rows
    screenshot("01-components")
    browser.find_element(By.ID, "search").send_keys("batch")
    assert visible_rows(browser) == [BATCH]
    browser.find_element(By.ID, "search").clear()
    browser.find_element(By.ID, "search").send_keys(" ")  # input event after clear
    Select(browser.find_element(By.ID, "health-filter")).select_by_value("unhealthy")
    assert visible_rows(browser) == []
    Select(browser.find_element(By.ID, "health-filter")).select_by_value("healthy")
    assert RECEIVER in visible_rows(browser)


def test_component_detail_shows_alloy_values_history_and_no_secret(alloy, browser, screenshot):
    open_page(browser, alloy.url())
    browser.find_element(By.LINK_TEXT, "local.file.token").click()
    wait(browser).until(EC.url_contains("/component/local.file.token"))
    arguments = browser.find_element(By.ID, "arguments").text
    assert f'filename = "{alloy.token}"' in arguments
    assert "is_secret = true" in arguments
    assert browser.find_element(By.ID, "exports").text.strip() == "content = (secret)"
    assert SECRET not in browser.page_source
    history = browser.find_elements(By.CSS_SELECTOR, "#health-history tbody tr")
    assert len(history) >= 2 and "component created" in history[-1].text
    screenshot("02-component")
    # A custom component lists its module's components, with a link to the module's graph.
    open_page(browser, alloy.url("component/relay.one"))
    module = browser.find_element(By.CSS_SELECTOR, "section.module")
    assert "otelcol.processor.batch.inner" in module.text
    module.find_element(By.CSS_SELECTOR, "a.module-graph").click()
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, 'g.node[data-id="relay.one/otelcol.processor.batch.inner"]'))


def test_graph_nodes_edges_and_click(alloy, browser, screenshot):
    open_page(browser, alloy.url("graph"))
    wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "g.node")) == 5)
    edges = {(e.get_attribute("data-from"), e.get_attribute("data-to")) for e in browser.find_elements(By.CSS_SELECTOR, "path.edge")}
    assert (RECEIVER, BATCH) in edges and (BATCH, EXPORTER) in edges and ("relay.one", EXPORTER) in edges
    label = browser.find_element(By.CSS_SELECTOR, f'text.edge-label[data-from="{RECEIVER}"][data-to="{BATCH}"]')
    assert label.get_attribute("data-signal") == "traces,logs"
    for node in browser.find_elements(By.CSS_SELECTOR, "g.node"):
        assert "healthy" in node.get_attribute("class").split()
    # Sources left of what they feed.
    x = {n.get_attribute("data-id"): n.rect["x"] for n in browser.find_elements(By.CSS_SELECTOR, "g.node")}
    assert x[RECEIVER] < x[BATCH] < x[EXPORTER]
    screenshot("03-graph")
    browser.find_element(By.CSS_SELECTOR, f'g.node[data-id="{BATCH}"]').click()
    wait(browser).until(EC.url_contains(f"/component/{BATCH}"))


def test_graph_rates_become_non_zero_while_data_flows(alloy, browser, screenshot):
    open_page(browser, alloy.url("graph"))
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "text.edge-label"))
    window = browser.find_element(By.ID, "window")
    browser.execute_script("arguments[0].value = 1; arguments[0].dispatchEvent(new Event('change'))", window)
    selector = f'text.edge-label[data-from="{RECEIVER}"][data-to="{BATCH}"]'
    with Sender(alloy, "rate-span"):
        wait(browser, 30).until(lambda b: float(b.find_element(By.CSS_SELECTOR, selector).get_attribute("data-rate") or 0) > 0)
        text = browser.find_element(By.CSS_SELECTOR, selector).text
        assert text.startswith("traces,logs · ") and text.endswith("/s"), text
        screenshot("04-graph-rates")


def test_graph_follows_a_reload_in_place(alloy, browser, screenshot):
    open_page(browser, alloy.url("graph"))
    wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "g.node")) == 5)
    browser.execute_script("window.sameDocument = true")
    try:
        alloy.write_config("pipeline_more.alloy")
        browser.find_element(By.ID, "reload").click()
        wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, 'g.node[data-id="otelcol.exporter.debug.second"]'))
        assert browser.execute_script("return window.sameDocument") is True
        assert "config reloaded" in browser.find_element(By.ID, "reload-result").text
        screenshot("05-graph-after-reload")
    finally:
        alloy.write_config("pipeline.alloy")
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{alloy.api}/-/reload", method="POST"), timeout=10)
    wait(browser).until(lambda b: not b.find_elements(By.CSS_SELECTOR, 'g.node[data-id="otelcol.exporter.debug.second"]'))


def test_reload_button_shows_the_error_with_its_position(alloy, browser, screenshot):
    open_page(browser, alloy.url())
    alloy.write_config("pipeline_broken.alloy")
    try:
        browser.find_element(By.ID, "reload").click()
        result = wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#reload-result.error")))
        assert "pipeline.alloy:24:" in result.text and "colour" in result.text, result.text
        screenshot("06-reload-error")
    finally:
        alloy.write_config("pipeline.alloy")
    browser.find_element(By.ID, "reload").click()
    wait(browser).until(lambda b: "config reloaded" in b.find_element(By.ID, "reload-result").text)


def test_live_debugging_shows_a_span_the_test_sent(alloy, browser, screenshot):
    open_page(browser, alloy.url(f"component/{BATCH}"))
    browser.find_element(By.ID, "live-debugging").click()
    wait(browser).until(lambda b: b.find_element(By.ID, "debug-status").text == "streaming")
    with Sender(alloy, "span-for-live-debugging"):
        wait(browser, 30).until(lambda b: any("span-for-live-debugging" in r.text for r in b.find_elements(By.CSS_SELECTOR, "#records .record")))
    screenshot("07-live-debugging")
    browser.find_element(By.ID, "clear").click()
    assert browser.find_elements(By.CSS_SELECTOR, "#records .record") == []
    browser.find_element(By.ID, "pause").click()
    alloy.send_spans("span-while-paused")
    time.sleep(2.5)
    assert not any("span-while-paused" in r.text for r in browser.find_elements(By.CSS_SELECTOR, "#records .record"))


def test_ui_under_a_path_prefix(prefixed_alloy, browser, screenshot):
    a = prefixed_alloy
    open_page(browser, f"http://127.0.0.1:{a.api}/proxy/alloy")
    assert browser.current_url.endswith("/proxy/alloy/")
    browser.find_element(By.LINK_TEXT, BATCH).click()
    wait(browser).until(EC.url_contains(f"/proxy/alloy/component/{BATCH}"))
    browser.find_element(By.LINK_TEXT, "graph").click()
    wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "g.node")) == 5)
    with Sender(a, "prefixed-span"):
        sel = f'text.edge-label[data-from="{RECEIVER}"][data-to="{BATCH}"]'
        wait(browser, 30).until(lambda b: float(b.find_element(By.CSS_SELECTOR, sel).get_attribute("data-rate") or 0) > 0)
    browser.find_element(By.ID, "reload").click()
    wait(browser).until(lambda b: "config reloaded" in b.find_element(By.ID, "reload-result").text)
    screenshot("08-prefixed-graph")
    # Everything the pages fetched stayed under the prefix (what a reverse proxy forwards).
    urls = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert urls and all(u.startswith(f"http://127.0.0.1:{a.api}/proxy/alloy/") for u in urls), urls
