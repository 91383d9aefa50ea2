// tlbsim's user-space microbenchmarks: what `tlbsim measure` runs to build a cost profile of
// the machine at hand (src/measure/index.ts maps the results to CostProfile keys), and what
// the synthetic workloads' base costs (src/workloads/costs.ts) were measured with. It
// replaces src/workloads/measure/costs.c, whose loops it keeps under the names listed in
// src/measure/reference-results.txt.
//
// Build and run by hand (tlbsim measure does this into a cache directory):
//   cc -O2 -pthread -o /tmp/tlbsim-microbench src/measure/microbench.c && /tmp/tlbsim-microbench
// Options: --runs N (default 5; 3 with --quick), --quick (shorter and fewer batches), --only a,b,c
// (benchmarks whose name starts with one of these), --list.
//
// Output: one JSON object per line. The first is {"info":{...}} (usable CPUs, CPUID facts,
// the share of each CPU a spinning thread got: other tasks of the machine take the rest);
// then one per benchmark, in order:
//   {"name":..., "ns":median, "lo":min, "hi":max, "runs":N, "n":ops per batch,
//    "samples":[one value per run], "what":"one line"}
// or {"name":..., "skipped":"why", "what":...}. ns is per operation, as `what` says.
//
// Method. Each benchmark runs in a child process of its own (a fresh mm: no stale
// mm_cpumask bits or mappings from an earlier benchmark; a crash or hang costs one line).
// The number of operations per batch is calibrated so that a batch takes ~10 ms (~2 ms with
// --quick) after a first, warming call; each run times 7 batches (3 with --quick) and keeps
// their median; ns is the median of the runs, lo..hi their min..max. Loops on one CPU give
// a batch's mean time per operation; where another CPU takes part, each operation is timed
// and the batch gives its median (or, for IPIs, the median of the operations that sent one,
// counted in /proc/interrupts), because another task of the machine that takes that CPU
// for a while moves a mean far more than a median. The measuring thread is pinned to the
// first usable CPU, helper threads to the next ones. Nothing spins with PAUSE: in a KVM guest
// PAUSE-loop exiting would hand the vCPU back to the host. Benchmarks that need a second CPU
// print a "skipped" line when the process may use only one.
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#define PAGE 4096UL
#define MAXCPU 1024
#define MAXRUNS 64
#define MAXBATCH 16

static int nruns = 5, quick = 0, nbatch = 7;
static double batch_ns = 10e6;
static int ncpu, cpus[MAXCPU];
static double timer_pair_ns; // cost of the two clock reads around a separately timed call
static const char *skip_reason;
static volatile uintptr_t sink;

static inline double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}
static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
static double median(double *v, long n) {
  qsort(v, n, sizeof v[0], cmpd);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
/** Per-operation times of the current batch, for benchmarks that time each operation. */
static double *ops;
static long nops, cap_ops;
static void ops_reset(long n) {
  if (n > cap_ops) { free(ops); ops = malloc(n * sizeof *ops); cap_ops = n; }
  nops = 0;
}
static inline void ops_add(double dt) { if (nops < cap_ops) ops[nops++] = dt; }
static double ops_median(void) { return nops ? median(ops, nops) : -1; }
/** The median of the `top` slowest of the current batch's per-operation times. */
static double ops_top_median(long top) {
  if (top > nops) top = nops;
  if (top < 1) return -1;
  qsort(ops, nops, sizeof ops[0], cmpd);
  return median(ops + (nops - top), top);
}
/** Pin the calling thread to the idx-th usable CPU. */
static void pin(int idx) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpus[idx % ncpu], &s);
  if (sched_setaffinity(0, sizeof s, &s) != 0) { perror("sched_setaffinity"); _exit(3); }
}
static void spin_ns(double ns) { double end = now() + ns; while (now() < end) {} }
static void *map_anon(size_t len, int prot) {
  void *p = mmap(0, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); _exit(3); }
  madvise(p, len, MADV_NOHUGEPAGE);
  return p;
}
static long irq_count(const char *row, int first, int count);
static void touch(volatile char *p, long pages) { for (long i = 0; i < pages; i++) p[i * PAGE] = 1; }

// ---- helper threads: spinners that hold the mm on other CPUs -------------------------------

static atomic_int spin_stop, spin_ready;
static pthread_t spin_threads[MAXCPU];
static void *spinner(void *arg) {
  pin((int)(intptr_t)arg);
  atomic_fetch_add(&spin_ready, 1);
  while (!atomic_load_explicit(&spin_stop, memory_order_relaxed)) {}
  return 0;
}
/** k threads of this process spinning in user space on CPUs 1..k (they keep the mm loaded). */
static void start_spinners(int k) {
  atomic_store(&spin_stop, 0);
  atomic_store(&spin_ready, 0);
  for (int i = 1; i <= k; i++) pthread_create(&spin_threads[i], 0, spinner, (void *)(intptr_t)i);
  while (atomic_load(&spin_ready) < k) {}
  spin_ns(1e6);
}
static void stop_spinners(int k) {
  atomic_store(&spin_stop, 1);
  for (int i = 1; i <= k; i++) pthread_join(spin_threads[i], 0);
}

// ---- syscalls, timers, atomics -----------------------------------------------------------

static double b_null_syscall(long n, int a) {
  (void)a; pin(0);
  double t0 = now();
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  return (now() - t0) / n;
}
static double b_clock_pair(long n, int a) {
  (void)a; pin(0);
  double t0 = now(), x = 0;
  for (long i = 0; i < n; i++) { double u = now(); x += now() - u; }
  sink = (uintptr_t)x;
  return (now() - t0) / n;
}
static double b_atomic_local(long n, int a) {
  (void)a; pin(0);
  static long x;
  double t0 = now();
  for (long i = 0; i < n; i++) __atomic_fetch_add(&x, 1, __ATOMIC_SEQ_CST);
  return (now() - t0) / n;
}
static double b_store_mb(long n, int a) {
  (void)a; pin(0);
  static volatile long y;
  double t0 = now();
  for (long i = 0; i < n; i++) { y = i; __asm__ volatile("lock; addl $0,-4(%%rsp)" ::: "memory", "cc"); }
  double dt = now() - t0;
  sink = (uintptr_t)y;
  return dt / n;
}
#define ADD4 "add $1,%0\n\tadd $1,%0\n\tadd $1,%0\n\tadd $1,%0\n\t"
static double b_add_chain(long n, int a) {
  (void)a; pin(0);
  unsigned long x = 0;
  double t0 = now();
  for (long i = 0; i < n; i++) __asm__ volatile(ADD4 ADD4 ADD4 ADD4 : "+r"(x));
  double dt = now() - t0;
  sink = x;
  return dt / (n * 16.0);
}
static double b_usleep(long n, int us) {
  pin(0);
  double t0 = now();
  for (long i = 0; i < n; i++) usleep(us);
  return (now() - t0) / n;
}

// ---- handoffs between threads and processes -----------------------------------------------
// Each round trip is timed on its own and the batch's value is the median round trip (minus
// the clock-read pair): another task of the machine that runs on the peer's CPU now and then
// moves the mean far more than the median.

static int efa, efb;
static long rt_iters;
static void *eventfd_peer(void *arg) {
  pin((int)(intptr_t)arg);
  uint64_t v;
  for (long i = 0; i < rt_iters; i++) { if (read(efa, &v, 8) != 8 || write(efb, &v, 8) != 8) break; }
  return 0;
}
static double b_eventfd_threads(long n, int peer_cpu) {
  efa = eventfd(0, 0); efb = eventfd(0, 0); rt_iters = n; pin(0); ops_reset(n);
  pthread_t t; pthread_create(&t, 0, eventfd_peer, (void *)(intptr_t)peer_cpu);
  uint64_t v = 1;
  for (long i = 0; i < n; i++) {
    double t0 = now();
    if (write(efa, &v, 8) != 8 || read(efb, &v, 8) != 8) break;
    ops_add(now() - t0);
  }
  pthread_join(t, 0); close(efa); close(efb);
  return ops_median() - timer_pair_ns;
}
static double b_eventfd_procs(long n, int a) {
  (void)a;
  int x = eventfd(0, 0), y = eventfd(0, 0); pin(0); uint64_t v = 1; ops_reset(n);
  pid_t c = fork();
  if (c == 0) { for (long i = 0; i < n; i++) { if (read(x, &v, 8) != 8 || write(y, &v, 8) != 8) break; } _exit(0); }
  for (long i = 0; i < n; i++) {
    double t0 = now();
    if (write(x, &v, 8) != 8 || read(y, &v, 8) != 8) break;
    ops_add(now() - t0);
  }
  waitpid(c, 0, 0); close(x); close(y);
  return ops_median() - timer_pair_ns;
}
static int pa[2], pb[2];
static void *pipe_peer(void *arg) {
  pin((int)(intptr_t)arg); char c;
  for (long i = 0; i < rt_iters; i++) { if (read(pa[0], &c, 1) != 1 || write(pb[1], &c, 1) != 1) break; }
  return 0;
}
static double b_pipe_threads(long n, int peer_cpu) {
  if (pipe(pa) || pipe(pb)) { perror("pipe"); _exit(3); }
  rt_iters = n; pin(0); ops_reset(n);
  pthread_t t; pthread_create(&t, 0, pipe_peer, (void *)(intptr_t)peer_cpu);
  char c = 1;
  for (long i = 0; i < n; i++) {
    double t0 = now();
    if (write(pa[1], &c, 1) != 1 || read(pb[0], &c, 1) != 1) break;
    ops_add(now() - t0);
  }
  pthread_join(t, 0);
  close(pa[0]); close(pa[1]); close(pb[0]); close(pb[1]);
  return ops_median() - timer_pair_ns;
}
static volatile int ystop;
static void *yielder(void *a) { (void)a; pin(0); while (!ystop) sched_yield(); return 0; }
static double b_sched_yield(long n, int a) {
  (void)a; pin(0); ystop = 0;
  pthread_t t; pthread_create(&t, 0, yielder, 0); sched_yield();
  double t0 = now();
  for (long i = 0; i < n; i++) sched_yield();
  double dt = now() - t0; ystop = 1; pthread_join(t, 0);
  return dt / (2.0 * n); // each of our yields is followed by one of the peer's: 2 switches
}
static void *nop_thread(void *a) { return a; }
static double b_pthread_create(long n, int a) {
  (void)a; pin(0);
  double t0 = now();
  for (long i = 0; i < n; i++) { pthread_t t; pthread_create(&t, 0, nop_thread, 0); pthread_join(t, 0); }
  return (now() - t0) / n;
}
static double b_setaffinity(long n, int a) {
  (void)a;
  double t0 = now();
  for (long i = 0; i < n; i++) pin(i & 1);
  return (now() - t0) / n;
}
static double b_fork_exit(long n, int a) {
  (void)a; pin(0);
  double t0 = now();
  for (long i = 0; i < n; i++) { pid_t c = fork(); if (c == 0) _exit(0); waitpid(c, 0, 0); }
  return (now() - t0) / n;
}
static double b_fork_parent(long n, int a) {
  (void)a; pin(0); double sum = 0;
  for (long i = 0; i < n; i++) { double t0 = now(); pid_t c = fork(); if (c == 0) _exit(0); sum += now() - t0; waitpid(c, 0, 0); }
  return sum / n - timer_pair_ns;
}
static double b_fork_exec(long n, int a) {
  (void)a; pin(0);
  double t0 = now();
  for (long i = 0; i < n; i++) {
    pid_t c = fork();
    if (c == 0) { execl("/bin/true", "true", (char *)0); _exit(127); }
    int st; waitpid(c, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { skip_reason = "/bin/true could not be executed"; return -1; }
  }
  return (now() - t0) / n;
}

// ---- wakeups on another CPU: idle, busy, polling ------------------------------------------

#define WAKE_GAP_NS 500e3 // the target CPU sits idle (or busy) this long before each wakeup
static int wefd, wake_mode;
static atomic_long wflag, wreq;
static atomic_int wstop, wfail;
static void *wake_target(void *a) {
  (void)a; pin(1); uint64_t v; long c = 0;
  if (wake_mode >= 1) {
    struct sched_param sp = { .sched_priority = 1 };
    if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) { atomic_store(&wfail, 1); atomic_store(&wflag, -1); return 0; }
  }
  atomic_store(&wflag, 0);
  while (!atomic_load(&wstop)) { if (read(wefd, &v, 8) != 8) break; atomic_store(&wflag, ++c); }
  return 0;
}
/** An eventfd write waking a thread blocked in read() on CPU 1, until the woken thread's
 *  store is seen on CPU 0; each wakeup timed on its own, the batch's median. mode 0: an
 *  ordinary (SCHED_OTHER) thread, CPU 1 idle; mode 1: a SCHED_FIFO thread, CPU 1 idle;
 *  mode 2: a SCHED_FIFO thread while CPU 1 runs a spinner (the wakeup preempts it at once,
 *  as an ordinary wakeup would not: the busy CPU's reschedule waits for its tick). */
static double b_wake(long n, int mode) {
  wake_mode = mode;
  wefd = eventfd(0, 0); atomic_store(&wflag, -2); atomic_store(&wstop, 0); atomic_store(&wfail, 0);
  pin(0); ops_reset(n);
  if (mode == 2) start_spinners(1);
  pthread_t t; pthread_create(&t, 0, wake_target, 0);
  while (atomic_load(&wflag) == -2) {}
  if (atomic_load(&wfail)) {
    pthread_join(t, 0); if (mode == 2) stop_spinners(1); close(wefd);
    skip_reason = "needs SCHED_FIFO for the woken thread (root or CAP_SYS_NICE)";
    return -1;
  }
  spin_ns(2e6);
  uint64_t one = 1;
  for (long i = 0; i < n; i++) {
    spin_ns(WAKE_GAP_NS);
    double t0 = now();
    if (write(wefd, &one, 8) != 8) break;
    while (atomic_load_explicit(&wflag, memory_order_acquire) != i + 1) {}
    ops_add(now() - t0);
  }
  atomic_store(&wstop, 1); if (write(wefd, &one, 8) != 8) {} pthread_join(t, 0);
  if (mode == 2) stop_spinners(1);
  close(wefd);
  return ops_median() - timer_pair_ns;
}
static void *poll_target(void *a) {
  (void)a; pin(1); long seen = 0;
  while (!atomic_load_explicit(&wstop, memory_order_relaxed)) {
    long r = atomic_load_explicit(&wreq, memory_order_acquire);
    if (r != seen) { seen = r; atomic_store_explicit(&wflag, r, memory_order_release); }
  }
  return 0;
}
/** A store on CPU 0 seen by a thread polling on CPU 1, whose reply store is seen back on
 *  CPU 0: two cache-line transfers. Timed 16 round trips at a time; the median of those. */
static double b_cacheline_rt(long n, int a) {
  (void)a; atomic_store(&wflag, 0); atomic_store(&wreq, 0); atomic_store(&wstop, 0); pin(0);
  long groups = n / 16 + 1; ops_reset(groups);
  pthread_t t; pthread_create(&t, 0, poll_target, 0);
  spin_ns(1e6);
  long i = 0;
  for (long g = 0; g < groups; g++) {
    double t0 = now();
    for (int j = 0; j < 16; j++) {
      i++;
      atomic_store_explicit(&wreq, i, memory_order_release);
      while (atomic_load_explicit(&wflag, memory_order_acquire) != i) {}
    }
    ops_add((now() - t0) / 16);
  }
  atomic_store(&wstop, 1); pthread_join(t, 0);
  return ops_median();
}

// ---- page faults, madvise, mprotect, mmap ---------------------------------------------------

static double b_read_fault(long n, int a) {
  (void)a; pin(0);
  volatile char *p = map_anon(n * PAGE, PROT_READ);
  double t0 = now();
  for (long i = 0; i < n; i++) (void)p[i * PAGE];
  double dt = now() - t0; munmap((void *)p, n * PAGE);
  return dt / n;
}
static double b_write_fault(long n, int a) {
  (void)a; pin(0);
  volatile char *p = map_anon(n * PAGE, PROT_READ | PROT_WRITE);
  double t0 = now();
  for (long i = 0; i < n; i++) p[i * PAGE] = 1;
  double dt = now() - t0; munmap((void *)p, n * PAGE);
  return dt / n;
}
static double b_touch_mapped(long n, int a) {
  (void)a; pin(0);
  volatile char *p = map_anon(512 * PAGE, PROT_READ);
  for (int i = 0; i < 512; i++) (void)p[i * PAGE];
  double t0 = now();
  for (long r = 0; r < n; r++) for (int i = 0; i < 512; i++) (void)p[i * PAGE];
  double dt = now() - t0; munmap((void *)p, 512 * PAGE);
  return dt / (512.0 * n);
}
static double b_write_fault_madvise(long n, int a) {
  (void)a; pin(0);
  volatile char *p = map_anon(PAGE, PROT_READ | PROT_WRITE);
  double t0 = now();
  for (long i = 0; i < n; i++) { p[0] = 1; madvise((void *)p, PAGE, MADV_DONTNEED); }
  double dt = now() - t0; munmap((void *)p, PAGE);
  return dt / n;
}
/** madvise(MADV_DONTNEED) of `pages` present pages, the call alone: the write faults that
 *  repopulate the pages run outside the timed section (clock-read pair subtracted). */
static double madvise_loop(volatile char *p, long n, int pages) {
  double sum = 0;
  for (long i = 0; i < n; i++) {
    touch(p, pages);
    double t0 = now();
    madvise((void *)p, pages * PAGE, MADV_DONTNEED);
    sum += now() - t0;
  }
  return sum / n - timer_pair_ns;
}
static double madvise_timed(long n, int pages, int spinners) {
  pin(0);
  volatile char *p = map_anon(64 * PAGE, PROT_READ | PROT_WRITE);
  touch(p, 64);
  if (!spinners) { double r = madvise_loop(p, n, pages); munmap((void *)p, 64 * PAGE); return r; }
  // A shootdown: the same call while k threads of the mm spin on CPUs 1..k. A flush IPIs
  // only the CPUs that run the mm at that moment, and another task of the machine may hold
  // one for milliseconds: every call is timed, the /proc/interrupts TLB row of CPUs 1..k
  // says how many IPIs were sent (I), and the result is the median of the I/k slowest calls.
  start_spinners(spinners);
  // Chunks of n calls until n/2 of them (at least 10) have sent their IPIs, or 64 chunks.
  ops_reset(n * 64);
  long calls = 0, counted = 1;
  for (int chunk = 0; chunk < 64 && calls < (n / 2 > 10 ? n / 2 : 10); chunk++) {
    long c0 = irq_count("TLB:", 1, spinners);
    for (long i = 0; i < n; i++) {
      touch(p, pages);
      double t0 = now();
      madvise((void *)p, pages * PAGE, MADV_DONTNEED);
      ops_add(now() - t0);
    }
    long c1 = irq_count("TLB:", 1, spinners);
    if (c0 < 0 || c1 < 0) { counted = 0; break; }
    calls += (c1 - c0) / spinners;
  }
  stop_spinners(spinners);
  munmap((void *)p, 64 * PAGE);
  if (!counted) calls = nops;
  if (calls < 1) { skip_reason = "the flushes sent no IPIs: the other CPUs never ran the mm (busy with other tasks)"; return -1; }
  return ops_top_median(calls) - timer_pair_ns;
}
static double b_madvise(long n, int pages) { return madvise_timed(n, pages, 0); }
static double b_shootdown(long n, int k) { return madvise_timed(n, 1, k); }
/** write each page; mprotect(PROT_READ); read each page; mprotect(PROT_READ|PROT_WRITE). */
static double b_mprotect_flip(long n, int pages) {
  pin(0);
  volatile char *p = map_anon(pages * PAGE, PROT_READ | PROT_WRITE);
  touch(p, pages);
  double t0 = now();
  for (long i = 0; i < n; i++) {
    touch(p, pages);
    mprotect((void *)p, pages * PAGE, PROT_READ);
    for (int j = 0; j < pages; j++) (void)p[j * PAGE];
    mprotect((void *)p, pages * PAGE, PROT_READ | PROT_WRITE);
  }
  double dt = now() - t0; munmap((void *)p, pages * PAGE);
  return dt / n;
}
static double b_mmap_touch_munmap(long n, int pages) {
  pin(0);
  double t0 = now();
  for (long i = 0; i < n; i++) {
    volatile char *p = mmap(0, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); _exit(3); }
    touch(p, pages);
    munmap((void *)p, pages * PAGE);
  }
  return (now() - t0) / n;
}
static double b_mmap_munmap_untouched(long n, int a) {
  (void)a; pin(0);
  double t0 = now();
  for (long i = 0; i < n; i++) { void *p = mmap(0, 256UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); munmap(p, 256UL << 20); }
  return (now() - t0) / n;
}
/** munmap of a fully written 16 MiB region (4096 pages), per page; the writes are untimed. */
static double b_munmap_touched(long n, int a) {
  (void)a; pin(0);
  const long pages = 4096; double sum = 0;
  for (long i = 0; i < n; i++) {
    char *p = map_anon(pages * PAGE, PROT_READ | PROT_WRITE);
    touch(p, pages);
    double t0 = now(); munmap(p, pages * PAGE); sum += now() - t0;
  }
  return (sum / n - timer_pair_ns) / pages;
}
static double b_collapse(long n, int a) {
  (void)a; pin(0);
  size_t len = 2UL << 20; double sum = 0;
  for (long i = 0; i < n; i++) {
    char *raw = mmap(0, 2 * len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *p = (char *)(((uintptr_t)raw + len - 1) & ~(uintptr_t)(len - 1));
    madvise(p, len, MADV_NOHUGEPAGE); touch(p, len / PAGE);
    madvise(p, len, MADV_HUGEPAGE);
    double t0 = now();
    int r = madvise(p, len, MADV_COLLAPSE);
    sum += now() - t0;
    munmap(raw, 2 * len);
    if (r != 0) { skip_reason = "MADV_COLLAPSE failed (transparent hugepages off, or a kernel before 6.1)"; return -1; }
  }
  return sum / n - timer_pair_ns;
}
static double b_gup(long n, int pages) {
  pin(0);
  int pf[2]; if (pipe(pf)) { perror("pipe"); _exit(3); }
  fcntl(pf[1], F_SETPIPE_SZ, 1 << 20);
  int dn = open("/dev/null", O_WRONLY);
  char *buf = map_anon(64 * PAGE, PROT_READ | PROT_WRITE);
  touch(buf, 64);
  double t0 = now();
  for (long i = 0; i < n; i++) {
    struct iovec iov = { buf, (size_t)pages * PAGE };
    ssize_t w = vmsplice(pf[1], &iov, 1, 0);
    if (w < 0) { skip_reason = "vmsplice failed"; return -1; }
    while (w > 0) { ssize_t r = splice(pf[0], 0, dn, 0, (size_t)w, 0); if (r <= 0) break; w -= r; }
  }
  double dt = (now() - t0) / n;
  munmap(buf, 64 * PAGE); close(pf[0]); close(pf[1]); close(dn);
  return dt;
}

// ---- page walks: pointer chases ------------------------------------------------------------

/** A random cyclic chase over `lines` cache lines: `per_page` lines in each of lines/per_page
 *  pages (4 KiB pages, THP off). With one line per page the line's offset in its page varies
 *  so that the lines spread over every cache set. */
static void **chase_build(long lines, int per_page, void **region, size_t *len) {
  long pages = (lines + per_page - 1) / per_page;
  *len = pages * PAGE;
  char *base = map_anon(*len, PROT_READ | PROT_WRITE);
  touch(base, pages);
  long *perm = malloc(lines * sizeof *perm);
  for (long i = 0; i < lines; i++) perm[i] = i;
  uint64_t s = 0x9e3779b97f4a7c15ULL;
  for (long i = lines - 1; i > 0; i--) {
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    long j = (long)(s % (uint64_t)(i + 1)), t = perm[i]; perm[i] = perm[j]; perm[j] = t;
  }
#define NODE(i) ((void **)(base + ((i) / per_page) * PAGE + (per_page == 1 ? (((i) * 7) & 63) : ((i) % per_page)) * 64))
  for (long i = 0; i < lines; i++) *NODE(perm[i]) = (void *)NODE(perm[(i + 1) % lines]);
  void **start = NODE(perm[0]);
#undef NODE
  free(perm);
  *region = base;
  return start;
}
static double chase(long n, long lines, int per_page) {
  // Built once per process (the first, calibrating call) and reused by every batch.
  static void **start, *region;
  static size_t len;
  static long built_lines;
  static int built_per_page;
  pin(0);
  if (!start || built_lines != lines || built_per_page != per_page) {
    if (start) munmap(region, len);
    start = chase_build(lines, per_page, &region, &len);
    built_lines = lines; built_per_page = per_page;
  }
  void **p = start;
  for (long i = 0; i < lines; i++) p = (void **)*p; // warm: caches and TLB as they settle
  double t0 = now();
  for (long i = 0; i < n; i++) p = (void **)*p;
  double dt = now() - t0;
  sink = (uintptr_t)p;
  return dt / n;
}
static double b_chase_sparse(long n, int pages) { return chase(n, pages, 1); }
static double b_chase_dense(long n, int lines) { return chase(n, lines, 64); }

// ---- IPIs: membarrier, and what an IPI costs its target -----------------------------------

/** Interrupts of one /proc/interrupts row ("CAL:" function calls, "TLB:" shootdowns) taken
 *  by the usable CPUs first..first+count-1, summed; -1 when unreadable. */
static long irq_count(const char *row, int first, int count) {
  FILE *f = fopen("/proc/interrupts", "r");
  if (!f) return -1;
  static char line[65536];
  int col[MAXCPU], ncol = 0;
  long sum = -1;
  if (fgets(line, sizeof line, f)) {
    int c = 0;
    for (char *tok = strtok(line, " \t\n"); tok; tok = strtok(0, " \t\n"), c++) {
      if (strncmp(tok, "CPU", 3) != 0) continue;
      int id = atoi(tok + 3);
      for (int i = first; i < first + count && i < ncpu; i++) if (cpus[i] == id && ncol < MAXCPU) col[ncol++] = c;
    }
  }
  size_t rl = strlen(row);
  while (ncol == count && fgets(line, sizeof line, f)) {
    char *s = line; while (*s == ' ') s++;
    if (strncmp(s, row, rl) != 0) continue;
    long v[MAXCPU]; int c = 0;
    for (char *tok = strtok(s + rl, " \t\n"); tok && c < MAXCPU; tok = strtok(0, " \t\n")) v[c++] = atol(tok);
    sum = 0;
    for (int i = 0; i < ncol; i++) { if (col[i] >= c) { sum = -1; break; } sum += v[col[i]]; }
    break;
  }
  fclose(f);
  return sum;
}
static int membarrier_ok(void) {
  if (syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0) {
    skip_reason = "membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) failed: the kernel lacks it";
    return 0;
  }
  return 1;
}
static double membarrier_loop(long n) {
  double t0 = now();
  for (long i = 0; i < n; i++) syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
  return (now() - t0) / n;
}
/** A thread on CPU 1 that first blocks on wefd, then (once written) spins until spin_stop. */
static void *block_then_spin(void *a) {
  (void)a; pin(1); uint64_t v;
  if (read(wefd, &v, 8) != 8) {}
  atomic_fetch_add(&spin_ready, 1);
  while (!atomic_load_explicit(&spin_stop, memory_order_relaxed)) {}
  return 0;
}
/** membarrier(PRIVATE_EXPEDITED) with the mm's other thread blocked (target=0: the whole
 *  syscall, no IPI) or spinning on CPU 1 (target=1: one IPI and the wait for its handler).
 *  A membarrier IPIs only CPUs that run the mm at that moment, and another task of the
 *  machine may hold CPU 1 for milliseconds: with target=1 every call is timed, the
 *  /proc/interrupts CAL row says how many (I) sent an IPI, and the result is the median of
 *  the I slowest calls (an IPI'd call is the slower kind). */
static double b_membarrier(long n, int target) {
  if (!membarrier_ok()) return -1;
  pin(0);
  wefd = eventfd(0, 0); atomic_store(&spin_stop, 0); atomic_store(&spin_ready, 0);
  pthread_t t; pthread_create(&t, 0, block_then_spin, 0);
  spin_ns(2e6);
  double r;
  uint64_t one = 1;
  if (!target) {
    r = membarrier_loop(n);
    if (write(wefd, &one, 8) != 8) {}
  } else {
    if (write(wefd, &one, 8) != 8) {}
    while (atomic_load(&spin_ready) < 1) {}
    spin_ns(1e6);
    // Chunks of n calls until n/2 of them (at least 10) have sent an IPI, or 64 chunks.
    ops_reset(n * 64);
    long ipis = 0, counted = 1;
    for (int chunk = 0; chunk < 64 && ipis < (n / 2 > 10 ? n / 2 : 10); chunk++) {
      long c0 = irq_count("CAL:", 1, 1);
      for (long i = 0; i < n; i++) {
        double t0 = now();
        syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
        ops_add(now() - t0);
      }
      long c1 = irq_count("CAL:", 1, 1);
      if (c0 < 0 || c1 < 0) { counted = 0; ipis = nops; break; }
      ipis += c1 - c0;
    }
    if (ipis < 1) { r = -1; skip_reason = "membarrier sent no IPIs: the other CPU never ran the mm (busy with other tasks)"; }
    else r = ops_top_median(counted ? ipis : nops) - timer_pair_ns;
  }
  atomic_store(&spin_stop, 1); pthread_join(t, 0); close(wefd);
  return r;
}
/** The IPI's cost to its target, seen from the target: a thread on CPU 1 reads the clock in
 *  a loop; a gap between two reads of 300 ns .. 200 us is an interrupt (its length is what
 *  the interrupt took from the thread), a longer one is another task or the host holding
 *  the CPU (left out, with the time it took). CPU 0 busy-waits through windows of 10 ms
 *  (4 ms with --quick) and in every other window calls membarrier 20 us after the previous
 *  call returned. Cost per IPI = (gap time - background gap time) / (gaps - background
 *  gaps), the background being the windows without membarrier scaled to the same running
 *  time. n = window pairs. */
#define GAP_MIN_NS 300
#define GAP_MAX_NS 200e3
static atomic_long gap_ns, gap_count, gap_off_ns;
static void *gap_spinner(void *a) {
  (void)a; pin(1);
  double last = now(), typ = 0;
  // the loop's own iteration time, so that a gap counts only what the interrupt added
  { double v[1001]; for (int i = 0; i < 1001; i++) { double t = now(); v[i] = t - last; last = t; } typ = median(v, 1001); }
  atomic_fetch_add(&spin_ready, 1);
  last = now();
  while (!atomic_load_explicit(&spin_stop, memory_order_relaxed)) {
    double t = now(), d = t - last;
    last = t;
    if (d > GAP_MAX_NS) atomic_fetch_add_explicit(&gap_off_ns, (long)d, memory_order_relaxed);
    else if (d > GAP_MIN_NS) {
      atomic_fetch_add_explicit(&gap_ns, (long)(d - typ), memory_order_relaxed);
      atomic_fetch_add_explicit(&gap_count, 1, memory_order_relaxed);
    }
  }
  return 0;
}
#define IPI_WINDOW_NS (quick ? 4e6 : 10e6)
#define IPI_PERIOD_NS 20e3
static double b_ipi_target(long n, int a) {
  (void)a;
  if (!membarrier_ok()) return -1;
  pin(0);
  atomic_store(&spin_stop, 0); atomic_store(&spin_ready, 0);
  atomic_store(&gap_ns, 0); atomic_store(&gap_count, 0); atomic_store(&gap_off_ns, 0);
  pthread_t t; pthread_create(&t, 0, gap_spinner, 0);
  while (atomic_load(&spin_ready) < 1) {}
  spin_ns(2e6);
  // n window pairs, and more (up to 16 n) until 100 IPIs have been seen.
  double lost = 0, ipis = 0;
  for (long pair = 0; pair < n || (ipis < 100 && pair < 16 * n); pair++) {
    double gap[2], cnt[2], run[2];
    for (int k = 0; k < 2; k++) {
      int mode = (pair & 1) ? 1 - k : k;
      long g0 = atomic_load(&gap_ns), n0 = atomic_load(&gap_count), o0 = atomic_load(&gap_off_ns);
      double t0 = now(), next = t0 + IPI_PERIOD_NS, tt;
      while ((tt = now()) < t0 + IPI_WINDOW_NS) {
        if (mode && tt >= next) { syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0); next = now() + IPI_PERIOD_NS; }
      }
      double t1 = now();
      gap[mode] = (double)(atomic_load(&gap_ns) - g0);
      cnt[mode] = (double)(atomic_load(&gap_count) - n0);
      run[mode] = (t1 - t0) - (double)(atomic_load(&gap_off_ns) - o0);
    }
    if (run[0] <= 0.1 * IPI_WINDOW_NS || run[1] <= 0.1 * IPI_WINDOW_NS) continue; // the spinner hardly ran
    lost += gap[1] - gap[0] * run[1] / run[0];
    ipis += cnt[1] - cnt[0] * run[1] / run[0];
  }
  atomic_store(&spin_stop, 1); pthread_join(t, 0);
  if (ipis < 1) { skip_reason = "no IPIs reached the spinning thread (its CPU was busy with other tasks)"; return -1; }
  return lost / ipis;
}

// ---- the table ------------------------------------------------------------------------------

struct bench {
  char name[48];
  const char *what;
  double (*fn)(long n, int arg);
  int arg;
  long n0, nmax;
  int min_cpus; // CPUs the benchmark needs
  int fixed;    // n0 operations per batch, not calibrated
};
static struct bench benches[256];
static int nbench;
static struct bench *add(const char *name, const char *what, double (*fn)(long, int), int arg, long n0, long nmax, int min_cpus) {
  struct bench *b = &benches[nbench++];
  snprintf(b->name, sizeof b->name, "%s", name);
  b->what = what; b->fn = fn; b->arg = arg; b->n0 = n0; b->nmax = nmax; b->min_cpus = min_cpus; b->fixed = 0;
  return b;
}

static void build_table(void) {
  char name[48];
  add("null_syscall", "syscall(SYS_getppid), ns per call", b_null_syscall, 0, 1000, 1L << 24, 1);
  add("clock_gettime_pair", "two clock_gettime(CLOCK_MONOTONIC) reads, ns per pair (subtracted from separately timed calls)", b_clock_pair, 0, 1000, 1L << 24, 1);
  add("atomic_local", "lock xadd on a line this CPU owns, ns per op", b_atomic_local, 0, 1000, 1L << 26, 1);
  add("store_smp_mb", "a store + smp_mb() (lock addl $0,-4(%rsp)), ns per pair", b_store_mb, 0, 1000, 1L << 26, 1);
  add("add_chain", "one dependent register add (1 core cycle), ns per add", b_add_chain, 0, 1000, 1L << 26, 1);
  add("eventfd_roundtrip_same_cpu", "eventfd write+read round trip between two threads of one process on one CPU; median round trip, ns", b_eventfd_threads, 0, 100, 1L << 20, 1);
  add("eventfd_roundtrip_cross_cpu", "eventfd write+read round trip between two threads on two CPUs (each blocks between, its CPU idles); median round trip, ns", b_eventfd_threads, 1, 100, 1L << 20, 2);
  add("eventfd_roundtrip_procs_same_cpu", "eventfd round trip between two processes on one CPU (an mm switch each way); median round trip, ns", b_eventfd_procs, 0, 100, 1L << 20, 1);
  add("pipe_roundtrip_same_cpu", "1-byte pipe write+read round trip between two threads on one CPU; median round trip, ns", b_pipe_threads, 0, 100, 1L << 20, 1);
  add("pipe_roundtrip_cross_cpu", "1-byte pipe write+read round trip between two threads on two CPUs; median round trip, ns", b_pipe_threads, 1, 100, 1L << 20, 2);
  add("sched_yield_switch", "sched_yield between two runnable threads on one CPU, ns per context switch (2 per round)", b_sched_yield, 0, 100, 1L << 22, 1);
  add("pthread_create_join", "pthread_create + pthread_join of an empty thread, ns per pair", b_pthread_create, 0, 10, 1L << 18, 1);
  add("sched_setaffinity_migrate", "sched_setaffinity moving the caller to the other CPU, ns per call", b_setaffinity, 0, 10, 1L << 18, 2);
  add("fork_exit_wait", "fork + child _exit(0) + waitpid, ns per child", b_fork_exit, 0, 2, 1L << 16, 1);
  add("fork_parent", "fork() as the parent sees it (copy_process, dup_mmap), ns per call", b_fork_parent, 0, 2, 1L << 16, 1);
  add("fork_exec_wait", "fork + exec /bin/true + waitpid, ns per child", b_fork_exec, 0, 1, 1L << 14, 1);
  add("wake_idle_cpu", "eventfd write waking a thread blocked on another, idle CPU (idle 0.5 ms) until its store is seen; median wakeup, ns", b_wake, 0, 4, 1L << 12, 2);
  add("wake_idle_cpu_rt", "the same wakeup of a SCHED_FIFO thread on the idle CPU; median wakeup, ns", b_wake, 1, 4, 1L << 12, 2);
  add("wake_busy_cpu_rt", "the same wakeup of a SCHED_FIFO thread while its CPU runs a spinner (not idle: preempted at once); median wakeup, ns", b_wake, 2, 4, 1L << 12, 2);
  add("cacheline_roundtrip_cross_cpu", "a store seen by a thread polling on the other CPU and its reply seen back (2 line transfers); median of 16-round-trip groups, ns per round trip", b_cacheline_rt, 0, 1000, 1L << 22, 2);
  add("read_fault", "first read of an untouched anonymous page (maps the zero page), ns per page", b_read_fault, 0, 64, 1L << 15, 1);
  add("write_fault", "first write of an untouched anonymous page (allocate, zero, map), ns per page", b_write_fault, 0, 64, 1L << 15, 1);
  add("touch_mapped_page", "read of one of 512 already mapped pages, page by page, ns per page", b_touch_mapped, 0, 10, 1L << 20, 1);
  add("write_fault_madvise_1page", "write fault of one page then madvise(MADV_DONTNEED) of it: one iteration of a touch+drop loop, one thread", b_write_fault_madvise, 0, 100, 1L << 20, 1);
  static const int madv_pages[] = { 1, 2, 4, 8, 16, 32, 40, 64 };
  for (unsigned i = 0; i < sizeof madv_pages / sizeof madv_pages[0]; i++) {
    snprintf(name, sizeof name, "madvise_dontneed_%dpage", madv_pages[i]);
    add(name, "madvise(MADV_DONTNEED) of that many present pages, the call alone (the write faults that repopulate them are untimed), one thread", b_madvise, madv_pages[i], 100, 1L << 20, 1);
  }
  static const int mprot_pages[] = { 1, 2, 4, 8, 16, 32, 64 };
  for (unsigned i = 0; i < sizeof mprot_pages / sizeof mprot_pages[0]; i++) {
    snprintf(name, sizeof name, "mprotect_flip_%dpage", mprot_pages[i]);
    add(name, "write each page; mprotect RO; read each page; mprotect RW: one iteration, one thread", b_mprotect_flip, mprot_pages[i], 100, 1L << 20, 1);
  }
  static const int mmap_pages[] = { 1, 4, 16, 64, 256 };
  for (unsigned i = 0; i < sizeof mmap_pages / sizeof mmap_pages[0]; i++) {
    snprintf(name, sizeof name, "mmap_touch_munmap_%dpage", mmap_pages[i]);
    add(name, "mmap that many anonymous pages, write each, munmap: one iteration, one thread", b_mmap_touch_munmap, mmap_pages[i], 10, 1L << 20, 1);
  }
  add("mmap_munmap_256mb_untouched", "mmap + munmap of an untouched 256 MiB region, ns per pair", b_mmap_munmap_untouched, 0, 100, 1L << 20, 1);
  add("munmap_touched_per_page", "munmap of a fully written 16 MiB region (zap, free pages and page tables), ns per page", b_munmap_touched, 0, 1, 1L << 10, 1);
  add("madv_collapse_2mb", "madvise(MADV_COLLAPSE) of 2 MiB of present 4 KiB pages into one huge page, ns per call", b_collapse, 0, 1, 1L << 10, 1);
  add("gup_vmsplice_1page", "vmsplice of 1 present page (GUP-fast) + splice to /dev/null, ns per call", b_gup, 1, 100, 1L << 20, 1);
  add("gup_vmsplice_33page", "vmsplice of 33 present pages (GUP-fast) + splice to /dev/null, ns per call", b_gup, 33, 100, 1L << 20, 1);
  // Pointer chases: one line per page over 16 .. 16384 pages (the sweep finds the STLB's
  // reach), and the 16384 lines packed into 256 pages (the same cache footprint, TLB hits).
  static const int chase_pages[] = { 16, 256, 512, 1024, 1536, 2048, 3072, 4096, 5120, 6144, 8192, 16384 };
  for (unsigned i = 0; i < sizeof chase_pages / sizeof chase_pages[0]; i++) {
    snprintf(name, sizeof name, "chase_sparse_%dpage", chase_pages[i]);
    add(name, "random pointer chase over that many cache lines, one per 4 KiB page, ns per load", b_chase_sparse, chase_pages[i], 10000, 1L << 28, 1);
  }
  add("chase_dense_256page", "random pointer chase over 16384 lines packed into 256 pages (TLB hits, the cache footprint of chase_sparse_16384page), ns per load", b_chase_dense, 16384, 10000, 1L << 28, 1);
  add("membarrier_0target", "membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) with the mm's other thread blocked on another CPU (no IPI), ns per call", b_membarrier, 0, 100, 1L << 22, 2);
  add("membarrier_1target", "membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) while a thread of the mm spins on another CPU (one IPI, waited for): median of the calls that sent one (count from /proc/interrupts), ns", b_membarrier, 1, 100, 1L << 22, 2);
  struct bench *b = add("ipi_target_cost", "time a thread spinning on the target CPU loses per membarrier IPI it takes (its clock-read gaps, with vs without an IPI every 20 us), ns per IPI", b_ipi_target, 0, 2, 2, 2);
  b->fixed = 1;
  // Shootdowns: k = 1 .. ncpu-1 other CPUs running the mm; at most 8 values of k, evenly
  // spread, always including 1 and ncpu-1.
  int ks = ncpu - 1, nk = ks < 8 ? ks : 8, last = 0;
  for (int i = 0; i < nk; i++) {
    int k = nk == 1 ? 1 : 1 + (int)((long)i * (ks - 1) / (nk - 1));
    if (k == last) continue;
    last = k;
    snprintf(name, sizeof name, "shootdown_1page_k%d", k);
    add(name, "madvise(MADV_DONTNEED) of 1 present page while threads of the mm spin on k other CPUs (flush IPIs to them, waited for), the call alone: median of the calls that sent them (count from /proc/interrupts), ns", b_shootdown, k, 100, 1L << 20, k + 1);
  }
  static const int sleeps[] = { 1, 50, 200, 1000 };
  for (unsigned i = 0; i < sizeof sleeps / sizeof sleeps[0]; i++) {
    snprintf(name, sizeof name, "usleep_%dus", sleeps[i]);
    add(name, "the real time usleep() of that many microseconds takes (timer slack included), ns per call", b_usleep, sleeps[i], 2, 1L << 16, 1);
  }
}

static void print_str(const char *s) {
  putchar('"');
  for (; *s; s++) { if (*s == '"' || *s == '\\') putchar('\\'); if ((unsigned char)*s >= 0x20) putchar(*s); }
  putchar('"');
}

/** Run one benchmark in the calling (child) process and print its line. */
static void run_bench(struct bench *b) {
  long n = b->n0;
  double r;
  if (!b->fixed) {
    // A first call builds what a benchmark keeps between calls (the chases' regions) and
    // warms up; then the operations per batch are scaled until a batch takes batch_ns.
    if (b->fn(n, b->arg) < 0) goto skipped;
    for (;;) {
      double t0 = now();
      r = b->fn(n, b->arg);
      double el = now() - t0;
      if (r < 0) goto skipped;
      if (n >= b->nmax) break;
      if (el >= batch_ns * 0.5) { double f = batch_ns / el; if (f > 1) n = (long)(n * f); break; }
      double f = el > 0 ? batch_ns / el : 16;
      n = (long)(n * (f > 16 ? 16 : f < 2 ? 2 : f));
    }
    if (n > b->nmax) n = b->nmax;
  }
  if ((r = b->fn(n, b->arg)) < 0) goto skipped; // warm-up
  double runs[MAXRUNS];
  for (int i = 0; i < nruns; i++) {
    double v[MAXBATCH];
    for (int j = 0; j < nbatch; j++) { v[j] = b->fn(n, b->arg); if (v[j] < 0) goto skipped; }
    runs[i] = median(v, nbatch);
  }
  double sorted[MAXRUNS];
  memcpy(sorted, runs, sizeof runs[0] * nruns);
  double med = median(sorted, nruns);
  printf("{\"name\":\"%s\",\"ns\":%.4f,\"lo\":%.4f,\"hi\":%.4f,\"runs\":%d,\"n\":%ld,\"samples\":[", b->name, med, sorted[0], sorted[nruns - 1], nruns, n);
  for (int i = 0; i < nruns; i++) printf("%s%.4f", i ? "," : "", runs[i]);
  printf("],\"what\":");
  print_str(b->what);
  printf("}\n");
  fflush(stdout);
  return;
skipped:
  printf("{\"name\":\"%s\",\"skipped\":", b->name);
  print_str(skip_reason ? skip_reason : "the benchmark failed");
  printf(",\"what\":");
  print_str(b->what);
  printf("}\n");
  fflush(stdout);
}

static void print_info(void) {
  unsigned a = 0, b = 0, c = 0, d = 0, maxext = 0;
  __get_cpuid(0x80000000, &maxext, &b, &c, &d);
  printf("{\"info\":{\"cpus\":[");
  for (int i = 0; i < ncpu; i++) printf("%s%d", i ? "," : "", cpus[i]);
  printf("],\"runs\":%d,\"quick\":%s,\"batch_ns\":%.0f,\"batches\":%d", nruns, quick ? "true" : "false", batch_ns, nbatch);
  if (maxext >= 0x80000006 && __get_cpuid(0x80000006, &a, &b, &c, &d))
    printf(",\"cpuid_80000006_ebx\":%u", b); // AMD: L2 DTLB 4 KiB entries in bits 27:16
  if (maxext >= 0x80000008 && __get_cpuid(0x80000008, &a, &b, &c, &d))
    printf(",\"cpuid_80000008_edx\":%u", d); // AMD: INVLPGB max pages - 1 in bits 15:0
  // How much of each usable CPU (up to 8) a spinning thread got over 20 ms: other tasks
  // of the machine take the rest, and cross-CPU numbers carry their interference.
  printf(",\"cpu_share\":[");
  for (int i = 0; i < ncpu && i < 8; i++) {
    pin(i);
    struct timespec c0, c1; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    double w0 = now(); spin_ns(20e6); double w1 = now();
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    double cpu = (c1.tv_sec - c0.tv_sec) * 1e9 + (c1.tv_nsec - c0.tv_nsec);
    printf("%s%.3f", i ? "," : "", cpu / (w1 - w0));
  }
  printf("]");
  printf(",\"benchmarks\":[");
  for (int i = 0; i < nbench; i++) { printf("%s", i ? "," : ""); print_str(benches[i].name); }
  printf("]}}\n");
  fflush(stdout);
}

static int selected(const char *name, const char *only) {
  if (!only) return 1;
  char buf[1024]; snprintf(buf, sizeof buf, "%s", only);
  for (char *tok = strtok(buf, ","); tok; tok = strtok(0, ","))
    if (strncmp(name, tok, strlen(tok)) == 0) return 1;
  return 0;
}

int main(int argc, char **argv) {
  const char *only = 0; int list = 0, runs_given = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick")) quick = 1;
    else if (!strcmp(argv[i], "--list")) list = 1;
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc) { nruns = atoi(argv[++i]); runs_given = 1; }
    else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
    else { fprintf(stderr, "usage: %s [--runs N] [--quick] [--only a,b] [--list]\n", argv[0]); return 2; }
  }
  if (quick) { batch_ns = 2e6; nbatch = 3; if (!runs_given) nruns = 3; }
  if (nruns < 1 || nruns > MAXRUNS) { fprintf(stderr, "--runs must be 1..%d\n", MAXRUNS); return 2; }
  cpu_set_t s;
  if (sched_getaffinity(0, sizeof s, &s) != 0) { perror("sched_getaffinity"); return 3; }
  for (int c = 0; c < CPU_SETSIZE && ncpu < MAXCPU; c++) if (CPU_ISSET(c, &s)) cpus[ncpu++] = c;
  build_table();
  if (list) { for (int i = 0; i < nbench; i++) printf("%-34s %s\n", benches[i].name, benches[i].what); return 0; }
  // Only what was asked for goes into the info line's list.
  int kept = 0;
  for (int i = 0; i < nbench; i++) if (selected(benches[i].name, only)) benches[kept++] = benches[i];
  nbench = kept;
  print_info();
  // The clock-read pair subtracted from separately timed calls: a quick median.
  { double v[5]; for (int i = 0; i < 5; i++) v[i] = b_clock_pair(100000, 0); timer_pair_ns = median(v, 5); }
  for (int i = 0; i < nbench; i++) {
    struct bench *b = &benches[i];
    if (ncpu < b->min_cpus) {
      char why[160];
      snprintf(why, sizeof why, "needs %d CPUs, this process may use %d (sched_getaffinity)", b->min_cpus, ncpu);
      skip_reason = why; printf("{\"name\":\"%s\",\"skipped\":", b->name); print_str(why);
      printf(",\"what\":"); print_str(b->what); printf("}\n"); fflush(stdout);
      skip_reason = 0;
      continue;
    }
    fflush(stdout);
    pid_t c = fork();
    if (c < 0) { perror("fork"); return 3; }
    if (c == 0) { alarm(quick ? 30 : 120); run_bench(b); _exit(0); }
    int st; waitpid(c, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      char why[160];
      if (WIFSIGNALED(st)) snprintf(why, sizeof why, "the benchmark process died (%s)", WTERMSIG(st) == SIGALRM ? "timed out" : strsignal(WTERMSIG(st)));
      else snprintf(why, sizeof why, "the benchmark process exited with status %d", WEXITSTATUS(st));
      printf("{\"name\":\"%s\",\"skipped\":", b->name); print_str(why);
      printf(",\"what\":"); print_str(b->what); printf("}\n"); fflush(stdout);
    }
  }
  return 0;
}
