// Toy world: a data plane beside the latent plane; hovering z moves the decoded point x (the
// decoder's output is a 2-D point, not an image), and the prior's 1 and 2 sigma are drawn.

import { cross, PICK, ring } from "../draw.js";
import { inlinePoints } from "../loader.js";
import { Controller } from "./controller.js";
import { fmtZ } from "../geometry.js";

export class Toy extends Controller {
  titles() { return this.data.toy.titles.slice(0, 2); }
  get beside() { return false; }
  get showsPreview() { return false; }

  hint() { return "Point at the latent plane: the decoder sends that z to the marked point in the data plane."; }

  dataPoints() { return inlinePoints(this.data.toy.data); }

  dataOptions(common) {
    const data = this.data;
    return { ...common, classes: data.toy.names, colors: data.model.colors, extent: data.toy.data_extent,
             axes: ["x\u2081", "x\u2082"], legend: false };
  }

  showSpot(z, px, source, decoded) {
    this.view.decoded = decoded;  // a point in the data plane
    this.view.readout.textContent = decoded ? `z = ${fmtZ(z)} \u2192 x = ${fmtZ(decoded)}` : `z = ${fmtZ(z)}`;
  }

  overlay(c, plane) {
    for (const [r, dash] of [[1, []], [2, [4, 4]]]) {  // the prior's 1 and 2 sigma, above the points
      const origin = plane.toPx([0, 0]), edge = plane.toPx([r, 0]);
      c.setLineDash(dash); ring(c, origin, Math.abs(edge[0] - origin[0]), "#555555", 1.5);
    }
    c.setLineDash([]);
    this.drawCursor(c, plane);
  }

  overlayData(c, plane) {
    const v = this.view;
    if (!v.decoded || !v.cursor) return;
    plane.clip(c);
    const p = plane.toPx(v.decoded);
    ring(c, p, 9, PICK, 3); cross(c, p, 4, PICK);
    c.restore();
  }
}
