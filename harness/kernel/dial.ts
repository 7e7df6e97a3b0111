// A connect() the lab can watch while it is still pending (SYN-SENT), with the outcome and its timing
// (connected after N ms, or the errno it failed with after N ms) as plain data.
import net from 'node:net';

/** How a connection attempt ended. */
export type DialOutcome = { ok: true; ms: number } | { ok: false; code: string; ms: number };

export interface Dial {
  socket: net.Socket;
  /** the client port (bound before connect, so it is known while the SYN is unanswered) */
  localPort: number;
  startedAt: number;
  /** resolves when connect() succeeds or fails (never rejects) */
  outcome: Promise<DialOutcome>;
  /** resolves with the first error the socket reports after connecting (ECONNRESET, EPIPE ...) */
  laterError: Promise<{ code: string; atMs: number }>;
}

/** Start connecting from a chosen local port and return at once (the SYN may still be unanswered). */
export function dial(port: number, localPort: number, host = '127.0.0.1', opts: { allowHalfOpen?: boolean } = {}): Dial {
  const startedAt = Date.now();
  const socket = net.connect({ port, host, localPort, localAddress: host, allowHalfOpen: opts.allowHalfOpen ?? false });
  let connected = false;
  const outcome = new Promise<DialOutcome>((resolve) => {
    socket.once('connect', () => {
      connected = true;
      resolve({ ok: true, ms: Date.now() - startedAt });
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      if (!connected) resolve({ ok: false, code: e.code ?? e.message, ms: Date.now() - startedAt });
    });
  });
  const laterError = new Promise<{ code: string; atMs: number }>((resolve) => {
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (connected) resolve({ code: e.code ?? e.message, atMs: Date.now() });
    });
  });
  return { socket, localPort, startedAt, outcome, laterError };
}
