// The parsed-trace cache (<trace>.tlbcache): a second open reads it and sees exactly what
// parsing gives; a changed trace, a damaged cache or different options are never served
// from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync, gunzipSync, inflateRawSync } from 'node:zlib';
import { openTrace, cachePathOf, eventsOf, type TraceEvent, type OpenTraceOptions } from '../../src/trace/index.ts';
import { readerSources } from '../../src/trace/cache.ts';
import { tmp } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
let n = 0;

/** A private copy of a fixture, so caches written by this test are its own. */
function copyOf(fixture: string, gunzip = false): string {
  const dst = join(tmp, `cache${n++}-${fixture.split('/').slice(-2).join('-')}${gunzip ? '.txt' : ''}`);
  if (gunzip) writeFileSync(dst, gunzipSync(readFileSync(join(ROOT, fixture))));
  else copyFileSync(join(ROOT, fixture), dst);
  return dst;
}

async function read(path: string, opts: OpenTraceOptions = {}) {
  // Explicitly on: the suite may run with TLBSIM_CACHE=0.
  const t = await openTrace(path, { cache: true, ...opts });
  const events: TraceEvent[] = [];
  for await (const b of t.batches()) for (const e of eventsOf([b])) events.push(e);
  // A second pass must give the same events (the cache is re-read, not consumed).
  let again = 0;
  for await (const b of t.batches()) again += b.length;
  assert.equal(again, events.length);
  t.close();
  return { info: t.info, events, cache: t.cache };
}

for (const fixture of ['traces/real/forkchurn/trace.txt.gz', 'traces/real/perf-pingpong/perf.txt.gz', 'traces/real/trace-cmd-madvthreads/trace-cmd.txt.gz']) {
  test(`${fixture}: parse, cache, read back: identical events and info`, async () => {
    const path = copyOf(fixture);
    const plain = await read(path, { cache: false });
    assert.equal(plain.cache, 'off');
    assert.equal(existsSync(cachePathOf(path)), false, 'cache: false writes no cache');
    const first = await read(path);
    assert.equal(first.cache, 'written');
    assert.ok(existsSync(cachePathOf(path)));
    const second = await read(path);
    assert.equal(second.cache, 'hit');
    assert.ok(plain.events.length > 1000);
    assert.deepEqual(first.events, plain.events);
    assert.deepEqual(second.events, plain.events);
    assert.deepEqual(second.info, plain.info);
    // No temporary file left next to the trace.
    assert.deepEqual(readdirSync(tmp).filter((f) => f.endsWith('.tmp')), []);
  });
}

test('a trace changed after caching is parsed again', async () => {
  const path = copyOf('traces/real/pingpong-0/trace.txt.gz', true);
  const before = await read(path);
  assert.equal((await read(path)).cache, 'hit');
  // One more context switch at the end, as if the recording went on.
  const last = readFileSync(path, 'utf8').trimEnd().split('\n').filter((l) => l.includes('sched_switch:')).pop()!;
  const stamp = /(\d+\.\d+):/.exec(last)![1];
  appendFileSync(path, last.replace(stamp, (Number(stamp) + 1).toFixed(6)) + '\n');
  const after = await read(path);
  assert.equal(after.cache, 'written');
  assert.equal(after.info.countsByKind.switch, before.info.countsByKind.switch + 1);
  assert.equal(after.events.length, before.events.length + 1);
  assert.equal((await read(path)).cache, 'hit');
});

test('a cache cut short, overwritten with junk, or with a foreign key is ignored and rewritten', async () => {
  const path = copyOf('traces/real/madvthreads-2/trace.txt.gz');
  const truth = await read(path, { cache: false });
  await read(path);
  const cache = cachePathOf(path);
  const damage: [string, () => void][] = [
    ['cut short', () => truncateSync(cache, Math.floor(statSync(cache).size / 2))],
    ['junk', () => writeFileSync(cache, Buffer.alloc(4096, 0x41))],
    ['empty', () => writeFileSync(cache, '')],
    ['foreign key', () => {
      // Another version's cache: the trailer (deflated JSON) says so.
      const b = readFileSync(cache);
      const tOff = b.readDoubleLE(8);
      const trailer = JSON.parse(inflateRawSync(b.subarray(tOff)).toString('utf8'));
      assert.equal(typeof trailer.key.tlbsim, 'string');
      trailer.key.tlbsim = `X${trailer.key.tlbsim}`;
      const t = deflateRawSync(JSON.stringify(trailer));
      const head = Buffer.from(b.subarray(0, 32));
      head.writeDoubleLE(t.length, 16);
      writeFileSync(cache, Buffer.concat([head, b.subarray(32, tOff), t]));
    }],
  ];
  for (const [what, hurt] of damage) {
    hurt();
    const r = await read(path);
    assert.equal(r.cache, 'written', what);
    assert.deepEqual(r.events, truth.events, what);
    // Damage is said once, in a note of the run that found it; a foreign key is no damage.
    const notes = r.info.warnings.filter((w) => w.includes('ignored the trace cache'));
    assert.equal(notes.length, what === 'foreign key' ? 0 : 1, what);
    assert.deepEqual({ ...r.info, warnings: r.info.warnings.filter((w) => !notes.includes(w)) }, truth.info, what);
    assert.equal((await read(path)).cache, 'hit', what);
  }
});

test('options that change parsing do not share a cache', async () => {
  const path = copyOf('traces/real/forkchurn/trace.txt.gz');
  assert.equal((await read(path)).cache, 'written');
  const small = await read(path, { batchSize: 1000 });
  assert.equal(small.cache, 'written');
  assert.equal((await read(path, { batchSize: 1000 })).cache, 'hit');
  assert.equal((await read(path)).cache, 'written');
});

test('the key covers every source file of the reader, the line and payload parsers included', () => {
  // A fix to a payload parser (text/payloads/) must not be served the old parser's events:
  // the fingerprint once hashed src/trace/*.ts alone, and a cache of 6.12 syscall lengths
  // read as decimal outlived the fix that reads them as hex.
  const files = readerSources(join(import.meta.dirname, '..', '..', 'src', 'trace'));
  for (const f of ['canonical.ts', 'text/ingest.ts', 'text/lines.ts', 'text/payloads/syscalls.ts', 'readers/text.ts']) assert.ok(files.includes(f), f);
  assert.ok(files.every((f) => f.endsWith('.ts') && !f.includes('\\')));
});

test('TLBSIM_CACHE=0 turns the cache off when the caller does not choose', async () => {
  const path = copyOf('traces/real/pingpong-0/trace.txt.gz');
  const saved = process.env.TLBSIM_CACHE;
  process.env.TLBSIM_CACHE = '0';
  try {
    const t = await openTrace(path);
    t.close();
    assert.equal(t.cache, 'off');
    assert.equal(existsSync(cachePathOf(path)), false);
  } finally {
    if (saved === undefined) delete process.env.TLBSIM_CACHE; else process.env.TLBSIM_CACHE = saved;
  }
  const t = await openTrace(path, { cache: true });
  t.close();
  assert.equal(t.cache, 'written');
});
