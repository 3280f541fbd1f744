// A colour scale as Plotly reads one: [[stop, "#rrggbb"], ...] with stops from 0 to 1, colours
// interpolated linearly in RGB between stops and rounded, values outside [low, high] clamped to
// its ends (what a Plotly marker's colorscale with cmin and cmax shows, and what the app's
// histogram of the same scores shows).

const rgb = (hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
const hex2 = (v) => Math.round(v).toString(16).padStart(2, "0");

// The colour of `value` on `scale` spanning low..high, as "#rrggbb".
export function scaleColor(scale, value, low, high) {
  const t = Math.min(1, Math.max(0, (value - low) / (high - low || 1)));
  let k = 1;
  while (k < scale.length - 1 && scale[k][0] < t) k++;
  const [s0, c0] = scale[k - 1], [s1, c1] = scale[k];
  const f = s1 > s0 ? Math.min(1, Math.max(0, (t - s0) / (s1 - s0))) : 0;
  const a = rgb(c0), b = rgb(c1);
  return "#" + a.map((v, i) => hex2(v + (b[i] - v) * f)).join("");
}

// The scale as a CSS gradient from left (low) to right (high), for a colour bar.
export function scaleGradient(scale) {
  const stops = scale.map(([stop, color]) => `${color} ${(100 * stop).toFixed(2)}%`);
  return `linear-gradient(to right, ${stops.join(", ")})`;
}
