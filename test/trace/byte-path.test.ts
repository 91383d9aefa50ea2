// ASCII chunks are tokenized from their bytes (line headers, common payloads); everything
// else from the decoded string. Both must read every line the same way: same events,
// same skipped lines with the same reasons and line numbers, same counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { TextIngest } from '../../src/trace/text/ingest.ts';
import { EventStore } from '../../src/trace/store.ts';
import { FTRACE_HEADER } from '../helpers.ts';
import { EventSink } from '../../src/trace/text/sink.ts';
import { TaskTable } from '../../src/trace/tasks.ts';
import { newLineRecord, parseIntactFtraceHeaderBytes } from '../../src/trace/text/headers.ts';
import { execBytes, exitBytes, forkBytes, migrateBytes } from '../../src/trace/text/payloads/process.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Reads `text` in chunks of `chunk` characters, with or without their bytes (`withBytes`
 *  'some': every third chunk without, as the decoder gives a chunk that is not ASCII). */
function read(text: string, withBytes: boolean | 'some', chunk = 4096) {
  const store = new EventStore({ batchSize: 256 });
  const ingest = new TextIngest('t', 'ftrace', store);
  for (let o = 0, k = 0; o < text.length; o += chunk, k++) {
    const piece = text.slice(o, o + chunk);
    ingest.push(piece, withBytes === true || (withBytes === 'some' && k % 3 !== 2) ? Buffer.from(piece, 'latin1') : null);
  }
  ingest.end();
  store.seal();
  const events: number[][] = [];
  for (const b of store.batches()) for (let i = 0; i < b.length; i++) events.push([b.kind[i], b.time[i], b.cpu[i], b.tid[i], b.mm[i], b.a[i], b.b[i], b.c[i]]);
  const { rawCounts, ...result } = ingest.result();
  ingest.tasks.finish();
  return { events, result: { ...result, rawCounts: [...rawCounts] }, tasks: ingest.tasks.tasks(), mms: ingest.tasks.mms() };
}

function same(text: string, what: string): number {
  const fromString = read(text, false), fromBytes = read(text, true);
  assert.deepEqual(fromBytes, fromString, what);
  return fromString.events.length;
}

test('every ftrace and trace-cmd fixture reads the same from bytes as from the string', () => {
  for (const f of ['madvthreads-2/trace.txt.gz', 'forkchurn-tgid/trace.txt.gz', 'forkchurn/trace.txt.gz', 'pingpong-512/trace.txt.gz',
    'build/trace.txt.gz', 'mmapthreads/trace.txt.gz']) {
    const text = gunzipSync(readFileSync(join(ROOT, 'traces/real', f))).toString('latin1');
    assert.ok(same(text, f) > 100, f);
  }
});

test('a trace whose chunks alternate between bytes and strings reads the same (lines straddle both kinds)', () => {
  for (const f of ['madvthreads-2/trace.txt.gz', 'forkchurn-tgid/trace.txt.gz']) {
    const text = gunzipSync(readFileSync(join(ROOT, 'traces/real', f))).toString('latin1');
    for (const chunk of [4096, 333]) {
      assert.deepEqual(read(text, 'some', chunk), read(text, false, chunk), `${f}, chunks of ${chunk}`);
    }
  }
});

test('tlb_flush in every form and damage: the same events and the same reports', () => {
  const head = '     hw-madvthre-4242    [001] d..2.  7253.649616: tlb_flush: ';
  const payloads = [
    'pages:1 reason:remote shootdown (1)', 'pages:-1 reason:flush on task switch (0)', 'pages=-1 reason=local mm shootdown (3)',
    'pages:0 reason:0x5', 'pages:18446744073709551616 reason:remote IPI send (4)', 'pages:35184372088833 reason:x (1)',
    'pages:-2 reason:x (1)', 'pages:1 reason:x (256)', 'pages:1 reason:x (0x3)', 'pages:1 reason:x (0003)', 'pages:1 reason:x ()',
    'pages:1 reason:x (3) ', 'pages:1 reason:x 3)', 'pages: 7 reason:x (2)', 'pages:\t7 reason:x (2)', 'pages:x reason:x (2)',
    'pages:- reason:x (2)', 'pages:1', 'pages:', '', 'pagesX:1 reason:x (1)', ' pages:1 reason:x (1)', 'npages:3 pages:1 reason:x (1)',
    'pages:12abc reason:x (1)', 'pages:1 reason:x (1)(2)', 'pages:-0 reason:x (1)', 'pages:1 reason:x (a)',
  ];
  // Each line alone too (a bad line between good ones is reported under its own number).
  samePayloads(head, 'pages:1 reason:x (1)', payloads, 'tlb_flush');
});

/** Every payload after `head`, all in one trace and each alone after good lines. The
 *  first event lines of a trace wait for a later one to vouch for their timestamps and
 *  are then read from the string (as is that later line): three distinct lines go first
 *  so that every payload is read the way the body of a trace is. */
function samePayloads(head: string, good: string, payloads: string[], what: string): void {
  const lead = FTRACE_HEADER + [0, 1, 2].map((k) => `     hw-madvthre-4242    [001] d..2.  7253.64961${k}: tlb_flush: pages:${k + 1} reason:remote shootdown (1)\n`).join('');
  same(lead + payloads.map((p) => head + p + '\n').join(''), what);
  for (const p of payloads) same(lead + head + p + '\n' + head + good + '\n', `${what}: ${p}`);
}

test('sched_switch in every form and damage: the same events, tasks and reports', () => {
  const head = '     hw-madvthre-4242    [001] d..2.  7253.649616: sched_switch: ';
  const good = 'prev_comm=a prev_pid=4242 prev_prio=120 prev_state=S ==> next_comm=b next_pid=7 next_prio=120';
  samePayloads(head, good, [
    good, 'prev_comm=a b prev_pid=11 prev_prio=120 prev_state=R+ ==> next_comm=c d next_pid=12 next_prio=120',
    'prev_comm=x prev_pid=zz prev_pid=13 prev_prio=120 prev_state=R ==> next_comm=y next_pid=14 next_prio=120',
    'prev_comm=x prev_pid=15 prev_prio=120 prev_state=D ==> next_comm=y next_pid=9 next_pid=16 next_prio=120',
    'prev_comm=x prev_pid=17 prev_prio=-51 prev_state=X ==> next_comm=y next_pid=18 next_prio=-1',
    'prev_comm=x prev_pid=19 prev_prio= prev_state=Z ==> next_comm=y next_pid=20 next_prio=120',
    'prev_comm=x prev_pid=21 prev_prio=120 prev_state=D|K ==> next_comm=y next_pid=22 next_prio=120',
    'prev_comm=x prev_pid=23 prev_prio=120 prev_state=I ==> next_comm=y next_pid=24',
    'prev_comm=x prev_pid=25 prev_prio=120 prev_state= ==> next_comm=y next_pid=26 next_prio=120',
    'prev_comm=x prev_pid=27 prev_prio=120 prev_state= S ==> next_comm=y next_pid=28 next_prio=120',
    'prev_comm=x prev_pid=29 prev_prio=120 prev_state=\tS ==> next_comm=y next_pid=30 next_prio=120',
    'prev_comm=x prev_pid=31 prev_prio=120 prev_state=S  ==> next_comm=y next_pid=32 next_prio=120',
    'prev_comm=x prev_pid=33 prev_prio=120 prev_state=S x ==> next_comm=y next_pid=34 next_prio=120',
    'prev_comm=x prev_pid=35 prev_prio=120 prev_state=S ==> next_comm=y next_pid= next_prio=120',
    'prev_comm=x prev_pid=36 prev_prio=120 prev_state=S ==> next_comm=y next_prio=120',
    'prev_comm=x prev_pid=abc prev_prio=120 prev_state=S ==> next_comm=y next_pid=37 next_prio=120',
    'prev_comm=x prev_pid=4194304 prev_prio=120 prev_state=S ==> next_comm=y next_pid=38 next_prio=120',
    'prev_comm=x prev_pid=39 prev_prio=120 prev_state=S ==> next_comm=y next_pid=4194304 next_prio=120',
    'prev_comm=x prev_pid=40 prev_prio=120 prev_state=S ==> next_comm=y next_pid=41x next_prio=120',
    'prev_comm=x prev_pid=42prev_prio=120 prev_state=S ==> next_comm=y next_pid=43 next_prio=120',
    'prev_comm= prev_pid=44 prev_prio=120 prev_state=S ==> next_comm= next_pid=45 next_prio=120',
    'prev_comm=x prev_pid=4242 prev_prio=120 prev_state=S ==> next_comm=y next_pid=0 next_prio=120',
    'x:46 [120] S ==> y:47 [120]', 'prev_comm=x', '', 'prev_comm=x prev_pid=48 prev_prio=120 prev_state=S ==>',
  ], 'sched_switch');
});

test('ipi_send_cpu in every form and damage: the same events and reports', () => {
  const head = '     hw-madvthre-4242    [001] d..2.  7253.649616: ipi_send_cpu: ';
  const good = 'cpu=1 callsite=on_each_cpu_cond_mask+0x20/0x60 callback=generic_smp_call_function_single_interrupt+0x0/0x10';
  samePayloads(head, good, [
    good, 'cpu=0 callsite=smp_call_function_many_cond+0x1/0x2 callback=flush_tlb_func+0x0/0x100',
    'cpu=1 callsite=x callback=do_nothing+0x0/0x10', 'cpu=1 callsite=x', 'cpu=1', 'cpu:1 callsite=x callback:flush_tlb_func',
    'cpu=0x1 callsite=x callback=flush_tlb_func', 'cpu=12a callsite=x callback=flush_tlb_func', 'cpu=-1 callsite=x',
    'cpu= 1 callsite=x callback=flush_tlb_func', 'cpu=\t1 callsite=x callback=flush_tlb_func', 'cpu=4096 callsite=x',
    'cpus=1 cpu=1 callsite=x', 'cpu=1,callback=flush_tlb_func', 'cpu=1 callsite=x xcallback=flush_tlb_func callback=generic_smp_x',
    'cpu=1 callsite=x callback =flush_tlb_func', 'cpu=1 callsite=(callback:flush_tlb_func) callback=generic_smp_call_function',
    'cpu=1 callsite=x callback=  flush_tlb_func', 'cpu=1 callsite=x callback=', 'cpu=', '', 'cpu=1 callsite=x callbacks=flush_tlb_func',
  ], 'ipi_send_cpu');
});

test('csd_queue_cpu in every form and damage: the same events, unused counts and reports', () => {
  const head = '     hw-madvthre-4242    [001] d..2.  7253.649616: csd_queue_cpu: ';
  const good = 'cpu=0 callsite=on_each_cpu_cond_mask+0x20/0x60 func=flush_tlb_func csd=00000000954f0819';
  samePayloads(head, good, [
    good, 'cpu=1 callsite=x func=do_nothing csd=0', 'cpu:1 callsite=x func:flush_tlb_func', 'cpu=1 func=flush_tlb_func',
    'cpu=0x1 callsite=x func=flush_tlb_func', 'cpu=12a callsite=x func=flush_tlb_func', 'cpu=-1 callsite=x func=flush_tlb_func',
    'cpu= 1 callsite=x func= flush_tlb_func', 'cpu=4096 callsite=x func=flush_tlb_func', 'cpu=1 callsite=x', 'cpu=1 callsite=x func=',
    'cpu=1 callsite=x xfunc=flush_tlb_func func=other', 'cpu=1 callsite=(func:flush_tlb_func) func=other', 'cpu=1 funcs=flush_tlb_func',
    'cpu=1 callsite=x func =flush_tlb_func', 'cpu=1 callsite=x func', 'cpus=1 cpu=1 func=flush_tlb_func', 'cpu=', '',
    'callsite=x cpu=1 func=flush_tlb_func', 'cpu=1,func=flush_tlb_func', 'cpu=1 callsite=x func=flush_tlb_funcs',
  ], 'csd_queue_cpu');
});

test('munmap, madvise, mprotect and mmap in every form and damage: the same events and reports', () => {
  const at = '     hw-madvthre-4242    [001] d..2.  7253.649616: ';
  const lines = [
    'sys_munmap(addr: 0x7fed01f99000, len: 0x97e7)', 'sys_madvise(start: 0x7ff31b140000, len_in: 0x1000, behavior: 4)',
    'sys_madvise(start: 0x1000, len: 0x1000, behavior: 4)', 'sys_madvise(start: 0x1000, len_in: 0x1000, behavior: 0x8)',
    'sys_madvise(start: 0x1000, len_in: 0x1000, behavior: -1)', 'sys_madvise(start: 0x1000, len_in: 0x1000, behavior: 4a)',
    'sys_madvise(start: 0x1000, len_in: 0x, behavior: 4)', 'sys_madvise(start: 0x1000, len_in: 0x1000)',
    'sys_madvise(start:0x1000,len_in:0x1000,behavior:4)', 'sys_madvise(start: 0x1000, start: 0x2000, len_in: 0x1000, behavior: 4)',
    'sys_madvise(start: 0x1000, len: 0x3000, len_in: 0x1000, behavior: 4)', 'sys_madvise(start= 0x1000, len_in= 0x1000, behavior= 4)',
    'sys_mprotect(start: 0x1000, len: 0x2000, prot: 0x1)', 'sys_mprotect(start: 0x1000, len: 0x2000)',
    'sys_mmap(addr: 0x0, len: 0x1000, prot: 0x3, flags: 0x22, fd: 0xffffffffffffffff, off: 0x0)',
    'sys_munmap(addr: 0x1000, len: 0x2000 junk)', 'sys_munmap(len: 0x2000, addr: 0x1000)', 'sys_munmap(addr : 0x1000, len: 0x2000)',
    'sys_munmap(addr: 0x1000, len: 99999999999999999999999)', 'sys_munmap(addr: 0x1000, len: 0xFFFFFFFFFFFFFFFFFF)',
    'sys_munmap(addr: 7fed01f99000, len: 97e7)', 'sys_munmap(addr: 0x1000, len: 0x2000, )', 'sys_munmap(addr: 0x1000,, len: 0x2000)',
    'sys_munmap(addr: 0x1000, xlen: 0x5, len: 0x2000)', 'sys_munmap(addr: 0x1000, len: -0)', 'sys_munmap(addr: 0x1000 len: 0x2000)',
    'sys_munmap(addr: 0x1000, len:\t0x2000)', 'sys_munmap()', 'sys_munmap', 'sys_munmap(addr: 0x1000, len: 0x2000', 'sys_munmap(addr: 0X1000, len: 0X2a)',
    'sys_enter_munmap: addr: 0x1000, len: 0x2000', 'sys_enter_madvise: start: 0x1000, len_in: 0x1000, behavior: 4',
    'sys_enter_: addr: 0x1000', 'sys_exit_munmap(0x0)', 'sys_enter_mmap: addr: 0x0, len: 0x1000, prot: 0x3',
    'sys_mremap(addr: 0x1000, old_len: 0x1000)', 'sys_munmap(addr: 0x1000, len: 0x2000, len: 0x3000, addr: 0x5000)',
  ];
  samePayloads(at, lines[0], lines, 'syscalls');
});

/** Every lifetime line of a recorded trace: migrate, fork, exec and exit, as the kernel printed them. */
function lifetimeLines(file: string): string[] {
  const text = gunzipSync(readFileSync(join(ROOT, file))).toString('latin1');
  return text.split('\n').filter((l) => / sched_(process_(fork|exec|exit)|migrate_task): /.test(l));
}

const LAB_FORKEXEC = ['6.1/2cpu', '6.1/32cpu', '6.12/2cpu', '6.12/64cpu', '7.3/4cpu', '7.3/64cpu'].map((d) => `traces/lab/${d}/forkexec.txt.gz`);

test('recorded fork/exec traces (tgid column, 6.1 to 7.3) read the same from bytes as from the string', () => {
  for (const f of LAB_FORKEXEC) {
    const text = gunzipSync(readFileSync(join(ROOT, f))).toString('latin1');
    assert.ok(same(text, f) > 100, f);
    assert.deepEqual(read(text, 'some', 333), read(text, false, 333), `${f}, alternating chunks`);
  }
});

test('the byte readers read every recorded lifetime line themselves (none handed to the string form)', () => {
  const lines = [...lifetimeLines('traces/real/forkchurn/trace.txt.gz'), ...LAB_FORKEXEC.flatMap(lifetimeLines)];
  assert.ok(lines.length > 1000);
  const readers = { sched_process_fork: forkBytes, sched_process_exec: execBytes, sched_process_exit: exitBytes, sched_migrate_task: migrateBytes };
  const sink = new EventSink(new EventStore({ batchSize: 256 }), new TaskTable());
  const r = newLineRecord();
  for (const line of lines) {
    const b = Buffer.from(line + '\n', 'latin1');
    assert.ok(parseIntactFtraceHeaderBytes(b, 0, line.length, r), line);
    const name = b.toString('latin1', r.nameStart, r.nameEnd) as keyof typeof readers;
    assert.ok(readers[name](sink, b, r, r.payloadStart, r.payloadEnd), line);
  }
});

test('fork, exec, exit and migrate, recorded and hostile: the same events, tasks and reports', () => {
  const at = '     hw-madvthre-4242    [001] d..2.  7253.649616: ';
  const recorded = ['traces/real/forkchurn/trace.txt.gz', 'traces/lab/6.12/64cpu/forkexec.txt.gz'].flatMap(lifetimeLines)
    .map((l) => l.slice(l.indexOf(': sched_') + 2));
  const digits = '9'.repeat(400);
  const fork = (p: string) => `sched_process_fork: ${p}`, exec = (p: string) => `sched_process_exec: ${p}`;
  const exit = (p: string) => `sched_process_exit: ${p}`, migrate = (p: string) => `sched_migrate_task: ${p}`;
  const hostile = [
    fork('comm=record.sh pid=4242 child_comm=record.sh child_pid=4243'), fork('comm=a b pid=5 child_comm=c d child_pid=6'),
    fork('comm=a) pid=7 child_comm=(c) child_pid=8'), fork('comm=x=y pid=9 child_comm=a=b child_pid=10'),
    fork('comm=x pid=11 child_comm=y pid=12 child_comm=z child_pid=13'), fork('comm=comm=x pid=14 child_comm=comm=y child_pid=15'),
    fork('comm=x pid=16 child_comm=y child_pid=17 child_pid=18'), fork(`comm=x pid=${digits} child_comm=y child_pid=19`),
    fork(`comm=x pid=20 child_comm=y child_pid=${digits}`), fork('comm=x pid=21 child_comm=y child_pid=4194304'),
    fork('comm=x pid=22 child_comm=y child_pid=4194303'), fork('comm=x pid=23 child_comm=y child_pid='),
    fork('comm=x pid=24 child_comm=y child_pid=abc'), fork('comm=x pid=25 child_comm=y child_pid=26x'),
    fork('comm=x pid= child_comm=y child_pid=27'), fork('comm=x pid=28x child_comm=y child_pid=29'), fork('comm=x child_comm=y child_pid=30'),
    fork('comm=x pid=31 child_pid=32'), fork('comm=x pid=33 child_comm=y'), fork(''), fork('pid=34 child_comm=y child_pid=35'),
    fork('x y pid=36 child_comm=y child_pid=37'), fork('comm=x pid=38 child_comm= child_pid=39'), fork('comm=x pid=40 child_comm=y child_pid=\t41'),
    fork('comm=x pid=4242 child_comm=y child_pid=4242'), fork('comm=kthreadd pid=2 child_comm=kworker/0:1 child_pid=42'),
    fork('comm=swapper/0 pid=0 child_comm=init child_pid=1'), fork('comm=x pid=43child_comm=y child_pid=44'),
    'sched_process_fork(comm=x pid=45 child_comm=y child_pid=46)', 'sched_process_fork(comm=x pid=47 child_comm=y child_pid=48  )',
    exec('filename=./forkchurn.sh pid=4242 old_pid=4242'), exec('filename=/usr/bin/date pid=50 old_pid=50'),
    exec('filename=/a b pid=51 c pid=52 old_pid=52'), exec('filename=/x old_pid=1 pid=53 old_pid=53'), exec('filename=/x pid=54'),
    exec('filename=/x old_pid=55'), exec('filename=/x pid=abc old_pid=56'), exec('filename=/x pid=4194304 old_pid=4194304'),
    exec(`filename=/x pid=${digits} old_pid=1`), exec('filename=/x)( pid=57 old_pid=57'), exec('filename= pid=58 old_pid=58'), exec(''),
    exec('filename=/x pid=59old_pid=59'), exec('filename=/x pid=95 old_pid=95 pid=96'), exit('comm=x pid=97 prio=120 group_dead=true pid=98'), exec('filename=/x=pid=60 old_pid=60'), exec('filename=/x pid=4242 old_pid=61'),
    exit('comm=dirname pid=62 prio=120 group_dead=true'), exit('comm=x pid=63 prio=120 group_dead=false'),
    exit('comm=x pid=64 prio=120 group_dead=1'), exit('comm=x pid=65 prio=120 group_dead=0'), exit('comm=x pid=66 prio=120 group_dead='),
    exit('comm=x pid=67 prio=120 group_dead=tru'), exit('comm=x pid=68 prio=120 group_dead=maybe'), exit('comm=x pid=69 prio=120 group_dead=trueish'),
    exit('comm=x pid=70 prio=120'), exit('comm=a b pid=4242 prio=120 group_dead=false'), exit('comm=x group_dead=true pid=71 prio=120 group_dead=false'),
    exit('comm=x pid=72 prio=120 group_dead=t'), exit('comm=x pid=73 prio=120 group_dead=fals'), exit('comm=x prio=120 group_dead=true'),
    exit(`comm=x pid=${digits} prio=120 group_dead=true`), exit('comm=x pid=4194304 prio=120 group_dead=true'), exit('comm=x) pid=74 prio=120 group_dead=true'),
    'sched_process_exit(comm=x pid=75 prio=120 group_dead=tru)', 'sched_process_exit(comm=x pid=76 prio=120 group_dead=)',
    'sched_process_exit(comm=x pid=77 prio=120 group_dead=true)', exit('comm=x pid=78 prio=120 group_dead=true '), exit(''),
    migrate('comm=rcu_preempt pid=15 prio=120 orig_cpu=0 dest_cpu=1'), migrate('comm=a b pid=79 prio=120 orig_cpu=0 dest_cpu=1'),
    migrate('comm=x pid=80 prio=120 orig_cpu=4096 dest_cpu=1'), migrate('comm=x pid=81 prio=120 orig_cpu=0 dest_cpu=4096'),
    migrate('comm=x pid=82 prio=120 orig_cpu=4095 dest_cpu=4095'), migrate('comm=x pid=83 prio=120 orig_cpu=a dest_cpu=1'),
    migrate('comm=x pid=84 prio=120 dest_cpu=1 orig_cpu=0'), migrate('comm=x pid=85 prio=120 orig_cpu=0'), migrate('comm=x pid=86 prio=120 dest_cpu=0'),
    migrate('comm=pid=3 pid=87 prio=120 orig_cpu=0 dest_cpu=1'), migrate('comm= pid=88 prio=120 orig_cpu=0 dest_cpu=1'),
    migrate('comm=x pid=89 prio=120 orig_cpu=0 dest_cpu=1 pid=90'), migrate('comm=x orig_cpu=1 pid=91 prio=120 orig_cpu=0 dest_cpu=1'),
    migrate(`comm=x pid=${digits} prio=120 orig_cpu=0 dest_cpu=1`), migrate(`comm=x pid=92 prio=120 orig_cpu=${digits} dest_cpu=1`),
    migrate('comm=x prio=120 orig_cpu=0 dest_cpu=1'), migrate('comm=x pid=4242 prio=120 orig_cpu=1 dest_cpu=0'), migrate('comm=x=) pid=93 prio=120 orig_cpu=1 dest_cpu=0'),
    migrate('comm=x pid=94 prio=120 orig_cpu=1 dest_cpu=0x1'), migrate(''),
    // Names of the same length that are not lifetime events: counted as unused, both ways.
    'sched_process_free: comm=x pid=99 prio=120', 'sched_process_wait: comm=x pid=100 prio=120', 'sched_process_exex: comm=x pid=101',
    'sched_process_forx: comm=x pid=102 child_comm=y child_pid=103', 'sched_migrate_tasx: comm=x pid=104 prio=120 orig_cpu=0 dest_cpu=1',
  ];
  samePayloads(at, fork('comm=x pid=4242 child_comm=y child_pid=4244'), [...recorded, ...hostile], 'lifetime events');
});
