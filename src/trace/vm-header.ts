// The `# tlbsim-vm:` comment line that `tlbsim record --vm` puts at the top of a trace,
// describing the guest that recorded it:
//
//   # tlbsim-vm: kernel=6.12.117+deb12-cloud-amd64 cpus=32 pcid=0 invpcid=0 invlpgb=0 accel=tcg host_cpus=2 pti=0 clock=mono
//
// It is a `#` line, so every raw-tracefs reader skips it as a header; this module is how a
// reader that wants it (validate's `--no-pcid`, TraceInfo) gets the facts back. The guest
// writes it itself (from `uname -r`, `nproc` and /proc/cpuinfo), so it says what the
// recorded kernel saw, not what the host asked QEMU for.

import type { RecordedMachine } from './event.ts';

export const VM_HEADER_PREFIX = '# tlbsim-vm:';

export interface VmHeader {
  /** `uname -r` in the guest. */
  kernel: string;
  /** Online CPUs in the guest. */
  cpus: number;
  /** CPU flags of the guest's /proc/cpuinfo that decide how the kernel flushes TLBs. */
  pcid: boolean;
  invpcid: boolean;
  invlpgb: boolean;
  /** How QEMU ran the guest: `tcg` (emulated) or `kvm`. */
  accel: string;
  /** Every key=value on the line, the ones above included (later additions stay readable). */
  fields: Record<string, string>;
}

/** The fields of a `# tlbsim-vm:` line, or null when `line` is not one (any other line of a
 *  trace). A line that is one but lacks kernel=, cpus= or a 0/1 flag throws: it was written
 *  by something that is not tlbsim, or damaged, and silently assuming "no PCID" would be wrong. */
export function parseVmHeader(line: string): VmHeader | null {
  const text = line.replace(/\r?\n$/, '');
  if (!text.startsWith(VM_HEADER_PREFIX)) return null;
  const fields: Record<string, string> = {};
  for (const word of text.slice(VM_HEADER_PREFIX.length).trim().split(/\s+/)) {
    if (word === '') continue;
    const eq = word.indexOf('=');
    if (eq <= 0) throw new Error(`bad tlbsim-vm header: "${word}" is not key=value`);
    fields[word.slice(0, eq)] = word.slice(eq + 1);
  }
  const need = (key: string) => {
    const v = fields[key];
    if (v === undefined || v === '') throw new Error(`bad tlbsim-vm header: no ${key}=`);
    return v;
  };
  const flag = (key: string) => {
    const v = need(key);
    if (v !== '0' && v !== '1') throw new Error(`bad tlbsim-vm header: ${key}=${v} (expected 0 or 1)`);
    return v === '1';
  };
  const cpus = Number(need('cpus'));
  if (!Number.isInteger(cpus) || cpus < 1) throw new Error(`bad tlbsim-vm header: cpus=${fields.cpus}`);
  return {
    kernel: need('kernel'), cpus, pcid: flag('pcid'), invpcid: flag('invpcid'), invlpgb: flag('invlpgb'),
    accel: fields.accel ?? 'unknown', fields,
  };
}

/** The header of a trace's first lines (a string holding its start), or null when it has none. */
export function findVmHeader(head: string): VmHeader | null {
  for (const line of head.split('\n', 64)) {
    if (!line.startsWith('#')) break;
    const h = parseVmHeader(line);
    if (h) return h;
  }
  return null;
}

/** What a trace reader takes from a `# tlbsim-vm:` line: the facts it can read, each checked
 *  on its own (a damaged or foreign field is left out, never trusted, never fatal); null
 *  when the line is not one. parseVmHeader above is the recorder's strict check of what
 *  its own guest wrote. */
export function recordedMachineOf(line: string): RecordedMachine | null {
  const m = /^#\s*tlbsim-vm:\s*(.*)$/.exec(line.trimEnd());
  if (m === null) return null;
  const out: RecordedMachine = {};
  const flag = (v: string): boolean | undefined => (/^(1|yes|true|on)$/i.test(v) ? true : /^(0|no|false|off)$/i.test(v) ? false : undefined);
  for (const tok of m[1].split(/\s+/)) {
    const eq = tok.indexOf('=');
    if (eq <= 0) continue;
    const k = tok.slice(0, eq), v = tok.slice(eq + 1);
    if (k === 'kernel' && /^[\w.+~-]{1,100}$/.test(v)) out.kernel = v;
    else if (k === 'cpus' && /^\d{1,5}$/.test(v)) out.cpus = Number(v);
    else if (k === 'host_cpus' && /^[1-9]\d{0,4}$/.test(v)) out.hostCpus = Number(v);
    else if (k === 'accel' && /^[a-z]{1,16}$/.test(v)) out.accel = v;
    else if (k === 'pcid' || k === 'invpcid' || k === 'invlpgb') {
      const f = flag(v);
      if (f !== undefined) out[k] = f;
    }
  }
  return out;
}
