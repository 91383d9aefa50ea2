// `tlbsim inspect <trace>`: what is in a trace, before replaying it.
import type { Command } from 'commander';
import { EVENT_KIND_NAMES, TLB_FLUSH_REASON_NAMES, TRACE_FORMATS, type TraceFormat, type TraceInfo } from '../trace/event.ts';
import { statSync } from 'node:fs';
import { fail, printJsonSafe, printSafe } from './util.ts';
import { fmtNs } from '../analysis/format.ts';
import { TraceError, describeFsError } from '../trace/errors.ts';


export function inspectJson(info: TraceInfo): unknown {
  const events: Record<string, number> = {};
  for (const k of EVENT_KIND_NAMES) if (k !== 'lost') events[k] = info.countsByKind[k] ?? 0;
  const routes = routesOf(info);
  return {
    format: info.format, cpus: info.cpus, spanNs: info.lastNs - info.firstNs, tasks: info.taskCount ?? info.tasks.length, mms: info.mms.length,
    events, observedFlushByReason: info.observedFlushByReason, observedFlushPages: info.observedFlushPages,
    flushRequestsByOrigin: info.flushRequestsByOrigin, tracedFlushRequests: info.tracedFlushRequests,
    observedIpis: info.observedIpis, tasksByRoute: routes,
    skippedLines: info.skippedLines, skipped: info.skipped.slice(0, 20), lostEvents: info.lostEvents, lostMarkers: info.lostMarkers,
    unusedEvents: info.unusedEvents, warnings: info.warnings,
  };
}

/** Tasks by route to their mm: all of them, also when only the first are listed. */
function routesOf(info: TraceInfo): Record<string, number> {
  if (info.taskRoutes !== undefined) return info.taskRoutes;
  const routes: Record<string, number> = {};
  for (const t of info.tasks) routes[t.route] = (routes[t.route] ?? 0) + 1;
  return routes;
}

export function inspectText(info: TraceInfo, verbose: boolean): string {
  const L: string[] = [];
  const routes = routesOf(info);
  L.push(`${info.source}`);
  L.push(`  format        ${info.format}`);
  L.push(`  CPUs          ${info.cpus}`);
  L.push(`  time span     ${fmtNs(info.lastNs - info.firstNs)} (${(info.firstNs / 1e9).toFixed(6)} → ${(info.lastNs / 1e9).toFixed(6)} s)`);
  L.push(`  tasks         ${info.taskCount ?? info.tasks.length}   address spaces ${info.mms.length}`);
  L.push(`  tasks → mm    ${Object.entries(routes).map(([r, n]) => `${r} ${n}`).join(', ')}`);
  L.push(`  events        ${info.events}`);
  for (const k of EVENT_KIND_NAMES) {
    const n = info.countsByKind[k] ?? 0;
    if (n > 0) L.push(`    ${k.padEnd(16)}${String(n).padStart(10)}`);
  }
  L.push(`  flush requests by origin (${info.tracedFlushRequests ? 'from tlb:tlb_flush initiator records' : 'derived from syscalls and exits'})`);
  for (const [o, n] of Object.entries(info.flushRequestsByOrigin)) L.push(`    ${o.padEnd(16)}${String(n).padStart(10)}`);
  if (Object.keys(info.observedFlushByReason).length > 0) {
    L.push('  observed tlb_flush by reason              total      full    ranged   no-flush  pages');
    for (const [r, n] of Object.entries(info.observedFlushByReason)) {
      const p = info.observedFlushPages[r];
      L.push(`    ${r} ${(TLB_FLUSH_REASON_NAMES[Number(r)] ?? 'unknown reason').padEnd(24)}${String(n).padStart(10)}${String(p.full).padStart(10)}${String(p.ranged).padStart(10)}${String(p.none).padStart(11)}${String(p.pages).padStart(7)}`);
    }
  }
  const ipi = info.observedIpis;
  if (ipi.targets > 0) L.push(`  observed IPIs   ${ipi.sends} sends to ${ipi.targets} targets (${Object.entries(ipi.byKind).map(([k, n]) => `${k} ${n}`).join(', ')})`);
  if (Object.keys(info.unusedEvents).length > 0) L.push(`  other events    ${Object.entries(info.unusedEvents).slice(0, 8).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  L.push(`  lost events     ${info.lostEvents} in ${info.lostMarkers} markers`);
  L.push(`  skipped lines   ${info.skippedLines}`);
  const show = verbose ? info.skipped : info.skipped.slice(0, 5);
  for (const s of show) L.push(`    ${s.file}:${s.line}: ${s.reason}: ${JSON.stringify(s.text.slice(0, 100))}`);
  if (!verbose && info.skippedLines > show.length) L.push(`    ... ${info.skippedLines - show.length} more (--verbose lists them${info.skippedLines > info.skipped.length ? `; the first ${info.skipped.length} are kept` : ''})`);
  for (const w of info.warnings) L.push(`  note: ${w}`);
  return L.join('\n');
}

export function register(program: Command): void {
  program.command('inspect')
    .description('read a trace and summarise it: format, CPUs, tasks, address spaces, events, flushes, skipped lines')
    .argument('<trace>', 'ftrace text, trace-cmd report, perf script, tlbsim CSV (plain or .gz), or a trace.dat')
    .option('--json', 'print the summary as JSON')
    .option('--format <format>', `force the input format (${TRACE_FORMATS.join(', ')})`)
    .option('-v, --verbose', 'list every skipped line')
    .option('--no-cache', 'neither read nor write <trace>.tlbcache (the parsed-trace cache)')
    .addHelpText('after', '\nExample:\n  tlbsim inspect traces/real/pingpong-0/trace.txt.gz\n  tlbsim inspect --json trace.txt | jq .events')
    .action(async (path: string, opts: { json?: boolean; format?: string; verbose?: boolean; cache?: boolean }) => {
      if (opts.format && !TRACE_FORMATS.includes(opts.format as TraceFormat)) fail(`unknown format "${opts.format}" (expected one of ${TRACE_FORMATS.join(', ')})`, 2);
      // A path that cannot be stat'ed is refused before the trace readers (zlib, child_process,
      // the CSV and cache codecs) are loaded, in the words openTrace's own probe would use.
      try { statSync(path); } catch (e) { throw new TraceError(`${path}: ${describeFsError(e)}`, path); }
      const { openTrace } = await import('../trace/index.ts');
      const { progress } = await import('./progress.ts');
      const reading = progress(`read ${path.length > 40 ? `…${path.slice(-39)}` : path}`);
      const trace = await openTrace(path, {
        format: opts.format as TraceFormat | undefined, cache: opts.cache === false ? false : undefined,
        onProgress: (done, total) => reading.update(done, total),
      }).finally(() => reading.stop());
      try {
        if (opts.json) printJsonSafe(JSON.stringify(inspectJson(trace.info), null, 2));
        else printSafe(inspectText(trace.info, !!opts.verbose));
      } finally { trace.close(); }
    });
}
