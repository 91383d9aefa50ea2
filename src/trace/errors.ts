// The errors a trace input can end with, apart from the readers: kept free of imports so
// that the command line can name them (src/cli.ts, src/commands/util.ts) without loading
// zlib and child_process, which only opening a trace needs.

/** A user-facing problem with an input: printed as one sentence, never as a stack. */
export class TraceError extends Error {
  constructor(message: string, readonly file?: string, readonly line?: number) {
    super(message);
    this.name = 'TraceError';
  }
}

/** What an errno from opening or reading `path` means, in words (an unknown code is named). */
export function describeFsError(e: unknown): string {
  const code = (e as { code?: string }).code;
  switch (code) {
    case 'ENOENT': return 'no such file';
    case 'ENOTDIR': return 'a component of the path is not a directory';
    case 'EACCES': case 'EPERM': return `permission denied (tlbsim runs as uid ${process.geteuid?.() ?? '?'})`;
    case 'ELOOP': return 'too many levels of symbolic links (a symlink loop?)';
    case 'EISDIR': return 'is a directory';
    case 'ENAMETOOLONG': return 'the path is too long';
    case 'ENOSPC': return 'no space left on the device';
    case 'EDQUOT': return 'disk quota exceeded';
    case 'EROFS': return 'read-only file system';
    case 'EIO': return 'input/output error (a failing disk?)';
    case 'EMFILE': case 'ENFILE': return 'too many open files';
    case 'EFBIG': return 'file too large';
    // /dev/stdin when stdin is a socket (a program's socketpair, not a shell's pipe).
    case 'ENXIO': return 'no such device or address (a socket cannot be opened by name: pipe it through cat)';
    default: return code ? `${code}: ${(e as Error).message.replace(/^[A-Z]+: /, '').split(',')[0]}` : String((e as Error).message ?? e);
  }
}
