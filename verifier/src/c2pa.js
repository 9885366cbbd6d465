// C2PA in the page, as studio/provenance/c2pa.py reads it (docs/provenance-spec.md, 5.6): the
// claim's signature, the hard binding over the file's bytes and every assertion's hash are checked
// by c2pa-rs compiled to WebAssembly (@contentauth/c2pa-wasm 0.13.3 carries c2pa-rs 0.91.3, the
// same engine c2pa-python 0.38 gives `studio verify`), with the same settings: offline, and with no
// trust anchors. The page trusts no install's chain, so an intact store reads as `valid` (as
// `studio verify` says on any machine but the signer's), never `trusted`.
//
// The engine (9 MB of WebAssembly) ships beside the page's script as dist/c2pa-engine.js, deflated
// and in base64, and is loaded only when a file carries C2PA data.
import initEngine, { WASM_SRI, WasmReader } from "@contentauth/c2pa-wasm";
import { sha512 } from "@noble/hashes/sha2.js";
import { inflateSync } from "fflate";
import { JsonError, parseJson } from "./json.js";

export const ENGINE_GLOBAL = "provenanceStudioC2paEngine";
export const STUDIO_ASSERTION = /^org\.provenance-studio\.manifest(__[0-9]+)?$/;
// Failure codes that say "not trusted" or "expired", not "changed": they never make a store invalid.
const NOT_TAMPER_CODES = new Set(["signingCredential.untrusted", "signingCredential.expired"]);
const MAX_STORE_JSON = 64 * 1024 * 1024;
// The reader's settings: never fetch (remote manifests, OCSP), and no trust list (this page has none).
const SETTINGS = JSON.stringify({ verify: { remote_manifest_fetch: false, ocsp_fetch: false, verify_trust: false } });

// The engine's bytes from the text of dist/c2pa-engine.js's base64 (deflated WebAssembly), checked
// against the digest the engine's JavaScript half was built with.
export function decodeEngine(base64) {
  const raw = atob(base64);
  const deflated = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) deflated[i] = raw.charCodeAt(i);
  const wasm = inflateSync(deflated);
  const digest = sha512(wasm);
  let text = "";
  for (let i = 0; i < digest.length; i++) text += String.fromCharCode(digest[i]);
  if ("sha512-" + btoa(text) !== WASM_SRI) {
    throw new Error("the C2PA engine (dist/c2pa-engine.js) is not the one this page was built with; rebuild the page");
  }
  return wasm;
}

let loadEngineBytes = null;  // () => Promise<Uint8Array>: set by the page (a script beside it) or by node
let engine = null;           // the promise of the initialised engine

// Where the engine's bytes come from; the first file with C2PA data loads them.
export function useEngine(load) {
  loadEngineBytes = load;
  engine = null;
}

function ready() {
  if (!loadEngineBytes) return Promise.reject(new Error("no C2PA engine was given to the page"));
  if (!engine) {
    engine = (async () => initEngine({ module_or_path: await loadEngineBytes() }))();
    engine.catch(() => { engine = null; });  // a failed load may be retried with the next file
  }
  return engine;
}

export function contains(bytes, ascii) {
  const first = ascii.charCodeAt(0);
  for (let at = bytes.indexOf(first); at >= 0 && at + ascii.length <= bytes.length; at = bytes.indexOf(first, at + 1)) {
    let k = 1;
    while (k < ascii.length && bytes[at + k] === ascii.charCodeAt(k)) k++;
    if (k === ascii.length) return true;
  }
  return false;
}

// Whether the bytes carry a C2PA JUMBF store (a `jumd` box labelled `c2pa`) or a PNG `caBX`.
const holdsC2paData = (bytes) => contains(bytes, "caBX") || (contains(bytes, "jumd") && contains(bytes, "c2pa"));

const engineMessage = (error) => String(error && error.message !== undefined ? error.message : error).trim().replace(/\.$/, "");

function storeJson(text) {
  if (text.length > MAX_STORE_JSON) throw new JsonError(`The C2PA manifest store is ${text.length.toLocaleString("en")} characters, over the limit; it was not read.`);
  return parseJson(text, "The C2PA manifest store");
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Number);

// The report studio/provenance/c2pa.py's read_c2pa gives: {present, state, errors, signedBy,
// studioAssertions}, `state` one of absent, invalid, valid; `unavailable` when the engine could not
// be loaded here (then nothing in the store is read, as `studio verify` does without its library).
export async function readC2pa(bytes, mime = "image/png") {
  try {
    await ready();
  } catch (error) {
    return { present: false, state: "unavailable", errors: [engineMessage(error)], signedBy: null, studioAssertions: [] };
  }
  let store, crjson, activeLabel;
  try {
    const reader = await WasmReader.fromBytes(mime, bytes, SETTINGS);
    try {
      store = storeJson(reader.json());
      crjson = storeJson(reader.crJson());
    } finally {
      reader.free();
    }
    activeLabel = store.active_manifest;
  } catch (error) {
    if (error instanceof JsonError) return { present: true, state: "invalid", errors: [error.message], signedBy: null, studioAssertions: [] };
    const message = engineMessage(error);
    if (/^C2pa\((JumbfNotFound|ProvenanceMissing)\b/.test(message)) {
      return { present: false, state: "absent", errors: [], signedBy: null, studioAssertions: [] };
    }
    const present = holdsC2paData(bytes);
    return { present, state: present ? "invalid" : "absent", errors: [`The file could not be read as ${mime}: ${message}`],
      signedBy: null, studioAssertions: [] };
  }
  return { ...reportFromStore(store), studioAssertions: studioAssertions(crjson, activeLabel) };
}

// Every instance of the studio assertion in the active manifest, as stored (crJSON keeps assertion
// values as written; a repeated assertion is labelled `<label>__<n>`).
function studioAssertions(crjson, activeLabel) {
  const manifests = isObject(crjson) && Array.isArray(crjson.manifests) ? crjson.manifests : [];
  for (const manifest of manifests) {
    if (!isObject(manifest) || manifest.label !== activeLabel) continue;
    const assertions = manifest.assertions;
    if (!isObject(assertions)) return [];
    return Object.keys(assertions).filter((label) => STUDIO_ASSERTION.test(label)).map((label) => assertions[label]);
  }
  return [];
}

function reportFromStore(store) {
  const manifests = isObject(store) && isObject(store.manifests) ? store.manifests : {};
  const active = isObject(store) && typeof store.active_manifest === "string" && Object.hasOwn(manifests, store.active_manifest)
    ? manifests[store.active_manifest] : null;
  if (!isObject(active)) {
    return { present: true, state: "invalid", errors: ["The manifest store has no active manifest."], signedBy: null };
  }
  const failures = failuresOf(store);
  const changed = failures.filter(([code]) => !NOT_TAMPER_CODES.has(code));
  const validationState = String(store.validation_state || "").toLowerCase();
  let state, missing = [];
  if (changed.length) state = "invalid";
  else if (["valid", "trusted", "invalid"].includes(validationState)) state = "valid";  // never trusted: no anchors here
  else {
    state = "invalid";
    missing = [["validation.missing", "the C2PA reader gave no validation state"]];
  }
  const errors = [...failures, ...missing].filter(([code]) => code !== "signingCredential.untrusted")
    .map(([code, explanation]) => (explanation ? `${code}: ${explanation}` : code));
  const signature = isObject(active.signature_info) ? active.signature_info : {};
  const name = signature.common_name || signature.issuer;
  return { present: true, state, errors, signedBy: name ? String(name) : null };
}

// Every failure of the active manifest and its ingredients, as [code, explanation], each once.
function failuresOf(store) {
  const results = store.validation_results;
  let entries = [];
  const list = (value) => (Array.isArray(value) ? value : []);
  if (isObject(results)) {
    entries = entries.concat(list(isObject(results.activeManifest) ? results.activeManifest.failure : null));
    for (const delta of list(results.ingredientDeltas)) {
      const deltas = isObject(delta) && isObject(delta.validationDeltas) ? delta.validationDeltas : {};
      entries = entries.concat(list(deltas.failure));
    }
  } else {
    entries = entries.concat(list(store.validation_status));
  }
  const seen = new Set(), out = [];
  for (const entry of entries) {
    if (!isObject(entry)) continue;
    const pair = [String(entry.code ?? ""), String(entry.explanation ?? "")];
    const key = JSON.stringify(pair);
    if (!seen.has(key)) { seen.add(key); out.push(pair); }
  }
  return out;
}
