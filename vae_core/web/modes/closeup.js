// Close-up: no plane, only the close-up of the model's points around `pin` (../manifold.js,
// paintCloseup): the pin's own sigma as 1 and 2 sigma ellipses, `marks` as crosses, and the page's
// `caption` under it (Your digit: a drawing's code among its nearest test images).

import { element } from "../dom.js";
import { paintCloseup } from "../manifold.js";
import { Controller } from "./controller.js";

const MAX_PX = 280;  // as large as the column allows, up to this

export class Closeup extends Controller {
  get hasPlane() { return false; }

  // The figure, then the points: ready once they are drawn.
  async buildPanel(key) {
    const v = this.view;
    this.points = null;  // (a rebuild's new points are not in yet)
    const figure = element("figure", "lp-closeup", v.root);
    this.canvas = element("canvas", "", figure, { role: "img" });
    this.caption = element("figcaption", "", figure);
    try {
      this.points = await v.loadPoints();
    } catch (e) {
      if (key !== v.key) return;
      this.canvas = null;
      const note = element("div", "lp-invalid-note", null, { role: "alert" });
      note.textContent = `The close-up could not be drawn: ${e.message}.`;
      figure.replaceWith(note);
      return;
    }
    if (key !== v.key) return;
    v.refresh();
    v.markReady();
  }

  refresh() {
    if (!this.canvas) return;  // (a refresh before the figure is built)
    const data = this.data, size = Math.min(MAX_PX, this.view.parent.clientWidth || MAX_PX);
    this.canvas.setAttribute("aria-label", data.caption || "A close-up of the latent plane");
    paintCloseup(this.canvas, this.caption, this.view.pin, this.points, data.model.colors,
                 { size, marks: data.marks, text: data.caption });
  }
}
