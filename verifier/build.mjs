// Bundle the verifier page's scripts into dist/verifier.js (one classic script, so that the page
// also works when opened from a file:// URL, where browsers refuse ES modules), and write the C2PA
// engine beside it as dist/c2pa-engine.js: c2pa-rs's WebAssembly from @contentauth/c2pa-wasm,
// deflated (fflate, level 9: the same bytes on every machine) and in base64, in a classic script
// that the page loads only when a file carries C2PA data (a file:// page cannot fetch a .wasm).
//
//   node build.mjs           rebuild dist/verifier.js and dist/c2pa-engine.js
//   node build.mjs --check   exit 1 when a committed file differs from a fresh build
import { build } from "esbuild";
import { deflateSync } from "fflate";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const ENGINE_GLOBAL = "provenanceStudioC2paEngine";  // src/c2pa.js's ENGINE_GLOBAL

async function bundle() {
  const result = await build({
    entryPoints: [path.join(here, "src", "page.js")],
    bundle: true, format: "iife", platform: "browser", target: ["chrome110", "firefox115", "safari16"],
    minify: true, legalComments: "eof", write: false, logLevel: "warning",
    banner: { js: "/* Provenance Studio verifier: built by verifier/build.mjs from verifier/src; do not edit. */" },
  });
  return Buffer.from(result.outputFiles[0].contents);
}

function engine() {
  const wasmPackage = JSON.parse(fs.readFileSync(require.resolve("@contentauth/c2pa-wasm/package.json"), "utf8"));
  const wasm = fs.readFileSync(require.resolve("@contentauth/c2pa-wasm/c2pa.wasm"));
  const packed = Buffer.from(deflateSync(wasm, { level: 9, mem: 12 })).toString("base64");
  return Buffer.from(`/* Provenance Studio verifier: the C2PA engine, c2pa-rs as WebAssembly from @contentauth/c2pa-wasm `
    + `${wasmPackage.version}, MIT licence, deflated, in base64; built by verifier/build.mjs; do not edit. */\n`
    + `self.${ENGINE_GLOBAL}="${packed}";\n`);
}

const outputs = [["dist/verifier.js", await bundle()], ["dist/c2pa-engine.js", engine()]];
if (process.argv.includes("--check")) {
  let stale = 0;
  for (const [name, fresh] of outputs) {
    const target = path.join(here, name);
    const committed = fs.existsSync(target) ? fs.readFileSync(target) : Buffer.alloc(0);
    if (!committed.equals(fresh)) {
      console.error(`verifier/${name} is stale: run \`node build.mjs\` in verifier/ and commit it.`);
      stale++;
    } else {
      console.log(`verifier/${name} is fresh`);
    }
  }
  process.exit(stale ? 1 : 0);
} else {
  for (const [name, fresh] of outputs) {
    const target = path.join(here, name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, fresh);
    console.log(`wrote ${name} (${fresh.length} bytes)`);
  }
}
