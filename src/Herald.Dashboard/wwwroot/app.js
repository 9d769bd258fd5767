// Herald dashboard: a page per view, each reading the JSON API beside it (api/...). No framework, no build step.
"use strict";
const main = document.getElementById("main");
let overview = { actions: false, gates: false, hasLog: false, name: "" };
let timer = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "background") e.style.background = v; // a property, not a style attribute: the page's CSP allows no inline style
    else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) e.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return e;
}
function svg(tag, attrs, ...children) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children.flat()) e.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return e;
}
async function api(path, options) {
  const response = await fetch("api/" + path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}
function post(path, body) {
  // The custom header is what a cross-site form or a simple request cannot send: actions refuse requests without it.
  return api(path, { method: "POST", headers: { "content-type": "application/json", "x-herald-action": "1" }, body: JSON.stringify(body) });
}
function time(t) { return t ? new Date(t).toLocaleTimeString([], { hour12: false }) + "." + String(new Date(t).getMilliseconds()).padStart(3, "0") : ""; }
function result(message, error) { return el("div", { class: "result" + (error ? " error" : ""), id: "result", role: "status" }, message); }
function every(ms, fn) { fn(); timer = setInterval(fn, ms); }

// ---- topology -------------------------------------------------------------------------------------------------
async function topology() {
  const panel = el("div", { class: "panel" });
  main.replaceChildren(el("h1", {}, "Topology"), el("p", { class: "muted" }, "Publishers → topics → consumer groups → handlers. Edges show the topic's rate over the last minute and the group's queue depth for it."), panel);
  every(2000, async () => {
    const t = await api("topology");
    panel.replaceChildren(drawTopology(t), groupTable(t));
  });
}
function drawTopology(t) {
  const publishers = [...new Set(t.publishers.map(p => p.source))];
  const topics = t.topics.map(x => x.name);
  const groups = t.groups.map(g => g.name);
  const handlers = t.groups.flatMap(g => g.members.map(m => ({ group: g.name, name: m.name })));
  const cols = [["Publishers", publishers, "publisher"], ["Topics", topics, "topic"], ["Groups", groups, "group"], ["Handlers", handlers.map(h => h.name), "handler"]];
  const width = 1100, colW = 200, gap = (width - colW * 4) / 3, rowH = 46;
  const height = Math.max(120, 50 + rowH * Math.max(...cols.map(c => c[1].length), 1));
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, id: "topology" });
  const pos = {};
  cols.forEach(([title, items, kind], c) => {
    const x = c * (colW + gap);
    root.append(svg("text", { x, y: 16, class: "col-title" }, title));
    items.forEach((name, i) => {
      const y = 30 + i * rowH;
      pos[kind + ":" + (kind === "handler" ? handlers[i].group + "/" : "") + name] = { x, y };
      root.append(svg("g", { class: "node " + kind, "data-node": kind + ":" + name },
        svg("rect", { x, y, width: colW, height: 32 }),
        svg("text", { x: x + 10, y: y + 20 }, name.length > 28 ? name.slice(0, 27) + "…" : name)));
    });
  });
  const edge = (a, b, label) => {
    if (!a || !b) return;
    const x1 = a.x + colW, y1 = a.y + 16, x2 = b.x, y2 = b.y + 16, mx = (x1 + x2) / 2;
    root.prepend(svg("path", { class: "edge", d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}` }));
    if (label) root.append(svg("text", { class: "edge-label", x: x2 - 96, y: y2 - 4 }, label));
  };
  t.publishers.forEach(p => edge(pos["publisher:" + p.source], pos["topic:" + p.topic]));
  t.edges.forEach(e => edge(pos["topic:" + e.topic], pos["group:" + e.group], `${e.rate.toFixed(1)}/s · depth ${e.depth ?? "?"}`));
  handlers.forEach(h => edge(pos["group:" + h.group], pos["handler:" + h.group + "/" + h.name]));
  return root;
}
function groupTable(t) {
  return el("table", { id: "groups" },
    el("tr", {}, el("th", {}, "group"), el("th", {}, "handlers (pattern)"), el("th", {}, "queue depth"), el("th", {}, "checkpoint"), el("th", {}, "reader"), el("th", {}, "details")),
    t.groups.map(g => el("tr", { "data-group": g.name },
      el("td", {}, g.name),
      el("td", {}, g.members.map(m => `${m.name} (${m.pattern})`).join(", ")),
      el("td", {}, String(g.depth)),
      el("td", {}, g.checkpoint ?? "-"),
      el("td", { class: "mono" }, g.owner ?? "-"),
      el("td", {}, Object.entries(g.details || {}).map(([k, v]) => `${k} ${v}`).join(", ")))));
}

// ---- live events ----------------------------------------------------------------------------------------------
async function live() {
  const pattern = el("input", { type: "text", id: "pattern", placeholder: "pattern, e.g. user.* or #", value: sessionStorage.getItem("pattern") || "" });
  const status = el("span", { class: "muted" });
  const rows = el("tbody", { id: "events" });
  let after = null;
  const restart = () => { sessionStorage.setItem("pattern", pattern.value); after = null; rows.replaceChildren(); };
  pattern.addEventListener("change", restart);
  main.replaceChildren(el("h1", {}, "Live events"),
    el("div", { class: "toolbar" }, pattern, el("button", { class: "secondary", onclick: restart }, "Filter"), status),
    el("div", { class: "panel" }, el("table", {}, el("thead", {}, el("tr", {}, ["time", "position", "topic", "key", "id", "payload"].map(h => el("th", {}, h)))), rows)));
  every(1000, async () => {
    try {
      const q = new URLSearchParams({ max: "200" });
      if (after !== null) q.set("after", after);
      if (pattern.value.trim()) q.set("pattern", pattern.value.trim());
      const page = await api("events?" + q);
      after = page.head;
      for (const e of page.events) {
        rows.prepend(el("tr", { class: "clickable", "data-id": e.id, onclick: () => location.hash = "#/events/" + encodeURIComponent(e.id) },
          el("td", { class: "mono" }, time(e.time)), el("td", {}, String(e.position)), el("td", {}, e.topic), el("td", {}, e.key ?? "-"),
          el("td", { class: "mono" }, e.id), el("td", { class: "mono" }, e.preview)));
      }
      while (rows.children.length > 500) rows.lastChild.remove();
      status.textContent = `${rows.children.length} shown · updated ${new Date().toLocaleTimeString([], { hour12: false })}`;
    } catch (err) { status.textContent = err.message; }
  });
}

// ---- one event --------------------------------------------------------------------------------------------------
async function eventPage(id) {
  main.replaceChildren(el("h1", {}, "Event"));
  try {
    const d = await api("events/" + encodeURIComponent(id));
    const e = d.event;
    const rows = ["id", "type", "source", "subject", "time", "position", "datacontenttype", "traceparent", "traceId", "correlationid", "causationid", "attempt"]
      .map(k => el("tr", {}, el("th", {}, k), el("td", { class: "mono", "data-field": k }, e[k] === null || e[k] === undefined ? "-" : String(e[k]))));
    main.append(
      el("div", { class: "panel" }, el("table", { id: "envelope" }, rows)),
      el("h2", {}, "Payload"), el("pre", { id: "payload" }, pretty(e.data)),
      el("h2", {}, "Deliveries"),
      el("div", { class: "panel" }, el("table", { id: "deliveries" },
        el("tr", {}, el("th", {}, "consumer"), el("th", {}, "status"), el("th", {}, "attempts"), el("th", {}, "detail")),
        d.deliveries.length ? d.deliveries.map(x => el("tr", {}, el("td", {}, x.consumer), el("td", {}, el("span", { class: "badge " + x.status }, x.status)), el("td", {}, x.attempts ?? "-"), el("td", {}, x.detail ?? ""))) : el("tr", {}, el("td", { colspan: 4, class: "muted" }, "no deliveries recorded yet")))));
  } catch (err) { main.append(result(err.message, true)); }
}
function pretty(text) { try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; } }

// ---- dead letters -----------------------------------------------------------------------------------------------
async function deadLetters() {
  const pattern = el("input", { type: "text", id: "dl-pattern", placeholder: "topic pattern" });
  const box = el("div", { id: "dl-result" });
  const body = el("tbody", { id: "dead-letters" });
  const selected = () => [...body.querySelectorAll("input[type=checkbox]:checked")].map(c => c.value);
  const act = async (what, ids) => {
    try {
      const r = await post("dead-letters/" + what, { ids });
      box.replaceChildren(result(what === "redrive" ? `Redriven ${r.redriven} of ${ids.length}.` : `Deleted ${r.deleted} of ${ids.length}.`));
    } catch (err) { box.replaceChildren(result(err.message, true)); }
    await load();
  };
  const load = async () => {
    try {
      const q = pattern.value.trim() ? "?pattern=" + encodeURIComponent(pattern.value.trim()) : "";
      const list = await api("dead-letters" + q);
      body.replaceChildren(...list.map(d => el("tr", { "data-id": d.id },
        el("td", {}, el("input", { type: "checkbox", value: d.id, "aria-label": "select " + d.id })),
        el("td", { class: "mono" }, time(d.time)), el("td", {}, d.topic), el("td", {}, d.key ?? "-"), el("td", {}, d.consumer),
        el("td", {}, String(d.attempts)), el("td", { title: d.exception ?? "" }, `${d.reason}${d.message ? ": " + d.message : ""}`),
        el("td", {}, el("a", { href: "#/dead-letters/" + encodeURIComponent(d.id) }, "inspect"), " ",
          overview.actions ? el("button", { class: "secondary redrive", onclick: () => act("redrive", [d.id]) }, "Redrive") : ""))));
      if (!list.length) body.append(el("tr", {}, el("td", { colspan: 8, class: "muted" }, "no dead letters")));
    } catch (err) { box.replaceChildren(result(err.message, true)); }
  };
  main.replaceChildren(el("h1", {}, "Dead letters"),
    el("div", { class: "toolbar" }, pattern, el("button", { class: "secondary", onclick: load }, "Filter"),
      overview.actions ? [el("button", { id: "redrive-selected", onclick: () => act("redrive", selected()) }, "Redrive selected"),
        el("button", { class: "secondary", onclick: () => confirm("Delete the selected dead letters for good?") && act("delete", selected()) }, "Delete selected")]
        : el("span", { class: "muted" }, "read-only: start with --allow-actions to redrive")),
    box, el("div", { class: "panel" }, el("table", {}, el("thead", {}, el("tr", {}, ["", "time", "topic", "key", "consumer", "attempts", "reason", ""].map(h => el("th", {}, h)))), body)));
  await load();
}
async function deadLetterPage(id) {
  main.replaceChildren(el("h1", {}, "Dead letter"));
  try {
    const d = await api("dead-letters/" + encodeURIComponent(id));
    const l = d.letter;
    main.append(el("div", { class: "panel" }, el("table", {},
      ["id", "consumer", "reason", "exception", "attempts", "time", "eventId", "topic", "key"].map(k => el("tr", {}, el("th", {}, k), el("td", { class: "mono" }, String(l[k] ?? "-")))),
      el("tr", {}, el("th", {}, "message"), el("td", {}, d.exceptionMessage ?? "-")),
      el("tr", {}, el("th", {}, "trace id"), el("td", { class: "mono" }, d.envelope.traceId ?? "-")))),
      el("h2", {}, "Payload"), el("pre", {}, pretty(d.envelope.data)));
  } catch (err) { main.append(result(err.message, true)); }
}

// ---- gates ---------------------------------------------------------------------------------------------------------
async function gates() {
  main.replaceChildren(el("h1", {}, "Topic gates"));
  if (!overview.gates) {
    main.append(result("Topic gates live in the running application's bus; this dashboard reads a file or broker. Mount it in the application (app.MapHeraldDashboard) to block, pause and resume topics.", true));
    return;
  }
  const pattern = el("input", { type: "text", id: "gate-pattern", placeholder: "pattern, e.g. order.*" });
  const box = el("div");
  const body = el("tbody", { id: "gates" });
  const act = async (action, p) => {
    try { await post("gates", { pattern: p, action }); box.replaceChildren(result(`${action} ${p}: done.`)); }
    catch (err) { box.replaceChildren(result(err.message, true)); }
    await load();
  };
  const load = async () => {
    const list = await api("gates");
    body.replaceChildren(...list.map(g => el("tr", { "data-pattern": g.pattern }, el("td", {}, g.pattern), el("td", {}, el("span", { class: "badge " + g.state }, g.state)), el("td", {}, String(g.held)), el("td", {}, g.behavior),
      el("td", {}, overview.actions ? el("button", { class: "secondary", onclick: () => act("resume", g.pattern) }, "Resume") : ""))));
    if (!list.length) body.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "no gates: every topic flows")));
  };
  main.append(el("div", { class: "toolbar" }, pattern,
    overview.actions ? ["pause", "block", "resume"].map(a => el("button", { class: a === "resume" ? "secondary" : "", onclick: () => act(a, pattern.value.trim()) }, a[0].toUpperCase() + a.slice(1)))
      : el("span", { class: "muted" }, "read-only")),
    box, el("div", { class: "panel" }, el("table", {}, el("thead", {}, el("tr", {}, ["pattern", "state", "held", "when blocked", ""].map(h => el("th", {}, h)))), body)));
  every(2000, load);
}

// ---- charts --------------------------------------------------------------------------------------------------------
async function charts() {
  const a = el("div", { class: "panel" }), b = el("div", { class: "panel" });
  main.replaceChildren(el("h1", {}, "Charts"), el("p", { class: "muted" }, "The last minutes, one point a second. Latency: handler time when the dashboard runs in the application; publish-to-handler time read from the inbox on a SQLite file."), a, b);
  every(2000, async () => {
    const points = await api("charts");
    a.replaceChildren(el("h2", {}, "Throughput (events/s)"), chart(points, [["published", "#3563e9"], ["handled", "#1f8f4e"]], "throughput"));
    b.replaceChildren(el("h2", {}, "Handler latency (ms)"), chart(points, [["p50", "#b7791f"], ["p99", "#c2412d"]], "latency"));
  });
}
function chart(points, series, id) {
  const w = 1000, h = 220, pad = 40;
  const root = svg("svg", { width: w, height: h, id });
  const values = points.flatMap(p => series.map(([k]) => p[k]).filter(v => v !== null && v !== undefined));
  const max = values.length ? (Math.max(...values) * 1.1 || 1) : 1;
  const x = i => pad + (points.length < 2 ? 0 : i * (w - pad * 2) / (points.length - 1));
  const y = v => h - pad + 10 - (v / max) * (h - pad - 10);
  root.append(svg("line", { x1: pad, y1: h - pad + 10, x2: w - pad, y2: h - pad + 10, stroke: "#d9dde3" }));
  root.append(svg("text", { x: 2, y: 14 }, max.toFixed(max < 10 ? 2 : 0)), svg("text", { x: 2, y: h - pad + 12 }, "0"));
  for (const [key, color] of series) {
    let d = "";
    points.forEach((p, i) => { if (p[key] !== null && p[key] !== undefined) d += (d ? " L" : "M") + x(i).toFixed(1) + "," + y(p[key]).toFixed(1); });
    if (d) root.append(svg("path", { d, stroke: color, fill: "none", "stroke-width": 2, "data-series": key }));
  }
  const legend = el("div", { class: "legend" }, series.map(([k, c]) => el("span", {}, el("i", { background: c }), k)),
    el("span", { class: "muted" }, points.length ? `${points.length} s of data` : "collecting…"));
  return el("div", {}, root, legend);
}

// ---- routing -------------------------------------------------------------------------------------------------------
async function route() {
  clearInterval(timer);
  const hash = location.hash || "#/";
  const [, page, id] = hash.match(/^#\/([^/]*)\/?(.*)$/) || [];
  document.querySelectorAll("nav a").forEach(a => a.classList.toggle("active", a.dataset.page === (page || "topology") || (page === "events" && a.dataset.page === "live")));
  try {
    if (!page) await topology();
    else if (page === "live") await live();
    else if (page === "events") await eventPage(decodeURIComponent(id));
    else if (page === "dead-letters" && id) await deadLetterPage(decodeURIComponent(id));
    else if (page === "dead-letters") await deadLetters();
    else if (page === "gates") await gates();
    else if (page === "charts") await charts();
    else main.replaceChildren(result("No such page.", true));
  } catch (err) { main.append(result(err.message, true)); }
}
(async () => {
  overview = await api("overview");
  document.getElementById("system").textContent = overview.name + (overview.actions ? " · actions allowed" : " · read-only");
  window.addEventListener("hashchange", route);
  await route();
})();
