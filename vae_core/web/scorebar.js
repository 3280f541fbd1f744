// A scores plane's colour bar, under the plane: what the colours mean (the score's name, the span
// of the scale in nats; beyond its ends the colours stay those of the ends), the threshold as a
// tick on it, and what the large outlined points are.

import { COLORS } from "./colors.js";
import { scaleColor, scaleGradient } from "./colorscale.js";
import { element } from "./dom.js";

const whole = (x) => x.toFixed(0).replace("-", "\u2212");

export class ScoreBar {
  constructor(parent) {
    const bar = element("div", "lp-scorebar", parent);
    this.title = element("div", "lp-scorebar-title", bar);
    this.ramp = element("div", "lp-scorebar-ramp", bar, { role: "img" });
    this.ramp.style.background = scaleGradient(COLORS.scores);
    this.tick = element("span", "lp-scorebar-tick", this.ramp);
    const ends = element("div", "lp-scorebar-ends", bar);
    this.lowText = element("span", "", ends);
    this.highText = element("span", "", ends);
    this.above = element("div", "lp-scorebar-above", bar);
  }

  // `count`: how many images score above `threshold` (null: no threshold).
  show({ label, low, high, threshold, count }) {
    this.title.textContent = `Colour: ${label} (nats)`;
    this.lowText.textContent = `\u2264 ${whole(low)} typical`;
    this.highText.textContent = `unusual \u2265 ${whole(high)}`;
    this.ramp.setAttribute("aria-label", `colour scale of ${label}, from ${whole(low)} to ${whole(high)} nats`);
    const t = threshold === null ? null : (threshold - low) / (high - low || 1);
    this.tick.style.display = t === null || t < 0 || t > 1 ? "none" : "block";
    if (t !== null) this.tick.style.left = `${(100 * t).toFixed(2)}%`;
    this.above.replaceChildren();
    if (threshold === null) return;
    const swatch = element("span", "lp-scorebar-swatch", this.above);  // a large point, as drawn
    swatch.style.borderColor = COLORS.above;
    swatch.style.background = scaleColor(COLORS.scores, high, low, high);
    const what = `the ${count.toLocaleString("en-US")} images above the threshold (${threshold.toFixed(1)} nats, the tick)`;
    element("span", "", this.above).textContent = `Large, outlined: ${what}`;
  }
}
