// The report's why block, A-vs-B section and task table as HTML (no browser): they carry
// what whyGap and compareRuns computed, a script that replays no baseline gets no ratio
// text, and the README's scripting example does what the README says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openInput } from '../../src/inputs.ts';
import { replay } from '../../src/replay/replay.ts';
import { renderReport } from '../../src/report/index.ts';
import { gapBar } from '../../src/report/why.ts';
import { whyGap } from '../../src/analysis/why.ts';
import { esc } from '../../src/report/html.ts';
import type { AnalysisInput } from '../../src/analysis/types.ts';
import { spawnSync } from 'node:child_process';
import { tempFile, tmp } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

async function analysed(spec: string, strategies: string[]): Promise<AnalysisInput> {
  const src = await openInput(spec);
  try { return { info: src.info, results: await replay(src, { strategies, profile: 'skylake-laptop', workers: 1 }) }; } finally { src.close(); }
}

test('a report without the baseline has no ratio text; with it, ratios are to the baseline', async () => {
  const without = await analysed('traces/real/build/trace.txt.gz', ['linux-4.14', 'linux-6.18', 'linux-7.3']);
  const html = await renderReport({ inputs: [without], profile: 'skylake-laptop' }, { interactive: false });
  assert.ok(!html.includes('Ratios are to'));
  assert.ok(!html.includes('· baseline linux-4.13'));
  assert.ok(!/×[\d.]+ of linux-4\.13/.test(html));
  assert.match(html, /No ratios: the baseline linux-4\.13 was not replayed on this input\./);
  // The why block is the sentence whyGap wrote, escaped.
  const w = whyGap(without)!;
  assert.ok(html.includes(`<p class="why-text"><b>Why:</b> ${esc(w.sentence)}</p>`));
  assert.ok(html.includes(`data-best="${w.best}" data-current="linux-7.3"`));
  // A vs B opens on best safe vs current, with the TOC entry.
  assert.match(html, /<h3 id="input-0-ab">A vs B /);
  assert.ok(html.includes('href="#input-0-ab"') && html.includes('href="#input-0-tasks"'));
  const ab = html.slice(html.indexOf('<div class="ab"'));
  assert.ok(ab.includes(`<th class="ab-a">${w.best}</th><th class="ab-b">linux-7.3</th>`));

  const withBase = await analysed('traces/real/build/trace.txt.gz', ['linux-4.13', 'linux-7.3']);
  const html2 = await renderReport({ inputs: [withBase], profile: 'skylake-laptop' }, { interactive: false });
  assert.match(html2, /Ratios are to <b>linux-4\.13<\/b> on the same input\./);
  assert.ok(html2.includes('· baseline linux-4.13'));
});

test('the gap bar: one segment per cause, widths proportional to each delta, the zero line between', async () => {
  const inp = await analysed('traces/real/pingpong-512/trace.txt.gz', ['linux-4.14', 'linux-7.3']);
  const w = whyGap(inp)!;
  const svg = gapBar(w.causes, w.current, 400);
  const widths = [...svg.matchAll(/<rect x="[-\d.]+" y="2" width="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.equal(widths.length, w.causes.length);
  const total = w.causes.reduce((a, c) => a + Math.abs(c.delta), 0);
  w.causes.forEach((c, i) => assert.ok(Math.abs(widths[i] - Math.max(0.5, (Math.abs(c.delta) / total) * 400)) < 0.06, `${c.label}`));
  const zero = Number(/<line x1="([\d.]+)"/.exec(svg)![1]);
  const neg = w.causes.filter((c) => c.delta < 0).reduce((a, c) => a - c.delta, 0);
  assert.ok(Math.abs(zero - (neg / total) * 400) < 0.06);
  assert.equal(gapBar([], 'x'), '');
});

test("README's scripting example runs and writes the report it says, without ratio text", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Scripting in TypeScript'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)![1];
  assert.match(code, /writeReport\(/);
  const out = join(tmp, 'readme-example.html');
  // The example as written, with its output path moved into the test's temporary directory.
  const path = /writeReport\([^)]*?'([^']+\.html)'/.exec(code)![1];
  // 'tlbsim' resolves to the package inside the repository; the script runs from a
  // temporary file (.mts: an ES module outside the package), so it imports the same entry by path.
  const script = tempFile(code.replace(`'${path}'`, JSON.stringify(out)).replace(/from 'tlbsim'/g, `from ${JSON.stringify(join(ROOT, 'src/index.ts'))}`), '.mts');
  const run = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const html = readFileSync(out, 'utf8');
  assert.ok(html.startsWith('<!doctype html>'));
  assert.ok(!html.includes('Ratios are to'));
  assert.match(html, /<b>Why:<\/b>/);
  assert.ok(section.includes(path), 'the README names the file the example writes');
});
