// The two archive formats between the host and the guest, written and read here so that
// `record --vm` needs no cpio or tar on the host:
// - the initramfs the kernel unpacks (cpio "newc", the only format it accepts), and
// - the tar stream the guest writes to its second serial port after each workload
//   (busybox `tar -c`: ustar, one archive per workload, concatenated).

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Buffer; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000, S_IFCHR = 0o020000;

function pad4(n: number): number { return (4 - (n % 4)) % 4; }

/** A newc cpio archive of `entries` (parents before children, as the kernel creates them in
 *  order), owned by root, with the trailer. */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const add = (path: string, mode: number, data: Buffer, rdevMajor = 0, rdevMinor = 0) => {
    const name = Buffer.from(`${path}\0`, 'utf8');
    const fields = [ino++, mode, 0, 0, (mode & S_IFDIR) === S_IFDIR ? 2 : 1, 0, data.length, 0, 0, rdevMajor, rdevMinor, name.length, 0];
    const header = Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}`, 'ascii');
    parts.push(header, name, Buffer.alloc(pad4(header.length + name.length)), data, Buffer.alloc(pad4(data.length)));
  };
  for (const e of entries) {
    const path = e.path.replace(/^\/+/, '');
    switch (e.kind) {
      case 'dir': add(path, S_IFDIR | (e.mode ?? 0o755), Buffer.alloc(0)); break;
      case 'file': add(path, S_IFREG | (e.mode ?? 0o644), e.data); break;
      case 'symlink': add(path, S_IFLNK | 0o777, Buffer.from(e.target, 'utf8')); break;
      case 'chardev': add(path, S_IFCHR | (e.mode ?? 0o600), Buffer.alloc(0), e.major, e.minor); break;
    }
  }
  ino = 0;
  add('TRAILER!!!', 0, Buffer.alloc(0));
  return Buffer.concat(parts);
}

export interface TarFile { name: string; data: Buffer }

/** The regular files of a (possibly concatenated, possibly truncated) ustar stream, in order.
 *  Stops at the first block that is not a valid header or a file cut short: what came
 *  before it is returned, so a guest that died mid-suite still gives its finished workloads. */
export function readTarFiles(stream: Buffer): { files: TarFile[]; truncated: boolean } {
  const files: TarFile[] = [];
  let at = 0;
  while (at + 512 <= stream.length) {
    const block = stream.subarray(at, at + 512);
    // Zero blocks end each archive; a next archive may follow.
    if (block.every((b) => b === 0)) { at += 512; continue; }
    const field = (from: number, len: number) => {
      const raw = block.subarray(from, from + len);
      const nul = raw.indexOf(0);
      return raw.toString('utf8', 0, nul === -1 ? len : nul);
    };
    const sum = block.reduce((s, b, i) => s + (i >= 148 && i < 156 ? 32 : b), 0);
    if (parseInt(field(148, 8).trim(), 8) !== sum) return { files, truncated: true };
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const prefix = field(257, 6).startsWith('ustar') ? field(345, 155) : '';
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const dataAt = at + 512;
    if (dataAt + size > stream.length) return { files, truncated: true };
    if (type === '0' || type === '') files.push({ name: name.replace(/^\.\//, ''), data: stream.subarray(dataAt, dataAt + size) });
    at = dataAt + Math.ceil(size / 512) * 512;
  }
  return { files, truncated: at < stream.length };
}
