// A real recorded trace whose user task names were replaced by markup and spreadsheet
// formulas: what a hostile program could name itself. Task names are the only trace text a
// report and a CSV show. Only user tasks are renamed, so the replay (and the violation
// pcid-v4-posted shows on this trace) stays the same as on the original.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tempFile } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/** [original name, pid] in traces/real/pingpong-512 -> the hostile name that task gets. */
export const RENAMES: readonly [string, number, string][] = [
  ['pingpong', 7655, '<img src=x onerror=window.__pwned=1>'],
  ['pingpong', 7656, '"</script><script>window.__pwned=2</script>'],
  ['record.sh', 7653, '=HYPERLINK("http://x.invalid/","y")'],
];
export const HOSTILE_NAMES = RENAMES.map(([, , to]) => to);

/** Writes the renamed trace (ftrace text) and returns its path. */
export function hostileTrace(): string {
  let text = gunzipSync(readFileSync(`${ROOT}traces/real/pingpong-512/trace.txt.gz`)).toString('utf8');
  for (const [from, pid, to] of RENAMES) {
    const name = from.replace('.', '\\.');
    // The line prefix `comm-pid` and the `..comm=NAME ..pid=PID` fields of sched events.
    text = text.replace(new RegExp(`${name}-${pid}\\b`, 'g'), () => `${to}-${pid}`)
      .replace(new RegExp(`comm=${name} (\\w*pid)=${pid}\\b`, 'g'), (_m, field: string) => `comm=${to} ${field}=${pid}`);
  }
  return tempFile(text, '.txt');
}
