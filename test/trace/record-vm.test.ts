// The pure parts of `record --vm`: the tlbsim-vm header, the per-CPU merge (on real
// recorded lines), the archives between host and guest, the suite file, the guest script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { findVmHeader, parseVmHeader } from '../../src/trace/vm-header.ts';
import { lostInStats, mergeCpuTexts, timestampNs } from '../../src/trace/record/merge.ts';
import { cpioNewc, readTarFiles } from '../../src/trace/record/archive.ts';
import { checkVmOptions, guestInit, isStaticElf, parseSuite, prepareCommands, shellQuote } from '../../src/trace/record/vm.ts';
import { cachedKernel, looksLikeVersion, resolveKernel } from '../../src/trace/record/kernels.ts';
import { RecordError } from '../../src/trace/record.ts';
import { readText, tmp } from '../helpers.ts';
import { ROOT } from '../commands/run.ts';

const HEADER = '# tlbsim-vm: kernel=6.12.117+deb12-cloud-amd64 cpus=32 pcid=0 invpcid=0 invlpgb=0 accel=tcg pti=0 clock=mono';

test('parseVmHeader reads the guest\'s facts and keeps every field', () => {
  const h = parseVmHeader(HEADER);
  assert.ok(h);
  assert.equal(h.kernel, '6.12.117+deb12-cloud-amd64');
  assert.equal(h.cpus, 32);
  assert.equal(h.pcid, false);
  assert.equal(h.invpcid, false);
  assert.equal(h.invlpgb, false);
  assert.equal(h.accel, 'tcg');
  assert.equal(h.fields.pti, '0');
  assert.equal(h.fields.clock, 'mono');
  const kvm = parseVmHeader('# tlbsim-vm: kernel=7.3.4+deb13-cloud-amd64 cpus=2 pcid=1 invpcid=1 invlpgb=0 accel=kvm\r\n');
  assert.equal(kvm?.pcid, true);
  assert.equal(kvm?.accel, 'kvm');
});

test('parseVmHeader: other lines are not headers; a damaged header is an error, not "no PCID"', () => {
  assert.equal(parseVmHeader('# tracer: nop'), null);
  assert.equal(parseVmHeader('# tlbsim-vm-command: madvstorm 0 20'), null);
  assert.equal(parseVmHeader('  bash-1 [000] ....  1.000000: tlb_flush: pages:1 reason:remote shootdown (1)'), null);
  assert.throws(() => parseVmHeader('# tlbsim-vm: cpus=2 pcid=0 invpcid=0 invlpgb=0'), /no kernel=/);
  assert.throws(() => parseVmHeader('# tlbsim-vm: kernel=6.1 cpus=two pcid=0 invpcid=0 invlpgb=0'), /cpus=two/);
  assert.throws(() => parseVmHeader('# tlbsim-vm: kernel=6.1 cpus=2 pcid=yes invpcid=0 invlpgb=0'), /pcid=yes/);
  assert.throws(() => parseVmHeader('# tlbsim-vm: kernel=6.1 cpus=2 pcid invpcid=0 invlpgb=0'), /not key=value/);
  assert.equal(findVmHeader(`# tlbsim-vm-command: x\n${HEADER}\n# tracer: nop\n`)?.cpus, 32);
  assert.equal(findVmHeader('# tracer: nop\n  bash-1 [000] ...\n'), null);
});

test('a trace headed by the tlbsim-vm lines reads as ordinary ftrace text', async () => {
  const text = `${HEADER}\n# tlbsim-vm-command: madvstorm 0 20\n# tracer: nop\n#\n# entries-in-buffer/entries-written: 2/2   #P:32\n#\n`
    + '            bash-19001 [031] d..1.  7270.969801: tlb_flush: pages:-1 reason:local mm shootdown (3)\n'
    + '            bash-19001 [031] d..2.  7270.969917: sched_switch: prev_comm=bash prev_pid=19001 prev_prio=120 prev_state=S ==> next_comm=swapper/31 next_pid=0 next_prio=120\n';
  const { info, events } = await readText(text);
  assert.equal(info.format, 'ftrace');
  assert.equal(info.cpus, 32);
  assert.equal(info.skippedLines, 0);
  assert.ok(events.length >= 2);
});

test('timestampNs reads 6- and 9-decimal and counter timestamps, with and without TGID or flags', () => {
  assert.equal(timestampNs('       record.sh-18838   (  18838) [000] d..2.  7253.649616: sched_switch: prev_comm=x'), 7253649616000);
  assert.equal(timestampNs('            bash-2039    [001] d..1. 3154.048926123: tlb_flush: pages:-1'), 3154048926123);
  assert.equal(timestampNs('  a b-c:d-7 [003]  123456: ipi_send_cpu: cpu=1'), 123456e9);
  assert.equal(timestampNs('CPU:1 [LOST 1234 EVENTS]'), null);
  assert.equal(timestampNs('##### CPU 1 buffer started ####'), null);
});

/** A recorded 2-CPU trace split into its per-CPU files, as per_cpu/cpuN/trace prints them. */
function splitByCpu(text: string): { header: string[]; body: string[]; cpus: { cpu: number; text: Buffer }[] } {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const header = lines.filter((l) => l.startsWith('#'));
  const body = lines.filter((l) => !l.startsWith('#'));
  const byCpu = new Map<number, string[]>();
  for (const l of body) {
    const cpu = Number(/\[(\d+)\]/.exec(l)![1]);
    byCpu.set(cpu, [...(byCpu.get(cpu) ?? header.slice(0, 0)), l]);
  }
  const cpus = [...byCpu].map(([cpu, ls]) => ({ cpu, text: Buffer.from(`${header.join('\n')}\n${ls.join('\n')}\n`, 'latin1') }));
  return { header, body, cpus };
}

test('mergeCpuTexts puts real per-CPU lines back in time order, byte for byte', () => {
  // The kernel orders its `trace` file by nanoseconds but prints microseconds, so lines of
  // two CPUs within one printed microsecond may come in either order; everything else must
  // be exactly the kernel's order.
  for (const fixture of ['pingpong-512', 'forkchurn-tgid', 'madvthreads-2']) {
    const text = gunzipSync(readFileSync(join(ROOT, 'traces/real', fixture, 'trace.txt.gz'))).toString('latin1');
    const { body, cpus } = splitByCpu(text);
    assert.ok(cpus.length === 2, fixture);
    // The per-CPU files in any order: the merge sorts them.
    const merged = [...mergeCpuTexts([...cpus].reverse())];
    assert.equal(merged.length, body.length, fixture);
    const byMicrosecond = (lines: string[]) => {
      const groups = new Map<number, string[]>();
      for (const l of lines) { const t = timestampNs(l)!; groups.set(t, [...(groups.get(t) ?? []), l]); }
      return [...groups].map(([t, ls]) => [t, ls.sort()] as const);
    };
    assert.deepEqual(byMicrosecond(merged), byMicrosecond(body), fixture);
    for (const { cpu } of cpus) {
      const onCpu = (lines: string[]) => lines.filter((l) => l.includes(`[${String(cpu).padStart(3, '0')}]`));
      assert.deepEqual(onCpu(merged), onCpu(body), `${fixture} CPU ${cpu}: its own order`);
    }
  }
  const exact = gunzipSync(readFileSync(join(ROOT, 'traces/real/pingpong-512/trace.txt.gz'))).toString('latin1');
  const split = splitByCpu(exact);
  assert.deepEqual([...mergeCpuTexts(split.cpus)], split.body, 'pingpong-512 has no cross-CPU ties: the very same text');
});

test('mergeCpuTexts keeps ties in CPU order, markers with their CPU, and bytes beyond ASCII', () => {
  const cpu0 = Buffer.from('# tracer: nop\n#\n   a-1 [000] ....  1.000002: x: 0\n   a-1 [000] ....  1.000005: x: 1\n', 'latin1');
  const cpu1 = Buffer.concat([
    Buffer.from('   b-2 [001] ....  1.000002: y: 0\nCPU:1 [LOST 3 EVENTS]\n   b-2 [001] ....  1.000004: y: 1 ', 'latin1'),
    Buffer.from([0xe9, 0xff]), Buffer.from('\n', 'latin1'),
  ]);
  const merged = [...mergeCpuTexts([{ cpu: 1, text: cpu1 }, { cpu: 0, text: cpu0 }])];
  assert.deepEqual(merged.slice(0, 4), [
    '   a-1 [000] ....  1.000002: x: 0',
    '   b-2 [001] ....  1.000002: y: 0',
    'CPU:1 [LOST 3 EVENTS]',
    `   b-2 [001] ....  1.000004: y: 1 ${Buffer.from([0xe9, 0xff]).toString('latin1')}`,
  ]);
  assert.equal(merged[4], '   a-1 [000] ....  1.000005: x: 1');
  assert.deepEqual(Buffer.from(merged[3], 'latin1').subarray(-2), Buffer.from([0xe9, 0xff]));
  assert.deepEqual([...mergeCpuTexts([])], []);
});

test('lostInStats adds overrun and dropped events of a per_cpu stats file', () => {
  const stats = 'entries: 2554\noverrun: 7\ncommit overrun: 0\nbytes: 135112\noldest event ts:     4.360537\nnow ts:     6.027113\ndropped events: 2\nread events: 0\n';
  assert.equal(lostInStats(stats), 9);
  assert.equal(lostInStats('entries: 1\noverrun: 0\n'), 0);
});

test('cpioNewc writes an archive cpio lists with its files, links and device node', () => {
  const archive = cpioNewc([
    { kind: 'dir', path: 'bin' }, { kind: 'dir', path: 'dev' },
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: 'bin/busybox', data: Buffer.from('abc'), mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
    { kind: 'file', path: 'init', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
  ]);
  assert.equal(archive.length % 4, 0);
  assert.match(archive.toString('latin1', 0, 6), /^070701$/);
  assert.ok(archive.includes(Buffer.from('TRAILER!!!\0')));
  const cpio = spawnSync('cpio', ['-t', '-v'], { input: archive, encoding: 'utf8' });
  if (cpio.error) return; // no cpio to cross-check with
  assert.equal(cpio.status, 0, cpio.stderr);
  const listed = cpio.stdout.trim().split('\n');
  assert.equal(listed.length, 6);
  assert.match(listed[2], /^crw------- .* 5,\s+1 .*dev\/console$/);
  assert.match(listed[3], /^-rwxr-xr-x .* 3 .*bin\/busybox$/);
  assert.match(listed[4], /^lrwxrwxrwx .*bin\/sh -> busybox$/);
});

test('readTarFiles reads concatenated archives and stops cleanly at a cut-off one', () => {
  const dir = join(tmp, 'tar-src');
  mkdirSync(join(dir, 'w0'), { recursive: true });
  mkdirSync(join(dir, 'w1'), { recursive: true });
  writeFileSync(join(dir, 'w0', 'cpu0.gz'), Buffer.alloc(1000, 7));
  writeFileSync(join(dir, 'w0', 'status'), '0\n');
  writeFileSync(join(dir, 'w1', 'status'), '3\n');
  const tar = (what: string) => spawnSync('tar', ['-c', '-C', dir, what]);
  const a = tar('w0'), b = tar('w1');
  if (a.error) return; // no tar to make archives with
  const both = Buffer.concat([a.stdout, b.stdout]);
  const { files, truncated } = readTarFiles(both);
  assert.equal(truncated, false);
  assert.deepEqual(files.map((f) => f.name).sort(), ['w0/cpu0.gz', 'w0/status', 'w1/status']);
  assert.deepEqual(files.find((f) => f.name === 'w0/cpu0.gz')?.data, Buffer.alloc(1000, 7));
  const cut = readTarFiles(Buffer.concat([a.stdout, b.stdout.subarray(0, 700)]));
  assert.equal(cut.truncated, true);
  assert.deepEqual(cut.files.map((f) => f.name).sort(), ['w0/cpu0.gz', 'w0/status']);
});

test('parseSuite: OUTPUT COMMAND ARGS per line, comments, and one-line errors', () => {
  const runs = parseSuite('# lab\n\nmadv.txt.gz  madvstorm.c 0 20\n  sleep.txt sleep 1  \n', 'lab.suite', '/out');
  assert.deepEqual(runs, [
    { output: '/out/madv.txt.gz', command: ['madvstorm.c', '0', '20'] },
    { output: '/out/sleep.txt', command: ['sleep', '1'] },
  ]);
  assert.throws(() => parseSuite('only-output.txt\n', 's', '/out'), /s:1: expected "OUTPUT COMMAND \[ARGS\.\.\.\]"/);
  assert.throws(() => parseSuite('../x.txt true\n', 's', '/out'), /s:1: the output "\.\.\/x\.txt" must be a file name inside the -o directory/);
  assert.throws(() => parseSuite('# nothing\n', 's', '/out'), /s: no commands in the suite/);
});

test('checkVmOptions refuses bad CPU counts, memory, buffers, timeouts and duplicate outputs', () => {
  const runs = [{ output: '/tmp/a.txt', command: ['true'] }];
  assert.doesNotThrow(() => checkVmOptions({ cpus: 64, runs }));
  for (const cpus of [0, -1, 1.5, 256, NaN]) assert.throws(() => checkVmOptions({ cpus, runs }), (e: Error) => e instanceof RecordError && /--cpus needs a whole number from 1 to 255/.test(e.message));
  assert.throws(() => checkVmOptions({ cpus: 2, runs: [] }), /no command to record/);
  assert.throws(() => checkVmOptions({ cpus: 2, runs, memoryMb: 100 }), /--memory needs a whole number of MiB, at least 256/);
  assert.throws(() => checkVmOptions({ cpus: 2, runs, bufferKb: 1 }), /--buffer-kb needs a whole number of KiB, at least 64/);
  assert.throws(() => checkVmOptions({ cpus: 2, runs, timeoutS: 0 }), /--timeout needs a positive number/);
  assert.throws(() => checkVmOptions({ cpus: 2, runs: [...runs, { output: '/tmp/../tmp/a.txt', command: ['x'] }] }), /two commands write/);
});

test('prepareCommands: .c files, static executables, scripts and busybox applets; one line for the rest', () => {
  const applets = new Set(['sleep', 'sh', 'true']);
  const build = join(tmp, 'vm-build');
  mkdirSync(build, { recursive: true });
  const script = join(tmp, 'churn.sh');
  writeFileSync(script, '#!/bin/sh\ntrue\n');
  const bash = join(tmp, 'b.sh');
  writeFileSync(bash, '#!/bin/bash\ntrue\n');
  const { commands, binaries } = prepareCommands([
    { output: 'a', command: ['sleep', '1'] },
    { output: 'b', command: [script, 'x y'] },
  ], applets, build);
  assert.deepEqual(commands.map((c) => c.argv), [['sleep', '1'], ['churn.sh', 'x y']]);
  assert.deepEqual(binaries.map((b) => b.name), ['churn.sh']);
  assert.throws(() => prepareCommands([{ output: 'a', command: ['perf', 'stat'] }], applets, build), /perf: not a file here and not a busybox command/);
  assert.throws(() => prepareCommands([{ output: 'a', command: ['./nope.c'] }], applets, build), /\.\/nope\.c: no such file/);
  assert.throws(() => prepareCommands([{ output: 'a', command: [bash] }], applets, build), /only busybox's \/bin\/sh, not \/bin\/bash/);
  assert.throws(() => prepareCommands([{ output: 'a', command: ['/usr/bin/env'] }], applets, build), /linked dynamically.*cc -static/);
});

test('isStaticElf tells a static busybox from a dynamic binary', () => {
  assert.equal(isStaticElf(readFileSync('/usr/bin/env')), false);
  assert.equal(isStaticElf(Buffer.from('#!/bin/sh\n')), false);
  try { assert.equal(isStaticElf(readFileSync('/bin/busybox')), true); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
});

test('the guest script quotes arguments, enables the tracefs recorder\'s events and the 6.1 fallbacks', () => {
  assert.equal(shellQuote('madvstorm'), 'madvstorm');
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote('a b'), `'a b'`);
  const init = guestInit([{ argv: ['madvstorm', '0', '20'] }, { argv: ['sh', '-c', 'echo $HOME; true'] }], 4096, true);
  assert.match(init, /^#!\/bin\/busybox sh\n/);
  assert.match(init, /\nrun 0 madvstorm 0 20\nrun 1 sh -c 'echo \$HOME; true'\n/);
  assert.match(init, /echo 4096 > \$T\/buffer_size_kb/);
  assert.match(init, /echo mono > \$T\/trace_clock/);
  assert.match(init, /echo 1 > \$T\/options\/record-tgid/);
  assert.match(init, /tlb\/tlb_flush/);
  assert.match(init, /for e in irq_vectors\/call_function_entry irq_vectors\/call_function_single_entry; do/);
  assert.match(init, /per_cpu\/cpu\*; do gzip -1 -c \$c\/trace/);
  assert.match(init, /poweroff -f\n$/);
  assert.match(guestInit([{ argv: ['true'] }], 64, false), /echo 0 > \$T\/options\/record-tgid/);
});

test('--kernel: versions and paths, and one line for what is neither', () => {
  assert.equal(looksLikeVersion('6.12'), true);
  assert.equal(looksLikeVersion('./vmlinuz'), false);
  const note = () => {};
  assert.throws(() => resolveKernel('5.4', note, join(tmp, 'no-cache')), /--kernel 5\.4: no such kernel series; use one of 6\.1, 6\.12, 7\.3, or a path to a vmlinuz/);
  assert.throws(() => resolveKernel(join(tmp, 'missing-vmlinuz'), note), /no such file/);
  assert.throws(() => resolveKernel(tmp, note), /is a directory/);
  const notKernel = join(tmp, 'not-a-kernel');
  writeFileSync(notKernel, Buffer.alloc(4096));
  assert.throws(() => resolveKernel(notKernel, note), /not an x86 kernel image/);
  const cache = join(tmp, 'kcache');
  for (const v of ['50', '53']) {
    mkdirSync(join(cache, `linux-image-6.1.0-${v}-cloud-amd64`), { recursive: true });
    writeFileSync(join(cache, `linux-image-6.1.0-${v}-cloud-amd64`, 'vmlinuz'), '');
  }
  mkdirSync(join(cache, 'linux-image-6.1.0-60-cloud-amd64'));
  assert.equal(cachedKernel('6.1', cache)?.packageName, 'linux-image-6.1.0-53-cloud-amd64', 'the newest complete one');
  assert.equal(cachedKernel('6.12', cache), null);
});
