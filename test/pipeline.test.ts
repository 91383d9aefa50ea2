// analyse(): what `tlbsim replay` does with its inputs, as the API gives it to scripts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputError, analyse, openInput, replay, writeAnalysisCsv, writeAnalysisReport } from '../src/index.ts';

const REAL = 'traces/real/pingpong-0/trace.txt.gz';
const WORKLOAD = 'workload:ping-pong:pages=64,iterations=200';
const STRATEGIES = ['linux-4.13', 'linux-6.18'];

test('analyse gives replay()\'s results per input, the recorded kernel checked on the real trace only', async () => {
  const a = await analyse([REAL, WORKLOAD], { strategies: STRATEGIES, calibration: false });
  assert.equal(a.inputs.length, 2);
  assert.equal(a.baseline, 'linux-4.13');
  assert.equal(a.calibration, undefined);
  for (const [i, spec] of [REAL, WORKLOAD].entries()) {
    const input = await openInput(spec);
    try {
      assert.deepEqual(a.inputs[i].results, await replay(input, { strategies: STRATEGIES, workers: 1 }), spec);
    } finally { input.close(); }
  }
  const [real, workload] = a.inputs;
  assert.equal(real.validation?.strategy, 'linux-6.18');
  assert.ok(real.validation!.rows.length > 0);
  assert.equal(workload.validation, undefined, 'a workload records no kernel to check');
  assert.deepEqual(real.violationEvents, []);
});

test('analyse calibrates when a workload is among the inputs, unless told not to', async () => {
  const a = await analyse([WORKLOAD], { strategies: ['linux-4.13'] });
  assert.ok(a.calibration && a.calibration.rows.length > 0);
  const b = await analyse([REAL], { strategies: ['linux-4.13'] });
  assert.equal(b.calibration, undefined);
});

test('writeAnalysisCsv and writeAnalysisReport write the tables and the report; a bad target is one OutputError line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tlbsim-pipeline-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = await analyse([REAL], { strategies: STRATEGIES });
  const n = await writeAnalysisCsv(a, join(dir, 'csv'));
  const files = readdirSync(join(dir, 'csv')).sort();
  assert.equal(files.length, n);
  assert.ok(files.includes('observed_predicted.csv'), files.join(' '));
  // validate's rows, under the recorded kernel's model.
  assert.match(readFileSync(join(dir, 'csv', 'observed_predicted.csv'), 'utf8'), /^traces\/real\/pingpong-0\/trace\.txt\.gz,linux-6\.18,"switch, flush \(reason 0, pages -1\)",\d+,\d+,/m);
  const html = await writeAnalysisReport(a, join(dir, 'r', 'index.html'));
  assert.match(readFileSync(html, 'utf8'), /^<!doctype html>/);
  writeFileSync(join(dir, 'file'), '');
  await assert.rejects(writeAnalysisCsv(a, join(dir, 'file')), (e: unknown) =>
    e instanceof OutputError && /file: is a file; --csv takes a directory/.test(e.message) && !e.message.includes('\n'));
  await assert.rejects(writeAnalysisReport(a, join(dir, 'file', 'x.html')), (e: unknown) =>
    e instanceof OutputError && /^cannot write the report .*file\/x\.html: /.test(e.message));
});
