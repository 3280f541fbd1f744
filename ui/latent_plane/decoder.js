// The decoder export (vae_core/decoder_export.py) in the browser: read it, check it, run it.
// It mirrors run_decoder_export: float64 arithmetic on float32 weights, and for images
// pixel = round(255 * sigmoid(logit)), as vae_core.decode.

const DECODER_FORMAT = "vae-explorer-decoder";
const DECODER_VERSION = "1";

// A safetensors file: 8 bytes of header length (little-endian), a JSON header, then the data.
function readSafetensors(buffer) {
  const bytes = new Uint8Array(buffer);
  if (bytes.length < 8) throw new Error("the file is too short to be a safetensors file");
  const view = new DataView(buffer);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8) throw new Error("the file's header does not fit in it");
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const start = 8 + headerLength;
  const tensors = {};
  const kinds = { F32: Float32Array, U8: Uint8Array, I64: BigInt64Array };
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const Kind = kinds[info.dtype];
    if (!Kind) throw new Error(`tensor ${name} has the unsupported type ${info.dtype}`);
    const [begin, end] = info.data_offsets;
    if (end > bytes.length - start || (end - begin) % Kind.BYTES_PER_ELEMENT) throw new Error(`tensor ${name} is truncated`);
    // a copy: the data of a tensor need not be aligned to its element size in the file
    const data = new Kind(buffer.slice(start + begin, start + end));
    tensors[name] = { shape: info.shape, data };
  }
  return { metadata: header.__metadata__ || {}, tensors };
}

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

// Compile one layer into a function from a Float64Array to a new one; `shape` is its input's.
function compileLayer(layer, tensors, shape, k) {
  const tensor = (key) => {
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

// Parse an export into {latentDim, output, decode(z) -> Uint8ClampedArray (image) or Float64Array (point)}.
function parseDecoder(buffer) {
  const { metadata, tensors } = readSafetensors(buffer);
  if (metadata.format !== DECODER_FORMAT) throw new Error("this is not a decoder export");
  if (metadata.version !== DECODER_VERSION) throw new Error(`decoder export version ${metadata.version} is not supported`);
  const spec = JSON.parse(metadata.spec);
  let shape = [spec.latent_dim];
  const steps = spec.layers.map((layer, k) => {
    const [next, run] = compileLayer(layer, tensors, shape, k);
    shape = next;
    return run;
  });
  const output = spec.output;
  const size = output.kind === "image" ? output.height * output.width : output.dim;
  if (shape.length !== 1 || shape[0] !== size) throw new Error("the decoder's output does not match its spec");
  const latentDim = spec.latent_dim;
  function decode(z) {
    let x = new Float64Array(latentDim);
    for (let i = 0; i < Math.min(latentDim, z.length); i++) x[i] = z[i];  // further dimensions stay at 0
    for (const run of steps) x = run(x);
    if (output.kind !== "image") return x;
    const pixels = new Uint8ClampedArray(size);
    for (let i = 0; i < size; i++) pixels[i] = Math.round(255 / (1 + Math.exp(-x[i])));
    return pixels;
  }
  return { latentDim, output, decode, parameters: Object.values(tensors).reduce((n, t) => n + t.data.length, 0) };
}
