// `npm run bench:huge`: a huge damaged trace is read and replayed in flat memory, and every
// bad line is counted. Too slow for the tests, so it is a benchmark; never asserted in CI.
//
// For each size (default 0.25 and 2 GB) it generates, streamed and with a fixed seed, an
// ftrace text of real line shapes (context switches, flushes of every reason, IPIs,
// madvise/munmap) in which 1% of the lines are damaged in four ways (junk, a line cut
// inside tlb_flush, a CPU beyond the header's count, a sched_switch without its next
// task); then, each in a child process of its own, it runs
//   - `tlbsim inspect --json` (the CLI: peak RSS and wall time by /usr/bin/time), and
//   - openTrace + replay of two strategies on worker threads (bench/huge-child.ts),
// and prints file size, lines, bad lines written vs reported, events, times, peak RSS.
// Options: --gb 0.25,2   --strategies linux-4.13,linux-6.18   --seed N   --keep   --json
import { createWriteStream, existsSync, statSync, unlinkSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Rng } from '../src/workloads/prng.ts';

const args = process.argv.slice(2);
const argOf = (k: string, d: string) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const SIZES_GB = argOf('--gb', '0.25,2').split(',').map(Number);
const STRATEGIES = argOf('--strategies', 'linux-4.13,linux-6.18');
const SEED = Number(argOf('--seed', '9'));
const ROOT = new URL('../', import.meta.url).pathname;

interface Generated { path: string; bytes: number; lines: number; bad: number }

/** Writes the trace; returns how many lines, and how many of them are damaged. */
async function generate(path: string, bytes: number, seed: number): Promise<Generated> {
  const rng = new Rng(seed);
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  out.write('# tracer: nop\n#\n# entries-in-buffer/entries-written: 0/0   #P:2\n#\n');
  const comms = ['hw-madvthreads', 'record.sh', 'kworker/u4:1', 'pingpong', 'make', 'a b [001] c'];
  let t = 7_000_000_000_000, written = 0, lines = 4, bad = 0, chunk = '';
  while (written < bytes) {
    const cpu = rng.u32() & 1, k = rng.u32() % comms.length, pid = 1000 + k, comm = comms[k];
    t += 1000 + (rng.u32() % 4000); // 1-5 µs apart
    const headOn = (c: number) => `${comm.padStart(16)}-${String(pid).padEnd(7)} [00${c}] d..2. ${Math.floor(t / 1e9)}.${String(Math.floor(t / 1000) % 1e6).padStart(6, '0')}: `;
    const head = headOn(cpu);
    let line: string;
    if (rng.u32() % 100 === 0) {
      bad++;
      switch (rng.u32() % 4) {
        case 0: line = `garbage ${rng.u32().toString(16)}${rng.u32().toString(36)} [x]`; break;
        case 1: line = head + 'tlb_flush: pages:'; break;
        case 2: line = headOn(7) + 'tlb_flush: pages:1 reason:remote shootdown (1)'; break;
        default: line = head + `sched_switch: prev_comm=${comm} prev_pid=${pid} prev_prio=120 prev_state=S ==> next_comm=x`;
      }
    } else {
      const next = 1000 + (rng.u32() % comms.length);
      switch (rng.u32() % 10) {
        case 0: case 1: line = head + `sched_switch: prev_comm=${comm} prev_pid=${pid} prev_prio=120 prev_state=${rng.u32() % 3 === 0 ? 'R+' : 'S'} ==> next_comm=${comms[next - 1000]} next_pid=${next} next_prio=120`; break;
        case 2: line = head + 'tlb_flush: pages:-1 reason:flush on task switch (0)'; break;
        case 3: line = head + `tlb_flush: pages:${1 + (rng.u32() % 40)} reason:remote IPI send (4)`; break;
        case 4: line = head + 'ipi_send_cpu: cpu=1 callsite=on_each_cpu_cond_mask+0x20/0x60 callback=generic_smp_call_function_single_interrupt+0x0/0x10'; break;
        case 5: line = head + `tlb_flush: pages:${1 + (rng.u32() % 40)} reason:local MM shootdown (3)`; break;
        case 6: line = head + `sys_madvise(start: 0x7ff31b${(rng.u32() % 0xfff).toString(16).padStart(3, '0')}000, len_in: 0x1000, behavior: 4)`; break;
        case 7: line = head + `sys_munmap(addr: 0x7fed01f${(rng.u32() % 0xff).toString(16).padStart(2, '0')}000, len: 0x${(4096 * (1 + rng.u32() % 64)).toString(16)})`; break;
        case 8: line = head + 'tlb_flush: pages:1 reason:remote shootdown (1)'; break;
        default: line = head + 'csd_queue_cpu: cpu=1 callsite=smp_call_function_many_cond+0x1/0x2 func=flush_tlb_func csd=000000001';
      }
    }
    chunk += line + '\n';
    lines++;
    if (chunk.length > 1 << 20) { written += chunk.length; if (!out.write(chunk)) await once(out, 'drain'); chunk = ''; }
  }
  out.write(chunk);
  out.end();
  await once(out, 'finish');
  return { path, bytes: statSync(path).size, lines, bad };
}

interface Row {
  gb: number; fileMB: number; lines: number; badWritten: number;
  inspect: { skippedLines: number; events: number; wallS: number; peakRssMB: number };
  replay: { skippedLines: number; events: number; ingestS: number; replayS: number; peakRssMB: number; strategies: string[] };
}

const rows: Row[] = [];
const hasTime = existsSync('/usr/bin/time');
for (const gb of SIZES_GB) {
  const path = join(tmpdir(), `tlbsim-huge-${gb}GB-seed${SEED}.txt`);
  process.stderr.write(`generating ${gb} GB at ${path} ...\n`);
  let t0 = performance.now();
  const g = await generate(path, gb * 1e9, SEED);
  process.stderr.write(`  ${(g.bytes / 1e6).toFixed(0)} MB, ${g.lines} lines, ${g.bad} damaged, in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

  process.stderr.write('  tlbsim inspect --json ...\n');
  t0 = performance.now();
  const cli = [process.execPath, join(ROOT, 'bin/tlbsim.mjs'), 'inspect', '--json', path];
  const r = hasTime
    ? spawnSync('/usr/bin/time', ['-f', 'TLBSIM_TIME %M %e', ...cli], { encoding: 'utf8', maxBuffer: 1 << 26 })
    : spawnSync(cli[0], cli.slice(1), { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`inspect failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout) as { skippedLines: number; events: Record<string, number> };
  const m = /TLBSIM_TIME (\d+) ([\d.]+)/.exec(r.stderr ?? '');
  const inspect = {
    skippedLines: j.skippedLines, events: Object.values(j.events).reduce((a, b) => a + b, 0),
    wallS: m ? Number(m[2]) : (performance.now() - t0) / 1000, peakRssMB: m ? Number(m[1]) / 1024 : NaN,
  };

  process.stderr.write(`  openTrace + replay (${STRATEGIES}) ...\n`);
  const c = spawnSync(process.execPath, ['--import', 'tsx/esm', join(ROOT, 'bench/huge-child.ts'), path, STRATEGIES], { encoding: 'utf8', cwd: ROOT, maxBuffer: 1 << 26 });
  if (c.status !== 0) throw new Error(`replay failed: ${c.stderr}`);
  const replay = JSON.parse(c.stdout) as Row['replay'];
  rows.push({ gb, fileMB: g.bytes / 1e6, lines: g.lines, badWritten: g.bad, inspect, replay });
  if (!args.includes('--keep')) unlinkSync(path);
}

if (args.includes('--json')) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  console.log('file MB    lines      bad written  bad reported  events      inspect s  inspect RSS MB  ingest s  replay s  replay RSS MB');
  for (const r of rows) {
    console.log(`${r.fileMB.toFixed(0).padStart(7)}  ${String(r.lines).padStart(10)}  ${String(r.badWritten).padStart(11)}  ${String(r.inspect.skippedLines).padStart(12)}  ${String(r.inspect.events).padStart(10)}  ` +
      `${r.inspect.wallS.toFixed(1).padStart(9)}  ${r.inspect.peakRssMB.toFixed(0).padStart(14)}  ${r.replay.ingestS.toFixed(1).padStart(8)}  ${r.replay.replayS.toFixed(1).padStart(8)}  ${r.replay.peakRssMB.toFixed(0).padStart(13)}`);
  }
  console.log(`strategies replayed: ${STRATEGIES} (worker threads); seed ${SEED}; 1% of lines damaged`);
}
