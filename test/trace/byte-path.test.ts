// ASCII chunks are tokenized from their bytes (line headers, common payloads); everything
// else from the decoded string. Both must read every line the same way: same events,
// same skipped lines with the same reasons and line numbers, same counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { TextIngest } from '../../src/trace/ingest.ts';
import { EventStore } from '../../src/trace/store.ts';
import { FTRACE_HEADER } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Reads `text` in chunks of `chunk` characters, with or without their bytes. */
function read(text: string, withBytes: boolean, chunk = 4096) {
  const store = new EventStore({ batchSize: 256 });
  const ingest = new TextIngest('t', 'ftrace', store);
  for (let o = 0; o < text.length; o += chunk) {
    const piece = text.slice(o, o + chunk);
    ingest.push(piece, withBytes ? Buffer.from(piece, 'latin1') : null);
  }
  ingest.end();
  store.seal();
  const events: number[][] = [];
  for (const b of store.batches()) for (let i = 0; i < b.length; i++) events.push([b.kind[i], b.time[i], b.cpu[i], b.tid[i], b.mm[i], b.a[i], b.b[i], b.c[i]]);
  const { rawCounts, ...result } = ingest.result();
  return { events, result: { ...result, rawCounts: [...rawCounts] } };
}

function same(text: string, what: string): number {
  const fromString = read(text, false), fromBytes = read(text, true);
  assert.deepEqual(fromBytes, fromString, what);
  return fromString.events.length;
}

test('every ftrace and trace-cmd fixture reads the same from bytes as from the string', () => {
  for (const f of ['madvthreads-2/trace.txt.gz', 'forkchurn-tgid/trace.txt.gz', 'forkchurn/trace.txt.gz', 'pingpong-512/trace.txt.gz',
    'build/trace.txt.gz', 'mmapthreads/trace.txt.gz']) {
    const text = gunzipSync(readFileSync(join(ROOT, 'traces/real', f))).toString('latin1');
    assert.ok(same(text, f) > 100, f);
  }
});

test('tlb_flush in every form and damage: the same events and the same reports', () => {
  const head = '     hw-madvthre-4242    [001] d..2.  7253.649616: tlb_flush: ';
  const payloads = [
    'pages:1 reason:remote shootdown (1)', 'pages:-1 reason:flush on task switch (0)', 'pages=-1 reason=local mm shootdown (3)',
    'pages:0 reason:0x5', 'pages:18446744073709551616 reason:remote IPI send (4)', 'pages:35184372088833 reason:x (1)',
    'pages:-2 reason:x (1)', 'pages:1 reason:x (256)', 'pages:1 reason:x (0x3)', 'pages:1 reason:x (0003)', 'pages:1 reason:x ()',
    'pages:1 reason:x (3) ', 'pages:1 reason:x 3)', 'pages: 7 reason:x (2)', 'pages:\t7 reason:x (2)', 'pages:x reason:x (2)',
    'pages:- reason:x (2)', 'pages:1', 'pages:', '', 'pagesX:1 reason:x (1)', ' pages:1 reason:x (1)', 'npages:3 pages:1 reason:x (1)',
    'pages:12abc reason:x (1)', 'pages:1 reason:x (1)(2)', 'pages:-0 reason:x (1)', 'pages:1 reason:x (a)',
  ];
  const text = FTRACE_HEADER + payloads.map((p) => head + p + '\n').join('');
  same(text, 'tlb_flush payloads');
  // Each line alone too (a bad line between good ones is reported under its own number).
  for (const p of payloads) same(FTRACE_HEADER + head + 'pages:1 reason:x (1)\n' + head + p + '\n', p);
});
