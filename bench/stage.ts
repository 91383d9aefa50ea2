// One bench stage, run in a child process of bench.ts so that each stage's peak RSS is its
// own (process.resourceUsage().maxRSS) and stages do not warm or pollute each other.
// Prints one JSON object on stdout.
//   node --import tsx bench/stage.ts split FILE
//   node --import tsx bench/stage.ts bytesplit FILE
//   node --import tsx bench/stage.ts ingest FILE [--cache]
//   node --import tsx bench/stage.ts replay WORKLOAD_SPEC [STRATEGY,...]
//   node --import tsx bench/stage.ts e2e FILE [--cache] [--isolate | --shared]
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { openTrace } from '../src/trace/index.ts';
import { copyBatch, memorySource, type EventBatch } from '../src/trace/event.ts';
import { generateWorkload } from '../src/workloads/index.ts';
import { openInput } from '../src/inputs.ts';
import { replay } from '../src/replay/replay.ts';
import { STRATEGY_NAMES } from '../src/strategies/index.ts';

const [stage, input, ...rest] = process.argv.slice(2);
const useCache = rest.includes('--cache');
// Throughput is computed on this process's CPU time (user + system): the machine is shared,
// and wall time of a single-threaded stage mostly measures the neighbours. Wall time is
// reported next to it (wallSeconds).
let wall0 = 0;
const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const start = () => { wall0 = performance.now(); return cpuNow(); };
const seconds = (c0: number) => cpuNow() - c0;
const wall = () => (performance.now() - wall0) / 1000;
const peakRssMB = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** The target's reference: the file read as text (1 MiB chunks, UTF-8) and split at each
 *  newline with String#indexOf, the least a line-by-line JavaScript reader does (readline
 *  does more: it makes a string of every line). */
async function bareSplit(path: string): Promise<number> {
  let lines = 0, carry = '';
  for await (const buf of createReadStream(path, { highWaterMark: 1 << 20, encoding: 'utf8' })) {
    const s = carry.length > 0 ? carry + (buf as string) : (buf as string);
    let start = 0;
    for (;;) { const nl = s.indexOf('\n', start); if (nl < 0) break; lines++; start = nl + 1; }
    carry = s.slice(start);
  }
  return lines;
}

/** The newlines of the raw bytes (Buffer#indexOf), no decoding: the floor under any reader,
 *  tlbsim's included (it splits ASCII chunks this way, then tokenizes each line). */
async function byteSplit(path: string): Promise<number> {
  let lines = 0;
  for await (const buf of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const b = buf as Buffer;
    for (let nl = b.indexOf(10); nl >= 0; nl = b.indexOf(10, nl + 1)) lines++;
  }
  return lines;
}

/** A generated workload copied into memory, so generation is not timed with the replay. */
async function materialise(spec: string) {
  // A workload is generated; a recorded trace (the many-CPU lab's) is read once, so that
  // only the replay is timed.
  const src = spec.startsWith('workload:') ? await generateWorkload(spec) : await openInput(spec);
  const batches: EventBatch[] = [];
  for await (const b of src.batches()) batches.push(copyBatch(b));
  return memorySource(src.info, batches);
}

let out: Record<string, unknown>;
if (stage === 'calibrate') {
  // The machine's speed right now: a plain charCodeAt loop over a flat ASCII string, best
  // of 5. It grows when the machine is loaded; figures of runs made under different load
  // compare through it.
  const s = Buffer.alloc(16 << 20, 'sched_switch: prev_comm=a prev_pid=1 ').toString('latin1');
  let best = Infinity, x = 0;
  for (let rep = 0; rep < 5; rep++) {
    const t0 = start();
    for (let i = 0; i < s.length; i++) x += s.charCodeAt(i);
    best = Math.min(best, seconds(t0));
  }
  out = { nsPerChar: (best * 1e9) / s.length, wallSeconds: wall(), checksum: x & 1 };
} else if (stage === 'split' || stage === 'bytesplit') {
  const mb = statSync(input).size / 1e6;
  const t0 = start();
  const lines = stage === 'split' ? await bareSplit(input) : await byteSplit(input);
  const s = seconds(t0);
  out = { mb, lines, seconds: s, wallSeconds: wall(), mbPerS: mb / s };
} else if (stage === 'ingest') {
  const mb = statSync(input).size / 1e6;
  const t0 = start();
  const t = await openTrace(input, { cache: useCache });
  const s = seconds(t0);
  const w = wall();
  // One pass over the events, as a replay makes: from the cache, or canonicalised again.
  const t1 = cpuNow();
  let passed = 0;
  for await (const b of t.batches()) passed += b.length;
  const pass = seconds(t1);
  out = { mb, events: t.info.events, cache: t.cache, skippedLines: t.info.skippedLines, seconds: s, wallSeconds: w, mbPerS: mb / s,
    eventsPerS: t.info.events / s, passSeconds: pass, passEvents: passed };
  t.close();
} else if (stage === 'replay') {
  const src = await materialise(input);
  const names = rest[0] && !rest[0].startsWith('--') ? rest[0].split(',') : [...STRATEGY_NAMES];
  const perStrategy: Record<string, { seconds: number; wallSeconds: number; eventsPerS: number; steadyEventsPerS: number; crossCallTargets: number }> = {};
  const total = src.info.events;
  for (const name of names) {
    // Cold: the whole replay() call, a fresh engine copy (from 3 M events) and its JIT
    // warm-up included. Steady: the events after the first 10%, the rate a longer trace
    // converges to (the start-up part does not grow with the trace).
    let markCpu = -1, markEvents = 0;
    const onProgress = (p: { events: number }) => {
      if (markCpu < 0 && p.events >= total / 10) { markCpu = cpuNow(); markEvents = p.events; }
    };
    const t0 = start();
    const [result] = await replay(src, { strategies: [name], workers: 1, onProgress });
    const end = cpuNow();
    const s = end - t0;
    perStrategy[name] = {
      seconds: s, wallSeconds: wall(), eventsPerS: total / s,
      steadyEventsPerS: markCpu >= 0 && end > markCpu ? (total - markEvents) / (end - markCpu) : NaN,
      crossCallTargets: result.metrics.csd_queued,
    };
  }
  out = { spec: input, cpus: src.info.cpus, events: src.info.events, perStrategy };
} else if (stage === 'e2e') {
  const mb = statSync(input).size / 1e6;
  // Wall time here: the replay uses worker threads, so CPU time is summed over them.
  const c0 = start();
  const t = await openTrace(input, { cache: useCache });
  const parseS = wall();
  // --isolate / --shared force per-strategy engine copies on or off (default: by size).
  const isolate = rest.includes('--isolate') ? true : rest.includes('--shared') ? false : undefined;
  const results = await replay(t, { workers: 'auto', ...(isolate === undefined ? {} : { isolate }) });
  out = { mb, events: t.info.events, strategies: results.length, parseSeconds: parseS, seconds: wall(), cpuSeconds: seconds(c0) };
  t.close();
} else if (stage === 'tracecmd') {
  // tlbsim's own events/s is measured on the large text; here only trace-cmd report.
  const { spawnSync } = await import('node:child_process');
  const once = spawnSync('trace-cmd', ['report', '-i', input], { maxBuffer: 1 << 30, encoding: 'utf8' });
  if (once.error || once.status !== 0) { out = { error: String(once.error ?? once.stderr).split('\n')[0] }; }
  else {
    const events = once.stdout.split('\n').filter((l) => /\[\d+\]/.test(l)).length;
    // trace-cmd's CPU time, from this process's waited-for children (/proc/self/stat
    // cutime + cstime), over repeated runs; wall time alongside. Its start-up (reading the
    // event formats) is a large part of a run on a file this small.
    const { readFileSync } = await import('node:fs');
    const childCpu = () => {
      const stat = readFileSync('/proc/self/stat', 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(f[13]) + Number(f[14])) / 100; // fields 16, 17 (clock ticks, USER_HZ = 100)
    };
    let runs = 0;
    start();
    const cc0 = childCpu();
    const devnull = openSync('/dev/null', 'w');
    while (runs < 3 || wall() < 3) { spawnSync('trace-cmd', ['report', '-i', input], { stdio: ['ignore', devnull, 'ignore'] }); runs++; }
    closeSync(devnull);
    const s = (childCpu() - cc0) / runs;
    out = { events, runs, seconds: s, wallSeconds: wall() / runs, eventsPerS: events / s };
  }
} else {
  console.error(`unknown stage ${stage}`);
  process.exit(2);
}
void readSync;
console.log(JSON.stringify({ stage, ...out, peakRssMB: peakRssMB() }));
