// The byte reader of munmap / madvise / mprotect / mmap stops at the last field the
// syscall needs. Whatever follows (flags, fd, off, damage) must then make no difference:
// the same events and reports as the string reader, which looks each field up by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind } from '../../src/trace/event.ts';
import { TextIngest } from '../../src/trace/text/ingest.ts';
import { EventStore } from '../../src/trace/store.ts';
import { FTRACE_HEADER } from '../helpers.ts';

function read(text: string, withBytes: boolean) {
  const store = new EventStore({ batchSize: 256 });
  const ingest = new TextIngest('t', 'ftrace', store);
  ingest.push(text, withBytes ? Buffer.from(text, 'latin1') : null);
  ingest.end();
  store.seal();
  const events: number[][] = [];
  for (const b of store.batches()) for (let i = 0; i < b.length; i++) events.push([b.kind[i], b.time[i], b.cpu[i], b.tid[i], b.mm[i], b.a[i], b.b[i], b.c[i]]);
  const { rawCounts, ...result } = ingest.result();
  return { events, result: { ...result, rawCounts: [...rawCounts] } };
}

const head = (k: number) => `     forkchurn.sh-7708    [000] .....  9453.33${String(3000 + k).padStart(4, '0')}: `;
// Three lines first: the first event lines of a trace wait for later ones to vouch for their
// timestamps and are read from their strings, as the body of a trace is not.
const lead = FTRACE_HEADER + [0, 1, 2].map((k) => `${head(k)}tlb_flush: pages:1 reason:remote shootdown (1)\n`).join('');

test('fields after the last one a syscall needs change nothing: bytes and string read the same', () => {
  const payloads = [
    'sys_mmap(addr: 0, len: 0x2000, prot: 3, flags: 0x22, fd: 0xffffffff, off: 0)',
    'sys_mmap(addr: 0, len: 0x2000, prot: 3, flags: junk here, fd: 3)',
    'sys_mmap(addr: 0, len: 0x2000, prot: 3 , flags:, addr: 0x5000)',
    'sys_mmap(addr: 0, prot: 3, flags: x, len: 0x2000)',
    'sys_munmap(addr: 0x1000, len: 0x2000, extra: ???)',
    'sys_mprotect(start: 0x1000, len: 0x2000, prot: 0x1, (junk)',
    'sys_madvise(start: 0x1000, len: 0x2000, behavior: 4, len_in: 0x1000)',
    'sys_madvise(start: 0x1000, len_in: 0x1000, behavior: 4, what: x)',
    'sys_enter_mmap: addr: 0x0, len: 0x1000, prot: 0x3, flags: 0x22, fd: -1, off: zz',
  ];
  for (const p of payloads) {
    const text = `${lead}${head(5)}${p}\n${head(6)}tlb_flush: pages:1 reason:remote shootdown (1)\n`;
    assert.deepEqual(read(text, true), read(text, false), p);
  }
  const all = lead + payloads.map((p, k) => `${head(10 + k)}${p}\n`).join('');
  const fromBytes = read(all, true);
  assert.deepEqual(fromBytes, read(all, false));
  // Each is read as its syscall with the fields it names first.
  const sys = fromBytes.events.filter((e) => e[0] !== EventKind.observed_flush).map((e) => [e[0], e[5], e[6], e[7]]);
  assert.deepEqual(sys, [
    [EventKind.mmap, 0, 0x2000, 3], [EventKind.mmap, 0, 0x2000, 3], [EventKind.mmap, 0, 0x2000, 3], [EventKind.mmap, 0, 0x2000, 3],
    [EventKind.munmap, 0x1000, 0x2000, 0], [EventKind.mprotect, 0x1000, 0x2000, 1],
    [EventKind.madvise, 0x1000, 0x1000, 4], [EventKind.madvise, 0x1000, 0x1000, 4], [EventKind.mmap, 0, 0x1000, 3],
  ]);
});
