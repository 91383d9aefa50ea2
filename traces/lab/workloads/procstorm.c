/* procstorm PROCESSES ITERATIONS: the MADV_DONTNEED loop in processes mode (as
 * will-it-scale's tlb_flush2 -t vs -p). PROCESSES processes (0 = one per CPU), each pinned
 * to its own CPU with an mm of its own, each touching and dropping its own page ITERATIONS
 * times. Nobody else runs those mms, so every flush is local and no IPI is needed: the
 * baseline beside madvstorm. */
#include "lab.h"
#include <sys/wait.h>

int main(int argc, char **argv) {
  page_size = sysconf(_SC_PAGESIZE);
  long procs = arg(argc, argv, 1, online_cpus());
  long iterations = arg(argc, argv, 2, 100);
  double t0 = now_s();
  /* A pipe as the start line: every child blocks reading it until the parent closes it. */
  int go[2];
  if (pipe(go) != 0) { perror("pipe"); return 1; }
  for (long p = 0; p < procs; p++) {
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child > 0) continue;
    close(go[1]);
    pin(p);
    volatile char *mine = map_pages(1);
    char c;
    if (read(go[0], &c, 1) < 0) perror("read");
    for (long i = 0; i < iterations; i++) {
      mine[0] = (char)i;
      if (madvise((void *)mine, page_size, MADV_DONTNEED) != 0) { perror("madvise"); _exit(1); }
    }
    _exit(0);
  }
  close(go[0]);
  close(go[1]);
  int failed = 0, status;
  while (wait(&status) > 0) if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
  printf("procstorm: %ld processes, %.3f s\n", procs, now_s() - t0);
  return failed;
}
