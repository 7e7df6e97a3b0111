// Every lab's options: defaults inside their ranges, and every value outside a range (or not a choice) refused as
// an option error before anything runs, never left to fail inside the lab. (Runs at the ends of each range:
// `npm run sweep`, which takes minutes because some maxima wait on kernel timers.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../harness/errors.ts';
import { parseOptions, type OptionSpecs } from '../../harness/lab/options.ts';
import { listLabs, loadLabModule } from '../../harness/runs/registry.ts';

const labs = await listLabs();

describe.each(labs.map((l) => [l.name, l.def.options as OptionSpecs] as const))('options of %s', (lab, specs) => {
  it('has defaults that parse as given', () => {
    expect(() => parseOptions(lab, specs, {})).not.toThrow();
  });
  for (const [name, spec] of Object.entries(specs)) {
    it(`--${name}: the ends of its range are accepted, one beyond them is an option error`, () => {
      const bad = (v: unknown) => expect(() => parseOptions(lab, specs, { [name]: v }), `${name}=${String(v)}`).toThrow(UserError);
      if (spec.min !== undefined && spec.max !== undefined) {
        for (const v of [spec.min, spec.max]) expect(() => parseOptions(lab, specs, { [name]: String(v) })).not.toThrow();
        bad(String(spec.min - 1));
        bad(String(spec.max + 1));
        bad('1.5');
        bad('0x10');
      }
      if (spec.choices) {
        for (const c of spec.choices) expect(() => parseOptions(lab, specs, { [name]: c })).not.toThrow();
        bad('no-such-choice');
      }
    });
  }
});

describe('a lab from source outside this project', () => {
  it('is refused in one line saying what to add when no package.json makes it an ES module', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tcplab-labs-'));
    try {
      writeFileSync(path.join(dir, 'x.ts'), 'export default {};\n');
      const err = await loadLabModule(path.join(dir, 'x.ts')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toBe(`${dir}: labs run from source are ES modules; put a package.json saying {"type": "module"} in that folder (or run without TCP_LAB_DEV=1)`);
      writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
      await expect(loadLabModule(path.join(dir, 'x.ts'))).rejects.toThrow(/does not export a lab as default/); // imported, then checked
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
