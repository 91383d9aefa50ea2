// tlbsim's canonical CSV: one row per canonical event, so a parsed trace can be saved,
// shared, edited by hand, and read back to replay identically.
//
//   # tlbsim-trace v1 cpus=2 format=ftrace
//   time_ns,cpu,kind,tid,mm,a,b,c,name
//   ,,task,19498,1,19498,3,,record.sh          task rows: a = tgid, b = route, name = comm
//   ,,mm,19498,1,,,,record.sh                  mm rows: tid = leader
//   7351769146000,0,observed_flush,19498,1,4,-1,0,
//
// Event columns mean what event.ts says for each kind. Task names are untrusted: a name
// that a spreadsheet would run as a formula (= + - @ tab CR) is written with a leading
// apostrophe, as is a name that already starts with one, and the reader removes exactly
// one, so names round-trip unchanged.
import { createWriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import Papa from 'papaparse';
import {
  EVENT_KIND_NAMES, EventKind, type EventSource, type MmInfo, type TaskInfo, type TaskRoute, type TraceFormat, pushEvent, TASK_ROUTES,
} from './event.ts';
import { TraceError } from './input.ts';
import type { EventStore } from './store.ts';
import { REORDER_WINDOW_NS } from './reorder.ts';

// Bounds on the numbers of a CSV row, which may have been edited by hand or made by
// anyone: ids index the simulator's tables, so an id of 2^31 would allocate gigabytes.
/** PID_MAX_LIMIT (tasks.ts; repeated here to keep the CSV reader free of the text tokenizers). */
const MAX_TID = 4 * 1024 * 1024;
const MAX_CPUS = 4096;
/** 4 KiB pages in a 57-bit address space (as text/payloads/tlb-flush.ts). */
const MAX_PAGES = 2 ** 45;
/** mm ids a CSV may use without declaring them in `mm` rows. */
const UNDECLARED_MMS = 65535;

export const CSV_MAGIC = '# tlbsim-trace v1';
export const CSV_COLUMNS = ['time_ns', 'cpu', 'kind', 'tid', 'mm', 'a', 'b', 'c', 'name'] as const;
const ROUTES = TASK_ROUTES;

/** Make a text cell safe for spreadsheets (and reversible by `unneutralise`). */
export function neutralise(text: string): string {
  return /^[=+\-@\t\r']/.test(text) ? `'${text}` : text;
}
export function unneutralise(text: string): string {
  return text.startsWith("'") ? text.slice(1) : text;
}

/** Writes an event source as canonical CSV (gzipped when the path ends in .gz). */
export async function writeTraceCsv(source: EventSource, path: string): Promise<number> {
  const info = source.info;
  const stringifier = stringify({ quoted_match: /[",\n\r]/ });
  async function* rows(): AsyncGenerator<string[] | string> {
    for (const t of info.tasks) {
      yield ['', '', 'task', String(t.tid), String(t.mm), String(t.tgid), String(ROUTES.indexOf(t.route)), '', neutralise(t.comm)];
    }
    for (const m of info.mms) yield ['', '', 'mm', String(m.leader), String(m.id), '', '', '', neutralise(m.comm)];
    for await (const b of source.batches()) {
      for (let i = 0; i < b.length; i++) {
        yield [String(b.time[i]), String(b.cpu[i]), EVENT_KIND_NAMES[b.kind[i]], String(b.tid[i]), String(b.mm[i]),
          String(b.a[i]), String(b.b[i]), String(b.c[i]), ''];
      }
    }
  }
  let count = 0;
  const body = Readable.from((async function* () { for await (const r of rows()) { count++; yield r; } })());
  // One stream from the magic line to the last row, so a .gz file is a single gzip member.
  const text = async function* () {
    yield `${CSV_MAGIC} cpus=${info.cpus} format=${info.format}\n${CSV_COLUMNS.join(',')}\n`;
    yield* body.pipe(stringifier);
  };
  const out = createWriteStream(path);
  if (path.endsWith('.gz')) await pipeline(text(), createGzip(), out);
  else await pipeline(text(), out);
  return count;
}

export interface CsvHeader { cpus: number; format: TraceFormat | 'csv' }

export function parseCsvMagic(firstLine: string, file: string): CsvHeader {
  if (!firstLine.startsWith(CSV_MAGIC)) throw new TraceError(`${file}:1: expected "${CSV_MAGIC} cpus=N", found "${firstLine.slice(0, 60)}"`, file, 1);
  // The whole word: `cpus=1e400` is no CPU count (\d+ alone would read it as 1).
  const m = /cpus=(\S+)/.exec(firstLine);
  if (!m) throw new TraceError(`${file}:1: the tlbsim-trace header has no cpus=N`, file, 1);
  if (!/^\d{1,4}$/.test(m[1]) || Number(m[1]) < 1 || Number(m[1]) > MAX_CPUS) throw new TraceError(`${file}:1: cpus=${m[1].slice(0, 12)} is not a CPU count tlbsim simulates (1 to ${MAX_CPUS})`, file, 1);
  const f = /format=([\w-]+)/.exec(firstLine);
  return { cpus: Number(m[1]), format: (f?.[1] ?? 'csv') as TraceFormat };
}

export interface CsvReadResult {
  header: CsvHeader;
  tasks: TaskInfo[];
  mms: MmInfo[];
  lines: number;
  skipped: { line: number; reason: string; text: string }[];
  skippedLines: number;
  maxCpu: number;
  /** Rows up to REORDER_WINDOW_NS earlier than a row before them (to be put in order). */
  late: number;
}

const KIND_BY_NAME = new Map<string, number>(Object.entries(EventKind));

/** Reads canonical CSV text chunks into `store` (papaparse, streaming). */
export async function readTraceCsv(chunks: AsyncIterable<string>, file: string, store: EventStore): Promise<CsvReadResult> {
  const tasks: TaskInfo[] = [];
  const mms: MmInfo[] = [];
  const skipped: CsvReadResult['skipped'] = [];
  let skippedLines = 0;
  let header: CsvHeader | null = null;
  let line = 0;
  let sawColumns = false;
  let maxCpu = -1;
  let maxNs = -Infinity, late = 0;
  const bad = (reason: string, row: string[], at = line) => {
    skippedLines++;
    if (skipped.length < 1000) skipped.push({ line: at, reason, text: row.join(',').slice(0, 200) });
  };
  interface Row { t: number; cpu: number; code: number; tid: number; mm: number; a: number; b: number; c: number; line: number; text: string[] }
  /** A row that jumped more than the reorder window past every row before it (or the
   *  first row), waiting for the next one to vouch for it. */
  let held: Row | null = null;
  const accept = (e: Row) => {
    if (e.t < maxNs) late++; else maxNs = e.t;
    if (e.cpu > maxCpu) maxCpu = e.cpu;
    pushEvent(store.reserve(), e.code, e.t, e.cpu, e.tid, e.mm, e.a, e.b, e.c);
  };
  const refute = (h: Row, next: number) => {
    const before = maxNs === -Infinity ? '' : ` before it (${maxNs}) and`;
    bad(`time_ns ${h.t} is out of line with the rows${before} after it (${next}): a damaged timestamp, left out`, h.text, h.line);
  };
  await new Promise<void>((resolve, reject) => {
    Papa.parse<string[]>(Readable.from(chunks), {
      header: false,
      // Blank lines are kept (and ignored below) so that row numbers are line numbers.
      skipEmptyLines: false,
      step: (res: Papa.ParseStepResult<string[]>) => {
        line++;
        const row = res.data;
        if (row.length === 1 && row[0].trim() === '') return;
        if (line === 1 || (row.length === 1 && row[0].startsWith('#'))) {
          if (line === 1) header = parseCsvMagic(row.join(','), file);
          return;
        }
        if (!sawColumns && row[0] === 'time_ns') {
          sawColumns = true;
          if (row.join(',') !== CSV_COLUMNS.join(',')) bad(`expected the columns ${CSV_COLUMNS.join(',')}`, row);
          return;
        }
        if (row.length !== CSV_COLUMNS.length) { bad(`expected ${CSV_COLUMNS.length} columns, found ${row.length}`, row); return; }
        const kind = row[2];
        if (kind === 'task') {
          const route = ROUTES[Number(row[6])] ?? 'guess-own-mm';
          tasks.push({ tid: Number(row[3]), mm: Number(row[4]), tgid: Number(row[5]), route, comm: unneutralise(row[8]) });
          return;
        }
        if (kind === 'mm') {
          if (!isId(Number(row[4]), MAX_TID)) { bad('an mm row needs an id from 0 to 4194303', row); return; }
          mms.push({ id: Number(row[4]), leader: Number(row[3]), comm: unneutralise(row[8]) });
          return;
        }
        const code = KIND_BY_NAME.get(kind);
        if (code === undefined) { bad(`unknown event kind "${kind.slice(0, 40)}"`, row); return; }
        const t = Number(row[0]), cpu = Number(row[1]), tid = Number(row[3]), mm = Number(row[4]);
        const a = Number(row[5]), b = Number(row[6]), c = Number(row[7]);
        if (![t, cpu, tid, mm, a, b, c].every(Number.isFinite) || row[0] === '' || row[1] === '') { bad('a numeric column is empty or not a number', row); return; }
        if (cpu < 0 || cpu >= (header?.cpus ?? 4096) || !Number.isInteger(cpu)) { bad(`CPU ${asWritten(row[1])} is outside the ${header?.cpus} CPUs of the header`, row); return; }
        const mmLimit = Math.max(UNDECLARED_MMS, mms.length);
        const problem = !isId(tid, MAX_TID) ? `tid ${asWritten(row[3])} is not a task id (0 to ${MAX_TID - 1})`
          : !isId(mm, mmLimit) ? `mm ${asWritten(row[4])} is not an address-space id (0 to ${mmLimit})`
            : checkArgs(code, a, b, mmLimit, asWritten(row[5]), asWritten(row[6]));
        if (problem !== null) { bad(problem, row); return; }
        const W = REORDER_WINDOW_NS;
        if (held !== null) {
          // The row after a jump says whether the trace went on from there (a gap) or
          // carried on from before (one damaged timestamp), as the ftrace reader decides.
          const h = held;
          held = null;
          if (t >= h.t - W) accept(h);
          else refute(h, t);
        }
        if (t < maxNs - W) { bad(`time_ns ${asWritten(row[0])} is more than ${W} ns earlier than a row before it (${maxNs})`, row); return; }
        const e: Row = { t, cpu, code, tid, mm, a, b, c, line, text: row };
        if (maxNs === -Infinity || t > maxNs + W) { held = e; return; }
        accept(e);
      },
      complete: () => { if (held !== null) accept(held); held = null; resolve(); },
      error: (e: Error) => reject(e),
    });
  });
  if (header === null) throw new TraceError(`${file}: empty tlbsim CSV`, file);
  return { header, tasks, mms, lines: line, skipped, skippedLines, maxCpu, late };
}

/** A number for a message: an integer past 2^53 as the row writes it (the double would
 *  print rounded digits), cut short; any other as the number read. */
function asWritten(text: string): string {
  const v = Number(text);
  if (Number.isSafeInteger(v) || !/^-?\d+$/.test(text)) return String(v);
  return text.length > 24 ? `${text.slice(0, 24)}...` : text;
}

function isId(v: number, limit: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= limit;
}

/** What is wrong with columns a and b for this kind, where they are ids or page counts. */
function checkArgs(kind: number, a: number, b: number, mmLimit: number, aText: string, bText: string): string | null {
  switch (kind) {
    case EventKind.switch: case EventKind.fork:
      if (!isId(a, MAX_TID)) return `${EVENT_KIND_NAMES[kind]} column a (${aText}) is not a task id`;
      if (!isId(b, mmLimit)) return `${EVENT_KIND_NAMES[kind]} column b (${bText}) is not an address-space id`;
      return null;
    case EventKind.exec:
      return isId(a, mmLimit) ? null : `exec column a (${aText}) is not an address-space id`;
    case EventKind.flush_request:
      return b >= -1 && b <= MAX_PAGES ? null : `flush_request pages (${bText}) is neither -1 nor a page count of a 57-bit address space`;
    case EventKind.access:
      return b >= 0 && b <= MAX_PAGES ? null : `access pages (${bText}) is not a page count of a 57-bit address space`;
  }
  return null;
}
