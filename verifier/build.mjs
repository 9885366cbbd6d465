// Bundle the verifier page's scripts into dist/verifier.js (one classic script, so that the page
// also works when opened from a file:// URL, where browsers refuse ES modules).
//
//   node build.mjs           rebuild dist/verifier.js
//   node build.mjs --check   exit 1 when the committed bundle differs from a fresh build
import { build } from "esbuild";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const target = path.join(here, "dist", "verifier.js");
const result = await build({
  entryPoints: [path.join(here, "src", "page.js")],
  bundle: true, format: "iife", platform: "browser", target: ["chrome110", "firefox115", "safari16"],
  minify: true, legalComments: "eof", write: false, logLevel: "warning",
  banner: { js: "/* Provenance Studio verifier: built by verifier/build.mjs from verifier/src; do not edit. */" },
});
const fresh = result.outputFiles[0].contents;
if (process.argv.includes("--check")) {
  const committed = fs.existsSync(target) ? fs.readFileSync(target) : Buffer.alloc(0);
  if (!committed.equals(Buffer.from(fresh))) {
    console.error("verifier/dist/verifier.js is stale: run `node build.mjs` in verifier/ and commit it.");
    process.exit(1);
  }
  console.log("verifier/dist/verifier.js is fresh");
} else {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, fresh);
  console.log(`wrote ${path.relative(here, target)} (${fresh.length} bytes)`);
}
