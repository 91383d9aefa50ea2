// The per-CPU timeline of one input: what the recording printed (its task switches,
// tlb_flush and IPI records) above what two strategies' models did on the same events
// (lazy periods, CR3 writes, flushes, IPIs sender -> target, the initiator's waits), one
// lane per CPU. Drag across the overview strip to zoom every panel (a Vega-Lite interval
// selection); without JavaScript the static SVG shows the whole trace. The recordings are
// thinned to a few hundred marks per kind and panel, so a long trace stays small.
import type { TopLevelSpec } from 'vega-lite';
import type { AnalysisInput } from '../analysis/types.ts';
import { nsExpr } from '../analysis/format.ts';
import { reasonText, taskLabel, taskNames } from '../analysis/recording.ts';
import { FLUSH_MARK_NAMES, RecTrack, thinTrack, type Recording, type TrackData } from '../machine/recorder.ts';
import type { ChartSpec } from './charts.ts';

/** Marks of one kind drawn in one panel, at most (the SVG and the embedded spec carry each). */
export const TIMELINE_MAX_MARKS = 800;
/** Lanes drawn at most (CPUs past it are left out and the caption says so). */
const MAX_LANES = 64;

/** One mark, kept short (the page carries each twice: in the SVG and in the spec): p the
 *  panel, k the index of its kind in DOMAIN, d its length in ns (-1: none), x the detail,
 *  l a label drawn on it. Times are ns from the first event. */
interface Row {
  p: number; k: number; t0: number; t1: number; y0: number; y1: number; d: number; x: string; l?: string;
}

// Where in a lane (CPU c occupies [c, c+1), top to bottom) each kind is drawn.
const RUN = [0.08, 0.42], LAZY = [0.46, 0.56], MARK = 0.78;

const WHAT = {
  task: 'task running', idle: 'idle', lazy: 'lazy TLB',
  cr3Flush: 'CR3 write (flush)', cr3: 'CR3 write (no flush)',
  flush: FLUSH_MARK_NAMES.map((n) => `flush: ${n}`),
  ipi: 'IPI sender → target', wait: 'initiator wait',
  obsFlush: 'tlb_flush (recorded)', obsIpi: 'IPI (recorded)',
};
const DOMAIN = [WHAT.task, WHAT.idle, WHAT.lazy, WHAT.cr3Flush, WHAT.cr3, ...WHAT.flush, WHAT.ipi, WHAT.wait, WHAT.obsFlush, WHAT.obsIpi];
const RANGE = ['#9fb8d8', '#eceff3', '#f2c14e', '#7b3294', '#c2a5cf', '#d7301f', '#fc8d59', '#1a9850', '#91cf60', '#2166ac', '#e7298a', '#b2182b', '#1d2430', '#8c510a'];

const THIN_NAME: Record<keyof Recording['tracks'], string> = {
  run: 'task runs', lazy: 'lazy periods', cr3: 'CR3 writes', flush: 'flushes', ipi: 'IPIs', wait: 'waits',
  handler: 'handlers', request: 'requests', obsFlush: 'tlb_flush records', obsIpi: 'IPI records', lazyCount: 'lazy counts',
};

/** The timeline chart of an input that carries recordings (replay records the pair it
 *  shows), else null. */
export function timelineChart(inp: AnalysisInput): ChartSpec | null {
  const recs = inp.timeline?.recordings ?? [];
  if (recs.length === 0) return null;
  const info = inp.info;
  const names = taskNames(info);
  const first = recs[0].firstNs;
  const nCpu = Math.min(recs[0].cpus, MAX_LANES);
  const span = Math.max(1, recs[0].lastNs - first);
  const rows: Row[] = [];
  const thinned: string[] = [];
  const take = (rec: Recording, kind: keyof Recording['tracks'], code: number, panel: string): TrackData => {
    const td = rec.tracks[kind];
    const out = thinTrack(td, TIMELINE_MAX_MARKS, code, rec.cpus);
    if (out.t.length < td.seen) thinned.push(`${panel} ${THIN_NAME[kind]} ${td.seen.toLocaleString('en-US')} → ${out.t.length.toLocaleString('en-US')}`);
    return out;
  };
  const K = (what: string) => DOMAIN.indexOf(what);
  const push = (p: number, what: string, t0: number, t1: number, y0: number, y1: number, d: number, x: string, l?: string) => {
    rows.push({ p, k: K(what), t0: Math.round(t0 - first), t1: Math.round(t1 - first), y0, y1, d: d < 0 ? -1 : Math.round(d), x, ...(l !== undefined ? { l } : {}) });
  };
  const many = (w: number, one: string) => (w > 1 ? `${w.toLocaleString('en-US')} merged (${one})` : one);
  const panels: string[] = [];
  const runs = (rec: Recording, p: number) => {
    const td = take(rec, 'run', RecTrack.run, panels[p]);
    for (let i = 0; i < td.t.length; i++) {
      const c = td.cpu[i];
      if (c >= nCpu) continue;
      const tid = td.a[i];
      const name = tid === 0 ? 'idle' : taskLabel(names, tid);
      // Names on spans wide enough to hold one: the static SVG has no tooltips.
      const label = td.d[i] >= span / 12 && tid !== 0 ? name : undefined;
      push(p, tid === 0 ? WHAT.idle : WHAT.task, td.t[i], td.t[i] + td.d[i], c + RUN[0], c + RUN[1], td.d[i], td.w[i] > 1 ? `${td.w[i]} runs merged; longest: ${name}` : name, label);
    }
  };
  // What the recording printed: the same in every recording (the trace's own records).
  panels.push('recorded trace');
  runs(recs[0], 0);
  const of = take(recs[0], 'obsFlush', RecTrack.obsFlush, panels[0]);
  for (let i = 0; i < of.t.length; i++) {
    const c = of.cpu[i], pg = of.b[i];
    if (c < nCpu) push(0, WHAT.obsFlush, of.t[i], of.t[i], c + MARK, c + MARK, -1, many(of.w[i], `${reasonText(of.a[i])}, ${pg === -1 ? 'all pages' : `${pg} pages`}`));
  }
  const oi = take(recs[0], 'obsIpi', RecTrack.obsIpi, panels[0]);
  for (let i = 0; i < oi.t.length; i++) {
    const c = oi.cpu[i], to = oi.a[i];
    if (c < nCpu && to < nCpu) push(0, WHAT.obsIpi, oi.t[i], oi.t[i], c + MARK, to + MARK, -1, many(oi.w[i], `CPU ${c} → CPU ${to}`));
  }
  for (const rec of recs) {
    // The tasks are the trace's and the same under every strategy: drawn once, on top.
    const p = panels.push(`${rec.strategy} (model${rec.safe ? '' : ', unsafe'})`) - 1;
    const lz = take(rec, 'lazy', RecTrack.lazy, panels[p]);
    for (let i = 0; i < lz.t.length; i++) {
      const c = lz.cpu[i];
      if (c < nCpu) push(p, WHAT.lazy, lz.t[i], lz.t[i] + lz.d[i], c + LAZY[0], c + LAZY[1], lz.d[i], many(lz.w[i], 'lazy TLB mode'));
    }
    const cr = take(rec, 'cr3', RecTrack.cr3, panels[p]);
    for (let i = 0; i < cr.t.length; i++) {
      const c = cr.cpu[i];
      if (c < nCpu) push(p, cr.b[i] > 0 ? WHAT.cr3Flush : WHAT.cr3, cr.t[i], cr.t[i], c + LAZY[1], c + 1 - 0.04, -1, cr.w[i] > 1 ? `${cr.w[i].toLocaleString('en-US')} merged, ${cr.b[i].toLocaleString('en-US')} flushing` : `mm ${cr.a[i]}`);
    }
    const fl = take(rec, 'flush', RecTrack.flush, panels[p]);
    for (let i = 0; i < fl.t.length; i++) {
      const c = fl.cpu[i], pg = fl.b[i];
      if (c < nCpu) push(p, WHAT.flush[fl.a[i]] ?? WHAT.flush[0], fl.t[i], fl.t[i], c + MARK, c + MARK, fl.d[i], many(fl.w[i], pg < 0 ? 'all pages' : `${pg} pages`));
    }
    const wt = take(rec, 'wait', RecTrack.wait, panels[p]);
    for (let i = 0; i < wt.t.length; i++) {
      const c = wt.cpu[i];
      if (c < nCpu) push(p, WHAT.wait, wt.t[i], wt.t[i] + wt.d[i], c + MARK - 0.1, c + MARK + 0.1, wt.d[i], many(wt.w[i], 'csd_lock_wait / TLBSYNC'));
    }
    const ip = take(rec, 'ipi', RecTrack.ipi, panels[p]);
    for (let i = 0; i < ip.t.length; i++) {
      const c = ip.cpu[i], to = ip.a[i];
      if (c < nCpu && to < nCpu) push(p, WHAT.ipi, ip.t[i], ip.b[i], c + MARK, to + MARK, ip.b[i] - ip.t[i], many(ip.w[i], `CPU ${c} → CPU ${to}`));
    }
  }
  // Each panel's time axis spans the whole trace until the brush says otherwise (an empty
  // brush leaves each panel its own data's extent): two invisible marks per panel at the
  // trace's first and last event.
  for (let p = 0; p < panels.length; p++) for (const t of [first, first + span]) rows.push({ p, k: -1, t0: t - first, t1: t - first, y0: 0, y1: 0, d: -1, x: '' });
  const laneH = Math.max(12, Math.min(34, Math.round(240 / nCpu)));
  const height = nCpu * laneH;
  const width = 1040;
  const lanes = Array.from({ length: nCpu }, (_, c) => c + 0.5);
  const y = {
    field: 'y0', type: 'quantitative' as const, title: null,
    scale: { domain: [0, nCpu], reverse: true, nice: false, zero: false },
    axis: { values: lanes, labelExpr: "'CPU ' + floor(datum.value)", grid: false, ticks: false, domain: false },
  };
  const x = (zoom: boolean) => ({
    field: 't0', type: 'quantitative' as const, title: zoom ? null : 'time from the first event',
    scale: { ...(zoom ? { domain: { param: 'brush' } } : { domain: [0, span] }), nice: false, zero: false },
    axis: { labelExpr: nsExpr('datum.value'), tickCount: 8 },
  });
  const color = { field: 'what', type: 'nominal' as const, title: null, scale: { domain: DOMAIN, range: RANGE } };
  const tooltip = [{ field: 'what' }, { field: 'at', title: 'time' }, { field: 'len', title: 'length' }, { field: 'x', title: 'detail' }];
  const is = (...w: string[]) => ({ filter: { field: 'k', oneOf: w.map(K) } });
  const layers = (zoom: boolean) => [
    { transform: [is(WHAT.task, WHAT.idle, WHAT.lazy, WHAT.wait)], mark: { type: 'rect' as const, tooltip: true, clip: true, aria: false }, encoding: { x: x(zoom), x2: { field: 't1' }, y, y2: { field: 'y1' }, color, tooltip } },
    { transform: [is(WHAT.cr3Flush, WHAT.cr3)], mark: { type: 'rule' as const, tooltip: true, clip: true, aria: false, strokeWidth: 1 }, encoding: { x: x(zoom), y, y2: { field: 'y1' }, color, tooltip } },
    { transform: [is(WHAT.ipi, WHAT.obsIpi)], mark: { type: 'rule' as const, tooltip: true, clip: true, aria: false, strokeWidth: 1.5 }, encoding: { x: x(zoom), x2: { field: 't1' }, y, y2: { field: 'y1' }, color, tooltip } },
    { transform: [is(...WHAT.flush, WHAT.obsFlush)], mark: { type: 'point' as const, tooltip: true, clip: true, aria: false, filled: true, size: 36 }, encoding: { x: x(zoom), y, color, shape: { field: 'what', type: 'nominal' as const, legend: null, scale: { domain: [...WHAT.flush, WHAT.obsFlush], range: ['circle', 'circle', 'triangle-down', 'triangle-down', 'square', 'diamond'] } }, tooltip } },
    { transform: [{ filter: { field: 'k', equal: -1 } }], mark: { type: 'point' as const, opacity: 0, aria: false }, encoding: { x: x(zoom), y } },
    { transform: [{ filter: 'isValid(datum.l)' }], mark: { type: 'text' as const, clip: true, aria: false, align: 'left' as const, dx: 3, fontSize: 10, baseline: 'middle' as const, color: '#1d2430' }, encoding: { x: x(zoom), y: { ...y, field: 'ym' }, text: { field: 'l' } } },
  ];
  // Strings the tooltips show, made in the browser from the numbers (fmtNs's rule).
  const derived = [
    { calculate: JSON.stringify(DOMAIN) + '[datum.k]', as: 'what' },
    { calculate: nsExpr('datum.t0'), as: 'at' },
    { calculate: `datum.d < 0 ? '' : ${nsExpr('datum.d')}`, as: 'len' },
    { calculate: '(datum.y0 + datum.y1) / 2', as: 'ym' },
  ];
  const panelSpec = (p: number, zoom: boolean) => ({
    title: { text: panels[p], anchor: 'start' as const, fontSize: 12, fontWeight: 'bold' as const },
    transform: [{ filter: { field: 'p', equal: p } }, ...derived],
    width, height,
    layer: layers(zoom),
  });
  // The overview: every model mark of the last panel, with the brush on it.
  const last = panels.length - 1;
  const overview = {
    title: { text: 'drag here to zoom the panels below (double-click to reset)', anchor: 'start' as const, fontSize: 11, fontWeight: 'normal' as const, color: '#5b6575' },
    transform: [{ filter: { field: 'p', equal: last } }, is(...WHAT.flush, WHAT.ipi, WHAT.wait, WHAT.cr3Flush), ...derived],
    width, height: 36,
    params: [{ name: 'brush', select: { type: 'interval' as const, encodings: ['x' as const] } }],
    mark: { type: 'tick' as const, thickness: 1, aria: false },
    encoding: { x: x(false), y: { ...y, axis: null }, color },
  };
  const spec = {
    data: { values: rows },
    // Each row an hconcat of one: the report's emptiness check reads vconcat rows so.
    vconcat: [overview, ...panels.map((_, p) => panelSpec(p, true))].map((v) => ({ hconcat: [v] })),
    resolve: { scale: { color: 'shared' } },
    config: { legend: { orient: 'bottom', columns: 5, labelLimit: 0 } },
  } as unknown as TopLevelSpec;
  const pair = recs.map((r) => r.strategy).join(' and ');
  return {
    id: 'timeline',
    title: `Per-CPU timeline: ${pair}`,
    caption: `One lane per CPU: the recorded trace's tasks (from its switches), tlb_flush and IPI records on top, then what ${pair} would have done on the same events (lazy periods, CR3 writes, flushes: circles local, triangles remote, squares INVLPGB; IPIs as lines from sender to target; initiator waits). Model marks sit at the trace time of the event that caused them; lengths are modelled costs. With JavaScript, drag across the strip at the top to zoom; tooltips give times from the first event.${recs[0].cpus > MAX_LANES ? ` The first ${MAX_LANES} of ${recs[0].cpus} CPUs.` : ''}${thinned.length > 0 ? ` Thinned (consecutive marks of one CPU merged; the tooltip says how many): ${thinned.join(', ')}.` : ''}`,
    spec,
  };
}
