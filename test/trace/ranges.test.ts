// Parallel ingest (src/trace/readers/ranges.ts) must give what one reader gives: the same
// events in the same order with the same mms, the same info (tasks, mms, notes, skipped
// lines with their numbers, counts). Recordings are cut into small ranges here so that
// every boundary case comes up: task histories spanning ranges, late and held lines,
// damaged lines, repeated recordings, a second trace's header, events spilled to disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { openTrace, type OpenTraceOptions } from '../../src/trace/index.ts';
import { tempFile } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

async function read(path: string, options: OpenTraceOptions) {
  const t = await openTrace(path, { cache: false, ...options });
  const h = createHash('sha256');
  let events = 0;
  for await (const b of t.batches()) {
    for (const col of [b.kind, b.cpu, b.time, b.tid, b.mm, b.a, b.b, b.c]) h.update(new Uint8Array(col.buffer, col.byteOffset, b.length * col.BYTES_PER_ELEMENT));
    events += b.length;
  }
  t.close();
  return { events, hash: h.digest('hex'), info: t.info, ingest: t.ingest };
}

/** Read `path` with one reader and in `threads` ranges; assert both give the same. */
async function same(path: string, threads: number, what: string, options: OpenTraceOptions = {}) {
  const one = await read(path, { ...options, ingestThreads: 1 });
  const many = await read(path, { ...options, ingestThreads: threads, minRangeBytes: 1 });
  assert.equal(one.ingest?.ranges, 1, what);
  assert.equal(many.events, one.events, `${what}: events`);
  assert.equal(many.hash, one.hash, `${what}: the events differ`);
  assert.deepEqual(many.info, one.info, `${what}: info`);
  return many.ingest!;
}

function plain(gz: string): string {
  return tempFile(gunzipSync(readFileSync(join(ROOT, gz))), '.txt');
}

function recordings(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir))) {
    const p = join(dir, e);
    if (statSync(join(ROOT, p)).isDirectory()) out.push(...recordings(p));
    else if (e.endsWith('.txt.gz')) out.push(p);
  }
  return out.sort();
}

test('every real recording reads the same in ranges as with one reader (ftrace, trace-cmd report, perf script)', async () => {
  const files = recordings('traces/real');
  assert.ok(files.length >= 12);
  let joined = 0, ranges = 0;
  for (const [i, f] of files.entries()) {
    // Small batches and a small memory budget for some: events spilled to disk on both
    // sides of the join, adopted from a worker's spill file.
    const small = i % 2 === 0 ? { batchSize: 256, memoryEvents: 2048 } : {};
    const r = await same(plain(f), 3, f, small);
    joined += r.joined; ranges += r.ranges - 1;
  }
  // Boundaries that cannot be joined are rare: the join itself must be what was tested.
  assert.ok(joined >= ranges * 0.8, `${joined} of ${ranges} ranges joined`);
});

test('many-CPU lab recordings, with fork/exec histories and late lines across ranges, read the same in ranges', async () => {
  const files = ['traces/lab/6.1/4cpu/forkexec.txt.gz', 'traces/lab/6.12/32cpu/madvstorm.txt.gz', 'traces/lab/6.12/64cpu/forkexec.txt.gz',
    'traces/lab/7.3/64cpu/madvstorm.txt.gz', 'traces/lab/7.3/8cpu/forkexec.txt.gz', 'traces/lab/7.3/32cpu/procstorm.txt.gz', 'traces/lab/6.1/16cpu/mmapchurn.txt.gz'];
  const fallbacks: string[] = [];
  for (const f of files) {
    const r = await same(plain(f), 4, f, { batchSize: 1024 });
    if (r.fallback !== null) fallbacks.push(`${f}: ${r.fallback}`);
  }
  // 6.1/4cpu/forkexec cut in four: a range starts right after a line 12 ms past the one
  // before it, held until the next vouches for it; the main thread reads on from there.
  assert.ok(fallbacks.some((x) => x.includes('6.1/4cpu/forkexec') && x.includes('clock waiting')), fallbacks.join('\n'));
  assert.ok(fallbacks.length < files.length / 2, fallbacks.join('\n'));
});

test('a recording concatenated with itself: the repeat is found whether it starts a range or lies inside one', async () => {
  // Without its header lines, so that the repeat shows as the first event line again
  // (with them, the header is the first thing a worker cannot judge).
  const text = gunzipSync(readFileSync(join(ROOT, 'traces/real/madvthreads-2/trace.txt.gz'))).toString('latin1').split('\n').filter((l) => !l.startsWith('#')).join('\n');
  const twice = tempFile(text + text, '.txt');
  // Two ranges: the second is the copy, from its first line (the main thread reads on).
  const two = await same(twice, 2, 'cat a a, two ranges');
  assert.match(two.fallback ?? '', /range 2 of 2.*first event line appears again/);
  // Five: ranges were joined before the one holding the repeat; the file is read again.
  const five = await same(twice, 5, 'cat a a, five ranges');
  assert.match(five.fallback ?? '', /range [3-5] of 5/);
  const info = (await read(twice, { ingestThreads: 5, minRangeBytes: 1 })).info;
  assert.ok(info.warnings.some((w) => /repeat.*the same recording twice/.test(w)), info.warnings.join('\n'));
});

test('two different traces concatenated, headers and all: the second header is left to one reader', async () => {
  const a = gunzipSync(readFileSync(join(ROOT, 'traces/real/pingpong-0/trace.txt.gz')));
  const b = gunzipSync(readFileSync(join(ROOT, 'traces/real/forkchurn/trace.txt.gz')));
  const r = await same(tempFile(Buffer.concat([a, b]), '.txt'), 4, 'cat a b');
  assert.match(r.fallback ?? '', /header|clock/);
});

test('damaged lines, copies of lines, a last line without its newline and UTF-8 task names read the same in ranges', async () => {
  const text = gunzipSync(readFileSync(join(ROOT, 'traces/real/forkchurn-tgid/trace.txt.gz'))).toString('latin1');
  const lines = text.split('\n');
  const out: string[] = [];
  for (const [i, line] of lines.entries()) {
    if (i > 20 && i % 97 === 0) out.push(line.replace(/\[\d+\]/, '[x]')); // a damaged CPU column
    else if (i > 20 && i % 89 === 0) { out.push(line); out.push(line); } // an exact copy
    else if (i > 20 && i % 101 === 0) out.push(line.replace(/^(\s*)\S+?-(\d+)/, '$1dé✓-$2')); // UTF-8 in a comm
    else out.push(line);
  }
  const damaged = tempFile(Buffer.from(out.join('\n').replace(/\n+$/, ''), 'utf8'), '.txt');
  for (const threads of [2, 3, 6]) {
    const r = await same(damaged, threads, `damaged, ${threads} ranges`);
    assert.equal(r.ranges, threads);
  }
  const info = (await read(damaged, { ingestThreads: 3, minRangeBytes: 1 })).info;
  assert.ok(info.skippedLines > 10, `${info.skippedLines} skipped`);
  assert.ok(info.warnings.some((w) => /exact cop/.test(w)), info.warnings.join('\n'));
});

test('one thread unless asked or the file is large: small, gzipped and piped traces are read by one reader', async () => {
  const small = plain('traces/real/pingpong-0/trace.txt.gz');
  assert.equal((await read(small, { ingestThreads: 'auto' })).ingest?.ranges, 1);
  assert.equal((await read(small, { ingestThreads: 4 })).ingest?.ranges, 1, 'ranges of at least 64 MB');
  assert.equal((await read(join(ROOT, 'traces/real/pingpong-0/trace.txt.gz'), { ingestThreads: 4, minRangeBytes: 1 })).ingest?.ranges, 1, 'gzip');
});
