// Run in a fresh sandbox by test/unit/sockets-accept.test.ts: a listener's nextConnection gives up after its
// timeout when no connection comes, and the calls after it get the connections in order.
import { execFileSync } from 'node:child_process';
import { WaitTimeout } from '../../../harness/errors.ts';
import { connect, listen } from '../../../harness/kernel/sockets.ts';

execFileSync('ip', ['link', 'set', 'lo', 'up']);
const l = await listen({ host: '127.0.0.1', port: 9100 });
const t0 = Date.now();
const first = await l.nextConnection(150).then(() => 'accepted', (e: unknown) => (e instanceof WaitTimeout ? e.message : `other: ${String(e)}`));
const waited = Date.now() - t0;
const a = await connect(9100, '127.0.0.1');
const b = await connect(9100, '127.0.0.1');
const [sa, sb] = [await l.nextConnection(2000), await l.nextConnection(2000)];
const order = [sa.remotePort === a.localPort, sb.remotePort === b.localPort];
a.destroy();
b.destroy();
await l.close();
process.stdout.write(JSON.stringify({ first, waited, order }) + '\n');
process.exit(0);
