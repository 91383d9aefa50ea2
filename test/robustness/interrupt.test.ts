// Issue 21, item 6: an interrupted run leaves no large file behind. Ctrl-C (SIGINT) or
// SIGTERM during parsing removes the spill directory, during the cache write the cache's
// temporary file, during generate its temporary output; the process still ends with the
// signal. What SIGKILL or a heap OOM leaves (no JavaScript runs then) is removed by the
// next run, which knows the writer's pid from the name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openTrace } from '../../src/trace/index.ts';
import { tmp } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const hasMkfifo = !spawnSync('mkfifo', ['--version'], { stdio: 'ignore' }).error;
let n = 0;

const exited = (c: ChildProcess) => new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => c.on('exit', (code, signal) => resolve({ code, signal })));
async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  for (const t0 = Date.now(); !ok();) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A child that opens a FIFO as a trace (so it parses for as long as the test feeds it),
 *  spilling after 1000 events. */
function parserOn(fifo: string, tmpdir: string): ChildProcess {
  const script = join(tmp, `parse${n++}.mts`);
  writeFileSync(script, `import { openTrace } from ${JSON.stringify(join(ROOT, 'src/trace/index.ts'))};
await openTrace(${JSON.stringify(fifo)}, { memoryEvents: 1000, batchSize: 500 });
`);
  return spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env: { ...process.env, TMPDIR: tmpdir }, stdio: 'ignore' });
}

const TEXT = gunzipSync(readFileSync(join(ROOT, 'traces/real/forkchurn/trace.txt.gz')));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} while parsing removes the spill directory, and the process ends with the signal`, { skip: hasMkfifo ? false : 'mkfifo not found' }, async () => {
    const dir = mkdtempSync(join(tmp, 'spill-'));
    const fifo = join(dir, 'trace.fifo');
    spawnSync('mkfifo', [fifo]);
    const child = parserOn(fifo, dir);
    const done = exited(child);
    const fd = openSync(fifo, 'w'); // waits for the child to open it
    const spills = () => readdirSync(dir).filter((f) => f.startsWith('tlbsim-'));
    // Feed half the trace (tens of thousands of events: it spills), keep the FIFO open.
    writeSync(fd, TEXT.subarray(0, TEXT.indexOf(0x0a, TEXT.length >> 1) + 1));
    await until('the spill file', () => spills().some((d) => existsSync(join(dir, d, 'events.bin'))));
    child.kill(signal);
    const r = await done;
    closeSync(fd);
    assert.equal(r.signal, signal, `ended by ${signal}`);
    assert.deepEqual(spills(), [], 'the spill directory is gone');
  });
}

test('leftovers of killed runs (spill directory, cache temporary file) are removed by the next run', async () => {
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const dir = mkdtempSync(join(tmp, 'stale-'));
  const trace = join(dir, 'trace.txt.gz');
  writeFileSync(trace, readFileSync(join(ROOT, 'traces/real/forkchurn/trace.txt.gz')));
  const staleSpill = join(dir, `tlbsim-${dead}-AbC123`);
  mkdirSync(staleSpill);
  writeFileSync(join(staleSpill, 'events.bin'), Buffer.alloc(4096));
  const staleCache = `${trace}.tlbcache.${dead}.x1y2z3.tmp`;
  writeFileSync(staleCache, Buffer.alloc(4096));
  // One of a process that is alive (this one) is left alone.
  const liveSpill = join(dir, `tlbsim-${process.pid}-LiVe12`);
  mkdirSync(liveSpill);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    const t = await openTrace(trace, { cache: true, memoryEvents: 1000, batchSize: 500 });
    t.close();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = saved;
  }
  assert.equal(existsSync(staleSpill), false, 'stale spill directory removed');
  assert.equal(existsSync(staleCache), false, 'stale cache temporary removed');
  assert.equal(existsSync(liveSpill), true, 'a live process\'s directory kept');
  assert.ok(existsSync(`${trace}.tlbcache`));
});

test('SIGINT during generate removes its temporary output', async () => {
  const dir = mkdtempSync(join(tmp, 'gen-'));
  // Big enough that the signal comes while the file is written (gzip keeps it writing for
  // longer than the events took to generate, seconds on a loaded machine), no bigger.
  const child = spawn(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), 'generate', 'workload:ping-pong:iterations=200000', '-o', join(dir, 'big.txt.gz')], { cwd: ROOT, stdio: 'ignore' });
  const done = exited(child);
  await until('the temporary output', () => readdirSync(dir).some((f) => f.endsWith('.tmp')));
  child.kill('SIGINT');
  const r = await done;
  assert.ok(r.signal === 'SIGINT' || r.code === 130, `ended by SIGINT (${r.code}, ${r.signal})`);
  assert.deepEqual(readdirSync(dir), [], 'nothing left');
});
