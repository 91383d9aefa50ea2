#!/bin/sh
# Mixed workload: generate FILES small C files in DIR and build them with make -j JOBS.
# usage: build.sh DIR FILES JOBS
d=${1:-/tmp/tlbsim-build}; n=${2:-12}; j=${3:-2}; rm -rf "$d"; mkdir -p "$d"; cd "$d" || exit 1
i=0; objs=""; : > main.c; echo "#include <stdio.h>" >> main.c
while [ $i -lt $n ]; do
  printf '#include <string.h>\nint f%d(int x){char b[64];memset(b,x,sizeof b);int s=0;for(int i=0;i<64;i++)s+=b[i]*%d;return s;}\n' $i $i > f$i.c
  echo "int f$i(int);" >> main.c; objs="$objs f$i.o"; i=$((i+1)); done
echo "int main(void){int s=0;" >> main.c; i=0; while [ $i -lt $n ]; do echo "s+=f$i($i);" >> main.c; i=$((i+1)); done
echo 'printf("%d\\n",s);return 0;}' >> main.c
printf 'CFLAGS=-O2\nprog: main.o%s\n\t$(CC) -o $@ $^\n' "$objs" > Makefile
t0=$(date +%s%N); make -s -j"$j" && ./prog > /dev/null; rc=$?; t1=$(date +%s%N)
echo "build files=$n jobs=$j rc=$rc ms=$(( (t1-t0)/1000000 ))"
