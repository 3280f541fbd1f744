// Preview: no plane of its own, the large decoded image and the pin's close-up of another plane
// of its `group` (Explore's, shown in the page's other column).

import { el } from "../dom.js";
import { getDecoder, getPoints } from "../loader.js";
import { paintCloseup } from "../manifold.js";
import { Controller } from "./controller.js";

export class Preview extends Controller {
  get hasPlane() { return false; }

  // The panel, then the decoder and the points (for the close-up): ready once both are in.
  async buildPanel(key) {
    const v = this.view, d = this.data;
    const row = el("div", "lp-preview-row", v.root);
    v.side = el("div", "lp-side", row);
    v.preview = el("canvas", "lp-preview", v.side, { width: 28, height: 28, role: "img" });
    v.readout = el("div", "lp-readout", v.side, { "aria-live": "polite" });
    v.readout.textContent = d.model.fallback || "Loading the decoder\u2026";
    const zoom = el("figure", "lp-closeup", row);
    this.closeup = el("canvas", "", zoom, { role: "img" });
    this.closeupText = el("figcaption", "", zoom);
    try {
      [v.decoder, this.points] = await Promise.all([
        d.model.decoder ? getDecoder(d.model.decoder).catch(() => null) : null,
        d.model.points ? getPoints(d.model.points) : null]);
    } catch (e) {
      this.points = null;
    }
    if (key !== v.key) return;
    v.fallback = d.model.fallback || (v.decoder ? null : "The decoder could not run in this browser.");
    v.refresh();
    v.markReady();
  }

  pinChanged() { this.drawCloseup(); }

  drawCloseup() {
    if (this.closeup) paintCloseup(this.closeup, this.closeupText, this.view.pin, this.points, this.data.model.colors);
  }

  refresh() {
    const v = this.view;
    if (!v.readout) return;  // (a refresh before the panel is built)
    this.drawCloseup();
    if (v.pin && !v.cursor) v.show(v.pin.z, null, "pin");
    else if (!v.cursor) v.readout.textContent = v.fallback || "Point at the plane to decode that spot.";
  }
}
