// The offline HTML report: one self-contained file per replay (several inputs in one page),
// readable with JavaScript off (static SVG charts rendered in Node) and interactive with it
// (the inlined Vega runtime adds tooltips and legend selection). No network: no external
// script, style, font or image, and a Content-Security-Policy that forbids fetching any.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { buildTables, bestValue, observedPredictedRows, type Tables } from '../analysis/tables.ts';
import type { AnalysisData, AnalysisInput } from '../analysis/types.ts';
import { KEY_METRICS, MAX_VIOLATIONS_KEPT, VIOLATION_TEXT, VIOLATION_KINDS, metricDecl, type MetricName } from '../machine/metrics.ts';
import type { CostKey, CostProfile } from '../machine/profiles.ts';
import { BASELINE_STRATEGY, CURRENT_STRATEGY, validationStrategy } from '../strategies/index.ts';
import {
  ipiHeatmap, latencyHeatmap, metricBars, overTime, overheadByCause, perCpuOverhead, fmtNs, type ChartSpec,
} from './charts.ts';
import { APP_SCRIPT, CSS, documentHead, esc, fmtCount, inlineScript, jsonForScript } from './html.ts';
import { renderChart } from './render.ts';
import { timelineChart } from './timeline.ts';
import { summaryJson } from '../analysis/summary.ts';
import { fmtInterval, headlineText, intervalNote, otherSweeps } from '../analysis/headline.ts';
import { AB_SCRIPT, WHY_CSS, abSection, taskSection, whyBlock } from './why.ts';

export { summaryJson, type ReplaySummary } from '../analysis/summary.ts';

export type { AnalysisData, AnalysisInput, ValidationResult, CalibrationResult, ViolationEvent } from '../analysis/types.ts';

export interface ReportData extends AnalysisData {
  /** The cost profile the runs used (its numbers are listed in the report). */
  profile: CostProfile | string;
  /** Page title (default "tlbsim report"). */
  title?: string;
}

export interface ReportOptions {
  /** Inline the Vega runtime for tooltips and legend selection (default true). */
  interactive?: boolean;
}

const PKG_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

let vegaRuntime: string | undefined;
export function vegaMin(): string {
  if (vegaRuntime === undefined) {
    // The vega package does not export its package.json or build/ directory; resolve its
    // entry and read the minified UMD build next to it.
    const require = createRequire(import.meta.url);
    const entry = require.resolve('vega');
    vegaRuntime = readFileSync(`${dirname(entry)}/vega.min.js`, 'utf8');
  }
  return vegaRuntime;
}

function fmtMetric(name: string, v: number): string {
  return metricDecl(name)?.unit === 'ns' ? fmtNs(v) : fmtCount(v);
}

/** Key metrics shown for an input: iteration_ns only when the input has iteration marks. */
function shownMetrics(inp: AnalysisInput): MetricName[] {
  return summaryOrder().filter((m) => m !== 'iteration_ns' || inp.results.some((r) => r.metrics.iteration_ns > 0));
}

/** Key metrics, costs and safety first (what a reader compares), then the counters that
 *  explain them. context_switches is the same under every strategy: it is in the facts. */
export function summaryOrder(): MetricName[] {
  const first: MetricName[] = ['overhead_ns', 'iteration_ns', 'initiator_wait_ns', 'coherence_violations', 'ipis_sent', 'ipis_to_lazy'];
  return [...first.filter((m) => KEY_METRICS.includes(m)), ...KEY_METRICS.filter((m) => !first.includes(m) && m !== 'context_switches')];
}

function summaryTable(inp: AnalysisInput, baseline: string): string {
  const metrics = shownMetrics(inp);
  const base = inp.results.find((r) => r.strategy.name === baseline);
  // A strategy that broke coherence is not "best" at anything: it saved work it needed.
  const clean = inp.results.filter((r) => r.violations.count === 0);
  const best = new Map<string, number | undefined>(metrics.map((m) => [m, bestValue(clean.map((r) => r.metrics[m] ?? 0))]));
  const head = `<tr><th class="l">strategy</th><th class="l">safe</th>${metrics.map((m) => `<th title="${esc(metricDecl(m)?.meaning ?? '')}">${esc(m.replace(/_/g, ' '))}</th>`).join('')}</tr>`;
  const body = inp.results.map((r) => {
    const cells = metrics.map((m) => {
      const v = r.metrics[m] ?? 0;
      const b = base?.metrics[m];
      let ratio = '';
      if (r.strategy.name === baseline) ratio = '<span class="r">baseline</span>';
      else if (b !== undefined && b > 0) ratio = `<span class="r">×${(v / b).toFixed(2)}</span>`;
      else if (b === 0 && v === 0) ratio = '<span class="r">×1.00</span>';
      const band = m === 'overhead_ns' ? inp.uncertainty?.strategies.find((x) => x.strategy === r.strategy.name) : undefined;
      if (band) {
        ratio = `<span class="r iv" data-lo="${band.overhead_ns.lo}" data-hi="${band.overhead_ns.hi}">${esc(fmtInterval(band.overhead_ns, fmtNs))}</span>${ratio}`;
        if (band.ratio && r.strategy.name !== baseline) ratio += `<span class="r iv">${esc(fmtInterval(band.ratio))}</span>`;
      }
      const limit = best.get(m);
      const cls = m === 'coherence_violations' ? (v > 0 ? 'bad' : '') : limit !== undefined && v <= limit && r.violations.count === 0 ? 'best' : '';
      return `<td${cls ? ` class="${cls}"` : ''} data-metric="${m}" data-value="${v}">${fmtMetric(m, v)}${ratio}</td>`;
    }).join('');
    return `<tr data-strategy="${esc(r.strategy.name)}"${r.strategy.name === baseline ? ' class="baseline"' : ''}><td class="l" title="${esc(`${r.strategy.title} — ${r.strategy.kernel}`)}">${esc(r.strategy.name)}</td><td class="l">${r.strategy.safe ? 'yes' : '<b>no</b>'}</td>${cells}</tr>`;
  }).join('\n');
  return `<div class="scroll"><table class="data summary" data-input="${esc(inp.info.source)}"><thead>${head}</thead><tbody>${body}</tbody></table></div>
<p class="note">${base ? `Ratios are to <b>${esc(baseline)}</b> on the same input.` : `No ratios: the baseline ${esc(baseline)} was not replayed on this input.`}${inp.uncertainty ? ` Overhead ${esc(intervalNote(inp.uncertainty))}.` : ''} Green: lowest (within 0.5 %) among the strategies without coherence violations, where they differ. Red: coherence violations. Hover a column title for its meaning.</p>`;
}

/** One or two sentences a reader would otherwise work out from the table. */
function findings(inp: AnalysisInput, baseline: string): string {
  const rs = inp.results;
  if (rs.length < 2) return '';
  const base = rs.find((r) => r.strategy.name === baseline);
  const out: string[] = [];
  const metric = rs.some((r) => r.metrics.iteration_ns > 0) ? 'iteration_ns' : 'overhead_ns';
  const label = metric === 'iteration_ns' ? 'time per iteration' : 'overhead';
  const clean = rs.filter((r) => r.metrics.coherence_violations === 0 && r.metrics[metric] > 0);
  if (clean.length > 0) {
    const lo = Math.min(...clean.map((r) => r.metrics[metric]));
    const best = clean.filter((r) => r.metrics[metric] <= lo * 1.005).map((r) => r.strategy.name);
    const ratio = base && base.metrics[metric] > 0 ? ` (×${(lo / base.metrics[metric]).toFixed(2)} of ${esc(baseline)})` : '';
    const others = rs.filter((r) => !best.includes(r.strategy.name)).map((r) => r.strategy.name);
    const who = best.length > 3 && others.length < best.length ? `every strategy but ${others.map(esc).join(', ')}` : best.map(esc).join(', ');
    out.push(`Lowest ${label} without coherence violations: <b>${who}</b>, ${esc(fmtMetric(metric, lo))}${ratio}.`);
  }
  const u = inp.uncertainty;
  const head = u ? headlineText(u) : null;
  if (u && head) {
    const others = otherSweeps(u);
    out.push(`<span class="headline">Overhead: <b>${esc(head)}</b>.${others.length ? ` Also ${others.map(esc).join('; ')}.` : ''}</span>`);
  }
  const bad = rs.filter((r) => r.violations.count > 0);
  if (bad.length > 0) out.push(`Coherence violations under ${bad.map((r) => `<b>${esc(r.strategy.name)}</b> (${fmtCount(r.violations.count)})`).join(', ')}: see below.`);
  return out.length ? `<p class="findings">${out.join(' ')}</p>` : '';
}

function factsList(inp: AnalysisInput, profileName: string): string {
  const i = inp.info;
  const names = new Map<string, number>();
  for (const t of i.tasks) if (t.mm !== 0) names.set(t.comm, (names.get(t.comm) ?? 0) + 1);
  // Names are untrusted and may hold commas or quotes: each in its own box, cut at 48.
  const shown = (n: string) => `<span class="name">${esc(n.length > 48 ? `${n.slice(0, 47)}…` : n)}</span>`;
  const top = [...names.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([n, c]) => `${shown(n)}${c > 1 ? ` ×${c}` : ''}`).join(' ');
  const facts: [string, string][] = [
    ['format', esc(i.format)],
    ['CPUs', String(i.cpus)],
    ['span', esc(fmtNs(i.lastNs - i.firstNs))],
    ['events', fmtCount(i.events)],
    ['context switches', fmtCount(inp.results[0]?.metrics.context_switches ?? i.countsByKind.switch ?? 0)],
    ['tasks', `${fmtCount(i.taskCount ?? i.tasks.length)}${top ? `; user: ${top}` : ''}`],
    ['address spaces', fmtCount(i.mms.length)],
    ['flush requests', i.tracedFlushRequests ? 'from tlb:tlb_flush records' : (i.format === 'workload' ? 'written by the generator' : 'derived from syscalls and exits')],
    ['profile', esc(profileName)],
    ['skipped lines', `<span class="${i.skippedLines > 0 ? 'warn' : ''}">${fmtCount(i.skippedLines)}</span>`],
    ['lost events', `<span class="${i.lostEvents > 0 || i.lostMarkers > 0 ? 'warn' : ''}">${fmtCount(i.lostEvents)}${i.lostMarkers > 0 ? ` in ${fmtCount(i.lostMarkers)} markers` : ''}</span>`],
  ];
  let out = `<dl class="facts">${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`;
  if (i.skipped.length > 0) {
    out += `<details><summary>first skipped lines</summary><ul>${i.skipped.slice(0, 10).map((s) => `<li><code>${esc(s.file)}:${s.line}</code> ${esc(s.reason)}: <code>${esc(s.text.slice(0, 120))}</code></li>`).join('')}</ul></details>`;
  }
  // A note that only some strategies gave (its numbers differ by strategy) names them:
  // two bare lines '19 ... lost' and '85 ... lost' read as contradicting each other.
  const notes = new Map<string, string[]>();
  for (const w of i.warnings) notes.set(w, []);
  for (const r of inp.results) for (const n of r.notes) { if (!notes.has(n)) notes.set(n, []); notes.get(n)!.push(r.strategy.name); }
  const all = inp.results.length;
  if (notes.size > 0) out += `<ul class="note">${[...notes].map(([n, who]) => `<li>${esc(n)}${who.length > 0 && who.length < all ? ` (${esc(who.length > 4 ? `${who.slice(0, 4).join(', ')} and ${who.length - 4} more` : who.join(', '))})` : ''}</li>`).join('')}</ul>`;
  return out;
}

function observedSection(inp: AnalysisInput): string {
  const op = observedPredictedRows(inp, validationStrategy(inp.info.machine, inp.results.map((r) => r.strategy.name)) ?? CURRENT_STRATEGY);
  if (op.rows.length === 0) return '';
  const rows = op.rows.map((r) => `<tr><td class="l">${esc(r.what)}</td><td>${fmtCount(r.observed)}</td><td>${fmtCount(r.predicted)}</td><td class="${(r.agreement ?? 1) < 0.8 ? 'bad' : ''}">${r.agreement === null ? '–' : `${(r.agreement * 100).toFixed(1)} %`}</td></tr>`).join('');
  return `<h3>Observed vs predicted (${esc(op.strategy)})</h3>
<p class="note">What the recorded kernel printed (tlb:tlb_flush, IPI and cross-call tracepoints) next to what the model of that kernel predicts for the same events. ${inp.validation ? 'Rows and agreement as <code>tlbsim validate</code> computes them' : 'Agreement per row is 1 − |predicted − observed| / max; overall it is weighted by row size'}${op.agreement === null ? '' : `; overall agreement <b>${(op.agreement * 100).toFixed(1)} %</b>`}.</p>
<div class="scroll"><table class="data observed"><thead><tr><th class="l">what</th><th>observed</th><th>predicted</th><th>agreement</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function violationsSection(inp: AnalysisInput, tables: Tables): string {
  const total = inp.results.reduce((a, r) => a + r.violations.count, 0);
  if (total === 0) return '<h3>Coherence violations</h3><p class="note">None: under every strategy, no CPU ran user code with a stale translation or walked freed page tables.</p>';
  const counts = inp.results.filter((r) => r.violations.count > 0).map((r) => `${esc(r.strategy.name)} ${fmtCount(r.violations.count)}`).join(', ');
  const list = tables.violations.rows().filter((v) => v.input === inp.info.source);
  const row = (v: (typeof list)[number]) => `<tr><td class="l">${esc(v.strategy)}</td><td class="l" title="${esc(v.what)}">${esc(v.kind)}</td><td>${fmtCount(v.event_index)}</td><td>${v.time_ns === null ? '–' : esc(fmtNs(v.time_ns))}</td><td>${v.cpu}</td><td>${v.mm}</td><td class="l">${esc(v.event)}</td><td class="l">${v.tid === null ? '' : `${esc(v.task)} (${v.tid})`}</td></tr>`;
  const head = '<thead><tr><th class="l">strategy</th><th class="l">kind</th><th>event #</th><th>time</th><th>CPU</th><th>mm</th><th class="l">event</th><th class="l">task</th></tr></thead>';
  const SHOWN = 8;
  const kinds = [...new Set(list.map((v) => v.kind))].map((k) => `<b>${esc(k)}</b>: ${esc(list.find((v) => v.kind === k)!.what)}`).join('; ');
  return `<h3>Coherence violations</h3>
<p class="note">By strategy: ${counts}. Each strategy keeps its first ${MAX_VIOLATIONS_KEPT} findings with the event where the checker fired (time from the first event; CPU and mm are where the stale state was). ${kinds}.</p>
<div class="scroll"><table class="data violations">${head}<tbody>${list.slice(0, SHOWN).map(row).join('')}</tbody></table></div>
${list.length > SHOWN ? `<details><summary>${list.length - SHOWN} more</summary><div class="scroll"><table class="data violations">${head}<tbody>${list.slice(SHOWN).map(row).join('')}</tbody></table></div></details>` : ''}`;
}

/** Ratios strategy ÷ baseline: three significant digits (0.0034 is not 0). */
function fmtRatio(v: number): string {
  if (!Number.isFinite(v)) return '–';
  return Math.abs(v) >= 1000 ? fmtCount(v) : String(Number(v.toPrecision(3)));
}

function calibrationSection(tables: Tables): string {
  if (tables.calibration.numRows === 0) return '';
  const rows = tables.calibration.rows().map((r) => `<tr><td class="l">${esc(r.benchmark)}</td><td class="l">${esc(r.metric)}</td><td class="l">${esc(r.strategy)}</td><td class="l">${esc(r.baseline)}</td><td>${fmtRatio(r.published)}</td><td>${fmtRatio(r.simulated)}</td><td class="${r.error !== null && Math.abs(r.error) > 0.25 ? 'bad' : ''}">${r.error === null ? '–' : `${r.error >= 0 ? '+' : ''}${(r.error * 100).toFixed(0)} %`}</td></tr>`).join('');
  return `<section class="extra" id="calibration"><h2>Calibration <a class="pl" href="#calibration" aria-label="link to this section">#</a></h2>
<p class="note">Published ratios (strategy ÷ baseline, from the cover letters and benchmarks) next to what the simulator gives for the synthetic workload with one cost profile for all rows; red rows miss by more than 25 %.</p>
<div class="scroll"><table class="data calibration"><thead><tr><th class="l">benchmark</th><th class="l">metric</th><th class="l">strategy</th><th class="l">baseline</th><th>published</th><th>simulated</th><th>error</th></tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

function glossary(data: AnalysisData, profile: CostProfile | string): string {
  const strategies = new Map<string, AnalysisInput['results'][number]['strategy']>();
  for (const i of data.inputs) for (const r of i.results) strategies.set(r.strategy.name, r.strategy);
  const srows = [...strategies.values()].map((s) => `<tr><td class="l">${esc(s.name)}</td><td class="wrap">${esc(s.title)}</td><td class="wrap">${esc(s.kernel)}</td><td class="wrap">${esc(s.description)}</td><td class="l">${s.safe ? 'yes' : 'no'}</td></tr>`).join('');
  const mrows = KEY_METRICS.map((m) => `<tr><td class="l">${m}</td><td class="l">${metricDecl(m)?.unit}</td><td class="wrap">${esc(metricDecl(m)?.meaning ?? '')}</td></tr>`).join('');
  const prows = typeof profile === 'object'
    ? Object.entries(profile).filter(([k, v]) => k !== 'ranges' && typeof v !== 'object').map(([k, v]) => {
      // Each number with the range --uncertainty draws it from (none: taken as exact).
      const r = profile.ranges?.[k as CostKey];
      return `<tr><td class="l">${esc(k)}</td><td class="wrap">${esc(v)}</td>${profile.ranges ? `<td class="l">${r ? `${esc(Number(r.lo.toPrecision(3)))}–${esc(Number(r.hi.toPrecision(3)))}` : 'exact'}</td><td class="wrap">${esc(r?.source ?? '')}</td>` : ''}</tr>`;
    }).join('')
    : '';
  return `<section class="extra" id="reference"><h2>Reference <a class="pl" href="#reference" aria-label="link to this section">#</a></h2>
<details open><summary>Strategies</summary><div class="scroll"><table class="data"><thead><tr><th class="l">name</th><th class="l">title</th><th class="l">kernel</th><th class="l">what it does</th><th class="l">safe</th></tr></thead><tbody>${srows}</tbody></table></div></details>
<details><summary>Key metrics</summary><div class="scroll"><table class="data"><thead><tr><th class="l">metric</th><th class="l">unit</th><th class="l">meaning</th></tr></thead><tbody>${mrows}</tbody></table></div></details>
${prows ? `<details><summary>Cost profile</summary><div class="scroll"><table class="data">${typeof profile === 'object' && profile.ranges ? '<thead><tr><th class="l">key</th><th class="l">value</th><th class="l">range</th><th class="l">range source</th></tr></thead>' : ''}<tbody>${prows}</tbody></table></div></details>` : ''}
<p class="note">Violation kinds: ${VIOLATION_KINDS.map((k, i) => `<b>${k}</b>: ${esc(VIOLATION_TEXT[i])}`).join('; ')}.</p></section>`;
}

function chartsFor(inp: AnalysisInput, tables: Tables): ChartSpec[] {
  const src = inp.info.source;
  const strategies = inp.results.map((r) => r.strategy.name);
  const of = <T extends { input: string }>(rows: T[]) => rows.filter((r) => r.input === src);
  const charts: (ChartSpec | null)[] = [
    metricBars(of(tables.ratios.rows()), strategies, summaryOrder(), inp.uncertainty?.strategies),
    overheadByCause(of(tables.overhead_causes.rows()), strategies),
    overTime(of(tables.timeline.rows()), strategies),
    timelineChart(inp),
    ipiHeatmap(of(tables.ipi_matrix.rows()), strategies, inp.info.cpus),
    latencyHeatmap(of(tables.latency.rows()), strategies),
    inp.results.some((r) => r.metrics.overhead_ns > 0) ? perCpuOverhead(of(tables.per_cpu.rows()), strategies, inp.info.cpus) : null,
  ];
  // A chart with nothing to draw (an empty trace, no IPI or flush at all) is left out.
  // The key-metric panels carry their data per panel (vconcat of hconcat).
  type Part = { data?: { values?: unknown[] }; vconcat?: { hconcat: Part[] }[] };
  const rowsIn = (p: Part): number => (p.data?.values?.length ?? 0) + (p.vconcat ?? []).reduce((a, r) => a + r.hconcat.reduce((b, q) => b + rowsIn(q), 0), 0);
  return charts.filter((c): c is ChartSpec => c !== null && rowsIn(c.spec as Part) > 0);
}

/** vega numbers gradients and clip paths with a process-wide counter: renumber them per
 *  chart, so the same results give the same bytes and ids stay unique in the page. */
function stableIds(svg: string, prefix: string): string {
  const ids = new Map<string, string>();
  return svg.replace(/(id="|url\(#)([A-Za-z]+_\d+)(?=[")])/g, (_m, lead: string, id: string) => {
    let n = ids.get(id);
    if (n === undefined) { n = `${prefix}-${ids.size}`; ids.set(id, n); }
    return `${lead}${n}`;
  });
}

export async function figure(chart: ChartSpec, idx: string, interactive: boolean): Promise<string> {
  const rendered = await renderChart(chart.spec);
  const r = { ...rendered, svg: stableIds(rendered.svg, `${idx}-${chart.id}`) };
  const spec = interactive ? `<script type="application/json" class="vega-spec">${jsonForScript(r.vega)}</script>` : '';
  return `<figure class="chart" id="${idx}-${chart.id}" data-chart="${chart.id}"><figcaption><h3>${esc(chart.title)} <a class="pl" href="#${idx}-${chart.id}" aria-label="link to this chart">#</a></h3><p>${esc(chart.caption)}</p></figcaption><div class="chart-body">${r.svg}</div>${spec}</figure>`;
}

/** The report as one HTML string. */
export async function renderReport(data: ReportData, options: ReportOptions = {}): Promise<string> {
  const interactive = options.interactive ?? true;
  const baseline = data.baseline ?? BASELINE_STRATEGY;
  const tables = buildTables(data);
  const profileName = typeof data.profile === 'string' ? data.profile : data.profile.name;
  const title = data.title ?? 'tlbsim report';
  const strategies = new Set(data.inputs.flatMap((i) => i.results.map((r) => r.strategy.name)));

  const sections: string[] = [];
  // Table of contents: every section and chart has an id, and its heading a permalink.
  const toc: string[] = [];
  const anchor = (html: string, id: string) => html.replace(/^(\s*)<h3>(.*?)<\/h3>/, (_m, lead: string, t: string) => `${lead}<h3 id="${id}">${t} <a class="pl" href="#${id}" aria-label="link to this section">#</a></h3>`);
  let n = 0;
  for (const inp of data.inputs) {
    const id = `input-${n++}`;
    const figs: string[] = [];
    const charts = chartsFor(inp, tables);
    for (const c of charts) figs.push(await figure(c, id, interactive));
    const observed = observedSection(inp);
    const entries: [string, string][] = [[`${id}-summary`, 'Summary'], ...charts.map((c): [string, string] => [`${id}-${c.id}`, c.title])];
    const ab = abSection(inp, `${id}-ab`);
    const byTask = taskSection(inp, `${id}-tasks`);
    if (ab) entries.push([`${id}-ab`, 'A vs B']);
    if (byTask) entries.push([`${id}-tasks`, 'Overhead by task']);
    if (observed) entries.push([`${id}-observed`, 'Observed vs predicted']);
    entries.push([`${id}-violations`, 'Coherence violations']);
    toc.push(`<li><a href="#${id}">${esc(inp.info.source)}</a><ul>${entries.map(([h, t]) => `<li><a href="#${h}">${esc(t)}</a></li>`).join('')}</ul></li>`);
    sections.push(`<section class="input" id="${id}">
<h2>${esc(inp.info.source)} <a class="pl" href="#${id}" aria-label="link to this input">#</a></h2>
${factsList(inp, profileName)}
<h3 id="${id}-summary">Summary <a class="pl" href="#${id}-summary" aria-label="link to this section">#</a></h3>
${findings(inp, baseline)}
${whyBlock(inp)}
${summaryTable(inp, baseline)}
${figs.length > 0 ? figs.join('\n') : '<p class="note">Nothing to chart: the input has no events that cost anything under any strategy.</p>'}
${ab}
${byTask}
${observed ? anchor(observed, `${id}-observed`) : ''}
${anchor(violationsSection(inp, tables), `${id}-violations`)}
</section>`);
  }
  if (tables.calibration.numRows) toc.push('<li><a href="#calibration">Calibration</a></li>');
  toc.push('<li><a href="#reference">Reference</a></li>');

  const scripts = interactive ? [inlineScript(vegaMin()), APP_SCRIPT, AB_SCRIPT] : [];
  const nav = `<nav class="toc" aria-label="contents"><details open><summary>Contents</summary><ul>${toc.join('')}</ul></details></nav>`;
  return `${documentHead(title, scripts, CSS + WHY_CSS, `tlbsim ${PKG_VERSION}`)}
<body>
<header class="top"><h1>${esc(title)}</h1>
<p>${data.inputs.length} input${data.inputs.length === 1 ? '' : 's'} · ${strategies.size} strategies · cost profile ${esc(profileName)}${strategies.has(baseline) ? ` · baseline ${esc(baseline)}` : ''} · tlbsim ${esc(PKG_VERSION)}</p></header>
<main>
${nav}
${sections.join('\n')}
${calibrationSection(tables)}
${glossary(data, data.profile)}
</main>
<script type="application/json" id="tlbsim-summary">${jsonForScript(summaryJson(data))}</script>
${scripts.map((s) => `<script>${s}</script>`).join('\n')}
</body>
</html>
`;
}

/** Render the report and write it to `path` (creating its directory). Returns its size. */
export async function writeReport(data: ReportData, path: string, options: ReportOptions = {}): Promise<number> {
  const html = await renderReport(data, options);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, html);
  return Buffer.byteLength(html);
}
