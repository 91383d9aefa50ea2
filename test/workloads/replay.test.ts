// Each workload replayed under the strategies whose difference it exists to show: the
// mechanism (who gets IPIs, who refills, who keeps refcounts), not absolute times.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openInput } from '../../src/inputs.ts';
import { replay, type RunResult } from '../../src/replay/index.ts';
import { STRATEGY_NAMES, resolveStrategy } from '../../src/strategies/index.ts';
import { EventKind } from '../../src/trace/event.ts';
import { collect, ofKind } from './helpers.ts';

async function run(spec: string, strategies: readonly string[]): Promise<Record<string, RunResult>> {
  const input = await openInput(spec);
  const results = await replay(input, { strategies: [...strategies], workers: 1 });
  const out: Record<string, RunResult> = {};
  for (const r of results) out[r.strategy.name] = r;
  return out;
}

const NO_PCID = ['linux-4.13', 'linux-4.14-nopcid'];
const PCID = ['pcid-v4-posted', 'linux-4.14', 'linux-4.20', 'linux-5.13', 'linux-6.18'];

describe('ping-pong replay', () => {
  it('512 pages: ~1024 TLB misses per round trip without PCID, ~0 with', async () => {
    const n = 200;
    const res = await run(`workload:ping-pong:pages=512,iterations=${n}`, [...NO_PCID, ...PCID]);
    for (const name of NO_PCID) {
      const m = res[name].metrics;
      // n measured round trips + the warm-up one, each refilling both sides' 512 pages.
      assert.equal(m.tlb_misses, (n + 1) * 1024, name);
      assert.ok(m.cr3_flushes >= 2 * (n + 1), `${name}: every switch flushes`);
    }
    for (const name of PCID) {
      const m = res[name].metrics;
      assert.equal(m.tlb_misses, 1024, `${name}: only the first touches of each side walk`);
      assert.ok(m.cr3_flushes <= 4, `${name}: both mms keep their PCID (2 of 6 slots)`);
    }
    assert.ok(res['linux-4.13'].metrics.iteration_ns > res['linux-4.14'].metrics.iteration_ns + 1024 * 3,
      'the refills lengthen the round trip');
  });
});

describe('ping-pong without pages', () => {
  it('a synthetic trace declares its accesses: no implicit working set, so no refills', async () => {
    const res = await run('workload:ping-pong:pages=0,iterations=100', ['linux-4.13', 'linux-4.14']);
    assert.equal(res['linux-4.13'].metrics.tlb_misses, 0);
    assert.ok(res['linux-4.13'].metrics.cr3_flushes >= 200, 'the switches still flush');
    assert.ok(!res['linux-4.13'].notes.some((n) => n.includes('workingSetPages')), 'no working-set assumption noted');
    const p = (await import('../../src/machine/profiles.ts')).getProfile();
    const delta = res['linux-4.13'].metrics.iteration_ns - res['linux-4.14'].metrics.iteration_ns;
    assert.ok(Math.abs(delta - 2 * p.cr3FlushExtraNs) < 20, `unpatched pays the flushing CR3 writes only: ${delta}`);
  });
});

describe('madv-dontneed-switch replay', () => {
  it('unpatched IPIs the idle previous CPU every iteration; PCID and later kernels do not', async () => {
    const n = 200;
    const res = await run(`workload:madv-dontneed-switch:iterations=${n}`, ['linux-4.13', 'linux-4.14-nopcid', 'pcid-v4-posted', 'linux-4.14', 'linux-4.20', 'linux-6.18']);
    for (const name of ['linux-4.13', 'linux-4.14-nopcid']) {
      const m = res[name].metrics;
      assert.equal(m.ipis_sent, n, `${name}: one IPI per madvise`);
      assert.equal(m.ipis_to_idle, n, `${name}: always to the idle CPU`);
      assert.equal(m.ipis_to_lazy, n, `${name}: which is lazy on the mm`);
    }
    assert.equal(res['pcid-v4-posted'].metrics.ipis_sent, 0, 'posted series: the lazy CPU left mm_cpumask');
    assert.equal(res['linux-4.14'].metrics.ipis_sent, 0, '4.14 with PCID: the idle CPU switched to init_mm');
    for (const name of ['linux-4.20', 'linux-6.18']) {
      assert.ok(res[name].metrics.ipis_sent <= 1, `${name}: lazy CPUs are skipped unless tables are freed (only the exit flush reaches one)`);
    }
    assert.ok(res['linux-4.13'].metrics.iteration_ns > res['linux-4.14'].metrics.iteration_ns, 'the IPI costs the initiator');
  });
});

describe('madv-threads replay', () => {
  it('linux-5.13: one IPI per iteration to each busy thread', async () => {
    const n = 300, threads = 4;
    const res = await run(`workload:madv-threads:threads=${threads},cpus=${threads},iterations=${n}`, ['linux-5.13']);
    const r = res['linux-5.13'];
    assert.ok(r.metrics.ipis_sent >= (threads - 1) * n && r.metrics.ipis_sent <= (threads - 1) * (n + 2), `${r.metrics.ipis_sent}`);
    for (let cpu = 1; cpu < threads; cpu++) {
      assert.ok(r.perCpu.ipis_received[cpu] >= n, `CPU ${cpu} handles every flush`);
    }
    assert.equal(r.perCpu.ipis_received[0], 0, 'the initiator flushes itself locally');
  });

  it('linux-6.15-invlpgb: no IPIs once the mm has a global ASID, only INVLPGB + TLBSYNC', async () => {
    // Long enough (~50 ms) for consider_global_asid's (pid & 31) == (jiffies & 31) to hit.
    const n = 16000, threads = 4;
    const res = await run(`workload:madv-threads:threads=${threads},cpus=${threads},iterations=${n}`, ['linux-6.15-invlpgb']);
    const r = res['linux-6.15-invlpgb'];
    const m = r.metrics;
    assert.equal(m.global_asids, 1);
    assert.ok(m.tlbsyncs > m.flush_requests / 2, 'most flushes are broadcasts');
    // Every flush is either an IPI round to the 3 busy CPUs or a broadcast, except while
    // the mm is in ASID transition: v6.15 broadcast_tlb_flush() first calls
    // finish_asid_transition(), which still IPIs the CPUs not yet on the global ASID, so
    // those few requests do both (two of them in this run).
    const transitionRounds = 4;
    assert.ok(m.ipis_sent <= (threads - 1) * (m.flush_requests - m.broadcast_flushes + transitionRounds), `${m.ipis_sent} IPIs`);
    assert.ok(m.ipis_sent >= (threads - 1) * (m.flush_requests - m.broadcast_flushes - threads), `${m.ipis_sent} IPIs`);
    const ipis = r.timeline.metrics.ipis_sent;
    const lastQuarter = ipis.slice(Math.floor(ipis.length * 0.75), ipis.length - 2);
    assert.equal(lastQuarter.reduce((a, b) => a + b, 0), 0, 'no IPIs late in the run');
    assert.equal(m.coherence_violations, 0);
  });
});

describe('ptwalk-sync replay', () => {
  const spec = 'workload:ptwalk-sync:iterations=100,cpus=8,walkers=2,busy=2';

  it('broadcast sync (6.15+) reaches every other CPU; the targeted series only walking CPUs', async () => {
    const { events } = await collect(spec);
    const syncs = ofKind(events, EventKind.pt_sync).length;
    assert.ok(syncs > 0);
    const res = await run(spec, ['linux-5.13', 'linux-6.18', 'ptsync-targeted']);
    assert.equal(res['linux-5.13'].metrics.pt_sync_ipis, 0, 'a no-op on bare-metal x86 before RCU table freeing became unconditional');

    const broadcast = res['linux-6.18'];
    assert.equal(broadcast.metrics.pt_sync_ipis, 7 * syncs, 'all online CPUs but the caller');
    assert.ok(broadcast.metrics.ipis_to_nonwalkers >= 5 * syncs, 'busy and idle CPUs are never walking');

    const targeted = res['ptsync-targeted'];
    assert.equal(targeted.metrics.ipis_to_nonwalkers, 0);
    assert.ok(targeted.metrics.pt_sync_ipis > 0 && targeted.metrics.pt_sync_ipis <= 2 * syncs, 'at most the two walkers per sync');
    // Non-walking CPUs only see the few flush IPIs of teardown (lazy CPUs when an mm dies).
    for (const cpu of [3, 4, 5, 6, 7]) {
      assert.ok(targeted.perCpu.ipis_received[cpu] <= 3, `CPU ${cpu} is left alone: ${targeted.perCpu.ipis_received[cpu]}`);
      assert.ok(broadcast.perCpu.ipis_received[cpu] >= syncs, `CPU ${cpu} gets every broadcast sync`);
    }
    assert.equal(broadcast.metrics.coherence_violations + targeted.metrics.coherence_violations, 0);
  });
});

describe('pthread-mmap replay', () => {
  it('the freed-tables munmap reaches lazy CPUs except under PCID laziness; skipping them is unsafe', async () => {
    const res = await run('workload:pthread-mmap:rounds=5', ['linux-4.13', 'pcid-v4-posted', 'linux-4.14', 'linux-4.20', 'linux-6.18']);
    for (const name of ['linux-4.13', 'linux-4.20', 'linux-6.18']) {
      assert.ok(res[name].metrics.ipis_to_lazy > 0, `${name} IPIs lazy CPUs when page tables are freed`);
      assert.equal(res[name].metrics.coherence_violations, 0, name);
    }
    assert.equal(res['linux-4.14'].metrics.ipis_sent, 0, '4.14 with PCID: idle CPUs left the mm at once');
    assert.equal(res['linux-4.14'].metrics.coherence_violations, 0);
    assert.equal(res['pcid-v4-posted'].metrics.ipis_sent, 0);
    assert.ok(res['pcid-v4-posted'].violations.first.some((v) => v.kind === 'freed-tables-walk'),
      'the posted series leaves lazy CPUs on freed page tables');
  });
});

describe('wis-tlb-flush2 replay', () => {
  it('threads: every DONTNEED cross-calls the other threads\' CPUs; processes: local flushes only', async () => {
    const n = 256, tasks = 4;
    const threads = (await run(`workload:wis-tlb-flush2:mode=threads,tasks=${tasks},iterations=${n}`, ['linux-6.18']))['linux-6.18'];
    const processes = (await run(`workload:wis-tlb-flush2:mode=processes,tasks=${tasks},iterations=${n}`, ['linux-6.18']))['linux-6.18'];
    assert.ok(threads.metrics.csd_queued >= (tasks - 1) * tasks * n, `${threads.metrics.csd_queued} cross-calls`);
    assert.equal(processes.metrics.csd_queued, 0);
    assert.equal(processes.metrics.ipis_sent, 0);
    assert.ok(processes.metrics.page_flushes >= tasks * n, 'each DONTNEED is a local INVLPG');
    assert.ok(threads.metrics.iteration_ns > processes.metrics.iteration_ns);
  });
});

describe('wis-context-switch1 replay', () => {
  it('threads: every switch to idle borrows the mm (mm_count atomics) unless lazy users are shot down', async () => {
    const n = 300;
    const res = await run(`workload:wis-context-switch1:mode=threads,tasks=2,iterations=${n}`, ['linux-4.13', 'linux-6.18', 'lazy-shootdown']);
    for (const name of ['linux-4.13', 'linux-6.18']) {
      const m = res[name].metrics;
      assert.ok(m.lazy_entries >= 4 * n, `${name}: each handoff leaves a CPU idle (lazy)`);
      assert.ok(m.mm_count_atomics >= 2 * m.lazy_entries - 10, `${name}: grab + drop per lazy period`);
    }
    const shoot = res['lazy-shootdown'].metrics;
    assert.ok(shoot.mm_count_atomics <= 2, 'no refcount for lazy users');
    assert.ok(shoot.mmdrop_ipis > 0, 'lazy CPUs are shot down when the mm dies');
    assert.equal(shoot.coherence_violations, 0);
  });
});

describe('fork-churn replay', () => {
  it('every child is two address spaces torn down (forked copy, exec\'d image); lazy shootdown frees them all', async () => {
    const n = 50;
    const res = await run(`workload:fork-churn:iterations=${n},cpus=4`, ['linux-4.13', 'linux-6.18', 'lazy-shootdown']);
    for (const name of ['linux-4.13', 'linux-6.18', 'lazy-shootdown']) {
      assert.equal(res[name].metrics.teardowns, 2 * n + 1, name);
      assert.equal(res[name].metrics.coherence_violations, 0, name);
    }
    assert.equal(res['lazy-shootdown'].metrics.mm_frees, 2 * n + 1);
    assert.ok(res['lazy-shootdown'].metrics.mm_count_atomics < res['linux-6.18'].metrics.mm_count_atomics / 2);
    const noExec = await run(`workload:fork-churn:iterations=${n},cpus=4,exec=false`, ['linux-6.18']);
    assert.equal(noExec['linux-6.18'].metrics.teardowns, n + 1);
  });
});

describe('safety across workloads', () => {
  it('strategies marked safe never produce a coherence violation on any workload', async () => {
    const specs = [
      'workload:ping-pong:pages=64,iterations=50', 'workload:madv-dontneed-switch:iterations=50',
      'workload:pthread-mmap:rounds=2,mb=16', 'workload:madv-threads:threads=3,cpus=3,iterations=50',
      'workload:wis-tlb-flush2:tasks=3,cpus=3,iterations=300', 'workload:wis-context-switch1:iterations=50',
      'workload:fork-churn:iterations=20', 'workload:ptwalk-sync:iterations=30',
    ];
    const safe = STRATEGY_NAMES.filter((n) => resolveStrategy(n).safe);
    assert.ok(safe.length >= 8);
    for (const spec of specs) {
      const res = await run(spec, safe);
      for (const name of safe) assert.equal(res[name].metrics.coherence_violations, 0, `${name} on ${spec}`);
    }
  });
});
