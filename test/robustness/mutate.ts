// Property tests: real trace lines (ftrace with and without TGID, trace-cmd report, perf
// script) are mutated the ways files get damaged (a line deleted, duplicated, two fields
// swapped, a byte flipped, a line cut, garbage inserted) with a fixed seed, and for every
// mutated file:
//   - nothing but a TraceError escapes openTrace, and a replay completes;
//   - every line that cannot be read on its own is reported, with its line number;
//   - no untouched line is reported, and every untouched line gives the events it gives
//     in the undamaged file (compared on the fields a line states itself: kind, time,
//     CPU, tid and its own numbers; address-space ids, derived flush requests and where an
//     exec lands depend on the other lines, which the mutations change).
// The budget is 10 000 mutated files in total, split over the formats and over two test
// files (mutations-*.test.ts) so that the runner can use two cores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import fc from 'fast-check';
import { openTrace, TraceError, EventKind, type TraceFormat } from '../../src/trace/index.ts';
import { TextIngest } from '../../src/trace/text/ingest.ts';
import { EventStore } from '../../src/trace/store.ts';
import { replay } from '../../src/replay/replay.ts';

// Thousands of small files: in memory when the machine has a tmpfs.
const tmp = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'tlbsim-mutations-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const ROOT = new URL('../../', import.meta.url).pathname;
const SEED = Number(process.env.TLBSIM_MUTATION_SEED ?? 20261123);
/** Mutated files in total (the budget; TLBSIM_MUTATION_RUNS overrides it), and
 *  how often one is also replayed. */
const RUNS = Number(process.env.TLBSIM_MUTATION_RUNS ?? 10_000);
const REPLAY_EVERY = 10;

interface Source { name: string; format: TraceFormat; header: string[]; events: string[] }

function source(name: string, format: TraceFormat, file: string): Source {
  const lines = gunzipSync(readFileSync(join(ROOT, 'traces/real', file))).toString('utf8').split('\n').filter((l) => l !== '');
  const isHeader = (l: string) => l.startsWith('#') || l.startsWith('cpus=') || l.startsWith('version');
  return { name, format, header: lines.filter(isHeader), events: lines.filter((l) => !isHeader(l)) };
}

export const SOURCES: Source[] = [
  source('ftrace', 'ftrace', 'madvthreads-2/trace.txt.gz'),
  source('ftrace-tgid', 'ftrace', 'forkchurn-tgid/trace.txt.gz'),
  source('trace-cmd', 'trace-cmd', 'trace-cmd-madvthreads/trace-cmd.txt.gz'),
  source('perf', 'perf', 'perf-pingpong/perf.txt.gz'),
];

// ---- what one line gives on its own

/** Fields of an event that its own line states (not ids resolved from other lines). */
function key(kind: number, time: number, cpu: number, tid: number, a: number, b: number, c: number): string {
  switch (kind) {
    case EventKind.switch: return `${kind} ${time} ${cpu} ${tid} ${a} ${c}`;
    case EventKind.fork: return `${kind} ${time} ${cpu} ${tid} ${a}`;
    // The reader moves an exec back to where its task loaded the new mm (exec-window.ts).
    case EventKind.exec: return `${kind} ${tid}`;
    case EventKind.exit_mmap: return `${kind} ${time} ${cpu} ${tid}`;
    default: return `${kind} ${time} ${cpu} ${tid} ${a} ${b} ${c}`;
  }
}

interface Alone { bad: boolean; keys: string[] }
const aloneCache = new Map<string, Alone>();

/** Reads one line after the source's header, as the reader would with nothing around it. */
function alone(src: Source, line: string): Alone {
  const ck = `${src.name}\n${line}`;
  const hit = aloneCache.get(ck);
  if (hit) return hit;
  const store = new EventStore({ batchSize: 64 });
  const ingest = new TextIngest('line', src.format, store);
  ingest.push(src.header.join('\n') + '\n' + line + '\n');
  ingest.end();
  store.seal();
  const keys: string[] = [];
  for (const b of store.batches()) {
    for (let i = 0; i < b.length; i++) {
      if (b.kind[i] === EventKind.lost) continue;
      keys.push(key(b.kind[i], b.time[i], b.cpu[i], b.tid[i], b.a[i], b.b[i], b.c[i]));
    }
  }
  const r: Alone = { bad: ingest.result().skippedLines > 0, keys };
  aloneCache.set(ck, r);
  return r;
}

// ---- mutations

type Mutation =
  | { op: 'delete'; at: number }
  | { op: 'duplicate'; at: number }
  | { op: 'swap'; at: number; i: number; j: number }
  | { op: 'flip'; at: number; pos: number; byte: number }
  | { op: 'truncate'; at: number; pos: number }
  | { op: 'garbage'; at: number; bytes: Uint8Array }
  | { op: 'text'; at: number; text: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), i: fc.nat(), j: fc.nat() }),
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), pos: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat(), pos: fc.nat() }),
  fc.record({ op: fc.constant('garbage' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 120 }) }),
  fc.record({ op: fc.constant('text' as const), at: fc.nat(), text: fc.string({ maxLength: 120, unit: fc.oneof(fc.constantFrom(' ', ':', '[', ']', '-', '=', '(', ')', '#', '\r'), fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme' })) }) }),
);

interface Line { bytes: Buffer; touched: boolean }

function mutate(window: string[], mutations: Mutation[]): Line[] {
  const lines: Line[] = window.map((l) => ({ bytes: Buffer.from(l, 'utf8'), touched: false }));
  for (const m of mutations) {
    if (lines.length === 0) break;
    const at = m.at % lines.length;
    const l = lines[at];
    switch (m.op) {
      case 'delete': lines.splice(at, 1); break;
      case 'duplicate': lines.splice(at, 0, { bytes: Buffer.from(l.bytes), touched: l.touched }); break;
      case 'swap': {
        const f = l.bytes.toString('latin1').split(' ');
        const i = m.i % f.length, j = m.j % f.length;
        if (f[i] === f[j]) break;
        [f[i], f[j]] = [f[j], f[i]];
        lines[at] = { bytes: Buffer.from(f.join(' '), 'latin1'), touched: true };
        break;
      }
      case 'flip': {
        if (l.bytes.length === 0) break;
        const pos = m.pos % l.bytes.length;
        if (l.bytes[pos] === m.byte) break;
        const b = Buffer.from(l.bytes);
        b[pos] = m.byte;
        lines[at] = { bytes: b, touched: true };
        break;
      }
      case 'truncate': {
        const pos = m.pos % (l.bytes.length + 1);
        if (pos === l.bytes.length) break;
        lines[at] = { bytes: l.bytes.subarray(0, pos), touched: true };
        break;
      }
      case 'garbage': lines.splice(at, 0, { bytes: Buffer.from(m.bytes), touched: true }); break;
      case 'text': lines.splice(at, 0, { bytes: Buffer.from(m.text, 'utf8'), touched: true }); break;
    }
  }
  return lines;
}

/** The file, and for each physical line (1-based, after the header) what it came from. */
function render(src: Source, lines: Line[]): { file: Buffer; physical: { text: string; touched: boolean }[] } {
  const body = Buffer.concat(lines.flatMap((l) => [l.bytes, Buffer.from('\n')]));
  const head = src.header.length > 0 ? src.header.join('\n') + '\n' : '';
  const physical: { text: string; touched: boolean }[] = src.header.map((h) => ({ text: h, touched: false }));
  for (const l of lines) {
    // A flipped byte may be a newline: the line becomes two, both damaged.
    const parts = l.bytes.toString('utf8').split('\n');
    for (const p of parts) physical.push({ text: p, touched: l.touched || parts.length > 1 });
  }
  return { file: Buffer.concat([Buffer.from(head), body]), physical };
}

let fileNo = 0;

async function check(src: Source, start: number, count: number, mutations: Mutation[], doReplay: boolean): Promise<void> {
  const from = start % Math.max(1, src.events.length - count);
  const lines = mutate(src.events.slice(from, from + count), mutations);
  const { file, physical } = render(src, lines);
  const path = join(tmp, `m${fileNo++ % 64}.txt`);
  writeFileSync(path, file);

  let trace;
  try {
    trace = await openTrace(path, { batchSize: 512 });
  } catch (e) {
    // Only a file with nothing usable may be refused, and only with a TraceError.
    assert.ok(e instanceof TraceError, `not a TraceError: ${(e as Error).stack}`);
    assert.ok(physical.every((p) => p.touched || src.header.includes(p.text) || p.text.trim() === '') ||
      physical.filter((p) => !p.touched && !src.header.includes(p.text)).every((p) => alone(src, p.text).keys.length === 0),
    `refused a file with good lines: ${(e as Error).message}`);
    return;
  }
  try {
    const info = trace.info;
    const skipped = new Set(info.skipped.map((s) => s.line));
    assert.equal(info.skippedLines, info.skipped.length, 'every skipped line is listed');
    const got = new Map<string, number>();
    for await (const b of trace.batches()) {
      for (let i = 0; i < b.length; i++) {
        const k = b.kind[i];
        if (k === EventKind.lost || k === EventKind.flush_request) continue;
        const kk = key(k, b.time[i], b.cpu[i], b.tid[i], b.a[i], b.b[i], b.c[i]);
        got.set(kk, (got.get(kk) ?? 0) + 1);
      }
    }
    const want = new Map<string, number>();
    // A line identical to the one before it is a copy, read once (duplicates.ts): its
    // events are wanted once.
    let previous: string | null = null;
    physical.forEach((p, idx) => {
      const lineNo = idx + 1;
      if (idx < src.header.length) return;
      const a = alone(src, p.text.replace(/\r$/, ''));
      if (p.touched) {
        if (a.bad) assert.ok(skipped.has(lineNo), `line ${lineNo} cannot be read on its own but was not reported: ${JSON.stringify(p.text)}`);
        return;
      }
      assert.ok(!skipped.has(lineNo), `untouched line ${lineNo} was reported: ${JSON.stringify(info.skipped.find((s) => s.line === lineNo))}`);
      const copy = p.text === previous;
      previous = p.text;
      if (copy) return;
      for (const k of a.keys) want.set(k, (want.get(k) ?? 0) + 1);
    });
    for (const [k, n] of want) assert.ok((got.get(k) ?? 0) >= n, `an untouched line's event is missing: ${k}`);
    if (doReplay) {
      const results = await replay(trace, { strategies: ['linux-4.13', 'linux-6.18'], workers: 1 });
      for (const r of results) for (const [m, v] of Object.entries(r.metrics)) assert.ok(Number.isFinite(v), `${r.strategy.name} ${m} = ${v}`);
    }
  } finally {
    trace.close();
  }
}

/** Files per text source: 90% of the budget; the rest goes to CSV and random bytes. */
const PER_SOURCE = Math.floor(RUNS * 0.9 / SOURCES.length);
const OTHER = Math.floor(RUNS * 0.05);

/** One property per source: PER_SOURCE mutated files each, seeded. */
export function mutationTests(names: string[]): void {
  for (const [n, src] of SOURCES.entries()) {
    if (!names.includes(src.name)) continue;
    test(`mutated ${src.name} files: no crash, bad lines reported by number, good lines read (${PER_SOURCE} files)`, async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.integer({ min: 8, max: 30 }), fc.array(mutation, { minLength: 1, maxLength: 6 }),
          async (start, count, mutations) => check(src, start, count, mutations, run++ % REPLAY_EVERY === 0)),
        { seed: SEED + n, numRuns: PER_SOURCE, endOnFailure: true },
      );
    });
  }
}

/** Opens and replays a file that may be anything; only a TraceError may escape. */
async function survives(path: string, replayIt: boolean): Promise<{ skipped: Set<number> } | null> {
  let trace;
  try {
    trace = await openTrace(path, { batchSize: 512 });
  } catch (e) {
    assert.ok(e instanceof TraceError, `not a TraceError: ${(e as Error).stack}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    return null;
  }
  try {
    if (replayIt) {
      const results = await replay(trace, { strategies: ['linux-4.13', 'linux-6.18'], workers: 1 });
      for (const r of results) for (const [m, v] of Object.entries(r.metrics)) assert.ok(Number.isFinite(v), `${r.strategy.name} ${m} = ${v}`);
    }
    return { skipped: new Set(trace.info.skipped.map((x) => x.line)) };
  } finally { trace.close(); }
}

/** tlbsim's own CSV of a real trace, rows mutated like the text lines: no crash, the
 *  replay completes, no untouched row is reported. */
export function csvMutationTests(): void {
  test(`mutated tlbsim CSV files: no crash, no untouched row reported (${OTHER} files)`, async () => {
    const { writeTraceCsv } = await import('../../src/trace/index.ts');
    const t = await openTrace(join(ROOT, 'traces/real/pingpong-0/trace.txt.gz'));
    const csvPath = join(tmp, 'base.csv');
    await writeTraceCsv(t, csvPath);
    t.close();
    const rows = readFileSync(csvPath, 'utf8').split('\n').filter((l) => l !== '');
    const head = rows.filter((r) => r.startsWith('#') || r.startsWith('time_ns') || r.startsWith(',,'));
    const body = rows.filter((r) => !head.includes(r));
    let run = 0;
    await fc.assert(fc.asyncProperty(fc.nat(), fc.integer({ min: 8, max: 30 }), fc.array(mutation, { minLength: 1, maxLength: 6 }),
      async (start, count, mutations) => {
        const from = start % (body.length - count);
        const lines = mutate(body.slice(from, from + count), mutations);
        const path = join(tmp, `c${run % 16}.csv`);
        const text = Buffer.concat([Buffer.from(head.join('\n') + '\n'), ...lines.flatMap((l) => [l.bytes, Buffer.from('\n')])]);
        writeFileSync(path, text);
        const r = await survives(path, run++ % REPLAY_EVERY === 0);
        if (r === null) return;
        // A damaged row may swallow the next ones (an opened quote): only rows before the
        // first damaged one are sure to be untouched.
        const firstTouched = lines.findIndex((l) => l.touched || l.bytes.includes(0x0a));
        const limit = head.length + (firstTouched < 0 ? lines.length : firstTouched);
        for (const n of r.skipped) assert.ok(n > limit, `untouched row ${n} reported`);
      }), { seed: SEED + 100, numRuns: OTHER, endOnFailure: true });
  });
}

/** Files of random bytes, and random text after a real header: only a TraceError. */
export function randomFileTests(): void {
  test(`random files: nothing but a one-line TraceError escapes, a replay completes (${OTHER} files)`, async () => {
    let run = 0;
    const headers = [SOURCES[0].header.join('\n') + '\n', 'cpus=2\n', '# tlbsim-trace v1 cpus=2 format=ftrace\ntime_ns,cpu,kind,tid,mm,a,b,c,name\n', ''];
    await fc.assert(fc.asyncProperty(fc.nat({ max: headers.length - 1 }), fc.uint8Array({ maxLength: 3000 }), fc.boolean(),
      async (h, bytes, gz) => {
        const { gzipSync } = await import('node:zlib');
        const raw = Buffer.concat([Buffer.from(headers[h]), Buffer.from(bytes)]);
        const path = join(tmp, `r${run % 16}.txt${gz ? '.gz' : ''}`);
        writeFileSync(path, gz ? gzipSync(raw) : raw);
        await survives(path, run++ % REPLAY_EVERY === 0);
      }), { seed: SEED + 200, numRuns: OTHER, endOnFailure: true });
  });
}
