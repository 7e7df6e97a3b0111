// The one door: everything a lab imports comes from here. Layers below (imports point down only):
//   kernel/   libc (ffi), sockets and socket options, sysctl, counters, nft faults, namespaces, commands
//   evidence/ ss parsing, census, fd ownership, the result records
//   actors/   processes that own sockets (so one can be killed), helper processes
//   lab/      define, typed options, context, judge, matrix, fixtures, connection ends, articles

// --- declaring a lab -------------------------------------------------------------------------------
export { defineLab, type Claims, type Lab, type LabSpec } from './lab/define.ts';
export { choice, flag, int, ints, list, type OptionValues } from './lab/options.ts';
export { all, atLeast, atMost, because, between, caveat, check, every, fig, is, isNot, missing, need, no, oneOf, some, yes, grade, type ClaimJudgement, type Figure, type Judged } from './lab/judge.ts';
export { A000, A001, A002, A003 } from './lab/articles.ts';
export { LabContext } from './lab/context.ts';
export { cellAt, cellsOf, type CellOf, type CellResult } from './lab/matrix.ts';
export { LabSkip, WaitTimeout } from './errors.ts';

// --- set-ups and observation -------------------------------------------------------------------------
export { churn, leave, loopback, pair, LOOPBACK, LOOPBACK6, type Family, type Left, type LeftState } from './lab/fixtures.ts';
export { describeEnd, endIn, endsOf, stateIn, waitForEnd, waitForGone, type End } from './lab/endpoints.ts';
export { replay, type Replayed, type SegmentSeen } from './lab/replay.ts';
export { census, filterSockets, formatCensus, RFC_NAME, type SockFilter } from './evidence/census.ts';
export { formatRecord, portOf, type SockRecord, type SsState } from './evidence/ss.ts';
export { readSockets } from './evidence/read.ts';
export { fdsHolding, inodeOfRecord, readSocketsWithInodes, socketInodeOf } from './evidence/fdinfo.ts';
export type { SnapshotRecord, TableRecord } from './evidence/records.ts';
export { formatSegment, type Segment } from './evidence/packets-decode.ts';

// --- kernel access -----------------------------------------------------------------------------------
export { adopt, closeActively, connect, fdOf, listen, readReuse, tryListen, type BindAttempt, type Listener } from './kernel/sockets.ts';
export { setSockOpts, type SockOpts, type SockOptsRead } from './kernel/sockopts.ts';
export { dial, type Dial, type DialOutcome } from './kernel/dial.ts';
export { Faults, NFT_INSTALL, type FaultRule, type SegmentKind } from './kernel/faults.ts';
export { counterDelta, formatDelta, readCounters, type Counters } from './kernel/counters.ts';
export { hasSysctl, readSysctl, sysctlPath, writeSysctl } from './kernel/sysctl.ts';
export { deadline, machineSlowness, timeScale } from './kernel/pace.ts';
export { createNetns, twoHosts, type Netns, type TwoHosts } from './kernel/topology.ts';
export { connectFrom, listenIn } from './kernel/topology-sockets.ts';
export { countersOf } from './kernel/topology-counters.ts';
export { until } from './kernel/wait.ts';
export { buildSegment, sendSegment, type RawSegment } from './kernel/raw.ts';
export { closeClient, connectClient, type ClientAttempt, type ClientSocketOptions } from './kernel/client-socket.ts';
export { IPPROTO_TCP, TCP_LINGER2, TCP_USER_TIMEOUT, closeFd, getIntOption, setIntOption, shutdownFd } from './kernel/ffi.ts';

// --- actors ------------------------------------------------------------------------------------------
export { checkActors, startActors, type Actor, type ActorExit } from './actors/actors.ts';
export { formatResult, type ActorEvent, type ConnInfo, type SyscallResult } from './actors/protocol.ts';
export { startHelper, type HelperMessage } from './actors/helper-process.ts';
