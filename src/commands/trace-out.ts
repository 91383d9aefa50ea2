// `replay --trace-out DIR` and the report's per-CPU timeline: the recorded second pass
// over an input (src/replay/record.ts), its Chrome trace-event files, and the recordings
// of the pair of strategies the report shows.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { EventSource } from '../trace/event.ts';
import type { CostProfile } from '../machine/profiles.ts';
import type { RunResult } from '../machine/result.ts';
import type { Recording } from '../machine/recorder.ts';
import { atomicTarget, fail, writeFailed } from './util.ts';
import { progress } from './progress.ts';

export interface RecordingOptions {
  /** --trace-out DIR. */
  traceOut?: string;
  /** --timeline a,b (the strategies named), undefined for the default pair, false for none. */
  timeline?: string[] | false;
  /** A report is written (it carries the timeline). */
  report: boolean;
  profile: CostProfile;
  pcid?: false;
  /** Which input this is, of how many (file names when there are several). */
  inputIndex: number;
  inputCount: number;
}

/** --timeline's value, checked against the strategies being replayed, before any input is
 *  read. undefined: the default pair; false: --no-timeline. */
export function parseTimeline(value: string | boolean | undefined, strategies: readonly string[]): string[] | false | undefined {
  if (value === undefined || value === true) return undefined;
  if (value === false) return false;
  const names = [...new Set(value.split(',').map((s) => s.trim()).filter((s) => s.length > 0))];
  if (names.length < 1 || names.length > 2) fail(`--timeline expects one or two strategy names separated by a comma, got "${value}"`, 2);
  for (const n of names) {
    if (!strategies.includes(n)) fail(`--timeline: strategy "${n}" is not among those replayed (${strategies.join(', ')})`, 2);
  }
  return names;
}

/** Check --trace-out's directory before any input is read (a file there is an error). */
export function checkTraceOut(dir: string | undefined): void {
  if (dir === undefined) return;
  let st;
  try { st = statSync(dir); } catch { return; }
  if (!st.isDirectory()) fail(`--trace-out ${dir}: exists and is not a directory; --trace-out takes a directory to write one trace-event JSON per strategy into`, 1);
}

/** Record what the options ask for on one input: every strategy for --trace-out (written
 *  at once), the timeline's pair for the report. Returns the pair's recordings, if any. */
export async function recordInput(source: EventSource, results: readonly RunResult[], opts: RecordingOptions): Promise<{ recordings: Recording[] } | undefined> {
  const { recordRuns, defaultTimelinePair } = await import('../replay/record.ts');
  const replayed = results.map((r) => r.strategy.name);
  const pair = opts.report && opts.timeline !== false ? (opts.timeline ?? defaultTimelinePair(results)) : [];
  const wanted = opts.traceOut !== undefined ? replayed : pair;
  if (wanted.length === 0) return undefined;
  const spin = progress(`record ${wanted.length === 1 ? wanted[0] : `${wanted.length} strategies`}`);
  let runs: Awaited<ReturnType<typeof recordRuns>>;
  try {
    runs = await recordRuns(source, { strategies: wanted, profile: opts.profile, ...(opts.pcid === false ? { pcid: false } : {}) });
  } finally {
    spin.stop();
  }
  if (opts.traceOut !== undefined) {
    const { chromeTrace, chromeTraceText, traceFileName } = await import('../analysis/perfetto.ts');
    const dir = opts.traceOut;
    try { mkdirSync(dir, { recursive: true }); } catch (e) { writeFailed(dir, 'trace files into', e); }
    // Several inputs: each file is named after its input too.
    const prefix = opts.inputCount > 1 ? `${opts.inputIndex + 1}-${basename(source.info.source).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_')}.` : '';
    for (const r of runs) {
      const path = join(dir, traceFileName(r.recording.strategy, prefix));
      const target = atomicTarget(path);
      try {
        writeFileSync(target.tmp, chromeTraceText(chromeTrace(r.recording, source.info)));
        target.commit();
      } catch (e) {
        target.abandon();
        writeFailed(path, 'the trace file', e);
      }
    }
    process.stderr.write(`trace-out: ${runs.length} trace-event files in ${dir} (open in ui.perfetto.dev or chrome://tracing)\n`);
  }
  const recordings = pair.map((n) => runs.find((r) => r.recording.strategy === n)?.recording).filter((r): r is Recording => r !== undefined);
  return recordings.length > 0 ? { recordings } : undefined;
}
