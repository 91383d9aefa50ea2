// Where exec, vfork and fork really change address spaces, read from real recorded lines
// (traces/real/forkchurn/trace.txt.gz, lines 1750-1759 and 1784-1805: dash vforks
// /bin/true, then forks a child that execs dirname).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind, FlushFlags, FlushOrigin, flushOrigin, type TraceEvent } from '../../src/trace/event.ts';
import { FTRACE_HEADER, readText } from '../helpers.ts';

const LINES = [
  '    forkchurn.sh-7708    [001] .....  9453.354373: sched_process_fork: comm=forkchurn.sh pid=7708 child_comm=forkchurn.sh child_pid=7736',
  '    forkchurn.sh-7708    [001] d..2.  9453.354377: sched_switch: prev_comm=forkchurn.sh prev_pid=7708 prev_prio=120 prev_state=D ==> next_comm=forkchurn.sh next_pid=7736 next_prio=120',
  '            true-7736    [001] dN.1.  9453.354417: tlb_flush: pages:-1 reason:flush on task switch (0)',
  '            true-7736    [001] d..2.  9453.354420: sched_switch: prev_comm=forkchurn.sh prev_pid=7736 prev_prio=120 prev_state=R+ ==> next_comm=forkchurn.sh next_pid=7708 next_prio=120',
  '            true-7736    [001] d..2.  9453.354420: tlb_flush: pages:0 reason:flush on task switch (0)',
  '    forkchurn.sh-7708    [001] d..2.  9453.354425: sched_switch: prev_comm=forkchurn.sh prev_pid=7708 prev_prio=120 prev_state=S ==> next_comm=forkchurn.sh next_pid=7736 next_prio=120',
  '    forkchurn.sh-7708    [001] d..2.  9453.354425: tlb_flush: pages:0 reason:flush on task switch (0)',
  '            true-7736    [001] d..3.  9453.354432: tlb_flush: pages:1 reason:local MM shootdown (3)',
  '            true-7736    [001] d..1.  9453.354433: tlb_flush: pages:0 reason:local MM shootdown (3)',
  '            true-7736    [001] .....  9453.354475: sched_process_exec: filename=/bin/true pid=7736 old_pid=7736',
  '            true-7736    [001] d..2.  9453.354826: sched_switch: prev_comm=true prev_pid=7736 prev_prio=120 prev_state=Z ==> next_comm=forkchurn.sh next_pid=7708 next_prio=120',
  '            true-7736    [001] d..2.  9453.354826: tlb_flush: pages:0 reason:flush on task switch (0)',
  '    forkchurn.sh-7708    [001] d..1.  9453.354889: tlb_flush: pages:-1 reason:local MM shootdown (3)',
  '    forkchurn.sh-7708    [001] .....  9453.354894: sched_process_fork: comm=forkchurn.sh pid=7708 child_comm=forkchurn.sh child_pid=7737',
  '    forkchurn.sh-7708    [001] d..2.  9453.354900: tlb_flush: pages:1 reason:local MM shootdown (3)',
  '    forkchurn.sh-7708    [001] d..2.  9453.354904: tlb_flush: pages:1 reason:local MM shootdown (3)',
  '    forkchurn.sh-7708    [001] d..2.  9453.354907: tlb_flush: pages:1 reason:local MM shootdown (3)',
  '    forkchurn.sh-7708    [001] d..2.  9453.354912: sched_switch: prev_comm=forkchurn.sh prev_pid=7708 prev_prio=120 prev_state=S ==> next_comm=forkchurn.sh next_pid=7737 next_prio=120',
  '    forkchurn.sh-7708    [001] d..2.  9453.354912: tlb_flush: pages:-1 reason:flush on task switch (0)',
  '         dirname-7737    [001] d..2.  9453.354916: tlb_flush: pages:1 reason:local MM shootdown (3)',
  '         dirname-7737    [001] d..2.  9453.354918: tlb_flush: pages:1 reason:local MM shootdown (3)',
  '         dirname-7737    [001] d..2.  9453.354925: tlb_flush: pages:1 reason:local MM shootdown (3)',
  '         dirname-7737    [001] d..2.  9453.354927: tlb_flush: pages:1 reason:local MM shootdown (3)',
  '         dirname-7737    [001] d..2.  9453.354930: tlb_flush: pages:1 reason:local MM shootdown (3)',
  '         dirname-7737    [001] d..2.  9453.354936: tlb_flush: pages:1 reason:local MM shootdown (3)',
  '         dirname-7737    [001] d..2.  9453.354959: tlb_flush: pages:1 reason:local MM shootdown (3)',
  '         dirname-7737    [001] d..2.  9453.354977: tlb_flush: pages:1 reason:local MM shootdown (3)',
  '         dirname-7737    [001] d..1.  9453.355013: tlb_flush: pages:-1 reason:flush on task switch (0)',
  '         dirname-7737    [001] .....  9453.355049: exit_mmap: mt_mod 000000005974d149, DESTROY',
  '         dirname-7737    [001] d..3.  9453.355058: tlb_flush: pages:1 reason:local MM shootdown (3)',
  '         dirname-7737    [001] d..1.  9453.355059: tlb_flush: pages:-1 reason:local MM shootdown (3)',
  '         dirname-7737    [001] .....  9453.355101: sched_process_exec: filename=/usr/bin/dirname pid=7737 old_pid=7737',
];
const TEXT = FTRACE_HEADER + LINES.join('\n') + '\n';
const S = (t: string) => Math.round(Number(t) * 1e9);
const at = (evs: TraceEvent[], kind: number, time: string, tid?: number) =>
  evs.filter((e) => e.kind === kind && e.time === S(time) && (tid === undefined || e.tid === tid));

test('a vfork child runs its parent\'s mm until it execs', async () => {
  const { events } = await readText(TEXT);
  const [fork] = at(events, EventKind.fork, '9453.354373');
  assert.equal(fork.tid, 7708);
  const parentMm = fork.mm;
  assert.ok(parentMm > 0);
  assert.equal(fork.b, parentMm, 'the child shares the mm (CLONE_VM)');
  assert.equal(fork.c, 1);
  const [toChild] = at(events, EventKind.switch, '9453.354377');
  assert.equal(toChild.a, 7736);
  assert.equal(toChild.b, parentMm);
});

test('an exec moves back to where its task loaded the new mm (the reason-0 record outside a switch)', async () => {
  const { events } = await readText(TEXT);
  const execs = events.filter((e) => e.kind === EventKind.exec && e.tid === 7736);
  assert.equal(execs.length, 1, 'one exec, not two');
  const exec = execs[0];
  assert.equal(exec.time, S('9453.354417'), 'at activate_mm, not at sched_process_exec (9453.354475)');
  const i = events.indexOf(exec);
  assert.equal(events[i - 1].kind, EventKind.observed_flush);
  const parentMm = at(events, EventKind.fork, '9453.354373')[0].mm;
  assert.equal(exec.a, parentMm, 'the old mm is the vfork parent\'s');
  assert.notEqual(exec.mm, parentMm);
  // Between activate_mm and the printed exec the task runs the new mm: its switch out and
  // its flushes (shift_arg_pages) are the new mm's.
  assert.equal(at(events, EventKind.switch, '9453.354420', 7736)[0].mm, exec.mm);
  assert.equal(at(events, EventKind.switch, '9453.354425')[0].b, exec.mm);
  for (const t of ['9453.354432', '9453.354433']) assert.equal(at(events, EventKind.flush_request, t)[0].mm, exec.mm, t);
});

test('dup_mmap\'s flush_tlb_mm before sched_process_fork frees page tables; a forked child\'s COW flushes stay with its own mm', async () => {
  const { events } = await readText(TEXT);
  const [forkFlush] = at(events, EventKind.flush_request, '9453.354889');
  assert.equal(forkFlush.b, -1);
  assert.equal(flushOrigin(forkFlush.c), FlushOrigin.tracedLocal);
  assert.ok((forkFlush.c & FlushFlags.FREED_TABLES) !== 0, 'flush_tlb_mm() passes freed_tables = true');
  const [fork] = at(events, EventKind.fork, '9453.354894');
  const childMm = fork.b;
  assert.notEqual(childMm, fork.mm, 'a fork (the parent sleeps in S): a copy of the mm');
  assert.equal(fork.c, 0);
  // the child's COW faults before its exec: its own mm, no freed tables
  const cow = at(events, EventKind.flush_request, '9453.354916')[0];
  assert.equal(cow.mm, childMm);
  assert.equal(cow.c & FlushFlags.FREED_TABLES, 0);
  // its exec moves to the reason-0 record at .355013, before the old mm's exit_mmap
  const exec = events.find((e) => e.kind === EventKind.exec && e.tid === 7737)!;
  assert.equal(exec.time, S('9453.355013'));
  assert.equal(exec.a, childMm);
  assert.equal(at(events, EventKind.exit_mmap, '9453.355049')[0].mm, childMm, 'exit_mmap tears the old mm down');
  for (const t of ['9453.355058', '9453.355059']) assert.equal(at(events, EventKind.flush_request, t)[0].mm, exec.mm, t);
});

test('the moves do not depend on how the stream is cut into batches', async () => {
  const whole = await readText(TEXT);
  const small = await readText(TEXT, { batchSize: 4 });
  assert.deepEqual(small.events, whole.events);
});

// Lines 401-413: a forked child (dirname-7713) execs; the old mm's teardown flush goes
// remote, the initiator answers itself "wrong CPU", then shift_arg_pages flushes the new mm.
const EXEC_TEARDOWN = [
  '          <idle>-0       [000] d..2.  9453.337663: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=forkchurn.sh next_pid=7713 next_prio=120',
  '          <idle>-0       [000] d..2.  9453.337664: tlb_flush: pages:-1 reason:flush on task switch (0)',
  '         dirname-7713    [000] d..1.  9453.337677: tlb_flush: pages:-1 reason:flush on task switch (0)',
  '         dirname-7713    [000] ...1.  9453.337708: tlb_flush: pages:-1 reason:remote IPI send (4)',
  '         dirname-7713    [000] ...2.  9453.337708: csd_queue_cpu: cpu=1 callsite=on_each_cpu_cond_mask+0x20/0x60 func=flush_tlb_func csd=0000000009cd95f5',
  '         dirname-7713    [000] ...2.  9453.337709: ipi_send_cpu: cpu=1 callsite=on_each_cpu_cond_mask+0x20/0x60 callback=generic_smp_call_function_single_interrupt+0x0/0x10',
  '         dirname-7713    [000] d..2.  9453.337711: tlb_flush: pages:0 reason:remote wrong CPU (5)',
  '          <idle>-0       [001] d.h1.  9453.337713: tlb_flush: pages:0 reason:flush on task switch (0)',
  '         dirname-7713    [000] .....  9453.337724: exit_mmap: mt_mod 0000000033403731, DESTROY',
  '         dirname-7713    [000] d..3.  9453.337732: tlb_flush: pages:1 reason:local MM shootdown (3)',
  '         dirname-7713    [000] d..1.  9453.337733: tlb_flush: pages:-1 reason:local MM shootdown (3)',
  '         dirname-7713    [000] .....  9453.337779: sched_process_exec: filename=/usr/bin/dirname pid=7713 old_pid=7713',
  '         dirname-7713    [000] d..2.  9453.337852: tlb_flush: pages:1 reason:local MM shootdown (3)',
];

test('an exec\'s teardown: the old mm\'s remote flush frees tables; the initiator\'s reason 5 is its local half, and the flushes after are the new mm\'s', async () => {
  const { events } = await readText(FTRACE_HEADER + EXEC_TEARDOWN.join('\n') + '\n');
  const exec = events.find((e) => e.kind === EventKind.exec)!;
  assert.equal(exec.time, S('9453.337677'), 'at activate_mm');
  const [teardown] = at(events, EventKind.flush_request, '9453.337708');
  assert.equal(teardown.mm, exec.a, 'the old mm');
  assert.equal(flushOrigin(teardown.c), FlushOrigin.tracedRemote);
  assert.ok((teardown.c & FlushFlags.FREED_TABLES) !== 0, 'exit_mmap frees every page table');
  // shift_arg_pages: a PTE move (pages 1) and the mmu_gather's full flush, both requests
  const after = events.filter((e) => e.kind === EventKind.flush_request && e.time > S('9453.337724'));
  assert.deepEqual(after.map((e) => [e.b, e.mm]), [[1, exec.mm], [-1, exec.mm], [1, exec.mm]]);
});
