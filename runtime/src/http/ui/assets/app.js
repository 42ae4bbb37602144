// Shared by every page: the reload button, and the component list's search and filter.
// Plain JavaScript, no framework; every URL is relative to the page's <base href>.
"use strict";

// Reads a live-debugging or graph stream (a chunked body of records each followed by
// "|;|") and hands each record's text to `onRecord`; resolves when the stream ends.
async function readRecords(response, onRecord) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("|;|")) >= 0) {
      onRecord(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 3);
    }
  }
}

(function reloadButton() {
  const form = document.getElementById("reload-form");
  const result = document.getElementById("reload-result");
  if (!form || !result) return;
  const show = (ok, text) => {
    result.hidden = false;
    result.className = ok ? "ok" : "error";
    result.textContent = text;
  };
  // A page that reloads itself after a successful reload shows the outcome again.
  const kept = sessionStorage.getItem("alloy-reload-result");
  if (kept) {
    sessionStorage.removeItem("alloy-reload-result");
    show(true, kept);
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = document.getElementById("reload");
    button.disabled = true;
    try {
      const response = await fetch("-/reload", { method: "POST" });
      const text = (await response.text()).trim();
      if (!response.ok) {
        show(false, "Reload failed:\n" + text);
      } else if (document.getElementById("graph-view")) {
        // The graph follows the new configuration in place.
        show(true, text);
        document.dispatchEvent(new Event("alloy-reloaded"));
      } else {
        sessionStorage.setItem("alloy-reload-result", text);
        location.reload();
      }
    } catch (e) {
      show(false, "Reload failed: " + e);
    } finally {
      button.disabled = false;
    }
  });
})();

(function componentFilters() {
  const search = document.getElementById("search");
  const health = document.getElementById("health-filter");
  if (!search || !health) return;
  const apply = () => {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const row of document.querySelectorAll("tr.component")) {
      const text = row.textContent.toLowerCase();
      const matches = words.every((w) => text.includes(w)) && (!health.value || row.dataset.health === health.value);
      row.hidden = !matches;
    }
  };
  search.addEventListener("input", apply);
  health.addEventListener("change", apply);
  apply();
})();

// Tells tests (and anything else watching) that the page's handlers are in place.
document.documentElement.dataset.ready = "1";
