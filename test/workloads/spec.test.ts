import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildWorkload, describeWorkload, formatWorkloadSpec, generateWorkload, getWorkload, listWorkloads, parseWorkloadSpec,
  resolveParams, WorkloadError,
} from '../../src/workloads/index.ts';

const NAMES = ['ping-pong', 'madv-dontneed-switch', 'pthread-mmap', 'madv-threads', 'wis-tlb-flush2',
  'wis-context-switch1', 'fork-churn', 'ptwalk-sync'];

/** The error is a WorkloadError whose message is one sentence matching `re`. */
function rejects(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof WorkloadError, `expected a WorkloadError, got ${String(err)}`);
    assert.equal(err.name, 'WorkloadError');
    assert.match(err.message, re);
    assert.ok(!err.message.includes('\n'), 'one line');
    // A sentence, or the one shape every misspelled name gets (src/names.ts).
    assert.match(err.message, /\.$|^unknown .*(\?|; valid: .*[^.])$/, 'ends like a sentence');
    return true;
  });
}

describe('workload registry', () => {
  it('lists exactly the contract names (docs/design/cli.md)', () => {
    assert.deepEqual(listWorkloads().map((w) => w.name), NAMES);
  });

  it('every workload documents itself and takes cpus and seed', () => {
    for (const w of listWorkloads()) {
      assert.ok(w.description.length > 40, w.name);
      assert.ok(w.iteration.length > 5, w.name);
      const names = w.params.map((p) => p.name);
      assert.ok(names.includes('cpus') && names.includes('seed'), w.name);
      assert.equal(new Set(names).size, names.length, `${w.name}: parameter names are unique`);
      for (const p of w.params) {
        assert.ok(p.description.length > 5, `${w.name}.${p.name} has a description`);
        // Each default is valid for its own parameter.
        assert.deepEqual(resolveParams(w, { [p.name]: p.default })[p.name], p.default);
      }
      const d = describeWorkload(w);
      assert.deepEqual(Object.keys(d), ['name', 'description', 'iteration', 'params']);
    }
  });

  it('docs/design/cli.md parameters exist', () => {
    const params = (name: string) => getWorkload(name).params.map((p) => p.name);
    assert.ok(['pages', 'iterations'].every((p) => params('ping-pong').includes(p)));
    assert.ok(params('madv-threads').includes('threads'));
    assert.ok(['mode', 'tasks'].every((p) => params('wis-tlb-flush2').includes(p)));
    assert.ok(['threads', 'cpus', 'rounds', 'mb'].every((p) => params('pthread-mmap').includes(p)));
    assert.deepEqual(getWorkload('pthread-mmap').params.filter((p) => ['threads', 'cpus', 'rounds', 'mb'].includes(p.name))
      .map((p) => p.default), [8, 100, 256, 4]);
    assert.deepEqual(getWorkload('wis-tlb-flush2').params.find((p) => p.name === 'mode')?.values, ['threads', 'processes']);
  });
});

describe('parseWorkloadSpec', () => {
  it('accepts NAME and NAME:k=v,k=v, with or without the workload: prefix', () => {
    assert.deepEqual(parseWorkloadSpec('ping-pong'), { name: 'ping-pong', params: {} });
    assert.deepEqual(parseWorkloadSpec('workload:ping-pong'), { name: 'ping-pong', params: {} });
    assert.deepEqual(parseWorkloadSpec('workload:ping-pong:pages=512'), { name: 'ping-pong', params: { pages: '512' } });
    assert.deepEqual(parseWorkloadSpec('ping-pong:pages=512,iterations=10'),
      { name: 'ping-pong', params: { pages: '512', iterations: '10' } });
    assert.deepEqual(parseWorkloadSpec(' ping-pong: pages = 3 , '), { name: 'ping-pong', params: { pages: '3' } });
    assert.deepEqual(parseWorkloadSpec('ping-pong:'), { name: 'ping-pong', params: {} });
  });

  it('rejects malformed specs', () => {
    rejects(() => parseWorkloadSpec(''), /names no workload/);
    rejects(() => parseWorkloadSpec('workload:'), /names no workload/);
    rejects(() => parseWorkloadSpec('ping-pong:pages'), /'pages'.*key=value/);
    rejects(() => parseWorkloadSpec('ping-pong:=3'), /key=value/);
    rejects(() => parseWorkloadSpec('ping-pong:pages=1,pages=2'), /'pages' is given twice/);
  });
});

describe('parameter validation', () => {
  it('fills defaults and converts values', () => {
    const { params, source } = buildWorkload('workload:ping-pong:pages=512');
    assert.deepEqual(params, { pages: 512, iterations: 10000, cpus: 2, seed: 1 });
    assert.equal(source, 'workload:ping-pong:pages=512,iterations=10000,cpus=2,seed=1');
    assert.equal(formatWorkloadSpec(getWorkload('ping-pong'), params), source);
    assert.equal(buildWorkload('fork-churn:exec=no').params.exec, false);
    assert.equal(buildWorkload('fork-churn:exec=1').params.exec, true);
    assert.equal(buildWorkload({ name: 'wis-tlb-flush2', params: { mode: 'processes', tasks: 2 } }).params.tasks, 2);
    assert.equal(buildWorkload('ptwalk-sync:walkGapNs=2.5e3').params.walkGapNs, 2500);
  });

  it('names unknown workloads and parameters', () => {
    rejects(() => buildWorkload('pingpong'), /^unknown workload "pingpong"; did you mean ping-pong\?$/);
    rejects(() => buildWorkload('zzz'), /^unknown workload "zzz"; valid: ping-pong, madv-dontneed-switch, /);
    rejects(() => buildWorkload('ping-pong:page=3'), /^unknown ping-pong parameter "page"; did you mean pages\?$/);
    rejects(() => buildWorkload('ping-pong:colour=3'), /^unknown ping-pong parameter "colour"; valid: pages, iterations, cpus, seed$/);
  });

  it('rejects bad values with the expected range', () => {
    rejects(() => buildWorkload('ping-pong:pages=abc'), /Parameter 'pages' of workload 'ping-pong' must be an integer from 0 to 1048576, got 'abc'\./);
    rejects(() => buildWorkload('ping-pong:pages=1.5'), /must be an integer/);
    rejects(() => buildWorkload('ping-pong:pages=-1'), /must be an integer from 0/);
    rejects(() => buildWorkload('ping-pong:pages='), /got ''/);
    rejects(() => buildWorkload('ping-pong:iterations=0'), /'iterations'.*from 1/);
    rejects(() => buildWorkload('ping-pong:cpus=0'), /'cpus'/);
    rejects(() => buildWorkload('madv-dontneed-switch:cpus=1'), /'cpus'.*from 2/);
    rejects(() => buildWorkload('wis-tlb-flush2:mode=thread'), /must be one of threads, processes, got 'thread'/);
    rejects(() => buildWorkload('fork-churn:exec=maybe'), /must be true or false/);
    rejects(() => buildWorkload('ptwalk-sync:walkGapNs=NaN'), /must be a number/);
    rejects(() => buildWorkload({ name: 'ping-pong', params: { pages: Infinity } }), /must be an integer/);
  });

  it('checks parameters against each other', () => {
    rejects(() => buildWorkload('madv-threads:threads=4,cpus=2'), /needs at least as many cpus as threads/);
    rejects(() => buildWorkload('wis-context-switch1:tasks=3,cpus=4'), /cpus >= 2 × tasks/);
    rejects(() => buildWorkload('ptwalk-sync:cpus=4,walkers=2,busy=2'), /cpus >= 1 \+ walkers \+ busy/);
  });

  it('validates cost overrides', () => {
    rejects(() => buildWorkload('ping-pong', { costs: { NOPE_NS: 1 } as never }), /Unknown workload cost 'NOPE_NS'/);
    rejects(() => buildWorkload('ping-pong', { costs: { SYSCALL_NS: -1 } }), /must be a non-negative number/);
  });

  it('generateWorkload rejects asynchronously with the same errors', async () => {
    await assert.rejects(generateWorkload('nope'), WorkloadError);
  });
});
