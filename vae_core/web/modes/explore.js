// Explore: hovering decodes, a click pins a point or a spot (sent to Python), and the manifold
// toggle fills the plane with decodes. On a touch screen the last spot touched stays decoded in
// the plane's corner, in view with the plane.

import { element } from "../dom.js";
import { PICK, ring } from "../draw.js";
import { Controller } from "./controller.js";

const MANIFOLD_KEY = "vae-explorer.manifold";  // the toggle's state, kept across visits

export class Explore extends Controller {
  get showsPreview() { return !this.data.separate_preview; }
  get keepsCorner() { return true; }

  build(side) {
    const label = element("label", "lp-toggle", side);
    this.manifoldBox = element("input", "", label, { type: "checkbox" });
    element("span", "", label).textContent = this.data.manifold_label;
    this.manifoldBox.checked = localStorage.getItem(MANIFOLD_KEY) === "1";
    this.manifoldBox.addEventListener("change", () => {
      localStorage.setItem(MANIFOLD_KEY, this.manifoldBox.checked ? "1" : "0");
      this.view.computeManifold();
    });
  }

  hint(touch) {
    return touch ? "Drag a finger over the plane to decode any spot; tap to pin it. Two fingers pan and zoom."
      : "Move the mouse over the plane to decode any spot; click to pin it (a point, or empty space). Drag to pan, scroll to zoom; arrow keys move the cursor, Enter pins.";
  }

  wantsManifold() { return this.manifoldBox.checked; }

  click(pick) {
    const v = this.view;
    v.pin = pick;  // drawn at once; the page's next payload carries the same pin (its view's)
    v.cursor = pick.z;
    v.showSpot(pick.z, null, "pin");
    v.publish(pick.z, { pin: pick });
    v.send("pick", pick);
  }

  overlay(c, plane) {
    const pin = this.view.pin;
    if (pin) ring(c, plane.toPx(pin.z), 10, PICK, 3);
    this.drawCursor(c, plane);
  }
}
