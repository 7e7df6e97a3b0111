// Typed lab options: builders (whole number with range and unit, choice, list, flag) that validate raw input
// from the CLI or a library call once, so a lab's run() receives typed values and never casts.
import { optionErrors } from '../errors.ts';

/** One option of a lab: how it is shown in --help, its default, and how a raw value becomes a typed one. */
export interface OptionSpec<T> {
  readonly kind: 'int' | 'ints' | 'choice' | 'list' | 'flag';
  readonly describe: string;
  readonly default: T;
  /** what it accepts, for --help and error messages: "a whole number from 1 to 200 (ms)" */
  readonly accepted: string;
  readonly unit?: string;
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
  /** raw value (string from the CLI, or a typed value from a library call) → typed value; throws UserError */
  parse(raw: unknown, name: string): T;
}

export type OptionSpecs = Record<string, OptionSpec<unknown>>;
/** The typed values run() receives for a lab's option specs. */
export type OptionValues<S extends OptionSpecs> = { [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never };

/** A whole number in decimal digits only (no 0x, 1e3, blanks or fractions), within [min, max]. */
function wholeNumber(raw: unknown, name: string, min: number, max: number, accepted: string): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw optionErrors.badValue(name, raw, accepted);
  return n;
}

/** Split a list value: repeated options arrive as an array, a comma-separated one as a string. */
function items(raw: unknown, name: string, accepted: string): unknown[] {
  const out = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => (typeof v === 'string' ? v.split(',') : [v])).filter((v) => v !== '');
  if (out.length === 0) throw optionErrors.empty(name, accepted);
  return out;
}

/** A whole number from min to max (inclusive); `unit` is shown in help and errors ("ms", "connections"). */
export function int(min: number, max: number, dflt: number, describe: string, unit?: string): OptionSpec<number> {
  const accepted = `a whole number from ${min} to ${max}${unit ? ` (${unit})` : ''}`;
  return { kind: 'int', describe, default: dflt, accepted, unit, min, max, parse: (raw, name) => wholeNumber(single(raw, name), name, min, max, accepted) };
}

/** A list of whole numbers from min to max, comma-separated or repeated; duplicates dropped, order kept. */
export function ints(min: number, max: number, dflt: readonly number[], describe: string, unit?: string): OptionSpec<number[]> {
  const accepted = `whole numbers from ${min} to ${max}${unit ? ` (${unit})` : ''}, comma-separated`;
  return {
    kind: 'ints', describe, default: [...dflt], accepted, unit, min, max,
    parse: (raw, name) => [...new Set(items(raw, name, accepted).map((v) => wholeNumber(v, name, min, max, accepted)))],
  };
}

/** One of a fixed set of words. */
export function choice<const C extends string>(values: readonly C[], dflt: C, describe: string): OptionSpec<C> {
  const accepted = `one of ${values.join(', ')}`;
  return {
    kind: 'choice', describe, default: dflt, accepted, choices: values,
    parse: (raw, name) => {
      const v = single(raw, name);
      if (typeof v !== 'string' || !values.includes(v as C)) throw optionErrors.badValue(name, v, accepted);
      return v as C;
    },
  };
}

/** Several of a fixed set of words, comma-separated or repeated; duplicates dropped, order kept. */
export function list<const C extends string>(values: readonly C[], dflt: readonly C[], describe: string): OptionSpec<C[]> {
  const accepted = `one or more of ${values.join(', ')}, comma-separated`;
  return {
    kind: 'list', describe, default: [...dflt], accepted, choices: values,
    parse: (raw, name) =>
      [...new Set(items(raw, name, accepted).map((v) => {
        if (typeof v !== 'string' || !values.includes(v as C)) throw optionErrors.badValue(name, v, accepted);
        return v as C;
      }))],
  };
}

/** On or off (--name, --no-name, --name=true|false). */
export function flag(dflt: boolean, describe: string): OptionSpec<boolean> {
  const accepted = 'true or false';
  return {
    kind: 'flag', describe, default: dflt, accepted,
    parse: (raw, name) => {
      const v = single(raw, name);
      if (typeof v === 'boolean') return v;
      if (v === 'true') return true;
      if (v === 'false') return false;
      throw optionErrors.badValue(name, v, accepted);
    },
  };
}

/** A non-list option given more than once is a mistake, not a value to join. */
function single(raw: unknown, name: string): unknown {
  if (Array.isArray(raw)) throw optionErrors.repeated(name, raw.length);
  return raw;
}

/** Apply defaults and parse every value; unknown option names are rejected with the lab's known ones. */
export function parseOptions<S extends OptionSpecs>(lab: string, specs: S, raw: Record<string, unknown>): OptionValues<S> {
  for (const name of Object.keys(raw)) if (!(name in specs)) throw optionErrors.unknown(lab, name, Object.keys(specs));
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) out[name] = raw[name] === undefined ? spec.default : spec.parse(raw[name], name);
  return out as OptionValues<S>;
}
