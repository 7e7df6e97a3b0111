// Vitest setupFiles (before every test file, in its own process): runLab starts its sandboxed runner from the
// builds test/setup-builds.ts made (harness/build/active.ts, TCP_LAB_RUNNER_BUILDS); this process stays on the
// sources. Child processes inherit it, so a CLI a test starts through tsx also gets bundled runners.
import path from 'node:path';
import { inject } from 'vitest';

const builds = inject('tcpLabBuilds');
process.env.TCP_LAB_RUNNER_BUILDS = [builds.labs, builds.fixtures].filter((d): d is string => !!d).join(path.delimiter);
