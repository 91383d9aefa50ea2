// The many-CPU lab recordings (traces/lab/manifest.json): each file is what the manifest
// says, starts with a tlbsim-vm header that agrees with it, stays small, and reads as
// ftrace text with as many CPUs as the guest had, no skipped lines and no lost events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openTrace, eventsOf, EventKind } from '../../src/trace/index.ts';
import { parseVmHeader } from '../../src/trace/vm-header.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const MANIFEST = join(ROOT, 'traces/lab/manifest.json');

interface Recording { kernel: string; release: string; cpus: number; workload: string; args: string[]; file: string; bytes: number; lines: number; lostEvents: number; pcid: boolean }
const recordings: Recording[] = existsSync(MANIFEST) ? (JSON.parse(readFileSync(MANIFEST, 'utf8')) as { recordings: Recording[] }).recordings : [];

test('the lab manifest lists recordings of every workload on every kernel it has', () => {
  assert.ok(recordings.length > 0, 'traces/lab/manifest.json lists recordings');
  const workloads = new Set(recordings.map((r) => r.workload));
  for (const kernel of new Set(recordings.map((r) => r.kernel))) {
    for (const cpus of new Set(recordings.filter((r) => r.kernel === kernel).map((r) => r.cpus))) {
      const here = recordings.filter((r) => r.kernel === kernel && r.cpus === cpus).map((r) => r.workload).sort();
      assert.ok(here.length >= 2, `${kernel} at ${cpus} CPUs: ${here.join(',')}`);
    }
  }
  assert.ok(workloads.size >= 5, [...workloads].join(','));
  const files = recordings.map((r) => r.file);
  assert.equal(new Set(files).size, files.length, 'one entry per file');
});

for (const r of recordings) {
  test(`lab ${r.file}: ${r.kernel} at ${r.cpus} CPUs, ${r.workload} ${r.args.join(' ')}`, async () => {
    const path = join(ROOT, r.file);
    assert.equal(statSync(path).size, r.bytes);
    assert.ok(r.bytes <= 400 * 1024, `${r.bytes} bytes: keep lab fixtures small`);
    const text = gunzipSync(readFileSync(path)).toString('latin1');
    const lines = text.split('\n');
    assert.equal(lines.length - 1, r.lines);
    const header = parseVmHeader(lines[0]);
    assert.ok(header, lines[0]);
    assert.equal(header.kernel, r.release);
    assert.equal(header.cpus, r.cpus);
    assert.equal(header.pcid, r.pcid);
    assert.equal(lines[1], `# tlbsim-vm-command: ${r.workload} ${r.args.join(' ')}`);
    assert.match(text, new RegExp(`#P:${r.cpus}\\n`));
    // Every event the buffers held made it through the per-CPU merge, and none was overwritten
    // (6.1's exit_mmap prints a newline of its own: empty lines are not events).
    const entries = /^# entries-in-buffer\/entries-written: (\d+)\/(\d+)/m.exec(text);
    assert.ok(entries);
    const events = lines.filter((l) => l !== '' && !l.startsWith('#')).length;
    assert.equal(Number(entries[1]), events, 'entries in buffer = event lines');
    assert.equal(Number(entries[2]), events, 'entries written = event lines');
    assert.equal(r.lostEvents, 0);
    const t = await openTrace(path);
    let switches = 0, flushes = 0;
    for await (const b of t.batches()) for (const e of eventsOf([b])) {
      if (e.kind === EventKind.switch) switches++;
      else if (e.kind === EventKind.observed_flush) flushes++;
    }
    t.close();
    assert.equal(t.info.format, 'ftrace');
    assert.equal(t.info.cpus, r.cpus);
    assert.equal(t.info.skippedLines, 0, JSON.stringify(t.info.skipped.slice(0, 3)));
    assert.equal(t.info.lostEvents, 0);
    assert.ok(switches > 0 && flushes > 0, `${switches} switches, ${flushes} tlb_flush`);
  });
}

test('DAMON\'s kdamond threads are kernel threads, not processes with an mm (7.3 recordings)', async () => {
  // With record-tgid a kernel thread's tgid is its own pid, which alone would give it an mm
  // of its own: switching to it then looked like an mm switch (a CR3 write and a flush
  // where the kernel kept the previous mm loaded, lazily).
  const t = await openTrace(join(ROOT, 'traces/lab/7.3/64cpu/sleepwake.txt.gz'));
  try {
    const kd = t.info.tasks.filter((x) => x.comm.startsWith('kdamond.'));
    assert.ok(kd.length > 0, 'the recording has a kdamond thread');
    for (const x of kd) assert.deepEqual([x.mm, x.route], [0, 'kernel-thread-name'], x.comm);
  } finally { t.close(); }
});
