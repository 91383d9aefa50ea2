#!/bin/bash
# usage: count.sh FILE[.gz]  > counts.json
# Counts lines of a stored trace text (raw tracefs, trace-cmd report, perf script) with
# zcat/grep/sort only. An event line is one where, right after the timestamp ("NNN: "),
# comes EVENT: or SUBSYS:EVENT: (perf) or, for raw-tracefs syscall events, sys_NAME( .
set -uo pipefail
f=$1
rd(){ case $f in *.gz) zcat -- "$f";; *) cat -- "$f";; esac; }
cnt(){ rd | grep -cE "$1" || true; }
total=$(cnt '')
hdr=$(cnt '^(#|cpus=[0-9]+$|version *= *[0-9]+$)')
started=$(cnt '^##### CPU [0-9]+ buffer started')
lost_lines=$(cnt '\[LOST [0-9]+ EVENTS\]')
lost_sum=$(rd | grep -oE '\[LOST [0-9]+ EVENTS\]' | grep -oE '[0-9]+' | awk '{s+=$1} END{print s+0}')
TS='[0-9]: +([a-z_]+:)?'
declare -A re
for e in sched_switch sched_migrate_task sched_process_fork sched_process_exit sched_process_exec \
         tlb_flush ipi_send_cpu ipi_send_cpumask csd_queue_cpu exit_mmap; do re[$e]="${TS}${e}:"; done
for s in munmap madvise mmap mprotect; do re[sys_enter_$s]="([0-9]: +sys_${s}\(|${TS}sys_enter_${s}:)"; done
order="sched_switch sched_migrate_task sched_process_fork sched_process_exit sched_process_exec tlb_flush
 ipi_send_cpu ipi_send_cpumask csd_queue_cpu exit_mmap sys_enter_munmap sys_enter_madvise sys_enter_mmap sys_enter_mprotect"
sum=0; ev=""
for e in $order; do n=$(cnt "${re[$e]}"); sum=$((sum+n)); ev="$ev${ev:+, }\"$e\": $n"; done
reasons=$(rd | grep -E "${re[tlb_flush]}" | grep -oE '\([0-9]+\) *$' | tr -d '() ' | sort -n | uniq -c \
          | awk '{printf "%s\"%s\": %s", (NR>1?", ":""), $2, $1}')
rtext=$(rd | grep -E "${re[tlb_flush]}" | grep -oE 'reason[:=].*$' | sed -E 's/^reason[:=]//; s/ +$//' | sort | uniq -c \
          | awk '{n=$1; $1=""; sub(/^ /,""); gsub(/"/,"\\\""); printf "%s\"%s\": %s", (NR>1?", ":""), $0, n}')
other=$((total-hdr-lost_lines-sum))
cat <<J
{
  "file": "$(basename -- "$f")",
  "sha256": "$(sha256sum -- "$f" | cut -d' ' -f1)",
  "total_lines": $total,
  "header_lines": $hdr,
  "buffer_started_marker_lines": $started,
  "lost_event_marker_lines": $lost_lines,
  "lost_events_total": $lost_sum,
  "events": {$ev},
  "event_lines_total": $sum,
  "unclassified_lines": $other,
  "tlb_flush_reason": {$reasons},
  "tlb_flush_reason_text": {$rtext}
}
J
