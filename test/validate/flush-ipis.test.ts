// Which recorded IPIs carried a TLB flush: told by order, not by time or callback names.
// Since 6.5 every ipi_send_* prints callback=generic_smp_call_function_single_interrupt;
// a TCG guest with 32 vCPUs prints the steps of one cross-call tens of µs apart. The lines
// below have the shape of a 6.12 guest's (callsite offsets of that build, a two-word
// cpumask).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openInput } from '../../src/inputs.ts';
import { replay } from '../../src/replay/index.ts';
import { tempFile } from '../helpers.ts';

const HEADER = `# tracer: nop
#
# entries-in-buffer/entries-written: 40/40   #P:32
#
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
`;
const line = (cpu: number, t: number, body: string, task = 'madvstorm-101') =>
  `${task.padStart(16)} [${String(cpu).padStart(3, '0')}] d..2.   ${(100 + t / 1e6).toFixed(6)}: ${body}`;
const SEND4 = 'tlb_flush: pages:1 reason:remote send IPI (4)';
const LOCAL3 = 'tlb_flush: pages:1 reason:local MM shootdown (3)';
const csd = (cpu: number) => `csd_queue_cpu: cpu=${cpu} callsite=on_each_cpu_cond_mask+0x24/0x40 func=flush_tlb_func csd=00000000a1b2c3d4`;
const MASK = 'ipi_send_cpumask: cpumask=00000000,0fbfa5e9 callsite=on_each_cpu_cond_mask+0x24/0x40 callback=generic_smp_call_function_single_interrupt+0x0/0x20';
const TTWU = 'ipi_send_cpu: cpu=5 callsite=ttwu_queue_wakelist+0x11d/0x150 callback=generic_smp_call_function_single_interrupt+0x0/0x20';
// cpus of 0x0fbfa5e9 other than the sender (3 is not in it): 0 3 5 6 7 8 10 13 15 16 17 18 19 20 21 23 24 25 26 27
const TARGETS = [0, 3, 5, 6, 7, 8, 10, 13, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25, 26, 27];

async function observed(text: string) {
  const input = await openInput(tempFile(text));
  try {
    const [r] = await replay(input, { strategies: ['linux-6.12'], workers: 1 });
    return { sends: r.observed.flushIpiSends, targets: r.observed.flushIpiTargets, allSends: r.observed.ipiSends };
  } finally { input.close(); }
}

test('a flush send 300 µs after its reason-4 record is the flush\'s; a wake-up IPI after the local flush is not', async () => {
  const sender = 1;
  const lines = [
    line(sender, 0, SEND4),
    line(sender, 300_000, MASK), //              a slow guest: 300 µs later, still the flush's
    line(sender, 310_000, LOCAL3), //            the initiator's own flush_tlb_func: the call is over
    line(sender, 320_000, TTWU), //              a wake-up, not a flush
    line(sender, 400_000, SEND4), //             a flush whose targets were all lazy: no send ...
    line(sender, 410_000, LOCAL3),
    line(sender, 420_000, TTWU), //              ... so this wake-up is not its send either
  ];
  const o = await observed(HEADER + lines.join('\n') + '\n');
  assert.deepEqual(o, { sends: 1, targets: TARGETS.filter((c) => c !== sender).length, allSends: 3 });
});

test('with csd_queue_cpu recorded, only the targets queued in this call count, however far apart', async () => {
  const sender = 2;
  const queued = TARGETS.slice(0, 12); // the others had a non-empty queue (no IPI for them) ...
  const lines = [line(sender, 0, SEND4)];
  queued.forEach((c, k) => lines.push(line(sender, 50_000 + k * 40_000, csd(c))));
  lines.push(line(sender, 900_000, MASK)); // ... yet the mask names all 20: only 12 were queued here
  lines.push(line(sender, 950_000, LOCAL3), line(sender, 960_000, TTWU));
  const o = await observed(HEADER + lines.join('\n') + '\n');
  assert.deepEqual(o, { sends: 1, targets: queued.length, allSends: 2 });
});

test('6.1 (no ipi:* events): a call_function*_entry whose handler printed a flush is a flush IPI received', async () => {
  const entry = 'call_function_entry: vector=251', single = 'call_function_single_entry: vector=251';
  const R1 = 'tlb_flush: pages:-1 reason:remote shootdown (1)';
  const lines = [
    line(4, 0, SEND4, 'madvstorm-105'),
    line(4, 10_000, LOCAL3, 'madvstorm-105'),
    line(5, 20_000, entry, '<idle>-0'), line(5, 21_000, R1, '<idle>-0'), //      a flush IPI
    line(6, 30_000, single, 'madvstorm-106'), line(6, 31_000, R1, 'madvstorm-106'), // a flush IPI
    line(7, 40_000, single, '<idle>-0'), //                                         a wake-up: no flush follows
    line(7, 41_000, 'sched_switch: prev_comm=swapper/7 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=madvstorm next_pid=107 next_prio=120', '<idle>-0'),
    line(7, 42_000, R1, 'madvstorm-107'), //                                       not the wake-up's
  ];
  const input = await openInput(tempFile(HEADER + lines.join('\n') + '\n'));
  try {
    const [r] = await replay(input, { strategies: ['linux-6.1'], workers: 1 });
    assert.equal(r.observed.irqs, 3);
    assert.equal(r.observed.flushIrqs, 2);
  } finally { input.close(); }
});
