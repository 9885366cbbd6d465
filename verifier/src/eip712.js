// The creator's EIP-712 signature (docs/provenance-spec.md, "The signature"): the digest of the
// StudioProvenance message, and the address a 65-byte signature (r, s, v) recovers to.
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";

const utf8 = (text) => new TextEncoder().encode(text);
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
};

export const DOMAIN = { name: "Provenance Studio", version: "1" };
const DOMAIN_TYPE = "EIP712Domain(string name,string version)";
const MESSAGE_TYPE = "StudioProvenance(string schema,bytes32 manifestHash,bytes32 pixelHash,address creator)";

export function typedDataDigest({ schema, manifestHash, pixelHash, creator }) {
  const domainSeparator = keccak_256(concat(keccak_256(utf8(DOMAIN_TYPE)), keccak_256(utf8(DOMAIN.name)),
    keccak_256(utf8(DOMAIN.version))));
  const address = hexToBytes(creator.slice(2).toLowerCase());
  const structHash = keccak_256(concat(keccak_256(utf8(MESSAGE_TYPE)), keccak_256(utf8(schema)),
    hexToBytes(manifestHash), hexToBytes(pixelHash), new Uint8Array(12), address));
  return keccak_256(concat(new Uint8Array([0x19, 0x01]), domainSeparator, structHash));
}

export function checksumAddress(hex) {
  const lower = hex.toLowerCase().replace(/^0x/, "");
  const hash = bytesToHex(keccak_256(utf8(lower)));
  return "0x" + Array.from(lower, (ch, i) => (parseInt(hash[i], 16) >= 8 ? ch.toUpperCase() : ch)).join("");
}

export class BadSignature extends Error {}

// v must be 27 or 28 (0 and 1 are read as 27 and 28); r and s from 1 to n - 1.
export function recoverSigner(digest, signatureHex) {
  const raw = hexToBytes(signatureHex.slice(2));
  if (raw.length !== 65) throw new BadSignature(`An EIP-712 signature is 65 bytes, not ${raw.length}.`);
  const v = raw[64];
  if (![0, 1, 27, 28].includes(v)) throw new BadSignature(`its v byte is ${v}, not 27 or 28`);
  let point;
  try {
    const signature = secp256k1.Signature.fromBytes(raw.subarray(0, 64), "compact").addRecoveryBit(v % 27);
    point = signature.recoverPublicKey(digest);
  } catch (error) {
    throw new BadSignature(`it cannot come from any key (${error.message})`);
  }
  const publicKey = point.toBytes(false).subarray(1);
  return checksumAddress(bytesToHex(keccak_256(publicKey).subarray(12)));
}
