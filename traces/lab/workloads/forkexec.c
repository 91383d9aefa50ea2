/* forkexec THREADS ITERATIONS: fork/exec churn beside busy threads. THREADS-1 threads (0 =
 * one per CPU) spin on CPUs 1.., writing their own pages of the process's memory, while
 * thread 0 (CPU 0) forks and the child execs /bin/true, ITERATIONS times. Each fork
 * write-protects the parent's memory (copy-on-write), which must be flushed on every CPU
 * where a busy thread runs the mm; each exec and exit builds and tears down a new mm. */
#include "lab.h"
#include <sys/wait.h>

static long iterations;
static volatile int stop;
static char *pages;

static void *worker(void *arg) {
  long me = (long)arg;
  pin(me);
  pthread_barrier_wait(&start_line);
  if (me != 0) {
    volatile char *mine = pages + me * page_size;
    for (long i = 0; !stop; i++) mine[0] = (char)i;
    return NULL;
  }
  for (long i = 0; i < iterations; i++) {
    pid_t child = fork();
    if (child < 0) { perror("fork"); exit(1); }
    if (child == 0) { execl("/bin/true", "true", (char *)NULL); _exit(127); }
    int status;
    if (waitpid(child, &status, 0) < 0) { perror("waitpid"); exit(1); }
  }
  stop = 1;
  return NULL;
}

int main(int argc, char **argv) {
  page_size = sysconf(_SC_PAGESIZE);
  long threads = arg(argc, argv, 1, online_cpus());
  iterations = arg(argc, argv, 2, 20);
  pages = map_pages(threads);
  touch(pages, threads);
  run_threads("forkexec", threads, worker);
  return 0;
}
