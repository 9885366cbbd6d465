// The verdict on one PNG, by the rules of docs/provenance-spec.md ("Verdicts"): the same rules
// studio/provenance/verify.py follows, so that this page and `studio verify --json` agree.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { DOMParser } from "@xmldom/xmldom";
import { BadSignature, recoverSigner, typedDataDigest } from "./eip712.js";
import { parseJson } from "./json.js";
import { canonicalManifest, checkSignedManifest, Damaged, sameSignedManifest, SCHEMA_V1 } from "./manifest.js";
import { canonicalSamples, pixelHashV1, pixelHashV2 } from "./pixels.js";
import { contains, readC2pa } from "./c2pa.js";
import { isPng, MAX_TEXT_CHUNK, pngHeader, readChunks, Unreadable } from "./png.js";

export const MAX_FILE_BYTES = 512 * 1024 * 1024;
export const MAX_PIXELS = 89478485;  // Pillow's limit, which the studio treats as hard
const PROVENANCE_KEY = "studio:provenance";
const XMP_KEY = "XML:com.adobe.xmp";
const STUDIO_NS = "urn:provenance-studio:xmp:1/";
const C2PA_WHERE = "the C2PA assertion org.provenance-studio.manifest";

const asciiUpper = (text) => text.replace(/[a-z]/g, (ch) => ch.toUpperCase());

// Every studio:provenance value of an XMP packet (attributes, then elements, in document order).
export function parseXmp(packet) {
  if (new TextEncoder().encode(packet).length > MAX_TEXT_CHUNK) throw new Error("The XMP packet is too large.");
  const upper = asciiUpper(packet);
  if (upper.includes("<!DOCTYPE") || upper.includes("<!ENTITY")) {
    throw new Error("The XMP packet declares a DTD or entities; they are not expanded.");
  }
  let document;
  try {
    document = new DOMParser({ onError: (level, message) => { if (level !== "warning") throw new Error(message); } })
      .parseFromString(packet, "text/xml");
  } catch (error) {
    throw new Error(`The XMP packet is not well-formed XML (${String(error.message).split("\n")[0]}).`);
  }
  const attributes = [], elements = [], creators = [];
  const walk = (node) => {
    if (node.nodeType !== 1) return;
    for (let i = 0; i < node.attributes.length; i++) {
      const attribute = node.attributes.item(i);
      if (attribute.namespaceURI === STUDIO_NS && attribute.localName === "provenance") attributes.push(attribute.value);
    }
    if (node.namespaceURI === STUDIO_NS && node.localName === "provenance") {
      let leading = "";  // the text before the first child element (ElementTree's .text)
      for (let child = node.firstChild; child && child.nodeType !== 1; child = child.nextSibling) {
        if (child.nodeType === 3 || child.nodeType === 4) leading += child.data;
      }
      elements.push(leading);
    }
    for (let child = node.firstChild; child; child = child.nextSibling) walk(child);
  };
  walk(document.documentElement);
  return { provenances: [...attributes, ...elements], exportRecord: firstField(document, "export") };
}

const RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

// A studio field as the studio reads it: on the first rdf:Description that has it, as an attribute
// or a child element (its first rdf:li's text, else its own text).
function firstField(document, name) {
  const descriptions = document.getElementsByTagNameNS(RDF, "Description");
  for (let i = 0; i < descriptions.length; i++) {
    const description = descriptions.item(i);
    if (description.hasAttributeNS(STUDIO_NS, name)) return description.getAttributeNS(STUDIO_NS, name);
    for (let child = description.firstChild; child; child = child.nextSibling) {
      if (child.nodeType !== 1 || child.namespaceURI !== STUDIO_NS || child.localName !== name) continue;
      const items = child.getElementsByTagNameNS(RDF, "li");
      if (items.length) return leadingText(items.item(0));
      return leadingText(child);
    }
  }
  return null;
}

function leadingText(node) {
  let text = "";
  for (let child = node.firstChild; child && child.nodeType !== 1; child = child.nextSibling) {
    if (child.nodeType === 3 || child.nodeType === 4) text += child.data;
  }
  return text;
}

function readExportRecord(text, notes) {
  try {
    const data = parseJson(text, "The export record");
    const fields = ["format", "quality", "pixel_hash", "source_pixel_hash"];
    if (data === null || typeof data !== "object" || Array.isArray(data) || !fields.every((k) => Object.hasOwn(data, k))) {
      throw new Error("it lacks a field");
    }
    const quality = data.quality instanceof Number ? data.quality.valueOf() : data.quality;
    if (typeof quality !== "number" && !(typeof quality === "string" && /^\s*[+-]?[0-9]+\s*$/.test(quality))) throw new Error("its quality is not a number");
    return { format: String(data.format), pixelHash: String(data.pixel_hash), sourcePixelHash: String(data.source_pixel_hash) };
  } catch (error) {
    notes.push(`The export record in the XMP packet is damaged (${String(error.message).slice(0, 80)}).`);
    return null;
  }
}

// A signed manifest from its JSON text, or from a value already parsed (a C2PA assertion).
function parseSigned(text, where, problems, parsed = false) {
  try {
    return checkSignedManifest(parsed ? text : parseJson(text, "The signed manifest"));
  } catch (error) {
    problems.push(`The studio manifest in ${where} is damaged: ${error.message}`);
    return null;
  }
}

export function manifestSha256(manifest) {
  return bytesToHex(sha256(new TextEncoder().encode(canonicalManifest(manifest))));
}

// The verdict object (a promise of it): the fields of `studio verify --json` this page can tell (see the spec).
export async function verifyPng(bytes, name = "the file") {
  const result = { path: name, verdict: "unreadable", source: "none", format: null, manifest_sha256: null,
    signature_valid: null, signer: null, pixel_hash_ok: null, c2pa: "absent", c2pa_signer: null, manifest: null,
    signature: null, recipe: null, problems: [], notes: [] };
  if (bytes.length > MAX_FILE_BYTES) { result.problems.push(`${name} is larger than 512 MiB.`); return result; }
  if (!isPng(bytes)) { result.problems.push(`${name} is not a PNG; this verifier reads PNG files.`); return result; }
  result.format = "PNG";
  const chunks = readChunks(bytes);
  let canonical, header;
  try {
    header = pngHeader(bytes);
    if (header.width * header.height > MAX_PIXELS) throw new Unreadable(`it declares ${header.width}x${header.height} pixels, more than a verifier decodes`);
    canonical = canonicalSamples(bytes, header);
  } catch (error) {
    if (!(error instanceof Unreadable)) throw error;
    result.problems.push(`${name} is not a readable image: ${error.message}.`);
    return result;
  }
  const notes = [...chunks.problems], problems = [], unproven = [];
  const found = [];  // [where, text]
  if (chunks.text.has(PROVENANCE_KEY)) found.push([`the PNG text chunk ${PROVENANCE_KEY}`, chunks.text.get(PROVENANCE_KEY)]);
  for (const [key, value] of chunks.repeated) if (key === PROVENANCE_KEY) found.push([`a repeated PNG text chunk ${PROVENANCE_KEY}`, value]);
  const packets = [];
  if (chunks.text.has(XMP_KEY)) packets.push(["the PNG's XMP packet", chunks.text.get(XMP_KEY)]);
  for (const [key, value] of chunks.repeated) if (key === XMP_KEY) packets.push(["a repeated PNG XMP packet", value]);
  const unreadable = chunks.skippedKeys.filter((key) => key === PROVENANCE_KEY || key === XMP_KEY)
    .map((key) => `a PNG text chunk ${key} that was skipped`);
  let xmpRead = false, exportText = null;
  for (const [where, packet] of packets) {
    try {
      const info = parseXmp(packet);
      if (!xmpRead) { xmpRead = true; exportText = info.exportRecord; }
      for (const value of info.provenances) found.push([`${where} (studio:provenance)`, value]);
    } catch (error) {
      notes.push(error.message);
      if (packet.includes(STUDIO_NS)) unreadable.push(`${where}, which names the studio's XMP namespace (${error.message})`);
    }
  }
  const exportRecord = exportText ? readExportRecord(exportText, notes) : null;
  // C2PA: validated (signature, hard binding, assertions) by c2pa-rs, as `studio verify` does without trust anchors
  const c2paValues = [];
  if (chunks.kinds.has("caBX") || !chunks.complete) {
    const report = await readC2pa(bytes);
    result.c2pa = report.present || report.state === "unavailable" ? report.state : "absent";
    result.c2pa_signer = report.signedBy;
    if (report.state === "unavailable" && contains(bytes, "c2pa")) {
      notes.push(`The file may carry a C2PA manifest, which could not be checked here (the C2PA engine did not load: ${report.errors[0]}).`);
    } else if (report.present && report.state === "invalid") {
      problems.push("The C2PA manifest does not validate: " + (report.errors.join("; ") || "no reason given"));
    } else if (report.present) {
      notes.push(...report.errors.map((error) => `C2PA: ${error}`));
      notes.push(`The C2PA manifest is signed by ${report.signedBy || "a certificate"}, which this page does not trust `
        + "(it trusts no install's certificate): it shows the file is intact since then, not who made it.");
    }
    c2paValues.push(...report.studioAssertions);
  }
  const signedManifests = [];
  for (const [where, text] of found) {
    const signed = parseSigned(text, where, problems);
    if (signed) signedManifests.push([where, signed]);
  }
  c2paValues.forEach((value, index) => {
    const where = index === 0 ? C2PA_WHERE : `a repeated ${C2PA_WHERE.replace(/^the /, "")}`;
    const signed = parseSigned(value, where, problems, true);
    if (signed) signedManifests.push([where, signed]);
  });
  for (const where of unreadable) problems.push(`The file holds ${where}: a manifest there cannot be checked.`);
  const finish = (verdict, source) => Object.assign(result, { verdict, source, problems: [...problems, ...unproven], notes });

  if (!signedManifests.length) {
    const foreign = foreignSource(chunks.text);
    if (foreign) result.recipe = { source: foreign, text: chunks.text.get(foreign === "a1111" ? "parameters" : foreign === "invokeai" ? "invokeai_metadata" : (chunks.text.get("prompt") !== undefined ? "prompt" : "workflow")) };
    if (problems.length) return finish("tampered", found.length || unreadable.length ? "studio" : "c2pa");
    if (result.c2pa === "valid") {
      unproven.push("The file carries no studio manifest, and its C2PA manifest is signed by a certificate this page "
        + "does not trust (anyone can make one): nothing proves who made it.");
      return finish("unproven", "c2pa");
    }
    return finish("no-provenance", foreign || "none");
  }
  const [where, signed] = signedManifests[0];
  const manifest = signed.manifest;
  const different = signedManifests.slice(1).filter(([, other]) => !sameSignedManifest(other, signed)).map(([w]) => w);
  if (different.length) {
    problems.push(`The file carries different studio manifests: ${where} and ${different[0]} disagree, and other apps may show either one.`);
  }
  result.manifest = manifest;
  result.signature = signed.signature;
  result.manifest_sha256 = manifestSha256(manifest);
  // the pixels
  const actual = manifest.schema === SCHEMA_V1 ? pixelHashV1(canonical, header) : pixelHashV2(canonical);
  if (actual === null) {
    unproven.push("This image's kind of pixels (a studio.provenance/1 manifest over a PNG that is not 8-bit grey or "
      + "RGB without tRNS) cannot be hashed by this page; check it with studio verify.");
    result.pixel_hash_ok = null;
  } else if (actual === manifest.pixel_hash) {
    result.pixel_hash_ok = true;
  } else if (exportRecord && exportRecord.sourcePixelHash === manifest.pixel_hash && exportRecord.pixelHash === actual) {
    result.pixel_hash_ok = false;  // this page trusts no install's C2PA, which alone could vouch for the record
    unproven.push(`This is a lossy ${exportRecord.format.toUpperCase()} export: the creator signed the original's pixels, `
      + "not these, and only an unsigned export record ties them together (anyone can write one).");
  } else {
    result.pixel_hash_ok = false;
    if (canonical.width !== manifest.width || canonical.height !== manifest.height) {
      problems.push(`The image is ${canonical.width}x${canonical.height} but the manifest describes ${manifest.width}x${manifest.height}: the manifest belongs to another image.`);
    } else {
      problems.push("The pixels do not match the manifest's pixel hash: the image was changed after it was saved, or the manifest belongs to another image.");
    }
  }
  // the signature
  if (signed.signature === null) {
    if (manifest.creator !== null) unproven.push(`The manifest names ${manifest.creator} as its creator but carries no signature: that is a claim, not proof.`);
    else notes.push("The manifest is not signed: it says how the image was made, not by whom.");
  } else {
    const digest = typedDataDigest({ schema: manifest.schema, manifestHash: result.manifest_sha256,
      pixelHash: manifest.pixel_hash, creator: manifest.creator });
    try {
      const signer = recoverSigner(digest, signed.signature);
      result.signer = signer;
      if (signer.toLowerCase() === manifest.creator.toLowerCase()) result.signature_valid = true;
      else {
        result.signature_valid = false;
        problems.push(`The signature was made by ${signer}, but the manifest names ${manifest.creator} as its creator.`);
      }
    } catch (error) {
      if (!(error instanceof BadSignature)) throw error;
      result.signature_valid = false;
      problems.push(`The signature is invalid: ${error.message}`);
    }
  }
  let verdict = "verified";
  if (result.signature_valid === false) verdict = "invalid-signature";
  else if (problems.length) verdict = "tampered";
  else if (unproven.length) verdict = "unproven";
  result.recipe = { source: "studio", manifest };
  return finish(verdict, where.startsWith(C2PA_WHERE) || where.startsWith("a repeated " + C2PA_WHERE.replace(/^the /, "")) ? "c2pa" : "studio");
}

function foreignSource(text) {
  if (text.has("invokeai_metadata")) return "invokeai";
  if (text.has("prompt") || text.has("workflow")) return "comfyui";
  if (text.has("parameters")) return "a1111";
  return null;
}
