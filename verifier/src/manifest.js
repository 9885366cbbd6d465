// A studio manifest, read and checked as docs/provenance-spec.md ("The manifest") says: the same
// fields, kinds and limits as studio/provenance/manifest.py, so that what the studio calls
// damaged is damaged here too.
import { jcs, pythonSortedJson } from "./jcs.js";
import { plain } from "./json.js";

export const SCHEMA_V1 = "studio.provenance/1";
export const SCHEMA_V2 = "studio.provenance/2";
export const SCHEMAS = [SCHEMA_V1, SCHEMA_V2];
const PIPELINES = ["txt2img", "img2img", "inpaint", "avatar", "upscale"];
const MAX_SETTINGS_BYTES = 64 * 1024;  // the settings member's canonical (JCS) bytes
const MAX_SETTINGS_DEPTH = 8;
const FIELDS = ["schema", "generator", "model", "loras", "adapters", "pipeline", "prompt", "negative_prompt", "seed",
  "steps", "guidance", "scheduler", "width", "height", "strength", "parents", "device", "dtype", "created",
  "pixel_hash", "creator"];
const MAX_TEXT = 16384;
const MAX_SAFE = 2 ** 53 - 1;
const SHA256 = /^[0-9a-f]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
const CREATED = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$/;

export class Damaged extends Error {}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Number);
const sameKeys = (v, keys) => isObject(v) && Object.keys(v).length === keys.length && keys.every((k) => Object.hasOwn(v, k));
const codePoints = (text) => Array.from(text).length;

function text(name, value) {
  if (typeof value !== "string") throw new Damaged(`The manifest's ${name} must be text.`);
  if (codePoints(value) > MAX_TEXT) throw new Damaged(`The manifest's ${name} is over ${MAX_TEXT} characters.`);
}

function number(name, value) {
  const n = value instanceof Number ? value.valueOf() : value;
  if (typeof n !== "number" || !Number.isFinite(n)) throw new Damaged(`The manifest's ${name} must be a finite number.`);
}

function whole(name, value, schema) {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new Damaged(`The manifest's ${name} must be a whole number of at least 0.`);
  }
  if (schema !== SCHEMA_V1 && value > MAX_SAFE) throw new Damaged(`The manifest's ${name} is over 2^53 - 1.`);
}

// The optional settings member (studio.provenance/2 only): generation settings beyond the fixed
// members, any JSON object of finite numbers, text, booleans, null, lists and objects, at most 8
// levels deep and 64 KiB as JCS.
function settings(value, schema) {
  if (schema === SCHEMA_V1) throw new Damaged("The manifest's settings member belongs to studio.provenance/2.");
  if (!isObject(value)) throw new Damaged("The manifest's settings must be a JSON object.");
  if (Object.keys(value).length === 0) throw new Damaged("The manifest's settings member is present but empty; it is left out when there are none.");
  const check = (item, depth) => {
    if (depth > MAX_SETTINGS_DEPTH) throw new Damaged("The manifest's settings are nested too deeply.");
    if (item instanceof Number || typeof item === "number") {
      const n = item instanceof Number ? item.valueOf() : item;
      if (!Number.isFinite(n)) throw new Damaged("The manifest's settings hold a number that is not finite.");
      // A whole-number literal (a plain number here) must stay within 2^53 - 1, as in the fixed members.
      if (typeof item === "number" && Math.abs(n) > MAX_SAFE) throw new Damaged("The manifest's settings hold a number over 2^53 - 1.");
    } else if (Array.isArray(item)) {
      for (const inner of item) check(inner, depth + 1);
    } else if (isObject(item)) {
      for (const key of Object.keys(item)) check(item[key], depth + 1);
    } else if (item !== null && typeof item !== "string" && typeof item !== "boolean") {
      throw new Damaged("The manifest's settings hold something that is not JSON.");
    }
  };
  check(value, 0);
  if (new TextEncoder().encode(jcs(plain(value))).length > MAX_SETTINGS_BYTES) {
    throw new Damaged(`The manifest's settings are larger than ${MAX_SETTINGS_BYTES / 1024} KiB.`);
  }
}

function created(value) {
  const m = CREATED.exec(value);
  const [year, month, day, hour, minute, second] = m ? m.slice(1).map(Number) : [];
  const days = m ? new Date(Date.UTC(year, month, 0)).getUTCDate() : 0;
  if (!m || year < 1 || month < 1 || month > 12 || day < 1 || day > days || hour > 23 || minute > 59 || second > 61) {
    throw new Damaged(`The manifest's creation time is not UTC ISO 8601 (YYYY-MM-DDTHH:MM:SSZ).`);
  }
}

// Checks a parsed manifest (boxed floats as json.js gives them); returns the plain manifest with
// its float fields as numbers. Throws Damaged with the reason.
export function checkManifest(data) {
  if (!isObject(data)) throw new Damaged("The provenance manifest is not a JSON object.");
  if (!SCHEMAS.includes(data.schema)) throw new Damaged(`The manifest schema is not one this verifier reads (${SCHEMAS.join(", ")}).`);
  const missing = FIELDS.filter((k) => !Object.hasOwn(data, k));
  const extra = Object.keys(data).filter((k) => !FIELDS.includes(k) && k !== "inpaint" && k !== "settings");
  if (missing.length || extra.length) throw new Damaged(`The provenance manifest does not follow ${data.schema}: ${[...missing.map((k) => "missing " + k), ...extra.map((k) => "unexpected " + k)].join(", ")}.`);
  if (!sameKeys(data.generator, ["name", "version"])) throw new Damaged("The manifest's generator must be an object with name and version.");
  if (!sameKeys(data.model, ["name", "sha256", "family"])) throw new Damaged("The manifest's model must be an object with name, sha256 and family.");
  for (const name of ["loras", "adapters", "parents"]) if (!Array.isArray(data[name])) throw new Damaged(`The manifest's ${name} must be a list.`);
  const schema = data.schema;
  text("generator name", data.generator.name); text("generator version", data.generator.version);
  text("model name", data.model.name); text("model family", data.model.family);
  for (const name of ["pipeline", "prompt", "negative_prompt", "scheduler", "created", "device", "dtype"]) text(name, data[name]);
  if (!PIPELINES.includes(data.pipeline)) throw new Damaged("The manifest names an unknown pipeline.");
  if (Object.hasOwn(data, "inpaint")) {  // optional, inpainting only: how the mask was used
    const options = data.inpaint;
    if (data.pipeline !== "inpaint") throw new Damaged("The manifest records inpaint options for a work that was not inpainted.");
    if (!sameKeys(options, ["mask_blur", "area", "padding"])) throw new Damaged("The manifest's inpaint options must be an object with mask_blur, area and padding.");
    for (const name of ["mask_blur", "padding"]) {
      const value = options[name];
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 4096) throw new Damaged(`The manifest's inpaint ${name} must be a whole number of pixels.`);
    }
    if (!["whole", "masked"].includes(options.area)) throw new Damaged("The manifest's inpaint area is not one of whole, masked.");
  }
  if (Object.hasOwn(data, "settings")) settings(data.settings, schema);
  for (const [name, value] of [["model_sha256", data.model.sha256], ["pixel_hash", data.pixel_hash]]) {
    if (typeof value !== "string" || !SHA256.test(value)) throw new Damaged(`The manifest's ${name} is not a SHA-256 in lowercase hex.`);
  }
  for (const name of ["seed", "steps", "width", "height"]) whole(name, data[name], schema);
  number("guidance", data.guidance);
  if (data.strength !== null) number("strength", data.strength);
  if (data.creator !== null && (typeof data.creator !== "string" || !ADDRESS.test(data.creator))) {
    throw new Damaged("The manifest's creator is not an Ethereum address (0x and 40 hex digits).");
  }
  created(data.created);
  for (const [list, what] of [[data.loras, "LoRA"], [data.adapters, "adapter"]]) {
    for (const item of list) {
      if (!sameKeys(item, ["name", "sha256", "weight"])) throw new Damaged(`A ${what} in the manifest must be an object with name, sha256 and weight.`);
      text(`${what} name`, item.name);
      if (typeof item.sha256 !== "string" || !SHA256.test(item.sha256)) throw new Damaged(`A ${what} in the manifest has no valid SHA-256.`);
      number(`${what} weight`, item.weight);
    }
  }
  for (const item of data.parents) {
    if (!sameKeys(item, ["role", "sha256"])) throw new Damaged("A parent image in the manifest must be an object with role and sha256.");
    text("parent role", item.role);
    if (!item.role || typeof item.sha256 !== "string" || !SHA256.test(item.sha256)) throw new Damaged("A parent image in the manifest needs a role and a valid SHA-256.");
  }
  return plain(data);
}

export function checkSignedManifest(data) {
  if (!sameKeys(data, ["manifest", "signature"])) throw new Damaged("The signed manifest must be an object with manifest and signature.");
  const manifest = checkManifest(data.manifest);
  const signature = data.signature;
  if (signature !== null && (typeof signature !== "string" || !SIGNATURE.test(signature))) {
    throw new Damaged("The manifest's signature is not 65 bytes of hex (0x and 130 digits).");
  }
  if (signature !== null && manifest.creator === null) throw new Damaged("The manifest is signed but names no creator.");
  return { manifest, signature };
}

const FLOAT_PATHS = (path) => (path.length === 1 && (path[0] === "guidance" || path[0] === "strength"))
  || (path.length === 3 && (path[0] === "loras" || path[0] === "adapters") && path[2] === "weight");

// The bytes hashed and signed: JCS for studio.provenance/2, Python's sorted json.dumps for /1.
export function canonicalManifest(manifest) {
  return manifest.schema === SCHEMA_V1 ? pythonSortedJson(manifest, FLOAT_PATHS) : jcs(manifest);
}

// Two signed manifests are the same when their values are (7 and 7.0 are one number).
export function sameSignedManifest(a, b) {
  return jcs(a.manifest) === jcs(b.manifest) && a.signature === b.signature;
}
