// A safetensors file in the browser (the format of every file the plane fetches): 8 bytes of
// header length (little-endian), a JSON header, then the data. F16 tensors arrive as
// Float32Array (browsers need not have Float16Array), I8 as Int8Array.

// An IEEE half-precision number (its 16 bits) as a float: exact, as every half is a float32.
function halfToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1, exponent = (h >> 10) & 0x1f, fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;  // subnormal
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

function float16Array(bytes) {
  const view = new DataView(bytes), out = new Float32Array(bytes.byteLength / 2);
  for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  return out;
}

const KINDS = {
  F32: { size: 4, read: (b) => new Float32Array(b) },
  F16: { size: 2, read: float16Array },
  I8: { size: 1, read: (b) => new Int8Array(b) },
  U8: { size: 1, read: (b) => new Uint8Array(b) },
  I64: { size: 8, read: (b) => new BigInt64Array(b) },
};

export function readSafetensors(buffer) {
  const bytes = new Uint8Array(buffer);
  if (bytes.length < 8) throw new Error("the file is too short to be a safetensors file");
  const view = new DataView(buffer);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8) throw new Error("the file's header does not fit in it");
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const start = 8 + headerLength;
  const tensors = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const kind = KINDS[info.dtype];
    if (!kind) throw new Error(`tensor ${name} has the unsupported type ${info.dtype}`);
    const [begin, end] = info.data_offsets;
    if (end > bytes.length - start || (end - begin) % kind.size) throw new Error(`tensor ${name} is truncated`);
    if (info.shape.reduce((a, b) => a * b, 1) * kind.size !== end - begin) {
      throw new Error(`tensor ${name}'s shape does not match its data`);
    }
    // a copy: the data of a tensor need not be aligned to its element size in the file
    const data = kind.read(buffer.slice(start + begin, start + end));
    tensors[name] = { shape: info.shape, dtype: info.dtype, data };
  }
  return { metadata: header.__metadata__ || {}, tensors };
}
