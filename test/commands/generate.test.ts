// `tlbsim generate` as a user runs it, and what it writes read back through openTrace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { EventKind, eventsOf, openTrace, type TraceEvent, type TraceInfo } from '../../src/trace/index.ts';
import { generateWorkload } from '../../src/workloads/index.ts';
import { tmp } from '../helpers.ts';
import { NO_STACK, tlbsim } from './run.ts';

// Each spec is generated in-process once and compared with all four files written of it.
const generatedRuns = new Map<string, Promise<{ info: TraceInfo; events: TraceEvent[] }>>();
function generated(spec: string): Promise<{ info: TraceInfo; events: TraceEvent[] }> {
  let run = generatedRuns.get(spec);
  if (run === undefined) {
    run = (async () => {
      const src = await generateWorkload(spec);
      const events: TraceEvent[] = [];
      for await (const b of src.batches()) for (const e of eventsOf([b])) events.push(e);
      return { info: src.info, events };
    })();
    generatedRuns.set(spec, run);
  }
  return run;
}

// Read back in small batches, so that the ~11,000 events of the largest spec cross many
// batch boundaries, as a default-sized batch (65,536 events) would need ten times the trace.
const READ_BATCH = 1024;

async function readBack(path: string): Promise<{ info: TraceInfo; events: TraceEvent[] }> {
  const t = await openTrace(path, { batchSize: READ_BATCH });
  const events: TraceEvent[] = [];
  for await (const b of t.batches()) for (const e of eventsOf([b])) events.push(e);
  t.close();
  return { info: t.info, events };
}

let n = 0;
const out = (ext: string) => join(tmp, `gen${n++}${ext}`);

const SPECS: [string, string[]][] = [
  ['ping-pong', ['pages=4', 'iterations=50']],
  ['madv-threads', ['threads=3', 'cpus=3', 'iterations=40']],
  ['fork-churn', ['iterations=30']],
  ['wis-tlb-flush2', ['mode=processes', 'tasks=3', 'iterations=20']],
  ['ptwalk-sync', ['iterations=20']],
];

for (const ext of ['.csv', '.csv.gz']) {
  test(`generate -o x${ext}: canonical CSV reads back to exactly the generated events and tasks`, async () => {
    for (const [name, sets] of SPECS) {
      const path = out(ext);
      const r = tlbsim(['generate', name, ...sets.flatMap((s) => ['--set', s]), '-o', path]);
      assert.equal(r.status, 0, r.stderr);
      // One line, no progress bar (stderr is not a terminal).
      assert.match(r.stderr, new RegExp(`^tlbsim: wrote \\d+ events \\(\\d+ rows of tlbsim CSV(, gzipped)?\\) of workload:${name}:\\S+ to ${path.replace(/[.]/g, '\\.')}\\n$`));
      if (ext.endsWith('.gz')) assert.ok(gunzipSync(readFileSync(path)).toString().startsWith('# tlbsim-trace v1'));
      const want = await generated(`workload:${name}:${sets.join(',')}`);
      const got = await readBack(path);
      assert.equal(got.info.format, 'csv');
      assert.equal(got.info.cpus, want.info.cpus, name);
      assert.deepEqual(got.info.tasks, want.info.tasks, name);
      assert.equal(got.events.length, want.events.length, name);
      assert.deepEqual(got.events, want.events, name);
    }
  });
}

// The ftrace text form is what the kernel prints, so it keeps what the kernel would show:
// events with no tracepoint (access, iteration marks, lockless walks) go to comment lines
// that readers skip; a flush request becomes the initiator's tlb_flush records (which read
// back both as an observed flush and as a request, without the generator's origin flags,
// and with pages -1 above the 33-page ceiling, as the kernel prints it); and at an exec the
// old mm's exit_mmap is printed before sched_process_exec, as 6.18 does, while its
// teardown flush is not printed at all (the old mm is no longer loaded there, so the kernel
// traces nothing; the replay supplies it). Everything else must come back unchanged, at the
// same nanosecond.
const NO_FTRACE_FORM = new Set<number>([EventKind.access, EventKind.iteration, EventKind.ptwalk, EventKind.pt_sync]);
function asKernelPrintsIt(e: TraceEvent): string {
  if (e.kind !== EventKind.flush_request) return JSON.stringify(e);
  return JSON.stringify({ ...e, b: e.b > 33 ? -1 : e.b, c: 0 });
}
function byInstant(events: TraceEvent[]): string[] {
  const at = new Map<number, string[]>();
  for (const e of events) { const l = at.get(e.time) ?? []; l.push(asKernelPrintsIt(e)); at.set(e.time, l); }
  return [...at].map(([t, l]) => `${t}: ${l.sort().join(' | ')}`);
}

for (const ext of ['.txt', '.txt.gz']) {
  test(`generate -o x${ext}: ftrace text reads back to the generated events the kernel would print`, async () => {
    for (const [name, sets] of SPECS) {
      const path = out(ext);
      const r = tlbsim(['generate', name, ...sets.flatMap((s) => ['--set', s]), '-o', path]);
      assert.equal(r.status, 0, r.stderr);
      const want = await generated(`workload:${name}:${sets.join(',')}`);
      const got = await readBack(path);
      assert.equal(got.info.format, 'ftrace', name);
      assert.equal(got.info.skippedLines, 0, name);
      assert.equal(got.info.cpus, want.info.cpus, name);
      const execTeardown = new Set(want.events.filter((e) => e.kind === EventKind.exec).map((e) => `${e.time}/${e.tid}/${e.a}`));
      const wantEvents = want.events.filter((e) => !NO_FTRACE_FORM.has(e.kind)
        && !(e.kind === EventKind.flush_request && execTeardown.has(`${e.time}/${e.tid}/${e.mm}`)));
      const gotEvents = got.events.filter((e) => e.kind !== EventKind.observed_flush);
      assert.equal(gotEvents.length, wantEvents.length, name);
      assert.deepEqual(byInstant(gotEvents), byInstant(wantEvents), name);
      assert.equal(got.events.filter((e) => e.kind === EventKind.observed_flush).length > 0,
        want.events.some((e) => e.kind === EventKind.flush_request), `${name}: tlb_flush records`);
      const text = ext.endsWith('.gz') ? gunzipSync(readFileSync(path)).toString() : readFileSync(path, 'utf8');
      assert.match(text, /^# tracer: nop\n/);
      assert.match(text, new RegExp(`#P:${want.info.cpus}\\n`));
    }
  });
}

test('generate accepts workload:NAME:k=v specs and --set on top; the header names the resolved spec', () => {
  const path = out('.txt');
  const r = tlbsim(['generate', 'workload:ping-pong:pages=2', '--set', 'iterations=7', '-o', path]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(readFileSync(path, 'utf8'), /generated from workload:ping-pong:pages=2,iterations=7,cpus=2,seed=1;/);
});

test('generate: wrong usage exits 2, an unwritable place exits 1, each with one line and nothing left behind', () => {
  const cases: [string[], number, RegExp][] = [
    [['generate', 'ping-pong'], 2, /required option '-o, --output <file>'/],
    [['generate', '-o', out('.csv')], 2, /missing required argument 'workload'/],
    [['generate', 'no-such-workload', '-o', out('.csv')], 2, /unknown workload "no-such-workload"; valid: ping-pong/],
    [['generate', 'ping-pong', '--set', 'pagez=3', '-o', out('.csv')], 2, /unknown ping-pong parameter "pagez"; did you mean pages\?/],
    [['generate', 'ping-pong', '--set', 'pages=-1', '-o', out('.csv')], 2, /'pages' of workload 'ping-pong' must be an integer from 0/],
    [['generate', 'ping-pong', '--set', 'pages', '-o', out('.csv')], 2, /--set expects key=value, got "pages"/],
    [['generate', 'ping-pong', '-o', out('.dat')], 2, /cannot tell the output format from ".*\.dat": name it \.csv .* or \.txt/],
    [['generate', 'ping-pong', '-o', join(tmp, 'no/such/dir/x.csv')], 1, /cannot write .*x\.csv: the directory .*no\/such\/dir does not exist/],
  ];
  const before = readdirSync(tmp).length;
  for (const [args, status, message] of cases) {
    const r = tlbsim(args);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.doesNotMatch(r.stderr, NO_STACK, args.join(' '));
    assert.equal(r.stdout, '');
  }
  assert.equal(readdirSync(tmp).length, before, 'no partial or temporary files');
  assert.ok(!existsSync(join(tmp, 'no')));
});
