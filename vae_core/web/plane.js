// One latent plane: its stage (background canvas, the points, overlay canvas, note, floating
// previews), its legend chips, and the mapping between data and pixels.
//
// The canvas draws it first (paintFirst), at the geometry a square plane of that size has, so
// the points are on screen as soon as they arrive. An optional upgrade may then take it over
// (takeOver): the app's Plotly (ui/latent_plane/plotly.js), an object with
//   name                         what it is ("plotly": moments[name] records when it drew);
//   draw(plane)                  draw plane.points with plane.opts at the same geometry (a Promise),
//                                calling plane.moved(false) while the view moves and plane.moved(true) after;
//   axes(plane)                  its [x, y] axes ({range, _offset, _length}), or null before it drew;
//   relayout(plane, {"xaxis.range", "yaxis.range", width, height})   and
//   restyle(plane, visible, traces)                                  (classes shown or hidden);
//   purge(plane)                 when the plane goes.
// Without one, the canvas stays the renderer: setRanges repaints it, so it pans and zooms too.

import { element } from "./dom.js";
import { area, inside, nearestIndex, squareAxes, toPx, toZ } from "./geometry.js";
import { paintScatter } from "./draw.js";

export const PICK_PX = 7;  // a click or tap picks the visible test point within this many pixels

export class Plane {
  constructor(parent, role, titleText) {
    this.role = role;
    this.root = element("figure", `lp-plane lp-plane-${role}`, parent);
    if (titleText) element("figcaption", "lp-title", this.root).textContent = titleText;
    this.stage = element("div", "lp-stage", this.root, { tabindex: role === "data" ? "-1" : "0" });
    this.bg = element("canvas", "lp-bg", this.stage);
    this.plot = element("div", "lp-plot", this.stage);  // (where an upgrade draws)
    this.over = element("canvas", "lp-over", this.stage);
    this.note = element("div", "lp-note", this.stage);
    this.legend = element("div", "lp-legend", this.root);
    this.hidden = new Set();
    this.points = null;
    this.upgrade = null;
    this.canvasAxes = null;  // the canvas's geometry (the first paint's, then its pans and zooms)
    this.ready = false;  // drawn by its final renderer: the upgrade once it drew, else the canvas (see View)
    this.painted = false;  // on screen: first paint, then the upgrade
    this.moments = {};  // performance.now() of the first paint and of the upgrade's drawing (for the bench)
    this.onMove = null;  // (settled) => ..., after the visible ranges changed
    this.onChange = null;  // () => ..., after classes were hidden or shown
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

  // The first paint: the points, grid and axes on a canvas, over [-extent, extent] on both axes.
  // `opts`: size, extent, classes, colors, axes (titles), markerSize, legend, and the upgrade's own.
  paintFirst(points, opts) {
    this.points = points;
    this.opts = opts;
    this.groupPoints();
    const e = opts.extent;
    this.canvasAxes = squareAxes(opts.size, [-e, e], [-e, e]);
    this.setSize(opts.size);
    if (!this.first) this.first = element("canvas", "lp-first", this.stage);
    this.stage.insertBefore(this.first, this.over);
    this.sizeCanvases();
    this.paintPoints();
    this.painted = true;
    this.moments.painted = performance.now();
    this.drawLegend();
  }

  paintPoints() {
    if (!this.first) return;
    paintScatter(this.first.getContext("2d"), this.canvasAxes, this.opts, this.points, this.byClass, this.hidden);
  }

  // Hand the plane to an upgrade (see the top of this file); the canvas goes once it has drawn.
  async takeOver(upgrade) {
    this.upgrade = upgrade;
    this.setSize(this.opts.size);
    await upgrade.draw(this);
    this.ready = this.painted = true;
    this.moments[upgrade.name] = performance.now();
    if (this.first) { this.first.remove(); this.first = null; }
    this.sizeCanvases();
    this.drawLegend();
  }

  // Show the data ranges x and y ([low, high] each): pinch, wheel and drag zoom and pan through here.
  setRanges(x, y) {
    if (this.upgrade) { this.upgrade.relayout(this, { "xaxis.range": x, "yaxis.range": y }); return; }
    if (!this.canvasAxes) return;
    this.canvasAxes = squareAxes(this.opts.size, x, y);
    this.paintPoints();
    this.moved(false);
    // the view settles once the gesture pauses (the manifold is decoded again then, not per frame)
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.moved(true), 150);
  }

  moved(settled) { if (this.onMove) this.onMove(settled); }

  resize(size) {
    if (!this.ready || Math.abs(size - this.opts.size) < 2) return;
    this.opts.size = size;
    this.setSize(size);
    if (this.upgrade) this.upgrade.relayout(this, { width: size, height: size });
    else this.canvasAxes = squareAxes(size, this.canvasAxes[0].range, this.canvasAxes[1].range);
    this.sizeCanvases();
    this.paintPoints();
  }

  setSize(size) {
    this.stage.style.width = this.root.style.width = `${size}px`;  // (its legend wraps within that width)
    this.stage.style.height = `${size}px`;
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
    const opts = this.opts;
    this.legend.replaceChildren();
    if (!opts.legend) return;
    opts.classes.forEach((name, c) => {
      if (this.traceOf[c] === undefined) return;
      const chip = element("button", "lp-chip", this.legend, { type: "button", "aria-pressed": String(!this.hidden.has(c)),
                                                          title: "Click to hide or show; double-click to show only this" });
      element("span", "lp-swatch", chip).style.background = opts.colors[c % opts.colors.length];
      element("span", "", chip).textContent = name;
      chip.addEventListener("click", () => this.toggle(c));
      chip.addEventListener("dblclick", () => this.only(c));
    });
  }

  setHidden(hidden) {
    this.hidden = hidden;
    const idx = [], vis = [];
    this.traceOf.forEach((t, c) => { if (t !== undefined) { idx.push(t); vis.push(hidden.has(c) ? "legendonly" : true); } });
    if (this.upgrade && this.ready) this.upgrade.restyle(this, vis, idx);
    else this.paintPoints();
    this.drawLegend();
    this.onChange && this.onChange();
  }

  toggle(c) { const h = new Set(this.hidden); h.has(c) ? h.delete(c) : h.add(c); this.setHidden(h); }
  only(c) { this.setHidden(new Set(this.opts.classes.map((_, k) => k).filter((k) => k !== c))); }

  axes() {
    const drawn = this.upgrade && this.upgrade.axes(this);
    return drawn || this.canvasAxes || [null, null];
  }

  // Drawn (first paint or upgrade) and not torn down (a page change or a rebuild may come
  // before a deferred redraw).
  get live() { return this.painted && this.stage.isConnected && !!this.axes()[0]; }

  toZ(px, py) { return toZ(this.axes(), px, py); }
  toPx(z) { return toPx(this.axes(), z); }
  inside(px, py) { return inside(this.axes(), px, py); }
  area() { return area(this.axes()); }

  // The visible point nearest to a pixel, if within `radius` pixels.
  nearest(px, py, radius) { return this.points ? nearestIndex(this.points, this.hidden, this.axes(), px, py, radius) : null; }

  // A pick {index, z}: the visible test point within `radius` px of a pixel, else the spot there (index null).
  pickAt(px, py, radius) {
    const index = this.nearest(px, py, radius);
    return index === null ? { index: null, z: this.toZ(px, py) } : this.pointPick(index);
  }

  // Test point `index` as a pick {index, z}.
  pointPick(index) { const z = this.points.z; return { index, z: [z[2 * index], z[2 * index + 1]] }; }

  // The plane as one canvas, as it is on screen (background, points, overlay): what a canvas-only
  // plane saves as a PNG (an upgrade has its own mode bar).
  picture() {
    const out = document.createElement("canvas"), c = out.getContext("2d");
    out.width = this.over.width; out.height = this.over.height;
    c.fillStyle = "#ffffff"; c.fillRect(0, 0, out.width, out.height);
    for (const layer of [this.bg, this.first, this.over]) if (layer) c.drawImage(layer, 0, 0);
    return out;
  }

  // The overlay's context, cleared.
  ctx() { const c = this.over.getContext("2d"); c.clearRect(0, 0, this.opts.size, this.opts.size); return c; }

  clip(c) { const a = this.area(); c.save(); c.beginPath(); c.rect(a.x, a.y, a.w, a.h); c.clip(); }

  destroy() {
    clearTimeout(this.settleTimer);
    if (this.upgrade) this.upgrade.purge(this);
  }
}
