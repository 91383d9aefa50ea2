// What a user gets for each kind of bad input in test/corpus (made from real recordings by
// test/corpus/make.ts): a one-line TraceError naming the file when nothing can be used;
// otherwise every good line read, every bad one reported with its number and reason, and
// a replay that completes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { openTrace, TraceError, EventKind, eventsOf, type TraceEvent, type TraceInfo } from '../../src/trace/index.ts';
import { replay } from '../../src/replay/replay.ts';
import { MAX_LINE } from '../../src/trace/text/lines.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CORPUS = join(ROOT, 'test/corpus');
const file = (name: string) => join(CORPUS, name);
const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), ...args], { encoding: 'utf8', cwd: ROOT });

interface Read { info: TraceInfo; events: TraceEvent[] }

async function read(name: string): Promise<Read> {
  const t = await openTrace(file(name));
  const events: TraceEvent[] = [];
  for await (const b of t.batches()) for (const e of eventsOf([b])) events.push(e);
  t.close();
  return { info: t.info, events };
}

/** Replays under two strategies and checks the run went through every event. */
async function replays(name: string): Promise<void> {
  const t = await openTrace(file(name));
  try {
    let n = 0;
    for await (const b of t.batches()) n += b.length;
    const results = await replay(t, { strategies: ['linux-4.13', 'linux-6.18'], workers: 1 });
    assert.equal(results.length, 2);
    for (const r of results) {
      assert.equal(r.events, n, `${name}: ${r.strategy.name} saw every event`);
      for (const [k, v] of Object.entries(r.metrics)) assert.ok(Number.isFinite(v), `${name}: ${r.strategy.name} ${k} = ${v}`);
    }
  } finally { t.close(); }
}

const withoutLost = (evs: TraceEvent[]) => evs.filter((e) => e.kind !== EventKind.lost);
const clean = await read('clean.txt');

test('the clean reference reads without a skipped line and replays', async () => {
  assert.equal(clean.info.skippedLines, 0);
  assert.ok(clean.events.length > 100);
  await replays('clean.txt');
});

// ---- files that cannot be used: one TraceError naming the file, exit status 1, no stack

const UNUSABLE: [string, RegExp][] = [
  ['empty.txt', /empty\.txt: the file is empty/],
  ['binary-garbage.txt', /binary-garbage\.txt: this is a binary file, not a text trace/],
  // With trace-cmd installed it reports nothing for a cut trace.dat; without, we say how to get it.
  ['trace.dat.gz', /trace\.dat\.gz: this is a gzipped trace\.dat; gunzip it and give tlbsim the trace\.dat/],
  ['xz-compressed.txt.xz', /xz-compressed\.txt\.xz: this is an xz-compressed file; tlbsim reads plain or gzipped text\. Decompress it first: xz -dk \S+xz-compressed\.txt\.xz/],
  ['truncated-trace.dat', /truncated-trace\.dat: (trace-cmd report printed nothing for this trace\.dat: it is truncated or corrupt|this is a binary trace-cmd trace\.dat.*Install trace-cmd)/],
];

for (const [name, message] of UNUSABLE) {
  test(`unusable: ${name} is one clear error`, async () => {
    await assert.rejects(openTrace(file(name)), (e: Error) => e instanceof TraceError && message.test(e.message) && !e.message.includes('\n'));
    const r = cli('inspect', file(name));
    assert.equal(r.status, 1);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\bat .*:\d+:\d+/);
  });
}

test('unusable: a trace.dat without trace-cmd on PATH says how to convert it, path quoted for the shell', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), 'inspect', file('truncated-trace.dat')],
    { encoding: 'utf8', cwd: ROOT, env: { ...process.env, PATH: '/nonexistent' } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Install trace-cmd .* trace-cmd report -i \S*truncated-trace\.dat > trace\.txt/);
});

test('unusable: a perf.data is named and the conversion command given', async () => {
  const { tempFile } = await import('../helpers.ts');
  const path = tempFile(Buffer.concat([Buffer.from('PERFILE2'), Buffer.alloc(200, 7)]), '.data');
  await assert.rejects(openTrace(path), (e: Error) => e instanceof TraceError && /perf\.data file.*perf script -i \S+ > perf\.txt/.test(e.message));
});

// ---- partly bad files: what was skipped, where, why; every good line still read

test('truncated last line: reported as cut short, every earlier line read', async () => {
  const { info, events } = await read('truncated-last-line.txt');
  assert.equal(info.skippedLines, 1);
  assert.equal(info.skipped[0].line, 89);
  assert.match(info.skipped[0].reason, /last line is cut short/);
  // The cut line was the last event line of clean.txt: everything before it is identical.
  const lastTime = clean.events.reduce((m, e) => Math.max(m, e.time), 0);
  assert.deepEqual(events.filter((e) => e.time < lastTime), clean.events.filter((e) => e.time < lastTime));
  assert.deepEqual(info.unusedEvents, {});
  await replays('truncated-last-line.txt');
});

test('CRLF line ends read exactly like LF', async () => {
  const { info, events } = await read('crlf-line-ends.txt');
  assert.equal(info.skippedLines, 0);
  assert.deepEqual(events, clean.events);
  assert.deepEqual(info.tasks, clean.info.tasks);
});

test('UTF-8 task names are kept as written (alignment lost to multi-byte names is found again)', async () => {
  const { info, events } = await read('utf8-task-names.txt');
  assert.equal(info.skippedLines, 0);
  // Same records at the same times and CPUs; only who ran them changed.
  const shape = (evs: TraceEvent[]) => evs.filter((e) => e.kind !== EventKind.flush_request).map((e) => [e.kind, e.time, e.cpu, e.a]);
  assert.deepEqual(shape(events), shape(clean.events));
  const names = info.tasks.map((t) => t.comm);
  for (const n of ['héllo wörld', '日本語タスク', 'tâche-🚀-x']) assert.ok(names.includes(n), n);
  await replays('utf8-task-names.txt');
});

test('invalid UTF-8 in a task name: the line is read, the bad bytes become U+FFFD', async () => {
  const { info, events } = await read('invalid-utf8-task-name.txt');
  assert.equal(info.skippedLines, 0);
  assert.equal(events.length, clean.events.length);
  assert.deepEqual(events.map((e) => [e.kind, e.time, e.cpu, e.tid]), clean.events.map((e) => [e.kind, e.time, e.cpu, e.tid]));
  await replays('invalid-utf8-task-name.txt');
});

for (const name of ['one-megabyte-line.txt.gz', 'three-megabyte-line.txt.gz']) {
  test(`${name}: the long line is reported once, later line numbers stay right`, async () => {
    const { info, events } = await read(name);
    assert.deepEqual(info.skipped.map((s) => [s.line, s.reason]), [
      [31, `line longer than ${MAX_LINE} characters`],
      [41, 'not a trace event line (expected "TASK-PID [CPU] ... TIMESTAMP: event: ...")'],
    ]);
    assert.ok(info.skipped[0].text.length <= 200);
    assert.deepEqual(events, clean.events);
  });
}

test('timestamps backwards: a few µs late is put back in order; 2 s back is reported, not moved', async () => {
  const { info, events } = await read('timestamps-backwards.txt');
  assert.equal(info.skippedLines, 1);
  assert.equal(info.skipped[0].line, 40);
  assert.match(info.skipped[0].reason, /timestamp 9450\.924333 s is 2 s earlier than the trace had reached .* this one is left out/);
  assert.ok(info.warnings.some((w) => /1 event came up to 7 µs late and was put back in time order/.test(w)), JSON.stringify(info.warnings));
  for (let i = 1; i < events.length; i++) assert.ok(events[i].time >= events[i - 1].time, `event ${i} in time order`);
  // The swapped pair is back in place: the events equal the clean ones minus the dropped line's.
  const droppedTime = 9452924333000;
  assert.deepEqual(events, clean.events.filter((e) => e.time !== droppedTime));
  await replays('timestamps-backwards.txt');
});

test('one timestamp damaged far ahead is reported alone; a real gap in tracing is read', async () => {
  const { info, events } = await read('timestamp-jumps-ahead.txt');
  assert.equal(info.skippedLines, 1);
  assert.equal(info.skipped[0].line, 30);
  assert.match(info.skipped[0].reason, /timestamp 9852\.924275 s is out of line with the lines before it \(9452\.924272 s\) and after it \(9452\.924277 s\): a damaged timestamp, left out/);
  // Every line after the gap is read: the same records as the clean text, 5 s later.
  const raw = (evs: TraceEvent[]) => evs.filter((e) => e.kind !== EventKind.flush_request).map((e) => [e.kind, e.cpu, e.tid, e.a, e.b, e.time]);
  const after = raw(events.filter((e) => e.time >= 9457e9)).map((k) => [...k.slice(0, 5), (k[5] as number) - 5e9]);
  assert.equal(after.length, 30);
  assert.deepEqual(after, raw(clean.events).slice(-after.length));
  for (let i = 1; i < events.length; i++) assert.ok(events[i].time >= events[i - 1].time);
  await replays('timestamp-jumps-ahead.txt');
});

test('the first event lines with a damaged timestamp: reported alone when the lines after them outvote them', async () => {
  // A first line far *behind* the rest cannot be told from a pause in tracing: it is kept,
  // and the gap is pointed out.
  const behind = await read('first-timestamp-behind.txt');
  assert.equal(behind.info.skippedLines, 0);
  assert.ok(behind.info.warnings.includes('the longest stretch without events is 400 s, before line 14'), JSON.stringify(behind.info.warnings));
  for (const [name, skippedLine] of [['first-timestamp-ahead.txt', 13], ['second-timestamp-behind.txt', 14]] as const) {
    const { info, events } = await read(name);
    assert.deepEqual(info.skipped.map((s) => s.line), [skippedLine], name);
    assert.match(info.skipped[0].reason, /out of line with the lines (before it .* and )?after it .* a damaged timestamp, left out/);
    const cleanLine = readFileSync(file('clean.txt'), 'utf8').split('\n')[skippedLine - 1];
    const droppedTime = Math.round(Number(/ (\d+\.\d+): /.exec(cleanLine)![1]) * 1e6) * 1000;
    const raw = (evs: TraceEvent[]) => evs.filter((e) => e.kind !== EventKind.flush_request).map((e) => [e.kind, e.cpu, e.tid, e.a, e.b, e.time]);
    assert.deepEqual(raw(events), raw(clean.events.filter((e) => e.time !== droppedTime)), name);
  }
});

test('perf events out of order within the window are re-ordered, and the user is told', async () => {
  const { info, events } = await read('perf-out-of-order.txt');
  assert.equal(info.skippedLines, 0);
  assert.ok(info.warnings.some((w) => /2 events came up to 341 µs late and were put back in time order \(window 10 ms\)/.test(w)), JSON.stringify(info.warnings));
  for (let i = 1; i < events.length; i++) assert.ok(events[i].time >= events[i - 1].time);
  await replays('perf-out-of-order.txt');
});

test('CPU numbers beyond the header count are reported per line', async () => {
  const { info } = await read('cpu-beyond-header.txt');
  assert.deepEqual(info.skipped.map((s) => [s.line, s.reason]), [
    [26, 'CPU 5 is beyond the 2 CPUs the header declares (and only 1 line names it)'],
    [27, 'CPU 4096 is beyond the supported 4096 CPUs'],
  ]);
  assert.equal(info.cpus, 2);
  await replays('cpu-beyond-header.txt');
});

test('perf traces concatenated (no header between them): the clock reset is found, the second shifted to follow', async () => {
  const { info, events } = await read('perf-concatenated.txt');
  assert.equal(info.skippedLines, 0, JSON.stringify(info.skipped.slice(0, 3)));
  assert.ok(info.warnings.some((w) => /^line 41: the clock goes back 10(\.\d+)? s and the trace carries on from there: a second recording without its header/.test(w)), JSON.stringify(info.warnings));
  const once = (await read('perf-out-of-order.txt')).events.length;
  assert.ok(events.length >= 2 * once - 4, `${events.length} events, ${once} in one copy`);
  for (let i = 1; i < events.length; i++) assert.ok(events[i].time >= events[i - 1].time);
  await replays('perf-concatenated.txt');
});

test('perf (no CPU count): one line with a damaged CPU number is reported, the machine keeps its 2 CPUs', async () => {
  const { info } = await read('perf-cpu-damaged.txt');
  assert.deepEqual(info.skipped.map((s) => [s.line, s.reason]), [
    [21, 'CPU 900 is named on only 1 line, far beyond the CPUs the trace is busy on (up to CPU 0): a damaged CPU number']]);
  assert.equal(info.cpus, 2);
  await replays('perf-cpu-damaged.txt');
});

test('CPUs beyond the header named on many lines are real (#P counts online CPUs): read, and said', async () => {
  const { info, events } = await read('cpus-offline.txt');
  assert.equal(info.skippedLines, 0);
  assert.equal(info.cpus, 4);
  assert.ok(info.warnings.includes('the header declares 2 CPUs (#P counts the online ones) but lines name CPU 3: simulating 4 CPUs'), JSON.stringify(info.warnings));
  assert.deepEqual(events.map((e) => [e.kind, e.time, e.cpu === 3 ? 1 : e.cpu]), clean.events.map((e) => [e.kind, e.time, e.cpu]));
  await replays('cpus-offline.txt');
});

test('negative or absurd page counts are reported; large but possible ones are kept', async () => {
  const { info, events } = await read('absurd-page-counts.txt');
  assert.deepEqual(info.skipped.map((s) => [s.line, s.reason]), [
    [22, 'tlb_flush pages -5 is negative'],
    [23, 'tlb_flush pages 99999999999999999999 is more than a 57-bit address space holds'],
  ]);
  const flushes = events.filter((e) => e.kind === EventKind.observed_flush);
  assert.ok(flushes.some((e) => e.b === 2 ** 35), 'all of a 47-bit address space is a possible count');
  assert.ok(events.some((e) => e.kind === EventKind.munmap && e.b === 2 ** 64));
  await replays('absurd-page-counts.txt');
});

test('unknown events are counted by name, never skipped', async () => {
  const { info, events } = await read('unknown-events.txt');
  assert.equal(info.skippedLines, 0);
  assert.deepEqual(info.unusedEvents, { irq_handler_entry: 1, sched_wakeup: 1, mm_page_alloc: 1, my_custom_event: 1 });
  assert.deepEqual(events, clean.events);
});

test('unknown tlb_flush reasons (0x7) are kept as observed flushes, named in a note, never requests', async () => {
  const { info, events } = await read('unknown-tlb-flush-reason.txt');
  assert.equal(info.skippedLines, 0);
  assert.equal(info.observedFlushByReason['7'], 1);
  assert.equal(info.observedFlushByReason['9'], 1);
  assert.ok(info.warnings.some((w) => /tlb_flush reason 7 \(1 records\), 9 \(1 records\) is not one tlbsim knows/.test(w)));
  assert.equal(info.countsByKind.flush_request, clean.info.countsByKind.flush_request);
  assert.equal(events.length, clean.events.length + 2);
  await replays('unknown-tlb-flush-reason.txt');
});

test('lost-event markers of ftrace and trace-cmd are counted and kept in the stream', async () => {
  const ft = await read('lost-events-ftrace.txt');
  assert.equal(ft.info.skippedLines, 0);
  assert.equal(ft.info.lostMarkers, 2);
  assert.equal(ft.info.lostEvents, 1234);
  assert.deepEqual(ft.events.filter((e) => e.kind === EventKind.lost).map((e) => [e.cpu, e.a]), [[1, 1234], [0, -1]]);
  assert.deepEqual(withoutLost(ft.events), clean.events);
  const tc = await read('lost-events-trace-cmd.txt');
  assert.equal(tc.info.skippedLines, 0);
  assert.equal(tc.info.lostMarkers, 2);
  assert.equal(tc.info.lostEvents, 204);
  await replays('lost-events-trace-cmd.txt');
});

test('concatenated traces: the repeated header is named, the second trace is shifted to follow the first', async () => {
  const { info, events } = await read('concatenated-traces.txt');
  assert.equal(info.skippedLines, 0);
  assert.ok(info.warnings.some((w) => /line 102 begins another trace \(its header repeats: concatenated files\?\); its clock starts 12 s before the end of the previous one/.test(w)), JSON.stringify(info.warnings));
  for (let i = 1; i < events.length; i++) assert.ok(events[i].time >= events[i - 1].time);
  assert.deepEqual(events.slice(0, clean.events.length), clean.events);
  const second = readFileSync(file('concatenated-traces.txt'), 'utf8').split('\n').slice(101);
  assert.equal(info.countsByKind.observed_flush, clean.info.countsByKind.observed_flush + second.filter((l) => l.includes(' tlb_flush: ')).length);
  assert.equal(events.length - clean.events.length > 30, true);
  await replays('concatenated-traces.txt');
});

test('a gzip cut short keeps what was read and says so', async () => {
  const { info, events } = await read('cut-short.txt.gz');
  assert.ok(info.warnings.some((w) => /cut-short\.txt\.gz: the gzip data is cut short at byte \d+ of \d+: everything up to the cut was read/.test(w)));
  assert.ok(events.length > 50);
  // Everything up to the damage is the clean text.
  assert.deepEqual(events.slice(0, 40), clean.events.slice(0, 40));
  await replays('cut-short.txt.gz');
});

test('garbage lines (text, NUL bytes, emoji) are reported one by one, the rest read', async () => {
  const { info, events } = await read('garbage-lines.txt');
  assert.deepEqual(info.skipped.map((s) => s.line), [21, 42, 45, 46]);
  assert.ok(info.skipped.every((s) => /not a trace event line/.test(s.reason) && s.file.endsWith('garbage-lines.txt')));
  assert.deepEqual(events, clean.events);
  await replays('garbage-lines.txt');
});

test('hostile task names are read as data and kept byte for byte', async () => {
  const { info } = await read('hostile-task-names.txt');
  assert.equal(info.skippedLines, 0);
  const names = new Set(info.tasks.map((t) => t.comm));
  for (const n of ['<script>alert(1)', '=HYPERLINK("x")', '+cmd|\' /C calc', '@SUM(A1)', '-2+3', '"a,b"\'', '\u001b[31mred\u001b[0m']) assert.ok(names.has(n), n);
  await replays('hostile-task-names.txt');
});

test('hostile task names: inspect prints no terminal escape, the CSV holds no formula', async () => {
  const r = cli('inspect', '--verbose', file('hostile-task-names.txt'));
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /\u001b/);
  const { openTrace: open, writeTraceCsv } = await import('../../src/trace/index.ts');
  const { tmp } = await import('../helpers.ts');
  const t = await open(file('hostile-task-names.txt'));
  const out = join(tmp, 'hostile-names.csv');
  await writeTraceCsv(t, out);
  t.close();
  const Papa = (await import('papaparse')).default;
  const rows = Papa.parse<string[]>(readFileSync(out, 'utf8').split('\n').slice(1).join('\n'), { skipEmptyLines: true }).data;
  for (const row of rows) for (const cell of row) assert.ok(!/^[=+\-@\t\r]/.test(cell) || /^-?\d/.test(cell), `formula-like cell ${JSON.stringify(cell)}`);
  const back = await open(out);
  assert.deepEqual(back.info.tasks.map((x) => x.comm), t.info.tasks.map((x) => x.comm));
  back.close();
});

test('tlbsim CSV with out-of-range ids and values: each row reported, the replay stays small and completes', async () => {
  const { info } = await read('csv-bad-values.csv');
  assert.deepEqual(info.skipped.map((s) => [s.line, s.reason]), [
    [7, 'CPU 7 is outside the 2 CPUs of the header'],
    [8, 'tid 2147483647 is not a task id (0 to 4194303)'],
    [9, 'mm 999999999 is not an address-space id (0 to 65535)'],
    [10, 'access pages (1e+300) is not a page count of a 57-bit address space'],
    [11, 'unknown event kind "nonsense"'],
    [12, 'a numeric column is empty or not a number'],
    [13, 'CPU -1 is outside the 2 CPUs of the header'],
  ]);
  assert.equal(info.events, 3);
  await replays('csv-bad-values.csv');
});

test('thousands of distinct unknown event names are counted, the names kept are bounded', async () => {
  const { tempFile } = await import('../helpers.ts');
  const line = readFileSync(file('clean.txt'), 'utf8').split('\n')[12];
  const head = line.slice(0, line.indexOf(': ') + 2).replace(/ \d+\.\d+: $/, '');
  let text = readFileSync(file('only-headers.txt'), 'utf8');
  for (let i = 0; i < 3000; i++) text += `${head} 9452.${String(924171 + i)}: made_up_event_${i}: x=1\n`;
  const t = await openTrace(tempFile(text));
  t.close();
  assert.equal(t.info.skippedLines, 0);
  assert.equal(Object.keys(t.info.unusedEvents).length, 1001);
  assert.equal(Object.values(t.info.unusedEvents).reduce((a, b) => a + b, 0), 3000);
  assert.equal(t.info.unusedEvents['(other names)'], 2000);
});

test('tlbsim CSV rows out of order: put back in order within the window, reported beyond it', async () => {
  const { info, events } = await read('csv-rows-out-of-order.csv');
  assert.deepEqual(info.skipped.map((s) => s.line), [8]);
  assert.match(info.skipped[0].reason, /time_ns -4999997000 is more than 10000000 ns earlier than a row before it/);
  assert.deepEqual(events.map((e) => e.time), [1000, 2000, 3000, 4000]);
  assert.ok(info.warnings.some((w) => /1 row came less than 10 ms late and was put back in time order/.test(w)), JSON.stringify(info.warnings));
  await replays('csv-rows-out-of-order.csv');
});

test('an error quoting the file sends no escape sequence to the terminal', async () => {
  const { tempFile } = await import('../helpers.ts');
  const lines = ['\u001b]0;pwned\u0007\u001b[2J\u009b31m a first line long enough not to look like binary data at all'];
  for (let i = 0; i < 50; i++) lines.push(`just words ${i}`);
  const r = cli('inspect', tempFile(lines.join('\n') + '\n'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not a trace tlbsim knows: the first line is "\?\]0;pwned\?\?\[2J\?31m a first line/);
  assert.doesNotMatch(r.stderr, /[\u001b\u0007\u009b]/);
});

test('a few lines in a row far behind are damage, reported; they do not make a clock reset', async () => {
  const { tempFile } = await import('../helpers.ts');
  const lines = readFileSync(file('clean.txt'), 'utf8').split('\n');
  for (const i of [39, 40, 41]) lines[i] = lines[i].replace(/ 9452\./, ' 9450.');
  const t = await openTrace(tempFile(lines.join('\n')));
  t.close();
  assert.deepEqual(t.info.skipped.map((s) => s.line), [40, 41, 42]);
  assert.ok(t.info.skipped.every((s) => /earlier than the trace had reached .* this one is left out/.test(s.reason)));
  assert.ok(!t.info.warnings.some((w) => /clock goes back/.test(w)));
});

test('only headers: read, with a note that the trace holds no events', async () => {
  const t = await openTrace(file('only-headers.txt'));
  t.close();
  assert.equal(t.info.events, 0);
  assert.ok(t.info.warnings.some((w) => /the trace holds no events: its 12 lines are all headers, comments or blank/.test(w)), JSON.stringify(t.info.warnings));
});
