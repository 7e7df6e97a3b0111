// The stand-in the bundles get for `assert` (harness/build/assert-lite.mjs): yargs' two checks behave as node:assert's.
import { describe, expect, it } from 'vitest';
import { notStrictEqual, strictEqual } from '../../harness/build/assert-lite.mjs';

describe('assert-lite', () => {
  it('passes what node:assert passes and throws where it throws, with the message given', () => {
    expect(() => strictEqual(1, 1)).not.toThrow();
    expect(() => strictEqual(NaN, NaN)).not.toThrow();
    expect(() => strictEqual(1, '1')).toThrow('expected "1", got 1');
    expect(() => strictEqual(1, 2, 'no dice')).toThrow('no dice');
    expect(() => notStrictEqual(1, 2)).not.toThrow();
    expect(() => notStrictEqual(undefined, undefined, 'a key twice')).toThrow('a key twice');
    const own = new TypeError('mine');
    expect(() => strictEqual(1, 2, own)).toThrow(own);
  });
});
