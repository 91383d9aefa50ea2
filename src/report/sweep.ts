// The HTML report of a whole sweep: per workload, each metric against the swept parameter,
// one line per strategy, drawn and embedded exactly as the replay report draws its charts
// (figure() in index.ts: static SVG, the Vega spec for the interactive view, same CSP).
import type { TopLevelSpec } from 'vega-lite';
import type { Row } from '../analysis/table.ts';
import type { AggregateResult, Curve } from '../sweep/aggregate.ts';
import { APP_SCRIPT, CSS, documentHead, esc, fmtCount, inlineScript } from './html.ts';
import { figure, vegaMin } from './index.ts';
import type { ChartSpec } from './charts.ts';

const METRICS: { field: string; title: string; unit: string }[] = [
  { field: 'iteration_ns', title: 'time per iteration of the measured thread', unit: 'ns' },
  { field: 'overhead_ns', title: 'TLB maintenance overhead', unit: 'ns' },
  { field: 'initiator_wait_ns', title: 'initiator wait for acknowledgements', unit: 'ns' },
  { field: 'ipis_sent', title: 'IPIs sent', unit: '' },
];

function curveChart(curve: Curve, metric: (typeof METRICS)[number], strategies: readonly string[], profiles: number): ChartSpec | null {
  const values = curve.rows.filter((r) => typeof r[metric.field] === 'number' && typeof r.x === 'number').map((r) => ({
    x: r.x as number, y: r[metric.field] as number, panel: r.panel, strategy: r.strategy,
    series: profiles > 1 ? `${String(r.strategy)} · ${String(r.profile)}` : r.strategy,
  }));
  if (values.length === 0 || values.every((v) => v.y === 0)) return null;
  const xs = values.map((v) => v.x), ys = values.map((v) => v.y).filter((y) => y > 0);
  const logX = Math.min(...xs) > 0 && Math.max(...xs) / Math.min(...xs) >= 8;
  const logY = ys.length === values.length && Math.max(...ys) / Math.min(...ys) >= 20;
  const layer: TopLevelSpec = {
    data: { values },
    width: 560, height: 300,
    mark: { type: 'line', point: { size: 40 }, tooltip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: curve.x, scale: logX ? { type: 'log', base: 2 } : { zero: false } },
      y: { field: 'y', type: 'quantitative', title: `${metric.field}${metric.unit ? ` (${metric.unit})` : ''}`, scale: logY ? { type: 'log' } : {} },
      color: { field: 'series', type: 'nominal', title: profiles > 1 ? 'strategy · profile' : 'strategy', scale: { domain: profiles > 1 ? undefined : [...strategies], scheme: 'tableau20' } },
      tooltip: [{ field: 'series', title: 'strategy' }, { field: 'x', title: curve.x }, { field: 'y', title: metric.field, format: ',.1f' }, ...(curve.facets.length ? [{ field: 'panel' }] : [])],
    },
  } as TopLevelSpec;
  const spec = (curve.facets.length
    ? { data: { values }, facet: { row: { field: 'panel', type: 'nominal', title: null } }, spec: { width: 560, height: 220, mark: (layer as { mark: unknown }).mark, encoding: (layer as { encoding: unknown }).encoding } }
    : layer) as TopLevelSpec;
  return {
    id: `${curve.workload}-${metric.field}`.replace(/[^A-Za-z0-9-]/g, '_'),
    title: `${curve.workload}: ${metric.title} by ${curve.x}`,
    caption: `Mean over the sweep's runs at each ${curve.x}${curve.facets.length ? `; one panel per ${curve.facets.join(', ')}` : ''}; one line per strategy.${logX ? ` ${curve.x} on a log2 axis.` : ''}${logY ? ' Log y axis.' : ''}`,
    spec,
  };
}

function htmlTable(rows: readonly Row[], cols: readonly string[]): string {
  const cell = (v: Row[string]) => (typeof v === 'number' ? fmtCount(v) : v === null ? '' : esc(v));
  return `<div class="scroll"><table class="data"><thead><tr>${cols.map((c) => `<th${c === 'strategy' || c === 'profile' || c === 'input' || c === 'error' ? ' class="l"' : ''}>${esc(c)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${cols.map((c) => `<td${typeof r[c] === 'number' ? '' : ' class="l"'}>${cell(r[c])}</td>`).join('')}</tr>`).join('\n')}</tbody></table></div>`;
}

export async function renderSweepReport(res: AggregateResult, interactive = true): Promise<string> {
  const profiles = new Set(res.tables.strategies.column('profile')).size;
  const sections: string[] = [];
  let k = 0;
  for (const curve of res.curves) {
    const figs: string[] = [];
    for (const m of METRICS) {
      const chart = curveChart(curve, m, res.strategies, profiles);
      if (chart) figs.push(await figure(chart, `curve-${k}`, interactive));
    }
    sections.push(`<section class="input" id="curve-${k++}"><h2>${esc(curve.workload)}</h2>${figs.join('\n') || '<p class="note">Nothing to chart.</p>'}</section>`);
  }
  const errors = res.tables.errors.rows();
  const scripts = interactive ? [inlineScript(vegaMin()), APP_SCRIPT] : [];
  const title = `tlbsim sweep ${res.name}`;
  return `${documentHead(title, scripts, CSS)}
<body>
<header class="top"><h1>${esc(title)}</h1>
<p>${fmtCount(res.tasks)} tasks · ${res.strategies.length} strategies · ${profiles} profile${profiles === 1 ? '' : 's'}${res.failed ? ` · <b>${fmtCount(res.failed)} failed</b>` : ''}</p></header>
<main>
<section class="extra" id="strategies"><h2>By strategy</h2>
<p class="note">Sums over every input of the sweep (failed tasks count in tasks and failed only). Tables: runs.csv (one row per task), curves.csv, strategies.csv, errors.csv.</p>
${htmlTable(res.tables.strategies.rows(), res.tables.strategies.columns)}</section>
${sections.join('\n')}
${errors.length ? `<section class="extra" id="errors"><h2>Failed tasks</h2>${htmlTable(errors, res.tables.errors.columns)}</section>` : ''}
</main>
${scripts.map((s) => `<script>${s}</script>`).join('\n')}
</body>
</html>
`;
}
