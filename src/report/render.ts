// Vega-Lite -> Vega -> static SVG in Node (no canvas, no browser), so every chart shows
// with JavaScript off; the compiled Vega spec is also embedded for the interactive view.
import * as vl from 'vega-lite';
import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';

export const CHART_CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal' as const, gridColor: '#eee' },
  // No label limit: a cut label ('CR3 writes (switc...') cannot be read without JavaScript.
  legend: { labelFontSize: 11, titleFontSize: 11, labelLimit: 0 },
  header: { labelFontSize: 12 },
};

export interface RenderedChart {
  svg: string;
  /** The compiled Vega spec (JSON-serialisable). */
  vega: object;
}

export async function renderChart(spec: TopLevelSpec): Promise<RenderedChart> {
  const full = { ...spec, config: { ...CHART_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const compiled = vl.compile(full).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return { svg, vega: compiled };
  } finally {
    view.finalize();
  }
}
