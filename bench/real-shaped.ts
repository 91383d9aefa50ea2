// Real-shaped bench inputs: a real recording (traces/real, traces/lab) repeated until the
// text reaches a size, each copy's timestamps shifted past the previous copy's end. The
// column layout of every line is the recording's own (padding, flags, payloads), which is
// what a reader meets in a user's trace and generated text does not reproduce. Header lines
// ('#') are kept once, at the top.
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';

/** The timestamp field of an ftrace / trace-cmd text line: "  1234.567890: event:". */
const TIMESTAMP = / (\d+)\.(\d{6}): /;

async function readLines(path: string): Promise<string[]> {
  const input = createReadStream(path);
  const lines: string[] = [];
  for await (const line of createInterface({ input: path.endsWith('.gz') ? input.pipe(createGunzip()) : input, crlfDelay: Infinity })) lines.push(line);
  return lines;
}

/** Write `dst` (unless it exists at about that size already) from `src` repeated to `mb`
 *  MB; returns the copies written. */
export async function replicateTrace(src: string, dst: string, mb: number): Promise<number> {
  const want = mb * 1e6;
  if (existsSync(dst) && statSync(dst).size >= want * 0.99) return -1;
  const lines = await readLines(src);
  const header = lines.filter((l) => l.startsWith('#'));
  const body = lines.filter((l) => !l.startsWith('#') && l.length > 0);
  // Microseconds, as integers: the shifted values must print exactly as ftrace would.
  const us = body.map((l) => { const m = TIMESTAMP.exec(l); return m ? Number(m[1]) * 1e6 + Number(m[2]) : NaN; });
  const stamped = us.filter(Number.isFinite);
  const span = Math.max(...stamped) - Math.min(...stamped) + 1000; // 1 ms gap between copies
  const bodyBytes = body.reduce((n, l) => n + l.length + 1, 0);
  const copies = Math.max(1, Math.ceil(want / bodyBytes));
  const out = createWriteStream(dst);
  const write = async (s: string) => { if (!out.write(s)) await once(out, 'drain'); };
  await write(header.length ? header.join('\n') + '\n' : '');
  for (let k = 0; k < copies; k++) {
    const shift = k * span;
    const chunk: string[] = [];
    for (let i = 0; i < body.length; i++) {
      const t = us[i];
      if (!Number.isFinite(t) || shift === 0) { chunk.push(body[i]); continue; }
      const v = t + shift;
      chunk.push(body[i].replace(TIMESTAMP, ` ${Math.floor(v / 1e6)}.${String(v % 1e6).padStart(6, '0')}: `));
    }
    await write(chunk.join('\n') + '\n');
  }
  out.end();
  await once(out, 'close');
  return copies;
}
