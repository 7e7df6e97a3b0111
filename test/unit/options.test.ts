import { describe, expect, it } from 'vitest';
import { UserError } from '../../harness/errors.ts';
import { defineLab } from '../../harness/lab/define.ts';
import { validateLabOptions } from '../../harness/lab/options.ts';
import { closestNames } from '../../harness/runs/registry.ts';

const lab = defineLab({
  name: 'demo',
  title: 'demo',
  description: 'demo',
  claims: [],
  options: {
    mode: { type: 'string', array: true, choices: ['a', 'b', 'c'], default: ['a', 'b'], describe: '' },
    count: { type: 'number', min: 1, max: 10, default: 2, describe: '' },
    verbose: { type: 'boolean', default: false, describe: '' },
  },
  run: async () => {},
});

describe('validateLabOptions', () => {
  it('applies defaults', () => {
    expect(validateLabOptions(lab, {})).toEqual({ mode: ['a', 'b'], count: 2, verbose: false });
  });
  it('accepts comma-separated and repeated array values, without repeats', () => {
    expect(validateLabOptions(lab, { mode: 'c,a' }).mode).toEqual(['c', 'a']);
    expect(validateLabOptions(lab, { mode: ['a', 'c', 'a'] }).mode).toEqual(['a', 'c']);
  });
  it('converts numbers and booleans given as text', () => {
    expect(validateLabOptions(lab, { count: '7', verbose: 'true' })).toMatchObject({ count: 7, verbose: true });
  });
  it.each([
    [{ mode: 'x' }, "option --mode: 'x' is not valid; expected one of a, b, c"],
    [{ count: '0' }, "option --count: '0' is not valid; expected a whole number from 1 to 10"],
    [{ count: 'many' }, "option --count: 'many' is not valid; expected a whole number from 1 to 10"],
    [{ count: 2.5 }, "option --count: '2.5' is not valid"],
    [{ verbose: 'maybe' }, "option --verbose: 'maybe' is not valid; expected true or false"],
    [{ count: [1, 2] }, 'option --count: given 2 times; give it once'],
    [{ colour: 'red' }, 'lab demo has no option --colour; its options are --mode, --count, --verbose'],
    [{ mode: '' }, 'option --mode: needs at least one value'],
  ])('rejects %j with a message naming the option, value and accepted values', (raw, message) => {
    expect(() => validateLabOptions(lab, raw)).toThrow(UserError);
    expect(() => validateLabOptions(lab, raw)).toThrow(message);
  });
});

describe('closestNames', () => {
  const names = ['time-wait-restart', 'time-wait-duration', 'handshake', 'linger-zero'];
  it('suggests near names', () => {
    expect(closestNames('time-wait-restrat', names)[0]).toBe('time-wait-restart');
    expect(closestNames('handshak', names)).toEqual(['handshake']);
    expect(closestNames('time-wait', names)).toEqual(['time-wait-duration', 'time-wait-restart']);
  });
  it('suggests nothing for something unrelated', () => {
    expect(closestNames('xyzzy-foo-bar', names)).toEqual([]);
  });
});
