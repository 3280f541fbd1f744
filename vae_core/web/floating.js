// The decoded digit floating over a plane: the thumbnail beside the mouse pointer, and the
// preview in the plane's corner while (and, where a mode keeps it, after) a finger touches it.

import { element } from "./dom.js";
import { paintDigit } from "./draw.js";
import { fmtZ } from "./geometry.js";

const CORNER_MS = 1500;  // a corner preview not kept goes this long after the finger lifts
const CORNER_TOP = 10;  // px: the corner preview's place at the top of the stage (.lp-corner in plane.css)
const CORNER_CLEARANCE = 12;  // px around that place where a finger sends the preview to the bottom
const GAP = 18;  // px between the pointer and its thumbnail

export class Floating {
  constructor(stage) {
    this.thumb = element("div", "lp-thumb", stage);
    this.thumbCanvas = element("canvas", "", this.thumb, { width: 28, height: 28 });
    this.thumbText = element("span", "", this.thumb);
    this.corner = element("div", "lp-corner", stage);
    this.cornerCanvas = element("canvas", "", this.corner, { width: 28, height: 28 });
    this.cornerText = element("span", "", this.corner);
    this.timer = null;
  }

  // The thumbnail next to the pointer at px, on the side where it fits in a stage of `size` px.
  hover(pixels, output, z, px, size) {
    const box = this.thumb;
    fill(box, this.thumbCanvas, this.thumbText, pixels, output, z);
    const w = box.offsetWidth || 72, h = box.offsetHeight || 90;
    const x = px[0] + GAP + w > size ? px[0] - GAP - w : px[0] + GAP;
    const y = px[1] + GAP + h > size ? px[1] - GAP - h : px[1] + GAP;
    box.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px)`;
  }

  // The corner preview: at the top of the plane, or at its bottom when the finger (px) is where
  // the top one would be, so it never hides the spot touched.
  touch(pixels, output, z, px) {
    clearTimeout(this.timer);
    fill(this.corner, this.cornerCanvas, this.cornerText, pixels, output, z);
    if (px) this.corner.classList.toggle("lp-corner-low", this.underCorner(px));
  }

  underCorner(px) {
    const box = this.corner, x = px[0] - box.offsetLeft, y = px[1] - CORNER_TOP, w = box.offsetWidth, h = box.offsetHeight;
    return x >= -CORNER_CLEARANCE && x <= w + CORNER_CLEARANCE && y >= -CORNER_CLEARANCE && y <= h + CORNER_CLEARANCE;
  }

  hideThumb() { this.thumb.style.display = "none"; }

  // The finger lifted: the corner preview goes after a moment, unless `keep`.
  lifted(keep) {
    clearTimeout(this.timer);
    if (!keep) this.timer = setTimeout(() => { this.corner.style.display = "none"; }, CORNER_MS);
  }

  destroy() { clearTimeout(this.timer); }
}

function fill(box, canvas, text, pixels, output, z) {
  paintDigit(canvas, pixels, output);
  text.textContent = fmtZ(z);
  box.dataset.z = `${z[0]},${z[1]}`;
  box.style.display = "flex";
}
