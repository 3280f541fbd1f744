// The room page's plane (../room/): a phone's finger explores, or walks from A to B, with the
// decoded image right under the plane. Its `tool` says which: "explore" (the spot touched or
// pointed at is decoded and stays shown) or "walk" (Interpolate's endpoints, path, t and strip).
// There is no server behind it: nothing is sent.

import { PICK, ring } from "../draw.js";
import { fmtZ } from "../geometry.js";
import { Interpolate } from "./interpolate.js";

export class Room extends Interpolate {
  get walking() { return this.data.tool === "walk"; }
  get beside() { return true; }  // on a wide screen; below the plane on a phone (view.planeSize)

  build(side) {
    super.build(side);
    this.spot = [0, 0];  // the spot last touched or clicked in the explore tool (first: the prior's centre)
    this.tInput.parentElement.classList.add("lp-walk-only");
    this.strip.classList.add("lp-walk-only");
  }

  hint(touch) {
    if (this.walking) return super.hint(touch);
    return touch ? "Tap or drag a finger over the plane: that spot is decoded below. Two fingers zoom."
      : "Point at the plane to decode any spot; click to keep it. Scroll to zoom, drag to pan.";
  }

  // Two test codes far apart, so a walk shows something before the first tap.
  defaultEnds() {
    const p = this.view.main && this.view.main.points;
    if (!p || !p.n) return null;
    const first = (label) => { for (let i = 0; i < p.n; i++) if (p.labels[i] === label) return i; return 0; };
    const [i, j] = [first(0), first(1)];
    return { a: { index: i, z: [p.z[2 * i], p.z[2 * i + 1]] }, b: { index: j, z: [p.z[2 * j], p.z[2 * j + 1]] } };
  }

  click(pick) {
    if (this.walking) {
      // a tap places exactly the spot touched (a room explores space, not only the test codes)
      super.click({ index: null, z: this.view.cursor || pick.z });
      return;
    }
    this.spot = this.view.cursor || pick.z;
    this.view.showSpot(this.spot, null, "pin");
  }

  grab(px, py, radius) { return this.walking ? super.grab(px, py, radius) : null; }

  sendEnds() {}  // (no server)

  refresh() {
    const walking = this.walking;
    this.view.root.classList.toggle("lp-walking", walking);
    if (walking && !this.ends) this.ends = this.defaultEnds();
    this.view.hint.textContent = this.view.hintText();
    if (!this.view.main || !this.view.main.painted) return;
    this.showCurrent();
    this.view.drawOverlay();
  }

  showCurrent() {
    if (this.walking) { this.drawInterp(); return; }
    this.view.showSpot(this.spot, null, "pin");
  }

  showSpot(z, px, source, pixels) {
    if (!this.walking && source === "touch") this.spot = z;  // a finger's last spot stays decoded
    super.showSpot(z, px, source, pixels);
    if (!this.walking && source === "pin") this.view.readout.textContent = `z = ${fmtZ(z)}`;
  }

  overlay(c, plane) {
    if (this.walking) { super.overlay(c, plane); return; }
    if (this.spot) ring(c, plane.toPx(this.spot), 10, PICK, 3);
    this.drawCursor(c, plane);
  }
}
