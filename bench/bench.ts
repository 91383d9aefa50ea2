// `npm run bench`: throughput figures, never asserted in tests. Every stage runs in its own
// child process (bench/stage.ts) so its peak RSS is its own. Stages:
//   split     a bare line split of the generated ftrace text: read as UTF-8 text, split at each
//             newline (the least a line-by-line JS reader does; the ingest target's reference),
//             and the newlines of its raw bytes alone (the floor under any reader)
//   ingest    tlbsim's ftrace reader on the same file (no cache), MB/s and ratio to split
//   cached    the same file again through the parsed-trace cache (<trace>.tlbcache)
//   replay    events/s per strategy, in-process, one strategy at a time, on generated
//             workloads at 2 and 256 CPUs (the 256-CPU threads case sends every flush to
//             255 CPUs: its cost grows with IPI targets, not events), and on recordings of
//             the many-CPU lab (traces/lab: 32 and 64 vCPUs, as recorded)
//   e2e       all strategies over the large trace with worker threads, parse included;
//             again reading the cache the cached stage wrote (the second look at a trace)
//   help      start-up: wall time of commands that answer at once, vs `node -e 0` (median and best of --repeat rounds, at least 7)
//   cli       as users run it: wall time of `tlbsim inspect` and of `tlbsim replay` (every
//             strategy, no report: without the trace cache, writing it as a first run does, and
//             reading it) on real recordings
//             replicated to --cli-mb with shifted timestamps (bench/real-shaped.ts: madvthreads,
//             fork/exec churn, a 64-vCPU lab storm) and on generated text of that size, each
//             as a ratio to a bare split of the same file (bench/bare-split.mjs) in the same round;
//             inspect both as it runs by default (parallel ingest, a thread per core) and
//             with one reader (TLBSIM_INGEST_THREADS=1)
//   trace-cmd `trace-cmd report` of traces/real/trace-cmd-madvthreads/trace.dat, events/s
//             (when trace-cmd is installed), against tlbsim's ingest events/s
// Options: --mb N (ftrace text size, default 1024; 100 gives a run of about a minute),
//          --replay-events N (events of the 2-CPU and 256-CPU processes replay workloads,
//          default mb*5000; the 256-CPU threads one gets 1/40 of them),
//          --cli-mb N (size of the cli stage's inputs, default 200), --cli-inspect (the cli
//          stage times inspect only),
//          --stages a,b,... --repeat N (split/ingest/replay, best of N, default 2), --json,
//          --out FILE (also write the JSON there), --keep (keep the generated text).
import { existsSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { generateFtraceText } from './ftrace-gen.ts';
import { generateWorkload } from '../src/workloads/index.ts';

const args = process.argv.slice(2);
const argOf = (k: string, d: string) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const MB = Number(argOf('--mb', '1024'));
const REPLAY_EVENTS = Number(argOf('--replay-events', String(MB * 5000)));
const REPEAT = Math.max(1, Number(argOf('--repeat', '2')));
const STAGES = argOf('--stages', 'split,ingest,cached,replay,e2e,cli,trace-cmd,help').split(',');
const CLI_MB = Number(argOf('--cli-mb', '200'));
// --cli-inspect: time only the bare split and inspect in the cli stage (large --cli-mb runs).
const CLI_INSPECT_ONLY = process.argv.includes('--cli-inspect');
const json = args.includes('--json');
const LAB_TRACES = ['traces/lab/6.12/32cpu/madvstorm.txt.gz', 'traces/lab/6.12/64cpu/madvstorm.txt.gz', 'traces/lab/7.3/32cpu/forkexec.txt.gz'];
const log = (s: string) => process.stderr.write(s + '\n');

type Row = Record<string, any>;
function stage(...argv: string[]): Row {
  // tsx/esm, as bin/tlbsim.mjs and the replay workers register it: the whole of tsx (which
  // also hooks require) made the same ingest ~12% slower per CPU second (bench/RESULTS.md).
  const r = spawnSync(process.execPath, ['--import', 'tsx/esm', join(import.meta.dirname, 'stage.ts'), ...argv],
    { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`stage ${argv.join(' ')} failed (exit ${r.status})`);
  return JSON.parse(line) as Row;
}
const best = (rows: Row[]) => rows.reduce((a, b) => (b.seconds < a.seconds ? b : a));

/** Iterations of workload `base` (a spec without iterations=) that make about `events`
 *  events: the line through two short generated runs. */
async function iterationsFor(base: string, events: number): Promise<number> {
  const count = async (iterations: number) => {
    const src = await generateWorkload(`${base},iterations=${iterations}`);
    let n = 0;
    for await (const b of src.batches()) n += b.length;
    return n;
  };
  const lo = 20, hi = 40;
  const nLo = await count(lo), nHi = await count(hi);
  const perIteration = (nHi - nLo) / (hi - lo);
  return Math.max(2, Math.round(lo + (events - nLo) / perIteration));
}

// Inputs live in the repository's git-ignored .bench/ (a shared /tmp gets cleaned by others).
const dir = join(import.meta.dirname, '..', '.bench');
mkdirSync(dir, { recursive: true });
const text = join(dir, `ftrace-${MB}MB.txt`);
const report: Row = { mb: MB, loadAvgBefore: loadavg().map((x) => Number(x.toFixed(2))), node: process.version };
const needsText = ['split', 'ingest', 'cached', 'e2e'].some((st) => STAGES.includes(st));
if (needsText && (!existsSync(text) || statSync(text).size < MB * 1e6 * 0.99)) {
  log(`generating ${MB} MB of ftrace text at ${text} ...`);
  await generateFtraceText(text, MB * 1e6);
}
const cache = `${text}.tlbcache`;
if (existsSync(cache)) unlinkSync(cache);

report.calibrateBefore = stage('calibrate');
if (STAGES.includes('split') || STAGES.includes('ingest')) {
  const splits: Row[] = [], byteSplits: Row[] = [], ingests: Row[] = [];
  for (let i = 0; i < REPEAT; i++) {
    // Interleaved, so both see the same machine load.
    if (STAGES.includes('split')) {
      log(`split ${i + 1}/${REPEAT}`);
      splits.push(stage('split', text));
      byteSplits.push(stage('bytesplit', text));
    }
    if (STAGES.includes('ingest')) { log(`ingest ${i + 1}/${REPEAT}`); ingests.push(stage('ingest', text)); }
  }
  if (splits.length) { report.split = best(splits); report.byteSplit = best(byteSplits); }
  if (ingests.length) report.ingest = best(ingests);
  if (splits.length && ingests.length) report.ingestVsSplit = report.split.seconds / report.ingest.seconds;
}
if (STAGES.includes('cached')) {
  log('cached: first open writes the cache, second reads it');
  report.cacheWrite = stage('ingest', text, '--cache');
  report.cacheRead = stage('ingest', text, '--cache');
}
if (STAGES.includes('replay')) {
  // Each workload is sized from two short generated runs: events grow linearly with
  // iterations (per task-iteration wis-tlb-flush2 makes ~4.5 events at 2 CPUs and ~4.1 at
  // 256 in processes mode, plus a start-up part), so a constant guessed per iteration left
  // the 2-CPU trace at half its intended length. The 256-CPU threads case costs per IPI
  // target, not per event: it gets 1/40 of the events.
  const workloads: [string, number][] = [
    ['workload:wis-tlb-flush2:cpus=2,tasks=2', REPLAY_EVENTS],
    ['workload:wis-tlb-flush2:mode=processes,cpus=256,tasks=256', REPLAY_EVENTS],
    ['workload:wis-tlb-flush2:cpus=256,tasks=256', REPLAY_EVENTS / 40],
    // Real recordings of many CPUs (traces/lab: Debian kernels under QEMU), replayed as
    // recorded: a shootdown storm at 32 and 64 vCPUs and fork/exec churn beside busy threads.
    ...LAB_TRACES.filter((f) => existsSync(f)).map((f): [string, number] => [f, 0]),
  ];
  report.replay = [];
  for (const [base, events] of workloads) {
    const spec = base.startsWith('workload:') ? `${base},iterations=${await iterationsFor(base, events)}` : base;
    // Best of --repeat runs per strategy, as for split and ingest: the host's speed can
    // change within a run (the calibration only brackets it).
    let best: Row | null = null;
    for (let i = 0; i < REPEAT; i++) {
      log(`replay ${spec} ${i + 1}/${REPEAT}`);
      const run = stage('replay', spec);
      if (best === null) { best = run; continue; }
      for (const [name, s] of Object.entries(run.perStrategy as Record<string, Row>)) {
        const b = best.perStrategy[name];
        if (s.eventsPerS > b.eventsPerS) { b.eventsPerS = s.eventsPerS; b.seconds = s.seconds; }
        if (s.steadyEventsPerS > b.steadyEventsPerS) b.steadyEventsPerS = s.steadyEventsPerS;
      }
      best.peakRssMB = Math.max(best.peakRssMB, run.peakRssMB);
    }
    report.replay.push(best!);
  }
}
if (STAGES.includes('e2e')) {
  log('e2e: every strategy over the large trace, worker threads');
  report.e2e = stage('e2e', text);
  if (STAGES.includes('cached')) {
    // The usual second look at a trace: its cache (written by the cached stage) is read.
    log('e2e again, from the cache');
    report.e2eCached = stage('e2e', text, '--cache');
  }
}
if (STAGES.includes('trace-cmd')) {
  const dat = join(import.meta.dirname, '..', 'traces/real/trace-cmd-madvthreads/trace.dat');
  if (spawnSync('trace-cmd', ['-h'], { stdio: 'ignore' }).error === undefined && existsSync(dat)) {
    log('trace-cmd report');
    report.traceCmd = stage('tracecmd', dat);
    if (report.ingest && report.traceCmd.eventsPerS) report.ingestVsTraceCmd = report.ingest.eventsPerS / report.traceCmd.eventsPerS;
  } else report.traceCmd = null;
}
if (STAGES.includes('cli')) {
  const { replicateTrace } = await import('./real-shaped.ts');
  const bin = join(import.meta.dirname, '..', 'bin', 'tlbsim.mjs');
  const inputs: [string, string][] = [];
  for (const [name, src] of [
    ['real madvthreads-2', 'traces/real/madvthreads-2/trace.txt.gz'],
    ['real forkchurn (fork/exec)', 'traces/real/forkchurn/trace.txt.gz'],
    ['lab 6.12 64 vCPUs madvstorm', 'traces/lab/6.12/64cpu/madvstorm.txt.gz'],
  ]) {
    if (!existsSync(src)) continue;
    const dst = join(dir, `${src.split('/').slice(-3).join('-').replace('.txt.gz', '')}-${CLI_MB}MB.txt`);
    log(`cli: ${name} replicated to ${CLI_MB} MB`);
    await replicateTrace(src, dst, CLI_MB);
    inputs.push([name, dst]);
  }
  const gen = join(dir, `ftrace-${CLI_MB}MB.txt`);
  if (!existsSync(gen) || statSync(gen).size < CLI_MB * 1e6 * 0.99) await generateFtraceText(gen, CLI_MB * 1e6);
  inputs.push(['generated ftrace text', gen]);
  const wallOf = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
    return (performance.now() - t0) / 1000;
  };
  report.cli = [];
  for (const [name, file] of inputs) {
    const cacheFile = `${file}.tlbcache`;
    const b = { split: Infinity, inspect: Infinity, inspect1: Infinity, replay: Infinity, replayFirst: Infinity, replayCached: Infinity };
    for (let i = 0; i < REPEAT; i++) {
      log(`cli: ${name} ${i + 1}/${REPEAT}`);
      // One round: reference and CLI back to back, so they see the same machine.
      b.split = Math.min(b.split, wallOf([join(import.meta.dirname, 'bare-split.mjs'), file]));
      b.inspect = Math.min(b.inspect, wallOf([bin, 'inspect', file], { TLBSIM_CACHE: '0' }));
      // Parallel ingest (one thread per core) against one reader.
      b.inspect1 = Math.min(b.inspect1, wallOf([bin, 'inspect', file], { TLBSIM_CACHE: '0', TLBSIM_INGEST_THREADS: '1' }));
      if (CLI_INSPECT_ONLY) continue;
      b.replay = Math.min(b.replay, wallOf([bin, 'replay', file, '--no-report'], { TLBSIM_CACHE: '0' }));
      // A user's first replay of a trace also writes its cache; the next one reads it.
      if (existsSync(cacheFile)) unlinkSync(cacheFile);
      b.replayFirst = Math.min(b.replayFirst, wallOf([bin, 'replay', file, '--no-report']));
      b.replayCached = Math.min(b.replayCached, wallOf([bin, 'replay', file, '--no-report']));
    }
    const cacheMB = existsSync(cacheFile) ? statSync(cacheFile).size / 1e6 : NaN;
    if (existsSync(cacheFile)) unlinkSync(cacheFile);
    report.cli.push({ name, file, mb: statSync(file).size / 1e6, ...b, cacheMB });
  }
}
if (STAGES.includes('help')) {
  // Start-up as a user meets it, through the bin shim: wall time to exit of commands that
  // print at once, each as a ratio to a bare `node -e 0` timed in the same rounds (this
  // machine's speed varies within minutes). Interleaved rounds (--repeat, at least 7): the
  // median, which a shared machine moves less than the best, and the best.
  const bin = join(import.meta.dirname, '..', 'bin', 'tlbsim.mjs');
  // The memo (bin/help-cache.mjs) answers help and the catalogues after their first run;
  // the "no memo" rows are that first run, through the compiled program.
  const noMemo = { TLBSIM_NO_HELP_CACHE: '1' };
  const cases: [string, string[], NodeJS.ProcessEnv?][] = [
    ['node -e 0', ['-e', '0']],
    ['tlbsim --help (memo)', [bin, '--help']],
    ['tlbsim --help (no memo)', [bin, '--help'], noMemo],
    ['tlbsim replay --help (no memo)', [bin, 'replay', '--help'], noMemo],
    ['tlbsim strategies (memo)', [bin, 'strategies']],
    ['tlbsim strategies (no memo)', [bin, 'strategies'], noMemo],
    ['tlbsim workloads (no memo)', [bin, 'workloads'], noMemo],
    ['tlbsim workloads --json (no memo)', [bin, 'workloads', '--json'], noMemo],
    ['tlbsim --version (no memo)', [bin, '--version'], noMemo],
    ['tlbsim frobnicate (unknown command)', [bin, 'frobnicate']],
    ['tlbsim replay --bogus (usage error)', [bin, 'replay', '--bogus']],
    ['tlbsim inspect (missing file)', [bin, 'inspect', join(dir, 'no-such-trace.txt')]],
    ['tlbsim strategies, without dist/ (tsx)', [bin, 'strategies'], { TLBSIM_NO_DIST: '1', ...noMemo }],
  ];
  // Fill the memo first, so the "memo" rows read it.
  for (const args of [['--help'], ['strategies']]) spawnSync(process.execPath, [bin, ...args], { stdio: 'ignore' });
  const rounds = Math.max(7, REPEAT);
  const times = cases.map((): number[] => []);
  for (let round = 0; round < rounds; round++) {
    cases.forEach(([, argv, env], i) => {
      const t0 = performance.now();
      spawnSync(process.execPath, argv, { stdio: 'ignore', env: { ...process.env, ...env } });
      times[i].push((performance.now() - t0) / 1000);
    });
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const best = times.map((t) => Math.min(...t));
  const medians = times.map(median);
  report.startup = cases.map(([name], i) => ({ name, rounds, seconds: medians[i], vsNode: medians[i] / medians[0], bestSeconds: best[i], bestVsNode: best[i] / best[0] }));
}
report.calibrateAfter = stage('calibrate');
report.loadAvgAfter = loadavg().map((x) => Number(x.toFixed(2)));
if (!args.includes('--keep')) {
  for (const f of [text, cache, ...((report.cli ?? []) as Row[]).map((r) => r.file as string)]) if (existsSync(f)) unlinkSync(f);
}

if (args.includes('--out')) (await import('node:fs')).writeFileSync(argOf('--out', ''), JSON.stringify(report, null, 2));
if (json) { console.log(JSON.stringify(report, null, 2)); process.exit(0); }

const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const rows: string[][] = [['stage', 'input', 'CPU s', 'throughput (per CPU second)', 'ratio', 'peak RSS']];
const rss = (r: Row) => `${r.peakRssMB} MB`;
if (report.split) rows.push(['split', `${f(report.split.mb)} MB ftrace`, f(report.split.seconds, 2), `${f(report.split.mbPerS)} MB/s`, '1.00', rss(report.split)]);
if (report.byteSplit) rows.push(['  newlines of the bytes', 'no decoding', f(report.byteSplit.seconds, 2), `${f(report.byteSplit.mbPerS)} MB/s`, report.ingest ? `ingest ${(report.byteSplit.seconds / report.ingest.seconds).toFixed(2)}x` : '', rss(report.byteSplit)]);
if (report.ingest) rows.push(['ingest', `${f(report.ingest.mb)} MB, ${f(report.ingest.events)} ev`, f(report.ingest.seconds, 2), `${f(report.ingest.mbPerS)} MB/s, ${f(report.ingest.eventsPerS / 1e6, 2)} M ev/s`, report.ingestVsSplit ? `${report.ingestVsSplit.toFixed(2)}x split` : '', rss(report.ingest)]);
if (report.ingest) rows.push(['  one pass', 'canonicalise again', f(report.ingest.passSeconds, 2), `${f(report.ingest.passEvents / report.ingest.passSeconds / 1e6, 2)} M ev/s`, '', '']);
if (report.cacheWrite) rows.push(['cache write', 'parse + write .tlbcache', f(report.cacheWrite.seconds, 2), `${f(report.cacheWrite.mbPerS)} MB/s`, '', rss(report.cacheWrite)]);
if (report.cacheRead) {
  const c = report.cacheRead, s = c.seconds + c.passSeconds;
  rows.push(['cache read', 'open + one pass', f(s, 2), `${f(c.mb / s)} MB/s`, report.ingest ? `${(report.ingest.seconds / s).toFixed(1)}x ingest` : '', rss(c)]);
}
// The split stage is CPU time of the same file in this run: the e2e ratios are wall over it.
const vsSplit = (seconds: number) => (report.split ? `${(seconds / report.split.seconds).toFixed(1)}x split` : '');
if (report.e2e) rows.push(['e2e (wall)', `${f(report.e2e.mb)} MB, ${report.e2e.strategies} strategies`, f(report.e2e.cpuSeconds, 1), `${f(report.e2e.seconds, 1)} s wall, parse ${f(report.e2e.parseSeconds, 1)} s`, vsSplit(report.e2e.seconds), rss(report.e2e)]);
if (report.e2eCached) rows.push(['e2e cached (wall)', `${f(report.e2eCached.mb)} MB, ${report.e2eCached.strategies} strategies`, f(report.e2eCached.cpuSeconds, 1), `${f(report.e2eCached.seconds, 1)} s wall, open ${f(report.e2eCached.parseSeconds, 1)} s`, vsSplit(report.e2eCached.seconds), rss(report.e2eCached)]);
if (report.traceCmd) rows.push(['trace-cmd report', `trace.dat, ${f(report.traceCmd.events)} ev`, f(report.traceCmd.seconds, 3), `${f(report.traceCmd.eventsPerS / 1e6, 2)} M ev/s`, report.ingestVsTraceCmd ? `ingest ${report.ingestVsTraceCmd.toFixed(2)}x` : '', rss(report.traceCmd)]);
for (const r of (report.cli ?? []) as Row[]) {
  const x = (v: number) => `${v.toFixed(2)} s`;
  const replayed = Number.isFinite(r.replay);
  rows.push([`cli (wall): ${r.name}`, `${f(r.mb)} MB`, '',
    `split ${x(r.split)}, inspect ${x(r.inspect)} (one reader ${x(r.inspect1)})` + (replayed ? `, replay ${x(r.replay)}, first ${x(r.replayFirst)}, cached ${x(r.replayCached)}` : ''),
    `inspect ${(r.split / r.inspect).toFixed(2)}x split (one reader ${(r.split / r.inspect1).toFixed(2)}x: ${(r.inspect1 / r.inspect).toFixed(2)}x faster in ${availableParallelism()} threads)` +
    (replayed ? `; replay ${(r.replay / r.split).toFixed(1)}x, first ${(r.replayFirst / r.split).toFixed(1)}x, cached ${(r.replayCached / r.split).toFixed(1)}x split; cache ${(r.cacheMB / r.mb).toFixed(2)}x text` : ''), '']);
}
for (const r of (report.startup ?? []) as { name: string; rounds: number; seconds: number; vsNode: number; bestSeconds: number; bestVsNode: number }[]) {
  rows.push([`start-up (wall): ${r.name}`, '', '', `${f(r.seconds * 1000)} ms median of ${r.rounds}, best ${f(r.bestSeconds * 1000)} ms`, `${r.vsNode.toFixed(2)}x node -e 0 (best ${r.bestVsNode.toFixed(2)}x)`, '']);
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const r of rows) console.log(r.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd());
if (report.replay?.length) {
  // One row per strategy, one column per workload: replay events/s, in-process, cold (the
  // whole run) / steady (after the first 10% of the events).
  const rp = report.replay as Row[];
  const label = (r: Row) => (r.spec.startsWith('workload:') ? `${r.cpus} CPUs ${/mode=processes/.test(r.spec) ? 'processes' : 'threads'}` : `lab ${r.spec.split('/').slice(-3).join('/').replace('.txt.gz', '')}`);
  const head = ['replay M events/s, cold / steady', ...rp.map((r) => `${label(r)} (${f(r.events)} ev)`)];
  // A short trace (the lab's are 10-30 k events) ends before the steady mark is timed: '–'.
  const steady = (x: number) => (Number.isFinite(x) && x > 0 ? f(x / 1e6, 2) : '–');
  const body = Object.keys(rp[0].perStrategy).map((name) => [name, ...rp.map((r) => `${f(r.perStrategy[name].eventsPerS / 1e6, 2)} / ${steady(r.perStrategy[name].steadyEventsPerS)}`)]);
  const all = [head, ...body, ['peak RSS', ...rp.map((r) => `${r.peakRssMB} MB`)]];
  const w = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  console.log('');
  for (const r of all) console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
  console.log(`workloads: ${rp.map((r) => r.spec).join('  ')}`);
  // Events/s hides how much work one event is: a flush of an mm running on every CPU of a
  // 256-CPU machine is modelled target by target.
  for (const r of rp) {
    const s = r.perStrategy['linux-6.18'];
    if (s === undefined || !(s.crossCallTargets > r.events)) continue;
    console.log(`${label(r)}: under linux-6.18 each event queues ${f(s.crossCallTargets / r.events, 1)} cross-call targets on average, each modelled on its own: ${f(s.crossCallTargets / s.seconds / 1e6, 2)} M targets/s`);
  }
}
console.log(`machine speed: a charCodeAt loop took ${report.calibrateBefore.nsPerChar.toFixed(2)} ns/char before the run, ${report.calibrateAfter.nsPerChar.toFixed(2)} after (lower is a faster machine; compare runs through it)`);
console.log('Throughput is per CPU second of the stage\'s process (the machine is shared); e2e is wall time.');
console.log(`node ${report.node}; load average before ${report.loadAvgBefore.join(' ')}, after ${report.loadAvgAfter.join(' ')}`);
