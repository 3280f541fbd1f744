// The room page's styles for the class buttons: a seeded, engine-independent stream of standard
// normal pairs, the twin of vae_core.room.room_styles (the tests compare the two in Chromium).
// mulberry32 gives 32-bit integers (integer arithmetic only, the same everywhere); Box-Muller
// turns each pair into two N(0, 1) numbers in float64, stored as float32. A style at temperature
// T is T times a pair.

const TWO_POW_32 = 4294967296;

// n pairs [z1, z2] from `seed` (a whole number from 0 to 2^32 - 1): a Float32Array of 2n numbers.
export function roomStyles(seed, n) {
  if (!Number.isInteger(seed) || seed < 0 || seed >= TWO_POW_32) throw new Error("the seed must be a whole number from 0 to 2^32 - 1");
  if (!Number.isInteger(n) || n < 0 || n > 100000) throw new Error("the number of styles must be a whole number from 0 to 100,000");
  let state = seed | 0;
  function next() {  // mulberry32: an unsigned 32-bit integer
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t = (t + Math.imul(t ^ (t >>> 7), t | 61)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  }
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const u1 = (next() + 0.5) / TWO_POW_32, u2 = (next() + 0.5) / TWO_POW_32;  // in (0, 1): log(u1) is finite
    const r = Math.sqrt(-2 * Math.log(u1)), angle = 2 * Math.PI * u2;
    out[2 * i] = r * Math.cos(angle);
    out[2 * i + 1] = r * Math.sin(angle);
  }
  return out;
}
