// What a latent plane is sent (its payload), checked before anything is drawn: a missing or
// mistyped field is named in one sentence instead of a blank plane or a TypeError deep inside.

// Every mode's fields and their types, and the records some fields hold. The Python side sends
// exactly these (ui/latent_plane/payloads.py, one dataclass per mode; tests/app/test_payloads.py
// reads this literal as JSON and compares: keep it JSON, with "mode" implied).
export const FIELDS = {
  "records": {
    "model": {"id": "string", "decoder": "string|null", "fallback": "string|null", "points": "string|null",
              "classes": "string[]", "colors": "string[]", "extent": "number"},
    "toy": {"key": "string", "titles": "string[]", "data": "points", "names": "string[]", "data_extent": "number"},
    "manifest": {"format": "string", "version": "integer", "id": "string", "title": "string", "dataset": "string",
                 "classes": "string[]", "colors": "string[]", "extent": "number", "decoder": "string",
                 "points": "string", "conditional": "string|null", "temperature": "number", "sizes": "counts"}
  },
  "modes": {
    "explore": {"model": "model", "height": "integer", "title": "string|null", "hint": "string|null",
                "pin": "pick|null", "group": "string|null", "separate_preview": "boolean", "manifold_label": "string"},
    "interpolate": {"model": "model", "height": "integer", "title": "string|null", "hint": "string|null",
                    "endpoints": "ends", "next": "end", "method": "method", "steps": "integer"},
    "compare": {"model": "model", "height": "integer", "title": "string|null", "hint": "string|null",
                "group": "string|null", "marks": "marks"},
    "toy": {"model": "model", "height": "integer", "hint": "string|null", "points": "points|null", "toy": "toy"},
    "preview": {"model": "model", "pin": "pick|null", "group": "string|null"},
    "closeup": {"model": "model", "pin": "pick", "marks": "marks", "caption": "string|null"},
    "room": {"model": "model", "height": "integer", "title": "string|null", "hint": "string|null", "tool": "tool",
             "method": "method", "steps": "integer"},
    "inside": {"model": "model", "height": "integer", "title": "string|null", "hint": "string|null",
               "mu": "pair", "sigma": "pair", "z": "pair", "cloud": "marks"},
    "beta": {"model": "model", "height": "integer", "title": "string|null", "hint": "string|null",
             "models": "family", "start": "integer"},
    "scores": {"model": "model", "height": "integer", "title": "string|null", "hint": "string|null",
               "scores": "string", "label": "string", "low": "number", "high": "number",
               "threshold": "number|null", "pin": "pick|null"}
  }
};

const isNumber = (v) => typeof v === "number" && Number.isFinite(v);
const isZ = (v) => Array.isArray(v) && v.length === 2 && v.every(isNumber);
// a test point or a spot; with its encoder's sigma when the page knows it (a drawing's)
const isPick = (v) => isObject(v) && (v.index === null || Number.isInteger(v.index)) && isZ(v.z)
  && (v.sigma === undefined || (isZ(v.sigma) && v.sigma.every((s) => s > 0)));
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

// Each type: [what it must be, in words; its test].
const TYPES = {
  "string": ["a string", (v) => typeof v === "string"],
  "number": ["a number", isNumber],
  "integer": ["an integer", Number.isInteger],
  "boolean": ["true or false", (v) => typeof v === "boolean"],
  "string[]": ["a list of strings", (v) => Array.isArray(v) && v.every((s) => typeof s === "string")],
  "pick": ["a pick {index, z}", isPick],
  "ends": ["endpoints {a, b}", (v) => isObject(v) && isPick(v.a) && isPick(v.b)],
  "end": ['"a" or "b"', (v) => v === "a" || v === "b"],
  "counts": ["an object of whole numbers", (v) => isObject(v) && Object.values(v).every(Number.isInteger)],
  "tool": ['"explore" or "walk"', (v) => v === "explore" || v === "walk"],
  "method": ['"linear" or "slerp"', (v) => v === "linear" || v === "slerp"],
  "marks": ["a list of [z1, z2] points", (v) => Array.isArray(v) && v.every(isZ)],
  "pair": ["a [z1, z2] point", isZ],
  "family": ["a non-empty list of {beta, recon, kl, model}", (v) => Array.isArray(v) && v.length > 0
             && v.every((m) => isObject(m) && isNumber(m.beta) && isNumber(m.recon) && isNumber(m.kl)
                        && isObject(m.model) && checkFields(m.model, FIELDS.records.model, "") === null)],
  "points": ["points {z, labels}", (v) => isObject(v) && Array.isArray(v.z) && Array.isArray(v.labels)
             && v.z.length === 2 * v.labels.length && v.z.every(isNumber) && v.labels.every(Number.isInteger)],
};

function kind(v) { return v === null ? "null" : Array.isArray(v) ? "array" : typeof v; }

// The first problem with `value` against the `fields` of a record (its `path` prefix), or null.
function checkFields(value, fields, path) {
  for (const [name, type] of Object.entries(fields)) {
    const where = path + name;
    if (!(name in value)) return `field "${where}" is missing`;
    const v = value[name], [base, nullable] = type.endsWith("|null") ? [type.slice(0, -5), true] : [type, false];
    if (v === null && nullable) continue;
    const record = FIELDS.records[base];
    if (record) {
      if (!isObject(v)) return `field "${where}" must be an object, got ${kind(v)}`;
      const inner = checkFields(v, record, where + ".");
      if (inner) return inner;
      continue;
    }
    const [words, test] = TYPES[base];
    if (!test(v)) return `field "${where}" must be ${words}${nullable ? " or null" : ""}, got ${kind(v)}`;
  }
  return null;
}

// null when `payload` is fit for its mode; else one sentence naming the mode and the field, e.g.
// 'latent plane (explore): field "model.points" must be a string or null, got number'.
export function checkPayload(payload) {
  if (!isObject(payload)) return `latent plane: the payload must be an object, got ${kind(payload)}`;
  const fields = FIELDS.modes[payload.mode];
  if (!fields) return `latent plane: unknown mode ${JSON.stringify(String(payload.mode))}`;
  const problem = checkFields(payload, fields, "");
  return problem && `latent plane (${payload.mode}): ${problem}`;
}

// null when `value` is a fit record of kind `name` (e.g. "manifest": a room's room.json, written by
// vae_core.room.RoomManifest); else one sentence naming the field.
export function checkRecord(name, value) {
  if (!isObject(value)) return `${name}: must be an object, got ${kind(value)}`;
  const problem = checkFields(value, FIELDS.records[name], "");
  return problem && `${name}: ${problem}`;
}
