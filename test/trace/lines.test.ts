// Line shapes from real recordings (docs/design/trace-formats.md and traces/real), one behaviour each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind, IpiKind, PrevState, FlushOrigin, flushOrigin, FlushFlags } from '../../src/trace/index.ts';
import { parseCpuMask } from '../../src/trace/text/payloads/ipi.ts';
import { readText, FTRACE_HEADER } from '../helpers.ts';

const SW = '       record.sh-18838   [000] d..2.  7253.649616: sched_switch: prev_comm=record.sh prev_pid=18838 prev_prio=120 prev_state=S ==> next_comm=migration/0 next_pid=18 next_prio=0';

test('raw ftrace with and without the TGID column, 4- and 5-character flags', async () => {
  const { events, info } = await readText(FTRACE_HEADER +
    '       record.sh-18838   (  18838) [000] d..2.  7253.649616: sched_switch: prev_comm=record.sh prev_pid=18838 prev_prio=120 prev_state=S ==> next_comm=record.sh next_pid=18840 next_prio=120\n' +
    '          <idle>-0       (-------) [001] d.h1.  7351.769175: tlb_flush: pages:-1 reason:flush on task switch (0)\n' +
    '            bash-2039    [000] d..1  7351.769176: tlb_flush: pages:-1 reason:local MM shootdown (3)\n');
  assert.equal(info.skippedLines, 0, JSON.stringify(info.skipped));
  assert.equal(events[0].kind, EventKind.switch);
  assert.equal(events[0].tid, 18838);
  assert.equal(events[0].a, 18840);
  assert.equal(events[0].c, PrevState.blocked);
  assert.equal(events[0].time, 7253649616000);
  const flushes = events.filter((e) => e.kind === EventKind.observed_flush);
  assert.deepEqual(flushes.map((e) => [e.cpu, e.tid, e.a, e.b]), [[1, 0, 0, -1], [0, 2039, 3, -1]]);
});

test('task names with spaces, dashes, colons and brackets', async () => {
  const { events, info } = await readText(FTRACE_HEADER +
    ' kworker/u4:1-ev-123     [001] ..... 10.000001: sched_process_exit: comm=kworker/u4:1-ev pid=123 prio=120 group_dead=true\n' +
    'a b [001] c-x y-4242    [000] ..... 10.000002: sched_switch: prev_comm=a b [001] c-x y prev_pid=4242 prev_prio=120 prev_state=R+ ==> next_comm=z ==> next_comm=q next_pid=7 next_prio=120\n' +
    '           <...>-99      [001] ..... 10.000003: tlb_flush: pages:1 reason:remote shootdown (1)\n');
  assert.equal(info.skippedLines, 0, JSON.stringify(info.skipped));
  assert.equal(events[0].tid, 123);
  assert.equal(events[1].tid, 4242);
  assert.equal(events[1].c, PrevState.runnable);
  assert.equal(events[1].a, 7);
  const task = info.tasks.find((t) => t.tid === 7);
  assert.equal(task?.comm, 'z ==> next_comm=q');
  assert.equal(events[2].tid, 99);
});

test('nanosecond and integer timestamps, no flags column', async () => {
  const { events: all } = await readText(FTRACE_HEADER +
    '            bash-19001 [001] 123456789: tlb_flush: pages:2 reason:local MM shootdown (3)\n' +
    '            bash-19001 [000]  7270.969801123: tlb_flush: pages=-1 reason=local mm shootdown (3)\n');
  const events = all.filter((e) => e.kind === EventKind.observed_flush);
  assert.equal(events[1].time, 7270969801123);
  assert.equal(events[0].time, 123456789);
  assert.equal(events[0].b, 2);
});

test('tlb_flush reason is the number, whatever the string says', async () => {
  const { events, info } = await readText(FTRACE_HEADER +
    '          <idle>-0       [001] d.h1. 1.000001: tlb_flush: pages:0 reason:0x5\n' +
    '          <idle>-0       [001] d.h1. 1.000002: tlb_flush: pages:0 reason:remote wrong CPU (5)\n' +
    '          <idle>-0       [001] d.h1. 1.000003: tlb_flush: pages=-1 reason= (4)\n' +
    '          <idle>-0       [001] d.h1. 1.000004: tlb_flush: pages:3 reason:0x7\n');
  assert.equal(info.skippedLines, 0);
  assert.deepEqual(events.filter((e) => e.kind === EventKind.observed_flush).map((e) => e.a), [5, 5, 4, 7]);
});

test('lost-event and buffer-start markers are counted, not skipped', async () => {
  const { info, events } = await readText(FTRACE_HEADER +
    '##### CPU 1 buffer started ####\n' + SW + '\nCPU:1 [LOST 1234 EVENTS]\n' + SW.replace('649616', '649700') + '\n');
  assert.equal(info.skippedLines, 0);
  assert.equal(info.lostEvents, 1234);
  assert.equal(info.lostMarkers, 1);
  assert.equal(events.filter((e) => e.kind === EventKind.lost).length, 1);
});

test('trace-cmd report: cpus header, plugin sched_switch, name=value fields, padded names', async () => {
  const { info, events } = await readText('cpus=2\n' +
    '            bash-19001 [000]  7270.969801: tlb_flush:            pages=-1 reason=local mm shootdown (3)\n' +
    '            bash-19001 [000]  7270.969917: sched_switch:         bash:19001 [120] S ==> bash:19003 [120]\n' +
    '  hw-madvthreads-8297  [000]  9454.778123: sys_enter_madvise:    start: 0x7f1b2c6e5000, len_in: 0x00001000, behavior: 0x00000004\n');
  assert.equal(info.format, 'trace-cmd');
  assert.equal(info.cpus, 2);
  assert.equal(info.skippedLines, 0, JSON.stringify(info.skipped));
  const sw = events.find((e) => e.kind === EventKind.switch)!;
  assert.deepEqual([sw.tid, sw.a, sw.c], [19001, 19003, PrevState.blocked]);
  const m = events.find((e) => e.kind === EventKind.madvise)!;
  assert.deepEqual([m.a, m.b, m.c], [0x7f1b2c6e5000, 0x1000, 4]);
});

test('perf script: subsystem prefixes, swapper, pid/tid form', async () => {
  const { info, events } = await readText(
    '     hw-pingpong 19028 [000]  7275.445885:   sched:sched_process_fork: comm=hw-pingpong pid=19028 child_comm=hw-pingpong child_pid=19030\n' +
    '         swapper     0 [000]  7275.444300:              tlb:tlb_flush: pages:0 reason:flush on task switch (0)\n' +
    '     hw-pingpong 19028/19031 [001]  7275.445900:              tlb:tlb_flush: pages:1 reason:local MM shootdown (3)\n');
  assert.equal(info.format, 'perf');
  assert.equal(info.skippedLines, 0, JSON.stringify(info.skipped));
  assert.deepEqual(events.filter((e) => e.kind === EventKind.observed_flush).map((e) => e.tid), [0, 19031]);
  assert.equal(info.tasks.find((t) => t.tid === 19031)?.tgid, 19028);
});

test('syscalls, IPIs and cpumasks', async () => {
  const { events, info } = await readText(FTRACE_HEADER +
    '  hw-madvthreads-19507   [000] ..... 1.000001: sys_munmap(addr: 0x7fed01f99000, len: 0x97e7)\n' +
    '  hw-madvthreads-19507   [000] ..... 1.000002: sys_mmap(addr: 0, len: 0x2000, prot: 3, flags: 0x22, fd: 0xffffffff, off: 0)\n' +
    '  hw-madvthreads-19507   [000] ..... 1.000003: sys_mprotect(start: 0x7fed01f86000, len: 0x4000, prot: 1)\n' +
    '  hw-madvthreads-19507   [000] ...2. 1.000004: ipi_send_cpu: cpu=1 callsite=on_each_cpu_cond_mask+0x20/0x60 callback=generic_smp_call_function_single_interrupt+0x0/0x10\n' +
    '  hw-madvthreads-19507   [000] ...2. 1.000005: ipi_send_cpumask: cpumask=0-1 callsite=x callback=flush_tlb_func+0x0/0x10\n' +
    '  hw-madvthreads-19507   [000] ...2. 1.000006: csd_queue_cpu: cpu=1 callsite=smp_call_function_many_cond+0x1/0x2 func=flush_tlb_func csd=000000001\n');
  assert.equal(info.skippedLines, 0, JSON.stringify(info.skipped));
  assert.deepEqual(events.filter((e) => e.kind !== EventKind.flush_request).slice(0, 3).map((e) => [e.kind, e.a, e.b, e.c]), [
    [EventKind.munmap, 0x7fed01f99000, 0x97e7, 0], [EventKind.mmap, 0, 0x2000, 3], [EventKind.mprotect, 0x7fed01f86000, 0x4000, 1]]);
  const ipis = events.filter((e) => e.kind === EventKind.observed_ipi);
  assert.deepEqual(ipis.map((e) => [e.a, e.b, e.c]), [[1, 1, IpiKind.real], [0, 1, IpiKind.flushCall], [1, 0, IpiKind.flushCall], [1, 1, IpiKind.flushQueued]]);
  const mk = (s: string) => parseCpuMask(s, 0, s.length);
  assert.deepEqual(mk('0,2-5'), [0, 2, 3, 4, 5]);
  assert.deepEqual(mk('00000000,00000003'), [0, 1]);
  assert.deepEqual(mk('1,00000000'), [32]);
  assert.deepEqual(mk('ff'), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(mk('0-x'), null);
});

test('malformed lines are reported with their line numbers and the rest is read', async () => {
  const { info, events } = await readText(FTRACE_HEADER + SW + '\n' +
    'garbage that is not a trace line\n' +
    '            bash-2039    [000] d..1. 7253.649626: tlb_flush: pages:x reason:local MM shootdown (3)\n' +
    '            bash-2039    [007] d..1. 7253.649627: tlb_flush: pages:1 reason:local MM shootdown (3)\n' +
    '            bash-2039    [000] d..1. 7253.64962: sched_switch: prev_comm=bash prev_pid=2039\n' +
    SW.replace('649616', '649999') + '\r\n');
  assert.equal(info.skippedLines, 4);
  assert.deepEqual(info.skipped.map((s) => s.line), [8, 9, 10, 11]);
  assert.match(info.skipped[0].reason, /not a trace event line/);
  assert.match(info.skipped[1].reason, /pages is not a number/);
  assert.match(info.skipped[2].reason, /CPU 7 is beyond the 2 CPUs/);
  assert.match(info.skipped[3].reason, /sched_switch without/);
  assert.ok(info.skipped.every((s) => s.file.endsWith('.txt')));
  assert.equal(events.filter((e) => e.kind === EventKind.switch).length, 2);
});

test('gzip input reads the same as plain text', async () => {
  const text = FTRACE_HEADER + SW + '\n' + SW.replace('649616', '649617') + '\n';
  const plain = await readText(text);
  const gz = await readText(text, { gzip: true });
  assert.deepEqual(gz.events, plain.events);
});

test('derived flush requests when the trace has no tlb_flush, never both', async () => {
  const lines = FTRACE_HEADER +
    '  hw-madvthreads-19507   [000] ..... 1.000001: sys_madvise(start: 0x7ff31b140000, len_in: 0x1000, behavior: 4)\n' +
    '  hw-madvthreads-19507   [000] ..... 1.000002: sys_madvise(start: 0x7ff31b140000, len_in: 0x1000, behavior: 0xe)\n' +
    '  hw-madvthreads-19507   [000] ..... 1.000003: sys_munmap(addr: 0x7fed01f99000, len: 0x200000)\n' +
    '  hw-madvthreads-19507   [000] ..... 1.000004: sys_mprotect(start: 0x7fed01f86000, len: 0x4000, prot: 1)\n' +
    '  hw-madvthreads-19507   [000] ..... 1.000005: exit_mmap: mt_mod 0000000074add920, DESTROY\n';
  const derived = await readText(lines);
  const reqs = derived.events.filter((e) => e.kind === EventKind.flush_request);
  assert.deepEqual(reqs.map((e) => [flushOrigin(e.c), e.b, (e.c & FlushFlags.FREED_TABLES) !== 0]), [
    [FlushOrigin.derivedMadvise, 1, false], [FlushOrigin.derivedMunmap, 512, true],
    [FlushOrigin.derivedMprotect, 4, false], [FlushOrigin.derivedExit, -1, true]]);
  assert.equal(derived.info.tracedFlushRequests, false);
  // With tlb_flush records, the same syscalls derive nothing: requests come from the records.
  const traced = await readText(lines +
    '  hw-madvthreads-19507   [000] ..... 1.000006: tlb_flush: pages:1 reason:remote IPI send (4)\n' +
    '  hw-madvthreads-19507   [000] d..2. 1.000007: tlb_flush: pages:1 reason:local MM shootdown (3)\n' +
    '  hw-madvthreads-19507   [000] d..2. 1.000008: tlb_flush: pages:1 reason:local MM shootdown (3)\n');
  const treqs = traced.events.filter((e) => e.kind === EventKind.flush_request);
  assert.deepEqual(treqs.map((e) => flushOrigin(e.c)), [FlushOrigin.tracedRemote, FlushOrigin.tracedLocal]);
});

test('syscall arguments are hex without a prefix on kernels up to 6.12', async () => {
  // Recorded on Debian's 6.12 under QEMU (traces/lab/6.12/64cpu/madvstorm): a thread's
  // 8 MiB stack made (mprotect), zapped (madvise) and unmapped, every argument `%lx`.
  const old = FTRACE_HEADER.replace('#P:2', '#P:64') +
    '       madvstorm-599     (    599) [003] ...1.    32.743983: sys_mprotect(start: 7fea2f1d8000, len: 800000, prot: 3)\n' +
    '       madvstorm-670     (    599) [051] ...1.    34.587425: sys_madvise(start: 7fea161a5000, len_in: 7fc000, behavior: 4)\n' +
    '       madvstorm-599     (    599) [000] ...1.    35.543398: sys_munmap(addr: 7fea2f1d7000, len: 801000)\n';
  // The same calls as 6.18 and later print them (values below 10 in decimal).
  const now = old.replace(/(start|len_in|len|addr): ([0-9a-f]{2,})/g, '$1: 0x$2');
  assert.notEqual(now, old);
  for (const text of [old, now]) {
    const { events } = await readText(text);
    const calls = events.filter((e) => e.kind === EventKind.mprotect || e.kind === EventKind.madvise || e.kind === EventKind.munmap);
    assert.deepEqual(calls.map((e) => [e.a, e.b]), [[0x7fea2f1d8000, 0x800000], [0x7fea161a5000, 0x7fc000], [0x7fea2f1d7000, 0x801000]]);
    const reqs = events.filter((e) => e.kind === EventKind.flush_request);
    // 2,044 and 2,049 pages; the munmap covers whole PMDs, so it frees page tables.
    assert.deepEqual(reqs.map((e) => [e.b, (e.c & FlushFlags.FREED_TABLES) !== 0]), [[2048, false], [2044, false], [2049, true]]);
  }
});

test('a reason 4 paired with a reason 2 is a reclaim batch flush of all mms', async () => {
  const { events } = await readText(FTRACE_HEADER +
    '         kswapd0-80      [000] ..... 1.000001: tlb_flush: pages:-1 reason:remote IPI send (4)\n' +
    '         kswapd0-80      [000] d..2. 1.000002: tlb_flush: pages:-1 reason:local shootdown (2)\n');
  const reqs = events.filter((e) => e.kind === EventKind.flush_request);
  assert.equal(reqs.length, 1);
  assert.equal(reqs[0].mm, 0);
  assert.equal(flushOrigin(reqs[0].c), FlushOrigin.tracedBatch);
});
