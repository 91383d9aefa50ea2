/* Shared by the lab workloads (traces/lab/workloads/NAME.c): argument parsing, pinning, a
 * start barrier, and the page touch the TLB must hold. Each workload is one file that
 * `tlbsim record --vm` compiles with cc -static -O2 -pthread; this header is included. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static long page_size;

/* A positive whole number argument, or `fallback` when it is absent or 0 (0 threads means
 * one per online CPU). */
static inline long arg(int argc, char **argv, int i, long fallback) {
  if (i >= argc) return fallback;
  char *end;
  long v = strtol(argv[i], &end, 10);
  if (*end != '\0' || v < 0) { fprintf(stderr, "%s: argument %d must be a whole number, got \"%s\"\n", argv[0], i, argv[i]); exit(2); }
  return v == 0 ? fallback : v;
}

static inline long online_cpus(void) { long n = sysconf(_SC_NPROCESSORS_ONLN); return n > 0 ? n : 1; }

/* Pin the calling thread to one CPU, so that "one thread per CPU" holds for the whole run
 * and every flush IPI goes to a known CPU. */
static inline void pin(long cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET((int)(cpu % online_cpus()), &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
}

static inline void *map_pages(long pages) {
  void *p = mmap(NULL, pages * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(1); }
  return p;
}

static inline void touch(volatile char *p, long pages) { for (long i = 0; i < pages; i++) p[i * page_size] = (char)i; }

static pthread_barrier_t start_line;

static inline double now_s(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

/* Start `n` threads running fn(index) (index 0 is the caller's, run in the calling thread)
 * behind a barrier so that they all begin together; wait for them; print the time. */
static inline void run_threads(const char *name, long n, void *(*fn)(void *)) {
  pthread_t *t = calloc(n, sizeof *t);
  pthread_barrier_init(&start_line, NULL, n);
  for (long i = 1; i < n; i++) if (pthread_create(&t[i], NULL, fn, (void *)i) != 0) { perror("pthread_create"); exit(1); }
  double t0 = now_s();
  fn((void *)0);
  for (long i = 1; i < n; i++) pthread_join(t[i], NULL);
  printf("%s: %ld threads, %.3f s\n", name, n, now_s() - t0);
}
