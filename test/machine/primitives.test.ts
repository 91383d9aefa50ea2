// Machine primitives charge what they claim: a locked operation on a line this CPU owns
// costs atomicLocalNs; on a line another CPU wrote last it adds a transfer (HITM),
// crossSocketFactor times dearer across sockets; a read of a line another CPU modified
// pays one transfer and leaves the line shared; CR3 writes with and without NOFLUSH.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../../src/machine/machine.ts';
import { MI } from '../../src/machine/metrics.ts';
import { getProfile } from '../../src/machine/profiles.ts';
import { linux618 } from '../../src/strategies/linux-6.18.ts';

function machine(nCpu: number, profile = 'skylake-laptop'): Machine {
  const m = new Machine(nCpu, getProfile(profile));
  m.strategy = linux618.create(m);
  assert.equal(m.allocMm(1), 1, 'the first mm takes slot 1');
  return m;
}

test('atomics on a shared line: local when this CPU wrote it last, a transfer otherwise', () => {
  const p = getProfile();
  const m = machine(2);
  m.cpumaskSet(0, 1); //     first touch: nobody owns the line
  assert.equal(m.cpuOverhead(0), p.atomicLocalNs);
  m.cpumaskSet(0, 1); //     still cpu0's
  assert.equal(m.cpuOverhead(0), 2 * p.atomicLocalNs);
  m.cpumaskSet(1, 1); //     cpu0 wrote it last: HITM
  assert.equal(m.cpuOverhead(1), p.atomicLocalNs + p.lineTransferNs);
  assert.equal(m.metrics[MI.atomic_ops], 3);
  assert.equal(m.metrics[MI.cpumask_atomics], 3);
  assert.equal(m.metrics[MI.line_transfers], 1);
  // mm_count lives on its own line: cpu1's grab after cpu0's grab transfers it too.
  m.mmGrab(0, 1);
  m.mmGrab(1, 1);
  assert.equal(m.metrics[MI.mm_count_atomics], 2);
  assert.equal(m.metrics[MI.line_transfers], 2);
  assert.equal(m.mmCount[1], 3);
});

test('reads: a line modified elsewhere costs one transfer, then it is shared', () => {
  const p = getProfile();
  const m = machine(3);
  assert.equal(m.incMmGen(0, 1), 1); // inc_mm_tlb_gen by cpu0
  const before = m.cpuOverhead(1);
  assert.equal(m.readMmGen(1, 1), 1);
  assert.equal(m.cpuOverhead(1) - before, p.lineTransferNs);
  m.readMmGen(1, 1); //  shared now: free
  m.readMmGen(2, 1); //  another reader of a clean line: free
  assert.equal(m.cpuOverhead(1) - before, p.lineTransferNs);
  assert.equal(m.cpuOverhead(2), 0);
  assert.equal(m.metrics[MI.line_transfers], 1);
});

test('cross-socket transfers cost crossSocketFactor times more (haswell-server: 18 CPUs per socket)', () => {
  const p = getProfile('haswell-server');
  const m = machine(40, 'haswell-server');
  m.cpumaskSet(0, 1);
  m.cpumaskSet(17, 1); // same socket as cpu0
  assert.equal(m.cpuOverhead(17), p.atomicLocalNs + p.lineTransferNs);
  m.cpumaskSet(18, 1); // cpu17 wrote it last: other socket
  assert.equal(m.cpuOverhead(18), p.atomicLocalNs + p.lineTransferNs * p.crossSocketFactor);
});

test('CR3 writes: NOFLUSH costs cr3WriteNs, a flushing write adds cr3FlushExtraNs and drops the PCID\'s entries', () => {
  const p = getProfile();
  const m = machine(1);
  m.cr3Write(0, 1, 1, true);
  assert.equal(m.cpuOverhead(0), p.cr3WriteNs + p.cr3FlushExtraNs);
  m.access(0, 1, 10); //         10 misses, cached now
  assert.equal(m.metrics[MI.tlb_misses], 10);
  m.cr3Write(0, 0, 0, false); // to init_mm, ASID 0
  m.cr3Write(0, 1, 1, false); // back on ASID 1 without flush: entries kept
  m.access(0, 1, 10);
  assert.equal(m.metrics[MI.tlb_misses], 10);
  m.cr3Write(0, 1, 1, true); //  flushing write: they are gone
  m.access(0, 1, 10);
  assert.equal(m.metrics[MI.tlb_misses], 20);
  assert.equal(m.metrics[MI.cr3_writes], 4);
  assert.equal(m.metrics[MI.cr3_flushes], 2);
  assert.equal(m.cpuOverhead(0), 4 * p.cr3WriteNs + 2 * p.cr3FlushExtraNs + 20 * p.tlbMissNs);
});
