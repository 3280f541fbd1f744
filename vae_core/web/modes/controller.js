// What every mode's controller does unless it says otherwise. A View (../view.js) owns the DOM,
// the planes and the decoder; its controller, one per mode, says what is mode-specific: the
// titles and layout, extra DOM, the hint, what a click or a drag does, how a decoded spot is
// shown and what the overlay draws. A new mode is a subclass in its own file, registered in
// ./index.js (with its fields in ../payload.js).

import { element } from "../dom.js";
import { cross, INK, PICK, ring } from "../draw.js";

export class Controller {
  constructor(view) { this.view = view; }

  get data() { return this.view.data; }

  // --- layout ------------------------------------------------------------------------------
  get hasPlane() { return true; }  // (a preview is a panel without a plane of its own)
  titles() { return [this.data.title]; }  // [main] or [data plane, main]: two planes side by side
  get beside() { return true; }  // the side panel beside the plane when the column is wide enough
  get showsPreview() { return true; }  // the side panel's decoded image
  get keepsCorner() { return false; }  // a touch's corner preview stays after the finger lifts
  get upgrades() { return true; }  // the app's Plotly may take the plane over (else the canvas pans and zooms it)
  get classChips() { return true; }  // the legend's class chips under the plane (hide and show classes)

  // Extra DOM in the side panel (or below the row, in view.root), once per build.
  build(side) {}

  // The hint under the preview (a page's own `hint` wins).
  hint(touch) { return ""; }

  // The data plane's points and drawing options, for a mode with two planes.
  dataPoints() { return null; }
  dataOptions(common) { return null; }

  // What the mode loads before the first paint, beside the points (a Promise, or null).
  prepare() { return null; }

  // The main plane's points styled one by one (see ../draw.js, paintScatter), or null: by class.
  shade(points) { return null; }

  // --- what the pointer does ---------------------------------------------------------------
  click(pick) {}  // a click or tap on the plane: pick = {index, z} (a test point or a spot)
  grab(px, py, radius) { return null; }  // something draggable within `radius` px: a handle
  dragTo(handle, px, py) {}  // (once a frame)
  drop(handle) {}  // after a drag that moved
  pinChanged() {}  // another plane of the group pinned (view.pin)
  wantsManifold() { return false; }

  // The manifold's checkbox in `parent`, labelled `text`: a change decodes the manifold again
  // (or clears it), after `onChange(checked)`.
  manifoldToggle(parent, text, checked, onChange = () => {}) {
    const label = element("label", "lp-toggle", parent);
    const box = element("input", "", label, { type: "checkbox" });
    box.checked = checked;
    element("span", "", label).textContent = text;
    box.addEventListener("change", () => { onChange(box.checked); this.view.computeManifold(); });
    return box;
  }

  // Show the decoded spot z (pixels: the decoder's output, or null without a decoder).
  showSpot(z, px, source, pixels) { this.view.showImage(z, px, source, pixels); }

  // New data from the page (a pin, other endpoints, marks...): the hint, then the spot shown.
  refresh() {
    const v = this.view;
    v.hint.textContent = v.hintText();
    if (!v.main || !v.main.painted) return;
    this.showCurrent();
    v.drawOverlay();
  }

  // With no cursor on the plane: the pin, or the invitation to point.
  showCurrent() {
    const v = this.view;
    if (!v.cursor && v.pin) v.showSpot(v.pin.z, null, "pin");
    else if (!v.cursor) v.readout.textContent = v.fallback ? "" : "Point at the plane to decode that spot.";
  }

  // --- drawing on top of the points (c: the main plane's overlay, clipped to its plot area) ---
  overlay(c, plane) {
    this.drawMarks(c, plane);
    this.drawCursor(c, plane);
  }

  // The data plane's overlay (c is cleared, not clipped).
  overlayData(c, plane) {}

  drawMarks(c, plane) {
    if (this.data.marks) for (const m of this.data.marks) cross(c, plane.toPx(m), 6, PICK);
  }

  drawCursor(c, plane) {
    if (this.view.cursor) ring(c, plane.toPx(this.view.cursor), 4, INK, 1.5);
  }

  // A pinned or selected spot z (none: null), ringed.
  drawPin(c, plane, z) {
    if (z) ring(c, plane.toPx(z), 10, PICK, 3);
  }
}
