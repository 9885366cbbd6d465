// JSON from files, read as the spec says (docs/provenance-spec.md, "Reading JSON"): at most 64
// levels of nesting (counted over the brackets outside strings, before parsing), the grammar of
// RFC 8259 plus the literals NaN, Infinity and -Infinity (which the manifest rules then refuse),
// the last of repeated keys kept. A number written with a point or an exponent is a float: it is
// returned boxed (a Number object), a whole-number literal as a plain number, so that the rules
// for whole-number fields can tell 7 from 7.0.

export const MAX_DEPTH = 64;
export class JsonError extends Error {}

export function nestingDepth(text) {
  const stripped = text.replace(/"(?:[^"\\]|\\.)*"/gs, "");
  let depth = 0, deepest = 0;
  for (const ch of stripped) {
    if (ch === "[" || ch === "{") { depth++; deepest = Math.max(deepest, depth); }
    else if (ch === "]" || ch === "}") depth--;
  }
  return deepest;
}

export function parseJson(text, what = "The JSON") {
  if (nestingDepth(text) > MAX_DEPTH) {
    throw new JsonError(`${what} is nested more than ${MAX_DEPTH} levels deep, which no real file needs; it was not read.`);
  }
  let at = 0;
  const fail = (why) => { throw new JsonError(`${what} is not valid JSON (${why} at character ${at}).`); };
  const space = () => { while (at < text.length && " \t\n\r".includes(text[at])) at++; };
  const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
  function value() {
    space();
    const ch = text[at];
    if (ch === "{") {
      at++; const out = {}; space();
      if (text[at] === "}") { at++; return out; }
      for (;;) {
        space(); if (text[at] !== '"') fail("expected a key");
        const key = string(); space();
        if (text[at] !== ":") fail("expected ':'");
        at++;
        Object.defineProperty(out, key, { value: value(), enumerable: true, writable: true, configurable: true });
        space();
        if (text[at] === ",") { at++; continue; }
        if (text[at] === "}") { at++; return out; }
        fail("expected ',' or '}'");
      }
    }
    if (ch === "[") {
      at++; const out = []; space();
      if (text[at] === "]") { at++; return out; }
      for (;;) {
        out.push(value()); space();
        if (text[at] === ",") { at++; continue; }
        if (text[at] === "]") { at++; return out; }
        fail("expected ',' or ']'");
      }
    }
    if (ch === '"') return string();
    for (const [word, result] of [["true", true], ["false", false], ["null", null], ["NaN", new Number(NaN)],
      ["Infinity", new Number(Infinity)], ["-Infinity", new Number(-Infinity)]]) {
      if (text.startsWith(word, at)) { at += word.length; return result; }
    }
    NUMBER.lastIndex = at;
    const match = NUMBER.exec(text);
    if (!match) fail("unexpected character");
    at += match[0].length;
    const number = Number(match[0]);
    return match[1] !== undefined || match[2] !== undefined ? new Number(number) : number;
  }
  function string() {
    at++;
    let out = "";
    for (;;) {
      if (at >= text.length) fail("unterminated string");
      const ch = text[at];
      if (ch === '"') { at++; return out; }
      if (ch < " ") fail("control character in a string");
      if (ch === "\\") {
        const esc = text[at + 1];
        const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (esc in simple) { out += simple[esc]; at += 2; continue; }
        if (esc === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(at + 2, at + 6))) {
          out += String.fromCharCode(parseInt(text.slice(at + 2, at + 6), 16)); at += 6; continue;
        }
        fail("bad escape");
      }
      out += ch; at++;
    }
  }
  const result = value();
  space();
  if (at !== text.length) fail("extra data");
  return result;
}

// The plain value (boxed floats unboxed), for canonical forms and display.
export function plain(value) {
  if (value instanceof Number) return value.valueOf();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const out = {};
    for (const key of Object.keys(value)) Object.defineProperty(out, key, { value: plain(value[key]), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}
