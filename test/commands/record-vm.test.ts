// `tlbsim record --vm` as a user runs it. The refusals are tested everywhere; the boot
// (a 2-vCPU suite of two commands, ~15 s under TCG) only where qemu, cc, a static busybox
// and an already downloaded kernel are present: tests never download a kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { KERNEL_SERIES, cachedKernel } from '../../src/trace/record/kernels.ts';
import { parseVmHeader } from '../../src/trace/vm-header.ts';
import { tmp } from '../helpers.ts';
import { NO_STACK, tlbsim } from './run.ts';

const has = (tool: string) => !spawnSync(tool, ['--version'], { stdio: 'ignore' }).error;
const which = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
const kernel = KERNEL_SERIES.map((s) => cachedKernel(s.version)).find((k) => k !== null) ?? null;
const SKIP_BOOT = !has('qemu-system-x86_64') ? 'qemu-system-x86_64 is not installed'
  : !has('cc') ? 'cc is not installed'
    : !existsSync('/bin/busybox') ? 'no /bin/busybox (busybox-static)'
      : kernel === null ? `no kernel in the cache (${KERNEL_SERIES.map((s) => s.version).join(', ')}); fetch one with tlbsim record --vm --kernel 6.12 ...`
        : false;

function refused(args: string[], status: number, message: RegExp, env: Record<string, string> = {}) {
  const r = tlbsim(['record', ...args], { env });
  assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
  assert.match(r.stderr, message, args.join(' '));
  assert.doesNotMatch(r.stderr, NO_STACK);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
}

test('record --vm refuses wrong usage with one line and exit 2', () => {
  const o = join(tmp, 'vm.txt');
  refused(['--vm', '-o', o, '--', 'true'], 2, /--vm needs --kernel VER\|PATH/);
  refused(['--vm', '--kernel', '6.12', '--cpus', '0', '-o', o, '--', 'true'], 2, /--cpus needs a whole number from 1 to 255, got 0/);
  refused(['--vm', '--kernel', '6.12', '--cpus', 'many', '-o', o, '--', 'true'], 2, /--cpus needs a whole number, got "many"/);
  refused(['--vm', '--kernel', '6.12', '--memory', '12', '-o', o, '--', 'true'], 2, /--memory needs a whole number of MiB, at least 256/);
  refused(['--vm', '--kernel', '6.12', '--accel', 'hvf', '-o', o, '--', 'true'], 2, /--accel must be one of auto, kvm, tcg/);
  refused(['--vm', '--kernel', '6.12', '--clock', 'local', '-o', o, '--', 'true'], 2, /--clock does not go with --vm/);
  refused(['--vm', '--kernel', '6.12', '--with', 'perf', '-o', o, '--', 'true'], 2, /--with does not go with --vm/);
  refused(['--vm', '--kernel', '6.12', '-o', o], 2, /no command to record/);
  refused(['--cpus', '8', '-o', o, '--', 'true'], 2, /--cpus goes with --vm/);
  refused(['--suite', 'x', '-o', o, '--', 'true'], 2, /--suite goes with --vm/);
  const suite = join(tmp, 'bad.suite');
  writeFileSync(suite, 'a.txt true\n');
  refused(['--vm', '--kernel', '6.12', '--suite', suite, '-o', tmp, '--', 'true'], 2, /either --suite FILE or a command after --, not both/);
  refused(['--vm', '--kernel', '6.12', '--suite', join(tmp, 'none.suite'), '-o', tmp], 1, /--suite .*none\.suite: no such file/);
});

test('record --vm says what to install when a tool is missing, and what is wrong with --kernel', () => {
  const o = join(tmp, 'vm.txt');
  // Only node on PATH: no QEMU.
  refused(['--vm', '--kernel', '6.12', '-o', o, '--', 'true'], 1, /qemu-system-x86_64 is not installed \(Debian\/Ubuntu: apt-get install qemu-system-x86\)/, { PATH: '/nonexistent' });
  refused(['--vm', '--kernel', '5.4', '-o', o, '--', 'true'], 1, /--kernel 5\.4: no such kernel series; use one of 6\.1, 6\.12, 7\.3/);
  refused(['--vm', '--kernel', join(tmp, 'no-vmlinuz'), '-o', o, '--', 'true'], 1, /no-vmlinuz: no such file/);
  refused(['--vm', '--kernel', '6.12', '-o', join(tmp, 'no-dir', 'x.txt'), '--', 'true'], 1, /the directory .*no-dir does not exist/);
  const qemu = which('qemu-system-x86_64');
  if (!qemu || !existsSync('/bin/busybox')) return;
  // QEMU and a (fake) cached kernel, but no C compiler for a .c workload.
  const bin = join(tmp, 'only-qemu');
  mkdirSync(bin, { recursive: true });
  if (!existsSync(join(bin, 'qemu-system-x86_64'))) symlinkSync(qemu, join(bin, 'qemu-system-x86_64'));
  const cache = join(tmp, 'fake-cache');
  mkdirSync(join(cache, 'tlbsim', 'kernels', 'linux-image-6.12.1+deb12-cloud-amd64'), { recursive: true });
  writeFileSync(join(cache, 'tlbsim', 'kernels', 'linux-image-6.12.1+deb12-cloud-amd64', 'vmlinuz'), '');
  const source = join(tmp, 'w.c');
  writeFileSync(source, 'int main(void) { return 0; }\n');
  refused(['--vm', '--kernel', '6.12', '-o', o, '--', source], 1, /cannot compile .*w\.c: cc is not installed \(Debian\/Ubuntu: apt-get install gcc libc6-dev\)/, { PATH: bin, XDG_CACHE_HOME: cache });
  refused(['--vm', '--kernel', '6.12', '-o', o, '--', 'perf', 'stat'], 1, /perf: not a file here and not a busybox command/, { PATH: bin, XDG_CACHE_HOME: cache });
});

test('record --vm boots a 2-vCPU guest and brings back one trace per suite command', { skip: SKIP_BOOT, timeout: 300_000 }, () => {
  const dir = join(tmp, 'vm-suite');
  mkdirSync(dir, { recursive: true });
  const suite = join(dir, 'smoke.suite');
  writeFileSync(suite, `# smoke\nmadv.txt.gz traces/lab/workloads/madvstorm.c 0 30\nsh.txt sh -c true\n`);
  const r = tlbsim(['record', '--vm', '--kernel', kernel!.vmlinuz, '--cpus', '2', '--accel', 'tcg', '--suite', suite, '-o', dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /madvstorm: 2 threads/);
  assert.match(r.stderr, /recorded \d+ lines, .* to .*madv\.txt\.gz/);
  assert.doesNotMatch(r.stderr, /lost/);
  const text = gunzipSync(readFileSync(join(dir, 'madv.txt.gz'))).toString('latin1');
  const lines = text.split('\n');
  const header = parseVmHeader(lines[0]);
  assert.ok(header, lines[0]);
  assert.equal(header.cpus, 2);
  assert.equal(header.accel, 'tcg');
  assert.equal(header.pcid, false, 'TCG has no PCID');
  assert.equal(lines[1], '# tlbsim-vm-command: madvstorm 0 30');
  assert.match(text, /^# tracer: nop$/m);
  assert.match(text, /#P:2$/m);
  assert.match(text, / sched_switch: prev_comm=/);
  assert.match(text, / tlb_flush: pages:/);
  assert.match(text, /madvstorm-\d+ +\( *\d+\) \[00[01]\] .* sys_madvise\(/, 'record-tgid on, syscalls traced');
  // the second command's trace, written plain because its name has no .gz
  assert.match(readFileSync(join(dir, 'sh.txt'), 'latin1'), /^# tlbsim-vm: .*\n# tlbsim-vm-command: sh -c true\n# tracer: nop\n/);
  const inspect = tlbsim(['inspect', '--json', join(dir, 'madv.txt.gz')]);
  assert.equal(inspect.status, 0, inspect.stderr);
  const info = JSON.parse(inspect.stdout) as { format: string; cpus: number; skippedLines: number; events: Record<string, number> };
  assert.equal(info.format, 'ftrace');
  assert.equal(info.cpus, 2);
  assert.equal(info.skippedLines, 0);
  assert.ok(info.events.madvise >= 60, JSON.stringify(info.events));
  assert.ok(info.events.observed_flush > 0);
});

test('record --vm ends a guest that does not finish in --timeout, and one whose ring buffer cannot be had', { skip: SKIP_BOOT, timeout: 120_000 }, () => {
  const o = join(tmp, 'vm-timeout.txt');
  const slow = tlbsim(['record', '--vm', '--kernel', kernel!.vmlinuz, '--cpus', '1', '--accel', 'tcg', '--timeout', '2', '-o', o, '--', 'sleep', '600']);
  assert.equal(slow.status, 1, slow.stderr);
  assert.match(slow.stderr, /tlbsim: the guest did not finish within 2 s \(raise --timeout\); console log: \S+console\.log\n/);
  assert.doesNotMatch(slow.stderr, NO_STACK);
  assert.ok(!existsSync(o));
  removeKeptWorkDir(slow.stderr);
  // 256 MiB of guest memory cannot hold 1 GiB of ring buffer: the guest says so and powers off.
  const big = tlbsim(['record', '--vm', '--kernel', kernel!.vmlinuz, '--cpus', '1', '--accel', 'tcg', '--memory', '256', '--buffer-kb', '1048576', '-o', o, '--', 'true']);
  assert.equal(big.status, 1, big.stderr);
  assert.match(big.stderr, /in the guest: cannot allocate 1048576 KiB of ring buffer per CPU; give the guest more --memory or a smaller --buffer-kb/);
  removeKeptWorkDir(big.stderr);
});

/** A failed boot keeps its work directory for the user to look into; a test's need not stay. */
function removeKeptWorkDir(stderr: string): void {
  const kept = /kept the work directory (\/\S*tlbsim-vm-\w+)/.exec(stderr);
  assert.ok(kept, stderr);
  rmSync(kept[1], { recursive: true, force: true });
}
