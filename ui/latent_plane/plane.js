// The live latent plane (ui/latent_plane/__init__.py mounts it). Plotly.js draws the points;
// canvases behind and above it draw the manifold, the pin, paths and markers; decoder.js turns
// the spot under the pointer into an image in the same frame. Nothing here talks to the server
// while hovering: only a click (a pin, an endpoint) is sent, as one trigger value.
//
// Modes: "explore" (hover decodes, click pins, manifold toggle), "interpolate" (two endpoints to
// place and drag, the path, t and the strip), "compare" (planes of one `group` hover together),
// "toy" (a data plane beside the latent plane: hovering z moves the decoded point x), and
// "preview" (no plane: the large preview and the pin's close-up of another plane of its group).

const shared = window.__latentPlane || (window.__latentPlane = {
  files: new Map(), decoders: new Map(), points: new Map(), plotly: null, bus: new EventTarget(),
  stats: { hover: [], tap: [], decode: [], loads: [], drags: [] }, views: new Set(),
});
const PICK = "#D55E00", A_COLOR = "#117733", B_COLOR = "#AA3377", INK = "#000000";
const CELL_PX = 40;  // manifold digits are drawn this large, whatever the zoom: big enough to read

// The plane's layout (Plane.draw): fixed margins, and a square plot area (scaleanchor with equal
// ranges), so its geometry is known before Plotly has drawn anything: the first paint uses it.
const MARGIN = { l: 42, r: 6, t: 6, b: 38 };
const TICK_FONT = '12px "Open Sans", verdana, arial, sans-serif', TITLE_FONT = '14px "Open Sans", verdana, arial, sans-serif';

// Plotly's own choice of tick spacing for a linear axis (axes.autoTicks): about one tick per
// 80 px along x and 40 px along y (4 to 9 intervals), rounded up to 1, 2 or 5 times a power of ten.
function tickStep(span, length, letter) {
  const nt = Math.min(9, Math.max(4, length / (letter === "y" ? 40 : 80))) + 1, rough = span / nt;
  const base = Math.pow(10, Math.floor(Math.log10(rough))), f = rough / base;
  return base * (f <= 2 ? 2 : f <= 5 ? 5 : 10);
}

function record(list, value) { list.push(value); if (list.length > 5000) list.shift(); }

// Always the plotly.min.js the app serves (never a CDN, nor another copy a page may hold):
// whatever window.Plotly was before stays as it was.
function loadPlotly(url) {
  if (!shared.plotly) {
    shared.plotly = new Promise((resolve, reject) => {
      const previous = window.Plotly;
      const script = document.createElement("script");
      script.src = url;
      script.onload = () => {
        const ours = window.Plotly;
        if (previous) window.Plotly = previous;
        resolve(ours);
      };
      script.onerror = () => { shared.plotly = null; reject(new Error("Plotly could not be loaded from the app's server")); };
      document.head.appendChild(script);
    });
  }
  return shared.plotly;
}

function fetchFile(url) {
  if (!shared.files.has(url)) {
    const start = performance.now();
    shared.files.set(url, fetch(url).then((r) => {
      if (!r.ok) throw new Error(`the server answered ${r.status}`);
      return r.arrayBuffer();
    }).then((buffer) => {
      record(shared.stats.loads, { url, ms: performance.now() - start, bytes: buffer.byteLength });
      return buffer;
    }).catch((e) => { shared.files.delete(url); throw e; }));
  }
  return shared.files.get(url);
}

function getDecoder(url) {
  if (!shared.decoders.has(url)) shared.decoders.set(url, fetchFile(url).then(parseDecoder));
  return shared.decoders.get(url);
}

function getPoints(url) {
  if (!shared.points.has(url)) {
    shared.points.set(url, fetchFile(url).then((buffer) => {
      const { tensors } = readSafetensors(buffer);
      return { z: tensors.z.data, labels: tensors.labels.data, sigma: tensors.sigma ? tensors.sigma.data : null,
               n: tensors.labels.data.length };
    }));
  }
  return shared.points.get(url);
}

function inlinePoints(p) {
  return { z: Float32Array.from(p.z), labels: Uint8Array.from(p.labels), sigma: null, n: p.labels.length };
}

// Mirrors vae_core.inference.interpolate_at for 2-D points.
function interpolateAt(a, b, t, method) {
  if (method !== "slerp") return [(1 - t) * a[0] + t * b[0], (1 - t) * a[1] + t * b[1]];
  const na = Math.hypot(a[0], a[1]), nb = Math.hypot(b[0], b[1]);
  if (na < 1e-8 || nb < 1e-8) return [(1 - t) * a[0] + t * b[0], (1 - t) * a[1] + t * b[1]];
  const ua = [a[0] / na, a[1] / na], ub = [b[0] / nb, b[1] / nb];
  const omega = Math.acos(Math.min(1, Math.max(-1, ua[0] * ub[0] + ua[1] * ub[1])));
  let d;
  if (omega < 1e-6) d = ua;
  else if (Math.PI - omega < 1e-6) {
    // opposite directions: turn through the fixed perpendicular vae_core uses
    const perp = Math.abs(ua[0]) <= Math.abs(ua[1]) ? [1, 0] : [0, 1];
    const dot = perp[0] * ua[0] + perp[1] * ua[1];
    let p = [perp[0] - dot * ua[0], perp[1] - dot * ua[1]];
    const np = Math.hypot(p[0], p[1]);
    p = [p[0] / np, p[1] / np];
    d = [Math.cos(Math.PI * t) * ua[0] + Math.sin(Math.PI * t) * p[0], Math.cos(Math.PI * t) * ua[1] + Math.sin(Math.PI * t) * p[1]];
  } else {
    const s = Math.sin(omega), wa = Math.sin((1 - t) * omega) / s, wb = Math.sin(t * omega) / s;
    d = [wa * ua[0] + wb * ub[0], wa * ua[1] + wb * ub[1]];
  }
  const r = (1 - t) * na + t * nb;
  return [r * d[0], r * d[1]];
}
shared.interpolateAt = interpolateAt;
shared.tickStep = tickStep;
shared.decodeWith = async (url, zs) => { const d = await getDecoder(url); return zs.map((z) => Array.from(d.decode(z))); };

function el(tag, className, parent, attrs) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (attrs) for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

// A 28x28 digit (white ink on black, as the app's other images) into a canvas of its size.
function paintDigit(canvas, pixels, size) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(size.width, size.height);
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i];
    image.data[4 * i] = v; image.data[4 * i + 1] = v; image.data[4 * i + 2] = v; image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

function fmt(v) { return (v < 0 ? "\u2212" : "") + Math.abs(v).toFixed(2); }
function fmtZ(z) { return `(${fmt(z[0])}, ${fmt(z[1])})`; }

// One Plotly plane: its stage (background canvas, plot, overlay canvas, floating previews).
class Plane {
  constructor(parent, role, titleText) {
    this.role = role;
    this.root = el("figure", `lp-plane lp-plane-${role}`, parent);
    if (titleText) el("figcaption", "lp-title", this.root).textContent = titleText;
    this.stage = el("div", "lp-stage", this.root, { tabindex: role === "data" ? "-1" : "0" });
    this.bg = el("canvas", "lp-bg", this.stage);
    this.plot = el("div", "lp-plot", this.stage);
    this.over = el("canvas", "lp-over", this.stage);
    this.note = el("div", "lp-note", this.stage);
    this.legend = el("div", "lp-legend", this.root);
    this.hidden = new Set();
    this.points = null;
    this.ready = false;  // Plotly has drawn it
    this.painted = false;  // on screen: first paint, then Plotly
    this.moments = {};  // performance.now() of the first paint and of Plotly's drawing (for the bench)
  }

  // The points' indices by class (kept as byClass); traceOf[c] is class c's trace (classes
  // without points have none).
  groupPoints() {
    const p = this.points, groups = this.opts.classes.length;
    const byClass = Array.from({ length: groups }, () => []);
    for (let i = 0; i < p.n; i++) if (p.labels[i] < groups) byClass[p.labels[i]].push(i);
    this.traceOf = [];
    let t = 0;
    byClass.forEach((idx, c) => { if (idx.length) this.traceOf[c] = t++; });
    return (this.byClass = byClass);
  }

  // The first paint, before Plotly has loaded (it takes a second or two to compile): the same
  // points, grid and axes on a canvas, at the geometry Plotly will give them, so the plane is
  // on screen (and decodes under the pointer) as soon as its points arrive. draw() replaces it.
  paintFirst(points, opts) {
    this.points = points;
    this.opts = opts;
    this.groupPoints();
    const size = opts.size, e = opts.extent, side = size - MARGIN.l - MARGIN.r;
    const axis = (offset) => ({ range: [-e, e], _offset: offset, _length: side });
    this.firstAxes = [axis(MARGIN.l), axis(MARGIN.t + (size - MARGIN.t - MARGIN.b - side) / 2)];
    this.stage.style.width = this.root.style.width = `${size}px`;  // (its legend wraps within that width)
    this.stage.style.height = `${size}px`;
    if (!this.first) this.first = el("canvas", "lp-first", this.stage);
    this.stage.insertBefore(this.first, this.over);
    this.sizeCanvases();
    this.paintPoints();
    this.painted = true;
    this.moments.painted = performance.now();
    this.drawLegend();
  }

  paintPoints() {
    const c = this.first.getContext("2d"), o = this.opts, a = this.area();
    c.clearRect(0, 0, o.size, o.size);
    const ticks = this.firstAxes.map((ax, k) => {
      const step = tickStep(ax.range[1] - ax.range[0], ax._length, k ? "y" : "x"), values = [];
      for (let v = Math.ceil(ax.range[0] / step) * step; v <= ax.range[1] + 1e-9; v += step) values.push(Math.round(v / step) * step);
      return values;
    });
    c.lineWidth = 1;
    for (const v of ticks[0]) {
      const x = Math.round(this.toPx([v, 0])[0]) + 0.5;
      c.strokeStyle = v === 0 ? "#d0d0d0" : "rgba(0,0,0,0.07)";
      c.beginPath(); c.moveTo(x, a.y); c.lineTo(x, a.y + a.h); c.stroke();
    }
    for (const v of ticks[1]) {
      const y = Math.round(this.toPx([0, v])[1]) + 0.5;
      c.strokeStyle = v === 0 ? "#d0d0d0" : "rgba(0,0,0,0.07)";
      c.beginPath(); c.moveTo(a.x, y); c.lineTo(a.x + a.w, y); c.stroke();
    }
    c.fillStyle = "#444"; c.font = TICK_FONT;
    const label = (v) => String(Number(v.toFixed(6))).replace("-", "\u2212");
    c.textAlign = "center"; c.textBaseline = "top";
    for (const v of ticks[0]) c.fillText(label(v), this.toPx([v, 0])[0], a.y + a.h + 3);
    c.textAlign = "right"; c.textBaseline = "middle";
    for (const v of ticks[1]) c.fillText(label(v), a.x - 3, this.toPx([0, v])[1]);
    c.font = TITLE_FONT; c.textAlign = "center"; c.textBaseline = "alphabetic";
    c.fillText(o.axes[0], a.x + a.w / 2, o.size - 10);
    c.save(); c.translate(20, a.y + a.h / 2); c.rotate(-Math.PI / 2); c.fillText(o.axes[1], 0, 0); c.restore();
    const p = this.points, r = o.markerSize / 2;
    c.save(); c.beginPath(); c.rect(a.x, a.y, a.w, a.h); c.clip();
    c.globalAlpha = 0.75;
    this.byClass.forEach((idx, g) => {  // in class order, as Plotly stacks its traces
      if (this.hidden.has(g)) return;
      c.fillStyle = o.colors[g % o.colors.length];
      for (const i of idx) {  // one by one: overlapping points darken, as in Plotly
        const [x, y] = this.toPx([p.z[2 * i], p.z[2 * i + 1]]);
        c.beginPath(); c.arc(x, y, r, 0, 2 * Math.PI); c.fill();
      }
    });
    c.restore();
  }

  async draw(Plotly, points, opts) {
    this.points = points;
    this.opts = opts;
    const traces = [], byClass = this.groupPoints();
    byClass.forEach((idx, c) => {
      if (!idx.length) return;
      const x = new Float32Array(idx.length), y = new Float32Array(idx.length);
      idx.forEach((i, k) => { x[k] = points.z[2 * i]; y[k] = points.z[2 * i + 1]; });
      traces.push({ type: "scattergl", mode: "markers", x, y, name: opts.classes[c], hoverinfo: "skip",
                    visible: this.hidden.has(c) ? "legendonly" : true,
                    marker: { size: opts.markerSize, color: opts.colors[c % opts.colors.length], opacity: 0.75 } });
    });
    const e = opts.extent, axis = { range: [-e, e], zeroline: true, zerolinecolor: "#d0d0d0", gridcolor: "rgba(0,0,0,0.07)",
                                    constrain: "domain", fixedrange: false, automargin: false };
    const layout = {
      width: opts.size, height: opts.size, margin: MARGIN, showlegend: false,
      dragmode: opts.dragmode, hovermode: false, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      xaxis: { ...axis, title: { text: opts.axes[0], standoff: 4 } },
      yaxis: { ...axis, title: { text: opts.axes[1], standoff: 2 }, scaleanchor: "x", scaleratio: 1 },
      uirevision: "keep",
    };
    const config = { displaylogo: false, scrollZoom: opts.scrollZoom, doubleClick: false, responsive: false,
                     displayModeBar: opts.modeBar, modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
                     toImageButtonOptions: { filename: opts.filename || "latent-plane", scale: 2 } };
    this.stage.style.width = this.root.style.width = `${opts.size}px`;
    this.stage.style.height = `${opts.size}px`;
    await Plotly.react(this.plot, traces, layout, config);
    this.Plotly = Plotly;
    this.ready = this.painted = true;
    this.moments.plotly = performance.now();
    if (this.first) { this.first.remove(); this.first = null; }
    this.sizeCanvases();
    this.drawLegend();
  }

  resize(size) {
    if (!this.ready || Math.abs(size - this.opts.size) < 2) return;
    this.opts.size = size;
    this.stage.style.width = this.root.style.width = `${size}px`;
    this.stage.style.height = `${size}px`;
    this.Plotly.relayout(this.plot, { width: size, height: size });
  }

  sizeCanvases() {
    const ratio = window.devicePixelRatio || 1, size = this.opts.size;
    for (const c of [this.bg, this.first, this.over]) {
      if (!c) continue;
      c.width = Math.round(size * ratio); c.height = Math.round(size * ratio);
      c.style.width = `${size}px`; c.style.height = `${size}px`;
      c.getContext("2d").setTransform(ratio, 0, 0, ratio, 0, 0);
    }
  }

  drawLegend() {
    const o = this.opts;
    this.legend.replaceChildren();
    if (!o.legend) return;
    o.classes.forEach((name, c) => {
      if (this.traceOf[c] === undefined) return;
      const chip = el("button", "lp-chip", this.legend, { type: "button", "aria-pressed": String(!this.hidden.has(c)),
                                                          title: "Click to hide or show; double-click to show only this" });
      el("span", "lp-swatch", chip).style.background = o.colors[c % o.colors.length];
      el("span", "", chip).textContent = name;
      chip.addEventListener("click", () => this.toggle(c));
      chip.addEventListener("dblclick", () => this.only(c));
    });
  }

  setHidden(hidden) {
    this.hidden = hidden;
    const idx = [], vis = [];
    this.traceOf.forEach((t, c) => { if (t !== undefined) { idx.push(t); vis.push(hidden.has(c) ? "legendonly" : true); } });
    if (this.ready) this.Plotly.restyle(this.plot, { visible: vis }, idx);
    else this.paintPoints();
    this.drawLegend();
    this.onChange && this.onChange();
  }

  toggle(c) { const h = new Set(this.hidden); h.has(c) ? h.delete(c) : h.add(c); this.setHidden(h); }
  only(c) { this.setHidden(new Set(this.opts.classes.map((_, k) => k).filter((k) => k !== c))); }

  axes() {
    const fl = this.plot._fullLayout;
    return fl && fl.xaxis ? [fl.xaxis, fl.yaxis] : this.firstAxes || [null, null];
  }

  // Drawn (first paint or Plotly) and not torn down (a page change or a rebuild may come
  // before a deferred redraw).
  get live() { return this.painted && this.plot.isConnected && !!this.axes()[0]; }

  toZ(px, py) {
    const [xa, ya] = this.axes();
    return [xa.range[0] + ((px - xa._offset) / xa._length) * (xa.range[1] - xa.range[0]),
            ya.range[1] - ((py - ya._offset) / ya._length) * (ya.range[1] - ya.range[0])];
  }

  toPx(z) {
    const [xa, ya] = this.axes();
    return [xa._offset + ((z[0] - xa.range[0]) / (xa.range[1] - xa.range[0])) * xa._length,
            ya._offset + ((ya.range[1] - z[1]) / (ya.range[1] - ya.range[0])) * ya._length];
  }

  inside(px, py) {
    const [xa, ya] = this.axes();
    return xa && px >= xa._offset && px <= xa._offset + xa._length && py >= ya._offset && py <= ya._offset + ya._length;
  }

  area() { const [xa, ya] = this.axes(); return { x: xa._offset, y: ya._offset, w: xa._length, h: ya._length }; }

  // The visible point nearest to a pixel, if within `radius` pixels.
  nearest(px, py, radius) {
    const p = this.points;
    if (!p) return null;
    const [xa, ya] = this.axes();
    const sx = xa._length / (xa.range[1] - xa.range[0]), sy = ya._length / (ya.range[1] - ya.range[0]);
    const zx = this.toZ(px, py);
    let best = -1, bestD = radius * radius;
    for (let i = 0; i < p.n; i++) {
      if (this.hidden.has(p.labels[i])) continue;
      const dx = (p.z[2 * i] - zx[0]) * sx, dy = (p.z[2 * i + 1] - zx[1]) * sy, d = dx * dx + dy * dy;
      if (d < bestD) { bestD = d; best = i; }
    }
    return best < 0 ? null : best;
  }

  ctx() { const c = this.over.getContext("2d"); c.clearRect(0, 0, this.opts.size, this.opts.size); return c; }

  clip(c) { const a = this.area(); c.save(); c.beginPath(); c.rect(a.x, a.y, a.w, a.h); c.clip(); }
}

function ring(c, p, r, color, width) {
  c.beginPath(); c.arc(p[0], p[1], r, 0, 2 * Math.PI);
  c.lineWidth = width + 3; c.strokeStyle = "rgba(255,255,255,0.9)"; c.stroke();
  c.lineWidth = width; c.strokeStyle = color; c.stroke();
}

function badge(c, p, text, color) {
  c.beginPath(); c.arc(p[0], p[1], 11, 0, 2 * Math.PI);
  c.fillStyle = color; c.fill(); c.lineWidth = 2.5; c.strokeStyle = "#ffffff"; c.stroke();
  c.fillStyle = "#ffffff"; c.font = "bold 13px sans-serif"; c.textAlign = "center"; c.textBaseline = "middle";
  c.fillText(text, p[0], p[1] + 0.5);
}

function cross(c, p, r, color) {
  c.lineCap = "round";
  for (const [w, s] of [[5, "rgba(255,255,255,0.95)"], [2.5, color]]) {
    c.lineWidth = w; c.strokeStyle = s; c.beginPath();
    c.moveTo(p[0] - r, p[1] - r); c.lineTo(p[0] + r, p[1] + r); c.moveTo(p[0] + r, p[1] - r); c.lineTo(p[0] - r, p[1] + r);
    c.stroke();
  }
}

function diamond(c, p, r, color) {
  c.beginPath(); c.moveTo(p[0], p[1] - r); c.lineTo(p[0] + r, p[1]); c.lineTo(p[0], p[1] + r); c.lineTo(p[0] - r, p[1]);
  c.closePath(); c.fillStyle = color; c.fill(); c.lineWidth = 2; c.strokeStyle = "#ffffff"; c.stroke();
}

class View {
  constructor(parent, setTriggerValue) {
    this.parent = parent;
    this.send = setTriggerValue;
    this.root = el("div", "lp", parent);
    this.data = null;
    this.key = null;
    this.moments = {};  // performance.now() when its decoder was ready (for the bench)
    this.pending = null;
    this.t = 0.5;
    this.cursor = null;  // the spot shown: [z1, z2], or null
    shared.views.add(this);
    this.onBus = (e) => this.linked(e.detail);
    shared.bus.addEventListener("hover", this.onBus);
    this.resizeObserver = new ResizeObserver(() => this.fit());
    this.resizeObserver.observe(parent);
  }

  destroy() {
    shared.views.delete(this);
    shared.bus.removeEventListener("hover", this.onBus);
    this.resizeObserver.disconnect();
    if (this.onUp) window.removeEventListener("pointerup", this.onUp, true);
    if (this.main) this.Plotly?.purge(this.main.plot);
  }

  // --- building --------------------------------------------------------------------------

  update(data) {
    const key = `${data.mode}|${data.model.id}|${data.model.points}|${data.model.extent}|${data.toy ? data.toy.key : ""}`;
    this.data = data;
    if (key !== this.key) { this.key = key; this.build(); return; }
    this.refresh();
  }

  async build() {
    const d = this.data, key = this.key, touch = matchMedia("(pointer: coarse)").matches;
    this.root.replaceChildren();
    this.root.className = `lp lp-mode-${d.mode}`;
    delete this.root.dataset.ready;  // until this build has drawn
    if (d.mode === "preview") { this.buildPreview(key); return; }
    this.ends = d.endpoints ? { a: d.endpoints.a, b: d.endpoints.b } : null;
    this.next = d.next || "a";
    const row = el("div", "lp-row", this.root);
    const planes = el("div", "lp-planes", row);
    this.dataPlane = d.mode === "toy" ? new Plane(planes, "data", d.toy.titles[0]) : null;
    this.main = new Plane(planes, "latent", d.mode === "toy" ? d.toy.titles[1] : d.title);
    this.side = el("div", "lp-side", row);
    this.preview = el("canvas", "lp-preview", this.side, { width: 28, height: 28, role: "img" });
    this.readout = el("div", "lp-readout", this.side, { "aria-live": "polite" });
    this.hint = el("div", "lp-hint", this.side);
    if (d.mode === "explore") {
      const label = el("label", "lp-toggle", this.side);
      this.manifoldBox = el("input", "", label, { type: "checkbox" });
      el("span", "", label).textContent = d.manifold_label || "Show decoded digits behind the points";
      this.manifoldBox.checked = localStorage.getItem("vae-explorer.manifold") === "1";
      this.manifoldBox.addEventListener("change", () => {
        localStorage.setItem("vae-explorer.manifold", this.manifoldBox.checked ? "1" : "0");
        this.computeManifold();
      });
    }
    if (d.mode === "interpolate") {
      const t = el("label", "lp-tslider", this.side);
      el("span", "", t).textContent = "t";
      this.tInput = el("input", "", t, { type: "range", min: "0", max: "100", step: "1", value: String(Math.round(this.t * 100)),
                                          "aria-label": "position t along the path" });
      this.tInput.addEventListener("input", () => { this.t = Number(this.tInput.value) / 100; this.drawInterp(true); });
      this.strip = el("canvas", "lp-strip", this.root, { role: "img" });
    }
    if (d.mode === "toy" || d.separate_preview) this.preview.style.display = "none";
    this.thumb = el("div", "lp-thumb", this.main.stage);
    this.thumbCanvas = el("canvas", "", this.thumb, { width: 28, height: 28 });
    this.thumbText = el("span", "", this.thumb);
    this.corner = el("div", "lp-corner", this.main.stage);
    this.cornerCanvas = el("canvas", "", this.corner, { width: 28, height: 28 });
    this.cornerText = el("span", "", this.corner);
    this.main.note.textContent = "Loading…";
    this.main.onChange = () => this.drawOverlay();
    this.touch = touch;
    // Plotly, the points and the decoder load side by side; the points alone are enough for the
    // first paint, the decoder for hovering, Plotly for panning and zooming.
    const plotly = loadPlotly(d.plotly);
    plotly.catch(() => {});  // (reported below)
    const decoder = d.model.decoder ? getDecoder(d.model.decoder) : null;
    let points, dataPoints;
    try {
      [points, dataPoints] = await Promise.all([
        d.model.points ? getPoints(d.model.points) : inlinePoints(d.points),
        d.mode === "toy" ? inlinePoints(d.toy.data) : null]);
    } catch (e) {
      this.main.note.textContent = `The plane could not be drawn: ${e.message}.`;
      return;
    }
    if (key !== this.key) return;  // a newer build started meanwhile
    this.decoder = null;
    this.fallback = d.model.fallback;
    const size = this.planeSize();
    const common = { markerSize: touch ? 3 : 4, dragmode: touch ? false : "pan", scrollZoom: !touch, modeBar: true,
                     legend: true, size };
    const dataOpts = this.dataPlane && { ...common, classes: d.toy.names, colors: d.model.colors,
                                         extent: d.toy.data_extent, axes: ["x\u2081", "x\u2082"], legend: false };
    const mainOpts = { ...common, classes: d.model.classes, colors: d.model.colors, extent: d.model.extent,
                       axes: ["z\u2081", "z\u2082"], legend: true, filename: `${d.mode}-latent-plane` };
    if (this.dataPlane) this.dataPlane.paintFirst(dataPoints, dataOpts);
    this.main.paintFirst(points, mainOpts);
    this.listen();
    const decoded = decoder && decoder.then((dec) => {
      if (key !== this.key) return;
      this.decoder = dec;
      this.moments.decoder = performance.now();
      this.main.note.textContent = this.fallback || "";
      this.computeManifold();
      this.refresh();
    }, (e) => {
      this.fallback = `The decoder could not run in this browser (${e.message}): click the plane to decode a spot on the server.`;
      this.main.note.textContent = this.fallback;
      this.main.note.classList.add("lp-fallback");
    });
    this.main.note.textContent = this.fallback || (decoder ? "Loading the decoder\u2026" : "");
    this.refresh();
    let Plotly;
    try {
      Plotly = await plotly;
    } catch (e) {
      this.main.note.textContent = `Panning and zooming are off: ${e.message}.`;
      return;
    }
    if (key !== this.key) return;
    this.Plotly = Plotly;
    if (this.dataPlane) await this.dataPlane.draw(Plotly, dataPoints, dataOpts);
    await this.main.draw(Plotly, points, mainOpts);
    if (key !== this.key) return;
    this.main.plot.on("plotly_relayouting", () => { this.paintManifold(); this.drawOverlay(); });
    this.main.plot.on("plotly_relayout", () => { this.computeManifold(); this.drawOverlay(); });
    this.dataPlane && this.dataPlane.plot.on("plotly_relayout", () => this.drawOverlay());
    this.fit();
    this.computeManifold();
    this.refresh();
    await decoded;
    if (key !== this.key) return;
    this.root.dataset.ready = "1";
  }

  // A preview of another plane of its group (Explore's large preview, in the page's other column).
  async buildPreview(key) {
    const d = this.data;
    this.main = null;
    const row = el("div", "lp-preview-row", this.root);
    this.side = el("div", "lp-side", row);
    this.preview = el("canvas", "lp-preview", this.side, { width: 28, height: 28, role: "img" });
    this.readout = el("div", "lp-readout", this.side, { "aria-live": "polite" });
    this.readout.textContent = d.model.fallback || "Loading the decoder\u2026";
    const zoom = el("figure", "lp-closeup", row);
    this.closeup = el("canvas", "", zoom, { role: "img" });
    this.closeupText = el("figcaption", "", zoom);
    try {
      [this.decoder, this.points] = await Promise.all([
        d.model.decoder ? getDecoder(d.model.decoder).catch(() => null) : null,
        d.model.points ? getPoints(d.model.points) : null]);
    } catch (e) {
      this.points = null;
    }
    if (key !== this.key) return;
    this.fallback = d.model.fallback || (this.decoder ? null : "The decoder could not run in this browser.");
    this.refresh();
    this.root.dataset.ready = "1";
  }

  // The pin's neighbourhood, drawn here on a pin (no server round trip): the nearby test codes
  // and, for a test point, its encoder's 1 and 2 sigma ellipses (too small to see on the plane).
  drawCloseup() {
    const canvas = this.closeup, pin = this.pin, p = this.points;
    if (!canvas) return;
    canvas.parentElement.style.display = pin && p ? "block" : "none";
    if (!pin || !p) return;
    const size = 160, ratio = window.devicePixelRatio || 1;
    canvas.width = size * ratio; canvas.height = size * ratio;
    canvas.style.width = canvas.style.height = `${size}px`;
    const c = canvas.getContext("2d");
    c.setTransform(ratio, 0, 0, ratio, 0, 0);
    c.fillStyle = "#ffffff"; c.fillRect(0, 0, size, size);
    const sigma = pin.index !== null && p.sigma ? [p.sigma[2 * pin.index], p.sigma[2 * pin.index + 1]] : null;
    const half = sigma ? Math.max(0.25, 3 * Math.max(...sigma)) : 0.5;
    const [cx, cy] = pin.z, scale = size / (2 * half);
    const at = (x, y) => [(x - cx + half) * scale, (cy - y + half) * scale];
    c.strokeStyle = "rgba(0,0,0,0.08)"; c.lineWidth = 1;
    for (let k = -4; k <= 4; k++) {  // a light grid at quarters of the view
      const q = (k / 4) * half;
      c.beginPath(); c.moveTo(...at(cx + q, cy - half)); c.lineTo(...at(cx + q, cy + half)); c.stroke();
      c.beginPath(); c.moveTo(...at(cx - half, cy + q)); c.lineTo(...at(cx + half, cy + q)); c.stroke();
    }
    const colors = this.data.model.colors;
    for (let i = 0; i < p.n; i++) {
      const x = p.z[2 * i], y = p.z[2 * i + 1];
      if (Math.abs(x - cx) > half || Math.abs(y - cy) > half) continue;
      const [u, v] = at(x, y);
      c.beginPath(); c.arc(u, v, 3, 0, 2 * Math.PI);
      c.fillStyle = colors[p.labels[i] % colors.length]; c.globalAlpha = 0.8; c.fill(); c.globalAlpha = 1;
    }
    if (sigma) {
      for (const [k, dash] of [[1, []], [2, [3, 3]]]) {
        c.setLineDash(dash); c.beginPath();
        c.ellipse(...at(cx, cy), k * sigma[0] * scale, k * sigma[1] * scale, 0, 0, 2 * Math.PI);
        c.lineWidth = 2; c.strokeStyle = PICK; c.stroke();
      }
      c.setLineDash([]);
    }
    ring(c, at(cx, cy), 8, PICK, 2.5);
    this.closeupText.textContent = sigma
      ? `Close-up: z_mean = ${fmtZ(pin.z)}, the encoder unsure by \u03c3 = ${fmtZ(sigma)} (1\u03c3 and 2\u03c3 ellipses of q(z|x))`
      : `Close-up: the test codes around ${fmtZ(pin.z)}`;
    canvas.dataset.pin = JSON.stringify(pin);
  }

  // The plane's side in CSS pixels: square, as large as the column allows (the side panel goes
  // below the plane on narrow screens and in the compare and toy modes).
  planeSize() {
    const width = this.parent.clientWidth || this.root.clientWidth || 600;
    const planes = this.data.mode === "toy" ? 2 : 1;
    const beside = this.data.mode !== "compare" && this.data.mode !== "toy" && width >= 640;
    this.root.classList.toggle("lp-beside", beside);
    const room = beside ? width - 236 : width;
    const each = planes === 2 && width >= 520 ? (room - 16) / 2 : room;
    return Math.max(220, Math.floor(Math.min(this.data.height, each)));
  }

  fit() {
    if (!this.main || !this.main.ready) return;
    const size = this.planeSize();
    if (Math.abs(size - this.main.opts.size) < 2) return;
    for (const p of [this.main, this.dataPlane]) if (p) { p.resize(size); p.sizeCanvases(); }
    setTimeout(() => { this.computeManifold(); this.drawOverlay(); }, 0);
  }

  // New data for the same model (a pin from Python, other endpoints, marks...).
  refresh() {
    const d = this.data;
    if (d.mode === "interpolate" && d.endpoints && !this.drag) {
      this.ends = { a: d.endpoints.a, b: d.endpoints.b };
      this.next = d.next || this.next;
    }
    this.pin = d.pin || null;
    this.localPin = null;
    if (d.mode === "preview") {
      this.drawCloseup();
      if (this.pin && !this.cursor) this.show(this.pin.z, null, "pin");
      else if (!this.cursor) this.readout.textContent = this.fallback || "Point at the plane to decode that spot.";
      return;
    }
    this.hint.textContent = this.hintText();
    if (!this.main || !this.main.painted) return;
    if (d.mode === "interpolate") this.drawInterp(false);
    else if (!this.cursor && this.pin) this.show(this.pin.z, null, "pin");
    else if (!this.cursor) this.readout.textContent = this.fallback ? "" : "Point at the plane to decode that spot.";
    this.drawOverlay();
  }

  hintText() {
    const d = this.data, touch = this.touch;
    if (d.hint) return d.hint;  // a page's own words for the plane
    if (d.mode === "explore") return touch ? "Drag a finger over the plane to decode any spot; tap to pin it. Two fingers pan and zoom."
      : "Move the mouse over the plane to decode any spot; click to pin it (a point, or empty space). Drag to pan, scroll to zoom; arrow keys move the cursor, Enter pins.";
    if (d.mode === "interpolate") return (touch ? "Tap" : "Click") + ` the plane to place the ${this.next === "a" ? "start A" : "end B"}, or drag A or B. Move t to walk the path.`;
    if (d.mode === "compare") return "Point at either plane: both models decode the same z.";
    return "Point at the latent plane: the decoder sends that z to the marked point in the data plane.";
  }

  // --- pointer, touch and keys ---------------------------------------------------------

  listen() {
    const stage = this.main.stage, plane = this.main;
    const local = (e) => { const r = stage.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
    const onModeBar = (e) => e.target.closest && e.target.closest(".modebar");
    stage.addEventListener("pointermove", (e) => {
      if (e.pointerType === "touch") return;
      const [px, py] = local(e);
      if (this.drag) { this.dragTo(px, py); return; }
      this.want(px, py, e.timeStamp, "hover");
    });
    stage.addEventListener("pointerleave", (e) => {
      if (e.pointerType === "touch" || this.drag) return;
      this.thumb.style.display = "none";
      this.cursor = null;
      this.publish(null);
      this.drawOverlay();
    });
    stage.addEventListener("pointerdown", (e) => {
      if (e.pointerType === "touch" || onModeBar(e) || e.button !== 0) return;
      const [px, py] = local(e);
      this.down = { px, py, t: e.timeStamp };
      const which = this.endpointAt(px, py);
      if (which) {
        this.drag = { which, moved: false };
        this.thumb.style.display = "none";
        stage.setPointerCapture(e.pointerId);
        e.preventDefault(); e.stopPropagation();  // Plotly must not start a pan
      }
    }, true);
    stage.addEventListener("mousedown", (e) => { if (this.drag) e.stopPropagation(); }, true);
    // On window: during a pan Plotly lays a cover over the page, which then gets the pointerup.
    // (A rebuild for another model replaces the listener of the plane it replaced.)
    if (this.onUp) window.removeEventListener("pointerup", this.onUp, true);
    this.onUp = (e) => {
      if (e.pointerType === "touch" || !this.down) return;
      const [px, py] = local(e);
      if (this.drag) { this.endDrag(); this.down = null; return; }
      const down = this.down;
      this.down = null;
      if (Math.hypot(px - down.px, py - down.py) < 5 && e.timeStamp - down.t < 800 && plane.inside(px, py)) this.click(px, py);
    };
    window.addEventListener("pointerup", this.onUp, true);
    stage.addEventListener("keydown", (e) => this.key_(e));
    // Touch: one finger explores (or drags an endpoint), two fingers pan and zoom. The listeners
    // sit on the stage in the capture phase, so Plotly's own drag never sees these touches.
    stage.addEventListener("touchstart", (e) => {
      if (onModeBar(e)) return;
      e.preventDefault(); e.stopPropagation();
      if (e.touches.length >= 2) { this.startPinch(e); return; }
      const [px, py] = local(e.touches[0]);
      this.touchDown = { px, py, t: e.timeStamp, moved: false };
      const which = this.endpointAt(px, py, 22);
      if (which) this.drag = { which, moved: false };
      else this.want(px, py, e.timeStamp, "touch");
    }, { capture: true, passive: false });
    stage.addEventListener("touchmove", (e) => {
      if (onModeBar(e)) return;
      e.preventDefault(); e.stopPropagation();
      if (this.pinch) { this.movePinch(e); return; }
      if (e.touches.length >= 2) return;
      const [px, py] = local(e.touches[0]);
      const down = this.touchDown;
      if (down && Math.hypot(px - down.px, py - down.py) > 10) down.moved = true;
      if (this.drag) this.dragTo(px, py);
      else this.want(px, py, e.timeStamp, "touch");
    }, { capture: true, passive: false });
    const end = (e) => {
      if (onModeBar(e)) return;
      e.preventDefault(); e.stopPropagation();
      if (this.pinch) { if (e.touches.length === 0) this.pinch = null; return; }
      const down = this.touchDown;
      this.touchDown = null;
      if (this.drag) { this.endDrag(); return; }
      if (down && !down.moved && e.timeStamp - down.t < 800 && plane.inside(down.px, down.py)) this.click(down.px, down.py);
      clearTimeout(this.cornerTimer);
      this.cornerTimer = setTimeout(() => { this.corner.style.display = "none"; }, 1500);
    };
    stage.addEventListener("touchend", end, { capture: true, passive: false });
    stage.addEventListener("touchcancel", end, { capture: true, passive: false });
  }

  startPinch(e) {
    if (!this.main.ready) return;  // Plotly pans and zooms: not before it has drawn
    const [xa, ya] = this.main.axes();
    const [a, b] = [e.touches[0], e.touches[1]];
    const r = this.main.stage.getBoundingClientRect();
    const mid = [(a.clientX + b.clientX) / 2 - r.left, (a.clientY + b.clientY) / 2 - r.top];
    this.pinch = { dist: Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY) || 1, anchor: this.main.toZ(...mid),
                   x: xa.range.slice(), y: ya.range.slice() };
    this.drag = null;
    this.touchDown = null;
  }

  movePinch(e) {
    if (e.touches.length < 2) return;
    const [a, b] = [e.touches[0], e.touches[1]];
    const p = this.pinch, r = this.main.stage.getBoundingClientRect(), area = this.main.area();
    const scale = p.dist / (Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY) || 1);
    const mid = [(a.clientX + b.clientX) / 2 - r.left, (a.clientY + b.clientY) / 2 - r.top];
    const w = (p.x[1] - p.x[0]) * scale, h = (p.y[1] - p.y[0]) * scale;
    // the data point under the fingers' first midpoint stays under their midpoint now
    const fx = (mid[0] - area.x) / area.w, fy = (mid[1] - area.y) / area.h;
    const x0 = p.anchor[0] - fx * w, y1 = p.anchor[1] + fy * h;
    p.next = { "xaxis.range": [x0, x0 + w], "yaxis.range": [y1 - h, y1] };
    if (!p.scheduled) {
      p.scheduled = true;
      requestAnimationFrame(() => { p.scheduled = false; if (p.next) this.Plotly.relayout(this.main.plot, p.next); });
    }
  }

  key_(e) {
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    const [xa] = this.main.axes();
    if (!xa) return;
    const start = this.cursor || (this.pin && this.pin.z) || [0, 0];
    if (moves[e.key]) {
      const step = (xa.range[1] - xa.range[0]) * (e.shiftKey ? 0.1 : 0.02);
      const z = [start[0] + moves[e.key][0] * step, start[1] + moves[e.key][1] * step];
      this.cursor = z;
      this.show(z, this.main.toPx(z), "key", e.timeStamp);
      e.preventDefault();
    } else if ((e.key === "Enter" || e.key === " ") && this.cursor) {
      const [px, py] = this.main.toPx(this.cursor);
      this.click(px, py, true);
      e.preventDefault();
    }
  }

  // Decode right in the event handler: the browser already delivers pointer and touch moves once
  // per frame (coalesced), so the next frame shows the spot of the newest event.
  want(px, py, time, source) {
    this.pending = { px, py, time, source };
    this.frame();
  }

  frame() {
    const p = this.pending;
    this.pending = null;
    if (!p) return;
    if (!this.main.inside(p.px, p.py)) {
      this.thumb.style.display = "none";
      return;
    }
    const z = this.main.toZ(p.px, p.py);
    this.cursor = z;
    const pixels = this.decode(z);
    this.publish(z, { pixels, decoder: this.data.model.decoder });
    this.show(z, [p.px, p.py], p.source, p.time, pixels);
  }

  // Decode z and show it: the side preview, the readout, the thumbnail by the cursor (mouse) or
  // the corner preview (touch), and the overlay's marks.
  decode(z) {
    if (!this.decoder) return null;
    const t0 = performance.now(), pixels = this.decoder.decode(z);
    record(shared.stats.decode, performance.now() - t0);
    return pixels;
  }

  show(z, px, source, eventTime, decoded) {
    const d = this.data;
    const pixels = decoded === undefined ? this.decode(z) : decoded;
    if (d.mode === "toy") {
      this.decoded = pixels;  // a point in the data plane
      this.readout.textContent = pixels ? `z = ${fmtZ(z)} \u2192 x = ${fmtZ(pixels)}` : `z = ${fmtZ(z)}`;
    } else {
      if (pixels) paintDigit(this.preview, pixels, this.decoder.output);
      this.preview.dataset.z = `${z[0]},${z[1]}`;
      this.preview.setAttribute("aria-label", `decoded image at z = ${fmtZ(z)}`);
      this.readout.textContent = source === "pin" ? `Pinned: z = ${fmtZ(z)}` : `z = ${fmtZ(z)}`;
      if (pixels && px && source === "hover" && this.thumb) this.place(this.thumb, this.thumbCanvas, this.thumbText, pixels, z, px);
      if (pixels && source === "touch" && this.corner) this.place(this.corner, this.cornerCanvas, this.cornerText, pixels, z, null);
    }
    this.drawOverlay();
    if (eventTime !== undefined) {
      const ms = performance.now() - eventTime;
      record(source === "touch" ? shared.stats.tap : shared.stats.hover, ms);
    }
  }

  place(box, canvas, text, pixels, z, px) {
    paintDigit(canvas, pixels, this.decoder.output);
    text.textContent = fmtZ(z);
    box.dataset.z = `${z[0]},${z[1]}`;
    box.style.display = "flex";
    if (!px) return;  // the corner preview stays in its corner
    const size = this.main.opts.size, w = box.offsetWidth || 72, h = box.offsetHeight || 90;
    const x = px[0] + 18 + w > size ? px[0] - 18 - w : px[0] + 18;
    const y = px[1] + 18 + h > size ? px[1] - 18 - h : px[1] + 18;
    box.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px)`;
  }

  publish(z, extra) {
    if (this.data.group) shared.bus.dispatchEvent(new CustomEvent("hover", { detail: { group: this.data.group, z, from: this, ...extra } }));
  }

  // Another plane of this view's group is hovered at z (or left: z null).
  linked(detail) {
    if (detail.from === this || detail.group !== this.data?.group) return;
    if (this.data.mode !== "preview" && !this.main?.painted) return;
    if (detail.pin !== undefined) { this.pin = detail.pin; this.drawCloseup(); }
    this.cursor = detail.pin ? null : detail.z;
    // the same decoder: take its image instead of decoding the same z twice
    const pixels = detail.decoder && detail.decoder === this.data.model.decoder ? detail.pixels : undefined;
    if (detail.z) this.show(detail.z, null, detail.pin ? "pin" : "linked", undefined, pixels);
    else if (this.pin) this.show(this.pin.z, null, "pin");
    else this.drawOverlay();
  }

  click(px, py, exact) {
    const d = this.data;
    const index = exact ? null : this.main.nearest(px, py, 7);
    const p = this.main.points;
    const pick = index === null ? { index: null, z: this.main.toZ(px, py) }
      : { index: index, z: [p.z[2 * index], p.z[2 * index + 1]] };
    if (d.mode === "explore") {
      this.localPin = pick;
      this.pin = pick;
      this.cursor = pick.z;
      this.show(pick.z, null, "pin");
      this.publish(pick.z, { pin: pick });
      this.send("pick", pick);
    } else if (d.mode === "interpolate") {
      this.ends[this.next] = pick;
      this.next = this.next === "a" ? "b" : "a";
      this.hint.textContent = this.hintText();
      this.drawInterp(true);
      this.send("endpoints", { a: this.ends.a, b: this.ends.b, next: this.next });
    }
  }

  endpointAt(px, py, radius = 14) {
    if (this.data.mode !== "interpolate" || !this.ends) return null;
    for (const which of ["b", "a"]) {
      const q = this.main.toPx(this.ends[which].z);
      if (Math.hypot(q[0] - px, q[1] - py) <= radius) return which;
    }
    return null;
  }

  dragTo(px, py) {
    const drag = this.drag;
    drag.moved = true;
    drag.pending = [px, py];
    drag.time = performance.now();
    if (drag.scheduled) return;
    drag.scheduled = true;
    requestAnimationFrame(() => {
      drag.scheduled = false;
      if (this.drag !== drag) return;
      const [x, y] = drag.pending;
      const index = this.main.nearest(x, y, 6), p = this.main.points;
      this.ends[drag.which] = index === null ? { index: null, z: this.main.toZ(x, y) }
        : { index, z: [p.z[2 * index], p.z[2 * index + 1]] };
      this.drawInterp(true);
      record(shared.stats.drags, performance.now() - drag.time);
    });
  }

  endDrag() {
    const drag = this.drag;
    this.drag = null;
    if (drag.moved) this.send("endpoints", { a: this.ends.a, b: this.ends.b, next: this.next });
  }

  // --- interpolation ---------------------------------------------------------------------

  pathPoints(count) {
    const { a, b } = this.ends, m = this.data.method;
    return Array.from({ length: count }, (_, k) => interpolateAt(a.z, b.z, count === 1 ? 0 : k / (count - 1), m));
  }

  drawInterp(live) {
    if (!this.ends) return;
    const z = interpolateAt(this.ends.a.z, this.ends.b.z, this.t, this.data.method);
    this.show(z, null, "t");
    this.readout.textContent = `t = ${this.t.toFixed(2)} \u00b7 z = ${fmtZ(z)}`;
    this.drawStrip();
    this.drawOverlay();
  }

  drawStrip() {
    if (!this.strip) return;
    const n = this.data.steps, pad = 2, size = 28;
    if (!this.decoder) { this.strip.style.display = "none"; return; }
    this.strip.style.display = "block";
    this.strip.width = n * size + (n - 1) * pad;
    this.strip.height = size;
    const ctx = this.strip.getContext("2d");
    ctx.fillStyle = "rgb(40,40,40)";
    ctx.fillRect(0, 0, this.strip.width, size);
    const image = ctx.createImageData(size, size);
    this.pathPoints(n).forEach((z, k) => {
      const px = this.decoder.decode(z);
      for (let i = 0; i < px.length; i++) {
        image.data[4 * i] = px[i]; image.data[4 * i + 1] = px[i]; image.data[4 * i + 2] = px[i]; image.data[4 * i + 3] = 255;
      }
      ctx.putImageData(image, k * (size + pad), 0);
    });
    this.strip.dataset.ends = JSON.stringify([this.ends.a.z, this.ends.b.z]);
    this.strip.style.width = `${Math.min(this.root.clientWidth, this.strip.width * 4)}px`;
  }

  // --- drawing on top of and behind the points -------------------------------------------

  drawOverlay() {
    const plane = this.main;
    if (!plane || !plane.live) return;  // (a preview has no plane)
    const d = this.data, c = plane.ctx();
    plane.clip(c);
    if (d.mode === "toy") {
      for (const [r, dash] of [[1, []], [2, [4, 4]]]) {  // the prior's 1 and 2 sigma, above the points
        const o = plane.toPx([0, 0]), e = plane.toPx([r, 0]);
        c.setLineDash(dash); ring(c, o, Math.abs(e[0] - o[0]), "#555555", 1.5);
      }
      c.setLineDash([]);
    }
    if (d.marks) for (const m of d.marks) cross(c, plane.toPx(m), 6, PICK);
    if (d.mode === "interpolate" && this.ends) {
      const path = this.pathPoints(48).map((z) => plane.toPx(z));
      c.lineJoin = "round";
      for (const [w, s] of [[5, "rgba(255,255,255,0.9)"], [2.5, INK]]) {
        c.beginPath(); path.forEach((p, k) => (k ? c.lineTo(p[0], p[1]) : c.moveTo(p[0], p[1])));
        c.lineWidth = w; c.strokeStyle = s; c.stroke();
      }
      diamond(c, plane.toPx(interpolateAt(this.ends.a.z, this.ends.b.z, this.t, d.method)), 8, PICK);
      badge(c, plane.toPx(this.ends.a.z), "A", A_COLOR);
      badge(c, plane.toPx(this.ends.b.z), "B", B_COLOR);
    }
    const pin = this.localPin || this.pin;
    if (pin && d.mode === "explore") ring(c, plane.toPx(pin.z), 10, PICK, 3);
    if (this.cursor && d.mode !== "interpolate") ring(c, plane.toPx(this.cursor), 4, INK, 1.5);
    c.restore();
    if (this.dataPlane && this.dataPlane.live) {
      const dc = this.dataPlane.ctx();
      if (this.decoded && this.cursor) {
        this.dataPlane.clip(dc);
        const p = this.dataPlane.toPx(this.decoded);
        ring(dc, p, 9, PICK, 3); cross(dc, p, 4, PICK);
        dc.restore();
      }
    }
  }

  // The manifold: decodes on a grid over what is visible, drawn as dark ink behind the points,
  // a frame's budget at a time so the plane stays responsive while it fills in.
  computeManifold() {
    const plane = this.main;
    if (!plane || !plane.live) return;
    const on = this.manifoldBox && this.manifoldBox.checked && this.decoder;
    const gen = (this.manifoldGen = (this.manifoldGen || 0) + 1);
    if (!on) { this.manifold = null; this.paintManifold(); return; }
    const [xa, ya] = plane.axes();
    const cell = (CELL_PX * (xa.range[1] - xa.range[0])) / xa._length;  // data units per digit
    const x0 = Math.floor(xa.range[0] / cell) * cell, y1 = Math.ceil(ya.range[1] / cell) * cell;
    const nx = Math.ceil((xa.range[1] - x0) / cell), ny = Math.ceil((y1 - ya.range[0]) / cell);
    const canvas = document.createElement("canvas");
    canvas.width = nx * 28; canvas.height = ny * 28;
    this.manifold = { x0, y1, cell, nx, ny, canvas };
    const ctx = canvas.getContext("2d"), image = ctx.createImageData(28, 28);
    let k = 0;
    const step = () => {
      if (gen !== this.manifoldGen || !plane.live) return;
      const until = performance.now() + 8;
      while (k < nx * ny && performance.now() < until) {
        const i = k % nx, j = Math.floor(k / nx);
        const px = this.decoder.decode([x0 + (i + 0.5) * cell, y1 - (j + 0.5) * cell]);
        for (let q = 0; q < px.length; q++) {
          image.data[4 * q] = 20; image.data[4 * q + 1] = 20; image.data[4 * q + 2] = 40;
          image.data[4 * q + 3] = Math.round(px[q] * 0.55);
        }
        ctx.putImageData(image, i * 28, j * 28);
        k++;
      }
      this.paintManifold();
      if (k < nx * ny) requestAnimationFrame(step);
      else this.root.dataset.manifold = String(nx * ny);
    };
    this.root.dataset.manifold = "0";
    requestAnimationFrame(step);
  }

  paintManifold() {
    const plane = this.main;
    if (!plane || !plane.live) return;
    const c = plane.bg.getContext("2d"), size = plane.opts.size, a = plane.area();
    c.clearRect(0, 0, size, size);
    c.fillStyle = "#ffffff";
    c.fillRect(a.x, a.y, a.w, a.h);
    const m = this.manifold;
    if (!m) return;
    const p0 = plane.toPx([m.x0, m.y1]), p1 = plane.toPx([m.x0 + m.nx * m.cell, m.y1 - m.ny * m.cell]);
    c.save(); c.beginPath(); c.rect(a.x, a.y, a.w, a.h); c.clip();
    c.imageSmoothingEnabled = false;
    c.drawImage(m.canvas, p0[0], p0[1], p1[0] - p0[0], p1[1] - p0[1]);
    c.restore();
  }
}

const views = new WeakMap();

export default function (component) {
  const { parentElement, setTriggerValue } = component;
  const data = JSON.parse(new TextDecoder().decode(component.data));  // JSON bytes (see latent_plane())
  let view = views.get(parentElement);
  if (!view) { view = new View(parentElement, setTriggerValue); views.set(parentElement, view); }
  view.send = setTriggerValue;
  view.update(data);
  return () => { view.destroy(); views.delete(parentElement); };
}
