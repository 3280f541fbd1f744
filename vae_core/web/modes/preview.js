// Preview: no plane of its own, the large decoded image and the pin's close-up of another plane
// of its `group` (Explore's, shown in the page's other column).

import { element } from "../dom.js";
import { getDecoder, getPoints } from "../loader.js";
import { paintCloseup } from "../manifold.js";
import { Controller } from "./controller.js";

export class Preview extends Controller {
  get hasPlane() { return false; }

  // The panel, then the decoder and the points (for the close-up): ready once both are in.
  async buildPanel(key) {
    const v = this.view, data = this.data;
    const row = element("div", "lp-preview-row", v.root);
    v.buildSide(row);
    v.readout.textContent = data.model.fallback || "Loading the decoder\u2026";
    const zoom = element("figure", "lp-closeup", row);
    this.closeup = element("canvas", "", zoom, { role: "img" });
    this.closeupText = element("figcaption", "", zoom);
    try {
      [v.decoder, this.points] = await Promise.all([
        data.model.decoder ? getDecoder(data.model.decoder).catch(() => null) : null,
        data.model.points ? getPoints(data.model.points) : null]);
    } catch (e) {
      this.points = null;
    }
    if (key !== v.key) return;
    v.fallback = data.model.fallback || (v.decoder ? null : "The decoder could not run in this browser.");
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
    if (v.pin && !v.cursor) v.showSpot(v.pin.z, null, "pin");
    else if (!v.cursor) v.readout.textContent = v.fallback || "Point at the plane to decode that spot.";
  }
}
