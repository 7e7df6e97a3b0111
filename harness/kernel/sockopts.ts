// Socket options Node does not expose, set on in-process sockets (net.Socket) through libc and read back from
// the kernel: keepalive timing, TCP_USER_TIMEOUT, SO_LINGER, TCP_LINGER2, send/receive timeouts.
import type net from 'node:net';
import {
  IPPROTO_TCP, SOL_SOCKET, SO_KEEPALIVE, SO_RCVTIMEO, SO_SNDTIMEO, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_LINGER2,
  TCP_USER_TIMEOUT, getIntOption, getLinger, setIntOption, setLinger, setTimeoutOption,
} from './ffi.ts';
import { fdOf } from './sockets.ts';

export interface SockOpts {
  /** SO_KEEPALIVE on, with TCP_KEEPIDLE / TCP_KEEPINTVL (seconds) and TCP_KEEPCNT */
  keepalive?: { idle: number; interval: number; count: number };
  /** TCP_USER_TIMEOUT in ms */
  userTimeoutMs?: number;
  /** SO_LINGER: false = off, a number = {1, seconds} (0 makes close() send RST) */
  linger?: false | number;
  /** TCP_LINGER2 in seconds (< 0: no FIN-WAIT-2) */
  linger2?: number;
  rcvTimeoutMs?: number;
  sndTimeoutMs?: number;
}

/** What the kernel holds after setting, read back with getsockopt (plain data for the evidence). */
export interface SockOptsRead {
  keepalive?: { on: boolean; idle: number; interval: number; count: number };
  userTimeoutMs?: number;
  linger?: { onoff: boolean; seconds: number };
  linger2?: number;
}

/** Set the given options on a connected or listening Node socket and return them as the kernel reads them. */
export function setSockOpts(sock: net.Socket | net.Server, o: SockOpts): SockOptsRead {
  const fd = fdOf(sock);
  const read: SockOptsRead = {};
  if (o.keepalive) {
    setIntOption(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
    setIntOption(fd, IPPROTO_TCP, TCP_KEEPIDLE, o.keepalive.idle);
    setIntOption(fd, IPPROTO_TCP, TCP_KEEPINTVL, o.keepalive.interval);
    setIntOption(fd, IPPROTO_TCP, TCP_KEEPCNT, o.keepalive.count);
    read.keepalive = {
      on: getIntOption(fd, SOL_SOCKET, SO_KEEPALIVE) !== 0,
      idle: getIntOption(fd, IPPROTO_TCP, TCP_KEEPIDLE),
      interval: getIntOption(fd, IPPROTO_TCP, TCP_KEEPINTVL),
      count: getIntOption(fd, IPPROTO_TCP, TCP_KEEPCNT),
    };
  }
  if (o.userTimeoutMs !== undefined) {
    setIntOption(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, o.userTimeoutMs);
    read.userTimeoutMs = getIntOption(fd, IPPROTO_TCP, TCP_USER_TIMEOUT);
  }
  if (o.linger !== undefined) {
    setLinger(fd, o.linger !== false, o.linger === false ? 0 : o.linger);
    read.linger = getLinger(fd);
  }
  if (o.linger2 !== undefined) {
    setIntOption(fd, IPPROTO_TCP, TCP_LINGER2, o.linger2);
    read.linger2 = getIntOption(fd, IPPROTO_TCP, TCP_LINGER2);
  }
  if (o.rcvTimeoutMs !== undefined) setTimeoutOption(fd, SO_RCVTIMEO, o.rcvTimeoutMs);
  if (o.sndTimeoutMs !== undefined) setTimeoutOption(fd, SO_SNDTIMEO, o.sndTimeoutMs);
  return read;
}
