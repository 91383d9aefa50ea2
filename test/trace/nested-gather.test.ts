// tlb_finish_mmu() (mm/mmu_gather.c, 6.1 to 7.3): when another thread of the mm is inside an
// mmu_gather at the same time, the flush becomes fullmm with freed_tables = 1, and so reaches
// lazy CPUs. A recorded full flush (pages -1) of a one-page madvise in a threaded mm is that;
// the same record in a single-threaded mm, or a ranged one, is not. Lines shaped like the
// 7.3 lab's madvstorm at 64 vCPUs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind, FlushFlags } from '../../src/trace/event.ts';
import { FTRACE_HEADER, readText } from '../helpers.ts';

const header = FTRACE_HEADER.replace('#P:2', '#P:4');
const sw = (cpu: number, t: string, pid: number) =>
  `          <idle>-0       (-------) [00${cpu}] d..2.    ${t}: sched_switch: prev_comm=swapper/${cpu} prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=madvstorm next_pid=${pid} next_prio=120`;
const madvise = (cpu: number, t: string, pid: number, pages: number) => [
  `       madvstorm-${pid}     (    575) [00${cpu}] .....    ${t}0: sys_madvise(start: 0x7fec35f40000, len_in: 0x1000, behavior: 4)`,
  `       madvstorm-${pid}     (    575) [00${cpu}] .....    ${t}5: tlb_flush: pages:${pages} reason:remote IPI send (4)`,
  `       madvstorm-${pid}     (    575) [00${cpu}] d..1.    ${t}9: tlb_flush: pages:${pages} reason:local MM shootdown (3)`,
];

async function freedOf(lines: string[]): Promise<boolean[]> {
  const { events } = await readText(`${header}${lines.join('\n')}\n`);
  return events.filter((e) => e.kind === EventKind.flush_request).map((e) => (e.c & FlushFlags.FREED_TABLES) !== 0);
}

test('a full flush of a one-page madvise in a threaded mm is a nested gather: freed_tables', async () => {
  const threads = [sw(0, '26.018000', 575), sw(1, '26.018100', 588)];
  assert.deepEqual(await freedOf([...threads, ...madvise(1, '26.06406', 588, -1)]), [true]);
  assert.deepEqual(await freedOf([...threads, ...madvise(1, '26.06406', 588, 1)]), [false]);
});

test('the same full flush in a single-threaded mm is not', async () => {
  assert.deepEqual(await freedOf([sw(1, '26.018100', 588), ...madvise(1, '26.06406', 588, -1)]), [false]);
});
