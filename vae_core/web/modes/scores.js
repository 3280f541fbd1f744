// Scores (the Anomalies page): the test set's points coloured by a per-image score (the file at
// `scores`) on COLORS.scores from `low` to `high`; with a `threshold`, the images above it drawn
// larger, outlined and on top, the others faded. Hovering decodes as anywhere; a click or tap on a
// point selects that test image (sent as "pick"), a click in empty space does nothing; the selected
// image (`pin`) is ringed. A colour bar under the plane says what the colours mean.
//
// The canvas stays the renderer (`upgrades` is false): it draws every point in its own colour,
// size and outline, and pans and zooms itself (../input.js); Plotly's traces are one per class.

import { COLORS } from "../colors.js";
import { scaleColor } from "../colorscale.js";
import { element } from "../dom.js";
import { getScores } from "../loader.js";
import { PICK_PX } from "../plane.js";
import { ScoreBar } from "../scorebar.js";
import { Controller } from "./controller.js";

export class Scores extends Controller {
  get upgrades() { return false; }
  get classChips() { return false; }  // (the colours are the score's, not the classes')
  get showsPreview() { return false; }  // the digit by the cursor (or in the corner, under a finger) is enough

  hint(touch) {
    return touch
      ? "Drag a finger over the plane to decode any spot; tap a point to select its image. Two fingers pan and zoom."
      : "Move the mouse over the plane to decode any spot; click a point to select its image. Drag to pan, scroll to zoom.";
  }

  async prepare() {
    const url = this.data.scores;
    this.keep(url, await this.loadScores(url));
  }

  // The scores at `url`, checked against the points: one score per point.
  async loadScores(url) {
    const [scores, points] = await Promise.all([getScores(url), this.view.loadPoints()]);
    if (scores.length !== points.n) throw new Error("the scores file does not match the points");
    return scores;
  }

  keep(url, scores) { this.scores = scores; this.scoresUrl = url; }

  build(side) {
    this.bar = new ScoreBar(this.view.main.root);
    // the canvas has no Plotly mode bar: its own way to keep a picture
    const save = element("button", "lp-save", side, { type: "button" });
    save.textContent = "Download the plane (PNG)";
    save.addEventListener("click", () => this.save());
  }

  save() {
    const name = `anomalies-${this.data.label.replace(/\W+/g, "-")}.png`;
    this.view.main.picture().toBlob((blob) => {
      const link = element("a", "", null, { href: URL.createObjectURL(blob), download: name });
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 0);
    });
  }

  // Each point's colour, opacity, size and outline, the least typical drawn last (on top).
  shade(points) {
    const { low, high, threshold } = this.data, s = this.scores, n = points.n;
    const small = 2, large = 3.5;  // (the radii of Plotly's marker sizes 4 and 7, as before)
    const color = new Array(n), alpha = new Float32Array(n), radius = new Float32Array(n), outline = new Array(n);
    for (let i = 0; i < n; i++) {
      const above = threshold !== null && s[i] > threshold;
      color[i] = scaleColor(COLORS.scores, s[i], low, high);
      alpha[i] = threshold === null ? 0.85 : above ? 1 : 0.25;
      radius[i] = above ? large : small;
      outline[i] = above ? COLORS.above : null;
    }
    const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => s[i] - s[j]);  // (a stable sort)
    return { order, color, alpha, radius, outline, scores: this.scoresUrl, low, high, threshold };
  }

  // New data from the page: the hint and the spot shown, then the points restyled when the scores,
  // their span or the threshold changed (a new scores file is fetched first), and the colour bar.
  refresh() {
    super.refresh();
    this.restyle();
  }

  async restyle() {
    const v = this.view, data = this.data, plane = v.main;
    if (!plane || !plane.painted) return;
    const shown = plane.opts.shade;
    if (shown.scores !== data.scores || shown.low !== data.low || shown.high !== data.high
        || shown.threshold !== data.threshold) {
      if (this.scoresUrl !== data.scores) {
        let scores;
        try {
          scores = await this.loadScores(data.scores);
        } catch (e) {
          plane.note.textContent = `The scores could not be drawn: ${e.message}.`;
          return;
        }
        if (v.data !== data) return;  // a newer payload came meanwhile: its own restyle draws it
        this.keep(data.scores, scores);
      }
      plane.opts.shade = this.shade(plane.points);
      plane.paintPoints();
    }
    const { label, low, high, threshold } = data;
    const count = threshold === null ? 0 : this.scores.reduce((k, s) => k + (s > threshold), 0);
    this.bar.show({ label, low, high, threshold, count });
  }

  // A click on a test point (or Enter at the cursor: the point under it) selects that image.
  click(pick) {
    const v = this.view;
    const index = pick.index !== null ? pick.index : v.main.nearest(...v.main.toPx(pick.z), PICK_PX);
    if (index === null) return;  // empty space: only test images are selectable here
    const chosen = v.main.pointPick(index);
    v.pin = chosen;  // drawn at once; the page's next payload carries the same pin
    v.cursor = chosen.z;
    v.showSpot(chosen.z, null, "pin");
    v.send("pick", chosen);
  }

  // The decoded spot, and the score of the test image under the pointer (or of the selected one).
  showSpot(z, px, source, pixels) {
    const v = this.view;
    v.showImage(z, px, source, pixels);
    const index = source === "pin" ? v.pin && v.pin.index : px ? v.main.nearest(px[0], px[1], PICK_PX) : null;
    if (index === null || index === undefined || !this.scores) return;
    const what = `test image #${index}: ${this.scores[index].toFixed(1)} nats`;
    v.readout.textContent = source === "pin" ? `Selected: ${what}` : what;
  }

  overlay(c, plane) {
    this.drawPin(c, plane, this.view.pin && this.view.pin.z);
    this.drawCursor(c, plane);
  }
}
