// jaxmlp playground: the page. Plain JS, canvas and SVG; every asset is served by the
// local jaxmlp server. The model trains server-side in JAX; this page sends settings and
// commands (JSON text) and draws the binary frames that come back (see frames.py).
"use strict";

const DEFAULTS = {
  dataset: "circle", noise: 0, train_percent: 50, batch_size: 10, n_points: 500, seed: 1,
  features: ["x1", "x2"], hidden: [4, 2], activation: "tanh", optimizer: "sgd",
  learning_rate: 0.03, regularization: "none", reg_rate: 0,
};
const VIEW_DEFAULTS = { discretize: false, show_test: false };
const FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"];
const FEATURE_LABELS = {
  "x1": "X\u2081", "x2": "X\u2082", "x1^2": "X\u2081\u00b2", "x2^2": "X\u2082\u00b2",
  "x1*x2": "X\u2081X\u2082", "sin(x1)": "sin(X\u2081)", "sin(x2)": "sin(X\u2082)",
};
const FEATURE_FN = {
  "x1": (a, b) => a / 6, "x2": (a, b) => b / 6, "x1^2": (a, b) => a * a / 36,
  "x2^2": (a, b) => b * b / 36, "x1*x2": (a, b) => a * b / 36,
  "sin(x1)": (a, b) => Math.sin(a), "sin(x2)": (a, b) => Math.sin(b),
};
const DATASETS = ["circle", "xor", "gaussian", "spiral", "moons", "reg-plane", "reg-gauss", "custom"];
const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const MAX_LAYERS = 6, MAX_NEURONS = 64, NODE = 36, MAX_UPLOAD = 1 << 20;
const PALETTE = ["#f59322", "#0877bd", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const MID = [232, 234, 235];

const $ = (id) => document.getElementById(id);
const hex = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
const RGB = PALETTE.map(hex);

// what the tests (and a curious user in the console) can read
const pg = window.playground = { frames: 0, errors: [], notices: [], header: null, points: [],
  classes: ["0", "1"], files: [], status: null, regression: false };
let settings = { ...DEFAULTS, ...parseHash() };
let view = { ...VIEW_DEFAULTS, ...parseView() };
let ws = null, playing = false, lastFrame = null, hoverMap = null, seq = 0;

// ------------------------------------------------------------------ URL hash (whole state)
function parseHash() {
  const out = {};
  for (const part of location.hash.replace(/^#/, "").split("&")) {
    const [k, raw] = part.split("=");
    if (!(k in DEFAULTS) || raw === undefined) continue;
    const v = decodeURIComponent(raw);
    if (k === "features") out[k] = v ? v.split(",") : [];
    else if (k === "hidden") out[k] = v ? v.split(",").map(Number) : [];
    else if (typeof DEFAULTS[k] === "number") out[k] = Number(v);
    else out[k] = v;
  }
  return out;
}
function parseView() {
  const out = {};
  for (const part of location.hash.replace(/^#/, "").split("&")) {
    const [k, v] = part.split("=");
    if (k in VIEW_DEFAULTS) out[k] = v === "true";
  }
  return out;
}
function writeHash() {
  const parts = Object.keys(DEFAULTS).map((k) => {
    const v = Array.isArray(settings[k]) ? settings[k].join(",") : settings[k];
    return `${k}=${encodeURIComponent(v)}`;
  });
  for (const k of Object.keys(VIEW_DEFAULTS)) parts.push(`${k}=${view[k]}`);
  history.replaceState(null, "", "#" + parts.join("&"));
}

// ------------------------------------------------------------------ talking to the server
function send(message) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}
function pushSettings() {
  writeHash();
  renderControls();
  send({ type: "settings", settings, seq: ++seq });
}
function connect() {
  ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  ws.binaryType = "arraybuffer";
  ws.onopen = () => { send({ type: "settings", settings, seq: ++seq }); send({ type: "speed", epochs: Number($("speed").value) }); };
  ws.onmessage = (ev) => (typeof ev.data === "string" ? onText(JSON.parse(ev.data)) : onBinary(ev.data));
  ws.onclose = () => showStatus("Disconnected from the jaxmlp server: is `jaxmlp playground` still running?", "error");
}
function onText(m) {
  if (m.type === "status") {
    pg.status = m;
    playing = m.playing;
    document.body.classList.toggle("playing", playing);
    $("epoch").textContent = m.epoch.toLocaleString("en-US", { minimumIntegerDigits: 6 });
    if (m.message) showStatus(m.message, m.message.startsWith("diverged") ? "error" : "info");
    else clearStatus("info");
  } else if (m.type === "error") {
    pg.errors.push(m.message);
    showStatus(m.message, "error");
  } else if (m.type === "notice") {
    pg.notices.push(m.message);
    showStatus(m.message, "notice");
  } else if (m.type === "data") {
    pg.points = m.points;
    pg.classes = m.classes;
    pg.regression = Boolean(m.regression);
    clearStatus("error");
    // the server's settings (clamped, or switched to 'custom') -- unless this answers an
    // older request than our latest: our newer choices must not be undone
    if (m.seq === null || m.seq === seq) settings = { ...settings, ...m.settings };
    writeHash();
    renderControls();
    renderLegend();
    drawPoints();
  }
}
function onBinary(buffer) {
  const n = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, n)));
  const payload = new Uint8Array(buffer, 4 + n);
  if (header.type === "frame") onFrame(header, payload);
  else if (header.type === "baseline") {
    drawProbabilities($("baseline"), payload, header.k, header.grid);
    const score = header.score_name === "R²" ? `test R² ${header.test_accuracy.toFixed(3)}` : `test accuracy ${(100 * header.test_accuracy).toFixed(1)}%`;
    $("baseline-info").textContent = `${score}, ${header.epochs} epochs, ${header.fit_seconds}s`;
    pg.baseline = header;
  } else if (header.type === "ensemble") {
    const cells = header.grid * header.grid;
    drawProbabilities($("ens-mean"), payload.subarray(0, header.k * cells), header.k, header.grid);
    drawUncertainty($("ens-unc"), payload.subarray(header.k * cells), header.grid);
    $("ensemble-info").textContent = `(${header.n} models, ${header.epochs} epochs, ${header.seconds}s)`;
    pg.ensemble = header;
  } else if (header.type === "file") {
    const url = URL.createObjectURL(new Blob([payload], { type: header.mime }));
    const a = Object.assign(document.createElement("a"), { href: url, download: header.name });
    document.body.append(a);
    a.click();
    a.remove();
    pg.files.push(header.name);
  }
}

// ------------------------------------------------------------------ colours and maps
function mix(a, b, t) { return a.map((x, i) => x + (b[i] - x) * t); }
function diverging(v) { // v in [-1, 1]: orange - grey - blue, as TF Playground
  return v < 0 ? mix(MID, RGB[0], -v) : mix(MID, RGB[1], v);
}
function probabilityColor(p, k, discrete) { // p: k probabilities in [0, 1]
  if (k === 2) {
    const v = 2 * p[1] - 1;
    return diverging(discrete ? Math.sign(v) * 0.75 : v);
  }
  let best = 0;
  for (let c = 1; c < k; c++) if (p[c] > p[best]) best = c;
  if (discrete) return mix(MID, RGB[best], 0.6);
  const blend = [0, 0, 0];
  for (let c = 0; c < k; c++) for (let i = 0; i < 3; i++) blend[i] += p[c] * RGB[c][i];
  return mix(MID, blend, Math.max(0, (p[best] - 1 / k) / (1 - 1 / k)) * 0.85);
}
function drawProbabilities(canvas, bytes, k, grid, discrete = false) {
  canvas.width = canvas.height = grid;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(grid, grid);
  const cells = grid * grid, p = new Array(k);
  for (let i = 0; i < cells; i++) {
    for (let c = 0; c < k; c++) p[c] = bytes[c * cells + i] / 255;
    const rgb = probabilityColor(p, k, discrete);
    img.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
}
function drawValues(canvas, bytes, grid) { // bytes: (v + 1) * 127.5
  canvas.width = canvas.height = grid;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(grid, grid);
  for (let i = 0; i < grid * grid; i++) {
    const rgb = diverging(bytes[i] / 127.5 - 1);
    img.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
}
function drawUncertainty(canvas, bytes, grid) {
  canvas.width = canvas.height = grid;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(grid, grid);
  for (let i = 0; i < grid * grid; i++) {
    const t = Math.min(1, bytes[i] / 255 * 2);
    const rgb = mix([250, 250, 250], [120, 20, 120], t);
    img.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
}
function inputMap(name, grid) {
  const bytes = new Uint8Array(grid * grid);
  for (let r = 0; r < grid; r++) for (let c = 0; c < grid; c++) {
    const a = -6 + 12 * c / (grid - 1), b = 6 - 12 * r / (grid - 1);
    bytes[r * grid + c] = Math.round((Math.max(-1, Math.min(1, FEATURE_FN[name](a, b))) + 1) * 127.5);
  }
  return bytes;
}

// ------------------------------------------------------------------ frames
function onFrame(h, payload) {
  pg.frames += 1;
  pg.header = h;
  lastFrame = { h, payload };
  $("epoch").textContent = h.epoch.toLocaleString("en-US", { minimumIntegerDigits: 6 });
  const last = h.history[h.history.length - 1];
  $("train-loss").textContent = last && last[1] !== null ? last[1].toFixed(3) : "\u2013";
  $("test-loss").textContent = last && last[2] !== null ? last[2].toFixed(3) : "\u2013";
  if (h.diverged) showStatus(`diverged at epoch ${h.diverged}: lower the learning rate and reset`, "error");
  drawHeatmap();
  drawNeuronMaps(h, payload);
  drawLinks(h);
  drawChart(h.history);
}
function drawHeatmap() {
  if (hoverMap || !lastFrame) return;
  const { h, payload } = lastFrame;
  drawProbabilities($("heatmap"), payload.subarray(0, h.k * h.grid * h.grid), h.k, h.grid, view.discretize);
}
function neuronSlices(h, payload) {
  const slices = [], cell = h.ngrid * h.ngrid;
  let offset = h.k * h.grid * h.grid;
  h.shown.forEach((n, layer) => {
    slices.push([]);
    for (let i = 0; i < n; i++, offset += cell) slices[layer].push(payload.subarray(offset, offset + cell));
  });
  return slices;
}
function drawNeuronMaps(h, payload) {
  const slices = neuronSlices(h, payload);
  slices.forEach((layer, l) => layer.forEach((bytes, i) => {
    const canvas = document.querySelector(`canvas[data-layer="${l + 1}"][data-node="${i}"]`);
    if (canvas) { drawValues(canvas, bytes, h.ngrid); canvas.dataBytes = bytes; }
  }));
}

// ------------------------------------------------------------------ network
function renderNetwork() {
  const cols = $("columns");
  cols.textContent = "";
  const inputs = document.createElement("div");
  inputs.className = "column";
  inputs.innerHTML = `<div class="col-head">Features</div>`;
  for (const name of FEATURES) {
    const node = document.createElement("div");
    node.className = "node input" + (settings.features.includes(name) ? " on" : "");
    node.title = `click to ${settings.features.includes(name) ? "switch off" : "switch on"} ${name}`;
    node.dataset.feature = name;
    const canvas = document.createElement("canvas");
    canvas.dataset.layer = "0";
    canvas.dataset.node = String(FEATURES.indexOf(name));
    drawValues(canvas, inputMap(name, 20), 20);
    canvas.dataBytes = inputMap(name, 20);
    node.append(canvas, Object.assign(document.createElement("span"), { textContent: FEATURE_LABELS[name] }));
    node.onclick = () => toggleFeature(name);
    hoverable(canvas, 20);
    inputs.append(node);
  }
  cols.append(inputs);
  settings.hidden.forEach((width, l) => {
    const col = document.createElement("div");
    col.className = "column";
    col.innerHTML = `<div class="col-head"><button class="round small" data-l="${l}" data-d="1" aria-label="add neuron">+</button>` +
      `<button class="round small" data-l="${l}" data-d="-1" aria-label="remove neuron">&minus;</button>` +
      `<div>${width} neuron${width === 1 ? "" : "s"}</div></div>`;
    for (const b of col.querySelectorAll("button")) b.onclick = () => changeNeurons(Number(b.dataset.l), Number(b.dataset.d));
    for (let i = 0; i < Math.min(width, 8); i++) {
      const node = document.createElement("div");
      node.className = "node";
      const canvas = document.createElement("canvas");
      canvas.dataset.layer = String(l + 1);
      canvas.dataset.node = String(i);
      canvas.width = canvas.height = 20;
      hoverable(canvas, 20);
      node.append(canvas);
      col.append(node);
    }
    if (width > 8) col.append(Object.assign(document.createElement("div"), { className: "more", textContent: `+${width - 8} more (not drawn)` }));
    cols.append(col);
  });
  $("layer-count").textContent = `${settings.hidden.length} hidden layer${settings.hidden.length === 1 ? "" : "s"}`;
  if (lastFrame) { drawNeuronMaps(lastFrame.h, lastFrame.payload); drawLinks(lastFrame.h); }
}
function hoverable(canvas, grid) {
  canvas.onmouseenter = () => {
    if (!canvas.dataBytes) return;
    hoverMap = canvas;
    drawValues($("heatmap"), canvas.dataBytes, grid);
  };
  canvas.onmouseleave = () => { hoverMap = null; drawHeatmap(); };
}
function nodeBox(layer, i) {
  const c = document.querySelector(`canvas[data-layer="${layer}"][data-node="${i}"]`);
  if (!c) return null;
  const r = c.getBoundingClientRect(), base = $("network").getBoundingClientRect();
  const right = layer === 0 ? c.parentElement.getBoundingClientRect().right : r.right; // after the label
  return { x0: r.left - base.left, x1: right - base.left, y: r.top - base.top + r.height / 2 };
}
function drawLinks(h) {
  const svg = $("links");
  const base = $("network").getBoundingClientRect();
  svg.setAttribute("width", base.width);
  svg.setAttribute("height", base.height);
  svg.textContent = "";
  if (!h || h.weights.length !== settings.hidden.length + 1) return;
  const sources = [settings.features.map((f) => FEATURES.indexOf(f))];
  h.shown.forEach((n) => sources.push([...Array(n).keys()]));
  const out = $("heatmap").getBoundingClientRect();
  h.weights.forEach((W, l) => W.forEach((row, i) => row.forEach((w, j) => {
    const a = nodeBox(l, sources[l][i]);
    const b = l + 1 < sources.length ? nodeBox(l + 1, j) : { x0: out.left - base.left, y: out.top - base.top + out.height * (j + 1) / (row.length + 1) };
    if (!a || !b) return;
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    const mx = (a.x1 + b.x0) / 2;
    path.setAttribute("d", `M${a.x1},${a.y} C${mx},${a.y} ${mx},${b.y} ${b.x0},${b.y}`);
    path.setAttribute("stroke", w < 0 ? PALETTE[0] : PALETTE[1]);
    path.setAttribute("stroke-width", Math.min(8, 0.5 + Math.abs(w) * 1.5).toFixed(2));
    path.setAttribute("class", "link");
    path.dataset.weight = String(w);
    path.onmousemove = (ev) => showTip(ev, `weight ${w.toFixed(4)}`);
    path.onmouseleave = () => { $("link-tip").hidden = true; };
    svg.append(path);
  })));
}
function showTip(ev, text) {
  const tip = $("link-tip");
  tip.textContent = text;
  tip.hidden = false;
  tip.style.left = `${ev.pageX + 12}px`;
  tip.style.top = `${ev.pageY + 12}px`;
}
function toggleFeature(name) {
  const on = settings.features.includes(name);
  if (on && settings.features.length === 1) { showStatus("at least one input feature must stay on", "notice"); return; }
  settings.features = on ? settings.features.filter((f) => f !== name) : FEATURES.filter((f) => f === name || settings.features.includes(f));
  pushSettings();
}
function changeNeurons(l, d) {
  const w = settings.hidden[l] + d;
  if (w < 1 || w > MAX_NEURONS) return;
  settings.hidden = settings.hidden.map((x, i) => (i === l ? w : x));
  pushSettings();
}

// ------------------------------------------------------------------ points, chart, legend
function drawPoints() {
  const canvas = $("points"), ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const s = canvas.width / 12;
  for (const [x, y, label, train] of pg.points) {
    if (!train && !view.show_test) continue;
    ctx.beginPath();
    ctx.arc((x + 6) * s, (6 - y) * s, 3.5, 0, 2 * Math.PI);
    const rgb = pg.regression ? diverging(Math.max(-1, Math.min(1, label))) : null;
    ctx.fillStyle = rgb ? `rgb(${rgb.map(Math.round).join(",")})` : PALETTE[label % PALETTE.length];
    ctx.fill();
    ctx.lineWidth = train ? 1 : 1.5;
    ctx.strokeStyle = train ? "#fff" : "#000";
    ctx.stroke();
  }
}
function drawChart(history) {
  const canvas = $("chart"), ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!history.length) return;
  let top = 0;
  for (const r of history) top = Math.max(top, r[1] ?? 0, r[2] ?? 0);
  const x = (i) => (history.length === 1 ? 0 : i / (history.length - 1)) * (canvas.width - 2) + 1;
  const y = (v) => canvas.height - 2 - (v / (top || 1)) * (canvas.height - 4);
  for (const [col, colour] of [[1, "#999"], [2, "#000"]]) {
    ctx.beginPath();
    history.forEach((r, i) => (i ? ctx.lineTo(x(i), y(r[col] ?? top)) : ctx.moveTo(x(i), y(r[col] ?? top))));
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
}
function renderLegend() {
  $("legend").innerHTML = pg.regression
    ? `<span><i style="background:${PALETTE[0]}"></i>-1</span><span><i style="background:rgb(${MID.join(",")})"></i>0</span><span><i style="background:${PALETTE[1]}"></i>+1 (value)</span>`
    : pg.classes.map((c, i) => `<span><i style="background:${PALETTE[i % PALETTE.length]}"></i>${escapeHtml(c)}</span>`).join("");
  const sel = $("click-class"), old = sel.value;
  sel.innerHTML = [...Array(Math.min(10, pg.classes.length + 1)).keys()].map((i) => `<option value="${i}">${i < pg.classes.length ? escapeHtml(pg.classes[i]) : "new class " + i}</option>`).join("");
  if (old && Number(old) < sel.options.length) sel.value = old;
}
function escapeHtml(s) { return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`); }

// ------------------------------------------------------------------ status line
function showStatus(text, kind) {
  const s = $("status");
  s.textContent = text;
  s.className = kind;
}
function clearStatus(kind) { if ($("status").className === kind) { $("status").textContent = ""; $("status").className = ""; } }

// ------------------------------------------------------------------ controls
function fillSelect(id, values) { $(id).innerHTML = values.map((v) => `<option value="${v}">${v}</option>`).join(""); }
function renderControls() {
  for (const id of ["learning_rate", "activation", "optimizer", "regularization", "reg_rate"]) $(id).value = String(settings[id]);
  for (const id of ["train_percent", "noise", "batch_size"]) { $(id).value = settings[id]; $(`${id}-out`).textContent = settings[id]; }
  for (const b of document.querySelectorAll("#datasets button")) b.classList.toggle("selected", b.dataset.name === settings.dataset);
  $("discretize").checked = view.discretize;
  $("show-test").checked = view.show_test;
  const key = JSON.stringify([settings.features, settings.hidden]);
  if (key !== renderControls.key) { renderControls.key = key; renderNetwork(); }
}
function setup() {
  fillSelect("learning_rate", LEARNING_RATES);
  fillSelect("reg_rate", REG_RATES);
  for (const name of DATASETS) {
    const b = Object.assign(document.createElement("button"), { textContent: name, className: "dataset" });
    b.dataset.name = name;
    b.onclick = () => {
      if (name === "custom") { showStatus("upload a CSV or click on the output to add your own points", "notice"); return; }
      settings.dataset = name;
      pushSettings();
    };
    $("datasets").append(b);
  }
  for (const id of ["learning_rate", "reg_rate"]) $(id).onchange = () => { settings[id] = Number($(id).value); pushSettings(); };
  for (const id of ["activation", "optimizer", "regularization"]) $(id).onchange = () => { settings[id] = $(id).value; pushSettings(); };
  for (const id of ["train_percent", "noise", "batch_size"]) {
    $(id).oninput = () => { $(`${id}-out`).textContent = $(id).value; };
    $(id).onchange = () => { settings[id] = Number($(id).value); pushSettings(); };
  }
  $("speed").onchange = () => send({ type: "speed", epochs: Number($("speed").value) });
  $("regenerate").onclick = () => { settings.seed = Math.floor(Math.random() * 1e6); pushSettings(); };
  $("play").onclick = () => send({ type: playing ? "pause" : "play" });
  $("step").onclick = () => send({ type: "step" });
  $("reset").onclick = () => send({ type: "reset" });
  $("add-layer").onclick = () => { if (settings.hidden.length < MAX_LAYERS) { settings.hidden = [...settings.hidden, 2]; pushSettings(); } };
  $("remove-layer").onclick = () => { if (settings.hidden.length) { settings.hidden = settings.hidden.slice(0, -1); pushSettings(); } };
  $("discretize").onchange = () => { view.discretize = $("discretize").checked; writeHash(); drawHeatmap(); };
  $("show-test").onchange = () => { view.show_test = $("show-test").checked; writeHash(); drawPoints(); };
  $("baseline-btn").onclick = () => send({ type: "baseline" });
  $("ensemble-btn").onclick = () => send({ type: "ensemble", n: Number($("seeds").value) });
  $("export").onclick = () => send({ type: "export" });
  $("report").onclick = () => send({ type: "report" });
  $("upload").onchange = async () => {
    const file = $("upload").files[0];
    if (!file) return;
    if (file.size > MAX_UPLOAD) { showStatus(`upload refused: ${file.name} is ${file.size} bytes; the limit is ${MAX_UPLOAD}`, "error"); pg.errors.push("too large"); return; }
    send({ type: "upload", csv: await file.text() });
    $("upload").value = "";
  };
  $("points").onclick = (ev) => {
    const r = $("points").getBoundingClientRect();
    const x = ((ev.clientX - r.left) / r.width) * 12 - 6, y = 6 - ((ev.clientY - r.top) / r.height) * 12;
    send({ type: "point", x, y, label: Number($("click-class").value || 0) });
  };
  document.addEventListener("keydown", (ev) => {
    if (["INPUT", "SELECT", "TEXTAREA"].includes(ev.target.tagName)) return;
    if (ev.key === " ") { ev.preventDefault(); $("play").click(); }
    else if (ev.key === "s") $("step").click();
    else if (ev.key === "r") $("reset").click();
  });
  window.addEventListener("resize", () => lastFrame && drawLinks(lastFrame.h));
  renderControls();
  renderLegend();
  writeHash();
  connect();
}
setup();
