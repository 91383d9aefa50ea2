// THREADS threads (pinned round-robin to 2 CPUs) share one mm; each round thread 0 mmaps
// MB megabytes, every thread touches its slice, thread 0 munmaps it; barriers between steps.
// usage: mmapthreads THREADS ROUNDS MB
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
static int n,rounds;static size_t len;static char*volatile buf;static pthread_barrier_t bar;
static void pin(int c){cpu_set_t s;CPU_ZERO(&s);CPU_SET(c%2,&s);sched_setaffinity(0,sizeof s,&s);}
static void*run(void*a){long id=(long)a;pin(id);size_t sl=len/n;
 for(int r=0;r<rounds;r++){
  if(id==0)buf=mmap(0,len,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);
  pthread_barrier_wait(&bar);
  for(size_t o=0;o<sl;o+=4096)buf[id*sl+o]=1;
  pthread_barrier_wait(&bar);
  if(id==0)munmap(buf,len);
  pthread_barrier_wait(&bar);}
 return 0;}
int main(int argc,char**argv){n=argc>1?atoi(argv[1]):4;rounds=argc>2?atoi(argv[2]):20;len=(size_t)(argc>3?atoi(argv[3]):8)<<20;
 pthread_t t[64];pthread_barrier_init(&bar,0,n);struct timespec t0,t1;clock_gettime(CLOCK_MONOTONIC,&t0);
 for(long i=1;i<n;i++)pthread_create(&t[i],0,run,(void*)i);run(0);for(int i=1;i<n;i++)pthread_join(t[i],0);
 clock_gettime(CLOCK_MONOTONIC,&t1);
 printf("mmapthreads threads=%d rounds=%d mb=%zu ns_per_round=%.1f\n",n,rounds,len>>20,((t1.tv_sec-t0.tv_sec)*1e9+(t1.tv_nsec-t0.tv_nsec))/rounds);return 0;}
