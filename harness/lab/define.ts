// How a lab is declared: plain data (name, title, claims, options, sysctls) plus one async run function.
import type { LabContext } from './context.ts';

export interface ClaimSpec {
  id: string;
  /** seed article file name, e.g. 000_c4090bf7a4c28683.txt */
  source: string;
  /** the claim in our own words */
  statement: string;
}

export interface LabOptionSpec {
  type: 'number' | 'string' | 'boolean';
  describe: string;
  default?: number | string | boolean | readonly string[];
  choices?: readonly string[];
  /** several values allowed (comma-separated or repeated) */
  array?: boolean;
  min?: number;
  max?: number;
}

export interface LabDefinition {
  name: string;
  title: string;
  /** a paragraph for `--help` and the writeup: what the lab does and why */
  description: string;
  claims: ClaimSpec[];
  options?: Record<string, LabOptionSpec>;
  /** sysctls set inside the sandbox before run() (never on the host) */
  sysctls?: Record<string, string>;
  /** programs the lab needs inside the sandbox besides ss and ip; missing → skipped with the install hint */
  needs?: { program: string; install: string }[];
  run(ctx: LabContext): Promise<void>;
}

/** Declare a lab (identity function that gives the object its type). */
export function defineLab(def: LabDefinition): LabDefinition {
  return def;
}

/** The seed article names a lab cites, in claim order, without repeats. */
export function sourcesOf(def: LabDefinition): string[] {
  return [...new Set(def.claims.map((c) => c.source))];
}
