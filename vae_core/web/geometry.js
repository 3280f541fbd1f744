// The latent plane's arithmetic, with no DOM: ticks, the mapping between data and pixels,
// ranges for zooming and panning, interpolation, number formats.
//
// An axis is {range: [low, high], _offset, _length} in CSS pixels of the plane's stage (the
// shape of Plotly's own full-layout axes, so the same functions read either); `axes` is [x, y].

// The plane's layout: fixed margins, and a square plot area with equal ranges, so its geometry is
// known before any renderer has drawn (the canvas paints first, Plotly may take over at the same place).
export const MARGIN = { l: 42, r: 6, t: 6, b: 38 };

// Plotly's own choice of tick spacing for a linear axis (axes.autoTicks): about one tick per
// 80 px along x and 40 px along y (4 to 9 intervals), rounded up to 1, 2 or 5 times a power of ten.
export function tickStep(span, length, letter) {
  const nt = Math.min(9, Math.max(4, length / (letter === "y" ? 40 : 80))) + 1, rough = span / nt;
  const base = Math.pow(10, Math.floor(Math.log10(rough))), f = rough / base;
  return base * (f <= 2 ? 2 : f <= 5 ? 5 : 10);
}

// The tick values of an axis inside its range.
export function tickValues(axis, letter) {
  const step = tickStep(axis.range[1] - axis.range[0], axis._length, letter), values = [];
  for (let v = Math.ceil(axis.range[0] / step) * step; v <= axis.range[1] + 1e-9; v += step) values.push(Math.round(v / step) * step);
  return values;
}

// The axes of a square plane of `size` px showing x and y ranges (the plot area centred vertically).
export function squareAxes(size, x, y) {
  const side = size - MARGIN.l - MARGIN.r;
  return [{ range: x.slice(), _offset: MARGIN.l, _length: side },
          { range: y.slice(), _offset: MARGIN.t + (size - MARGIN.t - MARGIN.b - side) / 2, _length: side }];
}

export function toZ(axes, px, py) {
  const [xa, ya] = axes;
  return [xa.range[0] + ((px - xa._offset) / xa._length) * (xa.range[1] - xa.range[0]),
          ya.range[1] - ((py - ya._offset) / ya._length) * (ya.range[1] - ya.range[0])];
}

export function toPx(axes, z) {
  const [xa, ya] = axes;
  return [xa._offset + ((z[0] - xa.range[0]) / (xa.range[1] - xa.range[0])) * xa._length,
          ya._offset + ((ya.range[1] - z[1]) / (ya.range[1] - ya.range[0])) * ya._length];
}

export function inside(axes, px, py) {
  const [xa, ya] = axes;
  return !!xa && px >= xa._offset && px <= xa._offset + xa._length && py >= ya._offset && py <= ya._offset + ya._length;
}

// The plot area in pixels: {x, y, w, h}.
export function area(axes) {
  const [xa, ya] = axes;
  return { x: xa._offset, y: ya._offset, w: xa._length, h: ya._length };
}

// Ranges w wide and h high that put the data point `anchor` under the pixel (px, py): a zoom
// about the pointer (new w, h) or a pan (the same w, h), for pinches, wheels and drags alike.
export function rangesAt(axes, anchor, px, py, w, h) {
  const a = area(axes), fx = (px - a.x) / a.w, fy = (py - a.y) / a.h;
  const x0 = anchor[0] - fx * w, y1 = anchor[1] + fy * h;
  return [[x0, x0 + w], [y1 - h, y1]];
}

// The index of the point nearest to a pixel among those whose label is not hidden, if within
// `radius` pixels; else null. `points` is {z: [x0, y0, x1, y1, ...], labels, n}.
export function nearestIndex(points, hidden, axes, px, py, radius) {
  const [xa, ya] = axes;
  const sx = xa._length / (xa.range[1] - xa.range[0]), sy = ya._length / (ya.range[1] - ya.range[0]);
  const zx = toZ(axes, px, py);
  let best = -1, bestD = radius * radius;
  for (let i = 0; i < points.n; i++) {
    if (hidden.has(points.labels[i])) continue;
    const dx = (points.z[2 * i] - zx[0]) * sx, dy = (points.z[2 * i + 1] - zx[1]) * sy, d = dx * dx + dy * dy;
    if (d < bestD) { bestD = d; best = i; }
  }
  return best < 0 ? null : best;
}

// Mirrors vae_core.inference.interpolate_at for 2-D points.
export function interpolateAt(a, b, t, method) {
  if (method !== "slerp") return [(1 - t) * a[0] + t * b[0], (1 - t) * a[1] + t * b[1]];
  const na = Math.hypot(a[0], a[1]), nb = Math.hypot(b[0], b[1]);
  if (na < 1e-8 || nb < 1e-8) return [(1 - t) * a[0] + t * b[0], (1 - t) * a[1] + t * b[1]];
  const ua = [a[0] / na, a[1] / na], ub = [b[0] / nb, b[1] / nb];
  const omega = Math.acos(Math.min(1, Math.max(-1, ua[0] * ub[0] + ua[1] * ub[1])));
  let d;
  if (omega < 1e-6) d = ua;
  else if (Math.PI - omega < 1e-6) {
    // opposite directions: turn through the fixed perpendicular vae_core uses
    const perp = Math.abs(ua[0]) <= Math.abs(ua[1]) ? [1, 0] : [0, 1];
    const dot = perp[0] * ua[0] + perp[1] * ua[1];
    let p = [perp[0] - dot * ua[0], perp[1] - dot * ua[1]];
    const np = Math.hypot(p[0], p[1]);
    p = [p[0] / np, p[1] / np];
    d = [Math.cos(Math.PI * t) * ua[0] + Math.sin(Math.PI * t) * p[0], Math.cos(Math.PI * t) * ua[1] + Math.sin(Math.PI * t) * p[1]];
  } else {
    const s = Math.sin(omega), wa = Math.sin((1 - t) * omega) / s, wb = Math.sin(t * omega) / s;
    d = [wa * ua[0] + wb * ub[0], wa * ua[1] + wb * ub[1]];
  }
  const r = (1 - t) * na + t * nb;
  return [r * d[0], r * d[1]];
}

// `count` points along the path from a to b (t = 0 to 1).
export function pathPoints(a, b, count, method) {
  return Array.from({ length: count }, (_, k) => interpolateAt(a, b, count === 1 ? 0 : k / (count - 1), method));
}

// A coordinate as the plane writes it: two decimals and a true minus sign.
function fmt(v) { return (v < 0 ? "\u2212" : "") + Math.abs(v).toFixed(2); }
export function fmtZ(z) { return `(${fmt(z[0])}, ${fmt(z[1])})`; }
