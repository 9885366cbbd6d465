// The pixel hash (docs/provenance-spec.md, "The pixel hash"), computed from pngjs's decoding of
// the PNG (not a canvas, which may colour-manage or premultiply).
import { Buffer } from "buffer";
import pngjs from "pngjs/browser.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { Unreadable } from "./png.js";

const { PNG } = pngjs;
const ascii = (text) => new TextEncoder().encode(text);

function decode(bytes) {
  try {
    // skipRescale: 16-bit samples stay 16-bit, 1/2/4-bit grey stays as stored (scaled below)
    return PNG.sync.read(Buffer.from(bytes), { skipRescale: true });
  } catch (error) {
    throw new Unreadable(`its pixels cannot be decoded (${error.message})`);
  }
}

// {width, height, layout, samples} as the spec defines them: RGBA when the image has alpha (an alpha
// channel or tRNS), else RGB; 16-bit samples big-endian. `rgba` keeps all four samples (for pixelHashV1).
export function canonicalSamples(bytes, header) {
  const canonical = canonicalRGBA(bytes, header);
  const alpha = header.colourType === 4 || header.colourType === 6 || header.transparency !== null;
  const size = header.depth === 16 ? 2 : 1;
  let samples = canonical.samples;
  if (!alpha) {
    samples = new Uint8Array(header.width * header.height * 3 * size);
    for (let i = 0, o = 0; i < canonical.samples.length; i += 4 * size) {
      for (let k = 0; k < 3 * size; k++) samples[o++] = canonical.samples[i + k];
    }
  }
  const layout = (alpha ? "RGBA" : "RGB") + (header.depth === 16 ? "16" : "8");
  return { width: header.width, height: header.height, layout, samples, rgba: canonical.samples };
}

function canonicalRGBA(bytes, header) {
  const png = decode(bytes);
  const { width, height } = header;
  const count = width * height * 4;
  if (png.width !== width || png.height !== height || png.data.length !== count) {
    throw new Unreadable("its decoded pixels do not match its header");
  }
  const data = png.data;
  if (header.transparency !== null && (header.colourType === 0 || header.colourType === 2)) {
    // pngjs zeroes a pixel that matches the colour key; by definition its colour is the key's
    const t = header.transparency;
    const key = header.colourType === 0 ? [0, 0, 0].map(() => (t[0] << 8) | t[1])
      : [0, 2, 4].map((at) => (t[at] << 8) | t[at + 1]);
    for (let i = 0; i < count; i += 4) {
      if (data[i + 3] === 0) { data[i] = key[0]; data[i + 1] = key[1]; data[i + 2] = key[2]; }
    }
  }
  if (header.depth === 16) {
    const samples = new Uint8Array(count * 2);
    for (let i = 0; i < count; i++) { samples[2 * i] = data[i] >> 8; samples[2 * i + 1] = data[i] & 0xff; }
    return { width, height, depth: 16, samples };
  }
  const samples = new Uint8Array(data.buffer, data.byteOffset, count).slice();
  if (header.depth < 8 && header.colourType === 0) {
    const scale = 255 / (2 ** header.depth - 1);
    for (let i = 0; i < count; i += 4) {
      samples[i] *= scale; samples[i + 1] *= scale; samples[i + 2] *= scale;
      samples[i + 3] = samples[i + 3] === 0 ? 0 : 255;  // pngjs gives the largest sample, or 0 for the key
    }
  }
  return { width, height, depth: 8, samples };
}

export function pixelHashV2({ width, height, layout, samples }) {
  const head = ascii(`studio.pixels/2\n${width}x${height}\n${layout}\n`);
  const all = new Uint8Array(head.length + samples.length);
  all.set(head); all.set(samples, head.length);
  return bytesToHex(sha256(all));
}

// studio.provenance/1 hashed Pillow's view of the pixels: "<mode>\n<w>x<h>\n" and its raw bytes.
// It can be recomputed here for the 8-bit kinds Pillow keeps as they are (the studio made only
// RGB); other kinds give null ("cannot be checked here").
export function pixelHashV1(canonical, header) {
  if (header.depth !== 8 || header.transparency !== null) return null;
  const modes = { 0: ["L", [0]], 2: ["RGB", [0, 1, 2]], 4: ["LA", [0, 3]], 6: ["RGBA", [0, 1, 2, 3]] };
  const entry = modes[header.colourType];
  if (!entry) return null;
  const [mode, channels] = entry;
  const { width, height, rgba: samples } = canonical;
  const head = ascii(`${mode}\n${width}x${height}\n`);
  const out = new Uint8Array(head.length + width * height * channels.length);
  out.set(head);
  let at = head.length;
  for (let i = 0; i < samples.length; i += 4) for (const c of channels) out[at++] = samples[i + c];
  return bytesToHex(sha256(out));
}
