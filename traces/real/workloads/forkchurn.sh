#!/bin/sh
# Shell half of the churn: N runs of /bin/true and N $(dirname) subshells from sh, then
# the forkchurn program (EXEC fork+exec, NOEXEC plain forks, THREADS threads).
# usage: forkchurn.sh N EXEC NOEXEC THREADS   (run from the directory holding ./forkchurn)
n=${1:-100}; t0=$(date +%s%N); i=0
while [ $i -lt $n ]; do /bin/true; d=$(dirname /a/b); i=$((i+1)); done
t1=$(date +%s%N)
echo "forkchurn.sh true+dirname=$n ns_per_iter=$(( (t1-t0)/n ))"
./forkchurn ${2:-100} ${3:-5} ${4:-4}
