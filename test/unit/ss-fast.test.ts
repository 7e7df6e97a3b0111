// The fast ss parser (ss-fast.ts) against the general one (regular expressions): the same record for every
// line, or the same error; whole outputs, one-state outputs (no State column), shared timers.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSs, parseSsLine, parseSsLineGeneral, ssParser, SS_STATES } from '../../harness/evidence/ss.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

/** the general parser's answer: a record, or the error message */
const general = (line: string) => {
  try {
    return parseSsLineGeneral(line);
  } catch (e) {
    return (e as Error).message;
  }
};
const fast = (line: string) => {
  try {
    return parseSsLine(line);
  } catch (e) {
    return (e as Error).message;
  }
};

/** a small deterministic generator (no Math.random: a failure must reproduce) */
function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

const ADDRS = ['127.0.0.1:9000', '127.0.0.1:40123', '0.0.0.0:*', '*:8080', '*:*', '[::1]:8443', '[::]:*', '[::ffff:127.0.0.1]:8080', '[fe80::1]%eth0:22', '127.0.0.1%lo:53', '10.199.0.2:65535'];
const TIMERS = ['', 'timer:(timewait,59sec,0)', 'timer:(keepalive,6.692ms,0)', 'timer:(on,1min5sec,7)', 'timer:(on,12min,15)', 'timer:(on,,1)', 'timer:(persist,1.5ms,0)', 'timer:(on,200ms,0)', 'timer:(on,5.,0)', 'timer:(timewait,3.120ms,0)', 'timer:(off,1min,x)', 'timer:(odd)', 'timer:(on,soon,0)', 'timer:(a,1sec,2,3)', 'timer:(on,1sec,)'];
const TAILS = ['', ' ', '   ', ' users:(("node",pid=1,fd=3))', ' uid:0 ino:123 sk:1 <->', ' timer:(on,1sec,0) extra', ' (x)'];
const STATES = [...SS_STATES, 'ESTABLISHED', 'TIME_WAIT', 'State'];

describe('the fast parser gives the general parser\'s records', () => {
  it('on every line of the recorded outputs', () => {
    for (const f of ['ss-tanoH-mixed.txt', 'ss-tanopH-mixed.txt']) {
      for (const line of lines(fixture(f))) expect(fast(line), line).toEqual(general(line));
      expect(parseSs(fixture(f))).toEqual(lines(fixture(f)).map(parseSsLineGeneral));
    }
  });

  it('on 5,000 generated lines: states, queues, addresses, spacing, timers, tails, and malformed ones', () => {
    const r = rng(20261201);
    const pick = <T>(xs: readonly T[]) => xs[r(xs.length)];
    const space = () => ' '.repeat(1 + r(6));
    let parsed = 0;
    for (let i = 0; i < 5000; i++) {
      const q = () => pick(['0', '1', '511', '4294967295', 'x', '']);
      const timer = pick(TIMERS);
      const line = `${r(3) ? '' : ' '}${pick(STATES)}${space()}${q()}${space()}${q()}${space()}${pick(ADDRS)}${space()}${pick(ADDRS)}${timer ? space() + timer : ''}${pick(TAILS)}`;
      const want = general(line);
      expect(fast(line), line).toEqual(want);
      if (typeof want !== 'string') parsed++;
    }
    expect(parsed).toBeGreaterThan(1000); // the generator does make parsable lines
  });

  it('on whitespace other than spaces (the general parser handles those lines)', () => {
    for (const line of ['ESTAB\t0\t0\t127.0.0.1:1\t127.0.0.1:2', 'TIME-WAIT 0 0 127.0.0.1:1 127.0.0.1:2 timer:(timewait,59sec,0)\r', 'LISTEN 0 5 *:1 *:*\f']) {
      const want = general(line);
      expect(fast(line), JSON.stringify(line)).toEqual(want);
      if (typeof want === 'string') expect(() => parseSs(`${line}\n${line}\n`)).toThrow(want);
      else expect(parseSs(`${line}\n${line}\n`)).toEqual([want, want]);
    }
  });
});

describe('parseSs', () => {
  it('skips blank lines and a header, keeps order', () => {
    const text = `State  Recv-Q Send-Q Local Address:Port Peer Address:Port\n\n  \nLISTEN 0 511 *:1 *:*\n\nESTAB 0 0 127.0.0.1:1 127.0.0.1:2\n`;
    expect(parseSs(text).map((s) => s.state)).toEqual(['LISTEN', 'ESTAB']);
    expect(parseSs('')).toEqual([]);
  });

  it('reads a one-state output (no State column) as that state, and a line with one as it says', () => {
    const out = '0      0      127.0.0.1:33016 127.0.0.1:9000 timer:(timewait,59sec,0)\n0      0      127.0.0.1:33032 127.0.0.1:9000\n';
    const recs = parseSs(out, { state: 'TIME-WAIT' });
    expect(recs).toEqual(lines(out).map((l) => parseSsLineGeneral(`TIME-WAIT ${l}`)));
    expect(parseSs('LISTEN 0 128 127.0.0.1:9000 0.0.0.0:*\n', { state: 'TIME-WAIT' })[0].state).toBe('LISTEN');
    expect(parseSs('0\t0\t127.0.0.1:1\t127.0.0.1:2\n', { state: 'CLOSE-WAIT' })[0]).toMatchObject({ state: 'CLOSE-WAIT', local: '127.0.0.1:1' });
    expect(() => parseSs('0 0 127.0.0.1:1\n', { state: 'ESTAB' })).toThrow(/unrecognised/);
  });

  it('shares one frozen timer between records with the same timer text', () => {
    const [a, b, c] = parseSs('TIME-WAIT 0 0 127.0.0.1:1 127.0.0.1:9 timer:(timewait,59sec,0)\nTIME-WAIT 0 0 127.0.0.1:2 127.0.0.1:9 timer:(timewait,59sec,0)\nTIME-WAIT 0 0 127.0.0.1:3 127.0.0.1:9 timer:(timewait,58sec,0)\n');
    expect(a.timer).toBe(b.timer);
    expect(c.timer).not.toBe(a.timer);
    expect(Object.isFrozen(a.timer)).toBe(true);
    expect(c.timer).toEqual({ name: 'timewait', remainingMs: 58_000, retransmits: 0, raw: 'timer:(timewait,58sec,0)' });
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });
});

describe('ssParser (fed piece by piece)', () => {
  it('gives parseSs\'s records however the output is cut', () => {
    const text = `${fixture('ss-tanoH-mixed.txt')}${fixture('ss-tanopH-mixed.txt')}\n\nLISTEN 0 5 *:1 *:*`;
    const want = parseSs(text);
    const r = rng(7);
    for (let trial = 0; trial < 200; trial++) {
      const p = ssParser();
      for (let at = 0; at < text.length; ) {
        const n = trial === 0 ? 1 : 1 + r(trial % 2 ? 40 : 400); // one character at a time, then random pieces
        p.push(text.slice(at, at + n));
        at += n;
      }
      expect(p.end()).toEqual(want);
    }
  });

  it('reads a one-state output in pieces, and a last line without its newline', () => {
    const p = ssParser({ state: 'TIME-WAIT' });
    p.push('0      0      127.0.0.1:33016 127.0.0.1:9000 timer:(timew');
    p.push('ait,59sec,0)\n0      0      127.0.0.1:1 127.0.0.1:9000');
    expect(p.end().map((x) => [x.state, x.local, x.timer?.remainingMs])).toEqual([['TIME-WAIT', '127.0.0.1:33016', 59_000], ['TIME-WAIT', '127.0.0.1:1', undefined]]);
  });
});
