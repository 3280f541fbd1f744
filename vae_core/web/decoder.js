// The decoder export (vae_core/decoder_export.py) in the browser: read it, check it, run it.
// It mirrors run_decoder_export: float16 and int8 weights become float32 when the file is
// parsed (an int8 weight q of output channel o as Math.fround(q * scale[o])), then float64
// arithmetic, and for images pixel = round(255 * sigmoid(logit)), as vae_core.decode.

import { readSafetensors } from "./safetensors.js";

const DECODER_FORMAT = "vae-explorer-decoder";
const DECODER_VERSIONS = ["1", "2"];  // 2: float16 or int8 weights, a condition

// erfc with fractional error below 1.2e-7 everywhere (Numerical Recipes' Chebyshev fit), for
// PyTorch's exact GELU: float32 itself carries 6e-8.
function erfc(x) {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

const ACTIVATIONS = {
  relu: () => (x) => (x > 0 ? x : 0),
  gelu: () => (x) => x * (1 - 0.5 * erfc(x * Math.SQRT1_2)),
  gelu_tanh: () => (x) => 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))),
  silu: () => (x) => x / (1 + Math.exp(-x)),
  tanh: () => Math.tanh,
  elu: (layer) => { const a = layer.alpha ?? 1; return (x) => (x > 0 ? x : a * Math.expm1(x)); },
};

// A layer's weight as a Float32Array: float32 and float16 (already float32) as they are, int8
// times its output channel's scale (axis 0 of a linear [out, in], axis 1 of a conv's [in, out, k, k]).
function dequantized(layer, tensors, k) {
  const w = tensors[layer.weight];
  if (!w) throw new Error(`layer ${k} names no weight`);
  if (w.data instanceof Float32Array) {
    if (layer.scale !== undefined) throw new Error(`layer ${k} has a scale, but its weight is not int8`);
    return w;
  }
  if (!(w.data instanceof Int8Array)) throw new Error(`layer ${k}'s weight is neither float nor int8`);
  const s = tensors[layer.scale];
  const channels = layer.kind === "conv_transpose2d" ? w.shape[1] : w.shape[0];
  if (!s || !(s.data instanceof Float32Array) || s.data.length !== channels) throw new Error(`layer ${k} has no scale per output channel`);
  const inner = w.shape.slice(layer.kind === "conv_transpose2d" ? 2 : 1).reduce((a, b) => a * b, 1);
  const q = w.data, scale = s.data, out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = q[i] * scale[Math.floor(i / inner) % channels];  // rounded to float32 on store
  return { shape: w.shape, data: out };
}

// Compile one layer into a function from a Float64Array to a new one; `shape` is its input's.
function compileLayer(layer, tensors, shape, k) {
  const tensor = (key) => {
    if (key === "weight") return dequantized(layer, tensors, k);
    const t = tensors[layer[key]];
    if (!t || !(t.data instanceof Float32Array)) throw new Error(`layer ${k} names no float32 ${key}`);
    return t;
  };
  if (layer.kind === "linear") {
    const w = tensor("weight"), b = tensor("bias").data;
    const [out, inp] = w.shape;
    if (shape.length !== 1 || shape[0] !== inp || b.length !== out) throw new Error(`layer ${k} (linear) does not fit its input`);
    const W = w.data;
    return [[out], (x) => {
      const y = new Float64Array(out);
      for (let o = 0; o < out; o++) {
        let s = b[o];
        const row = o * inp;
        for (let i = 0; i < inp; i++) s += W[row + i] * x[i];
        y[o] = s;
      }
      return y;
    }];
  }
  if (layer.kind === "activation") {
    const make = ACTIVATIONS[layer.name];
    if (!make) throw new Error(`layer ${k}: unknown activation ${layer.name}`);
    const f = make(layer);
    return [shape, (x) => { for (let i = 0; i < x.length; i++) x[i] = f(x[i]); return x; }];
  }
  if (layer.kind === "unflatten") {
    const size = layer.shape.reduce((a, b) => a * b, 1);
    if (shape.length !== 1 || size !== shape[0]) throw new Error(`layer ${k} (unflatten) does not fit its input`);
    return [layer.shape.slice(), (x) => x];
  }
  if (layer.kind === "flatten") return [[shape.reduce((a, b) => a * b, 1)], (x) => x];
  if (layer.kind === "conv_transpose2d") {
    const w = tensor("weight"), b = tensor("bias").data;
    const [cin, cout, kh, kw] = w.shape;
    const s = layer.stride, p = layer.padding;
    if (shape.length !== 3 || shape[0] !== cin || kh !== kw) throw new Error(`layer ${k} (conv_transpose2d) does not fit its input`);
    const [, h, wd] = shape;
    const oh = (h - 1) * s - 2 * p + kh, ow = (wd - 1) * s - 2 * p + kw;
    const W = w.data;
    return [[cout, oh, ow], (x) => {
      const y = new Float64Array(cout * oh * ow);
      for (let co = 0; co < cout; co++) y.fill(b[co], co * oh * ow, (co + 1) * oh * ow);
      for (let ci = 0; ci < cin; ci++) {
        for (let i = 0; i < h; i++) {
          for (let j = 0; j < wd; j++) {
            const v = x[(ci * h + i) * wd + j];
            if (v === 0) continue;
            for (let co = 0; co < cout; co++) {
              const wBase = (ci * cout + co) * kh * kw, yBase = co * oh * ow;
              for (let a = 0; a < kh; a++) {
                const r = i * s - p + a;
                if (r < 0 || r >= oh) continue;
                for (let c = 0; c < kw; c++) {
                  const q = j * s - p + c;
                  if (q >= 0 && q < ow) y[yBase + r * ow + q] += v * W[wBase + a * kw + c];
                }
              }
            }
          }
        }
      }
      return y;
    }];
  }
  throw new Error(`layer ${k} is of unknown kind ${layer.kind}`);
}

// Parse an export into {latentDim, classes, inputSize, weights, output, decode, parameters}.
// decode(z) -> Uint8ClampedArray (image) or Float64Array (point) takes the decoder's input: z,
// and for a conditional decoder (classes > 0) the one-hot class after it, [z, onehot(k)]; or
// decode(z, k), which builds that input. Missing inputs stay at 0.
export function parseDecoder(buffer) {
  const { metadata, tensors } = readSafetensors(buffer);
  if (metadata.format !== DECODER_FORMAT) throw new Error("this is not a decoder export");
  if (!DECODER_VERSIONS.includes(metadata.version)) throw new Error(`decoder export version ${metadata.version} is not supported`);
  const spec = JSON.parse(metadata.spec);
  const latentDim = spec.latent_dim;
  const classes = spec.condition ? spec.condition.classes : 0;
  if (!Number.isInteger(latentDim) || !Number.isInteger(classes) || latentDim < 1 || classes < 0) {
    throw new Error("the decoder's input size is malformed");
  }
  const inputSize = latentDim + classes;
  let shape = [inputSize];
  const steps = spec.layers.map((layer, k) => {
    const [next, run] = compileLayer(layer, tensors, shape, k);
    shape = next;
    return run;
  });
  const output = spec.output;
  const size = output.kind === "image" ? output.height * output.width : output.dim;
  if (shape.length !== 1 || shape[0] !== size) throw new Error("the decoder's output does not match its spec");
  const stored = new Set(spec.layers.filter((l) => l.weight).map((l) => tensors[l.weight].dtype));
  const weights = stored.has("I8") ? "int8" : stored.has("F16") ? "float16" : "float32";
  function decode(z, label) {
    let x = new Float64Array(inputSize);
    const withLabel = label !== undefined && label !== null;
    for (let i = 0; i < Math.min(withLabel ? latentDim : inputSize, z.length); i++) x[i] = z[i];
    if (withLabel) {
      if (!Number.isInteger(label) || label < 0 || label >= classes) {
        throw new Error(`class ${label} is not one of this decoder's ${classes}`);
      }
      x[latentDim + label] = 1;
    }
    for (const run of steps) x = run(x);
    if (output.kind !== "image") return x;
    const pixels = new Uint8ClampedArray(size);
    for (let i = 0; i < size; i++) pixels[i] = Math.round(255 / (1 + Math.exp(-x[i])));
    return pixels;
  }
  const parameters = spec.layers.reduce((n, l) => n + (l.weight ? tensors[l.weight].data.length + tensors[l.bias].data.length : 0), 0);
  return { latentDim, classes, inputSize, weights, version: metadata.version, output, decode, parameters };
}
