// 6.14+ (CONFIG_PT_RECLAIM, def_bool y on x86-64): MADV_DONTNEED over a whole PMD-aligned
// 2 MiB frees that PTE page, so its flush has freed_tables set and reaches lazy CPUs too.
// Which kernel recorded the trace comes from its `# tlbsim-vm:` header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlushFlags, EventKind } from '../../src/trace/event.ts';
import { reclaimsPteTables } from '../../src/trace/canonical.ts';
import { FTRACE_HEADER, readText } from '../helpers.ts';

test('reclaimsPteTables: 6.14 and later', () => {
  assert.equal(reclaimsPteTables('6.12.117+deb12-cloud-amd64'), false);
  assert.equal(reclaimsPteTables('6.13.9'), false);
  assert.equal(reclaimsPteTables('6.14.0'), true);
  assert.equal(reclaimsPteTables('7.3.4+deb13-cloud-amd64'), true);
  assert.equal(reclaimsPteTables(undefined), false);
});

// The shape of 7.3 lab lines (traces/lab/7.3/32cpu/sleepwake.txt.gz): an 8 MiB DONTNEED
// (whole PMDs inside) and a one-page one, each printing a reason 4 and the local reason 3.
const body = (len: string) => [
  `       sleepwake-774     (    769) [005] .....    50.437180: sys_madvise(start: 0x7efc42516000, len_in: ${len}, behavior: 4)`,
  '       sleepwake-774     (    769) [005] .....    50.437220: tlb_flush: pages:-1 reason:remote IPI send (4)',
  '       sleepwake-774     (    769) [005] d..1.    50.437290: tlb_flush: pages:-1 reason:local MM shootdown (3)',
].join('\n');
const header = FTRACE_HEADER.replace('#P:2', '#P:8');

for (const [release, len, freed] of [['7.3.4+deb13-cloud-amd64', '0x7fc000', true], ['6.12.117+deb12-cloud-amd64', '0x7fc000', false], ['7.3.4+deb13-cloud-amd64', '0x1000', false]] as const) {
  test(`${release}, madvise DONTNEED of ${len}: freed_tables ${freed}`, async () => {
    const { events } = await readText(`# tlbsim-vm: kernel=${release} cpus=8 pcid=0 invpcid=0 invlpgb=0 accel=tcg host_cpus=2 pti=0 clock=mono\n${header}${body(len)}\n`);
    const req = events.filter((e) => e.kind === EventKind.flush_request);
    assert.equal(req.length, 1);
    assert.equal((req[0].c & FlushFlags.FREED_TABLES) !== 0, freed);
  });
}
