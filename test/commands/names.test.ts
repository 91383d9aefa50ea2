// Misspelled names get one message everywhere (issue 19, "Terminal"):
// `unknown strategy "x"; did you mean linux-6.18?`, or the valid names when nothing is
// close. Run as a user runs the CLI, plus the distance the suggestions rest on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STRATEGY_NAMES } from '../../src/strategies/index.ts';
import { PROFILES, COST_KEYS } from '../../src/machine/profiles.ts';
import { listWorkloads } from '../../src/workloads/index.ts';
import { METRIC_NAMES } from '../../src/machine/metrics.ts';
import { closestNames, editDistance, unknownNameMessage } from '../../src/names.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp } from '../helpers.ts';
import { NO_STACK, tlbsim } from './run.ts';

const REAL = 'traces/real/pingpong-512/trace.txt.gz';

function usage(args: string[], want: string): void {
  const r = tlbsim(args, { env: { NO_COLOR: '1' } });
  assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr, `tlbsim: ${want}\n`, args.join(' '));
  assert.doesNotMatch(r.stderr, NO_STACK);
}

test('the command line suggests the closest strategy, workload, parameter, profile and cost key', () => {
  usage(['replay', '--no-report', '-s', 'linux-6.81', REAL], 'unknown strategy "linux-6.81"; did you mean linux-6.18?');
  usage(['replay', '--no-report', '-s', 'linux-4.13,lniux-4.20', REAL], 'unknown strategy "lniux-4.20"; did you mean linux-4.20?');
  usage(['replay', '--no-report', '--baseline', 'linux-4.31', REAL], 'unknown baseline strategy "linux-4.31"; did you mean linux-4.13?');
  usage(['validate', '-s', 'linux-73', REAL], 'unknown strategy "linux-73"; did you mean linux-7.3?');
  usage(['replay', '--no-report', 'workload:pingpong'], 'unknown workload "pingpong"; did you mean ping-pong?');
  usage(['generate', 'madv-thread', '-o', '/dev/null.csv'], 'unknown workload "madv-thread"; did you mean madv-threads?');
  usage(['replay', '--no-report', 'workload:ping-pong:page=3'], 'unknown ping-pong parameter "page"; did you mean pages?');
  usage(['generate', 'madv-threads', '--set', 'thread=4', '-o', '/dev/null.csv'], 'unknown madv-threads parameter "thread"; did you mean threads?');
  usage(['replay', '--no-report', '--profile', 'kvm-gust', REAL], 'unknown cost profile "kvm-gust"; did you mean kvm-guest?');
  usage(['validate', '--profile', 'skylake', REAL], 'unknown cost profile "skylake"; did you mean skylake-laptop or skylake-laptop-fitted?');
  usage(['replay', '--no-report', '--cost', 'ipiSendNS=400', REAL], 'unknown cost key "ipiSendNS"; did you mean ipiSendNs?');
});

test('nothing close: the valid names, in the same message shape', () => {
  usage(['replay', '--no-report', '-s', 'zzz', REAL], `unknown strategy "zzz"; valid: ${STRATEGY_NAMES.join(', ')}`);
  usage(['replay', '--no-report', 'workload:quux'], `unknown workload "quux"; valid: ${listWorkloads().map((w) => w.name).join(', ')}`);
  usage(['replay', '--no-report', '--profile', 'cray-1', REAL], `unknown cost profile "cray-1"; valid: ${Object.keys(PROFILES).join(', ')}`);
  usage(['replay', '--no-report', 'workload:ping-pong:colour=red'], 'unknown ping-pong parameter "colour"; valid: pages, iterations, cpus, seed');
});

test('edit distance: insertions, deletions, substitutions, and a swap of neighbours as one edit', () => {
  assert.equal(editDistance('', ''), 0);
  assert.equal(editDistance('abc', ''), 3);
  assert.equal(editDistance('linux', 'lniux'), 1);
  assert.equal(editDistance('pages', 'page'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('ca', 'abc'), 3); // optimal string alignment, not unrestricted
  for (const [a, b] of [['linux-6.18', 'linux-6.81'], ['threads', 'thread'], ['ipiSendNs', 'ipisendns']]) {
    assert.equal(editDistance(a, b), editDistance(b, a), `${a} ${b} symmetric`);
  }
});

test('suggestions stay close: far names suggest nothing, ties are all named, metrics work the same way', () => {
  assert.deepEqual(closestNames('overhead', METRIC_NAMES), ['overhead_ns']);
  assert.deepEqual(closestNames('ipis_sents', METRIC_NAMES), ['ipis_sent']);
  assert.equal(unknownNameMessage('metric', 'tlb_mises', METRIC_NAMES), 'unknown metric "tlb_mises"; did you mean tlb_misses?');
  assert.deepEqual(closestNames('xyz', STRATEGY_NAMES), []);
  assert.deepEqual(closestNames('cpu', ['cpus', 'cpux']), ['cpus', 'cpux']);
  assert.match(unknownNameMessage('parameter', 'cpu', ['cpus', 'cpux']), /; did you mean cpus or cpux\?$/);
  // Every cost key is one case-slip away from itself and suggested back.
  for (const k of COST_KEYS) assert.deepEqual(closestNames(k.toLowerCase(), COST_KEYS), [k]);
  // A long typed name is shortened in the message, not echoed whole.
  assert.ok(unknownNameMessage('strategy', 'x'.repeat(500), STRATEGY_NAMES).length < 400);
});

test('a sweep spec with a misspelled name ends its message with the same suggestion', () => {
  const spec = join(tmp, 'names-sweep.json');
  for (const [doc, hint] of [
    [{ inputs: ['workload:madv-threads'], strategies: ['linux-6.81'] }, 'linux-6.18'],
    [{ inputs: ['workload:madv-threads'], profiles: ['kvm-gest'] }, 'kvm-guest'],
    [{ inputs: [{ workload: 'madv-thread' }] }, 'madv-threads'],
    [{ inputs: [{ workload: 'madv-threads', params: { thread: 2 } }] }, 'threads'],
  ] as const) {
    writeFileSync(spec, JSON.stringify(doc));
    const r = tlbsim(['sweep', spec, '--list'], { env: { NO_COLOR: '1' } });
    assert.equal(r.status, 1, r.stderr);
    assert.ok(r.stderr.endsWith(`; did you mean ${hint}?\n`), r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});
