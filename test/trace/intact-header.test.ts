// The one-pass reader of intact ftrace lines must give the record the general header
// parser gives, on every line of the recorded fixtures and on edge cases; whatever it
// declines, the general parser reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { EventName, newLineRecord, parseFtraceHeader, parseIntactFtraceHeader, parseIntactFtraceHeaderBytes } from '../../src/trace/text/headers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

function compare(line: string, rest = ''): boolean {
  const fast = newLineRecord(), general = newLineRecord();
  const taken = parseIntactFtraceHeader(line, 0, line.length, fast);
  // The byte reader (ASCII chunks) takes and declines the same lines with the same record,
  // here at an offset inside a larger buffer as in a read chunk, whatever follows the line
  // (a newline or carriage return as in a chunk; other text or nothing take its checked path).
  if (/^[\x00-\x7f]*$/.test(line)) for (const after of ['\n', '\r', 'X', ' ', '', '\n)', '\r )', rest]) {
    const bytes = Buffer.from(`xyz\n${line}${after}`, 'latin1'), fromBytes = newLineRecord();
    const takenBytes = parseIntactFtraceHeaderBytes(bytes, 4, 4 + line.length, fromBytes);
    assert.equal(takenBytes, taken, line);
    if (taken) {
      for (const k of Object.keys(fast) as (keyof typeof fast)[]) {
        if (k === 'nameId') continue;
        const shift = k === 'pid' || k === 'tgid' || k === 'cpu' || k === 'ns' ? 0 : 4;
        assert.equal(fromBytes[k] - shift, fast[k], `${k}: ${line}`);
      }
      // The byte reader names the commonest events (followed by their ':'); the others read 0.
      const known: Record<string, number> = { tlb_flush: EventName.tlbFlush, sched_switch: EventName.schedSwitch, ipi_send_cpu: EventName.ipiSendCpu };
      const name = line.slice(fast.nameStart, fast.nameEnd);
      assert.equal(fromBytes.nameId, line[fast.nameEnd] === ':' ? known[name] ?? EventName.other : EventName.other, `nameId: ${line}`);
      assert.equal(fast.nameId, EventName.other);
    }
  }
  if (!taken) return false;
  assert.equal(parseFtraceHeader(line, 0, line.length, general), null, line);
  // The one-pass reader leaves the comm's padding in; the comm text is the same trimmed.
  assert.equal(line.slice(fast.commStart, fast.commEnd).trimStart(), line.slice(general.commStart, general.commEnd), line);
  fast.commStart = general.commStart;
  assert.deepEqual(fast, general, line);
  return true;
}

test('every line of the ftrace and trace-cmd fixtures: same record, most lines taken', () => {
  for (const f of ['madvthreads-2/trace.txt.gz', 'forkchurn-tgid/trace.txt.gz', 'forkchurn/trace.txt.gz', 'pingpong-512/trace.txt.gz',
    'trace-cmd-madvthreads/trace-cmd.txt.gz', 'build/trace.txt.gz']) {
    const lines = gunzipSync(readFileSync(join(ROOT, 'traces/real', f))).toString('utf8').split('\n');
    let taken = 0, events = 0;
    for (const line of lines) {
      if (compare(line)) taken++;
      if (/\[\d+\]/.test(line) && !line.startsWith('#')) events++;
    }
    // Recorded ftrace and trace-cmd report text are nearly all intact lines.
    assert.ok(taken > 0.95 * events, `${f}: ${taken} of ${events}`);
  }
});

test('edge cases: declined or read the same', () => {
  const ok = [
    '          <idle>-0       [001] d.h1. 7253.649616: ipi_entry: vector=251',
    '       record.sh-19052   (  19052) [000] ..... 7253.649616: sys_munmap(addr: 0x7f, len: 0x1000)',
    '    kworker/u4:1-12      (-------) [001] ..... 7253.649616: tlb_flush: pages:1 reason:remote shootdown (1)',
    ' a b c d e f g h-77      [000] ..... 1.000000001: tlb_flush: pages:1 reason:local MM shootdown (3)',
    '               x-1       [000] 1.5: sched_switch: prev_comm=x',
    '               x-1 [000] ..... 2.123456789123: exit_mmap',
    '               x-1 [000] d..2.abc 2.5: exit_mmap',                  // the widest flags column
    '               x-1 [000] ..... 2.5: exit_mmap:\t\tpayload',
  ];
  for (const l of ok) assert.equal(compare(l), true, l);
  const declined = [
    '                -1       [000] ..... 1.0: tlb_flush: pages:1',     // blank comm
    '               x-1       [000] ..... 1: tlb_flush: pages:1',       // no fraction
    '               x-1       [000] toolongflags 1.0: tlb_flush:',     // flags column too wide
    '               x-1       [000] d..2.abcd 1.0: tlb_flush:',        // 9 columns: one too wide
    '               x-1       [000] ..... 1.0 tlb_flush:',              // no colon
    '               x-1       (  1  [000] ..... 1.0: tlb_flush:',       // unclosed tgid
    '               x-1       [00a] ..... 1.0: tlb_flush:',
    'averyveryverylongcomm-1  [000] ..... 1.0: tlb_flush: pages:1',     // misaligned
    '               x-1       [000] ..... 1.0: ',                       // no event name
  ];
  for (const l of declined) assert.equal(compare(l), false, l);
});

test('the byte reader agrees with the string reader on every cut and one-byte change of real lines', () => {
  const lines = gunzipSync(readFileSync(join(ROOT, 'traces/real/madvthreads-2/trace.txt.gz'))).toString('utf8').split('\n')
    .filter((l) => !l.startsWith('#')).slice(0, 40);
  let checked = 0;
  for (const line of lines) {
    // A line cut short, with and without the rest of it after the end it is given.
    for (let cut = 0; cut <= line.length; cut++) { compare(line.slice(0, cut), line.slice(cut)); checked++; }
    for (let at = 0; at < line.length; at += 3) {
      for (const ch of [' ', '-', '(', ')', '[', ']', '.', ':', '9', 'x']) {
        compare(line.slice(0, at) + ch + line.slice(at + 1));
        compare(line.slice(0, at) + ch + line.slice(at));
        checked += 2;
      }
    }
  }
  assert.ok(checked > 10_000, `${checked} variants`);
});
