// Painting on canvases: digits, the glyphs of the overlay (rings, badges, crosses, diamonds),
// the plane's canvas rendering (grid, ticks, axis titles, points) and the strip of decodes.

import { COLORS } from "./colors.js";
import { area, tickValues, toPx } from "./geometry.js";

export const { pick: PICK, a: A_COLOR, b: B_COLOR, ink: INK } = COLORS;  // (defined in colors.js)
const TICK_FONT = '12px "Open Sans", verdana, arial, sans-serif', TITLE_FONT = '14px "Open Sans", verdana, arial, sans-serif';

// A digit (white ink on black, as the app's other images) into a canvas of its size.
export function paintDigit(canvas, pixels, size) {
  const ctx = canvas.getContext("2d");
  ctx.putImageData(grey(ctx.createImageData(size.width, size.height), pixels), 0, 0);
}

// `image` (ImageData) filled with grey `pixels` (0-255), opaque.
function grey(image, pixels) {
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i];
    image.data[4 * i] = v; image.data[4 * i + 1] = v; image.data[4 * i + 2] = v; image.data[4 * i + 3] = 255;
  }
  return image;
}

export function ring(c, p, r, color, width) {
  c.beginPath(); c.arc(p[0], p[1], r, 0, 2 * Math.PI);
  c.lineWidth = width + 3; c.strokeStyle = "rgba(255,255,255,0.9)"; c.stroke();
  c.lineWidth = width; c.strokeStyle = color; c.stroke();
}

export function badge(c, p, text, color) {
  c.beginPath(); c.arc(p[0], p[1], 11, 0, 2 * Math.PI);
  c.fillStyle = color; c.fill(); c.lineWidth = 2.5; c.strokeStyle = "#ffffff"; c.stroke();
  c.fillStyle = "#ffffff"; c.font = "bold 13px sans-serif"; c.textAlign = "center"; c.textBaseline = "middle";
  c.fillText(text, p[0], p[1] + 0.5);
}

export function cross(c, p, r, color) {
  c.lineCap = "round";
  for (const [w, s] of [[5, "rgba(255,255,255,0.95)"], [2.5, color]]) {
    c.lineWidth = w; c.strokeStyle = s; c.beginPath();
    c.moveTo(p[0] - r, p[1] - r); c.lineTo(p[0] + r, p[1] + r); c.moveTo(p[0] + r, p[1] - r); c.lineTo(p[0] - r, p[1] + r);
    c.stroke();
  }
}

export function diamond(c, p, r, color) {
  c.beginPath(); c.moveTo(p[0], p[1] - r); c.lineTo(p[0] + r, p[1]); c.lineTo(p[0], p[1] + r); c.lineTo(p[0] - r, p[1]);
  c.closePath(); c.fillStyle = color; c.fill(); c.lineWidth = 2; c.strokeStyle = "#ffffff"; c.stroke();
}

// A path through pixel points, drawn white under black so it reads over any point.
export function path(c, points) {
  c.lineJoin = "round";
  for (const [w, s] of [[5, "rgba(255,255,255,0.9)"], [2.5, INK]]) {
    c.beginPath(); points.forEach((p, k) => (k ? c.lineTo(p[0], p[1]) : c.moveTo(p[0], p[1])));
    c.lineWidth = w; c.strokeStyle = s; c.stroke();
  }
}

// The plane as a canvas draws it, at the geometry of `axes` (as Plotly would: its grid, zero
// lines, ticks, axis titles, and the points class by class, or one by one as opts.shade says).
// `opts` holds size, axes (the titles), colors, markerSize and shade; `byClass` the points'
// indices by class; `hidden` the classes left out.
export function paintScatter(c, axes, opts, points, byClass, hidden) {
  const a = area(axes), at = (z) => toPx(axes, z);
  c.clearRect(0, 0, opts.size, opts.size);
  const ticks = axes.map((ax, k) => tickValues(ax, k ? "y" : "x"));
  c.lineWidth = 1;
  for (const v of ticks[0]) {
    const x = Math.round(at([v, 0])[0]) + 0.5;
    c.strokeStyle = v === 0 ? "#d0d0d0" : "rgba(0,0,0,0.07)";
    c.beginPath(); c.moveTo(x, a.y); c.lineTo(x, a.y + a.h); c.stroke();
  }
  for (const v of ticks[1]) {
    const y = Math.round(at([0, v])[1]) + 0.5;
    c.strokeStyle = v === 0 ? "#d0d0d0" : "rgba(0,0,0,0.07)";
    c.beginPath(); c.moveTo(a.x, y); c.lineTo(a.x + a.w, y); c.stroke();
  }
  c.fillStyle = "#444"; c.font = TICK_FONT;
  const label = (v) => String(Number(v.toFixed(6))).replace("-", "\u2212");
  c.textAlign = "center"; c.textBaseline = "top";
  for (const v of ticks[0]) c.fillText(label(v), at([v, 0])[0], a.y + a.h + 3);
  c.textAlign = "right"; c.textBaseline = "middle";
  for (const v of ticks[1]) c.fillText(label(v), a.x - 3, at([0, v])[1]);
  c.font = TITLE_FONT; c.textAlign = "center"; c.textBaseline = "alphabetic";
  c.fillText(opts.axes[0], a.x + a.w / 2, opts.size - 10);
  c.save(); c.translate(20, a.y + a.h / 2); c.rotate(-Math.PI / 2); c.fillText(opts.axes[1], 0, 0); c.restore();
  const r = opts.markerSize / 2;
  c.save(); c.beginPath(); c.rect(a.x, a.y, a.w, a.h); c.clip();
  if (opts.shade) { paintShaded(c, at, points, opts.shade); c.restore(); return; }
  c.globalAlpha = 0.75;
  byClass.forEach((idx, g) => {  // in class order, as Plotly stacks its traces
    if (hidden.has(g)) return;
    c.fillStyle = opts.colors[g % opts.colors.length];
    for (const i of idx) {  // one by one: overlapping points darken, as in Plotly
      const [x, y] = at([points.z[2 * i], points.z[2 * i + 1]]);
      c.beginPath(); c.arc(x, y, r, 0, 2 * Math.PI); c.fill();
    }
  });
  c.restore();
}

// Points styled one by one (a scores plane, ./modes/scores.js): `shade` holds `order`, the indices
// in drawing order (the last on top), and per point its `color`, `alpha`, `radius` and `outline`
// (a colour, or null for none).
function paintShaded(c, at, points, shade) {
  const { order, color, alpha, radius, outline } = shade;
  c.lineWidth = 1;
  for (const i of order) {
    const [x, y] = at([points.z[2 * i], points.z[2 * i + 1]]);
    c.globalAlpha = alpha[i];
    c.beginPath(); c.arc(x, y, radius[i], 0, 2 * Math.PI);
    c.fillStyle = color[i]; c.fill();
    if (outline[i]) { c.strokeStyle = outline[i]; c.stroke(); }
  }
  c.globalAlpha = 1;
}

// Decoded 28x28 images side by side, 2 px apart on dark grey.
export function paintStrip(canvas, images) {
  const n = images.length, pad = 2, size = 28;
  canvas.width = n * size + (n - 1) * pad;
  canvas.height = size;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "rgb(40,40,40)";
  ctx.fillRect(0, 0, canvas.width, size);
  const image = ctx.createImageData(size, size);
  images.forEach((px, k) => ctx.putImageData(grey(image, px), k * (size + pad), 0));
}
