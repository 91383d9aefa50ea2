#!/bin/bash
# Record kernel events for tlbsim fixtures from a PRIVATE tracefs instance (or -i top).
# usage: record.sh [-t on|off] [-o OUT] [-w WORKLOAD_OUT] [-b KB_PER_CPU] [-c CLOCK]
#                  [-i INSTANCE|top] [-k] [-s STATS] [-x DAT] [-p PERFDATA] -- COMMAND [ARGS...]
#   -t  record-tgid on/off (default on)        -o  trace text output (default trace.txt)
#   -w  file for the command's stdout+stderr (default: pass through)
#   -b  buffer_size_kb per CPU (default 65536)  -c  trace_clock (default: instance default, local)
#   -i  instance name (default tlbsim-rec); "top" = the top-level buffer (its settings are
#       saved and restored, the events enabled here are disabled again afterwards)
#   -k  keep the instance (do not rmdir it)
#   -s  FILE  write per-CPU buffer stats (overrun/dropped) to FILE
#   -x  DAT   afterwards also run `trace-cmd extract` into DAT (for trace-cmd fixtures;
#       `trace-cmd record` refuses on this VM: writing /proc/sys/kernel/ftrace_enabled -> EPERM)
#   -p  DATA  use `perf record -a` (same events, -e SUBSYS:EVENT) instead of tracefs, writing
#       DATA; OUT is then `perf script -i DATA` text (default fields). -t/-b/-c/-i do not apply.
# The trace is the instance's `trace` file copied verbatim after the command exits.
set -euo pipefail
tgid=on out=trace.txt wout= kb=65536 clock= inst=tlbsim-rec keep=0 stats= dat= pdata=
while getopts "t:o:w:b:c:i:ks:x:p:" o; do case $o in
  t) tgid=$OPTARG;; o) out=$OPTARG;; w) wout=$OPTARG;; b) kb=$OPTARG;; c) clock=$OPTARG;;
  i) inst=$OPTARG;; k) keep=1;; s) stats=$OPTARG;; x) dat=$OPTARG;; p) pdata=$OPTARG;; *) sed -n 2,16p "$0"; exit 2;; esac; done
shift $((OPTIND-1)); [ "$#" -gt 0 ] || { sed -n 2,16p "$0"; exit 2; }
EVENTS="sched/sched_switch sched/sched_migrate_task sched/sched_process_fork sched/sched_process_exit
 sched/sched_process_exec tlb/tlb_flush ipi/ipi_send_cpu ipi/ipi_send_cpumask syscalls/sys_enter_munmap
 syscalls/sys_enter_madvise syscalls/sys_enter_mmap syscalls/sys_enter_mprotect csd/csd_queue_cpu"
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs nodev $T
if [ -n "$pdata" ]; then
  pev=(); for e in $EVENTS $(cd $T/events && ls -d */exit_mmap 2>/dev/null); do
    [ -d "$T/events/$e" ] && pev+=(-e "${e/\//:}") || echo "note: event $e not available" >&2; done
  rc=0
  if [ -n "$wout" ]; then perf record -a "${pev[@]}" -o "$pdata" -- "$@" > "$wout" || rc=$?
  else perf record -a "${pev[@]}" -o "$pdata" -- "$@" || rc=$?; fi
  perf script -i "$pdata" > "$out"
  echo "recorded $(wc -l < "$out") lines to $out (command exit $rc)" >&2
  exit $rc
fi
enabled=()
if [ "$inst" = top ]; then
  I=$T
  [ -z "$(cat $I/set_event)" ] || { echo "top-level buffer already has events enabled; refusing" >&2; exit 1; }
  sv_kb=$(cat $I/buffer_size_kb) sv_on=$(cat $I/tracing_on) sv_tgid=$(cat $I/options/record-tgid)
  sv_clock=$(sed -E 's/.*\[([a-z0-9_-]+)\].*/\1/' $I/trace_clock)
  cleanup(){ echo 0 > $I/tracing_on; for e in "${enabled[@]}"; do echo 0 > "$e/enable"; done
    echo "$sv_kb" > $I/buffer_size_kb; echo "$sv_tgid" > $I/options/record-tgid
    echo "$sv_clock" > $I/trace_clock; echo "$sv_on" > $I/tracing_on; }
else
  I=$T/instances/$inst
  [ -d "$I" ] && { echo "instance $inst exists; remove it first" >&2; exit 1; }
  mkdir "$I"
  # (trace-cmd extract -B removes the instance itself, hence the ||true)
  cleanup(){ echo 0 > "$I/tracing_on" 2>/dev/null || true; [ $keep = 1 ] || rmdir "$I" 2>/dev/null || true; }
fi
trap cleanup EXIT
echo 0 > "$I/tracing_on"
echo "$kb" > "$I/buffer_size_kb"
[ -n "$clock" ] && echo "$clock" > "$I/trace_clock"
case $tgid in on|1) echo 1 > "$I/options/record-tgid";; off|0) echo 0 > "$I/options/record-tgid";; *) echo "bad -t" >&2; exit 2;; esac
for e in $EVENTS; do
  if [ -d "$I/events/$e" ]; then echo 1 > "$I/events/$e/enable"; enabled+=("$I/events/$e"); else echo "note: event $e not available" >&2; fi
done
for d in "$I"/events/*/exit_mmap; do [ -d "$d" ] && { echo 1 > "$d/enable"; enabled+=("$d"); }; done
echo > "$I/trace"
echo 1 > "$I/tracing_on"
rc=0
if [ -n "$wout" ]; then "$@" > "$wout" 2>&1 || rc=$?; else "$@" || rc=$?; fi
echo 0 > "$I/tracing_on"
cat "$I/trace" > "$out"
if [ -n "$stats" ]; then for c in "$I"/per_cpu/cpu*; do echo "== ${c##*/}"; cat "$c/stats"; done > "$stats"; fi
if [ -n "$dat" ]; then
  if [ "$inst" = top ]; then trace-cmd extract -o "$dat" >&2; else trace-cmd extract -B "$inst" -o "$dat" >&2; fi
fi
echo "recorded $(wc -l < "$out") lines to $out (command exit $rc)" >&2
exit $rc
