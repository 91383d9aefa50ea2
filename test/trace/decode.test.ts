// Text decoding: ASCII chunks take a fast path; a UTF-8 character split across two read
// chunks, and bytes that are not UTF-8, still decode as UTF-8 would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openTraceFile } from '../../src/trace/input.ts';
import { tempFile } from '../helpers.ts';

const CHUNK = 1 << 20;

async function text(path: string): Promise<string> {
  let s = '';
  for await (const c of openTraceFile(path).chunks()) s += c;
  return s;
}

test('a character straddling the 1 MiB read boundary, then ASCII chunks', async () => {
  const pad = 'x'.repeat(CHUNK - 1);
  const body = `${pad}é and then ${'ascii '.repeat(300_000)}end\n`;
  const path = tempFile(body);
  assert.equal(readFileSync(path)[CHUNK - 1], 0xc3, 'the two bytes of é are split by the first read');
  assert.equal(await text(path), body);
});

test('invalid UTF-8 becomes U+FFFD exactly as the UTF-8 decoder does, in any chunk', async () => {
  const bytes = Buffer.concat([Buffer.from('a'.repeat(CHUNK - 1)), Buffer.from([0xc3]), Buffer.from('plain ascii '.repeat(200_000)), Buffer.from([0xff, 0x41])]);
  const path = tempFile(bytes);
  assert.equal(await text(path), bytes.toString('utf8'));
});
