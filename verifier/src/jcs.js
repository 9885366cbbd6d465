// Canonical JSON, as docs/provenance-spec.md ("Canonical JSON") defines it.
//
// jcs(): RFC 8785, the JSON Canonicalization Scheme. JavaScript's own JSON.stringify already
// writes strings and numbers as RFC 8785 asks (ECMAScript number serialisation: 7.0 is "7",
// 1e21 is "1e+21", -0 is "0"); keys are sorted by UTF-16 code units, which is what Array.sort
// does by default. Used for studio.provenance/2 manifests.
//
// pythonSortedJson(): the studio.provenance/1 form, Python's json.dumps(sort_keys=True,
// separators=(",", ":"), ensure_ascii=False): keys sorted by code point, the manifest's float
// fields (guidance, strength, weight) written as Python's repr() writes floats (7.0, 1e-05).

export class CanonicalError extends Error {}

export function jcs(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new CanonicalError("NaN and infinity have no canonical form");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return "[" + value.map(jcs).join(",") + "]";
  if (typeof value === "object") {
    const keys = Object.keys(value).sort();
    return "{" + keys.map((key) => JSON.stringify(key) + ":" + jcs(value[key])).join(",") + "}";
  }
  throw new CanonicalError(`a ${typeof value} has no JSON form`);
}

// Python's repr() of a float: the shortest digits that read back to the same double (the same
// digits ECMAScript picks), in fixed notation when the decimal exponent is from -4 to 15, with
// ".0" on whole numbers; otherwise d.ddde+XX / d.ddde-XX (at least two exponent digits).
export function pythonFloat(value) {
  if (!Number.isFinite(value)) throw new CanonicalError("NaN and infinity have no canonical form");
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const sign = value < 0 ? "-" : "";
  const [mantissa, exponentText] = Math.abs(value).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const exponent = Number(exponentText);
  if (exponent >= -5 + 1 && exponent < 16) {
    if (exponent >= 0) {
      const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
      const fraction = digits.slice(exponent + 1);
      return sign + whole + "." + (fraction || "0");
    }
    return sign + "0." + "0".repeat(-exponent - 1) + digits;
  }
  const body = digits.length > 1 ? digits[0] + "." + digits.slice(1) : digits;
  const expSign = exponent < 0 ? "-" : "+";
  return sign + body + "e" + expSign + String(Math.abs(exponent)).padStart(2, "0");
}

function compareCodePoints(a, b) {
  const left = Array.from(a), right = Array.from(b);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const diff = left[i].codePointAt(0) - right[i].codePointAt(0);
    if (diff) return diff;
  }
  return left.length - right.length;
}

// Python's json escapes: ", \, \n, \r, \t, \b, \f, other C0 controls as \u00xx; the rest as is.
function pythonString(text) {
  return JSON.stringify(text);  // the same escapes, for well-formed text
}

// floatPaths: a predicate (path array) -> true for values Python held as floats
export function pythonSortedJson(value, isFloat = () => false, path = []) {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "string") return pythonString(value);
  if (typeof value === "number") {
    if (isFloat(path)) return pythonFloat(value);
    if (!Number.isInteger(value)) return pythonFloat(value);
    return String(BigInt(value));
  }
  if (Array.isArray(value)) return "[" + value.map((item, i) => pythonSortedJson(item, isFloat, [...path, i])).join(",") + "]";
  if (typeof value === "object") {
    const keys = Object.keys(value).sort(compareCodePoints);
    return "{" + keys.map((key) => pythonString(key) + ":" + pythonSortedJson(value[key], isFloat, [...path, key])).join(",") + "}";
  }
  throw new CanonicalError(`a ${typeof value} has no JSON form`);
}
