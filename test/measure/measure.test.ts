// `tlbsim measure`: microbench.c's output is read back, mapped to profile keys with ranges
// that contain their values and name what they were measured on, and the written profile
// loads through profileFromJson with the micro-costs validate --time builds on. The real run
// (`--quick`) needs cc; it is skipped with the reason where cc is missing. No timing
// thresholds: only relations that hold on any machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBenchOutput, profileFromBenches, MeasureError } from '../../src/measure/index.ts';
import { getProfile, profileFromJson, COST_KEYS, type CostKey } from '../../src/machine/profiles.ts';
import { TIME_WORKLOADS } from '../../src/validate/time.ts';
import { tlbsim, NO_STACK } from '../commands/run.ts';

const hasCc = !spawnSync('cc', ['--version'], { stdio: 'ignore' }).error;

const LINES = [
  '{"info":{"cpus":[0,1],"runs":3}}',
  '{"name":"atomic_local","ns":5.5,"lo":5.4,"hi":5.7,"runs":3,"what":"lock xadd"}',
  '{"name":"cacheline_roundtrip_cross_cpu","ns":120,"lo":110,"hi":130,"runs":3,"what":"ping-pong of a line"}',
  '{"name":"chase_sparse_16384page","ns":37,"lo":36,"hi":40,"runs":3,"what":"sparse chase"}',
  '{"name":"chase_dense_256page","ns":8,"lo":8,"hi":9,"runs":3,"what":"dense chase"}',
  '{"name":"membarrier_0target","ns":600,"lo":590,"hi":610,"runs":3,"what":"no target"}',
  '{"name":"membarrier_1target","ns":13000,"lo":12500,"hi":13500,"runs":3,"what":"one target"}',
  '{"name":"ipi_target_cost","ns":7000,"lo":6900,"hi":7100,"runs":3,"what":"target side"}',
  '{"name":"shootdown_1page_k2","skipped":"needs 3 CPUs","what":"k=2"}',
].join('\n');

test('microbench output maps to profile keys: values from the medians, ranges from the runs, a source naming the machine', () => {
  const benches = parseBenchOutput(LINES);
  assert.equal(benches.length, 8);
  assert.equal(benches[7].skipped, 'needs 3 CPUs');
  const base = getProfile('kvm-guest');
  const { profile, measured } = profileFromBenches(benches, base, 'Test CPU (host), Linux 6.18, 2026-12-02, 3 runs');
  assert.equal(profile.lineTransferNs, 60); // a round trip is two transfers
  assert.equal(profile.tlbMissNs, 29); // the same footprint with and without misses
  assert.equal(profile.ipiHandlerNs, 7000);
  // The rest of the round trip (13000 - 600 - 7000) split as kvm-guest splits send/deliver/ack.
  const rest = 13000 - 600 - 7000, split = base.ipiSendNs + base.ipiDeliverNs + base.ipiAckNs;
  assert.ok(Math.abs(profile.ipiSendNs - rest * base.ipiSendNs / split) < 1e-9);
  assert.ok(Math.abs(profile.ipiSendNs + profile.ipiDeliverNs + profile.ipiAckNs - rest) < 1e-9);
  // A key with no benchmark behind it keeps the base's value.
  assert.equal(profile.invlpgNs, base.invlpgNs);
  assert.ok(!measured.includes('invlpgNs'));
  for (const k of measured) {
    const r = profile.ranges?.[k];
    assert.ok(r, k);
    assert.ok(r.lo <= profile[k] && profile[k] <= r.hi, `${k}: ${r.lo} <= ${profile[k]} <= ${r.hi}`);
    assert.match(r.source, /^measured on Test CPU/);
  }
  assert.deepEqual(profile.micro?.atomic_local, { ns: 5.5, lo: 5.4, hi: 5.7, what: 'lock xadd' });
  assert.throws(() => parseBenchOutput('not json'), MeasureError);
});

test('tlbsim measure --quick writes a profile replay and validate --time can load', { skip: hasCc ? false : 'needs cc', timeout: 120_000 }, () => {
  const out = join(mkdtempSync(join(tmpdir(), 'tlbsim-measure-')), 'p.json');
  const r = tlbsim(['measure', '--quick', '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /wrote .*p\.json \(\d+ costs measured, \d+ kept from/);
  const profile = profileFromJson(readFileSync(out, 'utf8'), undefined, out);
  assert.equal(profile.provenance?.kind, 'measured');
  for (const k of COST_KEYS) assert.ok(Number.isFinite(profile[k]) && profile[k] >= 0, k);
  for (const [k, range] of Object.entries(profile.ranges ?? {})) {
    if (!range.source.startsWith('measured on')) continue;
    const v = profile[k as CostKey];
    assert.ok(range.lo <= v && v <= range.hi, k);
  }
  const micro = profile.micro ?? {};
  for (const m of Object.values(micro)) assert.ok(m.lo <= m.ns && m.ns <= m.hi);
  // Every micro-cost a validate --time workload is built from was measured, or the table
  // says why not: on a busy machine the IPI benchmarks find the other CPU taken by other
  // tasks, and say so instead of reporting a number that measured something else.
  const skipped = (name: string) => new RegExp(`^${name} +skipped +\\S`, 'm').test(r.stdout);
  for (const w of TIME_WORKLOADS) for (const [name] of w.base) assert.ok(micro[name] || skipped(name), `${w.name} needs ${name}`);
  // An IPI round trip costs more than the syscall that sends it.
  if (micro.membarrier_1target) assert.ok(micro.membarrier_1target.ns > micro.null_syscall.ns);
  else assert.ok(skipped('membarrier_1target'), 'membarrier_1target is neither measured nor reported skipped');
});

test('tlbsim measure without a C compiler says so in one line', () => {
  const r = tlbsim(['measure', '--quick', '-o', join(tmpdir(), 'never.json')], { env: { PATH: '/nonexistent', XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'tlbsim-nocc-')) } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /tlbsim measure needs a C compiler \(cc\): apt-get install gcc/);
  assert.doesNotMatch(r.stderr, NO_STACK);
});
