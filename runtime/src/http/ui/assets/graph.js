// The pipeline graph: components as nodes coloured by health, data-flow edges labelled with
// their signal and the items per second the sender passed on, laid out in layers from
// sources to sinks. The component list is polled, so the graph follows reloads and foreach
// changes in place; rates come from the streaming /api/v0/web/graph endpoint.
"use strict";

(function graph() {
  const view = document.getElementById("graph-view");
  if (!view) return;
  const module = view.dataset.module || "";
  const status = document.getElementById("graph-status");
  const windowInput = document.getElementById("window");
  const windowValue = document.getElementById("window-value");
  const SVG = "http://www.w3.org/2000/svg";
  const NODE_H = 46, GAP_X = 110, GAP_Y = 28, PAD = 20;

  const globalId = (local) => (module ? module + "/" + local : local);
  const pathOf = (id) => id.split("/").map(encodeURIComponent).join("/");
  const listUrl = module ? "api/v0/web/modules/" + pathOf(module) + "/components" : "api/v0/web/components";

  let shape = "";          // what the current drawing was laid out from
  let edgeRates = new Map(); // "from->to" (global IDs) -> items per second
  let nodeRates = new Map(); // global ID -> items per second, for components with no targets

  function el(name, attrs, parent) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  // Layers by longest path from the sources, after turning back edges of cycles around;
  // then orders inside layers by the barycentre of neighbours, sweeping both ways.
  function layout(ids, edges) {
    const out = new Map(ids.map((id) => [id, []]));
    for (const e of edges) out.get(e.from).push(e.to);
    // Iterative depth-first search: back edges are those closing a cycle.
    const back = new Set();
    const seen = new Map();
    for (const root of ids) {
      if (seen.has(root)) continue;
      const stack = [[root, 0]];
      seen.set(root, 1);
      while (stack.length) {
        const top = stack[stack.length - 1];
        const next = out.get(top[0])[top[1]++];
        if (next === undefined) { seen.set(top[0], 2); stack.pop(); continue; }
        const s = seen.get(next);
        if (s === 1) back.add(top[0] + "->" + next);
        else if (!s) { seen.set(next, 1); stack.push([next, 0]); }
      }
    }
    // Kahn's order over the forward edges; each node one layer right of its furthest source.
    const forward = new Map(ids.map((id) => [id, out.get(id).filter((to) => !back.has(id + "->" + to))]));
    const indegree = new Map(ids.map((id) => [id, 0]));
    for (const tos of forward.values()) for (const to of tos) indegree.set(to, indegree.get(to) + 1);
    const layer = new Map(ids.map((id) => [id, 0]));
    const queue = ids.filter((id) => indegree.get(id) === 0);
    for (let i = 0; i < queue.length; i++) {
      const v = queue[i];
      for (const to of forward.get(v)) {
        layer.set(to, Math.max(layer.get(to), layer.get(v) + 1));
        indegree.set(to, indegree.get(to) - 1);
        if (indegree.get(to) === 0) queue.push(to);
      }
    }
    // An edge spanning several layers passes through one invisible point per layer between,
    // so orderings keep it clear of the nodes it passes.
    const chains = new Map();
    let dummies = 0;
    const all = [...ids];
    const links = [];
    for (const e of edges) {
      const [from, to] = back.has(e.from + "->" + e.to) ? [e.to, e.from] : [e.from, e.to];
      const chain = [from];
      for (let l = layer.get(from) + 1; l < layer.get(to); l++) {
        const d = "\u0000" + dummies++;
        layer.set(d, l);
        all.push(d);
        chain.push(d);
      }
      chain.push(to);
      for (let i = 1; i < chain.length; i++) links.push([chain[i - 1], chain[i]]);
      chains.set(e.from + "->" + e.to, back.has(e.from + "->" + e.to) ? chain.reverse() : chain);
    }
    const up = new Map(all.map((id) => [id, []]));
    const down = new Map(all.map((id) => [id, []]));
    for (const [a, b] of links) { down.get(a).push(b); up.get(b).push(a); }
    const layers = [];
    for (const id of all) (layers[layer.get(id)] ||= []).push(id);
    const position = new Map();
    layers.forEach((l) => l.forEach((id, i) => position.set(id, i)));
    const barycentre = (id, neighbours) => {
      const ns = neighbours.get(id);
      return ns.length ? ns.reduce((s, n) => s + position.get(n), 0) / ns.length : position.get(id);
    };
    for (let sweep = 0; sweep < 8; sweep++) {
      const downward = sweep % 2 === 0;
      const order = downward ? layers.slice(1) : layers.slice(0, -1).reverse();
      for (const l of order) {
        const key = new Map(l.map((id) => [id, barycentre(id, downward ? up : down)]));
        l.sort((a, b) => key.get(a) - key.get(b));
        l.forEach((id, i) => position.set(id, i));
      }
    }
    return { layers: layers.filter(Boolean), chains };
  }

  const isDummy = (id) => id.startsWith("\u0000");

  function nodeWidth(c) {
    return Math.max(150, 7.2 * Math.max(c.name.length, (c.label || "").length) + 28);
  }

  function draw(components) {
    const byId = new Map(components.map((c) => [globalId(c.localID), c]));
    const ids = [...byId.keys()];
    const edges = [];
    for (const c of components) {
      for (const to of c.dataFlowEdgesTo || []) {
        if (byId.has(globalId(to))) edges.push({ from: globalId(c.localID), to: globalId(to), signal: (c.dataFlowSignals || {})[to] || "" });
      }
    }
    const { layers, chains } = layout(ids, edges);
    const widths = layers.map((l) => Math.max(40, ...l.filter((id) => !isDummy(id)).map((id) => nodeWidth(byId.get(id)))));
    const slot = (id) => (isDummy(id) ? NODE_H / 2 : NODE_H);
    const span = (l) => l.reduce((s, id) => s + slot(id), 0) + Math.max(0, l.length - 1) * GAP_Y;
    const height = PAD * 2 + Math.max(0, ...layers.map(span));
    const box = new Map();
    let x = PAD;
    layers.forEach((l, li) => {
      let y = (height - span(l)) / 2;
      for (const id of l) {
        box.set(id, isDummy(id) ? { x: x + widths[li] / 2, y: y + slot(id) / 2, w: 0, h: 0 } : { x, y, w: widths[li], h: NODE_H });
        y += slot(id) + GAP_Y;
      }
      x += widths[li] + GAP_X;
    });
    const width = Math.max(x - GAP_X + PAD, 200);
    view.replaceChildren();
    if (!ids.length) {
      view.textContent = "This module has no components.";
      return;
    }
    const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "pipeline graph" }, view);
    const defs = el("defs", {}, svg);
    const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
    el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#57606a" }, marker);
    for (const e of edges) {
      // Through the chain's points, leaving each box on the right and entering on the left.
      const points = chains.get(e.from + "->" + e.to).map((id) => box.get(id));
      let d = "";
      let mid = null;
      for (let i = 1; i < points.length; i++) {
        const a = points[i - 1], b = points[i];
        const x1 = a.x + a.w, y1 = a.y + a.h / 2, x2 = b.x, y2 = b.y + b.h / 2;
        const bend = Math.max(30, Math.abs(x2 - x1) / 2);
        d += (i === 1 ? `M ${x1} ${y1} ` : "") + `C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2} `;
        if (i === Math.ceil((points.length - 1) / 2)) mid = { x: (x1 + x2) / 2, y: (y1 + y2) / 2 };
      }
      el("path", { class: "edge", "data-from": e.from, "data-to": e.to, d, "marker-end": "url(#arrow)" }, svg);
      const label = el("text", { class: "edge-label", "data-from": e.from, "data-to": e.to, "data-signal": e.signal, x: mid.x, y: mid.y - 6, "text-anchor": "middle" }, svg);
      label.textContent = e.signal;
    }
    for (const id of ids) {
      const c = byId.get(id), b = box.get(id);
      const g = el("g", { class: "node " + c.health.state, "data-id": id, transform: `translate(${b.x},${b.y})`, tabindex: 0 }, svg);
      el("title", {}, g).textContent = `${id}\n${c.health.state}: ${c.health.message}`;
      el("rect", { width: b.w, height: b.h }, g);
      el("text", { class: "name", x: 12, y: 19 }, g).textContent = c.name;
      el("text", { class: "label", x: 12, y: 36 }, g).textContent = c.label || "";
      const open = () => { location.href = "component/" + pathOf(id); };
      g.addEventListener("click", open);
      g.addEventListener("keydown", (ev) => { if (ev.key === "Enter") open(); });
    }
    showRates();
  }

  // Health changes recolour nodes; any other change lays the graph out again.
  function update(components) {
    const next = JSON.stringify(components.map((c) => [c.localID, c.name, c.label, c.dataFlowEdgesTo, c.dataFlowSignals]));
    if (next !== shape) {
      shape = next;
      draw(components);
      return;
    }
    for (const c of components) {
      const g = view.querySelector(`g.node[data-id="${CSS.escape(globalId(c.localID))}"]`);
      if (!g) continue;
      g.setAttribute("class", "node " + c.health.state);
      g.querySelector("title").textContent = `${globalId(c.localID)}\n${c.health.state}: ${c.health.message}`;
    }
  }

  function formatRate(r) {
    return r >= 100 ? Math.round(r).toString() : r >= 10 ? r.toFixed(1) : r.toFixed(2);
  }

  function showRates() {
    for (const label of view.querySelectorAll("text.edge-label")) {
      const key = label.dataset.from + "->" + label.dataset.to;
      const rate = edgeRates.get(key) || 0;
      label.textContent = rate > 0 ? `${label.dataset.signal} · ${formatRate(rate)}/s` : label.dataset.signal;
      label.dataset.rate = String(rate);
      const path = view.querySelector(`path.edge[data-from="${CSS.escape(label.dataset.from)}"][data-to="${CSS.escape(label.dataset.to)}"]`);
      if (path) path.classList.toggle("flowing", rate > 0);
    }
    for (const g of view.querySelectorAll("g.node")) {
      const rate = nodeRates.get(g.dataset.id) || 0;
      g.dataset.rate = String(rate);
      const text = g.querySelector("text.label");
      const c = g.dataset.baseLabel ?? text.textContent;
      g.dataset.baseLabel = c;
      text.textContent = rate > 0 ? `${c}${c ? " · " : ""}${formatRate(rate)}/s in` : c;
    }
  }

  async function poll() {
    try {
      const response = await fetch(listUrl, { cache: "no-store" });
      if (!response.ok) throw new Error(`${response.status} ${(await response.text()).trim()}`);
      update(await response.json());
      status.textContent = "";
    } catch (e) {
      status.textContent = "cannot read the components: " + e.message;
    }
  }

  let stream = null;
  async function streamRates() {
    if (stream) stream.abort();
    const abort = new AbortController();
    stream = abort;
    const url = (module ? "api/v0/web/graph/" + pathOf(module) : "api/v0/web/graph") + "?window=" + windowInput.value;
    try {
      const response = await fetch(url, { signal: abort.signal, cache: "no-store" });
      if (!response.ok) throw new Error(`${response.status} ${(await response.text()).trim()}`);
      await readRecords(response, (record) => {
        const chunk = record.trim();
        if (chunk) rates(JSON.parse(chunk));
      });
    } catch (e) {
      if (abort.signal.aborted) return;
      status.textContent = "rates unavailable: " + e.message;
    }
    // The stream ended (a reload, a restart): connect again.
    if (!abort.signal.aborted) setTimeout(streamRates, 1000);
  }

  function rates(list) {
    edgeRates = new Map();
    nodeRates = new Map();
    for (const r of list || []) {
      const targets = r.targetComponentIDs || [];
      for (const t of targets) edgeRates.set(r.componentID + "->" + t, (edgeRates.get(r.componentID + "->" + t) || 0) + r.rate);
      if (!targets.length) nodeRates.set(r.componentID, (nodeRates.get(r.componentID) || 0) + r.rate);
    }
    showRates();
  }

  windowInput.addEventListener("change", () => {
    windowValue.textContent = windowInput.value + " s";
    streamRates();
  });
  document.addEventListener("alloy-reloaded", poll);
  poll();
  setInterval(poll, 2000);
  streamRates();
})();
