// The live-debugging console: reads /api/v0/web/debug/{id} (a chunked text stream of records
// separated by "|;|") with the chosen sampling and signals; pause, clear, last 5000 records.
"use strict";

(function liveDebugging() {
  const view = document.getElementById("debug-view");
  if (!view) return;
  const id = view.dataset.component;
  const records = document.getElementById("records");
  const status = document.getElementById("debug-status");
  const pause = document.getElementById("pause");
  const sample = document.getElementById("sample");
  const sampleValue = document.getElementById("sample-value");
  const KEEP = 5000;
  let paused = false;
  let stream = null;

  const pathOf = (s) => s.split("/").map(encodeURIComponent).join("/");

  function add(text) {
    if (paused) return;
    const atBottom = records.scrollTop + records.clientHeight >= records.scrollHeight - 4;
    const div = document.createElement("div");
    div.className = "record";
    div.textContent = text;
    records.appendChild(div);
    while (records.childElementCount > KEEP) records.firstElementChild.remove();
    if (atBottom) records.scrollTop = records.scrollHeight;
  }

  async function connect() {
    if (stream) stream.abort();
    const abort = new AbortController();
    stream = abort;
    const types = [...document.querySelectorAll("input.signal:checked")].map((c) => c.value);
    const params = new URLSearchParams({ sampleProb: String(Number(sample.value) / 100) });
    if (types.length < document.querySelectorAll("input.signal").length) params.set("types", types.join(","));
    status.textContent = "connecting…";
    try {
      const response = await fetch("api/v0/web/debug/" + pathOf(id) + "?" + params, { signal: abort.signal, cache: "no-store" });
      if (!response.ok) {
        status.textContent = (await response.text()).trim();
        return;
      }
      status.textContent = "streaming";
      await readRecords(response, add);
      status.textContent = "the stream ended";
    } catch (e) {
      if (!abort.signal.aborted) status.textContent = "disconnected: " + e.message;
    }
  }

  pause.addEventListener("click", () => {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
  });
  document.getElementById("clear").addEventListener("click", () => records.replaceChildren());
  sample.addEventListener("input", () => { sampleValue.textContent = sample.value + " %"; });
  sample.addEventListener("change", connect);
  for (const c of document.querySelectorAll("input.signal")) c.addEventListener("change", connect);
  window.addEventListener("pagehide", () => stream && stream.abort());
  connect();
})();
