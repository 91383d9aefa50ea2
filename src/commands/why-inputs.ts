// `replay --compare a,b` as text and JSON, from what the pipeline's explain stage added to
// each input (src/pipeline.ts explainInputs).
import type { AnalysisInput } from '../analysis/types.ts';
import { whyGap } from '../analysis/why.ts';
import { compareRuns, comparisonText } from '../analysis/compare.ts';
import { divergeText } from '../validate/diverge.ts';

function divergenceOf(inp: AnalysisInput, a: string, b: string) {
  return inp.divergences?.find((d) => d.a === a && d.b === b);
}

/** `replay --compare a,b` as text, for every input. */
export function compareText(inputs: readonly AnalysisInput[], pair: { a: string; b: string }): string {
  return inputs.map((inp) => comparisonText(compareRuns(inp, pair.a, pair.b, divergenceOf(inp, pair.a, pair.b)), divergeText)).join('\n\n');
}

/** What `replay --compare --json` adds: per input the comparison, and the gap sentence and
 *  its parts. Without --compare, --json stays docs/design/cli.md's `{ runs }`. */
export function whyJson(inputs: readonly AnalysisInput[], pair: { a: string; b: string } | null): Record<string, unknown> {
  if (!pair) return {};
  const why = inputs.map((inp) => whyGap(inp, inp.gap)).filter((w) => w !== null);
  return {
    compare: inputs.map((inp) => compareRuns(inp, pair.a, pair.b, divergenceOf(inp, pair.a, pair.b))),
    ...(why.length ? { why } : {}),
  };
}
