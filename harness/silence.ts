// Make a peer "go silent" inside the sandbox without a firewall: every segment a local port sends on lo is
// classified (tc u32) into an HTB class whose queue holds nothing (pfifo limit 0), so it is dropped before
// delivery. netem, prio and matchall are not built into this kernel; htb, u32 and pfifo are (see the report).
import type { LabContext } from './context.ts';
import { LabSkip, CommandError } from './errors.ts';
import { run } from './exec.ts';

export interface Silence {
  /** segments dropped so far (tc -s on the drop queue) */
  dropped(): Promise<number>;
  /** let the port's segments through again */
  lift(): Promise<void>;
}

/** Drop every IPv4 segment whose source port is `port` on lo (the peer's kernel keeps working, unheard). */
export async function silenceFromPort(ctx: LabContext, port: number): Promise<Silence> {
  const cmds: string[][] = [
    ['qdisc', 'add', 'dev', 'lo', 'root', 'handle', '1:', 'htb', 'default', '1'],
    ['class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:1', 'htb', 'rate', '100gbit', 'quantum', '60000'],
    ['class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:2', 'htb', 'rate', '100gbit', 'quantum', '60000'],
    ['qdisc', 'add', 'dev', 'lo', 'parent', '1:2', 'handle', '2:', 'pfifo', 'limit', '0'],
    ['filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', 'sport', String(port), '0xffff', 'flowid', '1:2'],
  ];
  let installed = false;
  const lift = async () => {
    if (!installed) return;
    installed = false;
    await run('tc', ['qdisc', 'del', 'dev', 'lo', 'root']);
    ctx.event('fault', `lifted: segments from port ${port} flow again`, { port, action: 'lift' });
  };
  try {
    for (const c of cmds) {
      await run('tc', c);
      installed = true;
    }
  } catch (err) {
    await lift().catch(() => {});
    if (err instanceof CommandError) throw new LabSkip(`cannot drop segments with tc in the sandbox (${err.message}); needs sch_htb, cls_u32 and pfifo in the kernel`);
    throw err;
  }
  ctx.defer(lift);
  ctx.event('fault', `silence: every segment sent from port ${port} on lo is dropped (tc htb class 1:2 -> pfifo limit 0, u32 match ip sport ${port})`, { port, action: 'drop', tool: 'tc' });
  return {
    async dropped() {
      const out = await run('tc', ['-s', 'qdisc', 'show', 'dev', 'lo']);
      const m = /qdisc pfifo 2:[^\n]*\n\s*Sent \d+ bytes \d+ pkt \(dropped (\d+)/.exec(out);
      return m ? Number(m[1]) : 0;
    },
    lift,
  };
}
