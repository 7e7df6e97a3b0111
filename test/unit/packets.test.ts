// Packet captures as evidence (harness/evidence/packets.ts), on real captures recorded by
// scripts/record-fixture-pcaps.sh, checked against what tcpdump itself reads from the same files.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  connections, decodeTcp, formatIpv6, formatSegment, LINKTYPE, pcapHeader, pcapRecord, readPcap, segmentsOfPcap, type PcapFile, type Segment,
} from '../../harness/evidence/packets.ts';

const DIR = path.resolve(import.meta.dirname, '../fixtures/pcap');
const FIXTURES = ['handshake', 'close-four-way', 'close-fin-ack-combined', 'close-fin-ack-combined-v6', 'rst-unread', 'fin-retransmit', 'port-reuse', 'two-clients', 'handshake-sll', 'handshake-sll2'];
const file = (name: string) => path.join(DIR, `${name}.pcap`);
const load = (name: string) => readFileSync(file(name));
const HAVE_TCPDUMP = spawnSync('tcpdump', ['--version']).status === 0;
const NO_TCPDUMP = ' (skipped: tcpdump is not installed; apt-get install tcpdump)';

/** `tcpdump -tt -nr file`: [epoch time, the rest of the line] per packet. */
function tcpdump(f: string): { t: string; line: string }[] {
  const out = execFileSync('tcpdump', ['-tt', '-nr', f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.trim().split('\n').map((l) => ({ t: l.slice(0, l.indexOf(' ')), line: l.slice(l.indexOf(' ') + 1) }));
}
/** tcpdump's line without link-layer prefix, "IP"/"IP6" and TCP options: what formatSegment prints. */
const summary = (line: string) => line.replace(/^.*?\bIP6? /, '').replace(/, options \[[^\]]*\]/, '');

/** The same capture written big-endian (swap every header field). */
function bigEndian(buf: Buffer): Buffer {
  const b = Buffer.from(buf);
  const sw32 = (at: number) => b.writeUInt32BE(buf.readUInt32LE(at), at);
  const sw16 = (at: number) => b.writeUInt16BE(buf.readUInt16LE(at), at);
  [0, 8, 12, 16, 20].forEach(sw32);
  [4, 6].forEach(sw16);
  for (let at = 24; at < buf.length; at += 16 + buf.readUInt32LE(at + 8)) [0, 4, 8, 12].forEach((o) => sw32(at + o));
  return b;
}

function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'tcplab-pcap-'));
  onTestFinished(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

describe('readPcap', () => {
  it.each(FIXTURES)('reads %s: link type, snaplen, every frame', (name) => {
    const p = readPcap(load(name));
    expect(p.linktype).toBe(name.endsWith('sll2') ? LINKTYPE.LINUX_SLL2 : name.endsWith('sll') ? LINKTYPE.LINUX_SLL : LINKTYPE.ETHERNET);
    expect(p.snaplen).toBe(262144);
    expect(p.frames.length).toBeGreaterThanOrEqual(3);
    for (const f of p.frames) expect(f.data.length).toBe(f.caplen);
    expect(p.frames.map((f) => f.tsUs)).toEqual([...p.frames.map((f) => f.tsUs)].sort((a, b) => a - b));
  });

  it.skipIf(!HAVE_TCPDUMP)(`gives each frame the time tcpdump prints, µs and ns files alike${HAVE_TCPDUMP ? '' : NO_TCPDUMP}`, () => {
    for (const name of FIXTURES) {
      const times = tcpdump(file(name)).map((l) => Math.round(Number(l.t) * 1e6));
      expect(readPcap(load(name)).frames.map((f) => f.tsUs), name).toEqual(times);
    }
    expect(load('close-fin-ack-combined-v6').readUInt32LE(0)).toBe(0xa1b23c4d); // really a nanosecond file
  });

  it('reads both byte orders the same', () => {
    for (const name of ['close-four-way', 'close-fin-ack-combined-v6']) {
      const be = bigEndian(load(name));
      expect(be.readUInt32BE(0) >>> 16).toBe(0xa1b2);
      expect(readPcap(be)).toEqual(readPcap(load(name)));
    }
  });

  it('says what is wrong with a truncated or foreign file', () => {
    const buf = load('handshake');
    expect(() => readPcap(buf.subarray(0, 10))).toThrow(/not a pcap file: 10 bytes/);
    expect(() => readPcap(buf.subarray(0, 24 + 10))).toThrow(/truncated pcap: record 1 header at byte 24 is cut off/);
    expect(() => readPcap(buf.subarray(0, buf.length - 5))).toThrow(/truncated pcap: record 3 at byte \d+ needs \d+ bytes, the file has \d+/);
    expect(() => readPcap(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toThrow(/not a pcap file: magic 0x47455420/);
    expect(() => readPcap(Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000', 'hex'))).toThrow(/pcapng/);
    expect(readPcap(buf.subarray(0, 24)).frames).toEqual([]); // a header alone is an empty capture
  });

  it('with partial, a file cut in its last record (a killed writer) gives the whole records before it', () => {
    const buf = load('handshake');
    const whole = readPcap(buf);
    const cut = readPcap(buf.subarray(0, buf.length - 5), { partial: true });
    expect(cut.frames).toEqual(whole.frames.slice(0, -1));
    expect(cut.cut).toMatch(/truncated pcap: record 3 at byte \d+ needs/);
    expect(readPcap(buf.subarray(0, 24 + 10), { partial: true })).toMatchObject({ frames: [], cut: expect.stringMatching(/record 1 header/) });
    expect(whole.cut).toBeUndefined();
  });
});

describe('pcapHeader / pcapRecord', () => {
  it('round-trips a capture (ns → µs) and tcpdump reads the written file the same', () => {
    const orig = readPcap(load('close-fin-ack-combined-v6'));
    const written = Buffer.concat([pcapHeader(orig.linktype, orig.snaplen), ...orig.frames.map((f) => pcapRecord(f.tsUs, f.data, f.len))]);
    expect(written.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(readPcap(written)).toEqual(orig);
    if (!HAVE_TCPDUMP) return;
    const out = path.join(tmp(), 'w.pcap');
    writeFileSync(out, written);
    expect(tcpdump(out)).toEqual(tcpdump(file('close-fin-ack-combined-v6')));
  });

  it('keeps a cut frame cut (original length > captured) and refuses nonsense', () => {
    const rec = pcapRecord(1_700_000_000_123_456, Buffer.from([1, 2, 3]), 60);
    const back = readPcap(Buffer.concat([pcapHeader(1, 3), rec]));
    expect(back.frames).toEqual([{ tsUs: 1_700_000_000_123_456, caplen: 3, len: 60, data: Buffer.from([1, 2, 3]) }]);
    expect(() => pcapRecord(1.5, Buffer.alloc(1))).toThrow(/whole microseconds/);
    expect(() => pcapRecord(0, Buffer.alloc(4), 2)).toThrow(/less than the 4 bytes captured/);
  });
});

describe('decodeTcp and formatSegment against tcpdump', () => {
  it.skipIf(!HAVE_TCPDUMP).each(FIXTURES)(`%s: one segment per line, same summary as tcpdump -nr${HAVE_TCPDUMP ? '' : NO_TCPDUMP}`, (name) => {
    const { segments } = segmentsOfPcap(load(name));
    const want = tcpdump(file(name)).map((l) => summary(l.line));
    expect(segments).toHaveLength(want.length);
    // tcpdump prints a SYN's numbers absolute and makes the rest relative to the ISNs the SYN-ACK showed
    const got = connections(segments).flatMap((c) => c.segments).sort((a, b) => a.index - b.index)
      .map((fs) => formatSegment(fs.seg, fs.seg.flags.includes('S') ? undefined : { seq: fs.relSeq, ack: fs.relAck }));
    expect(got).toEqual(want);
  });

  it('decodes the same segments from Ethernet, Linux cooked v1/v2 and raw IP frames', () => {
    const strip = (s: Segment) => ({ ...s, tUs: 0 });
    const tuple = (segs: Segment[]) => segs.map((s) => `${s.src}:${s.sport}>${s.dst}:${s.dport} ${s.flags} ${s.len} ${s.win}`);
    const eth = segmentsOfPcap(load('handshake')).segments;
    expect(tuple(segmentsOfPcap(load('handshake-sll')).segments)).toEqual(tuple(eth));
    expect(tuple(segmentsOfPcap(load('handshake-sll2')).segments)).toEqual(tuple(eth));
    const orig = readPcap(load('close-fin-ack-combined-v6'));
    const raw: PcapFile = { ...orig, linktype: LINKTYPE.RAW, frames: orig.frames.map((f) => ({ ...f, data: f.data.subarray(14), caplen: f.caplen - 14, len: f.len - 14 })) };
    expect(decodeTcp(raw.frames, raw.linktype).map(strip)).toEqual(decodeTcp(orig.frames, orig.linktype).map(strip));
    expect(() => decodeTcp(orig.frames, 105)).toThrow(/link type 105 is not supported/);
  });

  it('reads TCP options: MSS, window scale, SACK permitted, timestamps', () => {
    const [syn, synAck, ack] = segmentsOfPcap(load('handshake')).segments;
    expect(syn.options).toMatchObject({ mss: 65495, wscale: 10, sackPerm: true, ts: { ecr: 0 } });
    expect(synAck.options!.ts!.ecr).toBe(syn.options!.ts!.val);
    expect(ack.options).toEqual({ ts: { val: expect.any(Number), ecr: synAck.options!.ts!.val } });
  });

  it('walks IPv6 extension headers and skips what is not a whole TCP segment', () => {
    const p = readPcap(load('close-fin-ack-combined-v6'));
    const frame = p.frames[3];
    const base = decodeTcp([frame], 1)[0];
    expect(base).toMatchObject({ flags: 'P.', len: 5, src: '::1', dst: '::1' });
    const withExt = (ext: Buffer, kind: number) => {
      const d = Buffer.concat([frame.data.subarray(0, 54), ext, frame.data.subarray(54)]);
      d[14 + 6] = kind;
      d.writeUInt16BE(frame.data.readUInt16BE(14 + 4) + ext.length, 14 + 4);
      return { ...frame, data: d, caplen: d.length, len: d.length };
    };
    const hopByHop = Buffer.from([60, 0, 1, 4, 0, 0, 0, 0]); // → destination options
    const destOpts = Buffer.from([6, 0, 1, 4, 0, 0, 0, 0]); // → TCP
    const chain = withExt(Buffer.concat([hopByHop, destOpts]), 0);
    expect(decodeTcp([chain], 1)).toEqual([base]);
    const atomicFragment = withExt(Buffer.from([6, 0, 0, 0, 0, 0, 0, 7]), 44);
    expect(decodeTcp([atomicFragment], 1)).toEqual([base]);
    const realFragment = withExt(Buffer.from([6, 0, 0, 1, 0, 0, 0, 7]), 44); // more fragments follow
    expect(decodeTcp([realFragment], 1)).toEqual([]);
    const cut = { ...frame, data: frame.data.subarray(0, frame.data.length - 3), caplen: frame.caplen - 3 }; // snaplen cut the payload
    expect(decodeTcp([cut], 1)).toEqual([base]);
    const v4 = readPcap(load('handshake')).frames[0];
    const udp = Buffer.from(v4.data);
    udp[14 + 9] = 17;
    const arp = Buffer.from(v4.data);
    arp.writeUInt16BE(0x0806, 12);
    expect(decodeTcp([{ ...v4, data: udp }, { ...v4, data: arp }, v4], 1).map((s) => s.frame)).toEqual([2]);
  });

  it('prints IPv6 addresses as inet_ntop does', () => {
    const a = (hex: string) => formatIpv6(Buffer.from(hex, 'hex'));
    expect(a('00000000000000000000000000000001')).toBe('::1');
    expect(a('fe800000000000000000000000000001')).toBe('fe80::1');
    expect(a('20010db8000000010000000000000000')).toBe('2001:db8:0:1::');
    expect(a('20010db8000100000001000000000001')).toBe('2001:db8:1:0:1::1');
    expect(a('00000000000000000000ffff7f000001')).toBe('::ffff:127.0.0.1');
    expect(a('20010db8000100010001000100010001')).toBe('2001:db8:1:1:1:1:1:1');
  });
});

describe('connections', () => {
  it('numbers a four-way close relative to each side\'s ISN (SYN = 0, first byte = 1)', () => {
    const [c] = connections(segmentsOfPcap(load('close-four-way')).segments);
    expect(c.initiator.name).toBe('127.0.0.1:40000');
    expect(c.responder.name).toBe('127.0.0.1:9000');
    expect(c.sawSyn).toBe(true);
    expect(c.isn.initiator).toBe(c.segments[0].seg.seq);
    expect(c.isn.responder).toBe(c.segments[1].seg.seq);
    expect(c.segments.map((s) => `${s.fromInitiator ? '>' : '<'} ${s.seg.flags} ${s.relSeq} ${s.relAck}`)).toEqual([
      '> S 0 0', '< S. 0 1', '> . 1 1', '> P. 1 1', '< . 1 7', '> F. 7 1', '< . 1 8', '< F. 1 8', '> . 8 2',
    ]);
    expect(c.segments.some((s) => s.retransmission || s.dupAck)).toBe(false);
  });

  it('shows the combined close: the server\'s FIN acknowledges the client\'s FIN', () => {
    const [c] = connections(segmentsOfPcap(load('close-fin-ack-combined')).segments);
    const tail = c.segments.slice(-3).map((s) => `${s.fromInitiator ? '>' : '<'} ${s.seg.flags} ${s.relSeq} ${s.relAck}`);
    expect(tail).toEqual(['> F. 6 6', '< F. 6 7', '> . 7 7']);
  });

  it('marks the retransmitted FIN, and nothing else', () => {
    const [c] = connections(segmentsOfPcap(load('fin-retransmit')).segments);
    const re = c.segments.filter((s) => s.retransmission);
    expect(re).toHaveLength(1);
    expect(re[0]).toMatchObject({ index: 6, fromInitiator: true, relSeq: 5 });
    expect(re[0].seg.flags).toBe('F.');
    expect(re[0].seg.tUs - c.segments[5].seg.tUs).toBeGreaterThan(150_000); // one RTO (≥ 200 ms) after the first FIN
  });

  it('ends with RST on close with unread data', () => {
    const [c] = connections(segmentsOfPcap(load('rst-unread')).segments);
    expect(c.segments.at(-1)).toMatchObject({ fromInitiator: false, relSeq: 1, relAck: 13 });
    expect(c.segments.at(-1)!.seg.flags).toBe('R.');
  });

  it('splits a reused port pair at the new SYN (another ISN)', () => {
    const conns = connections(segmentsOfPcap(load('port-reuse')).segments);
    expect(conns.map((c) => [c.id, c.initiator.name, c.responder.name, c.segments.length])).toEqual([
      [1, '127.0.0.1:40000', '127.0.0.1:9000', 8], [2, '127.0.0.1:40000', '127.0.0.1:9000', 8],
    ]);
    expect(conns[1].isn.initiator).not.toBe(conns[0].isn.initiator);
    expect(conns[1].segments[0]).toMatchObject({ index: 8, relSeq: 0, retransmission: false });
  });

  it('keeps two clients of one listener apart, in order of first appearance', () => {
    const conns = connections(segmentsOfPcap(load('two-clients')).segments);
    expect(conns.map((c) => `${c.initiator.port}->${c.responder.port} ${c.segments.length}`)).toEqual(['40000->9000 8', '40001->9000 8']);
  });

  const seg = (o: Partial<Segment> & Pick<Segment, 'flags' | 'seq'>): Segment => ({ tUs: 0, frame: 0, src: '10.0.0.2', sport: 40000, dst: '10.0.0.1', dport: 9000, ack: 0, len: 0, win: 100, ...o });
  const back = (o: Partial<Segment> & Pick<Segment, 'flags' | 'seq'>) => seg({ src: '10.0.0.1', sport: 9000, dst: '10.0.0.2', dport: 40000, ...o });

  it('tells a retransmitted SYN (same ISN) from a new connection (new ISN), and a duplicate ACK from a retransmission', () => {
    const conns = connections([
      seg({ flags: 'S', seq: 4294967290 }), seg({ flags: 'S', seq: 4294967290 }),
      back({ flags: 'S.', seq: 500, ack: 4294967291 }), seg({ flags: '.', seq: 4294967291, ack: 501 }),
      seg({ flags: 'P.', seq: 4294967291, ack: 501, len: 10 }), // wraps past 2^32
      back({ flags: '.', seq: 501, ack: 5 }), back({ flags: '.', seq: 501, ack: 5 }),
      seg({ flags: 'S', seq: 77 }),
    ]);
    expect(conns).toHaveLength(2);
    const c = conns[0].segments;
    expect(c.map((s) => s.retransmission)).toEqual([false, true, false, false, false, false, false]);
    expect(c.map((s) => s.dupAck)).toEqual([false, false, false, false, false, false, true]);
    expect(c[4]).toMatchObject({ relSeq: 1, relAck: 1 });
    expect(formatSegment(c[4].seg, { seq: c[4].relSeq, ack: c[4].relAck })).toBe('10.0.0.2.40000 > 10.0.0.1.9000: Flags [P.], seq 1:11, ack 1, win 100, length 10');
    expect(formatSegment(c[2].seg, { seq: c[2].relSeq, ack: c[2].relAck })).toBe('10.0.0.1.9000 > 10.0.0.2.40000: Flags [S.], seq 0, ack 1, win 100, length 0');
    expect(conns[1].segments[0]).toMatchObject({ relSeq: 0, retransmission: false });
  });

  it('copes with a capture that starts mid-connection or with the SYN-ACK', () => {
    const [mid] = connections([back({ flags: 'P.', seq: 1000, ack: 2000, len: 4 }), seg({ flags: '.', seq: 2000, ack: 1004 })]);
    expect(mid.initiator.name).toBe('10.0.0.1:9000'); // the first sender, for want of a SYN
    expect(mid.sawSyn).toBe(false);
    expect(mid.segments.map((s) => [s.relSeq, s.relAck])).toEqual([[1, 1], [1, 5]]);
    const [late] = connections([back({ flags: 'S.', seq: 300, ack: 11 }), seg({ flags: '.', seq: 11, ack: 301 })]);
    expect(late.initiator.name).toBe('10.0.0.2:40000'); // the SYN-ACK's receiver opened it
    expect(late.segments.map((s) => [s.relSeq, s.relAck])).toEqual([[0, 1], [1, 1]]);
  });
});
