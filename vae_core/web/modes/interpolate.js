// Interpolate: two endpoints A and B, placed by clicks in turn and dragged live; the path
// (linear or slerp), the image at t (the slider) and the strip of `steps` decodes follow in the
// browser. Python hears of a placed or dropped endpoint, as one event.

import { element } from "../dom.js";
import { A_COLOR, B_COLOR, PICK, badge, diamond, paintStrip, path } from "../draw.js";
import { fmtZ, interpolateAt, pathPoints } from "../geometry.js";
import { Controller } from "./controller.js";

export class Interpolate extends Controller {
  constructor(view) {
    super(view);
    this.t = 0.5;  // (kept across rebuilds: another model walks the same t)
  }

  build(side) {
    const data = this.data;
    this.ends = data.endpoints ? { a: data.endpoints.a, b: data.endpoints.b } : null;
    this.next = data.next || "a";
    const t = element("label", "lp-tslider", side);
    element("span", "", t).textContent = "t";
    this.tInput = element("input", "", t, { type: "range", min: "0", max: "100", step: "1", value: String(Math.round(this.t * 100)),
                                       "aria-label": "position t along the path" });
    this.tInput.addEventListener("input", () => { this.t = Number(this.tInput.value) / 100; this.drawInterp(); });
    this.strip = element("canvas", "lp-strip", this.view.root, { role: "img" });
  }

  hint(touch) {
    return (touch ? "Tap" : "Click") + ` the plane to place the ${this.next === "a" ? "start A" : "end B"}, or drag A or B. Move t to walk the path.`;
  }

  click(pick) {
    this.ends[this.next] = pick;
    this.next = this.next === "a" ? "b" : "a";
    this.view.hint.textContent = this.view.hintText();
    this.drawInterp();
    this.sendEnds();
  }

  // An endpoint within `radius` px: "a" or "b" (B first: it is drawn on top).
  grab(px, py, radius) {
    if (!this.ends) return null;
    for (const which of ["b", "a"]) {
      const q = this.view.main.toPx(this.ends[which].z);
      if (Math.hypot(q[0] - px, q[1] - py) <= radius) return which;
    }
    return null;
  }

  // A dragged endpoint snaps to a test point within 6 px, else stays a location.
  dragTo(which, px, py) {
    this.ends[which] = this.view.main.pickAt(px, py, 6);
    this.drawInterp();
  }

  drop() { this.sendEnds(); }

  sendEnds() { this.view.send("endpoints", { a: this.ends.a, b: this.ends.b, next: this.next }); }

  refresh() {
    const data = this.data;
    if (data.endpoints && !this.view.drag) {
      this.ends = { a: data.endpoints.a, b: data.endpoints.b };
      this.next = data.next || this.next;
    }
    super.refresh();
  }

  showCurrent() { this.drawInterp(); }

  // The image at t with the overlay (view.showSpot draws both), its readout and the strip.
  drawInterp() {
    if (!this.ends) return;
    const v = this.view, z = interpolateAt(this.ends.a.z, this.ends.b.z, this.t, this.data.method);
    v.showSpot(z, null, "t");
    v.readout.textContent = `t = ${this.t.toFixed(2)} \u00b7 z = ${fmtZ(z)}`;
    this.drawStrip();
  }

  drawStrip() {
    const decoder = this.view.decoder;
    if (!decoder) { this.strip.style.display = "none"; return; }
    this.strip.style.display = "block";
    const zs = pathPoints(this.ends.a.z, this.ends.b.z, this.data.steps, this.data.method);
    paintStrip(this.strip, zs.map((z) => decoder.decode(z)));
    this.strip.dataset.ends = JSON.stringify([this.ends.a.z, this.ends.b.z]);
    this.strip.style.width = `${Math.min(this.view.root.clientWidth, this.strip.width * 4)}px`;
  }

  overlay(c, plane) {
    if (!this.ends) return;
    const { a, b } = this.ends;
    path(c, pathPoints(a.z, b.z, 48, this.data.method).map((z) => plane.toPx(z)));
    diamond(c, plane.toPx(interpolateAt(a.z, b.z, this.t, this.data.method)), 8, PICK);
    badge(c, plane.toPx(a.z), "A", A_COLOR);
    badge(c, plane.toPx(b.z), "B", B_COLOR);
  }
}
