// The on-chain check (docs/provenance-spec.md, "The on-chain commitment"): read a token of a
// StudioCollection over JSON-RPC (contentOf, ownerOf, tokenURI), fetch the metadata file the
// commitment names from an IPFS gateway, verify it against the commitment, and compare it with
// the file. Network is used only here, only for the RPC URL and gateway the user gives.
import { sha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { jcs } from "./jcs.js";
import { parseJson } from "./json.js";
import { checkSignedManifest } from "./manifest.js";
import { manifestSha256 } from "./verify.js";

const RAW = 0x55, DAG_PB = 0x70, SHA2_256 = 0x12;
const CHUNK = 256 * 1024, MAX_LINKS = 174;

const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
};

function varint(n) {
  const out = [];
  while (n >= 0x80) { out.push((n % 0x80) | 0x80); n = Math.floor(n / 0x80); }
  out.push(n);
  return Uint8Array.from(out);
}

function readVarint(bytes, at) {
  let value = 0, scale = 1;
  for (;;) {
    if (at >= bytes.length) throw new Error("truncated varint");
    const b = bytes[at++];
    value += (b & 0x7f) * scale;
    if (!(b & 0x80)) return [value, at];
    scale *= 128;
  }
}

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
function base32(bytes) {
  let out = "", bits = 0, value = 0;
  for (const b of bytes) {
    value = (value << 8) | b; bits += 8;
    while (bits >= 5) { out += BASE32[(value >>> (bits - 5)) & 31]; bits -= 5; }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export const cidBytes = (codec, digest) => concat(Uint8Array.of(1), varint(codec), Uint8Array.of(SHA2_256, 32), digest);
export const cidText = (bytes) => "b" + base32(bytes);

// A CID's bytes -> {codec, digest}; CIDv0 is dag-pb.
function parseCid(bytes) {
  if (bytes[0] === SHA2_256 && bytes[1] === 32 && bytes.length === 34) return { codec: DAG_PB, digest: bytes.subarray(2) };
  let [version, at] = readVarint(bytes, 0);
  if (version !== 1) throw new Error("unknown CID version");
  let codec, hash, size;
  [codec, at] = readVarint(bytes, at);
  [hash, at] = readVarint(bytes, at);
  [size, at] = readVarint(bytes, at);
  if (hash !== SHA2_256 || size !== 32 || at + 32 !== bytes.length) throw new Error("not a sha2-256 CID");
  return { codec, digest: bytes.subarray(at) };
}

// protobuf: field (number, wire type 2) and varint field
const field = (number, payload) => concat(varint((number << 3) | 2), varint(payload.length), payload);
const uint = (number, value) => concat(varint(number << 3), varint(value));

// The CIDv1 `ipfs add --cid-version=1` gives `bytes`: 256 KiB raw leaves, Kubo's balanced DAG.
export function fileCid(bytes) {
  const leaves = [];
  for (let at = 0; at < bytes.length || leaves.length === 0; at += CHUNK) {
    const chunk = bytes.subarray(at, Math.min(at + CHUNK, bytes.length));
    leaves.push({ cid: cidBytes(RAW, sha256(chunk)), tsize: chunk.length, filesize: chunk.length });
    if (bytes.length === 0) break;
  }
  let next = 0;
  const commit = (children) => {
    const filesize = children.reduce((n, c) => n + c.filesize, 0);
    const data = concat(uint(1, 2), uint(3, filesize), ...children.map((c) => uint(4, c.filesize)));
    const block = concat(...children.map((c) => field(2, concat(field(1, c.cid), field(2, new Uint8Array(0)), uint(3, c.tsize)))), field(1, data));
    return { cid: cidBytes(DAG_PB, sha256(block)), tsize: block.length + children.reduce((n, c) => n + c.tsize, 0), filesize };
  };
  const fill = (children, depth) => {
    while (children.length < MAX_LINKS && next < leaves.length) children.push(depth === 1 ? leaves[next++] : fill([], depth - 1));
    return commit(children);
  };
  let root = leaves[next++];
  for (let depth = 1; next < leaves.length; depth++) root = fill([root], depth);
  return cidText(root.cid);
}

// dag-pb links: [{name, cid (bytes)}]
function dagPbLinks(block) {
  const links = [];
  let at = 0;
  while (at < block.length) {
    let key, length;
    [key, at] = readVarint(block, at);
    if ((key & 7) !== 2) throw new Error("unexpected dag-pb field");
    [length, at] = readVarint(block, at);
    const body = block.subarray(at, at + length);
    at += length;
    if (key >> 3 !== 2) continue;
    let inner = 0, cid = null, name = "";
    while (inner < body.length) {
      let k, v;
      [k, inner] = readVarint(body, inner);
      if ((k & 7) === 0) { [v, inner] = readVarint(body, inner); continue; }
      [v, inner] = readVarint(body, inner);
      const value = body.subarray(inner, inner + v);
      inner += v;
      if (k >> 3 === 1) cid = value;
      if (k >> 3 === 2) name = new TextDecoder().decode(value);
    }
    links.push({ name, cid });
  }
  return links;
}

// -- JSON-RPC ----------------------------------------------------------------------------

const selector = (signature) => bytesToHex(keccak_256(new TextEncoder().encode(signature)).subarray(0, 4));
const word = (n) => BigInt(n).toString(16).padStart(64, "0");

class Unreachable extends Error {}
class NoToken extends Error {}

async function rpc(url, method, params) {
  let response;
  try {
    response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  } catch (error) {
    throw new Unreachable(`the node at ${url} could not be reached (${error.message})`);
  }
  if (!response.ok) throw new Unreachable(`the node answered HTTP ${response.status}`);
  const body = await response.json();
  if (body.error) throw new NoToken(`the node refused ${method}: ${body.error.message}`);
  return body.result;
}

async function call(url, to, data) {
  const result = await rpc(url, "eth_call", [{ to, data: "0x" + data }, "latest"]);
  if (typeof result !== "string" || result.length <= 2) throw new NoToken("the contract gave no answer (no such token or contract)");
  return hexToBytes(result.slice(2));
}

function abiString(bytes) {
  const offset = Number(BigInt("0x" + bytesToHex(bytes.subarray(0, 32))));
  const length = Number(BigInt("0x" + bytesToHex(bytes.subarray(offset, offset + 32))));
  return new TextDecoder().decode(bytes.subarray(offset + 32, offset + 32 + length));
}

async function fetchBytes(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Unreachable(`${url} could not be fetched (${error.message})`);
  }
  if (!response.ok) throw new Unreachable(`${url} answered HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

// The chain check of one token against the file `bytes` and its verdict `result`.
export async function checkToken({ rpcUrl, gateway, collection, tokenId }, bytes, result) {
  const check = { collection, token_id: tokenId, state: "ok", owner: null, token_uri: null, metadata_cid: null,
    commitment_ok: null, image_ok: null, provenance_ok: null, problems: [], notes: [] };
  const id = word(tokenId);
  let digest, directory, index;
  try {
    const content = await call(rpcUrl, collection, selector("contentOf(uint256)") + id);
    digest = content.subarray(0, 32);
    directory = content[63] === 1;
    index = Number(BigInt("0x" + bytesToHex(content.subarray(64, 96))));
    check.owner = "0x" + bytesToHex((await call(rpcUrl, collection, selector("ownerOf(uint256)") + id)).subarray(12, 32));
    check.token_uri = abiString(await call(rpcUrl, collection, selector("tokenURI(uint256)") + id));
  } catch (error) {
    check.state = error instanceof Unreachable ? "unreachable" : "not-found";
    check.notes.push(`The token could not be read: ${error.message}. This is not a sign of tampering.`);
    return check;
  }
  const base = gateway.replace(/\/+$/, "");
  let metadata;
  try {
    let expected;
    if (!directory) {
      expected = cidText(cidBytes(RAW, digest));
    } else {
      const folder = cidText(cidBytes(DAG_PB, digest));
      const block = await fetchBytes(`${base}/ipfs/${folder}?format=raw`);
      if (bytesToHex(sha256(block)) !== bytesToHex(digest)) throw new Error(`the block served for ${folder} is not it`);
      const link = dagPbLinks(block).find((l) => l.name === String(index));
      if (!link) throw new Error(`the committed batch ${folder} has no entry ${index}`);
      const { codec, digest: linkDigest } = parseCid(link.cid);
      expected = codec === RAW ? cidText(cidBytes(RAW, linkDigest)) : cidText(cidBytes(codec, linkDigest));
    }
    metadata = await fetchBytes(`${base}/ipfs/${expected}`);
    check.metadata_cid = fileCid(metadata);
    check.commitment_ok = check.metadata_cid === expected;
    if (!check.commitment_ok) check.problems.push(`The metadata found for it (${check.metadata_cid}) is not what the contract committed to (${expected}): the metadata was replaced.`);
  } catch (error) {
    if (error instanceof Unreachable) {
      check.state = "unreachable";
      check.notes.push(`Its metadata could not be fetched (${error.message}); the token was not checked. This is not a sign of tampering.`);
      return check;
    }
    check.state = "mismatch";
    check.commitment_ok = false;
    check.problems.push(`Its metadata cannot be read: ${error.message}`);
    return check;
  }
  compareMetadata(metadata, bytes, result, check);
  if (check.problems.length) check.state = "mismatch";
  return check;
}

function compareMetadata(metadataBytes, bytes, result, check) {
  let metadata;
  try {
    metadata = parseJson(new TextDecoder("utf-8", { fatal: true }).decode(metadataBytes), "The token metadata");
  } catch (error) {
    check.problems.push(`Its metadata is not readable JSON: ${error.message}`);
    return;
  }
  if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
    check.problems.push("Its metadata is not a JSON object.");
    return;
  }
  const fileCidText = fileCid(bytes);
  const image = metadata.image;
  check.image_ok = typeof image === "string" && image === `ipfs://${fileCidText}`;
  if (!check.image_ok) check.problems.push(`Its metadata names another image (${String(image).slice(0, 120)}), not this file (${fileCidText}).`);
  const provenance = metadata.provenance;
  if (provenance === null || typeof provenance !== "object" || Array.isArray(provenance)) {
    if (result.manifest !== null) { check.problems.push("Its metadata carries no provenance, but this file carries a studio manifest."); check.provenance_ok = false; }
    return;
  }
  if (result.manifest === null) { check.problems.push("Its metadata carries a provenance manifest, but this file carries none."); check.provenance_ok = false; return; }
  let ok = true;
  if (Object.hasOwn(provenance, "manifest")) {
    try {
      const claimed = checkSignedManifest({ manifest: provenance.manifest, signature: provenance.signature ?? null });
      if (manifestSha256(claimed.manifest) !== result.manifest_sha256) { check.problems.push("The manifest in its metadata is not this file's manifest."); ok = false; }
      if (claimed.signature !== result.signature) { check.problems.push("The signature in its metadata is not this file's signature."); ok = false; }
    } catch (error) {
      check.problems.push(`The manifest in its metadata is damaged: ${error.message}`);
      check.provenance_ok = false;
      return;
    }
  }
  if (provenance.manifest_sha256 !== undefined && provenance.manifest_sha256 !== null && provenance.manifest_sha256 !== result.manifest_sha256) {
    check.problems.push("The manifest hash in its metadata is not this file's manifest's hash."); ok = false;
  }
  if (provenance.pixel_hash !== undefined && provenance.pixel_hash !== null && provenance.pixel_hash !== result.manifest.pixel_hash) {
    check.problems.push("The pixel hash in its metadata is not this file's manifest's pixel hash."); ok = false;
  }
  if (!Object.hasOwn(provenance, "manifest") && !Object.hasOwn(provenance, "manifest_sha256")) {
    check.problems.push("The provenance in its metadata names no manifest."); ok = false;
  }
  check.provenance_ok = ok;
}

// A verdict with the token's check applied (a mismatch makes verified/unproven/no-provenance tampered).
export function withChain(result, check) {
  const out = { ...result, chain: [check], problems: [...result.problems], notes: [...result.notes] };
  out.problems.push(...check.problems.map((p) => `Token ${check.token_id} of ${check.collection}: ${p}`));
  out.notes.push(...check.notes.map((n) => `Token ${check.token_id} of ${check.collection}: ${n}`));
  if (check.problems.length && ["verified", "unproven", "no-provenance"].includes(out.verdict)) out.verdict = "tampered";
  return out;
}

export { jcs };
