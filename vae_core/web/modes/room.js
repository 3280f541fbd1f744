// The room page's plane (../room/): a phone's finger explores, or walks from A to B, with the
// decoded image right under the plane. Its `tool` says which: "explore" (the spot touched or
// pointed at is decoded and stays shown) or "walk" (Interpolate's endpoints, path, t and strip).
// There is no server behind it: nothing is sent.

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
    const plane = this.view.main, p = plane && plane.points;
    if (!p || !p.n) return null;
    const first = (label) => { for (let i = 0; i < p.n; i++) if (p.labels[i] === label) return i; return 0; };
    return { a: plane.pointPick(first(0)), b: plane.pointPick(first(1)) };
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
    this.view.root.classList.toggle("lp-walking", this.walking);
    if (this.walking && !this.ends) this.ends = this.defaultEnds();
    super.refresh();  // (a room's payload has no endpoints: the hint, then the spot or the walk shown)
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
    this.drawPin(c, plane, this.spot);
    this.drawCursor(c, plane);
  }
}
