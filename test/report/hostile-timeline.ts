// Real recorded traces whose user tasks were renamed to markup and to a right-to-left
// override (U+202E, which reverses how the text after it is shown): what a hostile program
// could call itself, for the timeline and the trace-event export. Only user tasks are
// renamed, so the replay stays what it is on the original.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tempFile } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

export const BIDI_NAME = '\u202Egpj.exe';
/** [trace, original name, pid, hostile name]. */
const RENAMES: readonly [string, string, number, string][] = [
  ['pingpong-512', 'pingpong', 7655, '<img src=x onerror=window.__pwned=1>'],
  ['pingpong-512', 'pingpong', 7656, BIDI_NAME],
];
export const TIMELINE_HOSTILE_NAMES = RENAMES.map(([, , , to]) => to);

/** traces/real/<name>/trace.txt.gz with the renames, as a temporary ftrace text file. */
export function hostileTimelineTrace(name = 'pingpong-512'): string {
  let text = gunzipSync(readFileSync(`${ROOT}traces/real/${name}/trace.txt.gz`)).toString('utf8');
  for (const [trace, from, pid, to] of RENAMES) {
    if (trace !== name) continue;
    text = text.replace(new RegExp(`${from}-${pid}\\b`, 'g'), () => `${to}-${pid}`)
      .replace(new RegExp(`comm=${from} (\\w*pid)=${pid}\\b`, 'g'), (_m, field: string) => `comm=${to} ${field}=${pid}`);
  }
  return tempFile(text, '.txt');
}
