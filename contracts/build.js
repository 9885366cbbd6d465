#!/usr/bin/env node
// Compile contracts/src/**/*.sol with the pinned solcjs and write contracts/build/<Contract>.json.
//
//   node build.js                  rebuild the project's artifacts; vendored ones only when their inputs changed
//   node build.js --check          exit 1 when a committed artifact differs from a fresh build (vendored
//                                  artifacts: when their inputs differ: sources, compiler, settings)
//   node build.js --full [--check] also recompile the vendored protocols (Seaport: about two minutes)
//
// Vendored protocols (Seaport 1.6 and its ConduitController) are compiled from their npm sources
// with the compiler and settings upstream used, not ours; see VENDORED below and contracts/README.md.
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

// Seaport 1.6 as deployed at 0x0000000000000068F116a894984e2DB1123eB395: solc 0.8.24, via-IR, optimizer
// runs 4,294,967,295, cancun, no metadata hash. Its init code (with the canonical ConduitController as
// constructor argument) hashes to the one of the canonical CREATE2 deployment (tests/chain/test_seaport.py).
// ConduitController: seaport-core's own override (solc 0.8.14, via-IR, 1,000,000 runs).
const VENDORED = [
  {
    source: "seaport-core/src/Seaport.sol",
    contracts: ["Seaport"],
    compiler: "solc-0.8.24/soljson.js",
    packages: ["seaport-core", "seaport-types"],
    settings: {
      viaIR: true,
      optimizer: { enabled: true, runs: 4294967295 },
      evmVersion: "cancun",
      metadata: { bytecodeHash: "none" },
    },
  },
  {
    source: "seaport-core/src/conduit/ConduitController.sol",
    contracts: ["ConduitController"],
    compiler: "solc-0.8.14/soljson.js",
    packages: ["seaport-core", "seaport-types"],
    settings: { viaIR: true, optimizer: { enabled: true, runs: 1000000 } },
  },
];
const VENDOR_OUTPUT = ["abi", "evm.bytecode.object", "evm.deployedBytecode.object",
  "evm.deployedBytecode.immutableReferences"];

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

function packageVersion(name) {
  return JSON.parse(fs.readFileSync(path.join(NODE_MODULES, name, "package.json"), "utf8")).version;
}

// The inputs of a vendored build, without compiling: every source it reads (followed through the
// imports), the compiler's version and the settings. `--check` compares these with the artifact.
function vendoredInputs(spec) {
  const seen = new Map();
  const pending = [spec.source];
  while (pending.length) {
    const key = pending.pop();
    if (seen.has(key)) continue;
    const text = findImports(key).contents;
    if (text === undefined) throw new Error(`missing ${key} (run "npm ci" in contracts/)`);
    seen.set(key, text);
    const importRe = /import\s+(?:[^'"]*?from\s+)?["']([^"']+)["']/g;
    let match;
    while ((match = importRe.exec(text))) {
      const target = match[1].startsWith(".") ? path.posix.normalize(path.posix.join(path.posix.dirname(key), match[1]))
        : match[1];
      pending.push(target);
    }
  }
  const keys = [...seen.keys()].sort();
  const hashes = {};
  for (const key of keys) hashes["node_modules/" + key] = sha256(seen.get(key));
  const versions = {};
  for (const name of spec.packages) versions[name] = packageVersion(name);
  return { sources: seen, hashes, versions };
}

function vendoredCompiler(spec) {
  return require("solc/wrapper.js")(require(path.join(NODE_MODULES, spec.compiler)));
}

function compileVendored(spec) {
  const inputs = vendoredInputs(spec);
  const compiler = vendoredCompiler(spec);
  const input = {
    language: "Solidity",
    sources: { [spec.source]: { content: inputs.sources.get(spec.source) } },
    settings: { ...spec.settings, outputSelection: { "*": { "*": VENDOR_OUTPUT } } },
  };
  const output = JSON.parse(compiler.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  for (const message of errors) console.error(message.formattedMessage);
  if (errors.length) throw new Error(`solc reported ${errors.length} error(s) in ${spec.source}`);
  const sourcePath = "node_modules/" + spec.source;
  const importedSources = { ...inputs.hashes };
  delete importedSources[sourcePath];
  const sourcesHash = sha256(Object.keys(inputs.hashes).sort().map((key) => `${key}\n${inputs.hashes[key]}\n`).join(""));
  const artifacts = {};
  for (const name of spec.contracts) {
    const compiled = output.contracts[spec.source][name];
    artifacts[name] = {
      contractName: name,
      sourcePath,
      sourceHash: inputs.hashes[sourcePath],
      importedSources,
      sourcesHash,
      vendor: { packages: inputs.versions },
      compiler: { name: "solcjs", version: compiler.version(), settings: spec.settings },
      abi: compiled.abi,
      bytecode: "0x" + compiled.evm.bytecode.object,
      deployedBytecode: "0x" + compiled.evm.deployedBytecode.object,
      immutableReferences: compiled.evm.deployedBytecode.immutableReferences || {},
    };
  }
  return artifacts;
}

// Whether a committed vendored artifact was built from these inputs (sources, compiler, settings).
function vendoredIsCurrent(spec, artifact) {
  const inputs = vendoredInputs(spec);
  const sourcePath = "node_modules/" + spec.source;
  const imported = { ...inputs.hashes };
  delete imported[sourcePath];
  return artifact.sourceHash === inputs.hashes[sourcePath]
    && JSON.stringify(artifact.importedSources) === JSON.stringify(imported)
    && JSON.stringify(artifact.vendor) === JSON.stringify({ packages: inputs.versions })
    && artifact.compiler.version === vendoredCompiler(spec).version()
    && JSON.stringify(artifact.compiler.settings) === JSON.stringify(spec.settings);
}

function render(artifact) {
  return JSON.stringify(artifact, null, 2) + "\n";
}

function readArtifact(name) {
  const target = path.join(BUILD, `${name}.json`);
  return fs.existsSync(target) ? fs.readFileSync(target, "utf8") : null;
}

function main() {
  const check = process.argv.includes("--check");
  const full = process.argv.includes("--full");
  const artifacts = compile();
  let stale = 0;
  for (const spec of VENDORED) {
    const committed = spec.contracts.map(readArtifact);
    const current = committed.every((text) => text !== null && vendoredIsCurrent(spec, JSON.parse(text)));
    if (!full && check) {
      if (!current) {
        console.error(`stale: build/${spec.contracts.join(", ")}.json inputs changed (run "node build.js" in contracts/)`);
        stale += 1;
      }
      continue;
    }
    if (!full && current) continue;
    console.log(`compiling ${spec.source} with ${spec.compiler} (vendored)`);
    Object.assign(artifacts, compileVendored(spec));
  }
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
  if (check) console.log(`${Object.keys(artifacts).length} artifacts up to date (vendored: ${full ? "rebuilt and compared" : "inputs unchanged"})`);
}

main();
