// Inside the VAE: one image's posterior q(z|x) on the plane (its 1 and 2 sigma ellipses around
// mu), the sample z = mu + sigma * eps, and a cloud of further samples; hovering decodes as
// anywhere else, and a click sends nothing (the page's buttons draw new eps).

import { cross, diamond, INK, PICK, ring } from "../draw.js";
import { Controller } from "./controller.js";

export class Inside extends Controller {
  hint(touch) {
    return `${touch ? "Drag a finger" : "Point"} over the plane to decode any spot. The rings are q(z|x): 1\u03c3 and 2\u03c3 around \u03bc; the diamond is z, the crosses the cloud of samples.`;
  }

  overlay(c, plane) {
    const data = this.data, center = plane.toPx(data.mu);
    const corner = plane.toPx([data.mu[0] + data.sigma[0], data.mu[1] + data.sigma[1]]);
    const rx = Math.abs(corner[0] - center[0]), ry = Math.abs(corner[1] - center[1]);
    for (const [k, dash] of [[1, []], [2, [5, 4]]]) {  // axis-aligned: the posterior is a diagonal Gaussian
      c.setLineDash(dash);
      for (const [w, s] of [[4.5, "rgba(255,255,255,0.9)"], [2, PICK]]) {
        c.beginPath(); c.ellipse(center[0], center[1], k * rx, k * ry, 0, 0, 2 * Math.PI);
        c.lineWidth = w; c.strokeStyle = s; c.stroke();
      }
    }
    c.setLineDash([]);
    for (const m of data.cloud) cross(c, plane.toPx(m), 4, INK);
    ring(c, center, 5, PICK, 2.5);
    diamond(c, plane.toPx(data.z), 7, PICK);
    this.drawCursor(c, plane);
  }
}
