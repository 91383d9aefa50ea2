/* sleepwake THREADS ITERATIONS SLEEP_US: CPUs that go idle and come back. Thread 0 (CPU 0)
 * touches and MADV_DONTNEEDs its page ITERATIONS times; THREADS-1 others (0 = one per CPU),
 * each pinned, touch their own page and sleep SLEEP_US microseconds, again and again, so
 * that their CPUs keep switching to idle with the mm still loaded (lazy TLB) and back.
 * Which of them the flushes must reach, and which can be skipped until they wake, is what
 * the lazy-TLB strategies disagree about. */
#include "lab.h"

static long iterations, sleep_us;
static volatile int stop;
static char *pages;

static void *worker(void *arg) {
  long me = (long)arg;
  pin(me);
  volatile char *mine = pages + me * page_size;
  pthread_barrier_wait(&start_line);
  if (me != 0) {
    for (long i = 0; !stop; i++) { mine[0] = (char)i; usleep(sleep_us); }
    return NULL;
  }
  for (long i = 0; i < iterations; i++) {
    mine[0] = (char)i;
    if (madvise((void *)mine, page_size, MADV_DONTNEED) != 0) { perror("madvise"); exit(1); }
    if (i % 8 == 7) usleep(sleep_us / 4);
  }
  stop = 1;
  return NULL;
}

int main(int argc, char **argv) {
  page_size = sysconf(_SC_PAGESIZE);
  long threads = arg(argc, argv, 1, online_cpus());
  iterations = arg(argc, argv, 2, 200);
  sleep_us = arg(argc, argv, 3, 2000);
  pages = map_pages(threads);
  run_threads("sleepwake", threads, worker);
  return 0;
}
