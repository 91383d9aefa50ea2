// Kernels for `record --vm`: a version (`6.1`, `6.12`, `7.3`) names Debian's packaged cloud
// kernel of that series, fetched with `apt-get download` and unpacked with `dpkg-deb -x`
// into a cache; nothing is installed into /boot or the package database. The cloud flavour
// is used because it boots fastest under QEMU and has what the lab needs built in (8250
// serial console, tracefs, syscall tracepoints, devtmpfs, gzip initramfs).
//
// 6.1 and 6.12 come from the host's own apt sources (bookworm and bookworm-security); 7.3
// from trixie-backports, through a private apt state under the cache (a sources list, lists
// and archives of its own), so that the host's apt configuration is never changed.
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, openSync, readSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RecordError } from '../record.ts';

export interface KernelSeries {
  /** What the user types after --kernel. */
  version: string;
  /** Package names of this series, newest picked by the number in the first group. */
  packagePattern: RegExp;
  /** The same for people. */
  packageGlob: string;
  /** A sources.list line for a private apt state; undefined: the host's own sources. */
  privateSource?: (mirror: string) => string;
  /** Where the series comes from, for messages. */
  origin: string;
}

export const KERNEL_SERIES: readonly KernelSeries[] = [
  { version: '6.1', packagePattern: /^linux-image-6\.1\.0-(\d+)-cloud-amd64$/, packageGlob: 'linux-image-6.1.0-*-cloud-amd64', origin: 'Debian 12 (bookworm, bookworm-security)' },
  { version: '6.12', packagePattern: /^linux-image-6\.12\.(\d+)\+deb12-cloud-amd64$/, packageGlob: 'linux-image-6.12.*+deb12-cloud-amd64', origin: 'Debian 12 bookworm-security' },
  {
    version: '7.3', packagePattern: /^linux-binary-7\.3\.(\d+)\+deb13-cloud-amd64$/, packageGlob: 'linux-binary-7.3.*+deb13-cloud-amd64', origin: 'Debian 13 trixie-backports',
    privateSource: (mirror) => `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror} trixie-backports main`,
  },
];

export interface ResolvedKernel {
  vmlinuz: string;
  /** The package it came from, or null for a --kernel PATH. */
  packageName: string | null;
  /** The series asked for (`6.12`), or null for a path. */
  version: string | null;
}

/** `$XDG_CACHE_HOME/tlbsim/kernels`, else `~/.cache/tlbsim/kernels`. */
export function kernelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(env.HOME || homedir(), '.cache');
  return join(base, 'tlbsim', 'kernels');
}

export function seriesOf(version: string): KernelSeries | undefined {
  return KERNEL_SERIES.find((s) => s.version === version);
}

/** Whether --kernel's argument reads as a version rather than a path. */
export function looksLikeVersion(arg: string): boolean {
  return /^\d+\.\d+$/.test(arg);
}

/** The newest already unpacked kernel of a series in the cache, or null. Used before any
 *  network access, so that a lab that has fetched its kernels once runs offline. */
export function cachedKernel(version: string, cacheDir = kernelCacheDir()): ResolvedKernel | null {
  const series = seriesOf(version);
  if (!series || !existsSync(cacheDir)) return null;
  const found = readdirSync(cacheDir)
    .map((name) => ({ name, m: series.packagePattern.exec(name) }))
    .filter((x) => x.m && existsSync(join(cacheDir, x.name, 'vmlinuz')))
    .sort((a, b) => Number(b.m![1]) - Number(a.m![1]));
  if (found.length === 0) return null;
  return { vmlinuz: join(cacheDir, found[0].name, 'vmlinuz'), packageName: found[0].name, version };
}

function has(tool: string): boolean {
  return !spawnSync(tool, ['--version'], { stdio: 'ignore' }).error;
}

function run(tool: string, args: string[], cwd?: string): { ok: boolean; stdout: string; why: string } {
  const r = spawnSync(tool, args, { encoding: 'utf8', cwd, maxBuffer: 64 << 20 });
  const why = (r.error?.message ?? r.stderr ?? '').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('W:')).slice(-1)[0] ?? '';
  return { ok: r.status === 0, stdout: r.stdout ?? '', why };
}

/** The Debian mirror the host's apt uses (deb822 or one-line sources), for the private state. */
export function debianMirror(): string {
  const candidates: string[] = [];
  try {
    const dir = '/etc/apt/sources.list.d';
    for (const f of readdirSync(dir)) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const m of text.matchAll(/^URIs:\s*(\S+)/gm)) candidates.push(m[1]);
      for (const m of text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)) candidates.push(m[1]);
    }
  } catch { /* no sources.list.d */ }
  try {
    for (const m of readFileSync('/etc/apt/sources.list', 'utf8').matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)) candidates.push(m[1]);
  } catch { /* no sources.list */ }
  return candidates.find((u) => /\/debian\/?$/.test(u))?.replace(/\/$/, '') ?? 'http://deb.debian.org/debian';
}

/** apt options that point apt-get/apt-cache at the private state for a series (or none). */
function aptOptions(series: KernelSeries, cacheDir: string, note: (line: string) => void): string[] {
  // apt-get download as root hands the download to the _apt user, which cannot write into
  // a root-owned cache; the download is ours anyway.
  const common = ['-o', 'APT::Sandbox::User=root'];
  if (!series.privateSource) return common;
  const state = join(cacheDir, `apt-${series.version}`);
  const lists = join(state, 'lists'), cache = join(state, 'cache');
  for (const d of [join(lists, 'partial'), join(cache, 'archives', 'partial')]) mkdirSync(d, { recursive: true });
  const sources = join(state, 'sources.list');
  const line = `${series.privateSource(debianMirror())}\n`;
  if (!existsSync(sources) || readFileSync(sources, 'utf8') !== line) writeFileSync(sources, line);
  const options = [...common, '-o', `Dir::Etc::sourcelist=${sources}`, '-o', 'Dir::Etc::sourceparts=-',
    '-o', `Dir::State::Lists=${lists}`, '-o', `Dir::Cache=${cache}`];
  const fresh = readdirSync(lists).some((f) => f.endsWith('_Packages') && Date.now() - statSync(join(lists, f)).mtimeMs < 86400e3);
  if (!fresh) {
    note(`updating the package lists of ${series.origin} (private apt state in ${state})`);
    const r = run('apt-get', [...options, 'update']);
    if (!r.ok) throw new RecordError(`cannot read ${series.origin} from ${debianMirror()}: apt-get update failed: ${r.why}`);
  }
  return options;
}

/** The newest package of a series that apt knows about. */
function newestPackage(series: KernelSeries, options: string[]): string | null {
  // apt-cache search takes a POSIX regex; the glob is the simplest correct one to give it.
  const regex = `^${series.packageGlob.replace(/[.+]/g, '\\$&').replace(/\*/g, '.*')}$`;
  const r = run('apt-cache', [...options, 'search', '--names-only', regex]);
  const names = r.stdout.split('\n').map((l) => l.split(' - ')[0].trim()).filter((n) => series.packagePattern.test(n));
  names.sort((a, b) => Number(series.packagePattern.exec(b)![1]) - Number(series.packagePattern.exec(a)![1]));
  return names[0] ?? null;
}

/** A kernel of `version`, from the cache or downloaded into it. */
export function fetchKernel(version: string, note: (line: string) => void, cacheDir = kernelCacheDir()): ResolvedKernel {
  const series = seriesOf(version);
  if (!series) throw new RecordError(`--kernel ${version}: no such kernel series; use one of ${KERNEL_SERIES.map((s) => s.version).join(', ')}, or a path to a vmlinuz`);
  const cached = cachedKernel(version, cacheDir);
  if (cached) return cached;
  if (!has('apt-get') || !has('dpkg-deb')) {
    throw new RecordError(`--kernel ${version} downloads Debian's kernel package, which needs apt-get and dpkg-deb (a Debian or Ubuntu host); elsewhere give --kernel PATH to a vmlinuz`);
  }
  mkdirSync(cacheDir, { recursive: true });
  const options = aptOptions(series, cacheDir, note);
  const pkg = newestPackage(series, options);
  if (!pkg) {
    const hint = series.privateSource ? `the mirror ${debianMirror()} has none` : 'run apt-get update (its lists may be missing or old)';
    throw new RecordError(`no package ${series.packageGlob} from ${series.origin} is known to apt: ${hint}`);
  }
  note(`downloading ${pkg} (${series.origin}) into ${cacheDir}`);
  const work = join(cacheDir, `.download-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const dl = run('apt-get', [...options, 'download', pkg], work);
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!dl.ok || !deb) throw new RecordError(`apt-get download ${pkg} failed: ${dl.why || 'no .deb written'}`);
    const tree = join(work, 'tree');
    const x = run('dpkg-deb', ['-x', join(work, deb), tree]);
    if (!x.ok) throw new RecordError(`dpkg-deb -x ${deb} failed: ${x.why}`);
    const vmlinuz = findVmlinuz(tree);
    if (!vmlinuz) throw new RecordError(`${deb} has no vmlinuz (neither boot/vmlinuz-* nor usr/lib/modules/*/vmlinuz)`);
    const dest = join(cacheDir, pkg);
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(`${dest}.tmp`, { recursive: true });
    copyFileSync(vmlinuz, join(`${dest}.tmp`, 'vmlinuz'));
    const config = findConfig(tree);
    if (config) copyFileSync(config, join(`${dest}.tmp`, 'config'));
    writeFileSync(join(`${dest}.tmp`, 'package'), `${deb}\n`);
    renameSync(`${dest}.tmp`, dest);
    return { vmlinuz: join(dest, 'vmlinuz'), packageName: pkg, version };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function findVmlinuz(tree: string): string | null {
  const boot = join(tree, 'boot');
  if (existsSync(boot)) {
    const f = readdirSync(boot).find((n) => n.startsWith('vmlinuz-'));
    if (f) return join(boot, f);
  }
  for (const modules of [join(tree, 'usr/lib/modules'), join(tree, 'lib/modules')]) {
    if (!existsSync(modules)) continue;
    for (const release of readdirSync(modules)) if (existsSync(join(modules, release, 'vmlinuz'))) return join(modules, release, 'vmlinuz');
  }
  return null;
}

function findConfig(tree: string): string | null {
  const boot = join(tree, 'boot');
  if (!existsSync(boot)) return null;
  const f = readdirSync(boot).find((n) => n.startsWith('config-'));
  return f ? join(boot, f) : null;
}

/** --kernel VER|PATH: a version is fetched (or taken from the cache), a path used as given. */
/** The --kernel mistakes that need nothing installed to find (an unknown series, a path
 *  that does not exist), so that they are reported before a missing QEMU is. */
export function checkKernelArg(arg: string): void {
  if (looksLikeVersion(arg)) {
    if (!seriesOf(arg)) throw new RecordError(`--kernel ${arg}: no such kernel series; use one of ${KERNEL_SERIES.map((s) => s.version).join(', ')}, or a path to a vmlinuz`);
  } else if (!existsSync(arg)) {
    throw new RecordError(`--kernel ${arg}: no such file (give a version, ${KERNEL_SERIES.map((s) => s.version).join(', ')}, or a path to a vmlinuz)`);
  }
}

export function resolveKernel(arg: string, note: (line: string) => void, cacheDir = kernelCacheDir()): ResolvedKernel {
  if (looksLikeVersion(arg)) return fetchKernel(arg, note, cacheDir);
  if (!existsSync(arg)) throw new RecordError(`--kernel ${arg}: no such file (give a version, ${KERNEL_SERIES.map((s) => s.version).join(', ')}, or a path to a vmlinuz)`);
  if (statSync(arg).isDirectory()) throw new RecordError(`--kernel ${arg} is a directory; give the vmlinuz file in it`);
  const head = Buffer.alloc(4);
  const fd = openSync(arg, 'r');
  try { readSync(fd, head, 0, 4, 0x202); } finally { closeSync(fd); }
  // Every x86 bzImage carries "HdrS" at 0x202 (the boot protocol header QEMU's -kernel reads).
  if (head.toString('latin1') !== 'HdrS') throw new RecordError(`--kernel ${arg} is not an x86 kernel image (bzImage/vmlinuz): no boot header`);
  return { vmlinuz: arg, packageName: null, version: null };
}
