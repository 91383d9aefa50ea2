/// <reference lib="dom" />
// The report's per-CPU timeline, opened in real headless Chromium: a lane for every CPU in
// every panel with JavaScript and without it, a brush that zooms the panels, no NaN or
// undefined in its text or tooltips, and task names that stay text (markup, U+202E).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openInput } from '../../src/inputs.ts';
import { replay } from '../../src/replay/replay.ts';
import { defaultTimelinePair, recordRuns } from '../../src/replay/record.ts';
import type { AnalysisInput } from '../../src/analysis/index.ts';
import { writeReport } from '../../src/report/index.ts';
import { tmp } from '../helpers.ts';
import { BIDI_NAME, TIMELINE_HOSTILE_NAMES, hostileTimelineTrace } from './hostile-timeline.ts';

const CHROMIUM = '/usr/bin/chromium';
const noBrowser = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;

async function withTimeline(spec: string, strategies?: string[]): Promise<AnalysisInput> {
  const src = await openInput(spec);
  try {
    const results = await replay(src, { workers: 1, ...(strategies ? { strategies } : {}) });
    const pair = defaultTimelinePair(results);
    const runs = await recordRuns(src, { strategies: pair });
    return { info: src.info, results, timeline: { recordings: runs.map((r) => r.recording) } };
  } finally { src.close(); }
}

// Two CPUs with hostile task names, and a lab recording of eight CPUs.
const specs = [hostileTimelineTrace(), 'traces/lab/7.3/8cpu/madvstorm.txt.gz'];
const cpus = [2, 8];
const reportPath = join(tmp, 'timeline', 'index.html');
const written = Promise.all([withTimeline(specs[0]), withTimeline(specs[1], ['linux-4.13', 'linux-6.1', 'linux-6.18', 'linux-7.3'])])
  .then((inputs) => writeReport({ inputs, profile: 'skylake-laptop' }, reportPath).then(() => inputs));

async function browser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/** Per timeline figure: its panel titles and, per panel, the lane labels drawn. */
function lanes(): { panels: string[]; labels: string[]; text: string }[] {
  return [...document.querySelectorAll('figure[data-chart="timeline"]')].map((fig) => {
    const texts = [...fig.querySelectorAll('.chart-body svg text')].map((t) => t.textContent ?? '');
    return {
      panels: texts.filter((t) => t === 'recorded trace' || t.endsWith('(model)') || t.endsWith('(model, unsafe)')),
      labels: texts.filter((t) => /^CPU \d+$/.test(t)),
      text: fig.textContent ?? '',
    };
  });
}

function checkLanes(found: ReturnType<typeof lanes>, mode: string): void {
  assert.equal(found.length, 2, `${mode}: one timeline per input`);
  found.forEach((f, k) => {
    assert.equal(f.panels.length, 3, `${mode} input ${k}: the recorded trace and two models (${f.panels.join(', ')})`);
    for (let c = 0; c < cpus[k]; c++) {
      assert.equal(f.labels.filter((l) => l === `CPU ${c}`).length, 3, `${mode} input ${k}: a CPU ${c} lane in each panel`);
    }
    assert.equal(f.labels.length, 3 * cpus[k], `${mode} input ${k}: no other lanes`);
    assert.doesNotMatch(f.text, /\bNaN\b|\bundefined\b|Infinity/, `${mode} input ${k}`);
  });
}

test('the timeline without JavaScript: static SVG lanes for every CPU, names as text', { skip: noBrowser }, async () => {
  await written;
  const b = await browser();
  try {
    const ctx = await b.newContext({ javaScriptEnabled: false, viewport: { width: 1400, height: 1000 } });
    const page = await ctx.newPage();
    await page.goto(pathToFileURL(reportPath).href);
    checkLanes(await page.evaluate(lanes), 'no JS');
    const first = (await page.evaluate(lanes))[0].text;
    // The markup name is drawn as text on its run; the override is gone, the rest kept.
    assert.ok(first.includes(`${TIMELINE_HOSTILE_NAMES[0]} (7655)`), 'the hostile name shows as text');
    assert.ok(!first.includes(BIDI_NAME[0]), 'no U+202E in the timeline');
    assert.equal(await page.locator('img').count(), 0, 'no element made from a name');
    await ctx.close();
  } finally { await b.close(); }
});

test('the timeline with JavaScript: lanes, tooltips without NaN, a brush that zooms every panel', { skip: noBrowser }, async () => {
  await written;
  const b = await browser();
  try {
    const page = await b.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(pathToFileURL(reportPath).href);
    await page.waitForSelector('body[data-interactive]');
    assert.equal(await page.getAttribute('body', 'data-interactive'), 'ready', errors.join('\n'));
    checkLanes(await page.evaluate(lanes), 'JS');
    const drawn = (await page.evaluate(lanes))[0].text;
    assert.ok(drawn.includes(`${TIMELINE_HOSTILE_NAMES[0]} (7655)`) && !drawn.includes(BIDI_NAME[0]), 'names drawn as text, the override gone');
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    for (let k = 0; k < 2; k++) {
      const fig = page.locator('figure[data-chart="timeline"]').nth(k);
      await fig.scrollIntoViewIfNeeded();
      // Tooltips of the first marks of each kind: what, time, length, detail; no NaN.
      // (Rectangles and symbols: rules are one pixel wide.)
      let hovered = 0;
      for (const cls of ['concat_1_concat_0_layer_0_marks', 'concat_1_concat_0_layer_3_marks', 'concat_2_concat_0_layer_3_marks', 'concat_3_concat_0_layer_0_marks', 'concat_3_concat_0_layer_3_marks']) {
        const marks = fig.locator(`g.${cls} path`);
        if (await marks.count() === 0) continue;
        const box = (await marks.nth(Math.floor((await marks.count()) / 2)).boundingBox())!;
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        hovered++;
        const tip = page.locator('.tip');
        await tip.waitFor({ state: 'visible' });
        const text = await tip.textContent();
        assert.match(text ?? '', /what: .+time: \d/, `${cls}: ${text}`);
        assert.doesNotMatch(text ?? '', /NaN|undefined|Infinity/, `${cls}: ${text}`);
        if (k === 0) assert.ok(!(text ?? '').includes(BIDI_NAME[0]));
        await page.mouse.move(0, 0);
      }
      assert.ok(hovered >= 3, `${hovered} tooltips read`);
      await page.mouse.move(0, 0);
      // The brush: drag across the overview strip; every panel's time axis then shows
      // the chosen part only.
      const brushBg = fig.locator('g.brush_brush_bg');
      assert.equal(await brushBg.count(), 1, 'the brush is there');
      const axisLabels = () => fig.evaluate((f) => [...f.querySelectorAll('g.role-axis-label text')].map((t) => t.textContent ?? ''));
      const before = await axisLabels();
      const strip = (await fig.locator('g.concat_0_concat_0_marks').boundingBox())!;
      const cell = (await fig.locator('g.brush_brush_bg').evaluate((g) => {
        const r = (g.closest('g.mark-group') ?? g).getBoundingClientRect();
        return { x: r.x, y: r.y, width: r.width, height: r.height };
      }));
      const y = strip.y + Math.max(1, strip.height / 2);
      const x0 = cell.x + cell.width * 0.4, x1 = cell.x + cell.width * 0.6;
      await page.mouse.move(x0, y);
      await page.mouse.down();
      await page.mouse.move((x0 + x1) / 2, y, { steps: 4 });
      await page.mouse.move(x1, y, { steps: 4 });
      await page.mouse.up();
      await page.waitForFunction((n) => {
        const f = document.querySelectorAll('figure[data-chart="timeline"]')[n];
        const p = f.querySelector('g.brush_brush path');
        return p !== null && (p.getAttribute('d') ?? '') !== '';
      }, k);
      const after = await axisLabels();
      assert.notDeepEqual(after, before, 'the panels\' axes changed');
      // The overview keeps the whole trace; the panels (three axes) show a narrower span.
      assert.ok(after.filter((l) => !before.includes(l)).length >= 3, `zoomed axis labels: ${after.join(' ')}`);
    }
    assert.deepEqual(errors, []);
  } finally { await b.close(); }
});
