// Issue 21, item 10 (the trace side): a trace that reached the user through another tool
// (a pipe, a FIFO, Windows or old-Mac text conventions) is read as the trace it is, and what
// cannot be read is called by its name: a FIFO is not "empty", a symlink loop or a
// directory the user may not enter is not "no such file", a pid of 10^20 is printed with
// its own digits. Inputs are the real pingpong-512 trace and transformations of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { openTrace } from '../../src/trace/index.ts';
import { tmp } from '../helpers.ts';
import { nobodySkip, tlbsimAsNobody } from '../nobody.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const NO_STACK = /\n\s+at .*[.:]\d+|\.ts:\d+:\d+|RangeError|TypeError/;
const TEXT = gunzipSync(readFileSync(join(ROOT, 'traces/real/pingpong-512/trace.txt.gz')));
const dir = join(tmp, 'trace-messages');
mkdirSync(dir, { recursive: true });
let n = 0;
const file = (content: Buffer | string, ext = '.txt') => { const p = join(dir, `m${n++}${ext}`); writeFileSync(p, content); return p; };
const cli = (args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, TLBSIM_CACHE: '1' } });
/** The CLI reading a shell pipe (spawnSync's own stdin is a socket, which /dev/stdin cannot open). */
const piped = (from: string, args: string[]) =>
  spawnSync('sh', ['-c', 'f="$1" n="$2" b="$3"; shift 3; cat "$f" | "$n" "$b" "$@"', 'sh', from, process.execPath, join(ROOT, 'bin/tlbsim.mjs'), ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, TLBSIM_CACHE: '1' } });

async function summary(path: string) {
  const t = await openTrace(path, { cache: false });
  t.close();
  return t.info;
}

const reference = summary(file(TEXT));

test('CR-only line ends are read as line ends, with a note saying so', async () => {
  const ref = await reference;
  const cr = Buffer.from(TEXT);
  for (let i = 0; i < cr.length; i++) if (cr[i] === 10) cr[i] = 13;
  const info = await summary(file(cr));
  assert.deepEqual(info.countsByKind, ref.countsByKind);
  assert.equal(info.skippedLines, 0);
  assert.ok(info.warnings.some((w) => /CR-only line ends/.test(w)), JSON.stringify(info.warnings));
  // CRLF is what the readers always took: no note for it.
  const crlf = await summary(file(TEXT.toString('latin1').replace(/\n/g, '\r\n')));
  assert.deepEqual(crlf.countsByKind, ref.countsByKind);
  assert.ok(!crlf.warnings.some((w) => /CR-only/.test(w)));
});

test('UTF-16 (LE and BE, with and without a byte-order mark, plain and gzipped) is said to be UTF-16 and read', async () => {
  const ref = await reference;
  const s = TEXT.toString('utf8');
  const le = Buffer.from(s, 'utf16le');
  const be = Buffer.from(le).swap16();
  const cases: [string, Buffer, boolean][] = [
    ['UTF-16LE', Buffer.concat([Buffer.of(0xff, 0xfe), le]), false],
    ['UTF-16BE', Buffer.concat([Buffer.of(0xfe, 0xff), be]), false],
    ['UTF-16LE', le, false],
    ['UTF-16BE', be, false],
    ['UTF-16LE', gzipSync(Buffer.concat([Buffer.of(0xff, 0xfe), le])), true],
  ];
  for (const [encoding, bytes, gz] of cases) {
    const info = await summary(file(bytes, gz ? '.txt.gz' : '.txt'));
    assert.deepEqual(info.countsByKind, ref.countsByKind, encoding);
    assert.equal(info.skippedLines, 0, encoding);
    const note = info.warnings.find((w) => w.includes(encoding));
    assert.ok(note !== undefined && note.includes(`iconv -f ${encoding} -t UTF-8`), JSON.stringify(info.warnings));
  }
  // The CLI too: no "binary file".
  const r = cli(['inspect', file(Buffer.concat([Buffer.of(0xff, 0xfe), le]))]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /binary/);
  assert.match(r.stdout, /UTF-16LE/);
});

test('a UTF-8 byte-order mark skips nothing: not the first event of a headerless trace, not a CSV header', async () => {
  const BOM = Buffer.of(0xef, 0xbb, 0xbf);
  const events = TEXT.toString('latin1').split('\n').filter((l) => !l.startsWith('#')).join('\n');
  const plain = await summary(file(events));
  const bommed = await summary(file(Buffer.concat([BOM, Buffer.from(events, 'latin1')])));
  assert.deepEqual(bommed.countsByKind, plain.countsByKind);
  assert.equal(bommed.skippedLines, 0);
  // The first line alone: a BOM before it must not cost its one event.
  const first = events.split('\n')[0] + '\n';
  assert.equal((await summary(file(Buffer.concat([BOM, Buffer.from(first)])))).events, (await summary(file(first))).events);
  const csv = readFileSync(join(ROOT, 'test/corpus/csv-rows-out-of-order.csv'));
  const a = await summary(file(csv, '.csv'));
  const b = await summary(file(Buffer.concat([BOM, csv]), '.csv'));
  assert.equal(b.format, 'csv');
  assert.deepEqual(b.countsByKind, a.countsByKind);
});

test('a pid of 10^20 and more is reported with the digits the trace has, not rounded', async () => {
  const lines = TEXT.toString('latin1').split('\n');
  const i = lines.findIndex((l) => l.includes('record.sh-7653    (   7653)') && l.includes('tlb_flush'));
  const big = '123456789012345678901';
  lines[i] = lines[i].replace('record.sh-7653    (   7653)', `record.sh-${big} (${big})`);
  const info = await summary(file(lines.join('\n')));
  assert.equal(info.skippedLines, 1);
  assert.match(info.skipped[0].reason, new RegExp(`^pid ${big} is beyond the kernel's PID limit`));
  const csv = readFileSync(join(ROOT, 'test/corpus/csv-rows-out-of-order.csv'), 'utf8').replace('2000,0,flush_request,100,', `2000,0,flush_request,${big},`);
  const c = await summary(file(csv, '.csv'));
  assert.ok(c.skipped.some((s) => s.reason.startsWith(`tid ${big} is not a task id`)), JSON.stringify(c.skipped));
});

test('a FIFO and a pipe are read as streams: never called empty, no cache written beside them', async () => {
  const fifo = join(dir, 'fifo');
  spawnSync('mkfifo', [fifo]);
  // The writer is its own process: spawnSync below blocks this one.
  const source = file(TEXT);
  const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', source, fifo], { stdio: 'ignore' });
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), 'inspect', '--json', fifo], { encoding: 'utf8', env: { ...process.env, TLBSIM_CACHE: '1' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).events.switch, (await reference).countsByKind.switch);
  assert.ok(!existsSync(`${fifo}.tlbcache`));
  writer.kill();
  const before = readdirSync('/dev').filter((f) => f.endsWith('.tlbcache'));
  const p = piped(source, ['inspect', '--json', '/dev/stdin']);
  assert.equal(p.status, 0, p.stderr);
  assert.deepEqual(readdirSync('/dev').filter((f) => f.endsWith('.tlbcache')), before, 'nothing written into /dev');
  const empty = piped('/dev/null', ['inspect', '/dev/stdin']);
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /nothing could be read from it \(a pipe or FIFO/);
  assert.doesNotMatch(empty.stderr, /the file is empty/);
});

test('a symlink loop is named, as input and as output directory, one line each', () => {
  symlinkSync('loop-b', join(dir, 'loop-a'));
  symlinkSync('loop-a', join(dir, 'loop-b'));
  for (const args of [['inspect', 'loop-a'], ['replay', '--no-report', 'loop-a'], ['generate', 'workload:ping-pong:iterations=5', '-o', 'loop-a/x.txt'],
    ['replay', '-o', 'loop-a/r.html', 'workload:ping-pong:iterations=5']]) {
    const r = cli(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /too many levels of symbolic links/, args.join(' '));
    assert.doesNotMatch(r.stderr, /no such file|ENOENT/i, args.join(' '));
    assert.doesNotMatch(r.stderr, NO_STACK, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('a directory the user may not enter is "permission denied", not "no such file"', { skip: nobodySkip() }, () => {
  const closed = join(dir, 'closed');
  mkdirSync(join(closed, 'sub'), { recursive: true });
  writeFileSync(join(closed, 't.txt'), TEXT);
  chmodSync(dir, 0o755);
  chmodSync(join(tmp), 0o755);
  chmodSync(closed, 0o700);
  for (const args of [['inspect', join(closed, 't.txt')], ['inspect', join(closed, 'absent.txt')], ['validate', join(closed, 't.txt')],
    ['generate', 'workload:ping-pong:iterations=5', '-o', join(closed, 'x.txt')], ['generate', 'workload:ping-pong:iterations=5', '-o', join(closed, 'sub', 'x.txt')]]) {
    const r = tlbsimAsNobody(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /permission denied/, args.join(' '));
    assert.doesNotMatch(r.stderr, /no such file|does not exist|ENOENT/i, args.join(' '));
    assert.doesNotMatch(r.stderr, NO_STACK, args.join(' '));
  }
});
