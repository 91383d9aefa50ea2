/* mmapchurn THREADS ITERATIONS PAGES: per-thread mmap/munmap. THREADS threads (0 = one per
 * CPU), each pinned, each mapping PAGES pages of its own, touching them and unmapping them,
 * ITERATIONS times, all in one mm: every munmap shoots down the other CPUs running it, and
 * frees page tables now and then (the case that needs lazy CPUs flushed too). */
#include "lab.h"

static long iterations, npages;

static void *worker(void *arg) {
  long me = (long)arg;
  pin(me);
  pthread_barrier_wait(&start_line);
  for (long i = 0; i < iterations; i++) {
    char *p = map_pages(npages);
    touch(p, npages);
    if (munmap(p, npages * page_size) != 0) { perror("munmap"); exit(1); }
  }
  return NULL;
}

int main(int argc, char **argv) {
  page_size = sysconf(_SC_PAGESIZE);
  long threads = arg(argc, argv, 1, online_cpus());
  iterations = arg(argc, argv, 2, 50);
  npages = arg(argc, argv, 3, 4);
  run_threads("mmapchurn", threads, worker);
  return 0;
}
