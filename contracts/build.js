#!/usr/bin/env node
// Compile contracts/src/**/*.sol with the pinned solcjs and write contracts/build/<Contract>.json.
//
//   node build.js           rebuild every artifact
//   node build.js --check   exit 1 when a committed artifact differs from a fresh build
//
// Each artifact holds abi, bytecode, deployedBytecode, the compiler version and settings,
// and sha256 hashes of its own source file, of the project's sources it imports (such as
// src/base/*.sol, which have no artifact of their own) and of every source in the compilation.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const ROOT = __dirname;
const SRC = path.join(ROOT, "src");
const BUILD = path.join(ROOT, "build");
const NODE_MODULES = path.join(ROOT, "node_modules");

const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
  metadata: { bytecodeHash: "ipfs" },
  outputSelection: { "*": { "*": ["abi", "metadata", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};

function sha256(text) {
  return crypto.createHash("sha256").update(text).digest("hex");
}

function listSources(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listSources(full));
    else if (entry.name.endsWith(".sol")) found.push(full);
  }
  return found;
}

function findImports(importPath) {
  const candidate = path.join(NODE_MODULES, importPath);
  if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
  return { error: `File not found: ${importPath} (run "npm ci" in contracts/)` };
}

function compile() {
  const sources = {};
  for (const file of listSources(SRC)) {
    const key = "src/" + path.relative(SRC, file).split(path.sep).join("/");
    sources[key] = { content: fs.readFileSync(file, "utf8") };
  }
  const input = { language: "Solidity", sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  for (const message of output.errors || []) console.error(message.formattedMessage);
  if (errors.length) throw new Error(`solc reported ${errors.length} error(s)`);

  // Every source solc read (ours and the libraries'), hashed in a stable order.
  const allSources = Object.keys(output.sources).sort();
  const sourceText = (key) => (sources[key] ? sources[key].content : findImports(key).contents);
  const sourcesHash = sha256(allSources.map((key) => `${key}\n${sha256(sourceText(key))}\n`).join(""));

  const artifacts = {};
  for (const [sourceKey, contracts] of Object.entries(output.contracts)) {
    if (!sources[sourceKey]) continue; // library contracts are not artifacts of their own
    for (const [name, compiled] of Object.entries(contracts)) {
      if (!compiled.evm.bytecode.object) continue; // interfaces and abstract contracts
      // The project's own files this contract is built from (its metadata lists every source it
      // imports, directly or not), so that an edit to a base contract makes the artifact stale.
      const importedSources = {};
      for (const key of Object.keys(JSON.parse(compiled.metadata).sources).sort()) {
        if (key !== sourceKey && sources[key]) importedSources[key] = sha256(sources[key].content);
      }
      artifacts[name] = {
        contractName: name,
        sourcePath: sourceKey,
        sourceHash: sha256(sources[sourceKey].content),
        importedSources,
        sourcesHash,
        compiler: { name: "solcjs", version: solc.version(), settings: { ...SETTINGS, outputSelection: undefined } },
        abi: compiled.abi,
        bytecode: "0x" + compiled.evm.bytecode.object,
        deployedBytecode: "0x" + compiled.evm.deployedBytecode.object,
      };
    }
  }
  return artifacts;
}

function render(artifact) {
  return JSON.stringify(artifact, null, 2) + "\n";
}

function main() {
  const check = process.argv.includes("--check");
  const artifacts = compile();
  let stale = 0;
  if (!check) fs.mkdirSync(BUILD, { recursive: true });
  for (const [name, artifact] of Object.entries(artifacts).sort()) {
    const target = path.join(BUILD, `${name}.json`);
    const text = render(artifact);
    if (check) {
      const current = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : null;
      if (current !== text) {
        console.error(`stale: build/${name}.json (run "node build.js" in contracts/)`);
        stale += 1;
      }
    } else {
      fs.writeFileSync(target + ".tmp", text);
      fs.renameSync(target + ".tmp", target);
      console.log(`wrote build/${name}.json (${(artifact.deployedBytecode.length - 2) / 2} bytes deployed)`);
    }
  }
  if (check && stale) process.exit(1);
  if (check) console.log(`${Object.keys(artifacts).length} artifacts up to date`);
}

main();
