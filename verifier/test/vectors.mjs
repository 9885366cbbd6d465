// Runs the page's verifier (written from docs/provenance-spec.md) over the committed test vectors
// under node and prints one JSON line per vector: what it found, and whether that is what the
// vector says. tests/provenance/test_spec_vectors.py compares these lines with `studio verify --json`.
//
//   node verifier/test/vectors.mjs [docs/spec-vectors]
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bytesToHex } from "@noble/hashes/utils.js";
import { typedDataDigest } from "../src/eip712.js";
import { canonicalManifest, checkSignedManifest } from "../src/manifest.js";
import { parseJson } from "../src/json.js";
import { verifyPng } from "../src/verify.js";
import "./engine.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const folder = path.resolve(process.argv[2] || path.join(here, "..", "..", "docs", "spec-vectors"));
const { vectors } = JSON.parse(fs.readFileSync(path.join(folder, "vectors.json"), "utf8"));
let failed = 0;
for (const vector of vectors) {
  const bytes = new Uint8Array(fs.readFileSync(path.join(folder, vector.file)));
  const result = await verifyPng(bytes, vector.file);
  const checks = { verdict: result.verdict === vector.verdict };
  if (vector.canonical) {
    checks.manifest_sha256 = result.manifest_sha256 === vector.manifest_sha256;
    const expected = fs.readFileSync(path.join(folder, vector.canonical), "utf8");
    checks.canonical = result.manifest !== null && canonicalManifest(result.manifest) === expected;
    // the canonical form of the canonical bytes is themselves
    checks.canonical_fixed_point = canonicalManifest(checkSignedManifest(parseJson(
      JSON.stringify({ manifest: JSON.parse(expected), signature: null }))).manifest) === expected;
    if (vector.eip712_digest) {
      const digest = typedDataDigest({ schema: vector.schema, manifestHash: vector.manifest_sha256,
        pixelHash: vector.pixel_hash, creator: vector.creator });
      checks.eip712_digest = bytesToHex(digest) === vector.eip712_digest;
    }
    if (vector.recovers_to && result.signer !== null) checks.signer = result.signer === vector.recovers_to;
  }
  const ok = Object.values(checks).every(Boolean);
  if (!ok) failed++;
  console.log(JSON.stringify({ name: vector.name, ok, checks, verdict: result.verdict, source: result.source,
    manifest_sha256: result.manifest_sha256, signer: result.signer, signature_valid: result.signature_valid,
    pixel_hash_ok: result.pixel_hash_ok, c2pa: result.c2pa, problems: result.problems }));
}
console.log(`${vectors.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
