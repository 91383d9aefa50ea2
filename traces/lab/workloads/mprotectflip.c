/* mprotectflip THREADS ITERATIONS: mprotect flips. THREADS threads (0 = one per CPU), each
 * pinned, each flipping its own page of one shared mapping read-only and back to
 * read-write, writing it in between, ITERATIONS times. Taking write permission away needs
 * the page flushed on every CPU running the mm; giving it back needs no flush. */
#include "lab.h"

static long iterations;
static char *pages;

static void *worker(void *arg) {
  long me = (long)arg;
  pin(me);
  char *mine = pages + me * page_size;
  pthread_barrier_wait(&start_line);
  for (long i = 0; i < iterations; i++) {
    *(volatile char *)mine = (char)i;
    if (mprotect(mine, page_size, PROT_READ) != 0) { perror("mprotect"); exit(1); }
    (void)*(volatile char *)mine;
    if (mprotect(mine, page_size, PROT_READ | PROT_WRITE) != 0) { perror("mprotect"); exit(1); }
  }
  return NULL;
}

int main(int argc, char **argv) {
  page_size = sysconf(_SC_PAGESIZE);
  long threads = arg(argc, argv, 1, online_cpus());
  iterations = arg(argc, argv, 2, 100);
  pages = map_pages(threads);
  run_threads("mprotectflip", threads, worker);
  return 0;
}
