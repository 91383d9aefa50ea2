// A long ftrace text with the real line shapes of traces/real, in a realistic mix:
// context switches among a few processes, flushes of every reason, IPIs, madvise.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export async function generateFtraceText(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  out.write('# tracer: nop\n#\n# entries-in-buffer/entries-written: 0/0   #P:2\n#\n');
  let t = 1_000_000_000, written = 0, i = 0;
  const comms = ['hw-madvthreads', 'record.sh', 'kworker/u4:1', 'pingpong', 'make'];
  let chunk = '';
  while (written < bytes) {
    const cpu = i & 1, pid = 1000 + (i % 5), comm = comms[i % 5];
    const head = `${comm.padStart(16)}-${String(pid).padEnd(7)}(${String(pid).padStart(7)}) [00${cpu}] d..2. ${Math.floor(t / 1e6)}.${String(t % 1e6).padStart(6, '0')}: `;
    let line: string;
    switch (i % 8) {
      case 0: case 4: {
        const next = 1000 + ((i + 1) % 5);
        line = `sched_switch: prev_comm=${comm} prev_pid=${pid} prev_prio=120 prev_state=S ==> next_comm=${comms[(i + 1) % 5]} next_pid=${next} next_prio=120`;
        break;
      }
      case 1: line = 'tlb_flush: pages:-1 reason:flush on task switch (0)'; break;
      case 2: line = 'tlb_flush: pages:1 reason:remote IPI send (4)'; break;
      case 3: line = 'ipi_send_cpu: cpu=1 callsite=on_each_cpu_cond_mask+0x20/0x60 callback=generic_smp_call_function_single_interrupt+0x0/0x10'; break;
      case 5: line = 'tlb_flush: pages:1 reason:local MM shootdown (3)'; break;
      case 6: line = 'sys_madvise(start: 0x7ff31b140000, len_in: 0x1000, behavior: 4)'; break;
      default: line = 'tlb_flush: pages:1 reason:remote shootdown (1)';
    }
    chunk += head + line + '\n';
    if (chunk.length > 1 << 20) { written += chunk.length; if (!out.write(chunk)) await once(out, 'drain'); chunk = ''; }
    t += 3; i++;
  }
  out.write(chunk);
  out.end();
  await once(out, 'finish');
}
