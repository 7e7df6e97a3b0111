// Validate a result against harness/result.schema.json (the documented contract).
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import type { LabResult } from '../harness/evidence/records.ts';

const schema = JSON.parse(readFileSync(new URL('../harness/results/result.schema.json', import.meta.url), 'utf8'));
// formats (date-time) are documentation here; checking them would need ajv-formats
const validate = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(schema);

/** Throws with every schema violation listed if the result breaks the contract. */
export function assertContract(r: LabResult): void {
  const ok = (validate as (x: unknown) => boolean)(r);
  if (!ok) throw new Error(`${r.lab} result breaks the contract: ${JSON.stringify(validate.errors, null, 1)}`);
}
