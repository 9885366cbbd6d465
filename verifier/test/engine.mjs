// The page's C2PA engine under node: dist/c2pa-engine.js (the file the page loads) run in a sandbox,
// its bytes decoded and checked as the page does. Import this before verifying files with C2PA.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { decodeEngine, ENGINE_GLOBAL, useEngine } from "../src/c2pa.js";

const here = path.dirname(fileURLToPath(import.meta.url));

export function engineFromDist(file = path.join(here, "..", "dist", "c2pa-engine.js")) {
  const sandbox = { self: {} };
  vm.runInNewContext(fs.readFileSync(file, "utf8"), sandbox, { filename: file });
  return decodeEngine(sandbox.self[ENGINE_GLOBAL]);
}

useEngine(async () => engineFromDist());
