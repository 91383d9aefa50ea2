// Regenerates the many-CPU lab recordings: for each kernel and CPU count, one boot of
// `tlbsim record --vm --suite` running every workload of traces/lab/workloads/, then the
// entries of traces/lab/manifest.json for those recordings.
//
//   node --import tsx traces/lab/run.ts KERNELS CPUS [WORKLOADS]
//   node --import tsx traces/lab/run.ts 6.12 2,8
//   node --import tsx traces/lab/run.ts 6.1,6.12,7.3 2,4,8,16,32
//   node --import tsx traces/lab/run.ts 6.12 64 madvstorm,procstorm
//
// Iteration counts shrink as CPUs grow, so that each trace stays at a few hundred KB of gzip
// (a shootdown to n CPUs prints ~2n lines) and a 32-vCPU boot under TCG ends in minutes.
// Boots run one after another: on a 2-core host two emulated machines only slow each other.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parseVmHeader } from '../../src/trace/vm-header.ts';

const LAB = dirname(fileURLToPath(import.meta.url));
const ROOT = join(LAB, '..', '..');
const MANIFEST = join(LAB, 'manifest.json');

const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, Math.round(x)));
/** Lines one shootdown-heavy iteration of n threads prints: about 3 + 2(n-1) per thread. */
const perShootdown = (n: number) => 3 + 2 * (n - 1);

/** Lines a trace may take: 40000 (~200-300 KB of gzip) up to 8 CPUs, half from 16 on, so that
 *  the 16-, 32- and 64-CPU boots, six files each, stay well under a MB together. */
const budget = (n: number) => (n >= 16 ? 20000 : 40000);

/** The workloads and their arguments at n CPUs (threads 0 = one per CPU). */
export const WORKLOADS: Record<string, (n: number) => string[]> = {
  madvstorm: (n) => ['0', String(clamp(budget(n) / (n * perShootdown(n)), 3, 300))],
  mmapchurn: (n) => ['0', String(clamp(0.75 * budget(n) / (n * perShootdown(n)), 3, 200)), '4'],
  // both flips of a page print a shootdown, and each costs TCG ~20x a DONTNEED
  mprotectflip: (n) => ['0', String(clamp(0.2 * budget(n) / (n * perShootdown(n)), 3, 200))],
  // each fork is a shootdown to every busy CPU, and exec+exit wake them all again
  forkexec: (n) => ['0', n >= 64 ? '8' : n >= 16 ? '15' : '30'],
  sleepwake: (n) => ['0', String(clamp(0.5 * budget(n) / perShootdown(n), 50, 400)), '2000'],
  procstorm: (n) => ['0', String(clamp(0.75 * budget(n) / (2 * n), 20, 1000))],
};

export interface Recording {
  kernel: string; release: string; cpus: number; workload: string; args: string[];
  file: string; bytes: number; lines: number; lostEvents: number;
  accel: string; pcid: boolean; invpcid: boolean; invlpgb: boolean; recorded: string;
  /** Of the whole boot this recording was one command of: QEMU start to the guest's first
   *  command, and QEMU start to power-off. */
  bootSeconds: number; bootTotalSeconds: number;
}

const README = join(LAB, 'README.md');

/** The table of recordings in README.md (between its markers), from the manifest. */
function writeReadmeTable(recordings: readonly Recording[]): void {
  if (!existsSync(README)) return;
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf('<!-- recordings -->'), end = text.indexOf('<!-- /recordings -->');
  if (start === -1 || end === -1) return;
  const rows = recordings.map((r) => `| ${r.kernel} | \`${r.release}\` | ${r.cpus} | ${r.workload} | \`${r.args.join(' ')}\` | ${r.lines} | ${(r.bytes / 1024).toFixed(0)} | ${r.lostEvents} | ${r.bootSeconds.toFixed(1)} / ${r.bootTotalSeconds.toFixed(0)} |`);
  const table = ['<!-- recordings -->', '| kernel | release | CPUs | workload | args | lines | gz KiB | lost | boot / whole boot s |', '|---|---|---|---|---|---|---|---|---|', ...rows, ''].join('\n');
  writeFileSync(README, text.slice(0, start) + table + text.slice(end));
}

function runCli(args: string[], log: string): Promise<number | null> {
  return new Promise((resolve) => {
    const out = createWriteStream(log);
    out.write(`$ tlbsim ${args.join(' ')}\n`);
    const child = spawn(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [child.stdout, child.stderr]) s.on('data', (d: Buffer) => { out.write(d); process.stderr.write(d); });
    child.on('close', (code) => { out.end(); resolve(code); });
  });
}

function loadManifest(): { recordings: Recording[] } {
  const manifest: { recordings: Recording[] } = existsSync(MANIFEST) ? JSON.parse(readFileSync(MANIFEST, 'utf8')) : { recordings: [] };
  // Entries from before the boot times were kept: take them from the boot's record.log.
  for (const r of manifest.recordings) {
    if (typeof r.bootSeconds === 'number') continue;
    const log = join(ROOT, dirname(r.file), 'record.log');
    const boot = existsSync(log) ? /booted in ([\d.]+) s, (\d+) s in all/.exec(readFileSync(log, 'utf8')) : null;
    if (boot) { r.bootSeconds = Number(boot[1]); r.bootTotalSeconds = Number(boot[2]); }
  }
  return manifest;
}

async function main(): Promise<void> {
  const [kernelsArg, cpusArg, workloadsArg] = process.argv.slice(2);
  if (!kernelsArg || !cpusArg) {
    process.stderr.write('usage: node --import tsx traces/lab/run.ts KERNELS CPUS [WORKLOADS]   e.g. 6.12 2,8\n');
    process.exit(2);
  }
  const names = workloadsArg ? workloadsArg.split(',') : Object.keys(WORKLOADS);
  for (const w of names) if (!WORKLOADS[w]) { process.stderr.write(`unknown workload ${w}; known: ${Object.keys(WORKLOADS).join(', ')}\n`); process.exit(2); }
  let failed = 0;
  for (const kernel of kernelsArg.split(',')) {
    for (const cpus of cpusArg.split(',').map(Number)) {
      const dir = join(LAB, kernel, `${cpus}cpu`);
      mkdirSync(dir, { recursive: true });
      // A boot of only some workloads keeps its suite and log beside the full boot's.
      const tag = workloadsArg ? `-${names.join('+')}` : '';
      const suite = join(dir, `lab${tag}.suite`), log = join(dir, `record${tag}.log`);
      const lines = names.map((w) => `${w}.txt.gz ${relative(ROOT, join(LAB, 'workloads', `${w}.c`))} ${WORKLOADS[w](cpus).join(' ')}`);
      writeFileSync(suite, `# written by traces/lab/run.ts: ${kernel} at ${cpus} CPUs (OUTPUT COMMAND ARGS...)\n${lines.join('\n')}\n`);
      const started = Date.now();
      const code = await runCli(['record', '--vm', '--kernel', kernel, '--cpus', String(cpus), '--suite', relative(ROOT, suite), '-o', relative(ROOT, dir)], log);
      process.stderr.write(`lab: ${kernel} ${cpus} CPUs: exit ${code} after ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
      if (code !== 0) failed++;
      const printed = readFileSync(log, 'utf8');
      const manifest = loadManifest();
      for (const w of names) {
        const file = join(dir, `${w}.txt.gz`);
        if (!existsSync(file) || statSync(file).mtimeMs < started) continue;
        const text = gunzipSync(readFileSync(file)).toString('latin1');
        const header = parseVmHeader(text.slice(0, text.indexOf('\n')));
        if (!header) throw new Error(`${file}: no tlbsim-vm header`);
        const rel = relative(ROOT, file);
        const boot = /booted in ([\d.]+) s, (\d+) s in all/.exec(printed);
        const lost = new RegExp(`${w}\\.txt\\.gz: the ring buffer lost (\\d+) events`).exec(printed);
        const entry: Recording = {
          kernel, release: header.kernel, cpus, workload: w, args: WORKLOADS[w](cpus), file: rel,
          bytes: statSync(file).size, lines: text.split('\n').length - 1, lostEvents: lost ? Number(lost[1]) : 0,
          accel: header.accel, pcid: header.pcid, invpcid: header.invpcid, invlpgb: header.invlpgb,
          recorded: new Date().toISOString().slice(0, 10),
          bootSeconds: boot ? Number(boot[1]) : NaN, bootTotalSeconds: boot ? Number(boot[2]) : NaN,
        };
        manifest.recordings = manifest.recordings.filter((r) => r.file !== rel);
        manifest.recordings.push(entry);
      }
      manifest.recordings.sort((a, b) => a.kernel.localeCompare(b.kernel, 'en', { numeric: true }) || a.cpus - b.cpus || a.workload.localeCompare(b.workload));
      writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 1)}\n`);
      writeReadmeTable(manifest.recordings);
    }
  }
  process.exit(failed > 0 ? 1 : 0);
}

if (process.argv[2] === '--table') {
  // Only rewrite README's table from the manifest (after editing either by hand).
  const manifest = loadManifest();
  writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 1)}\n`);
  writeReadmeTable(manifest.recordings);
  process.exit(0);
}

await main();
