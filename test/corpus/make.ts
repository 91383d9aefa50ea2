// Regenerates the malformed-input corpus in this folder from the real recordings in
// traces/real (run: node --import tsx test/corpus/make.ts). Every file is small and named
// for the one thing it tests; test/robustness/corpus.test.ts says what the user gets.
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
const HERE = new URL('./', import.meta.url).pathname;
const real = (f: string) => gunzipSync(readFileSync(join(ROOT, 'traces/real', f))).toString('utf8').split('\n');

const ftrace = real('madvthreads-2/trace.txt.gz');
/** 12 header lines, then 77 real event lines (forks, switches, syscalls, flushes, IPIs). */
export const HEADER = ftrace.slice(0, 12);
export const EVENTS = [...ftrace.slice(12, 40), ...ftrace.slice(59, 108)];
const perf = real('perf-pingpong/perf.txt.gz').slice(0, 40);
const traceCmd = real('trace-cmd-madvthreads/trace-cmd.txt.gz').slice(0, 40);

const write = (name: string, data: string | Buffer) => writeFileSync(join(HERE, name), data);
const text = (lines: string[]) => lines.join('\n') + '\n';
/** Insert lines right after `line` (so they share its timestamp and stay in time order). */
const after = (lines: string[], line: string, ...added: string[]) => { lines.splice(lines.indexOf(line) + 1, 0, ...added); };
/** A real line with another task name, realigned the way the kernel pads it (%16s). */
const renamed = (line: string, comm: string, pid: number) => line.replace(/^\s*\S+-\d+ /, `${comm.padStart(16)}-${String(pid).padEnd(5)} `);

// The undamaged text most files below are made from: what every good line must still give.
write('clean.txt', text([...HEADER, ...EVENTS]));
write('empty.txt', '');
write('only-headers.txt', text(HEADER));
// Bytes of no text encoding, with no NUL in the first kilobytes.
write('binary-garbage.txt', Buffer.from(Array.from({ length: 3000 }, (_, i) => 0x80 + ((i * 37) % 120))));
write('trace.dat.gz', gzipSync(readFileSync(join(ROOT, 'traces/real/trace-cmd-madvthreads/trace.dat')).subarray(0, 4096)));
// Only the magic bytes matter: tlbsim names the compression instead of calling it binary.
write('xz-compressed.txt.xz', Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.from(text(HEADER))]));
write('truncated-trace.dat', readFileSync(join(ROOT, 'traces/real/trace-cmd-madvthreads/trace.dat')).subarray(0, 4096));
{
  const lines = [...HEADER, ...EVENTS];
  const last = lines[lines.length - 1];
  write('truncated-last-line.txt', lines.slice(0, -1).join('\n') + '\n' + last.slice(0, last.indexOf(': ') + 8));
}
write('crlf-line-ends.txt', [...HEADER, ...EVENTS].join('\r\n') + '\r\n');
{
  // Names are at most 15 bytes in the kernel (TASK_COMM_LEN 16), in whatever encoding the
  // program chose; the kernel pads by bytes, so multi-byte names lose the column alignment.
  const names = ['héllo wörld', '日本語タスク', 'tâche-🚀-x'];
  const lines = EVENTS.map((l, i) => (l.includes('madvthreads-7672') ? renamed(l, names[i % names.length], 31000 + (i % names.length)) : l));
  write('utf8-task-names.txt', text([...HEADER, ...lines]));
}
{
  const lines = [...HEADER, ...EVENTS].map((l) => Buffer.from(l + '\n', 'utf8'));
  // A comm of raw bytes that are not UTF-8 (0xff 0xfe, a lone continuation byte).
  const i = lines.findIndex((b) => b.toString().includes('madvthreads-7672'));
  const bad = Buffer.concat([Buffer.from('     '), Buffer.from([0x6d, 0xff, 0xfe, 0x80, 0x61]), Buffer.from(lines[i].toString().slice(lines[i].toString().indexOf('madvthreads-7672') + 11))]);
  lines[i] = bad;
  write('invalid-utf8-task-name.txt', Buffer.concat(lines));
}
for (const [name, bytes] of [['one-megabyte-line.txt.gz', 1 << 20], ['three-megabyte-line.txt.gz', 3 << 20]] as const) {
  // A real line with a runaway tail, then a garbage line whose number must still be right.
  const lines = [...HEADER, ...EVENTS];
  lines.splice(30, 0, EVENTS[10] + ' ' + 'x'.repeat(bytes));
  lines.splice(40, 0, 'garbage after the long line');
  write(name, gzipSync(text(lines)));
}
{
  // Lines 20/21 swapped (a few µs apart: re-ordered); line 40 is 2 s behind (reported).
  const lines = [...HEADER, ...EVENTS];
  [lines[19], lines[20]] = [lines[20], lines[19]];
  lines[39] = lines[39].replace(/ 9452\./, ' 9450.');
  write('timestamps-backwards.txt', text(lines));
}
{
  // Line 30's timestamp is damaged 400 s ahead; from line 60 on the trace really goes on
  // 5 s later (tracing paused): the first is reported, the second is read.
  const lines = [...HEADER, ...EVENTS];
  lines[29] = lines[29].replace(/ 9452\./, ' 9852.');
  for (let i = 59; i < lines.length; i++) lines[i] = lines[i].replace(/ 9452\./, ' 9457.');
  write('timestamp-jumps-ahead.txt', text(lines));
}
for (const [name, index, to] of [['first-timestamp-ahead.txt', 0, ' 9852.'], ['first-timestamp-behind.txt', 0, ' 9052.'], ['second-timestamp-behind.txt', 1, ' 9052.']] as const) {
  // The first event lines have no line before them to be judged against.
  const events = [...EVENTS];
  events[index] = events[index].replace(/ 9452\./, to);
  write(name, text([...HEADER, ...events]));
}
{
  const lines = [...HEADER, ...EVENTS];
  lines[25] = lines[25].replace('[001]', '[005]');
  lines[26] = lines[26].replace(/\[00(\d)\]/, '[4096]');
  write('cpu-beyond-header.txt', text(lines));
  // CPU 1 offline and CPU 3 online: `#P:2` counts online CPUs, the lines name CPUs 0 and 3.
  write('cpus-offline.txt', text([...HEADER, ...EVENTS.map((l) => l.replace('[001]', '[003]'))]));
}
{
  const flush = EVENTS.find((l) => l.includes('tlb_flush: pages:1 '))!;
  const munmap = EVENTS.find((l) => l.includes('sys_munmap'))!;
  const madvise = EVENTS.find((l) => l.includes('sys_madvise'))!;
  const lines = [...HEADER, ...EVENTS];
  after(lines, flush,
    flush.replace('pages:1 ', 'pages:-5 '),
    flush.replace('pages:1 ', 'pages:99999999999999999999 '),
    flush.replace('pages:1 ', 'pages:34359738368 '));
  after(lines, munmap, munmap.replace(/len: 0x[0-9a-f]+/, 'len: 0xffffffffffffffff'));
  after(lines, madvise, madvise.replace(/len_in: 0x[0-9a-f]+/, 'len_in: -4096'));
  write('absurd-page-counts.txt', text(lines));
}
{
  const t = EVENTS[5].replace(/: .*$/, '');
  const lines = [...HEADER, ...EVENTS];
  after(lines, EVENTS[5],
    `${t}: irq_handler_entry: irq=11 name=virtio0`,
    `${t}: sched_wakeup: comm=record.sh pid=7670 prio=120 target_cpu=001`,
    `${t}: mm_page_alloc: page=0000000011111111 pfn=0x1234 order=0 migratetype=0 gfp_flags=GFP_KERNEL`,
    `${t}: my_custom_event:`);
  write('unknown-events.txt', text(lines));
}
{
  const flush = EVENTS.find((l) => l.includes('reason:local MM shootdown (3)'))!;
  const lines = [...HEADER, ...EVENTS];
  after(lines, flush, flush.replace(/reason:.*$/, 'reason:0x7'), flush.replace(/reason:.*$/, 'reason:brand new reason (9)'));
  write('unknown-tlb-flush-reason.txt', text(lines));
}
{
  const lines = [...HEADER, ...EVENTS];
  lines.splice(30, 0, 'CPU:1 [LOST 1234 EVENTS]');
  lines.splice(50, 0, '##### CPU 0 buffer started ####', 'CPU:0 [LOST EVENTS]');
  write('lost-events-ftrace.txt', text(lines));
  const tc = [...traceCmd];
  tc.splice(10, 0, 'CPU:1 [204 EVENTS DROPPED]');
  tc.splice(20, 0, 'CPU:0 [EVENTS DROPPED]');
  write('lost-events-trace-cmd.txt', text(tc));
}
{
  // `cat a.txt b.txt`: b was recorded earlier (its clock is behind a's end).
  const second = EVENTS.slice(0, 30).map((l) => l.replace(/ 9452\.92/, ' 9440.92'));
  write('concatenated-traces.txt', text([...HEADER, ...EVENTS, ...HEADER, ...second]));
}
{
  const gz = gzipSync(text([...HEADER, ...EVENTS, ...EVENTS.map((l) => l.replace(/ 9452\./, ' 9453.'))]));
  write('cut-short.txt.gz', gz.subarray(0, Math.floor(gz.length * 0.6)));
}
{
  // perf can emit events a little out of order when it flushes its ordering queue.
  const lines = [...perf];
  [lines[10], lines[12]] = [lines[12], lines[10]];
  write('perf-out-of-order.txt', text(lines));
  // `cat perf-b.txt perf-a.txt`: perf script prints no header, and b was recorded 10 s later.
  write('perf-concatenated.txt', text([...perf, ...perf.map((l) => l.replace(/ 9455\./, ' 9445.'))]));
  // perf has no CPU count: one line's CPU damaged to 900 must not make a 901-CPU machine.
  const damaged = [...perf];
  damaged[20] = damaged[20].replace(/\[00(\d)\]/, '[900]');
  write('perf-cpu-damaged.txt', text(damaged));
}
{
  const lines = [...HEADER, ...EVENTS];
  lines.splice(40, 0, 'this line is not a trace line', '', '\t   ', '[001] 12.5: tlb_flush', '💥💥💥');
  lines.splice(20, 0, 'deadbeef\u0000\u0001\u0002 nul bytes in a line');
  write('garbage-lines.txt', text(lines));
}
{
  // Names a user can give a process (prctl PR_SET_NAME takes any 15 bytes but NUL).
  const hostile = ['<script>alert(1)', '=HYPERLINK("x")', '+cmd|\' /C calc', '@SUM(A1)', '-2+3', '"a,b"\'', '\u001b[31mred\u001b[0m'];
  const lines = EVENTS.map((l, i) => (l.includes('madvthreads-7672') ? renamed(l, hostile[i % hostile.length], 32000 + (i % hostile.length)) : l));
  write('hostile-task-names.txt', text([...HEADER, ...lines]));
}
{
  const rows = [
    '# tlbsim-trace v1 cpus=2 format=ftrace',
    'time_ns,cpu,kind,tid,mm,a,b,c,name',
    ',,task,100,1,100,0,,ok',
    ',,mm,100,1,,,,ok',
    '1000,0,switch,0,0,100,1,0,',
    '2000,0,flush_request,100,1,4096,1,256,',
    '3000,7,switch,0,0,100,1,0,',
    '4000,0,switch,2147483647,1,100,1,0,',
    '5000,0,flush_request,100,999999999,0,1,256,',
    '6000,0,access,100,1,0,1e300,0,',
    '7000,0,nonsense,100,1,0,0,0,',
    '8000,0,switch,100,1,abc,1,0,',
    '9000,-1,switch,100,1,0,1,0,',
    '10000,0,flush_request,100,1,4096,1,256,',
  ];
  write('csv-bad-values.csv', rows.join('\n') + '\n');
  // Rows 5 and 6 swapped (1 µs apart: put back in order); row 8 is 5 s back (reported).
  write('csv-rows-out-of-order.csv', [rows[0], rows[1], rows[2], rows[3],
    '2000,0,flush_request,100,1,4096,1,256,', '1000,0,switch,0,0,100,1,0,', '3000,1,switch,0,0,100,1,0,',
    '-4999997000,0,flush_request,100,1,4096,1,256,', '4000,0,flush_request,100,1,4096,1,256,'].join('\n') + '\n');
}
