// Option sweep: run every lab once per option at that option's minimum and maximum (and each choice), the
// others at their defaults, and report any run that ends in an error instead of verdicts. Usage:
//   npm run sweep -- [lab ...] [--jobs N]        (no lab: every lab; takes minutes: some maxima wait on timers)
import { listLabs } from '../harness/runs/registry.ts';
import { runLab } from '../harness/runs/run.ts';
import type { OptionSpecs } from '../harness/lab/options.ts';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('npm run sweep -- [lab ...] [--jobs N]: run each lab at every option minimum, maximum and choice; list runs that end in error');
  process.exit(0);
}
const jobsAt = args.indexOf('--jobs');
const jobs = jobsAt >= 0 ? Number(args.splice(jobsAt, 2)[1]) : 2;
const all = await listLabs();
const chosen = args.length ? all.filter((l) => args.includes(l.name)) : all;

/** The option values worth a run: the ends of each range, every choice. */
function variants(options: OptionSpecs): Record<string, unknown>[] {
  return Object.entries(options).flatMap(([name, spec]): Record<string, unknown>[] => {
    if (spec.kind === 'int' || spec.kind === 'ints') return [spec.min, spec.max].filter((v) => v !== spec.default).map((v) => ({ [name]: String(v) }));
    if (spec.kind === 'choice' || spec.kind === 'list') return (spec.choices ?? []).filter((v) => JSON.stringify(v) !== JSON.stringify(spec.default)).map((v) => ({ [name]: v }));
    if (spec.kind === 'flag') return [{ [name]: !spec.default }];
    return [];
  });
}

const queue = chosen.flatMap((l) => [{}, ...variants(l.def.options)].map((options) => ({ lab: l, options })));
let bad = 0;
console.log(`sweep: ${queue.length} runs, ${jobs} at a time`);
await Promise.all(Array.from({ length: jobs }, async () => {
  for (let job = queue.shift(); job; job = queue.shift()) {
    const t0 = Date.now();
    const r = await runLab({ lab: job.lab, options: job.options });
    const what = `${job.lab.name} ${JSON.stringify(job.options)}`;
    const verdicts = r.claims.map((c) => `${c.id}=${c.verdict}`).join(' ');
    if (r.outcome === 'error') bad++;
    console.log(`${r.outcome === 'error' ? 'ERROR' : r.outcome.padEnd(5)} ${what} (${((Date.now() - t0) / 1000).toFixed(1)} s): ${r.outcome === 'error' ? r.reason : verdicts}`);
  }
}));
console.log(`sweep: ${bad} run(s) ended in error`);
process.exit(bad ? 1 : 0);
