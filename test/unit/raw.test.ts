// Hand-made segments: the bytes decode back to what was asked, and tcpdump finds both checksums correct.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeTcp, pcapHeader, pcapRecord, readPcap } from '../../harness/evidence/packets.ts';
import { buildSegment } from '../../harness/kernel/raw.ts';
import { hasProgram } from '../helpers.ts';

const hasTcpdump = hasProgram('tcpdump');

const SEG = { src: '127.0.0.1', dst: '127.0.0.1', sport: 40000, dport: 20000, seq: 0xfffffff0, ack: 12345, flags: 'P.', ts: { val: 7, ecr: 9 }, payload: Buffer.from('stray data') };

function asPcap(packets: Buffer[]): Buffer {
  const eth = (ip: Buffer) => Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x00]), ip]);
  return Buffer.concat([pcapHeader(1, 65535), ...packets.map((p, i) => pcapRecord(1_700_000_000_000_000 + i, eth(p)))]);
}

describe('buildSegment', () => {
  it('decodes back to the addresses, ports, numbers, flags, timestamps and payload it was given', () => {
    const pcap = readPcap(asPcap([buildSegment(SEG), buildSegment({ ...SEG, flags: 'R', ts: undefined, payload: undefined, seq: 1 })]));
    const [a, b] = decodeTcp(pcap.frames, pcap.linktype);
    expect(a).toMatchObject({ src: '127.0.0.1', dst: '127.0.0.1', sport: 40000, dport: 20000, seq: 0xfffffff0, ack: 12345, flags: 'P.', len: 10, options: { ts: { val: 7, ecr: 9 } } });
    expect(b).toMatchObject({ flags: 'R', seq: 1, len: 0 });
    expect(b.options).toBeUndefined();
  });

  it.skipIf(!hasTcpdump)('has IP and TCP checksums that tcpdump calls correct', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tcplab-raw-'));
    try {
      const file = path.join(dir, 'raw.pcap');
      writeFileSync(file, asPcap([buildSegment(SEG), buildSegment({ ...SEG, flags: 'F.', payload: Buffer.from('odd') })]));
      const out = execFileSync('tcpdump', ['-vvnr', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      expect(out.match(/cksum 0x[0-9a-f]+ \(correct\)/g)).toHaveLength(2);
      expect(out).not.toMatch(/incorrect|bad cksum/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses what it cannot build', () => {
    expect(() => buildSegment({ ...SEG, src: '::1' })).toThrow(/not an IPv4 address/);
    expect(() => buildSegment({ ...SEG, flags: 'X' })).toThrow(/flag 'X'/);
  });
});
