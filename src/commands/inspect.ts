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

/** Rows as columns: the first cell of each row left-aligned, the others right-aligned,
 *  each column as wide as its widest cell and two spaces between columns, so that no count
 *  (a 200 MB trace has millions) runs into its neighbour. The first `headers` rows are
 *  headings; the rows under them are indented two spaces more. */
function aligned(rows: string[][], indent: string, headers = 0): string[] {
  const first = rows.map((r, i) => (headers > 0 && i >= headers ? '  ' : '') + r[0]);
  const widths = rows[0] === undefined ? [] : rows[0].map((_, k) => Math.max(...rows.map((r, i) => (k === 0 ? first[i] : r[k] ?? '').length)));
  return rows.map((r, i) => indent + first[i].padEnd(widths[0]) + r.slice(1).map((c, k) => '  ' + c.padStart(widths[k + 1])).join(''));
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
  const kinds = EVENT_KIND_NAMES.filter((k) => (info.countsByKind[k] ?? 0) > 0).map((k) => [k, String(info.countsByKind[k])]);
  L.push(...aligned(kinds, '    '));
  L.push(`  flush requests by origin (${info.tracedFlushRequests ? 'from tlb:tlb_flush initiator records' : 'derived from syscalls and exits'})`);
  L.push(...aligned(Object.entries(info.flushRequestsByOrigin).map(([o, n]) => [o, String(n)]), '    '));
  if (Object.keys(info.observedFlushByReason).length > 0) {
    const rows = Object.entries(info.observedFlushByReason).map(([r, n]) => {
      const p = info.observedFlushPages[r];
      return [`${r} ${TLB_FLUSH_REASON_NAMES[Number(r)] ?? 'unknown reason'}`, ...[n, p.full, p.ranged, p.none, p.pages].map(String)];
    });
    L.push(...aligned([['observed tlb_flush by reason', 'total', 'full', 'ranged', 'no-flush', 'pages'], ...rows], '  ', 1));
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
