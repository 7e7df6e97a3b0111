// Validate a lab's options (from the CLI or a library call) against its declared specs.
import { UserError } from '../errors.ts';
import type { LabDefinition, LabOptionSpec } from './define.ts';

function accepted(spec: LabOptionSpec): string {
  if (spec.choices) return `one of ${spec.choices.join(', ')}`;
  if (spec.type === 'number') {
    const range = spec.min !== undefined && spec.max !== undefined ? ` from ${spec.min} to ${spec.max}` : spec.min !== undefined ? ` >= ${spec.min}` : spec.max !== undefined ? ` <= ${spec.max}` : '';
    return `a whole number${range}`;
  }
  return spec.type === 'boolean' ? 'true or false' : 'a string';
}

function one(name: string, spec: LabOptionSpec, raw: unknown): unknown {
  const bad = () => new UserError(`option --${name}: '${String(raw)}' is not valid; expected ${accepted(spec)}`);
  switch (spec.type) {
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isInteger(n)) throw bad();
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) throw bad();
      return n;
    }
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw bad();
    case 'string': {
      if (typeof raw !== 'string' && typeof raw !== 'number') throw bad();
      const s = String(raw);
      if (spec.choices && !spec.choices.includes(s)) throw bad();
      return s;
    }
  }
}

/** Apply defaults and check every value; unknown option names are rejected. Throws UserError. */
export function validateLabOptions(def: LabDefinition, raw: Record<string, unknown>): Record<string, unknown> {
  const specs = def.options ?? {};
  for (const name of Object.keys(raw)) {
    if (!(name in specs)) {
      const known = Object.keys(specs);
      throw new UserError(`lab ${def.name} has no option --${name}${known.length ? `; its options are ${known.map((k) => `--${k}`).join(', ')}` : ''}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const value = raw[name] ?? spec.default;
    if (value === undefined) continue;
    if (spec.array) {
      const items = (Array.isArray(value) ? value : [value]).flatMap((v) => (typeof v === 'string' ? v.split(',') : [v])).filter((v) => v !== '');
      if (items.length === 0) throw new UserError(`option --${name}: needs at least one value; expected ${accepted(spec)}`);
      out[name] = [...new Set(items.map((v) => one(name, spec, v)))];
    } else {
      if (Array.isArray(value)) throw new UserError(`option --${name}: given ${value.length} times; give it once`);
      out[name] = one(name, spec, value);
    }
  }
  return out;
}
