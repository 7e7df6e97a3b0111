import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEndpoint, parseSs, parseSsDuration, parseSsLine, SS_STATES, formatRecord } from '../../harness/evidence/ss.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');

describe('parseSs on recorded output', () => {
  it('parses every line of a recorded `ss -tanoH` (IPv4, IPv6, v4-mapped, wildcards, timers)', () => {
    const recs = parseSs(fixture('ss-tanoH-mixed.txt'));
    expect(recs).toHaveLength(9);
    const tw = recs.find((r) => r.state === 'TIME-WAIT')!;
    expect(tw).toMatchObject({ local: '[::1]:8443', peer: '[::1]:34720', recvQ: 0, sendQ: 0 });
    expect(tw.timer).toMatchObject({ name: 'timewait', remainingMs: 59_000, retransmits: 0 });
    const ka = recs.find((r) => r.timer?.name === 'keepalive')!;
    expect(ka.timer!.remainingMs).toBe(6_692);
    const listen = recs.filter((r) => r.state === 'LISTEN');
    expect(listen.map((r) => r.recvQ + '/' + r.sendQ)).toEqual(['0/511', '0/511']);
    const wildcard = listen.find((r) => r.local === '*:8080')!;
    expect(parseEndpoint(wildcard.local)).toEqual({ host: '*', port: 8080 });
    expect(parseEndpoint(wildcard.peer)).toEqual({ host: '*', port: '*' });
    expect(parseEndpoint(listen.find((r) => r.local.startsWith('['))!.peer)).toEqual({ host: '::', port: '*' });
    expect(parseEndpoint(recs[4].local)).toEqual({ host: '::ffff:127.0.0.1', port: 8080 });
    expect(recs.map((r) => r.state).sort()).toEqual(['CLOSE-WAIT', 'ESTAB', 'ESTAB', 'ESTAB', 'ESTAB', 'FIN-WAIT-2', 'LISTEN', 'LISTEN', 'TIME-WAIT']);
    expect(recs.every((r) => r.extra === undefined)).toBe(true);
  });

  it('parses the owning processes of `ss -tanopH`', () => {
    const recs = parseSs(fixture('ss-tanopH-mixed.txt'));
    const ka = recs.find((r) => r.timer?.name === 'keepalive')!;
    expect(ka.users).toEqual([{ command: 'node', pid: 4660, fd: 30 }]);
    expect(recs.find((r) => r.state === 'TIME-WAIT')!.users).toBeUndefined(); // a TIME-WAIT socket has no owner
    expect(recs.filter((r) => r.users?.length === 1)).toHaveLength(8);
  });
});

describe('parseSsLine', () => {
  // Lines in the exact format ss prints (iproute2 ss.c: sstate_name, print_ms_timer), one per state/timer form.
  const lines: [string, Partial<ReturnType<typeof parseSsLine>>, number | undefined][] = [
    ['SYN-SENT   0      1          10.0.0.1:40000        10.0.0.2:80    timer:(on,1.024ms,2)', { state: 'SYN-SENT', sendQ: 1 }, 1024],
    ['SYN-RECV   0      0          10.0.0.2:80           10.0.0.1:40000 timer:(on,200ms,0)', { state: 'SYN-RECV' }, 200],
    ['FIN-WAIT-1 0      1          127.0.0.1:9000        127.0.0.1:50000 timer:(on,1min5sec,7)', { state: 'FIN-WAIT-1' }, 65_000],
    ['LAST-ACK   0      1          127.0.0.1:9000        127.0.0.1:50000 timer:(on,12min,15)', { state: 'LAST-ACK' }, 720_000],
    ['CLOSING    0      1          127.0.0.1:9000        127.0.0.1:50000 timer:(on,,1)', { state: 'CLOSING' }, undefined],
    ['ESTAB      0      100        127.0.0.1:9000        127.0.0.1:50000 timer:(persist,1.5ms,0)', { state: 'ESTAB', sendQ: 100 }, 1005],
    ['UNCONN     0      0          127.0.0.1%lo:53       0.0.0.0:*', { state: 'UNCONN' }, undefined],
    ['FIN-WAIT-2 0      0          [fe80::1]%eth0:22     [fe80::2]%eth0:51000 timer:(timewait,3.120ms,0)', { state: 'FIN-WAIT-2' }, 3120],
  ];
  it.each(lines)('%s', (line, expected, ms) => {
    const r = parseSsLine(line);
    expect(r).toMatchObject(expected);
    expect(r.timer?.remainingMs).toBe(ms);
  });

  it('knows every state name ss prints for TCP', () => {
    for (const s of SS_STATES) expect(parseSsLine(`${s} 0 0 127.0.0.1:1 127.0.0.1:2`).state).toBe(s);
  });

  it('keeps the retransmit count', () => {
    expect(parseSsLine(lines[0][0]).timer).toMatchObject({ name: 'on', retransmits: 2 });
  });

  it('splits addresses with an interface scope', () => {
    expect(parseEndpoint('[fe80::1]%eth0:22')).toEqual({ host: 'fe80::1', port: 22, iface: 'eth0' });
    expect(parseEndpoint('127.0.0.1%lo:53')).toEqual({ host: '127.0.0.1', port: 53, iface: 'lo' });
  });

  it('rejects what is not a TCP socket line', () => {
    expect(() => parseSsLine('garbage')).toThrow(/unrecognised/);
    expect(() => parseSsLine('ESTABLISHED 0 0 1.2.3.4:5 6.7.8.9:10')).toThrow(/unknown ss state/);
  });

  it('keeps unparsed trailing fields (ss -e) as extra', () => {
    const r = parseSsLine('ESTAB 0 0 127.0.0.1:1 127.0.0.1:2 uid:0 ino:12345 sk:1 <->');
    expect(r.extra).toBe('uid:0 ino:12345 sk:1 <->');
  });

  it('round-trips through formatRecord', () => {
    const r = parseSsLine(lines[2][0]);
    expect(parseSsLine(formatRecord(r))).toEqual(r);
  });
});

describe('parseSsDuration (ss print_ms_timer)', () => {
  it.each([
    ['59sec', 59_000],
    ['200ms', 200],
    ['5.123ms', 5_123],
    ['1min', 60_000],
    ['1min30sec', 90_000],
    ['12min', 720_000],
    ['', undefined],
  ])('%s → %s', (text, ms) => expect(parseSsDuration(text)).toBe(ms));
  it('rejects nonsense', () => expect(() => parseSsDuration('soon')).toThrow());
});
