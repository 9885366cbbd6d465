// Reading a PNG as docs/provenance-spec.md says: its chunks (never trusting a length), its text
// chunks (tEXt, zTXt, iTXt; each at most 1 MiB, compressed or inflated, 16 MiB in all), its XMP
// packets, which chunks it has (a caBX C2PA store: src/c2pa.js) and the header of its pixels (IHDR, PLTE,
// tRNS, with CRCs).
import { Inflate } from "fflate";

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
export const MAX_TEXT_CHUNK = 1 << 20;
export const MAX_TEXT_TOTAL = 16 << 20;
const TEXT_TYPES = ["tEXt", "zTXt", "iTXt"];
const IMAGE_CHUNKS = ["IHDR", "PLTE", "tRNS", "IDAT"];
export const PNG_DEPTHS = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

export class Unreadable extends Error {}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function isPng(bytes) {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

const u32 = (bytes, at) => ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
const latin1 = (bytes) => Array.from(bytes, (b) => String.fromCharCode(b)).join("");
const kindOf = (bytes, at) => latin1(bytes.subarray(at, at + 4));

function inflateCapped(compressed) {
  const parts = [];
  let size = 0, tooBig = false;
  const inflater = new Inflate((chunk) => {
    size += chunk.length;
    if (size > MAX_TEXT_CHUNK) tooBig = true;
    else parts.push(chunk);
  });
  try {
    inflater.push(compressed, true);
  } catch (error) {
    throw new Error(`its compressed text is damaged (${error.message})`);
  }
  if (tooBig) throw new Error(`its text inflates past ${MAX_TEXT_CHUNK.toLocaleString("en")} bytes`);
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

function splitZero(bytes) {
  const at = bytes.indexOf(0);
  return at < 0 ? [bytes, null] : [bytes.subarray(0, at), bytes.subarray(at + 1)];
}

function decodeText(kind, body) {
  const [keyRaw, rest] = splitZero(body);
  if (rest === null || keyRaw.length < 1 || keyRaw.length > 79) throw new Error("its key is missing or longer than 79 bytes");
  const key = latin1(keyRaw);
  if (kind === "tEXt") return [key, latin1(rest)];
  if (kind === "zTXt") {
    if (!rest.length || rest[0] !== 0) throw new Error("it uses an unknown compression method");
    return [key, latin1(inflateCapped(rest.subarray(1)))];
  }
  if (rest.length < 2) throw new Error("it is too short");
  const compressed = rest[0], method = rest[1];
  const [, afterLanguage] = splitZero(rest.subarray(2));
  if (afterLanguage === null) throw new Error("its language fields are not terminated");
  let [, raw] = splitZero(afterLanguage);
  if (raw === null) throw new Error("its language fields are not terminated");
  if (compressed) {
    if (method !== 0) throw new Error("it uses an unknown compression method");
    raw = inflateCapped(raw);
  }
  try {
    return [key, new TextDecoder("utf-8", { fatal: true }).decode(raw)];
  } catch {
    throw new Error("its text is not UTF-8");
  }
}

function peekKey(body) {
  const [key, rest] = splitZero(body.subarray(0, 80));
  return rest === null ? "" : latin1(key);
}

// Every chunk's walk, as studio/provenance/png_text.py does it: text chunks decoded, the first of
// each key in `text`, later ones in `repeated`, damaged or too large ones skipped (with their key).
export function readChunks(bytes) {
  const text = new Map(), repeated = [], skippedKeys = [], problems = [], kinds = new Set();
  let offset = 8, total = 0, complete = false, first = true, ended = false;
  while (offset + 8 <= bytes.length) {
    const length = u32(bytes, offset);
    const kind = kindOf(bytes, offset + 4);
    const end = offset + 12 + length;
    if (first && kind !== "IHDR") { problems.push("the PNG does not start with its header chunk"); ended = true; break; }
    first = false;
    if (length > 0x7fffffff || end > bytes.length) {
      problems.push(`the file is cut short inside a '${kind}' chunk`); ended = true; break;
    }
    kinds.add(kind);
    if (kind === "IEND") { complete = true; ended = true; break; }
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (TEXT_TYPES.includes(kind)) {
      const crc = u32(bytes, offset + 8 + length);
      if (length > MAX_TEXT_CHUNK || total + length > MAX_TEXT_TOTAL) {
        problems.push(`a ${kind} chunk of ${length.toLocaleString("en")} bytes was skipped (the limit is ${MAX_TEXT_CHUNK.toLocaleString("en")})`);
        skippedKeys.push(peekKey(body));
      } else if (crc32(bytes.subarray(offset + 4, offset + 8 + length)) !== crc) {
        problems.push(`a ${kind} chunk is damaged (CRC mismatch) and was skipped`);
        skippedKeys.push(peekKey(body));
      } else {
        total += length;
        try {
          const [key, value] = decodeText(kind, body);
          if (text.has(key)) {
            problems.push(`the text key '${key.slice(0, 79)}' appears twice; the first one counts`);
            repeated.push([key, value]);
          } else {
            text.set(key, value);
          }
        } catch (error) {
          problems.push(`a ${kind} chunk was skipped: ${error.message}`);
          skippedKeys.push(peekKey(body));
        }
      }
    }
    offset = end;
  }
  if (!ended) problems.push("the file is cut short (no end chunk)");
  return { text, repeated, skippedKeys, problems, kinds, complete };
}

// IHDR, PLTE and tRNS: chunks up to the first IDAT, the image chunks' CRCs checked. A damaged or
// impossible header makes the file unreadable (spec: "Decoding").
export function pngHeader(bytes) {
  let offset = 8;
  const fields = new Map();
  for (;;) {
    if (offset + 8 > bytes.length) throw new Unreadable("the file ends before its image data");
    const length = u32(bytes, offset);
    const kind = kindOf(bytes, offset + 4);
    const end = offset + 8 + length;
    if (end + 4 > bytes.length) throw new Unreadable(`the file is cut short inside its '${kind}' chunk`);
    if (IMAGE_CHUNKS.includes(kind) && crc32(bytes.subarray(offset + 4, end)) !== u32(bytes, end)) {
      throw new Unreadable(`its ${kind} chunk is damaged (its CRC does not match)`);
    }
    if (fields.size === 0 && kind !== "IHDR") throw new Unreadable("it does not start with an IHDR chunk");
    if (kind === "IDAT") break;
    if (IMAGE_CHUNKS.includes(kind) && !fields.has(kind)) fields.set(kind, bytes.subarray(offset + 8, end));
    offset = end + 4;
  }
  const ihdr = fields.get("IHDR");
  if (ihdr.length !== 13) throw new Unreadable(`its IHDR chunk is ${ihdr.length} bytes, not 13`);
  const width = u32(ihdr, 0), height = u32(ihdr, 4);
  const depth = ihdr[8], colourType = ihdr[9], interlace = ihdr[12];
  if (!(PNG_DEPTHS[colourType] || []).includes(depth)) {
    throw new Unreadable(`it declares colour type ${colourType} with bit depth ${depth}, which PNG does not allow`);
  }
  if (width === 0 || height === 0 || interlace > 1) {
    throw new Unreadable(`it declares an image of ${width}x${height} pixels, interlace ${interlace}`);
  }
  const palette = fields.get("PLTE") || null;
  if (colourType === 3 && (!palette || !palette.length || palette.length % 3 || palette.length > 768)) {
    throw new Unreadable("it is a palette image without a valid palette (PLTE)");
  }
  const transparency = fields.get("tRNS") || null;
  if (transparency !== null) {
    const allowed = colourType === 3 ? transparency.length <= palette.length / 3
      : colourType === 0 ? transparency.length === 2 : colourType === 2 ? transparency.length === 6 : false;
    if (!allowed) throw new Unreadable(`its tRNS chunk (${transparency.length} bytes) does not fit colour type ${colourType}`);
  }
  return { width, height, depth, colourType, interlaced: interlace === 1, palette: colourType === 3 ? palette : null, transparency };
}
