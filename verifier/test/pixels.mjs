// The page's pixel hash of every PNG listed in FOLDER/index.json ([{file, hash}]), one JSON line
// each, compared with the hash the studio computed. Run by tests/verifier/test_spec_vectors.py over
// every colour type, bit depth, interlacing and tRNS, encoded by the tests' own encoder.
import fs from "node:fs";
import path from "node:path";
import { pngHeader } from "../src/png.js";
import { canonicalSamples, pixelHashV2 } from "../src/pixels.js";

const folder = process.argv[2];
const cases = JSON.parse(fs.readFileSync(path.join(folder, "index.json"), "utf8"));
let failed = 0;
for (const item of cases) {
  const bytes = new Uint8Array(fs.readFileSync(path.join(folder, item.file)));
  let hash = null, error = null;
  try {
    hash = pixelHashV2(canonicalSamples(bytes, pngHeader(bytes)));
  } catch (e) {
    error = e.message;
  }
  const ok = hash === item.hash;
  if (!ok) failed++;
  console.log(JSON.stringify({ file: item.file, ok, hash, error }));
}
console.log(`${cases.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
