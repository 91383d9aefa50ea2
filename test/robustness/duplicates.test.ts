// Issue 21, item 8: a trace concatenated with itself (`cat a.txt a.txt`, with or without its
// header, shorter or longer than the reorder window) and a trace with every line doubled
// are the recording once, with one note saying what was left out; a different recording
// appended is still read after the first, and per-CPU files of one recording still
// interleave. Inputs: the real pingpong-512 (6 ms, shorter than the reorder window) and
// forkchurn (312 ms) traces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openTrace, type TraceInfo } from '../../src/trace/index.ts';
import { replay } from '../../src/replay/replay.ts';
import { tmp } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const real = (name: string) => gunzipSync(readFileSync(join(ROOT, `traces/real/${name}/trace.txt.gz`))).toString('latin1');
const PINGPONG = real('pingpong-512');
const FORKCHURN = real('forkchurn');
const dir = join(tmp, 'duplicates');
mkdirSync(dir, { recursive: true });
let n = 0;

async function read(text: string): Promise<TraceInfo> {
  const path = join(dir, `d${n++}.txt`);
  writeFileSync(path, text, 'latin1');
  const t = await openTrace(path, { cache: false });
  t.close();
  return t.info;
}

async function metrics(text: string): Promise<string> {
  const path = join(dir, `d${n++}.txt`);
  writeFileSync(path, text, 'latin1');
  const t = await openTrace(path, { cache: false });
  try {
    const results = await replay(t, { strategies: ['linux-4.13', 'linux-6.18'], workers: 1 });
    return JSON.stringify(results.map((r) => [r.strategy.name, r.metrics]));
  } finally { t.close(); }
}

const body = (t: string) => t.split('\n').filter((l) => !l.startsWith('#')).join('\n');
const doubled = (t: string) => t.split('\n').flatMap((l) => [l, l]).join('\n');

function sameTrace(got: TraceInfo, want: TraceInfo, what: string): void {
  assert.deepEqual(got.countsByKind, want.countsByKind, what);
  assert.equal(got.lastNs - got.firstNs, want.lastNs - want.firstNs, `${what}: span`);
  assert.equal(got.skippedLines, want.skippedLines, what);
}

for (const [name, text] of [['pingpong-512', PINGPONG], ['forkchurn', FORKCHURN]] as const) {
  test(`${name} concatenated with itself, with and without its header, 2 and 3 times: read once, one note`, async () => {
    const once = await read(text);
    for (const [what, t, copies] of [
      ['cat a a', text + text, 2], ['cat a a a', text + text + text, 3], ['headerless cat a a', body(text) + '\n' + body(text) + '\n', 2],
    ] as const) {
      const info = await read(t);
      sameTrace(info, once, `${name} ${what}`);
      const notes = info.warnings.filter((w) => !once.warnings.includes(w));
      assert.equal(notes.length, 1, `${what}: ${JSON.stringify(notes)}`);
      assert.match(notes[0], copies === 2 ? /^lines \d+-\d+ repeats the trace's events of lines \d+-\d+ exactly \(the same recording twice/ : /^line ranges \d+-\d+, \d+-\d+ repeat .*the same recording 3 times/);
      assert.match(notes[0], /left out, the recording is replayed once/);
    }
  });

  test(`${name} with every line doubled: read once, one note`, async () => {
    const once = await read(text);
    const info = await read(doubled(text));
    sameTrace(info, once, name);
    const notes = info.warnings.filter((w) => !once.warnings.includes(w));
    assert.equal(notes.length, 1, JSON.stringify(notes));
    const events = body(text).split('\n').filter((l) => l.trim() !== '').length;
    assert.match(notes[0], new RegExp(`^${events} lines are exact copies of the line just before`));
  });
}

test('the replay of a trace concatenated with itself is the replay of the trace', async () => {
  const once = await metrics(PINGPONG);
  assert.equal(await metrics(PINGPONG + PINGPONG), once);
  assert.equal(await metrics(doubled(PINGPONG)), once);
});

test('a different recording appended, its clock going back less than the reorder window, follows the first (not interleaved)', async () => {
  const once = await read(PINGPONG);
  // The same workload recorded again 2 ms of clock earlier: other timestamps, the same CPUs.
  const again = PINGPONG.replace(/ (\d+)\.(\d{6}): /g, (_, s: string, us: string) => {
    const t = Number(s) * 1e6 + Number(us) - 2000;
    return ` ${Math.floor(t / 1e6)}.${String(t % 1e6).padStart(6, '0')}: `;
  });
  const info = await read(PINGPONG + again);
  assert.equal(info.countsByKind.switch, 2 * once.countsByKind.switch);
  assert.ok(info.warnings.some((w) => /begins another trace .*its clock starts \d+\.\d+ ms before the end of the previous one, so its events are shifted/.test(w)), JSON.stringify(info.warnings));
  assert.ok(info.lastNs - info.firstNs > 2 * (once.lastNs - once.firstNs) - 1e6, 'the second follows the first');
  assert.ok(!info.warnings.some((w) => /left out/.test(w)), JSON.stringify(info.warnings));
});

test('per-CPU files of one recording, concatenated with their headers, are read interleaved as the one recording', async () => {
  const once = await read(PINGPONG);
  const header = PINGPONG.split('\n').filter((l) => l.startsWith('#')).join('\n') + '\n';
  const cpu = (c: number) => body(PINGPONG).split('\n').filter((l) => l.includes(`[00${c}]`)).join('\n') + '\n';
  const info = await read(header + cpu(0) + header + cpu(1));
  assert.equal(info.countsByKind.switch, once.countsByKind.switch);
  assert.equal(info.lastNs - info.firstNs, once.lastNs - once.firstNs);
  assert.ok(!info.warnings.some((w) => /shifted|left out/.test(w)), JSON.stringify(info.warnings));
  assert.ok(info.warnings.some((w) => /per-CPU files of one recording\?\): the two are read interleaved/.test(w)), JSON.stringify(info.warnings));
});

test('a line repeated on its own far from the first (one real event at the same microsecond elsewhere) is not a copy', async () => {
  const once = await read(PINGPONG);
  const lines = PINGPONG.split('\n');
  // Two lines identical but for one field are two events.
  const i = lines.findIndex((l) => l.includes('tlb_flush: pages:1 reason:local MM shootdown (3)'));
  lines.splice(i + 1, 0, lines[i].replace('pages:1', 'pages:2'));
  const info = await read(lines.join('\n'));
  assert.equal(info.countsByKind.observed_flush, (once.countsByKind.observed_flush ?? 0) + 1);
  assert.ok(!info.warnings.some((w) => /cop(y|ies)/.test(w)), JSON.stringify(info.warnings));
});
