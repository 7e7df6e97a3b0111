// The common `ss -tanoH` line read in place, without regular expressions or per-line strings: a 30,000-socket
// dump parses in a fraction of what ss itself takes to print it. Lines it does not recognise are left to the
// general parser (ss-record.ts); test/unit/ss-fast.test.ts holds both to the same records.
import { SS_STATES, parseSsDuration, parseTimer, type SockRecord, type SsState, type SsTimer } from './ss-record.ts';

const TIMER = 'timer:(';
const SPACE = 32;

/** a word's key: first character, last character, length (no two state names, or timer names, share one) */
function keyOf(t: string, from: number, to: number): number {
  return (t.charCodeAt(from) << 16) | (t.charCodeAt(to - 1) << 8) | (to - from);
}

function keyTable<T extends string>(names: readonly T[]): Map<number, T> {
  const m = new Map<number, T>();
  for (const n of names) m.set(keyOf(n, 0, n.length), n);
  if (m.size !== names.length) throw new Error('two names share a key');
  return m;
}

const STATE_KEYS = keyTable(SS_STATES);
const TIMER_KEYS = keyTable(['timewait', 'keepalive', 'on', 'off', 'persist']);

/** the name spelled at t[from, to), as the table's own string (shared by every record), or undefined */
function named<T extends string>(keys: Map<number, T>, t: string, from: number, to: number): T | undefined {
  if (to <= from || to - from > 255) return undefined;
  const n = keys.get(keyOf(t, from, to));
  return n !== undefined && t.startsWith(n, from) ? n : undefined;
}

/** the end of the word at i: the next space, or `to` */
function wordEnd(t: string, i: number, to: number): number {
  const s = t.indexOf(' ', i);
  return s < 0 || s > to ? to : s;
}

function skipSpaces(t: string, i: number, to: number): number {
  while (i < to && t.charCodeAt(i) === SPACE) i++;
  return i;
}

/** a whole number of digits only, else NaN */
function digits(t: string, from: number, to: number): number {
  if (from === to) return NaN;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = t.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

/** print_ms_timer's text at t[from, to) (not empty), read in place; undefined when not plain (parseSsDuration decides) */
function durationAt(t: string, from: number, to: number): number | undefined {
  let ms = 0;
  let stage = 0; // 0: min may come; 1: sec or '.'; 2: ms; 3: nothing more
  let i = from;
  while (i < to) {
    let n = 0;
    const start = i;
    for (; i < to; i++) {
      const d = t.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
    }
    if (i === start || i === to) return undefined;
    const c = t.charCodeAt(i);
    if (c === 109 && stage === 0 && i + 3 <= to && t.startsWith('min', i)) {
      ms += n * 60_000;
      stage = 1;
      i += 3;
    } else if (c === 109 && stage <= 2 && i + 2 <= to && t.charCodeAt(i + 1) === 115) {
      ms += n;
      stage = 3;
      i += 2;
    } else if (c === 115 && stage <= 1 && i + 3 <= to && t.startsWith('sec', i)) {
      ms += n * 1000;
      stage = 2;
      i += 3;
    } else if (c === 46 && stage <= 1) {
      ms += n * 1000;
      stage = 2;
      i += 1;
    } else return undefined;
  }
  return stage === 0 ? undefined : ms;
}

/**
 * Timers by their text. A big dump repeats a few dozen (`timer:(timewait,56sec,0)` thousands of times), so
 * records with the same text share one frozen timer: a fraction of the objects to make and to collect.
 */
const timers = new Map<string, Readonly<SsTimer>>();
const MAX_TIMERS = 8192;

/** The timer whose text spans t[from, close] (`timer:(` to `)`). */
function timerAt(t: string, from: number, close: number): SsTimer {
  const raw = t.slice(from, close + 1);
  let timer = timers.get(raw);
  if (timer === undefined) {
    if (timers.size >= MAX_TIMERS) timers.clear();
    timer = Object.freeze(readTimer(t, from, close, raw));
    timers.set(raw, timer);
  }
  return timer as SsTimer;
}

/** parseTimer's record, read in place */
function readTimer(t: string, from: number, close: number, raw: string): SsTimer {
  const body = from + TIMER.length;
  const c1 = t.indexOf(',', body);
  const c2 = c1 < 0 || c1 > close ? -1 : t.indexOf(',', c1 + 1);
  if (c2 < 0 || c2 > close) return parseTimer(t.slice(body, close));
  let c3 = t.indexOf(',', c2 + 1);
  if (c3 < 0 || c3 > close) c3 = close;
  const remainingMs = c1 + 1 === c2 ? undefined : durationAt(t, c1 + 1, c2) ?? parseSsDuration(t.slice(c1 + 1, c2));
  const retransmits = digits(t, c2 + 1, c3);
  return {
    name: named(TIMER_KEYS, t, body, c1) ?? t.slice(body, c1),
    remainingMs,
    retransmits: Number.isNaN(retransmits) ? Number(t.slice(c2 + 1, c3)) : retransmits,
    raw,
  };
}

/**
 * The common line at t[from, to), read in place without regular expressions: columns separated by spaces (the
 * caller has made sure no other whitespace is there), then nothing or one timer. Anything else (users, -e
 * fields, a bad line) gives undefined and is left to parseSsLineGeneral. `only`: the state of a line without a
 * State column (ss leaves it out when asked for one state).
 */
export function parseFast(t: string, from: number, to: number, only?: SsState): SockRecord | undefined {
  const a = skipSpaces(t, from, to);
  const aWord = wordEnd(t, a, to);
  const said = named(STATE_KEYS, t, a, aWord);
  const aEnd = said !== undefined || !only ? aWord : a;
  const b = skipSpaces(t, aEnd, to);
  const bEnd = wordEnd(t, b, to);
  const c = skipSpaces(t, bEnd, to);
  const cEnd = wordEnd(t, c, to);
  const d = skipSpaces(t, cEnd, to);
  const dEnd = wordEnd(t, d, to);
  const e = skipSpaces(t, dEnd, to);
  const eEnd = wordEnd(t, e, to);
  if (eEnd === e || dEnd === d) return undefined;
  const state = said ?? only;
  const recvQ = digits(t, b, bEnd);
  const sendQ = digits(t, c, cEnd);
  if (state === undefined || Number.isNaN(recvQ) || Number.isNaN(sendQ)) return undefined;
  const f = skipSpaces(t, eEnd, to);
  if (f === to) return { state, recvQ, sendQ, local: t.slice(d, dEnd), peer: t.slice(e, eEnd) };
  if (!t.startsWith(TIMER, f)) return undefined;
  const close = t.indexOf(')', f);
  if (close < 0 || close >= to || skipSpaces(t, close + 1, to) !== to) return undefined;
  const open = t.indexOf('(', f + TIMER.length);
  if (open >= 0 && open < close) return undefined;
  // one literal per shape: adding `timer` later would move every record to another hidden class
  return { state, recvQ, sendQ, local: t.slice(d, dEnd), peer: t.slice(e, eEnd), timer: timerAt(t, f, close) };
}

