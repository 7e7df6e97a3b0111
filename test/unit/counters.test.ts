import { describe, expect, it } from 'vitest';
import { counterDelta, formatDelta, parseProcNet, readCounters } from '../../harness/kernel/counters.ts';

const SNMP = `Ip: Forwarding DefaultTTL
Ip: 2 64
Tcp: RtoAlgorithm RtoMin OutRsts EstabResets
Tcp: 1 200 7 3
`;
const NETSTAT = `TcpExt: SyncookiesSent TCPAbortOnData TCPAbortOnClose
TcpExt: 0 4 1
IpExt: InNoRoutes
IpExt: 9
`;

describe('parseProcNet', () => {
  it('keys counters by group and name', () => {
    expect(parseProcNet(SNMP)).toEqual({ 'Ip.Forwarding': 2, 'Ip.DefaultTTL': 64, 'Tcp.RtoAlgorithm': 1, 'Tcp.RtoMin': 200, 'Tcp.OutRsts': 7, 'Tcp.EstabResets': 3 });
    expect(parseProcNet(NETSTAT)['TcpExt.TCPAbortOnData']).toBe(4);
    expect(parseProcNet(NETSTAT)['IpExt.InNoRoutes']).toBe(9);
  });
  it('rejects a header and value line of different groups or lengths', () => {
    expect(() => parseProcNet('Tcp: A B\nUdp: 1 2\n')).toThrow(/unexpected/);
    expect(() => parseProcNet('Tcp: A B\nTcp: 1\n')).toThrow(/2 names but 1 values/);
  });
  it('parses the real files of this namespace', async () => {
    const c = await readCounters();
    expect(typeof c['Tcp.OutRsts']).toBe('number');
    expect(typeof c['TcpExt.TCPAbortOnClose']).toBe('number');
  });
});

describe('counterDelta', () => {
  it('subtracts named counters, or lists the changed ones', () => {
    const a = { 'Tcp.OutRsts': 1, 'Tcp.InSegs': 10 };
    const b = { 'Tcp.OutRsts': 3, 'Tcp.InSegs': 10 };
    expect(counterDelta(a, b, ['Tcp.OutRsts', 'Tcp.InSegs'])).toEqual({ 'Tcp.OutRsts': 2, 'Tcp.InSegs': 0 });
    expect(counterDelta(a, b)).toEqual({ 'Tcp.OutRsts': 2 });
    expect(formatDelta({ 'Tcp.OutRsts': 2, 'Tcp.InSegs': 0 })).toBe('Tcp.OutRsts +2');
    expect(formatDelta({})).toBe('no change');
  });
});
