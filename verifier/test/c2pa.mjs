// The page's C2PA engine when it is not the one the page was built with, or cannot be loaded: a
// changed engine is refused (never run), and a file with C2PA then reads as `unavailable`, with its
// studio manifest in the PNG chunk still checked (as `studio verify` does without its C2PA library).
// One JSON line per check; run by tests/verifier/test_spec_vectors.py.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync } from "fflate";
import { decodeEngine, useEngine } from "../src/c2pa.js";
import { verifyPng } from "../src/verify.js";
import { engineFromDist } from "./engine.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const vectors = path.join(here, "..", "..", "docs", "spec-vectors");
const read = (name) => new Uint8Array(fs.readFileSync(path.join(vectors, name)));
let failed = 0;

function report(name, ok, detail) {
  if (!ok) failed++;
  console.log(JSON.stringify({ name, ok, ...detail }));
}

// one changed byte of the WebAssembly, packed as build.mjs packs it: refused before it runs
const wasm = engineFromDist();
const changed = new Uint8Array(wasm);
changed[changed.length >> 1] ^= 0x01;
let refusal = null;
try {
  decodeEngine(Buffer.from(deflateSync(changed, { level: 9 })).toString("base64"));
} catch (error) {
  refusal = error.message;
}
report("a changed engine is refused", refusal !== null && refusal.includes("not the one this page was built with"), { refusal });
let intact = false;
try {
  intact = decodeEngine(Buffer.from(deflateSync(wasm, { level: 9 })).toString("base64")).length === wasm.length;
} catch (error) {
  refusal = error.message;
}
report("the engine as built is accepted", intact, {});

// no engine: C2PA is unavailable, the PNG chunk's manifest still decides the verdict
useEngine(async () => { throw new Error("dist/c2pa-engine.js could not be loaded"); });
const signed = await verifyPng(read("c2pa-signed.png"), "c2pa-signed.png");
report("without the engine, a studio work with C2PA is verified by its own manifest",
  signed.verdict === "verified" && signed.c2pa === "unavailable" && signed.source === "studio"
    && signed.notes.some((note) => note.includes("could not be checked here")),
  { verdict: signed.verdict, c2pa: signed.c2pa, notes: signed.notes });
const altered = await verifyPng(read("c2pa-signature-altered.png"), "c2pa-signature-altered.png");
report("without the engine, a broken C2PA signature is not claimed as checked",
  altered.c2pa === "unavailable" && altered.notes.some((note) => note.includes("could not be checked here")),
  { verdict: altered.verdict, c2pa: altered.c2pa });
const only = await verifyPng(read("c2pa-only.png"), "c2pa-only.png");
report("without the engine, a C2PA-only file has no provenance the page can read",
  only.verdict === "no-provenance" && only.c2pa === "unavailable", { verdict: only.verdict, c2pa: only.c2pa });

// the engine again (a failed load is retried with the next file)
useEngine(async () => engineFromDist());
const again = await verifyPng(read("c2pa-signature-altered.png"), "c2pa-signature-altered.png");
report("with the engine, the broken C2PA signature makes the file tampered",
  again.verdict === "tampered" && again.c2pa === "invalid"
    && again.problems.some((problem) => problem.includes("claimSignature.mismatch")),
  { verdict: again.verdict, c2pa: again.c2pa, problems: again.problems });

console.log(`${failed ? "some" : "all"} checks ${failed ? "failed" : "passed"}`);
process.exit(failed ? 1 : 0);
