/// <reference lib="dom" />
// The HTML report, opened in real headless Chromium (Debian `chromium` + playwright-core):
// offline, no page errors, one SVG per chart, the summary table equal to the JSON summary,
// and a trace with hostile task names that cannot run anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openInput } from '../../src/inputs.ts';
import { replay } from '../../src/replay/replay.ts';
import { findViolationEvents, type AnalysisInput } from '../../src/analysis/index.ts';
import { renderReport, summaryJson, writeReport } from '../../src/report/index.ts';
import { KEY_METRICS, metricDecl } from '../../src/machine/metrics.ts';
import { gunzipSync } from 'node:zlib';
import { tempFile, tmp } from '../helpers.ts';
import { hostileTrace, HOSTILE_NAMES } from './hostile.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';
const noBrowser = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;

async function analysed(spec: string, strategies?: string[]): Promise<AnalysisInput> {
  const src = await openInput(spec);
  try {
    const results = await replay(src, { strategies, workers: 1 });
    return { info: src.info, results, violationEvents: await findViolationEvents(src, results) };
  } finally { src.close(); }
}

// Every strategy on a real trace and on a workload: the report users get from `npm start`.
const inputs = Promise.all([analysed('traces/real/pingpong-512/trace.txt.gz'), analysed('workload:ping-pong:pages=512,iterations=2000')]);
const reportPath = join(tmp, 'report', 'index.html');
const written = inputs.then((i) => writeReport({ inputs: i, profile: 'skylake-laptop' }, reportPath));

async function browser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

function figures(html: string): string[] {
  return html.split('<figure class="chart"').slice(1).map((f) => f.slice(0, f.indexOf('</figure>')));
}

test('the report file: self-contained, one static SVG per chart, summary embedded, under 3 MB', async () => {
  const size = await written;
  const html = readFileSync(reportPath, 'utf8');
  assert.equal(size, Buffer.byteLength(html));
  assert.ok(size < 3 * 1024 * 1024, `${size} bytes`);
  assert.doesNotMatch(html, /\b(src|href)\s*=\s*["']?(https?:)?\/\//i, 'nothing loaded from elsewhere');
  const figs = figures(html);
  // metrics, causes, over time, IPI heatmap, latency, per CPU: for each of the two inputs
  // (the workload sends no IPI under any strategy: no heatmap).
  assert.equal(figs.length, 11);
  for (const f of figs) {
    assert.equal(f.split('<svg').length - 1, 1, f.slice(0, 80));
    assert.match(f, /<script type="application\/json" class="vega-spec">/);
  }
  const embedded = JSON.parse(html.match(/<script type="application\/json" id="tlbsim-summary">(.*?)<\/script>/s)![1]);
  assert.deepEqual(embedded, summaryJson({ inputs: await inputs }));
  assert.match(html, /tlbsim 0\.\d+\.\d+/);
  // Without the runtime the page has no executable script at all.
  const plain = await renderReport({ inputs: await inputs, profile: 'skylake-laptop' }, { interactive: false });
  assert.equal(plain.match(/<script(?![^>]*type="application\/json")/g), null);
  assert.equal(figures(plain).length, 11);
});

test('in Chromium: offline, no page error, one SVG per chart, table numbers equal the JSON summary', { skip: noBrowser }, async () => {
  await written;
  const b = await browser();
  try {
    const page = await b.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(`file://${reportPath}`);
    await page.waitForFunction(() => document.body.getAttribute('data-interactive') !== null, null, { timeout: 30_000 });
    assert.equal(await page.evaluate(() => document.body.getAttribute('data-interactive')), 'ready');
    assert.deepEqual(errors, []);
    assert.ok(requests.length >= 1);
    for (const u of requests) assert.match(u, /^(file|data):/, u);

    const svgCounts = await page.$$eval('figure.chart', (fs) => fs.map((f) => f.querySelectorAll('svg').length));
    assert.equal(svgCounts.length, 11);
    assert.deepEqual(svgCounts, svgCounts.map(() => 1));
    // The interactive view drew marks (not an empty SVG).
    const marks = await page.$$eval('figure.chart svg', (ss) => ss.map((s) => s.querySelectorAll('path, rect, line').length));
    for (const n of marks) assert.ok(n > 5);

    const summary = JSON.parse(await page.$eval('#tlbsim-summary', (e) => e.textContent ?? '')) as ReturnType<typeof summaryJson>;
    assert.deepEqual(summary, summaryJson({ inputs: await inputs }));
    const cells = await page.$$eval('table.summary td[data-metric]', (tds) => tds.map((td) => ({
      input: td.closest('table')!.getAttribute('data-input')!,
      strategy: td.closest('tr')!.getAttribute('data-strategy')!,
      metric: td.getAttribute('data-metric')!,
      value: Number(td.getAttribute('data-value')),
      shown: (td.firstChild?.textContent ?? '').trim(),
    })));
    const strategies = summary.runs.length;
    assert.ok(cells.length >= strategies * (KEY_METRICS.length - 2));
    for (const c of cells) {
      const run = summary.runs.find((r) => r.input === c.input && r.strategy === c.strategy)!;
      assert.ok(run, `${c.input} ${c.strategy}`);
      assert.equal(c.value, run.metrics[c.metric], `${c.strategy} ${c.metric}`);
      if (metricDecl(c.metric)?.unit === 'count') assert.equal(Number(c.shown.replace(/,/g, '')), run.metrics[c.metric], `${c.strategy} ${c.metric} shown as ${c.shown}`);
    }

    // Tooltips: hovering a bar of the first chart shows its strategy.
    const bar = page.locator('figure[data-chart="metrics"] svg path[role="graphics-symbol"], figure[data-chart="metrics"] svg .mark-rect path').first();
    await bar.hover();
    const tip = await page.$eval('.tip', (t) => ({ shown: getComputedStyle(t).display !== 'none', text: t.textContent ?? '' }));
    assert.ok(tip.shown, 'tooltip visible');
    assert.match(tip.text, /strategy: linux-/);

    // Legend selection: clicking a cause fades the bars of the other causes.
    const causes = page.locator('figure[data-chart="causes"]').first();
    const opacities = () => causes.evaluate((f) => [...f.querySelectorAll('.mark-rect path')].map((e) => Number(e.getAttribute('fill-opacity') ?? e.getAttribute('opacity') ?? 1)));
    assert.ok((await opacities()).every((o) => o === 1));
    await causes.locator('.role-legend-symbol path').first().click();
    await page.waitForFunction(() => [...document.querySelectorAll('figure[data-chart="causes"] .mark-rect path')].some((e) => Number(e.getAttribute('fill-opacity') ?? e.getAttribute('opacity') ?? 1) < 1), null, { timeout: 10_000 });
    const after = await opacities();
    assert.ok(after.some((o) => o === 1) && after.some((o) => o < 1), after.join(','));

    // With JavaScript off the static charts are there.
    const ctx = await b.newContext({ javaScriptEnabled: false });
    const still = await ctx.newPage();
    await still.goto(`file://${reportPath}`);
    const staticCounts = await still.$$eval('figure.chart', (fs) => fs.map((f) => f.querySelectorAll('svg').length));
    assert.deepEqual(staticCounts, svgCounts);
    await ctx.close();
  } finally {
    await b.close();
  }
});

test('hostile task names and file name: shown as text, nothing executes', { skip: noBrowser }, async () => {
  const evilName = join(tmp, '<img src=y onerror=window.__pwned=4>.txt');
  copyFileSync(hostileTrace(), evilName);
  const inp = await analysed(evilName, ['linux-4.13', 'pcid-v4-posted', 'linux-6.18']);
  assert.ok(inp.results[1].violations.count > 0, 'the violation puts a task name in the report');
  const path = join(tmp, 'hostile', 'index.html');
  await writeReport({ inputs: [inp], profile: 'skylake-laptop' }, path);
  const html = readFileSync(path, 'utf8');
  for (const n of HOSTILE_NAMES) assert.ok(!html.includes(n), `raw ${n}`);

  const b = await browser();
  try {
    const page = await b.newPage();
    const events: string[] = [];
    page.on('dialog', (d) => { events.push(`dialog ${d.message()}`); void d.dismiss(); });
    page.on('pageerror', (e) => events.push(String(e)));
    page.on('request', (r) => { if (!/^(file|data):/.test(r.url())) events.push(`request ${r.url()}`); });
    await page.goto(`file://${path}`);
    await page.waitForFunction(() => document.body.getAttribute('data-interactive') !== null, null, { timeout: 30_000 });
    assert.deepEqual(events, []);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.$$eval('img', (i) => i.length), 0);
    // Our three scripts (the vega runtime, the chart script, the A-vs-B script) and data blocks only.
    assert.equal(await page.$$eval('script:not([type="application/json"])', (s) => s.length), 3);
    const text = await page.evaluate(() => document.body.innerText);
    for (const n of HOSTILE_NAMES) assert.ok(text.includes(n), `shown as text: ${n}`);
    assert.ok(text.includes('<img src=y onerror=window.__pwned=4>.txt'));
  } finally {
    await b.close();
  }
});

test('validation and calibration results, in the shapes of docs/design/cli.md, are shown when given', async () => {
  const [real, workload] = await inputs;
  const validation = { strategy: 'linux-6.18', agreement: 0.875, rows: [{ what: 'tlb_flush reason 3 ranged', observed: 62, predicted: 60, agreement: 0.9677 }] };
  const calibration = { rows: [
    { benchmark: 'pcid-v4 ping-pong 512 pages', metric: 'iteration_ns', strategy: 'linux-4.14', baseline: 'linux-4.13', published: 0.64, simulated: 0.65 },
    { benchmark: '<b>made up</b>', metric: 'iteration_ns', strategy: 'linux-4.20', baseline: 'linux-4.13', published: 0.5, simulated: 1 },
  ] };
  const html = await renderReport({ inputs: [{ ...real, validation }, workload], calibration, profile: 'skylake-laptop' }, { interactive: false });
  const observed = html.slice(html.indexOf('>Observed vs predicted (linux-6.18) <a class="pl"'));
  assert.match(observed, /overall agreement <b>87\.5 %<\/b>/);
  assert.match(observed, /<td class="l">tlb_flush reason 3 ranged<\/td><td>62<\/td><td>60<\/td><td class="">96\.8 %<\/td>/);
  const cal = html.slice(html.indexOf('<section class="extra" id="calibration">'));
  assert.ok(cal.length > 0 && html.includes('href="#calibration"'));
  assert.match(cal, /pcid-v4 ping-pong 512 pages<\/td><td class="l">iteration_ns<\/td><td class="l">linux-4\.14<\/td><td class="l">linux-4\.13<\/td><td>0\.64<\/td><td>0\.65<\/td><td class="">\+2 %<\/td>/);
  assert.match(cal, /&lt;b&gt;made up&lt;\/b&gt;.*<td class="bad">\+100 %<\/td>/);
  // Without them, neither section appears for a workload-only report.
  const plain = await renderReport({ inputs: [workload], profile: 'skylake-laptop' }, { interactive: false });
  assert.ok(!plain.includes('id="calibration"'));
  assert.ok(!plain.includes('Observed vs predicted'));
});

test('a trace with no events gets a report without empty charts', async () => {
  const header = gunzipSync(readFileSync(join(ROOT, 'traces/real/pingpong-512/trace.txt.gz'))).toString('utf8').split('\n').slice(0, 12).join('\n') + '\n';
  const inp = await analysed(tempFile(header), ['linux-4.13', 'linux-6.18']);
  assert.equal(inp.info.events, 0);
  const html = await renderReport({ inputs: [inp], profile: 'skylake-laptop' }, { interactive: false });
  assert.equal(figures(html).length, 0);
  assert.match(html, /Nothing to chart/);
  assert.match(html, /<dt>events<\/dt><dd>0<\/dd>/);
});

test('the same results give a byte-identical report (no clock, no random ids)', async () => {
  const [real] = await inputs;
  const a = await renderReport({ inputs: [real], profile: 'skylake-laptop' });
  const b = await renderReport({ inputs: [real], profile: 'skylake-laptop' });
  assert.ok(a === b);
});
