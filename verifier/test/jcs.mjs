// The page's JCS on RFC 8785's own examples (Appendix B's numbers, the sorting example of 3.2.3,
// the full example of 3.2.4) and Python's float form on the manifest's floats. One line per case;
// exits 1 when any fails. Run by tests/verifier/test_spec_vectors.py.
import { jcs, pythonFloat } from "../src/jcs.js";

const APPENDIX_B = [
  ["0000000000000000", "0"], ["8000000000000000", "0"], ["0000000000000001", "5e-324"],
  ["8000000000000001", "-5e-324"], ["7fefffffffffffff", "1.7976931348623157e+308"],
  ["ffefffffffffffff", "-1.7976931348623157e+308"], ["4340000000000000", "9007199254740992"],
  ["c340000000000000", "-9007199254740992"], ["4430000000000000", "295147905179352830000"],
  ["44b52d02c7e14af5", "9.999999999999997e+22"], ["44b52d02c7e14af6", "1e+23"],
  ["44b52d02c7e14af7", "1.0000000000000001e+23"], ["444b1ae4d6e2ef4e", "999999999999999700000"],
  ["444b1ae4d6e2ef4f", "999999999999999900000"], ["444b1ae4d6e2ef50", "1e+21"],
  ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"], ["3eb0c6f7a0b5ed8d", "0.000001"],
  ["41b3de4355555553", "333333333.3333332"], ["41b3de4355555554", "333333333.33333325"],
  ["41b3de4355555555", "333333333.3333333"], ["41b3de4355555556", "333333333.3333334"],
  ["41b3de4355555557", "333333333.33333343"], ["becbf647612f3696", "-0.0000033333333333333333"],
  ["43143ff3c1cb0959", "1424953923781206.2"],
];
const double = (hex) => new DataView(Uint8Array.from(hex.match(/../g), (h) => parseInt(h, 16)).buffer).getFloat64(0);
const cases = APPENDIX_B.map(([hex, expected]) => [`appendix B ${hex}`, jcs(double(hex)), expected]);
const sorting = { "\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis" };
const order = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\ud83d\ude00", "\ufb33"];
cases.push(["3.2.3 sorting", jcs(sorting), "{" + order.map((k) => JSON.stringify(k) + ":" + JSON.stringify(sorting[k])).join(",") + "}"]);
const full = JSON.parse('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], '
  + '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}');
cases.push(["3.2.4 example", jcs(full), '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
  + '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}']);
for (const [value, expected] of [[7, "7.0"], [0.1, "0.1"], [1e-5, "1e-05"], [1e16, "1e+16"], [1e15, "1000000000000000.0"], [-2.5, "-2.5"]]) {
  cases.push([`python float ${value}`, pythonFloat(value), expected]);
}
let failed = 0;
for (const [name, got, expected] of cases) {
  const ok = got === expected;
  if (!ok) failed++;
  console.log(JSON.stringify({ name, ok, got, expected }));
}
console.log(`${cases.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
