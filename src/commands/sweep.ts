// `tlbsim sweep SPEC`: the tasks of a sweep spec (input x profile x strategy), listed, run
// as one shard of N (a Kubernetes Indexed Job, a Slurm array, GNU parallel), or run as N
// shards in local processes. Each shard writes one Parquet file; `tlbsim aggregate` reads them.
import type { Command } from 'commander';
import { fail, printSafe, terminalSafe } from './util.ts';

export interface SweepCommandOptions {
  list?: boolean;
  shard?: string;
  shards?: string;
  jobs?: string;
  output?: string;
  workers?: string;
  force?: boolean;
}

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) fail(`${name} expects a positive integer, got "${text}"`, 2);
  return n;
}

/** The shard index a cluster scheduler gives this process (0-based), if any. */
function scheduledIndex(): { index: number; from: string } | null {
  for (const v of ['JOB_COMPLETION_INDEX', 'SLURM_ARRAY_TASK_ID']) {
    const s = process.env[v];
    if (s === undefined || s === '') continue;
    if (!/^\d+$/.test(s)) fail(`${v}="${s}" is not a shard index (a whole number from 0)`, 2);
    return { index: Number(s), from: v };
  }
  return null;
}

export async function runSweep(specPath: string, opts: SweepCommandOptions): Promise<void> {
  const { loadSweepSpec, parseShard, shardTasks } = await import('../sweep/spec.ts');
  const spec = await loadSweepSpec(specPath);
  const { join } = await import('node:path');
  const outDir = opts.output ?? join('reports/out/sweep', spec.name);
  if (opts.shard !== undefined && opts.shards !== undefined) fail('give either --shard I/N or --shards N, not both', 2);
  if (opts.jobs !== undefined && opts.shard !== undefined) fail('--jobs runs every shard locally: give --shards N (default: the job count), not --shard', 2);
  let shard: [number, number] | null = opts.shard !== undefined ? parseShard(opts.shard) : null;
  const jobs = opts.jobs === undefined ? undefined : positive('--jobs', opts.jobs);
  const shards = opts.shards === undefined ? undefined : positive('--shards', opts.shards);
  if (shard === null && shards !== undefined && jobs === undefined) {
    const s = scheduledIndex();
    if (s === null) fail('--shards N without --jobs needs JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID to say which shard this is (or give --shard I/N)', 2);
    if (s.index >= shards) fail(`${s.from}=${s.index} is not below --shards ${shards}`, 2);
    shard = [s.index, shards];
  }
  const workers = opts.workers === undefined ? undefined : positive('--workers', opts.workers);

  if (opts.list) {
    const tasks = shard ? shardTasks(spec.tasks, shard[0], shard[1]) : spec.tasks;
    for (const t of tasks) printSafe(JSON.stringify(t));
    return;
  }
  // Lines may quote a trace's path or its reader's message: no escape sequence reaches the terminal.
  const log = (line: string) => process.stderr.write(`${terminalSafe(line)}\n`);
  const { runShard } = await import('../sweep/run.ts');
  if (jobs === undefined) {
    const [i, n] = shard ?? [0, 1];
    const r = await runShard(spec, i, n, { outDir, force: opts.force === true, log, ...(workers ? { workers } : {}) });
    if (!r.skipped) printSafe(r.path);
    return;
  }
  // Local processes, each one shard, at most `jobs` at a time. Worker threads inside a
  // child would only compete with the other children for the same cores.
  const n = shards ?? jobs;
  const { spawn } = await import('node:child_process');
  const argv1 = process.argv[1];
  const pending = Array.from({ length: n }, (_, i) => i);
  const failedShards: number[] = [];
  const runOne = (i: number) => new Promise<void>((done) => {
    const args = [...process.execArgv, argv1, 'sweep', specPath, '--shard', `${i}/${n}`, '-o', outDir, '--workers', String(workers ?? 1), ...(opts.force ? ['--force'] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (code) => { if (code !== 0) failedShards.push(i); done(); });
    child.on('error', () => { failedShards.push(i); done(); });
  });
  await Promise.all(Array.from({ length: Math.min(jobs, n) }, async () => {
    for (let i = pending.shift(); i !== undefined; i = pending.shift()) await runOne(i);
  }));
  if (failedShards.length > 0) fail(`sweep: shard${failedShards.length > 1 ? 's' : ''} ${failedShards.sort((a, b) => a - b).map((i) => `${i}/${n}`).join(', ')} did not finish (see above); rerun to do only what is missing`, 1);
  printSafe(outDir);
}

export function register(program: Command): void {
  program.command('sweep')
    .description('list or run the tasks of a sweep spec (inputs x strategies x profiles) as shards, one Parquet file each')
    .argument('<spec>', 'sweep spec (JSON): {"inputs": [paths, globs, {"workload", "params", "grid", "zip"}], "strategies": [...], "profiles": [...]}')
    .option('--list', 'print the tasks (one JSON line each, in a stable order; of one shard with --shard/--shards) and run nothing')
    .option('--shard <I/N>', 'run the I-th (0-based) of N slices of the tasks')
    .option('--shards <n>', 'N slices; which one from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID, or all with --jobs')
    .option('--jobs <n>', 'run every shard here, in N processes at a time (--shards default: N)')
    .option('-o, --output <dir>', 'directory of the shard files (default reports/out/sweep/<spec name>)')
    .option('--workers <n>', 'worker threads per shard (default: as replay; 1 under --jobs)')
    .option('--force', 'overwrite a shard file written for another spec')
    .addHelpText('after', `
A finished shard (its file there, written for this spec) is skipped on a rerun; a task that
fails is a row with its error. Inputs are relative to the spec file's directory.

Examples:
  tlbsim sweep reports/sweep/scaling.json --list | wc -l
  tlbsim sweep reports/sweep/scaling.json --jobs 2 --shards 4 -o out/scaling
  JOB_COMPLETION_INDEX=3 tlbsim sweep scaling.json --shards 16 -o /results/scaling
  parallel tlbsim sweep scaling.json --shard {}/8 -o out ::: 0 1 2 3 4 5 6 7
  tlbsim aggregate out/scaling`)
    .action(async (spec: string, opts: SweepCommandOptions) => {
      await runSweep(spec, opts);
    });
}
