// Issue 21, item 2: damage after (or at the end of) the gzip data loses nothing that
// decompresses. Trailing garbage, a flipped CRC, a cut and members one after another are
// read as `gzip -d` reads them, and the damage is a note, not exit 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { openTrace, eventsOf, type TraceEvent } from '../../src/trace/index.ts';
import { tmp } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const FORKCHURN = readFileSync(join(ROOT, 'traces/real/forkchurn/trace.txt.gz'));
let n = 0;

async function read(bytes: Buffer) {
  const path = join(tmp, `gzdamage${n++}.txt.gz`);
  writeFileSync(path, bytes);
  const t = await openTrace(path, { cache: false });
  const events: TraceEvent[] = [];
  for await (const b of t.batches()) for (const e of eventsOf([b])) events.push(e);
  t.close();
  return { path, info: t.info, events, notes: t.info.warnings.filter((w) => w.includes('gzip')) };
}

const truth = await read(FORKCHURN);

test('the pristine trace has no gzip note', () => {
  assert.deepEqual(truth.notes, []);
  assert.ok(truth.events.length > 10_000);
});

test('garbage after the gzip data: every event read, a note, exit 0', async () => {
  const r = await read(Buffer.concat([FORKCHURN, Buffer.from('garbage\n')]));
  assert.deepEqual(r.events, truth.events);
  assert.equal(r.notes.length, 1);
  assert.match(r.notes[0], /8 bytes after the end of the gzip data .* are not gzip and were ignored/);
  const cli = spawnSync(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), 'inspect', '--no-cache', r.path], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /note: .*are not gzip and were ignored/);
});

test('zero padding after the gzip data (tar, tape blocks) is no damage', async () => {
  const r = await read(Buffer.concat([FORKCHURN, Buffer.alloc(512)]));
  assert.deepEqual(r.events, truth.events);
  assert.deepEqual(r.notes, []);
});

test('a flipped CRC: every event read (the last MiB of text included), the mismatch noted', async () => {
  const bad = Buffer.from(FORKCHURN);
  bad[bad.length - 6] ^= 0xff;
  const r = await read(bad);
  assert.deepEqual(r.events, truth.events);
  assert.equal(r.notes.length, 1);
  assert.match(r.notes[0], /gzip CRC or length does not match the data .*\(CRC\)/);
});

test('a cut gzip keeps everything up to the cut', async () => {
  const cut = FORKCHURN.subarray(0, 100_000);
  const r = await read(cut);
  assert.match(r.notes[0], /cut short at byte 100000 of 100000: everything up to the cut was read/);
  // What zlib can give up to the cut, in whole lines, is what was read.
  const text = gunzipSync(cut, { finishFlush: 2 /* Z_SYNC_FLUSH */ }).toString('latin1');
  const lines = text.slice(0, text.lastIndexOf('\n')).split('\n').filter((l) => l.includes(': sched_switch:')).length;
  assert.ok(r.info.countsByKind.switch >= lines - 1, `${r.info.countsByKind.switch} switches of ${lines} in the text`);
  assert.deepEqual(r.events.slice(0, 1000), truth.events.slice(0, 1000));
});

test('gzip members one after another are one text, as gzip -d reads them', async () => {
  const text = gunzipSync(FORKCHURN);
  const half = text.indexOf(0x0a, text.length >> 1) + 1;
  const r = await read(Buffer.concat([gzipSync(text.subarray(0, half)), gzipSync(text.subarray(half))]));
  assert.deepEqual(r.events, truth.events);
  assert.deepEqual(r.notes, []);
});

test('inflated on a thread of its own (ingestThreads > 1), every kind of damage reads the same as on the parsing thread', async () => {
  const corrupt = Buffer.from(FORKCHURN);
  corrupt[Math.floor(corrupt.length / 2)] ^= 0x55;
  const crc = Buffer.from(FORKCHURN);
  crc[crc.length - 6] ^= 0xff;
  const cases: [string, Buffer][] = [
    ['pristine', FORKCHURN], ['garbage after', Buffer.concat([FORKCHURN, Buffer.from('garbage\n')])],
    ['zero padding', Buffer.concat([FORKCHURN, Buffer.alloc(512)])], ['flipped CRC', crc], ['cut', FORKCHURN.subarray(0, 100_000)],
    ['cut in the trailer', FORKCHURN.subarray(0, FORKCHURN.length - 3)], ['corrupt middle', corrupt],
    ['two members', Buffer.concat([gzipSync(gunzipSync(FORKCHURN).subarray(0, 50_000)), FORKCHURN])],
    ['not gzip at all after the magic', Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(64, 0x41)])],
  ];
  for (const [what, bytes] of cases) {
    const path = join(tmp, `gzthread${n++}.txt.gz`);
    writeFileSync(path, bytes);
    const once = async (ingestThreads: number) => {
      try {
        const t = await openTrace(path, { cache: false, ingestThreads });
        const events: TraceEvent[] = [];
        for await (const b of t.batches()) for (const e of eventsOf([b])) events.push(e);
        t.close();
        return { info: t.info, events };
      } catch (e) { return { error: (e as Error).message }; }
    };
    const one = await once(1), two = await once(2);
    assert.deepEqual(two, one, what);
  }
});
