import lab from '../../labs/close-unread-rst.ts';
import { judgeCases } from '../judge-cases.ts';

const unread = { recvQ: 1000, rsts: 1, abortOnClose: 1, clientAfter: 'absent', serverAfter: 'absent', reads: ['-1 ECONNRESET', '0 (EOF)'] } as const;
const read = { recvQ: 0, rsts: 0, abortOnClose: 0, clientAfter: 'FIN-WAIT-2', serverAfter: 'CLOSE-WAIT', reads: ['0 (EOF)', '0 (EOF)'] } as const;
type Ev = { recvQ?: number; rsts?: number; abortOnClose?: number; serverAfter?: 'absent' | 'CLOSE-WAIT'; reads?: string[] };
const run = (u: Ev | undefined, r: Ev | undefined) => ({
  bytes: 1000,
  cases: [
    { name: 'unread' as const, ...(u ? { evidence: { ...unread, reads: [...unread.reads], ...u } } : { error: 'no 1000 bytes in the client receive queue after 2000 ms' }) },
    { name: 'all-read' as const, ...(r ? { evidence: { ...read, reads: [...read.reads], ...r } } : { error: 'timed out' }) },
  ],
});

export default judgeCases('close-unread-rst', lab, [
  { name: 'RST with unread data, FIN without: both confirmed', evidence: run({}, {}), expect: { 'unread-close-sends-rst': 'confirmed', 'read-close-sends-fin': 'confirmed' } },
  {
    name: 'a FIN although data was unread, an RST although nothing was: both refuted',
    evidence: run({ rsts: 0, abortOnClose: 0, serverAfter: 'CLOSE-WAIT', reads: ['1000 bytes', '0 (EOF)'] }, { rsts: 1, serverAfter: 'absent', reads: ['-1 ECONNRESET', '0 (EOF)'] }),
    expect: { 'unread-close-sends-rst': 'refuted', 'read-close-sends-fin': 'refuted' },
  },
  {
    name: 'RST counted but the server end lingers in CLOSE-WAIT: partly',
    evidence: run({ serverAfter: 'CLOSE-WAIT', reads: ['0 (EOF)', '0 (EOF)'] }, { serverAfter: 'absent' }),
    expect: { 'unread-close-sends-rst': 'partly', 'read-close-sends-fin': 'partly' },
  },
  {
    name: 'the unread bytes were not in Recv-Q at close (or the queue was not empty): inconclusive',
    evidence: run({ recvQ: 200 }, { recvQ: 5 }),
    expect: { 'unread-close-sends-rst': 'inconclusive', 'read-close-sends-fin': 'inconclusive' },
    observed: { 'unread-close-sends-rst': /Recv-Q at close: 200/ },
  },
  {
    name: 'cells whose set-up timed out: inconclusive',
    evidence: run(undefined, undefined),
    expect: { 'unread-close-sends-rst': 'inconclusive', 'read-close-sends-fin': 'inconclusive' },
  },
]);
