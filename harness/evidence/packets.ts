// Packet captures as evidence: read a classic pcap file, decode its TCP segments, group them into
// connections with relative sequence numbers, and print them the way tcpdump does. Pure: no capture runs
// here (the harness's own capture, harness/kernel/capture.ts, writes the files; pcapHeader/pcapRecord make test files).
import { decodeTcp, type Segment } from './packets-decode.ts';
import { readPcap } from './packets-pcap.ts';

export { LINKTYPE, PCAP_MAGIC_NS, PCAP_MAGIC_US, pcapHeader, pcapRecord, readPcap, type PcapFile, type PcapFrame } from './packets-pcap.ts';
export { decodeTcp, endpointName, flagString, formatIpv6, formatSegment, type Segment, type TcpOptions } from './packets-decode.ts';
export { connections, type Connection, type FlowEndpoint, type FlowSegment } from './packets-flow.ts';

/** readPcap + decodeTcp: the TCP segments of a whole pcap file. */
export function segmentsOfPcap(buf: Buffer): { linktype: number; segments: Segment[] } {
  const file = readPcap(buf);
  return { linktype: file.linktype, segments: decodeTcp(file.frames, file.linktype) };
}
