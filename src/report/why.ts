// The report's explanations: under the winner, why the current kernel loses to it (the gap
// by cause as one sentence and a bar, the assumptions that move it); an A-vs-B section
// with a selector of any two strategies (deltas by metric, cause, CPU and task, and the
// first events where the pair acts differently); and the per-task overhead table.
//
// Without JavaScript the A-vs-B section shows its default pair (the --compare pair, else
// best safe vs current) as static tables; the page script re-renders them for any pair
// from the embedded JSON, writing text with textContent only.
import * as vega from 'vega';
import { KEY_METRICS, OVERHEAD_CAUSES, metricDecl } from '../machine/metrics.ts';
import { TASK_OVERHEADS_KEPT } from '../machine/result.ts';
import type { AnalysisInput } from '../analysis/types.ts';
import { bestSafe, currentOf, signedNs, whyGap, type CauseDelta } from '../analysis/why.ts';
import { compareRuns, fmtDelta, fmtRel, fmtValue, type Comparison } from '../analysis/compare.ts';
import type { DivergeResult } from '../validate/diverge.ts';
import { fmtNs } from '../analysis/format.ts';
import { esc, fmtCount, jsonForScript, plainText } from './html.ts';

/** The "Overhead by cause" chart's colours, cause by cause (same scheme, same order). */
const CAUSE_COLOURS = new Map<string, string>(OVERHEAD_CAUSES.map((c, i) => [c.metric, (vega.scheme('set2') as string[])[i % 8]]));

/** The cause deltas as one bar: what the current kernel spends more on to the right of the
 *  zero line, what it saves to the left; each segment titled with its cause and delta. */
export function gapBar(causes: readonly CauseDelta[], who: string, width = 420): string {
  const neg = causes.filter((c) => c.delta < 0).reduce((a, c) => a - c.delta, 0);
  const pos = causes.filter((c) => c.delta > 0).reduce((a, c) => a + c.delta, 0);
  if (neg + pos <= 0) return '';
  const k = width / (neg + pos);
  const zero = neg * k;
  let left = zero, right = zero;
  const rects: string[] = [];
  // Largest first from the zero line outwards, so the main cause sits next to it.
  for (const c of causes) {
    const w = Math.abs(c.delta) * k;
    const x = c.delta > 0 ? right : left - w;
    if (c.delta > 0) right += w; else left -= w;
    rects.push(`<rect x="${x.toFixed(1)}" y="2" width="${Math.max(0.5, w).toFixed(1)}" height="14" fill="${CAUSE_COLOURS.get(c.metric) ?? '#999'}"><title>${esc(`${c.label}: ${signedNs(c.delta)}`)}</title></rect>`);
  }
  rects.push(`<line x1="${zero.toFixed(1)}" x2="${zero.toFixed(1)}" y1="0" y2="18" stroke="#1d2430" stroke-width="1.5"/>`);
  const key = causes.map((c) => `<span class="k"><i style="background:${CAUSE_COLOURS.get(c.metric) ?? '#999'}"></i>${esc(c.label)} ${esc(signedNs(c.delta))}</span>`).join(' ');
  const net = causes.reduce((a, c) => a + c.delta, 0);
  return `<div class="gapbar"><svg width="${width}" height="18" viewBox="0 0 ${width} 18" role="img" aria-label="gap by cause">${rects.join('')}</svg><div class="gapkey">Right of the line: what ${esc(who)} spends more on; left: what it saves; net ${esc(signedNs(net))}. ${key}</div></div>`;
}

/** Under the winner: the gap sentence, its bar and the assumptions that drive it. */
export function whyBlock(inp: AnalysisInput): string {
  if (inp.results.length < 2) return '';
  const w = whyGap(inp, inp.gap);
  if (w === null) return '';
  const assumptions = w.assumptions.length
    ? `<p class="note">The gap is most sensitive to (each cost alone at the ends of its range, the rest nominal): ${w.assumptions.map((a) => `<span class="assume">${esc(a)}</span>`).join('; ')}.</p>`
    : inp.gap ? '<p class="note">No single cost parameter moves the gap noticeably across its range.</p>'
      : w.gapNs > 0 ? '<p class="note">The cost sweep behind the gap did not run for this input (a script, or a long trace: <code>tlbsim replay --uncertainty</code> runs it).</p>' : '';
  return `<div class="why" data-best="${esc(w.best)}" data-current="${esc(w.current)}"><p class="why-text"><b>Why:</b> ${esc(w.sentence)}</p>${w.gapNs > 0 ? gapBar(w.causes, w.current) : ''}${assumptions}</div>`;
}

/** The pair the A-vs-B section opens on: --compare's, else best safe vs current, else the
 *  first two strategies. */
export function defaultPair(inp: AnalysisInput): [string, string] | null {
  if (inp.results.length < 2) return null;
  if (inp.compare) return [inp.compare.a, inp.compare.b];
  const cur = currentOf(inp.results);
  const best = cur === null ? null : bestSafe(inp.results, cur);
  if (cur !== null && best !== null && best.strategy.name !== cur) return [best.strategy.name, cur];
  return [inp.results[0].strategy.name, inp.results[1].strategy.name];
}

function divergenceFor(inp: AnalysisInput, a: string, b: string): DivergeResult | undefined {
  return inp.divergences?.find((d) => d.a === a && d.b === b);
}

const TASKS_EMBEDDED = 200;

function rowsHtml(c: Comparison): { metrics: string; causes: string; cpus: string; tasks: string } {
  const tr = (cells: string[]) => `<tr>${cells.map((x, k) => (k === 0 ? `<td class="l">${x}</td>` : `<td>${x}</td>`)).join('')}</tr>`;
  return {
    metrics: c.metrics.map((m) => tr([esc(m.metric), esc(fmtValue(m.unit, m.a)), esc(fmtValue(m.unit, m.b)), esc(fmtDelta(m.unit, m.delta)), esc(fmtRel(m.rel))])).join(''),
    causes: c.causes.length ? c.causes.map((x) => tr([esc(x.label), esc(fmtNs(x.a)), esc(fmtNs(x.b)), esc(signedNs(x.delta)), esc(fmtRel(x.a !== 0 ? x.delta / x.a : null))])).join('') : tr(['no difference', '', '', '', '']),
    cpus: c.cpus.length ? c.cpus.map((x) => tr([`CPU ${x.cpu}`, esc(fmtNs(x.a)), esc(fmtNs(x.b)), esc(signedNs(x.delta))])).join('') : tr(['no difference', '', '', '']),
    tasks: c.tasks.length ? c.tasks.map((t) => tr([`<span class="name">${esc(`${t.comm}-${t.tid}`)}</span>`, esc(fmtNs(t.a)), esc(fmtNs(t.b)), esc(signedNs(t.delta))])).join('') : tr(['no difference', '', '', '']),
  };
}

function divergenceHtml(d: DivergeResult | undefined, a: string, b: string, input: string): string {
  if (!d) return `<p class="note">Not scanned for this pair: <code>${esc(`tlbsim replay --compare ${a},${b} ${input}`)}</code> prints the first events where they act differently.</p>`;
  if (d.divergences.length === 0) return `<p class="note">${esc(a)} and ${esc(b)} act the same on all ${fmtCount(d.events)} events (the same tlb_flush records, flush IPIs, CR3 writes and flushes).</p>`;
  const rows = d.divergences.map((x) => `<tr><td>${fmtCount(x.eventIndex)}</td><td>${esc(`+${fmtNs(x.timeNs)}`)}</td><td>${x.cpu}</td><td class="l wrap"><code>${esc(x.event)}</code></td><td class="l wrap">${esc(x.a.join('; '))}</td><td class="l wrap">${esc(x.b.join('; '))}</td></tr>`).join('');
  const first = d.divergences[0];
  const state = (s: string[]) => `<pre>${esc(s.join('\n'))}</pre>`;
  return `<div class="scroll"><table class="data ab-div"><thead><tr><th>event #</th><th>time</th><th>CPU</th><th class="l">event</th><th class="l">${esc(a)}</th><th class="l">${esc(b)}</th></tr></thead><tbody>${rows}</tbody></table></div>
<details><summary>events before the first one, and both machines after it</summary><pre>${esc(first.before.join('\n'))}</pre><p class="note">${esc(a)}:</p>${state(first.stateA)}<p class="note">${esc(b)}:</p>${state(first.stateB)}</details>`;
}

/** The A-vs-B section (its heading carries `id`). */
export function abSection(inp: AnalysisInput, id: string): string {
  const pair = defaultPair(inp);
  if (pair === null) return '';
  const [a, b] = pair;
  const c = compareRuns(inp, a, b);
  const r = rowsHtml(c);
  const names = inp.results.map((x) => x.strategy.name);
  const opt = (sel: string) => names.map((n) => `<option value="${esc(n)}"${n === sel ? ' selected' : ''}>${esc(n)}</option>`).join('');
  // What the page script needs for any pair: per strategy the key metrics, causes, per-CPU
  // and per-task overhead (the tasks with the most overhead under any strategy).
  const comm = new Map<number, string>(inp.info.tasks.map((t) => [t.tid, t.comm]));
  comm.set(0, '<idle>');
  const maxOf = new Map<number, number>();
  for (const x of inp.results) for (const t of x.taskOverhead ?? []) maxOf.set(t.tid, Math.max(maxOf.get(t.tid) ?? 0, Math.abs(t.ns)));
  const keep = new Set([...maxOf].sort((p, q) => q[1] - p[1]).slice(0, TASKS_EMBEDDED).map(([tid]) => tid));
  const data = {
    input: inp.info.source,
    metrics: KEY_METRICS.map((m) => ({ metric: m, unit: metricDecl(m)?.unit === 'ns' ? 'ns' : 'count' })),
    causes: OVERHEAD_CAUSES.map((x) => ({ metric: x.metric, label: x.label })),
    tasks: [...keep].map((tid) => ({ tid, comm: plainText(comm.get(tid) ?? '?') })),
    strategies: inp.results.map((x) => ({
      name: x.strategy.name,
      metrics: Object.fromEntries([...KEY_METRICS, ...OVERHEAD_CAUSES.map((k) => k.metric)].map((m) => [m, x.metrics[m] ?? 0])),
      cpu: x.perCpu.overhead_ns ?? [],
      task: Object.fromEntries((x.taskOverhead ?? []).filter((t) => keep.has(t.tid)).map((t) => [t.tid, t.ns])),
    })),
    divergences: (inp.divergences ?? []).map((d) => ({ a: d.a, b: d.b, events: d.events, list: d.divergences.map((x) => ({ i: x.eventIndex, t: x.timeNs, cpu: x.cpu, event: plainText(x.event), a: x.a, b: x.b })) })),
  };
  const thead = (first: string, withRel: boolean) => `<thead><tr><th class="l">${first}</th><th class="ab-a">${esc(a)}</th><th class="ab-b">${esc(b)}</th><th>delta</th>${withRel ? '<th>delta %</th>' : ''}</tr></thead>`;
  return `<h3 id="${id}">A vs B <a class="pl" href="#${id}" aria-label="link to this section">#</a></h3>
<div class="ab" data-input="${esc(inp.info.source)}">
<p class="note ab-pick" hidden>Compare <label>A <select class="ab-sel-a">${opt(a)}</select></label> with <label>B <select class="ab-sel-b">${opt(b)}</select></label> (delta = B − A).</p>
<p class="note ab-caption"><b class="ab-b">${esc(b)}</b> against <b class="ab-a">${esc(a)}</b>; delta = B − A, like <code>perf diff</code>. ${inp.compare ? 'The pair <code>--compare</code> named.' : 'By default the best safe strategy (A) and the current kernel (B).'}</p>
<div class="ab-grid">
<div class="scroll"><table class="data ab-metrics">${thead('metric', true)}<tbody>${r.metrics}</tbody></table></div>
<div><div class="scroll"><table class="data ab-causes">${thead('overhead by cause', true)}<tbody>${r.causes}</tbody></table></div>
<div class="scroll"><table class="data ab-cpus">${thead('overhead by CPU', false)}<tbody>${r.cpus}</tbody></table></div>
<div class="scroll"><table class="data ab-tasks">${thead(`overhead by task${c.tasksDiffering > c.tasks.length ? ` (${c.tasks.length} of ${c.tasksDiffering}, largest |delta| first)` : ''}`, false)}<tbody>${r.tasks}</tbody></table></div></div>
</div>
<h4>First events where they act differently</h4>
<div class="ab-divergence">${divergenceHtml(divergenceFor(inp, a, b), a, b, inp.info.source)}</div>
<script type="application/json" class="ab-data">${jsonForScript(data)}</script>
</div>`;
}

/** Overhead charged to each task under each strategy (the tasks with the most, largest
 *  first; the heading carries `id`). */
export function taskSection(inp: AnalysisInput, id: string): string {
  if (!inp.results.some((r) => (r.taskOverhead ?? []).length > 0)) return '';
  const comm = new Map<number, string>(inp.info.tasks.map((t) => [t.tid, t.comm]));
  comm.set(0, '<idle>');
  const per = inp.results.map((r) => new Map((r.taskOverhead ?? []).map((t) => [t.tid, t.ns])));
  const tids = [...new Set(per.flatMap((m) => [...m.keys()]))];
  const peak = (tid: number) => Math.max(...per.map((m) => m.get(tid) ?? 0));
  tids.sort((x, y) => peak(y) - peak(x) || x - y);
  const SHOWN = 12, MAX = 100;
  const head = `<thead><tr><th class="l">task</th>${inp.results.map((r) => `<th>${esc(r.strategy.name)}</th>`).join('')}</tr></thead>`;
  const row = (tid: number) => {
    const vs = per.map((m) => m.get(tid) ?? 0);
    const lo = Math.min(...vs);
    return `<tr><td class="l"><span class="name">${esc(`${comm.get(tid) ?? '?'}-${tid}`)}</span></td>${vs.map((v) => `<td${v === lo && vs.some((x) => x !== lo) ? ' class="best"' : ''}>${esc(fmtNs(v))}</td>`).join('')}</tr>`;
  };
  const more = tids.slice(SHOWN, MAX);
  const unlisted = Math.max(0, ...inp.results.map((r) => r.taskOverheadOthers?.tasks ?? 0));
  const cut = unlisted > 0
    ? ` Each strategy lists its ${fmtCount(TASK_OVERHEADS_KEPT)} tasks with the most; up to ${fmtCount(unlisted)} more with less each are summed, not listed (a task missing from one strategy's list counts 0 there).`
    : '';
  return `<h3 id="${id}">Overhead by task <a class="pl" href="#${id}" aria-label="link to this section">#</a></h3>
<p class="note">Overhead charged to each task (the one running on the CPU when the cost was paid; &lt;idle&gt;-0 for idle CPUs), ${tids.length > SHOWN ? `the ${SHOWN} with the most under any strategy; ${fmtCount(tids.length)} tasks in all` : 'every task with any'}. Green: lowest for that task.${cut}</p>
<div class="scroll"><table class="data tasks">${head}<tbody>${tids.slice(0, SHOWN).map(row).join('')}</tbody></table></div>
${more.length ? `<details><summary>${more.length} more${tids.length > MAX ? ` (of ${fmtCount(tids.length - SHOWN)})` : ''}</summary><div class="scroll"><table class="data tasks">${head}<tbody>${more.map(row).join('')}</tbody></table></div></details>` : ''}`;
}

export const WHY_CSS = `
.why { margin: 6px 0 10px; padding: 8px 12px; border-left: 3px solid var(--accent); background: #f4f7fc; }
.why-text { margin: 0 0 6px; }
.gapbar svg { display: block; margin: 4px 0 2px; }
.gapkey { font-size: 12px; color: var(--muted); }
.gapkey .k { margin-right: 12px; white-space: nowrap; }
.gapkey i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; }
.assume { white-space: nowrap; }
.ab-grid { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: flex-start; }
.ab pre, details pre { font-size: 11.5px; background: #f6f7f9; padding: 6px 8px; overflow-x: auto; white-space: pre; }
h4 { font-size: 13.5px; margin: 14px 0 4px; }
`;

/** Re-renders an A-vs-B section for the chosen pair. Text goes in with textContent only;
 *  the formats mirror fmtNs / signedNs / fmtRel. */
export const AB_SCRIPT = `(function () {
  function p3(v) { return String(Number(v.toPrecision(3))); }
  function ns(v) { if (!isFinite(v)) return '–'; var a = Math.abs(v);
    if (a >= 1e9) return p3(v / 1e9) + ' s'; if (a >= 1e6) return p3(v / 1e6) + ' ms'; if (a >= 1e3) return p3(v / 1e3) + ' µs'; return Math.round(v) + ' ns'; }
  function sns(d) { return (d > 0 ? '+' : d < 0 ? '−' : '±') + ns(Math.abs(d)); }
  function cnt(v) { return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(1); }
  function val(u, v) { return u === 'ns' ? ns(v) : cnt(v); }
  function dlt(u, d) { return u === 'ns' ? sns(d) : d === 0 ? '0' : (d > 0 ? '+' : '−') + cnt(Math.abs(d)); }
  function rel(a, d) { if (a === 0) return d === 0 ? '' : 'new'; var q = d / a * 100; if (q === 0) return '';
    return (q > 0 ? '+' : '−') + (Math.abs(q) >= 10 ? Math.abs(q).toFixed(0) : Math.abs(q).toFixed(1)) + ' %'; }
  function el(tag, text, cls) { var e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; }
  function fill(tbody, rows) {
    tbody.replaceChildren();
    rows.forEach(function (r) { var tr = el('tr'); r.forEach(function (x, k) { var td = el('td', null, k === 0 ? 'l' : '');
      if (x && typeof x === 'object') { td.appendChild(el('span', x.name, 'name')); } else td.textContent = x; tr.appendChild(td); }); tbody.appendChild(tr); });
  }
  document.querySelectorAll('.ab').forEach(function (box) {
    var dataEl = box.querySelector('script.ab-data'); if (!dataEl) return;
    var D = JSON.parse(dataEl.textContent);
    var sa = box.querySelector('.ab-sel-a'), sb = box.querySelector('.ab-sel-b');
    box.querySelector('.ab-pick').hidden = false;
    function S(n) { return D.strategies.filter(function (s) { return s.name === n; })[0]; }
    function render() {
      var A = S(sa.value), B = S(sb.value); if (!A || !B) return;
      box.querySelectorAll('.ab-a').forEach(function (e) { e.textContent = A.name; });
      box.querySelectorAll('.ab-b').forEach(function (e) { e.textContent = B.name; });
      fill(box.querySelector('.ab-metrics tbody'), D.metrics.filter(function (m) { return m.metric !== 'iteration_ns' || A.metrics[m.metric] > 0 || B.metrics[m.metric] > 0; }).map(function (m) {
        var a = A.metrics[m.metric], b = B.metrics[m.metric]; return [m.metric, val(m.unit, a), val(m.unit, b), dlt(m.unit, b - a), rel(a, b - a)]; }));
      var cs = D.causes.map(function (c) { var a = A.metrics[c.metric], b = B.metrics[c.metric]; return { l: c.label, a: a, b: b, d: b - a }; })
        .filter(function (c) { return Math.abs(c.d) > 1e-6; }).sort(function (x, y) { return Math.abs(y.d) - Math.abs(x.d); });
      fill(box.querySelector('.ab-causes tbody'), cs.length ? cs.map(function (c) { return [c.l, ns(c.a), ns(c.b), sns(c.d), rel(c.a, c.d)]; }) : [['no difference', '', '', '', '']]);
      var cp = []; for (var i = 0; i < Math.max(A.cpu.length, B.cpu.length); i++) { var a = A.cpu[i] || 0, b = B.cpu[i] || 0; if (Math.abs(b - a) > 1e-6) cp.push(['CPU ' + i, ns(a), ns(b), sns(b - a)]); }
      fill(box.querySelector('.ab-cpus tbody'), cp.length ? cp : [['no difference', '', '', '']]);
      var ts = D.tasks.map(function (t) { var a = A.task[t.tid] || 0, b = B.task[t.tid] || 0; return { n: t.comm + '-' + t.tid, a: a, b: b, d: b - a, tid: t.tid }; })
        .filter(function (t) { return Math.abs(t.d) > 1e-6; }).sort(function (x, y) { return Math.abs(y.d) - Math.abs(x.d) || x.tid - y.tid; }).slice(0, 20);
      fill(box.querySelector('.ab-tasks tbody'), ts.length ? ts.map(function (t) { return [{ name: t.n }, ns(t.a), ns(t.b), sns(t.d)]; }) : [['no difference', '', '', '']]);
      var th = box.querySelector('.ab-tasks thead th'); if (th) th.textContent = 'overhead by task';
      var dv = box.querySelector('.ab-divergence'); dv.replaceChildren();
      var found = D.divergences.filter(function (d) { return d.a === A.name && d.b === B.name; })[0];
      var swapped = false;
      if (!found) { found = D.divergences.filter(function (d) { return d.a === B.name && d.b === A.name; })[0]; swapped = !!found; }
      if (!found) { var p = el('p', 'Not scanned for this pair: ', 'note'); p.appendChild(el('code', 'tlbsim replay --compare ' + A.name + ',' + B.name + ' ' + D.input));
        p.appendChild(document.createTextNode(' prints the first events where they act differently.')); dv.appendChild(p); return; }
      if (found.list.length === 0) { dv.appendChild(el('p', A.name + ' and ' + B.name + ' act the same on all ' + cnt(found.events) + ' events.', 'note')); return; }
      var tbl = el('table', null, 'data ab-div'), hd = el('thead'), hr = el('tr');
      ['event #', 'time', 'CPU', 'event', A.name, B.name].forEach(function (h, k) { hr.appendChild(el('th', h, k >= 3 ? 'l' : '')); });
      hd.appendChild(hr); tbl.appendChild(hd); var tb = el('tbody'); tbl.appendChild(tb);
      found.list.forEach(function (x) { var tr = el('tr');
        [cnt(x.i), '+' + ns(x.t), String(x.cpu), x.event, (swapped ? x.b : x.a).join('; '), (swapped ? x.a : x.b).join('; ')].forEach(function (v, k) {
          tr.appendChild(el('td', v, k >= 3 ? 'l wrap' : '')); }); tb.appendChild(tr); });
      var sc = el('div', null, 'scroll'); sc.appendChild(tbl); dv.appendChild(sc);
    }
    sa.addEventListener('change', render); sb.addEventListener('change', render);
  });
})();`;
