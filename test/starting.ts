// For the tests of starting commands (kernel/spawn.ts): the same block once with posix_spawn, once with child_process.
import { afterAll, beforeAll, describe } from 'vitest';
import { preferChildProcess } from '../harness/kernel/spawn.ts';

export function eachWayOfStarting(title: string, body: () => void): void {
  describe.each([
    ['posix_spawn', false],
    ['child_process', true],
  ])(`${title} through %s`, (_name, childProcess) => {
    let was = false;
    beforeAll(() => {
      was = preferChildProcess(childProcess);
    });
    afterAll(() => {
      preferChildProcess(was);
    });
    body();
  });
}
