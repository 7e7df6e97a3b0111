// What yargs gets for `assert` in the bundles (bundle.mjs): it checks its own arguments with two of node:assert's
// functions, and loading node:assert pulls in Node's error formatting at every CLI start (~3.5 ms here, ~0.4 s of
// an emulated guest's CLI start, CPU profile there). The same two checks, plainly. Other packages keep Node's.

/** @param {unknown} actual @param {unknown} expected @param {string | Error} [message] */
export function strictEqual(actual, expected, message) {
  if (!Object.is(actual, expected)) fail(message, `expected ${show(expected)}, got ${show(actual)}`);
}

/** @param {unknown} actual @param {unknown} expected @param {string | Error} [message] */
export function notStrictEqual(actual, expected, message) {
  if (Object.is(actual, expected)) fail(message, `expected anything but ${show(expected)}`);
}

/** @param {unknown} v */
const show = (v) => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** @param {string | Error | undefined} message @param {string} otherwise @returns {never} */
function fail(message, otherwise) {
  if (message instanceof Error) throw message;
  throw new Error(message ?? otherwise);
}

export default { strictEqual, notStrictEqual };
