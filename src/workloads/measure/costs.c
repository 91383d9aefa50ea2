// Base-cost microbenchmarks behind src/workloads/costs.ts ("measured here" rows).
// Each prints ns per operation (median of 5 runs). Build and run on an idle machine:
//   gcc -O2 -pthread -o /tmp/tlbsim-costs src/workloads/measure/costs.c && /tmp/tlbsim-costs
// Needs 2 CPUs (cpu 0 and 1). Nothing here is fitted to a published benchmark result.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/uio.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
static void pin(int c) { cpu_set_t s; CPU_ZERO(&s); CPU_SET(c, &s); sched_setaffinity(0, sizeof s, &s); }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
#define RUNS 5
typedef double (*bench_fn)(void);
static void report(const char *name, bench_fn f) {
  double r[RUNS]; for (int i = 0; i < RUNS; i++) r[i] = f();
  qsort(r, RUNS, sizeof r[0], cmp);
  printf("%-34s %10.1f ns   (min %.1f max %.1f)\n", name, r[RUNS / 2], r[0], r[RUNS - 1]);
  fflush(stdout);
}

// a) null syscall
static double b_syscall(void) {
  int n = 1000000; double t0 = now();
  for (int i = 0; i < n; i++) syscall(SYS_getppid);
  return (now() - t0) / n;
}

// b) eventfd handoff between two threads of one process on one CPU (no mm switch).
static int efa, efb; static int rt_iters = 200000;
static void *peer(void *arg) {
  pin((int)(long)arg); uint64_t v;
  for (int i = 0; i < rt_iters; i++) { read(efa, &v, 8); write(efb, &v, 8); }
  return 0;
}
static double pingpong_threads(int peer_cpu) {
  efa = eventfd(0, 0); efb = eventfd(0, 0); pin(0);
  pthread_t t; pthread_create(&t, 0, peer, (void *)(long)peer_cpu);
  uint64_t v = 1; double t0 = now();
  for (int i = 0; i < rt_iters; i++) { write(efa, &v, 8); read(efb, &v, 8); }
  double dt = now() - t0; pthread_join(t, 0); close(efa); close(efb);
  return dt / rt_iters;
}
static double b_pp_threads_same(void) { return pingpong_threads(0); }
static double b_pp_threads_cross(void) { return pingpong_threads(1); }

// c) eventfd round trip between two processes on one CPU (includes the mm switch).
static double b_pp_procs(void) {
  int a = eventfd(0, 0), b = eventfd(0, 0); pin(0); uint64_t v = 1;
  pid_t c = fork();
  if (c == 0) { for (int i = 0; i < rt_iters; i++) { read(a, &v, 8); write(b, &v, 8); } _exit(0); }
  double t0 = now();
  for (int i = 0; i < rt_iters; i++) { write(a, &v, 8); read(b, &v, 8); }
  double dt = now() - t0; waitpid(c, 0, 0); close(a); close(b);
  return dt / rt_iters;
}

// d) first read of untouched anonymous pages (fault maps the zero page), per page
#define FPAGES 16384
static double b_read_fault(void) {
  volatile char *p = mmap(0, (size_t)FPAGES * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  madvise((void *)p, (size_t)FPAGES * 4096, MADV_NOHUGEPAGE);
  double t0 = now(); for (int i = 0; i < FPAGES; i++) (void)p[(size_t)i * 4096];
  double dt = now() - t0; munmap((void *)p, (size_t)FPAGES * 4096); return dt / FPAGES;
}
// e) first write of untouched anonymous pages (fault allocates and zeroes a page), per page
static double b_write_fault(void) {
  volatile char *p = mmap(0, (size_t)FPAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  madvise((void *)p, (size_t)FPAGES * 4096, MADV_NOHUGEPAGE);
  double t0 = now(); for (int i = 0; i < FPAGES; i++) p[(size_t)i * 4096] = 1;
  double dt = now() - t0; munmap((void *)p, (size_t)FPAGES * 4096); return dt / FPAGES;
}
// e') touch of already-mapped pages (TLB mostly missing: 16k pages), per page
static double b_touch_mapped(void) {
  volatile char *p = mmap(0, 512 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (int i = 0; i < 512; i++) (void)p[(size_t)i * 4096];
  int reps = 2000; double t0 = now();
  for (int r = 0; r < reps; r++) for (int i = 0; i < 512; i++) (void)p[(size_t)i * 4096];
  double dt = now() - t0; munmap((void *)p, 512 * 4096); return dt / (512.0 * reps);
}
// f) madvise(DONTNEED) of a present page, alone (fault excluded by timing only the call)
static double b_madvise(void) {
  volatile char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  int n = 100000; double sum = 0;
  for (int i = 0; i < n; i++) { p[0] = 1; double t0 = now(); madvise((void *)p, 4096, MADV_DONTNEED); sum += now() - t0; }
  munmap((void *)p, 4096); return sum / n;
}
// f') the whole madvthreads-1 iteration: write (fault) + madvise
static double b_touch_madvise(void) {
  volatile char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  int n = 100000; double t0 = now();
  for (int i = 0; i < n; i++) { p[0] = 1; madvise((void *)p, 4096, MADV_DONTNEED); }
  double dt = now() - t0; munmap((void *)p, 4096); return dt / n;
}
// g) mmap + munmap of an untouched 256 MiB region (per call pair)
static double b_mmap_munmap(void) {
  int n = 20000; double t0 = now();
  for (int i = 0; i < n; i++) { void *p = mmap(0, 256 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); munmap(p, 256 << 20); }
  return (now() - t0) / n;
}
// g') munmap of a fully written 64 MiB region, per page (zap + free, page tables freed)
static double b_munmap_touched(void) {
  size_t len = 64 << 20; char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  madvise(p, len, MADV_NOHUGEPAGE); for (size_t i = 0; i < len; i += 4096) p[i] = 1;
  double t0 = now(); munmap(p, len); return (now() - t0) / (len / 4096);
}
// h) sched_setaffinity to the other CPU (the migration), per call
static double b_setaffinity(void) {
  int n = 20000; double t0 = now();
  for (int i = 0; i < n; i++) pin(i & 1);
  return (now() - t0) / n;
}
// i) fork + child _exit + wait
static double b_fork_exit(void) {
  int n = 2000; double t0 = now();
  for (int i = 0; i < n; i++) { pid_t c = fork(); if (c == 0) _exit(0); waitpid(c, 0, 0); }
  return (now() - t0) / n;
}
// i') fork + exec /bin/true + wait
static double b_fork_exec(void) {
  int n = 500; double t0 = now();
  for (int i = 0; i < n; i++) { pid_t c = fork(); if (c == 0) { execl("/bin/true", "true", (char *)0); _exit(127); } waitpid(c, 0, 0); }
  return (now() - t0) / n;
}
// k) sched_yield between two runnable threads on one CPU: one switch per yield (no wakeup)
static volatile int ystop;
static void *yielder(void *a) { (void)a; pin(0); while (!ystop) sched_yield(); return 0; }
static double b_yield(void) {
  pin(0); ystop = 0; pthread_t t; pthread_create(&t, 0, yielder, 0); sched_yield();
  int n = 200000; double t0 = now();
  for (int i = 0; i < n; i++) sched_yield();
  double dt = now() - t0; ystop = 1; pthread_join(t, 0);
  return dt / (2.0 * n); // each of our yields is followed by one of the peer's: 2 switches
}
// l) pipe round trip between two threads on one CPU (context_switch1 uses pipes)
static int pa[2], pb[2];
static void *pipepeer(void *arg) { pin((int)(long)arg); char c; for (int i = 0; i < rt_iters; i++) { read(pa[0], &c, 1); write(pb[1], &c, 1); } return 0; }
static double pipe_threads(int peer_cpu) {
  pipe(pa); pipe(pb); pin(0); pthread_t t; pthread_create(&t, 0, pipepeer, (void *)(long)peer_cpu);
  char c = 1; double t0 = now();
  for (int i = 0; i < rt_iters; i++) { write(pa[1], &c, 1); read(pb[0], &c, 1); }
  double dt = now() - t0; pthread_join(t, 0); close(pa[0]); close(pa[1]); close(pb[0]); close(pb[1]);
  return dt / rt_iters;
}
static double b_pipe_same(void) { return pipe_threads(0); }
static double b_pipe_cross(void) { return pipe_threads(1); }
// m) fork() as seen by the parent (copy_process + dup_mmap), child exits at once
static double b_fork_only(void) {
  int n = 2000; double sum = 0;
  for (int i = 0; i < n; i++) { double t0 = now(); pid_t c = fork(); if (c == 0) _exit(0); sum += now() - t0; waitpid(c, 0, 0); }
  return sum / n;
}
// n) MADV_COLLAPSE (25) of a 2 MiB range of 512 present 4 KiB pages (copy into a THP, free the PTE table)
static double b_collapse(void) {
  size_t len = 2 << 20; int n = 50; double sum = 0; int ok = 0;
  for (int i = 0; i < n; i++) {
    char *raw = mmap(0, 2 * len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *p = (char *)(((uintptr_t)raw + len - 1) & ~(uintptr_t)(len - 1));
    madvise(p, len, MADV_NOHUGEPAGE); for (size_t o = 0; o < len; o += 4096) p[o] = 1;
    madvise(p, len, MADV_HUGEPAGE);
    double t0 = now(); if (madvise(p, len, 25) == 0) { sum += now() - t0; ok++; }
    munmap(raw, 2 * len);
  }
  return ok ? sum / ok : -1;
}
// o) GUP-fast through vmsplice (pins the user pages) + splice to /dev/null; slope per page
static double gup(int pages) {
  int pf[2]; pipe(pf); fcntl(pf[1], F_SETPIPE_SZ, 1 << 20); int dn = open("/dev/null", O_WRONLY);
  char *buf = mmap(0, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (int i = 0; i < 64; i++) buf[i * 4096] = 1;
  int n = 20000; double t0 = now();
  for (int i = 0; i < n; i++) {
    struct iovec iov = { buf, (size_t)pages * 4096 };
    ssize_t w = vmsplice(pf[1], &iov, 1, 0);
    while (w > 0) { ssize_t r = splice(pf[0], 0, dn, 0, (size_t)w, 0); if (r <= 0) break; w -= r; }
  }
  double dt = (now() - t0) / n; munmap(buf, 64 * 4096); close(pf[0]); close(pf[1]); close(dn); return dt;
}
static double b_gup1(void) { return gup(1); }
static double b_gup_slope(void) { return (gup(33) - gup(1)) / 32; }
// j) pthread_create + join of an empty thread
static void *nop(void *a) { return a; }
static double b_thread(void) {
  int n = 5000; double t0 = now();
  for (int i = 0; i < n; i++) { pthread_t t; pthread_create(&t, 0, nop, 0); pthread_join(t, 0); }
  return (now() - t0) / n;
}

int main(void) {
  report("null syscall (getppid)", b_syscall);
  report("eventfd round trip, threads, 1 CPU", b_pp_threads_same);
  report("eventfd round trip, procs, 1 CPU", b_pp_procs);
  report("eventfd round trip, threads, 2 CPU", b_pp_threads_cross);
  report("read fault (zero page), per page", b_read_fault);
  report("write fault (anon), per page", b_write_fault);
  report("touch mapped page (512 set), /page", b_touch_mapped);
  report("madvise DONTNEED 1 present page", b_madvise);
  report("write fault + madvise DONTNEED", b_touch_madvise);
  report("mmap+munmap 256 MiB untouched", b_mmap_munmap);
  report("munmap touched 64 MiB, per page", b_munmap_touched);
  report("sched_setaffinity to other CPU", b_setaffinity);
  report("fork + _exit + wait", b_fork_exit);
  report("fork + exec /bin/true + wait", b_fork_exec);
  report("pthread_create + join", b_thread);
  report("sched_yield switch, 1 CPU", b_yield);
  report("pipe round trip, threads, 1 CPU", b_pipe_same);
  report("pipe round trip, threads, 2 CPU", b_pipe_cross);
  report("fork() in parent", b_fork_only);
  report("MADV_COLLAPSE 2 MiB (512 pages)", b_collapse);
  report("vmsplice+splice 1 page (GUP-fast)", b_gup1);
  report("  per extra page (slope)", b_gup_slope);
  return 0;
}
