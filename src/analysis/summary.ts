// The replay summary in cli.md's `replay --json` shape. Kept apart from the tables so that
// `replay --json` does not load arquero or vega.
import type { AnalysisData } from './types.ts';

export interface ReplaySummary {
  runs: { input: string; strategy: string; metrics: Record<string, number> }[];
}

export function summaryJson(data: Pick<AnalysisData, 'inputs'>): ReplaySummary {
  return {
    runs: data.inputs.flatMap((i) => i.results.map((r) => ({ input: i.info.source, strategy: r.strategy.name, metrics: { ...r.metrics } }))),
  };
}
