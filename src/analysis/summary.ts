// The replay summary in docs/design/cli.md's `replay --json` shape. Kept apart from the tables so that
// `replay --json` does not load arquero or vega.
import type { AnalysisData } from './types.ts';
import type { UncertaintyResult } from '../replay/uncertainty.ts';
import { headlineText } from './headline.ts';

export interface ReplaySummary {
  runs: { input: string; strategy: string; metrics: Record<string, number> }[];
  /** Only with --uncertainty: per input, the intervals, sweeps and the headline sentence. */
  uncertainty?: ({ input: string; headlineText: string | null } & UncertaintyResult)[];
}

export function summaryJson(data: Pick<AnalysisData, 'inputs'>): ReplaySummary {
  const out: ReplaySummary = {
    runs: data.inputs.flatMap((i) => i.results.map((r) => ({ input: i.info.source, strategy: r.strategy.name, metrics: { ...r.metrics } }))),
  };
  const u = data.inputs.filter((i) => i.uncertainty !== undefined);
  if (u.length > 0) out.uncertainty = u.map((i) => ({ input: i.info.source, headlineText: headlineText(i.uncertainty!), ...i.uncertainty! }));
  return out;
}
