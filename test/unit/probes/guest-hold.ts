// Run by test/unit/guest-launch.test.ts as a process of its own: a guest boot (of the test's stand-in QEMU, which
// hangs) that prints "up" once QEMU started, so the test can SIGKILL this process and see QEMU die with it.
// argv[2]: JSON { kernel, share }.
import { runInGuest } from '../../../harness/guest/boot.ts';
import type { KernelEntry } from '../../../harness/guest/cache.ts';

const { kernel, share } = JSON.parse(process.argv[2] ?? '{}') as { kernel: KernelEntry; share: string };
await runInGuest({ kernel, command: ['true'], cwd: '/', share, accel: 'tcg', deadlineMs: 60000, onLine: () => console.log('up') });
