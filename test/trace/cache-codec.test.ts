// The cache's batch encoding gives back exactly the events it was given: every column of a
// real recording's canonical batches, and values a CSV trace may carry that are not small
// integers (fractions, -0, NaN, huge numbers, negative ids, times out of order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decodeBatch, encodeBatch } from '../../src/trace/cache-codec.ts';
import { copyBatch, createBatch, openTrace, type EventBatch } from '../../src/trace/index.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const COLUMNS = ['kind', 'cpu', 'tid', 'mm', 'time', 'a', 'b', 'c'] as const;

function roundTrip(b: EventBatch): EventBatch {
  const bytes = encodeBatch(b);
  const out = createBatch(b.length);
  assert.equal(decodeBatch(bytes, b.length, out), true);
  out.length = b.length;
  return out;
}

function assertSame(got: EventBatch, want: EventBatch, what: string): void {
  for (const col of COLUMNS) {
    const g = got[col], w = want[col];
    for (let i = 0; i < want.length; i++) {
      if (!Object.is(g[i], w[i])) assert.fail(`${what}: ${col}[${i}] is ${g[i]}, expected ${w[i]}`);
    }
  }
}

test('the canonical batches of real recordings decode to the same bytes', async () => {
  for (const f of ['traces/real/forkchurn/trace.txt.gz', 'traces/real/madvthreads-2/trace.txt.gz', 'traces/real/perf-pingpong/perf.txt.gz']) {
    const t = await openTrace(join(ROOT, f), { cache: false, batchSize: 4096 });
    let n = 0;
    for await (const b of t.batches()) { assertSame(roundTrip(copyBatch(b)), b, f); n += b.length; }
    t.close();
    assert.ok(n > 1000, f);
  }
});

test('values that are not small integers are kept exactly', () => {
  const values = [0, -0, 1, -1, 0.5, -2.25, NaN, Infinity, -Infinity, 2 ** 51, 2 ** 51 + 1, -(2 ** 51), 2 ** 53, 2 ** 64, 1e300, 0x7fed01f99000, 62, 63, 64, 127, 128];
  const n = values.length * 3;
  const b = createBatch(n);
  b.length = n;
  for (let i = 0; i < n; i++) {
    const v = values[i % values.length];
    b.kind[i] = i % 20; b.cpu[i] = (i * 997) % 65536; b.tid[i] = i % 2 === 0 ? -i : 2 ** 31 - 1 - i; b.mm[i] = -(2 ** 31) + i;
    b.a[i] = v; b.b[i] = values[(i + 7) % values.length]; b.c[i] = -v;
    b.time[i] = 1e12 + i * 1000;
  }
  assertSame(roundTrip(b), b, 'in time order');
  // Times out of order, fractional or negative take the float64 form.
  for (const t of [[5, 3], [0.5, 1], [-1, 0]]) {
    b.time[0] = t[0]; b.time[1] = t[1];
    assertSame(roundTrip(b), b, `times ${t}`);
  }
});

test('damaged bytes do not decode (never a throw)', () => {
  const b = createBatch(100);
  b.length = 100;
  for (let i = 0; i < 100; i++) { b.time[i] = i * 1000; b.a[i] = i * 4096; }
  const bytes = encodeBatch(b);
  const out = createBatch(100);
  assert.equal(decodeBatch(bytes.subarray(0, bytes.length - 3), 100, out), false);
  assert.equal(decodeBatch(Buffer.alloc(40, 0x41), 100, out), false);
  assert.equal(decodeBatch(bytes, 99, out), false, 'more bytes than the events use');
});
