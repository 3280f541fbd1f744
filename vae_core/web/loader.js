// The files a latent plane draws from, fetched once per page and shared by every plane on it:
// decoder exports, points files and scores files (safetensors), or points sent inline.

import { parseDecoder } from "./decoder.js";
import { readSafetensors } from "./safetensors.js";
import { interpolateAt, tickStep } from "./geometry.js";

// The page's one registry of latent planes, window.__latentPlane (one per page, whichever copy of
// these modules made it): `files`, `decoders`, `points` (url -> Promise), `views` (the mounted
// View objects), `stats` (milliseconds: hover and tap to a painted digit, one decode, a dragged
// endpoint redrawn; loads: {url, ms, bytes}) and `bus` (planes of one group hovering together).
// It is also the plane's one documented test hook: tests and bench/ read `views`, `stats`, and
// call `interpolateAt(a, b, t, method)`, `tickStep(span, length, letter)` and
// `decodeWith(url, zs)` (the decoder export at `url` run on each z: arrays of pixels).
export const shared = window.__latentPlane || (window.__latentPlane = {
  files: new Map(), decoders: new Map(), points: new Map(), plotly: null, bus: new EventTarget(),
  stats: { hover: [], tap: [], decode: [], loads: [], drags: [] }, views: new Set(),
});
shared.interpolateAt = interpolateAt;
shared.tickStep = tickStep;
shared.decodeWith = async (url, zs) => { const d = await getDecoder(url); return zs.map((z) => Array.from(d.decode(z))); };

// Keep a measurement (the newest 5,000 of each kind).
export function record(list, value) { list.push(value); if (list.length > 5000) list.shift(); }

function fetchFile(url) {
  if (!shared.files.has(url)) {
    const start = performance.now();
    shared.files.set(url, fetch(url).then((r) => {
      if (!r.ok) throw new Error(`the server answered ${r.status}`);
      return r.arrayBuffer();
    }).then((buffer) => {
      record(shared.stats.loads, { url, ms: performance.now() - start, bytes: buffer.byteLength });
      return buffer;
    }).catch((e) => { shared.files.delete(url); throw e; }));
  }
  return shared.files.get(url);
}

export function getDecoder(url) {
  if (!shared.decoders.has(url)) shared.decoders.set(url, fetchFile(url).then(parseDecoder));
  return shared.decoders.get(url);
}

// A points file: z [N, 2] (any float type readSafetensors reads, kept as float32 for the hot
// loops), labels uint8 [N] and, when present, the encoder's sigma [N, 2].
export function getPoints(url) {
  if (!shared.points.has(url)) {
    shared.points.set(url, fetchFile(url).then((buffer) => {
      const { tensors } = readSafetensors(buffer);
      const { z, labels, sigma } = tensors;
      if (!z || !labels) throw new Error("the points file holds no codes");
      const n = labels.data.length;
      if (z.data.length !== 2 * n || (sigma && sigma.data.length !== 2 * n)) throw new Error("the points file's tensors do not match");
      const floats = (t) => (t.data instanceof Float32Array ? t.data : Float32Array.from(t.data));
      return { z: floats(z), labels: labels.data, sigma: sigma ? floats(sigma) : null, n };
    }));
  }
  return shared.points.get(url);
}

// A scores file: one score per test point, scores [N] (a scores plane's, see ./modes/scores.js).
export function getScores(url) {
  return fetchFile(url).then((buffer) => {
    const { scores } = readSafetensors(buffer).tensors;
    if (!scores) throw new Error("the scores file holds no scores");
    return scores.data instanceof Float32Array ? scores.data : Float32Array.from(scores.data);
  });
}

// Points sent in the payload: {z: [x0, y0, x1, y1, ...], labels: [...]}.
export function inlinePoints(p) {
  return { z: Float32Array.from(p.z), labels: Uint8Array.from(p.labels), sigma: null, n: p.labels.length };
}
