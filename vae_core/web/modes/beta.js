// The beta family: one plane whose own slider swaps between models trained with different beta
// (their decoders and points all fetched when the plane is first built), with the decoded
// manifold behind the points and the rate-distortion curve (reconstruction against KL across
// beta) marking the current one. A step of the slider never reaches the server.

import { element } from "../dom.js";
import { INK, PICK, ring } from "../draw.js";
import { getDecoder, getPoints } from "../loader.js";
import { Controller } from "./controller.js";

const CURVE = { width: 260, height: 200, l: 46, r: 10, t: 10, b: 34 };

export class Beta extends Controller {
  constructor(view) {
    super(view);
    this.chosen = null;  // the index of the model the slider chose (kept across rebuilds)
    this.bar = null;  // the slider and the curve, outside the view's DOM: a swap rebuilds that
  }

  get beside() { return true; }

  hint(touch) {
    return `Slide \u03b2: the plane swaps to the model trained with that \u03b2, in this browser. ${touch ? "Drag a finger over" : "Point at"} the plane to decode a spot.`;
  }

  wantsManifold() { return this.manifoldBox ? this.manifoldBox.checked : true; }

  build(side) {
    const data = this.data, list = data.models;
    if (this.chosen === null || this.chosen >= list.length) this.chosen = data.start;
    for (const m of list) {  // preload: every step of the slider then swaps at once
      if (m.model.decoder) getDecoder(m.model.decoder).catch(() => {});
      if (m.model.points) getPoints(m.model.points).catch(() => {});
    }
    this.buildBar(list);
    this.paintCurve();
    // a rerun of the page sends its first model again: go back to the one chosen here
    if (list[this.chosen].model.id !== data.model.id) queueMicrotask(() => this.select(this.chosen, true));
  }

  buildBar(list) {
    const signature = list.map((m) => m.model.id).join("|");
    if (this.bar && this.bar.dataset.models === signature) { this.syncBar(); return; }
    if (this.bar) this.bar.remove();
    const v = this.view;
    this.bar = element("div", "lp-beta-bar");
    this.bar.dataset.models = signature;
    v.parent.insertBefore(this.bar, v.root);
    const controls = element("div", "lp-beta-controls", this.bar);
    const label = element("label", "lp-beta-label", controls);
    element("span", "", label).textContent = "\u03b2";
    this.slider = element("input", "lp-beta-slider", label,
                     { type: "range", min: "0", max: String(list.length - 1), step: "1", "aria-label": "\u03b2" });
    this.valueText = element("output", "lp-beta-value", label);
    this.slider.addEventListener("input", () => this.select(Number(this.slider.value)));
    this.manifoldBox = this.manifoldToggle(controls, "Show decoded digits behind the points", true);
    this.curve = element("canvas", "lp-beta-curve", this.bar, { role: "img" });
    this.syncBar();
  }

  syncBar() {
    const m = this.data.models[this.chosen];
    this.slider.value = String(this.chosen);
    this.valueText.textContent = `= ${m.beta}`;
    this.bar.dataset.beta = String(m.beta);
    this.bar.dataset.model = m.model.id;
  }

  // Show model `i` of the family: the same view rebuilt with that model's decoder and points.
  select(i, force) {
    const v = this.view, m = this.data.models[i];
    this.chosen = i;
    this.syncBar();
    this.paintCurve();
    if (!force && m.model.id === v.data.model.id) return;
    v.update({ ...v.data, model: m.model });  // (another model: a rebuild)
  }

  // Reconstruction (distortion) against KL (rate), one dot per beta, the current one ringed.
  paintCurve() {
    const list = this.data.models, canvas = this.curve, ratio = window.devicePixelRatio || 1;
    const { width, height, l, r, t, b } = CURVE;
    canvas.width = width * ratio; canvas.height = height * ratio;
    canvas.style.width = `${width}px`; canvas.style.height = `${height}px`;
    const c = canvas.getContext("2d");
    c.setTransform(ratio, 0, 0, ratio, 0, 0);
    c.fillStyle = "#ffffff"; c.fillRect(0, 0, width, height);
    const xs = list.map((m) => m.kl), ys = list.map((m) => m.recon);
    const span = (vs) => { const lo = Math.min(...vs), hi = Math.max(...vs), pad = 0.08 * (hi - lo || 1); return [lo - pad, hi + pad]; };
    const [x0, x1] = span(xs), [y0, y1] = span(ys);
    const at = (m) => [l + (m.kl - x0) / (x1 - x0) * (width - l - r), height - b - (m.recon - y0) / (y1 - y0) * (height - t - b)];
    c.strokeStyle = "#999999"; c.lineWidth = 1;
    c.strokeRect(l, t, width - l - r, height - t - b);
    c.fillStyle = INK; c.font = "11px sans-serif"; c.textAlign = "center"; c.textBaseline = "alphabetic";
    c.fillText("KL (nats): the rate", l + (width - l - r) / 2, height - 4);
    c.fillText(x0.toFixed(1), l + 12, height - b + 13); c.fillText(x1.toFixed(1), width - r - 12, height - b + 13);
    c.save(); c.translate(12, t + (height - t - b) / 2); c.rotate(-Math.PI / 2);
    c.fillText("recon (nats): distortion", 0, 0); c.restore();
    c.textAlign = "right";
    c.fillText(y1.toFixed(0), l - 3, t + 10); c.fillText(y0.toFixed(0), l - 3, height - b);
    const order = [...list].sort((p, q) => p.beta - q.beta);
    c.beginPath(); order.forEach((m, k) => { const p = at(m); k ? c.lineTo(...p) : c.moveTo(...p); });
    c.strokeStyle = "#666666"; c.lineWidth = 1.5; c.stroke();
    list.forEach((m, k) => {
      const p = at(m);
      c.beginPath(); c.arc(p[0], p[1], 3.5, 0, 2 * Math.PI); c.fillStyle = INK; c.fill();
      const right = p[0] > width / 2;  // the label on the side with room
      c.textAlign = right ? "right" : "left";
      const dy = order.indexOf(m) % 2 ? 14 : -6;  // neighbours' labels alternate below and above
      c.fillStyle = "#333333"; c.fillText(`\u03b2=${m.beta}`, p[0] + (right ? -7 : 7), p[1] + dy);
      if (k === this.chosen) ring(c, p, 8, PICK, 2.5);
    });
    canvas.setAttribute("aria-label", `Reconstruction against KL across \u03b2; current \u03b2 = ${list[this.chosen].beta}`);
  }
}
