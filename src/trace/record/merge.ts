// Merging per-CPU tracefs text (`per_cpu/cpuN/trace`) into the one time-ordered text the
// top-level `trace` file would have printed.
//
// Why: reading the top-level `trace` makes the kernel pick the oldest event across all CPU
// buffers for every line, which under QEMU TCG with 32+ vCPUs takes minutes; each CPU's own
// file is read in one pass, all of them in parallel. Each file is already in time order, so
// a k-way merge on the timestamp gives the same order, except among lines of different CPUs
// within one printed microsecond: the kernel orders by nanoseconds it does not print, so
// those come in CPU order here. Lines are kept byte for byte (they
// are handled as latin1, one char per byte); only the per-file `#` headers are left out,
// because the caller writes the top-level header once.

/** One CPU's text, as bytes (gunzipped by the caller). */
export interface CpuText { cpu: number; text: Buffer }

// "[003] d..2.  7253.649616: " — the CPU column, the flags column (absent with irq-info
// off), the timestamp (6 or 9 decimals, or none with a counter clock) and its colon.
const TIMESTAMP = /\[\d+\]\s+(?:\S{4,5}\s+)?(\d+)(?:\.(\d+))?:\s/;

/** An event line's timestamp in ns (exact: < 2^53 for 104 days of uptime), or null for a
 *  line without one (a `CPU:1 [LOST 3 EVENTS]` or `##### CPU 1 buffer started ####` marker). */
export function timestampNs(line: string): number | null {
  const m = TIMESTAMP.exec(line);
  if (!m) return null;
  const frac = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  return Number(m[1]) * 1e9 + Number(frac);
}

/** The lines of one CPU's text, after its leading `#` header. */
function* bodyLines(text: Buffer): Generator<string> {
  let start = 0;
  let inHeader = true;
  while (start < text.length) {
    let end = text.indexOf(10, start);
    if (end === -1) end = text.length;
    const line = text.toString('latin1', start, end);
    start = end + 1;
    if (inHeader && (line.startsWith('#') || line === '')) continue;
    inHeader = false;
    yield line;
  }
}

interface Cursor { cpu: number; lines: Generator<string>; line: string; key: number }

/**
 * The lines of all CPUs in timestamp order, without their `#` headers; each line without
 * its newline. Ties keep the CPUs' order (lower CPU first) so that the output is stable. A
 * marker line without a timestamp sorts with the line before it on its own CPU (it tells
 * what happened to that CPU's buffer at that point).
 */
export function* mergeCpuTexts(cpus: readonly CpuText[]): Generator<string> {
  const cursors: Cursor[] = [];
  const advance = (c: Cursor): boolean => {
    const r = c.lines.next();
    if (r.done) return false;
    c.line = r.value;
    const ts = timestampNs(r.value);
    if (ts !== null) c.key = ts;
    return true;
  };
  for (const t of [...cpus].sort((a, b) => a.cpu - b.cpu)) {
    const c: Cursor = { cpu: t.cpu, lines: bodyLines(t.text), line: '', key: -1 };
    if (advance(c)) cursors.push(c);
  }
  // A linear scan for the smallest head: k is at most a few hundred CPUs, and the scan is
  // cheap next to turning the bytes into strings.
  while (cursors.length > 0) {
    let best = 0;
    for (let i = 1; i < cursors.length; i++) if (cursors[i].key < cursors[best].key) best = i;
    const c = cursors[best];
    yield c.line;
    if (!advance(c)) cursors.splice(best, 1);
  }
}

/** Events in a per-CPU stats file (`per_cpu/cpuN/stats`) that never reached the text:
 *  overwritten (overrun) or refused (dropped events). */
export function lostInStats(stats: string): number {
  const overrun = /^overrun:\s*(\d+)/m.exec(stats);
  const dropped = /^dropped events:\s*(\d+)/m.exec(stats);
  return Number(overrun?.[1] ?? 0) + Number(dropped?.[1] ?? 0);
}
