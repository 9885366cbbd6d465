// The verifier page: drop a PNG, see its verdict. Everything shown that came from the file is set
// as text (never as HTML), with control, format and line-breaking characters shown as escapes
// (as `studio verify` prints them). No network is used unless the on-chain check is asked for.
import { decodeEngine, ENGINE_GLOBAL, useEngine } from "./c2pa.js";
import { checkToken, withChain } from "./chain.js";
import { jcs } from "./jcs.js";
import { plain } from "./json.js";
import { verifyPng } from "./verify.js";

const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;
const NAMED = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
export function printable(text) {
  return String(text).replace(UNSAFE, (ch) => {
    if (ch === "\u200c" || ch === "\u200d") return ch;
    if (NAMED[ch]) return NAMED[ch];
    const code = ch.codePointAt(0);
    return code < 0x100 ? "\\x" + code.toString(16).padStart(2, "0") : "\\u" + code.toString(16).padStart(4, "0");
  });
}

const MEANING = {
  verified: "The manifest is signed by the creator it names, describes these very pixels, and agrees everywhere in the file.",
  unproven: "The file is intact, but nothing proves who made it.",
  "no-provenance": "The file carries no studio provenance.",
  tampered: "The file was changed after it was signed, or carries a manifest of another image.",
  "invalid-signature": "The signature does not come from the creator the manifest names.",
  unreadable: "This is not a PNG image this page can read.",
};

const C2PA_STATES = {
  valid: (signer) => `valid, not trusted: intact since ${signer || "a certificate"} signed it (this page trusts no install's certificate)`,
  invalid: () => "INVALID: the file or its C2PA manifest changed after it was signed",
  absent: () => "absent",
  unavailable: () => "not checked (the C2PA engine did not load)",
};

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = printable(text);
  if (className) node.className = className;
  return node;
}

function row(table, label, value) {
  if (value === undefined || value === null || value === "") return;
  const tr = document.createElement("tr");
  tr.append(element("th", label), element("td", value));
  table.append(tr);
}

let current = null;  // {bytes, name, result}

function show(result) {
  window.__verifierResult = result;
  const out = document.getElementById("result");
  out.replaceChildren();
  const banner = element("div", null, "verdict " + result.verdict);
  banner.dataset.verdict = result.verdict;
  banner.append(element("strong", result.verdict), element("span", " " + MEANING[result.verdict]));
  out.append(element("h2", result.path));
  if (current && current.url && result.verdict !== "unreadable") {
    const preview = document.createElement("img");  // shown only; the pixels checked are pngjs's
    preview.id = "preview";
    preview.alt = "the image";
    preview.src = current.url;
    out.append(preview);
  }
  out.append(banner);
  const facts = document.createElement("table");
  facts.className = "facts";
  row(facts, "Source", result.source);
  if (result.manifest) {
    const m = result.manifest;
    row(facts, "Creator", result.signature_valid ? `${result.signer} (signature valid)` : (m.creator ? `${m.creator} (claimed, not proven)` : "not signed"));
    if (result.signature_valid === false && result.signer) row(facts, "Signature recovers to", result.signer);
    row(facts, "Pixels", result.pixel_hash_ok === true ? "match the manifest's pixel hash" : result.pixel_hash_ok === false ? "DO NOT match the manifest's pixel hash" : "not checked here");
    row(facts, "Manifest", `${m.schema}, SHA-256 ${result.manifest_sha256}`);
  }
  row(facts, "C2PA", C2PA_STATES[result.c2pa] ? C2PA_STATES[result.c2pa](result.c2pa_signer) : result.c2pa);
  for (const check of result.chain || []) {
    row(facts, `Token ${check.token_id}`, `${check.state}${check.owner ? ", owned by " + check.owner : ""}`);
    if (check.state === "ok" || check.state === "mismatch") {
      const mark = (v) => (v ? "matches" : v === false ? "DOES NOT match" : "not applicable");
      row(facts, "", `commitment ${mark(check.commitment_ok)}, image ${mark(check.image_ok)}, provenance ${mark(check.provenance_ok)}`);
    }
  }
  out.append(facts);
  if (result.recipe) {
    out.append(element("h3", result.recipe.source === "studio" ? "Recipe" : `Recipe written by another tool (${result.recipe.source})`));
    const recipe = document.createElement("table");
    recipe.className = "recipe";
    if (result.recipe.source === "studio") {
      const m = result.recipe.manifest;
      row(recipe, "Prompt", m.prompt);
      row(recipe, "Negative prompt", m.negative_prompt);
      row(recipe, "Model", `${m.model.name} (${m.model.family}, SHA-256 ${m.model.sha256})`);
      for (const item of m.loras) row(recipe, "LoRA", `${item.name} × ${item.weight} (${item.sha256.slice(0, 12)})`);
      for (const item of m.adapters) row(recipe, "Adapter", `${item.name} × ${item.weight} (${item.sha256.slice(0, 12)})`);
      row(recipe, "Pipeline", m.pipeline + (m.strength !== null ? `, strength ${m.strength}` : ""));
      row(recipe, "Seed", String(m.seed));
      row(recipe, "Steps, guidance, scheduler", `${m.steps}, ${m.guidance}, ${m.scheduler}`);
      row(recipe, "Size", `${m.width}x${m.height}`);
      for (const p of m.parents) row(recipe, "Input image", `${p.role}: ${p.sha256}`);
      if (m.inpaint) row(recipe, "Inpaint", `mask blur ${m.inpaint.mask_blur}, ${m.inpaint.area === "masked" ? "only masked" : "whole picture"}, padding ${m.inpaint.padding}`);
      if (m.settings) row(recipe, "Settings", jcs(plain(m.settings)));  // canonical JSON, shown as text
      row(recipe, "Made on", `${m.device} ${m.dtype}, ${m.created}, ${m.generator.name} ${m.generator.version}`);
    } else {
      const pre = document.createElement("pre");
      pre.textContent = result.recipe.text;  // textContent: shown, never parsed as HTML
      const cell = document.createElement("td");
      cell.append(pre);
      const tr = document.createElement("tr");
      tr.append(element("th", "Text"), cell);
      recipe.append(tr);
    }
    out.append(recipe);
  }
  for (const [title, items, cls] of [["Problems", result.problems, "problems"], ["Notes", result.notes, "notes"]]) {
    if (!items.length) continue;
    out.append(element("h3", title));
    const list = element("ul", null, cls);
    for (const item of items) list.append(element("li", item));
    out.append(list);
  }
}

async function open(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let result;
  try {
    result = await verifyPng(bytes, file.name);
  } catch (error) {
    result = { path: file.name, verdict: "unreadable", source: "none", problems: [`This page could not read it: ${error.message}`], notes: [], manifest: null };
  }
  if (current && current.url) URL.revokeObjectURL(current.url);
  current = { bytes, name: file.name, result, url: URL.createObjectURL(file) };
  document.getElementById("chain").hidden = false;
  show(result);
}

async function checkChain(event) {
  event.preventDefault();
  if (!current) return;
  const form = event.target;
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const check = await checkToken({ rpcUrl: form.rpc.value.trim(), gateway: form.gateway.value.trim(),
      collection: form.collection.value.trim(), tokenId: BigInt(form.token.value.trim()) }, current.bytes, current.result);
    check.token_id = form.token.value.trim();
    show(withChain(current.result, check));
  } catch (error) {
    show({ ...current.result, notes: [...current.result.notes, `The on-chain check could not run: ${error.message}`] });
  } finally {
    button.disabled = false;
  }
}

// The C2PA engine ships beside this script (dist/c2pa-engine.js) and is loaded only when a file
// carries C2PA data: a classic script, so that it loads from a file:// URL too. (document.currentScript
// is set only while this script first runs.)
const ENGINE_URL = (document.currentScript && document.currentScript.src
  ? new URL("c2pa-engine.js", document.currentScript.src) : new URL("dist/c2pa-engine.js", location.href)).href;

function loadEngineScript() {
  return new Promise((resolve, reject) => {
    if (typeof window[ENGINE_GLOBAL] === "string") { resolve(window[ENGINE_GLOBAL]); return; }
    const script = document.createElement("script");
    script.src = ENGINE_URL;
    script.onload = () => (typeof window[ENGINE_GLOBAL] === "string" ? resolve(window[ENGINE_GLOBAL])
      : reject(new Error("dist/c2pa-engine.js did not define the engine")));
    script.onerror = () => reject(new Error("dist/c2pa-engine.js could not be loaded"));
    document.head.append(script);
  }).then((text) => { delete window[ENGINE_GLOBAL]; return decodeEngine(text); });
}

function start() {
  const input = document.getElementById("file");
  const zone = document.getElementById("drop");
  input.addEventListener("change", () => input.files[0] && open(input.files[0]));
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const file = event.dataTransfer.files[0];
    if (file) open(file);
  });
  const gateway = document.getElementById("gateway");
  if (location.protocol === "http:" || location.protocol === "https:") gateway.value = location.origin;
  document.getElementById("chain").addEventListener("submit", checkChain);
  useEngine(loadEngineScript);
  document.body.dataset.ready = "yes";
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
