import { describe, expect, it } from 'vitest';
import { UserError } from '../../harness/errors.ts';
import { choice, flag, int, ints, list, parseOptions } from '../../harness/lab/options.ts';
import { closestNames } from '../../harness/runs/registry.ts';

const specs = {
  mode: list(['a', 'b', 'c'], ['a', 'b'], ''),
  count: int(1, 10, 2, '', 'ms'),
  delays: ints(1, 5000, [200, 1000], ''),
  side: choice(['client', 'server'], 'client', ''),
  verbose: flag(false, ''),
};
const parse = (raw: Record<string, unknown>) => parseOptions('demo', specs, raw);

describe('lab options', () => {
  it('applies defaults', () => {
    expect(parse({})).toEqual({ mode: ['a', 'b'], count: 2, delays: [200, 1000], side: 'client', verbose: false });
  });
  it('accepts comma-separated and repeated list values, without repeats', () => {
    expect(parse({ mode: 'c,a' }).mode).toEqual(['c', 'a']);
    expect(parse({ mode: ['a', 'c', 'a'] }).mode).toEqual(['a', 'c']);
    expect(parse({ delays: '5,5,7' }).delays).toEqual([5, 7]);
  });
  it('converts numbers and booleans given as text', () => {
    expect(parse({ count: '7', verbose: 'true', side: 'server' })).toMatchObject({ count: 7, verbose: true, side: 'server' });
  });
  it.each([
    [{ mode: 'x' }, "option --mode: 'x' is not valid; expected one or more of a, b, c, comma-separated"],
    [{ count: '0' }, "option --count: '0' is not valid; expected a whole number from 1 to 10 (ms)"],
    [{ count: 'many' }, "option --count: 'many' is not valid"],
    [{ count: 2.5 }, "option --count: '2.5' is not valid"],
    [{ count: '0x5' }, "option --count: '0x5' is not valid"],
    [{ count: '5e0' }, "option --count: '5e0' is not valid"],
    [{ count: ' 5' }, "option --count: ' 5' is not valid"],
    [{ delays: '0' }, "option --delays: '0' is not valid; expected whole numbers from 1 to 5000"],
    [{ verbose: 'maybe' }, "option --verbose: 'maybe' is not valid; expected true or false"],
    [{ count: ['1', '2'] }, 'option --count: given 2 times; give it once'],
    [{ side: ['client', 'server'] }, 'option --side: given 2 times; give it once'],
    [{ colour: 'red' }, 'lab demo has no option --colour; its options are --mode, --count, --delays, --side, --verbose'],
    [{ mode: '' }, 'option --mode: needs at least one value'],
    [{ side: 'x\u001b[31m\n'.repeat(30) }, /^option --side: 'x\\x1b\[31m\\x0a.{40,50}\.\.\.' is not valid/],
  ])('rejects %j with a message naming the option, value and accepted values', (raw, message) => {
    expect(() => parse(raw)).toThrow(UserError);
    expect(() => parse(raw)).toThrow(message);
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
