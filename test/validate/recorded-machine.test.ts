// A trace that says what it was recorded on (`# tlbsim-vm:` lines, as `tlbsim record --vm`
// writes them): validate picks that kernel's strategy, and a CPU without PCID is simulated
// as one under every strategy (a machine property, not a policy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { NO_STACK, ROOT, tlbsim } from '../commands/run.ts';
import { recordedMachineOf } from '../../src/trace/vm-header.ts';

const real = gunzipSync(readFileSync(join(ROOT, 'traces/real/pingpong-512/trace.txt.gz'))).toString('utf8');

function withHeader(header: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tlbsim-vmhdr-'));
  const path = join(dir, 'trace.txt');
  writeFileSync(path, `${header}\n${real}`);
  return path;
}

const json = (args: string[]) => {
  const r = tlbsim(args, { env: { TLBSIM_CACHE: '0' } });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, NO_STACK);
  return JSON.parse(r.stdout);
};
const row = (v: { rows: { what: string; predicted: number; observed: number }[] }, prefix: string) => v.rows.find((r) => r.what.startsWith(prefix))!;

test('recordedMachineOf reads the facts and ignores what it does not know', () => {
  assert.deepEqual(recordedMachineOf('# tlbsim-vm: kernel=6.12.57+deb12-cloud-amd64 cpus=32 pcid=0 invpcid=0 invlpgb=0 accel=tcg future=1'),
    { kernel: '6.12.57+deb12-cloud-amd64', cpus: 32, pcid: false, invpcid: false, invlpgb: false, accel: 'tcg' });
  assert.deepEqual(recordedMachineOf('# tlbsim-vm: pcid=yes kernel=<script>'), { pcid: true });
  assert.equal(recordedMachineOf('# tracer: nop'), null);
});

test('validate: the header names the kernel, so its strategy is checked; pcid=0 makes every mm switch flush', () => {
  const plain = json(['validate', '--json', withHeader('#')]);
  assert.equal(plain.strategy, 'linux-7.3');
  // The recording itself (a 6.18 guest with PCID): most switches print pages 0.
  assert.ok(row(plain, 'switch, no flush').predicted > 500);

  const vm = json(['validate', '--json', withHeader('# tlbsim-vm: kernel=6.12.57+deb12-cloud-amd64 cpus=2 pcid=0 invpcid=0 invlpgb=0 accel=tcg')]);
  assert.equal(vm.strategy, 'linux-6.12');
  // Without PCID choose_new_asid() always answers (ASID 0, flush): no switch without one.
  assert.equal(row(vm, 'switch, no flush').predicted, 0);
  assert.equal(row(vm, 'switch, flush').predicted, row(plain, 'switch, flush').predicted + row(plain, 'switch, no flush').predicted);

  // -s still wins; --no-pcid does the same without a header.
  assert.equal(json(['validate', '--json', '-s', 'linux-6.1', withHeader('# tlbsim-vm: kernel=7.3.4')]).strategy, 'linux-6.1');
  assert.equal(row(json(['validate', '--json', '--no-pcid', withHeader('#')]), 'switch, no flush').predicted, 0);
});

test('replay --no-pcid: every strategy on CPUs without PCID', () => {
  const path = withHeader('#');
  const runs = (extra: string[]) => json(['replay', '--json', '--no-report', '-s', 'linux-4.14,linux-7.3', ...extra, path]).runs as { strategy: string; metrics: Record<string, number> }[];
  const with_ = runs([]), without = runs(['--no-pcid']);
  for (const name of ['linux-4.14', 'linux-7.3']) {
    const a = with_.find((r) => r.strategy === name)!, b = without.find((r) => r.strategy === name)!;
    assert.ok(b.metrics.cr3_flushes > a.metrics.cr3_flushes, `${name}: ${b.metrics.cr3_flushes} > ${a.metrics.cr3_flushes}`);
    assert.equal(b.metrics.cr3_flushes, b.metrics.cr3_writes, `${name}: every CR3 write flushes`);
  }
});
