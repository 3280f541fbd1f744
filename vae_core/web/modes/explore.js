// Explore: hovering decodes, a click pins a point or a spot (sent to Python), and the manifold
// toggle fills the plane with decodes. On a touch screen the last spot touched stays decoded in
// the plane's corner, in view with the plane.

import { Controller } from "./controller.js";

const MANIFOLD_KEY = "vae-explorer.manifold";  // the toggle's state, kept across visits

export class Explore extends Controller {
  get showsPreview() { return !this.data.separate_preview; }
  get keepsCorner() { return true; }

  build(side) {
    this.manifoldBox = this.manifoldToggle(side, this.data.manifold_label, localStorage.getItem(MANIFOLD_KEY) === "1",
                                           (checked) => localStorage.setItem(MANIFOLD_KEY, checked ? "1" : "0"));
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
    this.drawPin(c, plane, this.view.pin && this.view.pin.z);
    this.drawCursor(c, plane);
  }
}
