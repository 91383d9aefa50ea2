// `npm run bench`: throughput figures, never asserted in tests.
//   ingest: MB/s of tlbsim's ftrace parser on a large generated ftrace text file, next to
//           a bare newline split of the same file measured in the same run, and peak RSS.
// Options: --mb N (size of the generated file, default 1024), --json, --keep.
import { createReadStream, createWriteStream, existsSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import { openTrace } from '../src/trace/index.ts';

const args = process.argv.slice(2);
const argOf = (k: string, d: string) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const MB = Number(argOf('--mb', '1024'));
const json = args.includes('--json');

/** A long ftrace text with the real line shapes of traces/real, in a realistic mix:
 *  context switches among a few processes, flushes of every reason, IPIs, madvise. */
async function generate(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  out.write('# tracer: nop\n#\n# entries-in-buffer/entries-written: 0/0   #P:2\n#\n');
  let t = 1_000_000_000, written = 0, i = 0;
  const comms = ['hw-madvthreads', 'record.sh', 'kworker/u4:1', 'pingpong', 'make'];
  let chunk = '';
  while (written < bytes) {
    const cpu = i & 1, pid = 1000 + (i % 5), comm = comms[i % 5];
    const head = `${comm.padStart(16)}-${String(pid).padEnd(7)}(${String(pid).padStart(7)}) [00${cpu}] d..2. ${Math.floor(t / 1e6)}.${String(t % 1e6).padStart(6, '0')}: `;
    let line: string;
    switch (i % 8) {
      case 0: case 4: {
        const next = 1000 + ((i + 1) % 5);
        line = `sched_switch: prev_comm=${comm} prev_pid=${pid} prev_prio=120 prev_state=S ==> next_comm=${comms[(i + 1) % 5]} next_pid=${next} next_prio=120`;
        break;
      }
      case 1: line = 'tlb_flush: pages:-1 reason:flush on task switch (0)'; break;
      case 2: line = 'tlb_flush: pages:1 reason:remote IPI send (4)'; break;
      case 3: line = 'ipi_send_cpu: cpu=1 callsite=on_each_cpu_cond_mask+0x20/0x60 callback=generic_smp_call_function_single_interrupt+0x0/0x10'; break;
      case 5: line = 'tlb_flush: pages:1 reason:local MM shootdown (3)'; break;
      case 6: line = 'sys_madvise(start: 0x7ff31b140000, len_in: 0x1000, behavior: 4)'; break;
      default: line = 'tlb_flush: pages:1 reason:remote shootdown (1)';
    }
    chunk += head + line + '\n';
    if (chunk.length > 1 << 20) { written += chunk.length; if (!out.write(chunk)) await once(out, 'drain'); chunk = ''; }
    t += 3; i++;
  }
  out.write(chunk);
  out.end();
  await once(out, 'finish');
}

async function bareSplit(path: string): Promise<number> {
  let lines = 0, carry = '';
  for await (const buf of createReadStream(path, { highWaterMark: 1 << 20, encoding: 'utf8' })) {
    const s = carry + (buf as string);
    let start = 0;
    for (;;) { const nl = s.indexOf('\n', start); if (nl < 0) break; lines++; start = nl + 1; }
    carry = s.slice(start);
  }
  return lines;
}

let peakRss = 0;
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()); }, 50);

const path = join(tmpdir(), `tlbsim-bench-${MB}MB.txt`);
if (!existsSync(path) || statSync(path).size < MB * 1e6 * 0.99) {
  process.stderr.write(`generating ${MB} MB of ftrace text at ${path} ...\n`);
  await generate(path, MB * 1e6);
}
const size = statSync(path).size / 1e6;

let t0 = performance.now();
const lines = await bareSplit(path);
const splitS = (performance.now() - t0) / 1000;

peakRss = process.memoryUsage.rss();
t0 = performance.now();
const trace = await openTrace(path);
const ingestS = (performance.now() - t0) / 1000;
const events = trace.info.events;
trace.close();
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage.rss());

let traceCmd: number | null = null;
if (spawnSync('trace-cmd', ['-h'], { stdio: 'ignore' }).error === undefined) traceCmd = null; // needs a trace.dat: not comparable on generated text

const rows = {
  fileMB: Math.round(size), lines, events, skippedLines: trace.info.skippedLines,
  bareSplitMBs: Math.round(size / splitS), ingestMBs: Math.round(size / ingestS),
  ingestVsSplit: Number((splitS / ingestS).toFixed(2)), ingestSeconds: Number(ingestS.toFixed(2)),
  eventsPerSecond: Math.round(events / ingestS), peakRssMB: Math.round(peakRss / 1e6), traceCmd,
};
if (json) console.log(JSON.stringify({ ingest: rows }, null, 2));
else {
  console.log('stage    file MB  lines       MB/s   vs split  events/s     peak RSS');
  console.log(`split    ${String(rows.fileMB).padStart(7)}  ${String(lines).padStart(10)}  ${String(rows.bareSplitMBs).padStart(5)}   1.00`);
  console.log(`ingest   ${String(rows.fileMB).padStart(7)}  ${String(lines).padStart(10)}  ${String(rows.ingestMBs).padStart(5)}   ${rows.ingestVsSplit.toFixed(2)}      ${String(rows.eventsPerSecond).padStart(9)}  ${rows.peakRssMB} MB`);
}
if (!args.includes('--keep')) unlinkSync(path);
