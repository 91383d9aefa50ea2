// Which address space (mm) each task runs in.
//
// Traces rarely say it outright. The evidence, best first:
//   1. the thread-group id on each line (ftrace record-tgid, perf pid/tid): threads of one
//      group share an mm;
//   2. history: a forked child whose exit says group_dead=false was a thread of its
//      parent's group; one whose group died while its parent lived was a process; exec
//      gives a task a fresh mm;
//   3. heuristics: pid 0 is idle, children of kthreadd and tasks with kernel-thread names
//      have no mm; anything else unknown gets an mm of its own.
// Because evidence can arrive after a task's first events (a child's tgid shows on its own
// lines, exit comes last), each task starts on a provisional mm id; evidence merges ids
// (union-find) and `finish()` maps provisional ids to final ones. Events are stored with
// provisional ids and remapped when read, so nothing is parsed twice.
import { NO_MM, type MmInfo, type TaskInfo, type TaskRoute, TASK_ROUTES } from './event.ts';
import { TaskOp, type TaskLogData } from './text/task-log.ts';

/** PID_MAX_LIMIT on 64-bit kernels: larger pids cannot be real. */
export const PID_LIMIT = 4 * 1024 * 1024;

/** Tasks listed by name in a trace's info (the rest are simulated, counted, not listed):
 *  a trace of a million short-lived tasks would otherwise carry a million objects into
 *  every report, table and cache, where no one reads past the first screens. */
export const MAX_TASKS_LISTED = 65536;

const ROUTES = TASK_ROUTES;
const R = Object.fromEntries(ROUTES.map((r, i) => [r, i])) as Record<TaskRoute, number>;

// Names of kernel threads (prefixes). A user task could pick such a name; traces with a
// tgid column or fork history never need this list.
const KTHREAD_PREFIXES = [
  'kthreadd', 'kworker/', 'ksoftirqd/', 'migration/', 'rcu_', 'rcu/', 'cpuhp/', 'idle_inject/',
  'watchdog', 'kswapd', 'khugepaged', 'kcompactd', 'kblockd', 'jbd2/', 'irq/', 'scsi_',
  'kauditd', 'khungtaskd', 'oom_reaper', 'writeback', 'kthrotld', 'ksmd', 'kdevtmpfs', 'netns',
  'mm_percpu_wq', 'kintegrityd', 'edac-poller', 'devfreq_wq', 'ipv6_addrconf', 'kstrp', 'zswap',
  'ext4-rsv-conver', 'xfs', 'swapper', 'pool_workqueue', 'kvm', 'hwrng', 'psimon', 'napi/',
  'nvme', 'ttm', 'ata_sff', 'kpsmoused', 'kmpath', 'tpm_dev_wq', 'cryptd', 'blkcg_punt_bio',
  'inet_frag_wq', 'acpi_thermal', 'kdmflush', 'btrfs', 'loop', 'kipmi', 'khvcd', 'hv_',
  'vhost-', 'ksgxd', 'md', 'raid', 'kmemleak', 'card', 'sugov:', 'ecryptfs', 'nfsiod',
  'rpciod', 'xprtiod', 'dmcrypt', 'kcryptd', 'kverityd', 'kstrp', 'iscsi', 'target_', 'usb-storage',
  'khubd', 'uas', 'scsi_eh', 'scsi_tmf', 'ipmi', 'gfx', 'amdgpu', 'i915', 'nvidia', 'erofs',
  'f2fs', 'ksoftirq', 'rcuog/', 'rcuop/', 'rcuos/', 'kvfree_rcu', 'kcsan', 'mld', 'tls-strp',
  'events_', 'ttm_swap', 'crypto', 'firmware', 'bioset', 'kthrotl', 'vmstat', 'lru-add-drain',
  // DAMON's monitor (mm/damon/core.c: "kdamond.%d"), running in the 7.3 lab recordings;
  // RCU's per-CPU and boost threads (kernel/rcu/tree.c "rcuc/%u", "rcub/%d"); ext4's
  // inode-table initialiser (fs/ext4/super.c "ext4lazyinit").
  'kdamond.', 'rcuc/', 'rcub/', 'ext4lazyinit',
];

export function isKernelThreadName(comm: string): boolean {
  if (comm === '<idle>') return true;
  for (const p of KTHREAD_PREFIXES) if (comm.startsWith(p)) return true;
  return false;
}

/** What the payload readers ask of a task table: the TaskTable itself, or, in a range
 *  worker of parallel ingest, a TaskLog that records the questions for the main thread's
 *  table to answer in order (text/task-log.ts). */
export interface TaskResolver {
  isNew(tid: number): boolean;
  mmOfTask(tid: number, tgid: number, comm?: string): number;
  fork(parentTid: number, childTid: number, childComm: string): number;
  exec(tid: number, comm: string | undefined): number;
  exit(tid: number, groupDead: number): void;
}

const F_SEEN = 1, F_TGID_LINKED = 2, F_EXITED = 4, F_DECIDED = 8, F_FORKED = 16, F_KERNEL = 32;

export class TaskTable implements TaskResolver {
  /** tid → provisional mm id of the task now (NO_MM for kernel threads). */
  private mm = new Int32Array(1024);
  private parent = new Int32Array(1024).fill(-1);
  /** tid → provisional mm of the parent when the task was forked. */
  private parentMm = new Int32Array(1024);
  private tgid = new Int32Array(1024).fill(-1);
  private flags = new Uint8Array(1024);
  private route = new Uint8Array(1024);
  private comm = new Map<number, string>();
  /** Tids in order of first sight (for the final task list). */
  private order: number[] = [];
  /** Union-find over provisional mm ids; index 0 is NO_MM. */
  private uf = new Int32Array(1024);
  /** Provisional mm → tid that first used it. */
  private mmLeader = new Int32Array(1024);
  private nextMm = 1;
  private remap: Int32Array | null = null;

  constructor() { this.uf[0] = 0; }

  private grow(tid: number): void {
    let n = this.mm.length;
    while (n <= tid) n *= 2;
    if (n === this.mm.length) return;
    const g32 = (a: Int32Array, fill = 0) => { const b = new Int32Array(n); if (fill) b.fill(fill); b.set(a); return b; };
    const g8 = (a: Uint8Array) => { const b = new Uint8Array(n); b.set(a); return b; };
    this.mm = g32(this.mm); this.parent = g32(this.parent, -1); this.parentMm = g32(this.parentMm);
    this.tgid = g32(this.tgid, -1); this.flags = g8(this.flags); this.route = g8(this.route);
  }

  private newMm(leader: number): number {
    const id = this.nextMm++;
    if (id >= this.uf.length) {
      const n = this.uf.length * 2;
      const u = new Int32Array(n); u.set(this.uf); this.uf = u;
      const l = new Int32Array(n); l.set(this.mmLeader); this.mmLeader = l;
    }
    this.uf[id] = id;
    this.mmLeader[id] = leader;
    return id;
  }

  private find(x: number): number {
    while (this.uf[x] !== x) { this.uf[x] = this.uf[this.uf[x]]; x = this.uf[x]; }
    return x;
  }

  /** Merge two provisional mms; the older id stays the representative. */
  private union(a: number, b: number): void {
    if (a === NO_MM || b === NO_MM) return;
    const ra = this.find(a), rb = this.find(b);
    if (ra === rb) return;
    if (ra < rb) this.uf[rb] = ra; else this.uf[ra] = rb;
  }

  /** First sight of a task that existed before the trace began (or whose fork we missed). */
  private create(tid: number, tgid: number, comm: string | undefined): void {
    this.grow(tid);
    this.flags[tid] = F_SEEN;
    this.order.push(tid);
    if (comm !== undefined) this.comm.set(tid, comm);
    if (tid === 0) { this.mm[tid] = NO_MM; this.route[tid] = R.idle; this.flags[tid] |= F_DECIDED | F_KERNEL; return; }
    if (comm !== undefined && isKernelThreadName(comm) && (tgid < 0 || tgid === tid)) {
      this.mm[tid] = NO_MM; this.route[tid] = R['kernel-thread-name']; this.flags[tid] |= F_DECIDED | F_KERNEL; return;
    }
    if (tgid >= 0) {
      this.flags[tid] |= F_TGID_LINKED | F_DECIDED;
      this.route[tid] = R.tgid;
      this.tgid[tid] = tgid;
      if (tgid !== tid) {
        this.mm[tid] = this.mmOfTask(tgid, -1, comm);
        return;
      }
      this.mm[tid] = this.newMm(tid);
      return;
    }
    this.mm[tid] = this.newMm(tid);
    this.route[tid] = R['guess-own-mm'];
  }

  /** The provisional mm of `tid` now, creating the task on first sight. `tgid` is -1 when
   *  the line carries none; `comm` is only needed on first sight. */
  mmOfTask(tid: number, tgid: number, comm?: string): number {
    if (tid >= this.mm.length || (this.flags[tid] & F_SEEN) === 0) {
      this.create(tid, tgid, comm);
      return this.mm[tid];
    }
    if (tgid >= 0 && (this.flags[tid] & F_TGID_LINKED) === 0) this.linkTgid(tid, tgid);
    return this.mm[tid];
  }

  /** True when the task has not been seen yet (so the caller should pass its comm). */
  isNew(tid: number): boolean {
    return tid >= this.mm.length || (this.flags[tid] & F_SEEN) === 0;
  }

  private linkTgid(tid: number, tgid: number): void {
    this.flags[tid] |= F_TGID_LINKED;
    this.tgid[tid] = tgid;
    if ((this.flags[tid] & F_KERNEL) !== 0) return;
    if (tgid !== tid) {
      const groupMm = this.mmOfTask(tgid, -1, this.comm.get(tid));
      if (groupMm !== NO_MM) this.union(this.mm[tid], groupMm);
      this.route[tid] = R.tgid;
    } else if ((this.flags[tid] & F_DECIDED) === 0 || this.route[tid] === R['guess-own-mm']) {
      this.route[tid] = R.tgid;
    }
    this.flags[tid] |= F_DECIDED;
  }

  /** Replay the log of a range worker (parallel ingest, text/task-log.ts) after all that
   *  was read before its range: the calls one reader would have made there, in its order.
   *  Returns the provisional mm of each of the log's tickets (index 0: NO_MM). */
  replay(log: TaskLogData): Int32Array {
    const { ops, count, comms } = log;
    const mmOf = new Int32Array(count + 1);
    let next = 1;
    for (let o = 0; o < count * 4; o += 4) {
      const tid = ops[o + 1], arg = ops[o + 2], c = ops[o + 3];
      const comm = c < 0 ? undefined : comms[c];
      switch (ops[o]) {
        case TaskOp.sight: mmOf[next++] = this.mmOfTask(tid, arg, comm); break;
        case TaskOp.link: this.mmOfTask(tid, arg); break;
        case TaskOp.fork: mmOf[next++] = this.fork(tid, arg, comm!); break;
        case TaskOp.exec: mmOf[next++] = this.exec(tid, comm); break;
        case TaskOp.exit: this.exit(tid, arg); break;
      }
    }
    return mmOf;
  }

  /** sched_process_fork. Returns the child's provisional mm. */
  fork(parentTid: number, childTid: number, childComm: string): number {
    const parentMm = this.mmOfTask(parentTid, -1);
    this.grow(childTid);
    if ((this.flags[childTid] & F_SEEN) !== 0) {
      // pid reuse: a new task with an old number.
      this.comm.delete(childTid);
    } else {
      this.order.push(childTid);
    }
    this.flags[childTid] = F_SEEN | F_FORKED;
    this.tgid[childTid] = -1;
    this.parent[childTid] = parentTid;
    this.parentMm[childTid] = parentMm;
    this.comm.set(childTid, childComm);
    if (parentMm === NO_MM || parentTid === 2) {
      // kernel_thread(): no mm until (unless) the child execs.
      this.mm[childTid] = NO_MM;
      this.route[childTid] = R['kernel-thread-parent'];
      this.flags[childTid] |= F_DECIDED | F_KERNEL;
      return NO_MM;
    }
    this.mm[childTid] = this.newMm(childTid);
    this.route[childTid] = R['fork-guess'];
    return this.mm[childTid];
  }

  /** sched_process_exec: the task gets a fresh address space. Returns [old, new]. */
  exec(tid: number, comm: string | undefined): number {
    this.mmOfTask(tid, -1, comm);
    const fresh = this.newMm(tid);
    this.mm[tid] = fresh;
    this.flags[tid] = (this.flags[tid] | F_DECIDED) & ~F_KERNEL;
    if (this.route[tid] === R['fork-guess'] || this.route[tid] === R['kernel-thread-parent'] ||
      this.route[tid] === R['kernel-thread-name'] || this.route[tid] === R['guess-own-mm']) {
      this.route[tid] = R.exec;
    }
    if (comm !== undefined) this.comm.set(tid, comm);
    return fresh;
  }

  /** sched_process_exit. groupDead: 1, 0, or -1 when the kernel did not print it. */
  exit(tid: number, groupDead: number): void {
    this.mmOfTask(tid, -1);
    const f = this.flags[tid];
    if ((f & F_FORKED) !== 0 && (f & F_DECIDED) === 0) {
      const p = this.parent[tid];
      if (groupDead === 0) {
        // Others of its thread group live on: it was a thread of its parent's group.
        this.union(this.mm[tid], this.parentMm[tid]);
        this.route[tid] = R['fork-thread'];
        this.flags[tid] |= F_DECIDED;
      } else if (groupDead === 1 && p >= 0 && (this.flags[p] & F_EXITED) === 0) {
        // Its group died while the parent lived: a process of its own.
        this.route[tid] = R['fork-process'];
        this.flags[tid] |= F_DECIDED;
      }
    }
    this.flags[tid] |= F_EXITED;
  }

  /** Resolve provisional ids. After this, `final(id)` maps a provisional mm to its final
   *  id (1..n in order of first use; NO_MM stays 0). */
  finish(): void {
    const remap = new Int32Array(this.nextMm);
    let next = 1;
    for (let id = 1; id < this.nextMm; id++) {
      const root = this.find(id);
      if (root === id) remap[id] = next++;
    }
    for (let id = 1; id < this.nextMm; id++) remap[id] = remap[this.find(id)];
    this.remap = remap;
  }

  get remapTable(): Int32Array {
    if (!this.remap) this.finish();
    return this.remap!;
  }

  /** Tasks seen (each tid once, pid reuse aside). */
  get count(): number { return this.order.length; }

  /** How many tasks took each route to their mm. */
  routeCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const tid of this.order) { const r = ROUTES[this.route[tid]]; out[r] = (out[r] ?? 0) + 1; }
    return out;
  }

  /** The first `limit` tasks seen. */
  tasks(limit = Infinity): TaskInfo[] {
    const remap = this.remapTable;
    return this.order.slice(0, Math.min(limit, this.order.length)).map((tid) => ({
      tid,
      comm: this.comm.get(tid) ?? '',
      tgid: this.tgid[tid],
      mm: remap[this.mm[tid]] ?? NO_MM,
      route: ROUTES[this.route[tid]],
    }));
  }

  mms(): MmInfo[] {
    const remap = this.remapTable;
    const out: MmInfo[] = [];
    for (let id = 1; id < this.nextMm; id++) {
      if (this.find(id) !== id) continue;
      const leader = this.mmLeader[id];
      out.push({ id: remap[id], leader, comm: this.comm.get(leader) ?? '' });
    }
    return out;
  }
}
