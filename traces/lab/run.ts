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

/** The workloads and their arguments at n CPUs (threads 0 = one per CPU). */
export const WORKLOADS: Record<string, (n: number) => string[]> = {
  madvstorm: (n) => ['0', String(clamp(40000 / (n * perShootdown(n)), 10, 300))],
  mmapchurn: (n) => ['0', String(clamp(30000 / (n * perShootdown(n)), 8, 200)), '4'],
  // both flips of a page print a shootdown, and each costs TCG ~20x a DONTNEED
  mprotectflip: (n) => ['0', String(clamp(8000 / (n * perShootdown(n)), 5, 200))],
  forkexec: () => ['0', '30'],
  sleepwake: (n) => ['0', String(clamp(20000 / perShootdown(n), 50, 400)), '2000'],
  procstorm: (n) => ['0', String(clamp(30000 / (2 * n), 20, 1000))],
};

export interface Recording {
  kernel: string; release: string; cpus: number; workload: string; args: string[];
  file: string; bytes: number; lines: number; lostEvents: number;
  accel: string; pcid: boolean; invpcid: boolean; invlpgb: boolean; recorded: string;
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
  return existsSync(MANIFEST) ? JSON.parse(readFileSync(MANIFEST, 'utf8')) : { recordings: [] };
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
      const lines = names.map((w) => `${w}.txt.gz ${relative(ROOT, join(LAB, 'workloads', `${w}.c`))} ${WORKLOADS[w](cpus).join(' ')}`);
      writeFileSync(join(dir, 'lab.suite'), `# written by traces/lab/run.ts: ${kernel} at ${cpus} CPUs (OUTPUT COMMAND ARGS...)\n${lines.join('\n')}\n`);
      const started = Date.now();
      const code = await runCli(['record', '--vm', '--kernel', kernel, '--cpus', String(cpus), '--suite', relative(ROOT, join(dir, 'lab.suite')), '-o', relative(ROOT, dir)], join(dir, 'record.log'));
      process.stderr.write(`lab: ${kernel} ${cpus} CPUs: exit ${code} after ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
      if (code !== 0) failed++;
      const log = readFileSync(join(dir, 'record.log'), 'utf8');
      const manifest = loadManifest();
      for (const w of names) {
        const file = join(dir, `${w}.txt.gz`);
        if (!existsSync(file) || statSync(file).mtimeMs < started) continue;
        const text = gunzipSync(readFileSync(file)).toString('latin1');
        const header = parseVmHeader(text.slice(0, text.indexOf('\n')));
        if (!header) throw new Error(`${file}: no tlbsim-vm header`);
        const rel = relative(ROOT, file);
        const lost = new RegExp(`${w}\\.txt\\.gz: the ring buffer lost (\\d+) events`).exec(log);
        const entry: Recording = {
          kernel, release: header.kernel, cpus, workload: w, args: WORKLOADS[w](cpus), file: rel,
          bytes: statSync(file).size, lines: text.split('\n').length - 1, lostEvents: lost ? Number(lost[1]) : 0,
          accel: header.accel, pcid: header.pcid, invpcid: header.invpcid, invlpgb: header.invlpgb,
          recorded: new Date().toISOString().slice(0, 10),
        };
        manifest.recordings = manifest.recordings.filter((r) => r.file !== rel);
        manifest.recordings.push(entry);
      }
      manifest.recordings.sort((a, b) => a.kernel.localeCompare(b.kernel, 'en', { numeric: true }) || a.cpus - b.cpus || a.workload.localeCompare(b.workload));
      writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 1)}\n`);
    }
  }
  process.exit(failed > 0 ? 1 : 0);
}

await main();
