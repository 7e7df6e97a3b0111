// Segments grouped into connections: who opened each, the initial sequence numbers, relative seq/ack as
// tcpdump prints them, and which segments are retransmissions or duplicate ACKs. Pure.
import { endpointName, type Segment } from './packets-decode.ts';

export interface FlowEndpoint {
  addr: string;
  port: number;
  /** "127.0.0.1:9000" / "[::1]:9000", as ss prints it */
  name: string;
}

export interface FlowSegment {
  seg: Segment;
  /** index of the segment in the array given to connections() */
  index: number;
  /** sent by the initiator (else by the responder) */
  fromInitiator: boolean;
  /** sequence number relative to the sender's ISN: the SYN is 0, the first data byte 1 */
  relSeq: number;
  /** acknowledgment number relative to the receiver's ISN (0 when the segment carries no ACK) */
  relAck: number;
  /** carries data, SYN or FIN that starts below the highest sequence this side had already sent */
  retransmission: boolean;
  /** a pure ACK repeating the previous ACK and window of this side */
  dupAck: boolean;
}

export interface Connection {
  /** 1-based, in order of first appearance */
  id: number;
  /** the side that sent the first SYN (or, when no SYN was captured, the first sender) */
  initiator: FlowEndpoint;
  /** the other side: the listener when the SYN was captured */
  responder: FlowEndpoint;
  /** the initiator's SYN is in the capture */
  sawSyn: boolean;
  /** initial sequence numbers (absolute): from the SYNs, else inferred (the peer's ACK - 1, or first seq - 1; 0 if never seen) */
  isn: { initiator: number; responder: number };
  segments: FlowSegment[];
}

type Side = 'initiator' | 'responder';
interface SideState {
  isn?: number;
  /** the ISN came from a SYN this side sent */
  synIsn?: number;
  /** relative sequence just past the highest byte (or SYN/FIN) sent */
  maxEnd?: number;
  lastAck?: number;
  lastWin?: number;
  sent: number;
}
interface Open { conn: Connection; side: Record<Side, SideState>; }

const other = (s: Side): Side => (s === 'initiator' ? 'responder' : 'initiator');
const ep = (addr: string, port: number): FlowEndpoint => ({ addr, port, name: endpointName(addr, port) });
const tupleKey = (s: Segment) => [endpointName(s.src, s.sport), endpointName(s.dst, s.dport)].sort().join(' ');

/** Whether this bare SYN starts a new connection instead of belonging to the open one on its 4-tuple. */
function startsNew(o: Open, side: Side, seg: Segment): boolean {
  const st = o.side[side];
  if (st.synIsn !== undefined) return st.synIsn !== seg.seq; // same ISN: the SYN retransmitted
  // simultaneous open: the responder answers a SYN with a SYN of its own before sending anything else
  return !(side === 'responder' && o.conn.sawSyn && st.sent === 0);
}

function open(seg: Segment, id: number): Open {
  const has = (f: string) => seg.flags.includes(f);
  // a SYN-ACK without its SYN: the receiver is the initiator
  const fromResponder = has('S') && has('.');
  const a = ep(seg.src, seg.sport);
  const b = ep(seg.dst, seg.dport);
  const conn: Connection = {
    id, initiator: fromResponder ? b : a, responder: fromResponder ? a : b, sawSyn: has('S') && !has('.'),
    isn: { initiator: 0, responder: 0 }, segments: [],
  };
  return { conn, side: { initiator: { sent: 0 }, responder: { sent: 0 } } };
}

/** Group segments into connections (a 4-tuple, either direction; a new SYN with another ISN starts a new one). */
export function connections(segments: readonly Segment[]): Connection[] {
  const opened: Open[] = [];
  const byTuple = new Map<string, Open>();
  segments.forEach((seg, index) => {
    const key = tupleKey(seg);
    const bareSyn = seg.flags.includes('S') && !seg.flags.includes('.');
    let o = byTuple.get(key);
    if (o && bareSyn) {
      const side: Side = o.conn.initiator.addr === seg.src && o.conn.initiator.port === seg.sport ? 'initiator' : 'responder';
      if (startsNew(o, side, seg)) o = undefined;
    }
    if (!o) {
      o = open(seg, opened.length + 1);
      byTuple.set(key, o);
      opened.push(o);
    }
    const c = o.conn;
    const side: Side = c.initiator.addr === seg.src && c.initiator.port === seg.sport ? 'initiator' : 'responder';
    const me = o.side[side];
    const peer = o.side[other(side)];
    const flag = (f: string) => seg.flags.includes(f);
    if (flag('S') && me.synIsn === undefined && me.sent === 0) me.synIsn = me.isn = seg.seq;
    if (me.isn === undefined) me.isn = (seg.seq - 1) >>> 0; // capture began mid-stream: first byte seen is 1
    if (peer.isn === undefined && flag('.')) peer.isn = (seg.ack - 1) >>> 0;
    const relSeq = (seg.seq - me.isn) >>> 0;
    const relAck = flag('.') && peer.isn !== undefined ? (seg.ack - peer.isn) >>> 0 : 0;
    const span = seg.len + (flag('S') ? 1 : 0) + (flag('F') ? 1 : 0);
    const retransmission = span > 0 && me.maxEnd !== undefined && relSeq < me.maxEnd;
    if (span > 0) me.maxEnd = Math.max(me.maxEnd ?? 0, relSeq + span);
    const pureAck = flag('.') && span === 0 && !flag('R');
    const dupAck = pureAck && me.lastAck === seg.ack && me.lastWin === seg.win;
    if (flag('.')) [me.lastAck, me.lastWin] = [seg.ack, seg.win];
    me.sent++;
    c.segments.push({ seg, index, fromInitiator: side === 'initiator', relSeq, relAck, retransmission, dupAck });
  });
  for (const o of opened) o.conn.isn = { initiator: o.side.initiator.isn ?? 0, responder: o.side.responder.isn ?? 0 };
  return opened.map((o) => o.conn);
}
