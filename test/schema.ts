// Validate a result against harness/result.schema.json (the documented contract).
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import type { LabResult } from '../harness/result.ts';

const schema = JSON.parse(readFileSync(new URL('../harness/result.schema.json', import.meta.url), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

/** Throws with every schema violation listed if the result breaks the contract. */
export function assertContract(r: LabResult): void {
  if (!validate(r)) throw new Error(`${r.lab} result breaks the contract: ${JSON.stringify(validate.errors, null, 1)}`);
}
