// From raw parsed events to the canonical stream every consumer sees:
//  - provisional mm ids become final ones (tasks.ts), and forks learn thread vs process;
//  - flush requests are added, from exactly one source per trace:
//      * a trace that recorded tlb:tlb_flush: the initiator-side records. On 5.13+ kernels
//        one request prints reason 4 (remote IPI send) and then, on the same CPU, the
//        initiator's own reason 3 (local MM shootdown) or 2 (local shootdown, reclaim
//        batch): that pair is one request. A reason 3 or 2 on its own is a local-only
//        request. These cover COW faults, reclaim and migration, which no syscall shows.
//      * otherwise: derived from munmap, madvise(DONTNEED/FREE/REMOVE/DONTNEED_LOCKED),
//        mprotect, and address-space teardown (exit_mmap, or exec / the last thread's exit
//        when exit_mmap was not recorded).
//    tlb_flush does not say whether page tables were freed. Taken to free them: the first
//    request after a munmap of 2 MiB or more (free_pgtables frees a PTE page only when
//    its whole PMD range is gone), a request during teardown, the old mm's teardown in an
//    exec, and dup_mmap's flush_tlb_mm before sched_process_fork (freed_tables = true);
//    anything else not. A munmap/madvise/mprotect owns only the first request after it.
//  - (traced traces, with exec-window.ts's prescan) each exec moves back to where its
//    task loaded the new mm, the task's events up to the printed exec are the new mm's,
//    and a vfork child runs its parent's mm until it execs.
import {
  EventKind, FLUSH_ALL, FlushOrigin, NO_MM, TlbFlushReason, createBatch, flushFlags, type EventBatch,
} from './event.ts';
import type { ExecMove, VforkChild } from './exec-window.ts';

/** madvise behaviors that zap pages (and so flush): DONTNEED, FREE, REMOVE, DONTNEED_LOCKED. */
const ZAPPING_MADVISE = new Set([4, 8, 9, 24]);
const PAGE = 4096;
const PMD_SIZE = 2 << 20;
/** sysKind of a task inside a munmap shorter than PMD_SIZE. */
const SMALL_MUNMAP = -2;
/** sysKind of a task inside a madvise(MADV_DONTNEED) that frees page tables (PT_RECLAIM). */
const RECLAIMING_MADVISE = -3;

/** Whether kernel `release` reclaims empty PTE pages in MADV_DONTNEED (CONFIG_PT_RECLAIM,
 *  def_bool y on x86-64: Qi Zheng's "synchronously scan and reclaim empty user PTE pages",
 *  6.14 [recall: the version]; read in 7.3's mm/memory.c pte_table_reclaim_possible() and
 *  mm/madvise.c madvise_dontneed_single_vma(), .reclaim_pt = true). */
export function reclaimsPteTables(release: string | undefined): boolean {
  const m = release === undefined ? null : /^(\d+)\.(\d+)/.exec(release);
  if (m === null) return false;
  const major = Number(m[1]), minor = Number(m[2]);
  return major > 6 || (major === 6 && minor >= 14);
}

/** zap_pte_range() frees a PTE page only when the zap covers all of it: [addr, addr+len)
 *  holds a whole PMD-aligned 2 MiB. */
function coversAPmd(addr: number, len: number): boolean {
  const first = Math.ceil(addr / PMD_SIZE) * PMD_SIZE;
  return addr >= 0 && first + PMD_SIZE <= addr + len;
}

export interface CanonicalOptions {
  remap: Int32Array;
  /** The trace recorded tlb_flush: requests come from it, none are derived. */
  traced: boolean;
  /** The trace recorded exit_mmap: teardown flushes are derived from it. */
  hasExitMmap: boolean;
  cpus: number;
  batchSize?: number;
  /** Execs to move back to where their task loaded the new mm (exec-window.ts). */
  execMoves?: Map<number, ExecMove>;
  /** Raw indices of dup_mmap()'s flush_tlb_mm records (freed_tables; exec-window.ts). */
  forkFlushes?: Set<number>;
  /** vfork children by the raw index of their fork (exec-window.ts). */
  vforks?: Map<number, VforkChild>;
  /** The recorded kernel frees empty PTE pages in MADV_DONTNEED (reclaimsPteTables). */
  ptReclaim?: boolean;
}

/** The largest user address space (5-level paging, 2^56 bytes): a longer munmap, madvise
 *  or mprotect fails with EINVAL in the kernel and flushes nothing. */
const MAX_USER_BYTES = 2 ** 56;

function pagesOf(len: number): number {
  return len <= 0 || len > MAX_USER_BYTES ? 0 : Math.ceil(len / PAGE);
}

/** sysKind value of a task in no syscall. */
const NO_SYSCALL = -100;

/** The syscall each task is in, and its start address: arrays indexed by tid (grown to
 *  the largest tid seen), since a Map lookup on every switch and flush dominated this
 *  pass. Negative tids (never from a text trace) go to a Map. */
/** Per mm: the first task seen running it, and whether another one has run it too. */
class ThreadsOfMm {
  private first = new Int32Array(256).fill(-1);
  private multi = new Uint8Array(256);

  ran(mm: number, tid: number): void {
    if (mm <= 0 || tid <= 0) return;
    if (mm >= this.first.length) {
      let n = this.first.length;
      while (n <= mm) n *= 2;
      const f = new Int32Array(n).fill(-1); f.set(this.first); this.first = f;
      const m = new Uint8Array(n); m.set(this.multi); this.multi = m;
    }
    if (this.first[mm] < 0) this.first[mm] = tid;
    else if (this.first[mm] !== tid) this.multi[mm] = 1;
  }

  threaded(mm: number): boolean {
    return mm > 0 && mm < this.multi.length && this.multi[mm] === 1;
  }
}

class SyscallOfTask {
  private kinds = new Int8Array(1024).fill(NO_SYSCALL);
  private addrs = new Float64Array(1024);
  private lens = new Float64Array(1024);
  private readonly other = new Map<number, { kind: number; addr: number; len: number }>();

  kind(tid: number): number {
    if (tid >= 0) return tid < this.kinds.length ? this.kinds[tid] : NO_SYSCALL;
    return this.other.get(tid)?.kind ?? NO_SYSCALL;
  }

  addr(tid: number): number {
    return tid >= 0 ? this.addrs[tid] : this.other.get(tid)!.addr;
  }

  /** The syscall's length in bytes (-1: not a range). */
  len(tid: number): number {
    return tid >= 0 ? this.lens[tid] : this.other.get(tid)!.len;
  }

  set(tid: number, kind: number, addr: number, len = -1): void {
    if (tid < 0) { this.other.set(tid, { kind, addr, len }); return; }
    if (tid >= this.kinds.length) this.grow(tid);
    this.kinds[tid] = kind;
    this.addrs[tid] = addr;
    this.lens[tid] = len;
  }

  clear(tid: number): void {
    if (tid >= 0) { if (tid < this.kinds.length) this.kinds[tid] = NO_SYSCALL; } else this.other.delete(tid);
  }

  private grow(tid: number): void {
    let n = this.kinds.length;
    while (n <= tid) n *= 2;
    const k = new Int8Array(n).fill(NO_SYSCALL); k.set(this.kinds); this.kinds = k;
    const a = new Float64Array(n); a.set(this.addrs); this.addrs = a;
    const l = new Float64Array(n); l.set(this.lens); this.lens = l;
  }
}

/** tlb_finish_mmu() (mm/mmu_gather.c, 6.1, 6.12 and 7.3 alike): when another thread of the
 *  mm is inside an mmu_gather at the same time (mm_tlb_flush_nested), the flush becomes
 *  fullmm with freed_tables = 1, so it reaches lazy CPUs too. A recorded full flush (pages
 *  -1) from a munmap, madvise or mprotect whose own range is within the single-page ceiling
 *  (33 pages) can only be that, in an mm with more than one thread. */
function nestedGather(sk: number, sys: SyscallOfTask, tid: number, pages: number, threaded: boolean): boolean {
  if (pages !== -1 || !threaded) return false;
  if (sk !== EventKind.madvise && sk !== EventKind.mprotect && sk !== EventKind.munmap && sk !== SMALL_MUNMAP && sk !== RECLAIMING_MADVISE) return false;
  const len = sys.len(tid);
  return len > 0 && len <= 33 * PAGE;
}

/** Tids present in a per-task Map, as a bitmap beside it: the Map is asked only for a
 *  tid that is there (a lookup per event, mostly a miss, cost more than the pass's work). */
class TidsIn {
  private bits = new Uint8Array(1024);
  /** Tids the bitmap cannot hold (never from a text trace): always asked. */
  private static readonly LIMIT = 1 << 23;

  maybe(tid: number): boolean {
    if (tid >= 0 && tid < TidsIn.LIMIT) return tid < this.bits.length && this.bits[tid] === 1;
    return true;
  }

  add(tid: number): void {
    if (tid < 0 || tid >= TidsIn.LIMIT) return;
    if (tid >= this.bits.length) {
      let n = this.bits.length;
      while (n <= tid) n *= 2;
      const b = new Uint8Array(n); b.set(this.bits); this.bits = b;
    }
    this.bits[tid] = 1;
  }

  delete(tid: number): void {
    if (tid >= 0 && tid < this.bits.length) this.bits[tid] = 0;
  }
}

interface ExecWindow { exec: number; oldMm: number; newMm: number; oldTornDown: boolean; exitSeen: boolean }

/** Streams canonical batches out of raw ones. One output batch is reused. */
export function* canonicalize(raw: Iterable<EventBatch>, o: CanonicalOptions): Generator<EventBatch> {
  const c = new Canonicalizer(o);
  for (const batch of raw) {
    for (let i = 0; i < batch.length;) {
      i = c.run(batch, i);
      if (i < batch.length) { yield c.take(); }
    }
  }
  if (c.n > 0) yield c.take();
}

/** The state of one canonical pass. The per-event loop (run) is kept small and the rare
 *  cases (vfork children, exec windows, moved execs) are methods of their own: as one
 *  generator function the pass took V8 longer to compile, again after every deopt, than
 *  to run. */
class Canonicalizer {
  readonly out: EventBatch;
  private readonly cap: number;
  n = 0;
  private readonly remap: Int32Array;
  private readonly nCpus: number;
  private readonly traced: boolean;
  private readonly hasExitMmap: boolean;
  private readonly ptReclaim: boolean;
  // Per-CPU: the pending reason-4 request whose local half may follow.
  // A reason 4 and the initiator's own reason 3/2 after it are one request: they pair by
  // order on the CPU (nothing of the task's comes between: flush_tlb_mm_range runs with
  // preemption off), not by time, since a slow guest prints them milliseconds apart. The
  // pairing ends at a switch, at the task's next syscall, or at its reason 0/5 (the local
  // half that printed otherwise); a local half that returned early (6.0+: already at its
  // generation) prints nothing, and the next syscall ends its wait.
  private readonly pendTid: Int32Array;
  private readonly pendIdx: Int32Array;
  // Per task: the syscall it is in (for freed_tables and the start address).
  private readonly sys = new SyscallOfTask();
  // Per mm: whether more than one of its tasks has run (a nested mmu_gather needs two).
  private readonly mmThreads = new ThreadsOfMm();
  // Execs moved earlier: per tid, the window until the printed exec (dropped).
  private readonly moves: Map<number, ExecMove>;
  private readonly win = new Map<number, ExecWindow>();
  private readonly inWin = new TidsIn();
  private rawIndex = -1;
  // Moves, dup_mmap flushes and vforks are found by walking their raw indices in order
  // beside the stream: a Map or Set lookup per event cost more than the rest of the pass.
  private readonly moveAt: Float64Array;
  private nextMove = 0;
  private readonly forkFlushAt: Float64Array;
  private nextForkFlush = 0;
  private readonly vforks: Map<number, VforkChild>;
  private readonly vforkAt: Float64Array;
  private nextVfork = 0;
  // vfork children running their parent's mm (until exec or exit), by child tid
  private readonly sharing = new Map<number, VforkChild>();
  private readonly isSharing = new TidsIn();

  constructor(o: CanonicalOptions) {
    this.out = createBatch(o.batchSize ?? 1 << 16);
    this.cap = this.out.kind.length;
    this.remap = o.remap;
    this.nCpus = o.cpus;
    this.traced = o.traced;
    this.hasExitMmap = o.hasExitMmap;
    this.ptReclaim = o.ptReclaim === true;
    this.pendTid = new Int32Array(o.cpus).fill(-1);
    this.pendIdx = new Int32Array(o.cpus).fill(-1);
    this.moves = o.execMoves ?? new Map<number, ExecMove>();
    this.moveAt = Float64Array.from(this.moves.keys()).sort();
    this.forkFlushAt = Float64Array.from(o.forkFlushes ?? []).sort();
    this.vforks = o.vforks ?? new Map<number, VforkChild>();
    this.vforkAt = Float64Array.from(this.vforks.keys()).sort();
  }

  /** The full (or last) output batch; the next events go to the start of it again. */
  take(): EventBatch {
    this.out.length = this.n;
    this.n = 0;
    this.pendIdx.fill(-1);
    return this.out;
  }

  private mapMm(id: number): number {
    return id > 0 && id < this.remap.length ? this.remap[id] : NO_MM;
  }

  private push(kind: number, time: number, cpu: number, tid: number, mm: number, a: number, b: number, c: number): number {
    const i = this.n++;
    const out = this.out;
    out.kind[i] = kind; out.time[i] = time; out.cpu[i] = cpu; out.tid[i] = tid;
    out.mm[i] = mm; out.a[i] = a; out.b[i] = b; out.c[i] = c;
    return i;
  }

  private isForkFlush(index: number): boolean {
    const at = this.forkFlushAt;
    while (this.nextForkFlush < at.length && at[this.nextForkFlush] < index) this.nextForkFlush++;
    return this.nextForkFlush < at.length && at[this.nextForkFlush] === index;
  }

  private moveAfter(index: number): ExecMove | undefined {
    const at = this.moveAt;
    while (this.nextMove < at.length && at[this.nextMove] < index) this.nextMove++;
    return this.nextMove < at.length && at[this.nextMove] === index ? this.moves.get(index) : undefined;
  }

  // munmap, madvise and mprotect flush once, from the single mmu_gather of the call
  // (tlb_finish_mmu): later requests of the task (COW faults, reclaim) are not theirs.
  private endSyscallFlush(tid: number): void {
    const k = this.sys.kind(tid);
    if (k === EventKind.munmap || k === SMALL_MUNMAP || k === RECLAIMING_MADVISE || k === EventKind.madvise || k === EventKind.mprotect) this.sys.clear(tid);
  }

  // Scratch of the vfork and exec-window steps (they change an event's fields).
  private rawMm = 0;
  private a = 0;
  private b = 0;

  /** A vfork child shares its parent's mm until it execs (CLONE_VM). */
  private vforkStep(kind: number, tid: number): void {
    if (kind === EventKind.fork) {
      const at = this.vforkAt;
      while (this.nextVfork < at.length && at[this.nextVfork] < this.rawIndex) this.nextVfork++;
      const v = at[this.nextVfork] === this.rawIndex ? this.vforks.get(this.rawIndex) : undefined;
      if (v !== undefined) { this.sharing.set(v.child, v); this.isSharing.add(v.child); this.b = v.parentMm; }
    }
    if (this.sharing.size > 0) {
      const v = this.isSharing.maybe(tid) ? this.sharing.get(tid) : undefined;
      if (v !== undefined) {
        if (this.rawMm === v.childMm) this.rawMm = v.parentMm;
        if (kind === EventKind.exec) { if (this.a === v.childMm) this.a = v.parentMm; this.sharing.delete(tid); this.isSharing.delete(tid); }
        else if (kind === EventKind.exit) { this.sharing.delete(tid); this.isSharing.delete(tid); }
      }
      if (kind === EventKind.switch) {
        const vn = this.isSharing.maybe(this.a) ? this.sharing.get(this.a) : undefined;
        if (vn !== undefined && this.b === vn.childMm) this.b = vn.parentMm;
      }
    }
  }

  // Results of windowStep.
  private mm = 0;
  private nextMmOverride = -1;
  private teardown = false;

  /** Inside an exec window the task runs its new mm; the old one's teardown flush (a
   *  remote send before its exit_mmap) and exit_mmap itself stay with the old mm. False:
   *  the event is the printed exec, dropped. */
  private windowStep(kind: number, tid: number): boolean {
    const w = this.inWin.maybe(tid) ? this.win.get(tid) : undefined;
    if (w !== undefined) {
      if (this.rawIndex === w.exec) { this.win.delete(tid); this.inWin.delete(tid); return false; }
      if (kind === EventKind.exit) { this.win.delete(tid); this.inWin.delete(tid); }
      else if (kind === EventKind.exit_mmap && this.mm === w.oldMm) w.exitSeen = true;
      else if (this.mm === w.oldMm) {
        // exit_mmap's flush frees every page table (tlb->freed_tables).
        this.teardown = kind === EventKind.observed_flush && this.a === TlbFlushReason.remoteSendIpi && w.oldTornDown && !w.exitSeen;
        if (!this.teardown) this.mm = w.newMm;
      }
    }
    if (kind === EventKind.switch) {
      const wn = this.inWin.maybe(this.a) ? this.win.get(this.a) : undefined;
      if (wn !== undefined && this.mapMm(this.b) === wn.oldMm) this.nextMmOverride = wn.newMm;
    }
    return true;
  }

  private insertMovedExec(mv: ExecMove, kind: number, time: number, cpu: number, tid: number): void {
    const newMm = this.mapMm(mv.newMm), oldMm = this.mapMm(mv.oldMm);
    this.push(EventKind.exec, time, cpu, tid, newMm, oldMm, 0, 0);
    this.inWin.add(tid);
    this.win.set(tid, { exec: mv.exec, oldMm, newMm, oldTornDown: mv.oldTornDown, exitSeen: kind === EventKind.exit_mmap });
  }

  /** Events [i, ...) of `batch` into the output, until the batch ends (its length is
   *  returned) or the output is full (the index to go on from). */
  run(batch: EventBatch, i: number): number {
    const bKind = batch.kind, bTime = batch.time, bCpu = batch.cpu, bTid = batch.tid, bMm = batch.mm, bA = batch.a, bB = batch.b, bC = batch.c;
    const len = batch.length, nCpus = this.nCpus, cap = this.cap;
    const hasVforks = this.vforks.size > 0;
    for (; i < len; i++) {
      // Room for the event, a moved exec and one derived request.
      if (this.n + 3 > cap) return i;
      const index = ++this.rawIndex;
      const kind = bKind[i], time = bTime[i], cpu = bCpu[i], tid = bTid[i];
      // Lines on a CPU the trace does not have (a damaged CPU column) were reported.
      if (cpu >= nCpus) continue;
      this.rawMm = bMm[i]; this.a = bA[i]; this.b = bB[i];
      let c = bC[i];
      if (hasVforks) this.vforkStep(kind, tid);
      this.mm = this.mapMm(this.rawMm);
      this.nextMmOverride = -1;
      this.teardown = false;
      if (this.win.size > 0 && !this.windowStep(kind, tid)) continue;
      const mm = this.mm;
      let a = this.a, b = this.b;
      switch (kind) {
        case EventKind.switch:
          b = this.nextMmOverride >= 0 ? this.nextMmOverride : this.mapMm(b);
          this.mmThreads.ran(b, a);
          this.pendTid[cpu] = -1;
          // A flush after the task ran again is not part of the syscall it was in.
          this.sys.clear(tid);
          break;
        case EventKind.fork:
          b = this.mapMm(b);
          c = b !== NO_MM && b === mm ? 1 : 0;
          if (c === 1) this.mmThreads.ran(mm, a);
          break;
        case EventKind.exec:
          a = this.mapMm(a);
          break;
      }
      this.push(kind, time, cpu, tid, mm, a, b, c);
      if (this.nextMove < this.moveAt.length) {
        const mv = this.moveAfter(index);
        if (mv !== undefined && mv.tid === tid) this.insertMovedExec(mv, kind, time, cpu, tid);
      }
      if (this.traced) this.tracedRequest(kind, time, cpu, tid, mm, a, b, c, index);
      else this.derivedRequest(kind, time, cpu, tid, mm, a, b, c);
    }
    return len;
  }

  /** A trace with tlb_flush records: requests from the initiator's records. */
  private tracedRequest(kind: number, time: number, cpu: number, tid: number, mm: number, a: number, b: number, c: number, index: number): void {
    const sys = this.sys, pendTid = this.pendTid, pendIdx = this.pendIdx;
    if (kind === EventKind.munmap || kind === EventKind.madvise || kind === EventKind.mprotect) {
      if (pendTid[cpu] === tid) pendTid[cpu] = -1;
      // free_pgtables() frees a page-table page only when no mapping is left in the
      // 2 MiB it covers: a munmap shorter than that (ld.so's small unmaps) frees none.
      // With PT_RECLAIM a DONTNEED over a whole 2 MiB also frees that PTE page.
      const reclaims = kind === EventKind.madvise && this.ptReclaim && (c === 4 || c === 24) && coversAPmd(a, b);
      sys.set(tid, kind === EventKind.munmap && b < PMD_SIZE ? SMALL_MUNMAP : reclaims ? RECLAIMING_MADVISE : kind, a, b);
    } else if (kind === EventKind.exit_mmap) {
      sys.set(tid, kind, -1);
    } else if (kind === EventKind.observed_flush) {
      const reason = a, pages = b;
      if (reason === TlbFlushReason.remoteSendIpi) {
        const sk = sys.kind(tid);
        const freed = this.teardown || this.isForkFlush(index) || sk === EventKind.munmap || sk === RECLAIMING_MADVISE || sk === EventKind.exit_mmap
          || nestedGather(sk, sys, tid, pages, this.mmThreads.threaded(mm));
        const start = sk !== NO_SYSCALL ? sys.addr(tid) : -1;
        pendIdx[cpu] = this.push(EventKind.flush_request, time, cpu, tid, mm, start, pages, flushFlags(FlushOrigin.tracedRemote, freed));
        this.endSyscallFlush(tid);
        pendTid[cpu] = tid;
      } else if ((reason === TlbFlushReason.remoteWrongCpu || reason === TlbFlushReason.taskSwitch) && pendTid[cpu] === tid) {
        // The initiator's own flush_tlb_func printed "wrong CPU" (it no longer runs the
        // mm: exec's teardown of the old one) or left lazy mode: that was the local
        // half, and a reason 3 after it is a request of its own.
        pendTid[cpu] = -1;
      } else if (reason === TlbFlushReason.localMmShootdown || reason === TlbFlushReason.localShootdown) {
        const paired = pendTid[cpu] === tid;
        pendTid[cpu] = -1;
        if (paired) {
          // The local half of a remote request: a reason 2 reveals it was a batch flush.
          if (reason === TlbFlushReason.localShootdown && pendIdx[cpu] >= 0) {
            const j = pendIdx[cpu];
            this.out.mm[j] = NO_MM;
            this.out.c[j] = flushFlags(FlushOrigin.tracedBatch, false);
          }
        } else if (reason === TlbFlushReason.localShootdown) {
          this.push(EventKind.flush_request, time, cpu, tid, NO_MM, -1, FLUSH_ALL, flushFlags(FlushOrigin.tracedBatch, false));
        } else {
          const sk = sys.kind(tid);
          const freed = this.isForkFlush(index) || sk === EventKind.munmap || sk === RECLAIMING_MADVISE || sk === EventKind.exit_mmap
            || nestedGather(sk, sys, tid, pages, this.mmThreads.threaded(mm));
          const start = sk !== NO_SYSCALL ? sys.addr(tid) : -1;
          this.push(EventKind.flush_request, time, cpu, tid, mm, start, pages, flushFlags(FlushOrigin.tracedLocal, freed));
          this.endSyscallFlush(tid);
        }
      }
    }
  }

  /** Derived requests (the trace has no tlb_flush records). */
  private derivedRequest(kind: number, time: number, cpu: number, tid: number, mm: number, a: number, b: number, c: number): void {
    switch (kind) {
      case EventKind.munmap:
        if (mm !== NO_MM && pagesOf(b) > 0) this.push(EventKind.flush_request, time, cpu, tid, mm, a, pagesOf(b), flushFlags(FlushOrigin.derivedMunmap, true));
        break;
      case EventKind.madvise:
        if (mm !== NO_MM && pagesOf(b) > 0 && ZAPPING_MADVISE.has(c)) {
          const reclaims = this.ptReclaim && (c === 4 || c === 24) && coversAPmd(a, b);
          this.push(EventKind.flush_request, time, cpu, tid, mm, a, pagesOf(b), flushFlags(FlushOrigin.derivedMadvise, reclaims));
        }
        break;
      case EventKind.mprotect:
        if (mm !== NO_MM && pagesOf(b) > 0) this.push(EventKind.flush_request, time, cpu, tid, mm, a, pagesOf(b), flushFlags(FlushOrigin.derivedMprotect, false));
        break;
      case EventKind.exit_mmap:
        if (mm !== NO_MM) this.push(EventKind.flush_request, time, cpu, tid, mm, -1, FLUSH_ALL, flushFlags(FlushOrigin.derivedExit, true));
        break;
      case EventKind.exit:
        if (!this.hasExitMmap && a === 1 && mm !== NO_MM) this.push(EventKind.flush_request, time, cpu, tid, mm, -1, FLUSH_ALL, flushFlags(FlushOrigin.derivedExit, true));
        break;
      case EventKind.exec:
        if (!this.hasExitMmap && a !== NO_MM) this.push(EventKind.flush_request, time, cpu, tid, a, -1, FLUSH_ALL, flushFlags(FlushOrigin.derivedExit, true));
        break;
    }
  }
}
