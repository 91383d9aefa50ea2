/* madvstorm THREADS ITERATIONS: the shared-mm MADV_DONTNEED storm. THREADS threads (0 = one
 * per CPU), each pinned to its own CPU, each touching its own page of one mapping and
 * dropping it with madvise(MADV_DONTNEED), ITERATIONS times. Every DONTNEED must flush the
 * page on every CPU that runs the mm, so each one is a local flush plus a shootdown of all
 * the others: the case where the flush strategies differ most. */
#include "lab.h"

static long iterations;
static char *pages;

static void *worker(void *arg) {
  long me = (long)arg;
  pin(me);
  volatile char *mine = pages + me * page_size;
  pthread_barrier_wait(&start_line);
  for (long i = 0; i < iterations; i++) {
    mine[0] = (char)i;
    if (madvise((void *)mine, page_size, MADV_DONTNEED) != 0) { perror("madvise"); exit(1); }
  }
  return NULL;
}

int main(int argc, char **argv) {
  page_size = sysconf(_SC_PAGESIZE);
  long threads = arg(argc, argv, 1, online_cpus());
  iterations = arg(argc, argv, 2, 100);
  pages = map_pages(threads);
  run_threads("madvstorm", threads, worker);
  return 0;
}
