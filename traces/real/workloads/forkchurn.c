// Process churn: EXEC children that fork+exec /bin/true, NOEXEC children that fork, touch
// a page of the parent's heap (COW) and _exit, THREADS threads that mmap/touch/munmap and exit.
// usage: forkchurn EXEC NOEXEC THREADS
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
static char heap[1<<16];
static void*thr(void*a){char*p=mmap(0,1<<16,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);
 for(int i=0;i<16;i++)p[i*4096]=1;munmap(p,1<<16);return a;}
int main(int argc,char**argv){int ex=argc>1?atoi(argv[1]):100,nx=argc>2?atoi(argv[2]):5,th=argc>3?atoi(argv[3]):4;
 struct timespec t0,t1;clock_gettime(CLOCK_MONOTONIC,&t0);for(int i=0;i<(int)sizeof heap;i+=4096)heap[i]=1;
 for(int i=0;i<ex;i++){pid_t c=fork();if(c==0){execl("/bin/true","true",(char*)0);_exit(127);}waitpid(c,0,0);}
 for(int i=0;i<nx;i++){pid_t c=fork();if(c==0){heap[i*4096%sizeof heap]=2;_exit(0);}waitpid(c,0,0);}
 pthread_t t[64];for(int i=0;i<th&&i<64;i++)pthread_create(&t[i],0,thr,0);for(int i=0;i<th&&i<64;i++)pthread_join(t[i],0);
 clock_gettime(CLOCK_MONOTONIC,&t1);
 printf("forkchurn exec=%d noexec=%d threads=%d ns_per_child=%.1f\n",ex,nx,th,((t1.tv_sec-t0.tv_sec)*1e9+(t1.tv_nsec-t0.tv_nsec))/(ex+nx+th));return 0;}
