// Issue 21, item 3: one damaged timestamp in a tlbsim CSV trace is that row's problem only.
// 4e11 ns added to one row's time_ns used to make every later row "more than 10 ms
// earlier" (1,521 rows skipped, a span of 400 s); the ftrace reader already isolated it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openTrace, writeTraceCsv, eventsOf, type TraceEvent } from '../../src/trace/index.ts';
import { tmp } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
let n = 0;

async function read(path: string) {
  const t = await openTrace(path, { cache: false });
  const events: TraceEvent[] = [];
  for await (const b of t.batches()) for (const e of eventsOf([b])) events.push(e);
  t.close();
  return { info: t.info, events };
}

const src = await openTrace(join(ROOT, 'traces/real/madvthreads-2/trace.txt.gz'), { cache: false });
const csvPath = join(tmp, `csvts${n++}.csv`);
await writeTraceCsv(src, csvPath);
src.close();
const truth = await read(csvPath);
const lines = readFileSync(csvPath, 'utf8').split('\n');
const rows = lines.map((l, i) => [l, i] as const).filter(([l]) => /^\d/.test(l)).map(([, i]) => i);

function damaged(rowIndexes: number[], delta: number): string {
  const out = [...lines];
  for (const i of rowIndexes) {
    const cells = out[i].split(',');
    cells[0] = String(Number(cells[0]) + delta);
    out[i] = cells.join(',');
  }
  const path = join(tmp, `csvts${n++}.csv`);
  writeFileSync(path, out.join('\n'));
  return path;
}

test('one row 400 s ahead: that row alone is skipped, with its line and why', async () => {
  const at = rows[Math.floor(rows.length / 2)];
  const r = await read(damaged([at], 4e11));
  assert.equal(r.info.skippedLines, 1);
  assert.equal(r.info.skipped[0].line, at + 1);
  assert.match(r.info.skipped[0].reason, /time_ns \d+ is out of line with the rows before it \(\d+\) and after it \(\d+\): a damaged timestamp, left out/);
  assert.equal(r.events.length, truth.events.length - 1);
  assert.equal(r.info.lastNs - r.info.firstNs, truth.info.lastNs - truth.info.firstNs);
});

test('the first row far ahead is skipped, not every row after it', async () => {
  const r = await read(damaged([rows[0]], 4e11));
  assert.equal(r.info.skippedLines, 1);
  assert.equal(r.events.length, truth.events.length - 1);
});

test('the last row far ahead is kept (nothing after it to say otherwise), a real gap is kept', async () => {
  const last = await read(damaged([rows[rows.length - 1]], 4e11));
  assert.equal(last.info.skippedLines, 0);
  // Every row from the middle on 400 s later: a pause in tracing, not damage.
  const gap = await read(damaged(rows.slice(rows.length >> 1), 4e11));
  assert.equal(gap.info.skippedLines, 0);
  assert.equal(gap.events.length, truth.events.length);
});

test('cpus=1e400 in the CSV header is refused, not read as 1', async () => {
  const path = join(tmp, `csvts${n++}.csv`);
  writeFileSync(path, lines.join('\n').replace(/cpus=\d+/, 'cpus=1e400'));
  await assert.rejects(openTrace(path, { cache: false }), /cpus=1e400 is not a CPU count tlbsim simulates \(1 to 4096\)/);
});
