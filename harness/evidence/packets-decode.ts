// TCP segments out of captured frames: link layer (Ethernet, Linux cooked v1/v2, raw IP) → IPv4/IPv6 → TCP
// header and options. Frames that are not TCP (ARP, UDP, ICMP, fragments) are skipped. Pure.
import { LINKTYPE, type PcapFrame } from './packets-pcap.ts';

export interface TcpOptions {
  mss?: number;
  wscale?: number;
  sackPerm?: boolean;
  /** timestamps option: TSval and TSecr */
  ts?: { val: number; ecr: number };
  /** SACK blocks (absolute sequence numbers, left edge and right edge) */
  sack?: [number, number][];
}

export interface Segment {
  /** capture time, µs since the epoch */
  tUs: number;
  /** index of the frame in the capture (0-based) */
  frame: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  /** tcpdump's flag letters in its order: F S R P . U E W ("S.", "F.", "P.", "R", "none") */
  flags: string;
  /** absolute sequence number (uint32) */
  seq: number;
  /** absolute acknowledgment number (uint32; meaningful when flags include '.') */
  ack: number;
  /** payload bytes */
  len: number;
  /** window field as sent (not scaled) */
  win: number;
  options?: TcpOptions;
}

const FLAG_LETTERS: [number, string][] = [[0x01, 'F'], [0x02, 'S'], [0x04, 'R'], [0x08, 'P'], [0x10, '.'], [0x20, 'U'], [0x40, 'E'], [0x80, 'W']];
const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = new Set([0x8100, 0x88a8, 0x9100]);
const PROTO_TCP = 6;

/** tcpdump's flags field for a TCP flags byte: "S.", "FP.", "R", or "none". */
export function flagString(bits: number): string {
  const s = FLAG_LETTERS.filter(([b]) => bits & b).map(([, l]) => l).join('');
  return s || 'none';
}

/** flagString of every flags byte, made once: decoding looks each segment's up */
const FLAG_STRINGS = Array.from({ length: 256 }, (_, bits) => flagString(bits));

/** An IPv6 address as inet_ntop prints it: lowercase, longest run (≥ 2) of zero groups as ::, v4-mapped dotted. */
export function formatIpv6(b: Buffer): string {
  const words = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  let best = { at: -1, n: 0 };
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > best.n) best = { at: i, n: j - i };
    i = j;
  }
  if (best.n < 2) best = { at: -1, n: 0 };
  const dotted = `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  if (best.at === 0 && (best.n === 6 || (best.n === 5 && words[5] === 0xffff))) return `::${best.n === 5 ? 'ffff:' : ''}${dotted}`;
  const hex = (from: number, to: number) => words.slice(from, to).map((w) => w.toString(16)).join(':');
  if (best.at < 0) return hex(0, 8);
  return `${hex(0, best.at)}::${hex(best.at + best.n, 8)}`;
}

function parseOptions(b: Buffer): TcpOptions | undefined {
  const o: TcpOptions = {};
  for (let i = 0; i < b.length; ) {
    const kind = b[i];
    if (kind === 0) break;
    if (kind === 1) { i++; continue; }
    if (i + 1 >= b.length) break;
    const len = b[i + 1];
    if (len < 2 || i + len > b.length) break;
    const body = b.subarray(i + 2, i + len);
    if (kind === 2 && len === 4) o.mss = body.readUInt16BE(0);
    else if (kind === 3 && len === 3) o.wscale = body[0];
    else if (kind === 4 && len === 2) o.sackPerm = true;
    else if (kind === 8 && len === 10) o.ts = { val: body.readUInt32BE(0), ecr: body.readUInt32BE(4) };
    else if (kind === 5 && (len - 2) % 8 === 0) {
      o.sack = [];
      for (let k = 0; k < body.length; k += 8) o.sack.push([body.readUInt32BE(k), body.readUInt32BE(k + 4)]);
    }
    i += len;
  }
  return Object.keys(o).length ? o : undefined;
}

/** Addresses, the captured TCP bytes, and the TCP length the IP header states (beyond the capture when cut). */
interface L3 { src: string; dst: string; l4: Buffer; l4Len: number; }

/** IPv4 → TCP payload and addresses; undefined for other protocols, fragments or a cut header. */
function ipv4(b: Buffer): L3 | undefined {
  if (b.length < 20 || b[0] >> 4 !== 4) return undefined;
  const ihl = (b[0] & 0x0f) * 4;
  if (ihl < 20 || b.length < ihl || b[9] !== PROTO_TCP) return undefined;
  if (b.readUInt16BE(6) & 0x3fff) return undefined; // a fragment (MF set or offset ≠ 0)
  const total = b.readUInt16BE(2);
  // total 0: a TSO super-packet too big for the field; NaN lets decodeTcp use the frame's length instead
  const end = total === 0 ? b.length : Math.min(total, b.length);
  const ip = (o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
  return { src: ip(12), dst: ip(16), l4: b.subarray(ihl, Math.max(ihl, end)), l4Len: total === 0 ? NaN : total - ihl };
}

/** IPv6 → TCP past hop-by-hop, routing, destination-options, AH and atomic-fragment headers. */
function ipv6(b: Buffer): L3 | undefined {
  if (b.length < 40 || b[0] >> 4 !== 6) return undefined;
  const plen = b.readUInt16BE(4);
  const end = plen === 0 ? b.length : Math.min(40 + plen, b.length); // 0: a jumbogram or a GSO super-packet
  let next = b[6];
  let at = 40;
  for (;;) {
    if (next === PROTO_TCP) break;
    if (at + 8 > end) return undefined;
    if (next === 0 || next === 43 || next === 60) [next, at] = [b[at], at + (b[at + 1] + 1) * 8];
    else if (next === 51) [next, at] = [b[at], at + (b[at + 1] + 2) * 4];
    else if (next === 44) {
      if (b.readUInt16BE(at + 2) & 0xfff9) return undefined; // a real fragment (offset ≠ 0 or more to come)
      [next, at] = [b[at], at + 8];
    } else return undefined; // ESP, ICMPv6, UDP, no next header...
  }
  if (at > end) return undefined;
  return { src: formatIpv6(b.subarray(8, 24)), dst: formatIpv6(b.subarray(24, 40)), l4: b.subarray(at, end), l4Len: plen === 0 ? NaN : 40 + plen - at };
}

function byEthertype(type: number, b: Buffer): L3 | undefined {
  if (type === ETH_IPV4) return ipv4(b);
  if (type === ETH_IPV6) return ipv6(b);
  return undefined;
}

/** The network-layer packet of a frame, by link type. Throws on a link type we cannot read. */
function network(data: Buffer, linktype: number): L3 | undefined {
  switch (linktype) {
    case LINKTYPE.ETHERNET: {
      let at = 12;
      if (data.length < 14) return undefined;
      let type = data.readUInt16BE(at);
      while (ETH_VLAN.has(type) && data.length >= at + 6) [at, type] = [at + 4, data.readUInt16BE(at + 4)];
      return byEthertype(type, data.subarray(at + 2));
    }
    case LINKTYPE.LINUX_SLL:
      return data.length < 16 ? undefined : byEthertype(data.readUInt16BE(14), data.subarray(16));
    case LINKTYPE.LINUX_SLL2:
      return data.length < 20 ? undefined : byEthertype(data.readUInt16BE(0), data.subarray(20));
    case LINKTYPE.RAW:
      return data.length < 1 ? undefined : data[0] >> 4 === 4 ? ipv4(data) : ipv6(data);
    default:
      throw new Error(`pcap link type ${linktype} is not supported (supported: 1 Ethernet, 101 raw IP, 113 Linux cooked, 276 Linux cooked v2)`);
  }
}

/** Decode the TCP segments of a capture, in capture order; non-TCP frames are skipped. */
export function decodeTcp(frames: readonly PcapFrame[], linktype: number): Segment[] {
  const out: Segment[] = [];
  frames.forEach((f, frame) => {
    const l3 = network(f.data, linktype);
    if (!l3 || l3.l4.length < 20) return;
    const t = l3.l4;
    const hlen = (t[12] >> 4) * 4;
    if (hlen < 20 || hlen > t.length) return;
    // payload from the IP length (the capture may be cut short by the snaplen; the IP header is not)
    const l4Len = Number.isNaN(l3.l4Len) ? t.length + Math.max(0, f.len - f.caplen) : l3.l4Len;
    const seg: Segment = {
      tUs: f.tsUs, frame, src: l3.src, sport: t.readUInt16BE(0), dst: l3.dst, dport: t.readUInt16BE(2),
      flags: FLAG_STRINGS[t[13]], seq: t.readUInt32BE(4), ack: t.readUInt32BE(8), len: Math.max(0, l4Len - hlen), win: t.readUInt16BE(14),
    };
    const options = parseOptions(t.subarray(20, hlen));
    if (options) seg.options = options;
    out.push(seg);
  });
  return out;
}

/** "127.0.0.1:9000" / "[::1]:9000": an endpoint the way ss prints it. */
export function endpointName(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/**
 * One line like tcpdump's summary, without the time, "IP" and the options:
 * "127.0.0.1.9000 > 127.0.0.1.40000: Flags [S.], seq 0, ack 1, win 65483, length 0".
 * With `rel` the sequence and acknowledgment numbers printed are those (relative ones), else the absolute ones.
 */
export function formatSegment(seg: Segment, rel?: { seq: number; ack: number }): string {
  const seq = rel ? rel.seq : seg.seq;
  const ack = rel ? rel.ack : seg.ack;
  let s = `${seg.src}.${seg.sport} > ${seg.dst}.${seg.dport}: Flags [${seg.flags}]`;
  if (seg.len > 0 || /[SFR]/.test(seg.flags)) s += `, seq ${seq}${seg.len > 0 ? `:${(seq + seg.len) >>> 0}` : ''}`;
  if (seg.flags.includes('.')) s += `, ack ${ack}`;
  return `${s}, win ${seg.win}, length ${seg.len}`;
}
