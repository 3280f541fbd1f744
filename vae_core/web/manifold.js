// What the decoder draws around the points: the manifold (decodes on a grid over the visible
// part of a plane, behind its points) and the pin's close-up (its neighbourhood and ellipses).

import { fmtZ } from "./geometry.js";
import { cross, INK, PICK, ring } from "./draw.js";

const CELL_PX = 40;  // manifold digits are drawn this large, whatever the zoom: big enough to read

// The background canvas of one plane: white under the plot area, and the manifold when asked.
// `root.dataset.manifold` counts its decoded cells once complete ("0" while it fills in).
export class Manifold {
  constructor(plane, root) {
    this.plane = plane;
    this.root = root;
    this.grid = null;
    this.generation = 0;
  }

  // Decode the visible grid with `decoder` (none: the white background only), a frame's budget
  // at a time so the plane stays responsive while it fills in.
  compute(decoder) {
    const plane = this.plane;
    if (!plane.live) return;
    const gen = ++this.generation;
    if (!decoder) { this.grid = null; this.paint(); return; }
    const [xa, ya] = plane.axes();
    const cell = (CELL_PX * (xa.range[1] - xa.range[0])) / xa._length;  // data units per digit
    const x0 = Math.floor(xa.range[0] / cell) * cell, y1 = Math.ceil(ya.range[1] / cell) * cell;
    const nx = Math.ceil((xa.range[1] - x0) / cell), ny = Math.ceil((y1 - ya.range[0]) / cell);
    const canvas = document.createElement("canvas");
    canvas.width = nx * 28; canvas.height = ny * 28;
    this.grid = { x0, y1, cell, nx, ny, canvas };
    const ctx = canvas.getContext("2d"), image = ctx.createImageData(28, 28);
    let k = 0;
    const step = () => {
      if (gen !== this.generation || !plane.live) return;
      const until = performance.now() + 8;
      while (k < nx * ny && performance.now() < until) {
        const i = k % nx, j = Math.floor(k / nx);
        const px = decoder.decode([x0 + (i + 0.5) * cell, y1 - (j + 0.5) * cell]);
        for (let q = 0; q < px.length; q++) {  // dark ink, as opaque as the digit is bright
          image.data[4 * q] = 20; image.data[4 * q + 1] = 20; image.data[4 * q + 2] = 40;
          image.data[4 * q + 3] = Math.round(px[q] * 0.55);
        }
        ctx.putImageData(image, i * 28, j * 28);
        k++;
      }
      this.paint();
      if (k < nx * ny) requestAnimationFrame(step);
      else this.root.dataset.manifold = String(nx * ny);
    };
    this.root.dataset.manifold = "0";
    requestAnimationFrame(step);
  }

  // Paint what is decoded at the plane's current ranges (cheap: every frame of a pan or zoom).
  paint() {
    const plane = this.plane;
    if (!plane.live) return;
    const c = plane.bg.getContext("2d"), size = plane.opts.size, a = plane.area();
    c.clearRect(0, 0, size, size);
    c.fillStyle = "#ffffff";
    c.fillRect(a.x, a.y, a.w, a.h);
    const m = this.grid;
    if (!m) return;
    const p0 = plane.toPx([m.x0, m.y1]), p1 = plane.toPx([m.x0 + m.nx * m.cell, m.y1 - m.ny * m.cell]);
    c.save(); c.beginPath(); c.rect(a.x, a.y, a.w, a.h); c.clip();
    c.imageSmoothingEnabled = false;
    c.drawImage(m.canvas, p0[0], p0[1], p1[0] - p0[0], p1[1] - p0[1]);
    c.restore();
  }
}

// The pin's neighbourhood on `canvas` (`size` px square) with its caption: the nearby codes of
// `points`, the encoder's 1 and 2 sigma ellipses when the pin's sigma is known (too small to see on
// the plane: the pin's own `sigma`, or a test point's from the points file), `marks` ([z1, z2]) as
// crosses, and the pin as a ring at the centre. The window: 3 sigma each side (at least 0.25), or
// 0.5 without a sigma. `text` replaces the caption's own words; marks outside the window are
// counted there. Hidden (display none) without a pin or points.
export function paintCloseup(canvas, caption, pin, points, colors, { size = 160, marks = [], text = null } = {}) {
  const p = points;
  canvas.parentElement.style.display = pin && p ? "block" : "none";
  if (!pin || !p) return;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = size * ratio; canvas.height = size * ratio;
  canvas.style.width = canvas.style.height = canvas.parentElement.style.width = `${size}px`;
  const c = canvas.getContext("2d");
  c.setTransform(ratio, 0, 0, ratio, 0, 0);
  c.fillStyle = "#ffffff"; c.fillRect(0, 0, size, size);
  const sigma = pin.sigma ? pin.sigma
    : pin.index !== null && p.sigma ? [p.sigma[2 * pin.index], p.sigma[2 * pin.index + 1]] : null;
  const half = sigma ? Math.max(0.25, 3 * Math.max(...sigma)) : 0.5;
  const [cx, cy] = pin.z, scale = size / (2 * half);
  const at = (x, y) => [(x - cx + half) * scale, (cy - y + half) * scale];
  c.strokeStyle = "rgba(0,0,0,0.08)"; c.lineWidth = 1;
  for (let k = -4; k <= 4; k++) {  // a light grid at quarters of the view
    const q = (k / 4) * half;
    c.beginPath(); c.moveTo(...at(cx + q, cy - half)); c.lineTo(...at(cx + q, cy + half)); c.stroke();
    c.beginPath(); c.moveTo(...at(cx - half, cy + q)); c.lineTo(...at(cx + half, cy + q)); c.stroke();
  }
  for (let i = 0; i < p.n; i++) {
    const x = p.z[2 * i], y = p.z[2 * i + 1];
    if (Math.abs(x - cx) > half || Math.abs(y - cy) > half) continue;
    const [u, v] = at(x, y);
    c.beginPath(); c.arc(u, v, 3, 0, 2 * Math.PI);
    c.fillStyle = colors[p.labels[i] % colors.length]; c.globalAlpha = 0.8; c.fill(); c.globalAlpha = 1;
  }
  if (sigma) {
    for (const [k, dash] of [[1, []], [2, [3, 3]]]) {
      c.setLineDash(dash); c.beginPath();
      c.ellipse(...at(cx, cy), k * sigma[0] * scale, k * sigma[1] * scale, 0, 0, 2 * Math.PI);
      c.lineWidth = 2; c.strokeStyle = PICK; c.stroke();
    }
    c.setLineDash([]);
  }
  const shown = marks.filter(([x, y]) => Math.abs(x - cx) <= half && Math.abs(y - cy) <= half);
  for (const [x, y] of shown) cross(c, at(x, y), 5, INK);
  ring(c, at(cx, cy), 8, PICK, 2.5);
  const outside = marks.length - shown.length;
  caption.textContent = (text || (sigma
    ? `Close-up: z_mean = ${fmtZ(pin.z)}, the encoder unsure by \u03c3 = ${fmtZ(sigma)} (1\u03c3 and 2\u03c3 ellipses of q(z|x))`
    : `Close-up: the test codes around ${fmtZ(pin.z)}`))
    + (outside ? ` ${outside} of the ${marks.length} crosses lie outside this view.` : "");
  // what is drawn, for tests: the pin, the half-width of the window and how many marks lie in it
  canvas.dataset.pin = JSON.stringify(pin);
  canvas.dataset.half = String(half);
  canvas.dataset.marks = String(shown.length);
}
