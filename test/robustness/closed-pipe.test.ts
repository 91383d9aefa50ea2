// A reader that stops reading (`tlbsim replay --help | head -3`, `less` quit early) closes
// the pipe: the CLI stops quietly with SIGPIPE's exit status, as coreutils do, instead of
// dying of an unhandled EPIPE with a stack trace. The read end is closed before the child
// writes anything (it takes over 100 ms to start), so every write meets a closed pipe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'tlbsim.mjs');

function runClosed(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

for (const [name, args, env] of [
  ['replay --help from the memo', ['replay', '--help'], {}],
  ['replay --help from the program', ['replay', '--help'], { TLBSIM_NO_HELP_CACHE: '1' }],
  ['strategies from the program', ['strategies'], { TLBSIM_NO_HELP_CACHE: '1' }],
] as [string, string[], NodeJS.ProcessEnv][]) {
  test(`stdout closed by its reader: ${name} exits 141 with nothing on stderr`, async () => {
    const r = await runClosed(args, env);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 141);
  });
}
