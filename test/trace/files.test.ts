// Whole-file behaviour: unusable files, CSV round trip, spilling to disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { openTrace, writeTraceCsv, TraceError, eventsOf, type TraceEvent } from '../../src/trace/index.ts';
import { tempFile, tmp } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

async function all(path: string, opts = {}): Promise<{ events: TraceEvent[]; info: Awaited<ReturnType<typeof openTrace>>['info'] }> {
  const t = await openTrace(path, opts);
  const events: TraceEvent[] = [];
  for await (const b of t.batches()) for (const e of eventsOf([b])) events.push(e);
  t.close();
  return { events, info: t.info };
}

test('an empty, binary, unknown or missing file is one clear TraceError', async () => {
  await assert.rejects(openTrace(tempFile('')), (e: Error) => e instanceof TraceError && /empty/.test(e.message));
  await assert.rejects(openTrace(tempFile(Buffer.from([0, 1, 2, 3, 255, 254, 0, 7]))), (e: Error) => e instanceof TraceError && /binary/.test(e.message));
  await assert.rejects(openTrace(tempFile('hello world\nthis is not a trace\n')), (e: Error) => e instanceof TraceError && /not a trace tlbsim knows/.test(e.message));
  await assert.rejects(openTrace(join(tmp, 'missing.txt')), (e: Error) => e instanceof TraceError && /no such file/.test(e.message));
});

test('a gzip file cut short keeps what was read and says so', async () => {
  const { gunzipSync } = await import('node:zlib');
  const text = gunzipSync((await import('node:fs')).readFileSync(join(ROOT, 'traces/real/pingpong-0/trace.txt.gz')));
  const gz = gzipSync(text);
  const path = join(tmp, 'cut.txt.gz');
  writeFileSync(path, gz.subarray(0, Math.floor(gz.length / 2)));
  const { info } = await all(path);
  assert.ok(info.events > 100);
  assert.ok(info.warnings.some((w) => /cut short/.test(w)), JSON.stringify(info.warnings));
});

test('trace → CSV → events identical (and tasks, names included)', async () => {
  for (const f of ['traces/real/madvthreads-2/trace.txt.gz', 'traces/real/perf-pingpong/perf.txt.gz']) {
    const t = await openTrace(join(ROOT, f));
    const csv = join(tmp, 'round.csv');
    await writeTraceCsv(t, csv);
    const original: TraceEvent[] = [];
    for await (const b of t.batches()) for (const e of eventsOf([b])) original.push(e);
    t.close();
    const back = await all(csv);
    assert.equal(back.info.format, 'csv');
    assert.equal(back.info.skippedLines, 0);
    assert.deepEqual(back.events, original);
    assert.deepEqual(back.info.tasks, t.info.tasks);
    assert.deepEqual(back.info.countsByKind, t.info.countsByKind);
    assert.equal(back.info.cpus, t.info.cpus);
  }
});

test('hostile task names survive the CSV round trip and are never formulas', async () => {
  const name = '=HYPERLINK("x")';
  const text = `# tracer: nop\n#P:2\n${name.padStart(16)}-77      [000] ..... 1.000001: tlb_flush: pages:1 reason:local MM shootdown (3)\n`;
  const t = await openTrace(tempFile(text.replace('#P:2', '# entries-in-buffer/entries-written: 1/1   #P:2')));
  const csv = join(tmp, 'hostile.csv');
  await writeTraceCsv(t, csv);
  t.close();
  const body = (await import('node:fs')).readFileSync(csv, 'utf8');
  for (const line of body.split('\n')) for (const cell of line.split(',')) assert.ok(!/^"?[=+@]/.test(cell), `formula cell ${cell}`);
  const back = await all(csv);
  assert.equal(back.info.tasks.find((x) => x.tid === 77)?.comm, name);
});

test('parsing in small batches that spill to disk gives the same events', async () => {
  const path = join(ROOT, 'traces/real/forkchurn/trace.txt.gz');
  const mem = await all(path);
  const spilled = await all(path, { batchSize: 1000, memoryEvents: 2000 });
  assert.equal(spilled.events.length, mem.events.length);
  assert.deepEqual(spilled.events, mem.events);
  assert.deepEqual(spilled.info.tasks, mem.info.tasks);
});
