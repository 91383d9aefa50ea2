// What `replay` adds to each input so the summary and the report can explain their answer:
// the cost parameters that move the current kernel's gap to the best safe strategy
// (src/replay/gap.ts), and the first diverging events of the --compare pair and of the
// report's default A-vs-B pair (best safe vs current; src/validate/diverge.ts).
import type { CostProfile } from '../machine/profiles.ts';
import type { RunResult } from '../machine/result.ts';
import type { EventSource } from '../trace/event.ts';
import type { AnalysisInput } from '../analysis/types.ts';
import { bestSafe, currentOf, whyGap } from '../analysis/why.ts';
import { compareRuns, comparisonText } from '../analysis/compare.ts';
import { gapSensitivity } from '../replay/gap.ts';
import { divergeText, firstDivergences } from '../validate/diverge.ts';

/** Above this many events the default pair's lockstep scan (one event at a time, two
 *  machines) is left out of the report unless --compare asks for a pair. */
const DEFAULT_PAIR_MAX_EVENTS = 200_000;

export interface ExplainInputsOptions {
  profile: CostProfile;
  compare: { a: string; b: string } | null;
  /** Run the gap sweep whatever the input's length (--uncertainty asked for heavy work). */
  force?: boolean;
  pcid?: boolean;
}

export async function explainInputs(source: EventSource, results: RunResult[], opts: ExplainInputsOptions): Promise<Pick<AnalysisInput, 'gap' | 'divergences' | 'compare'>> {
  const out: Pick<AnalysisInput, 'gap' | 'divergences' | 'compare'> = {};
  const pcid = opts.pcid === undefined ? {} : { pcid: opts.pcid };
  const current = currentOf(results);
  const best = current === null ? null : bestSafe(results, current);
  if (current !== null && best !== null && best.strategy.name !== current && results.length >= 2) {
    const nominalGap = results.find((r) => r.strategy.name === current)!.metrics.overhead_ns - best.metrics.overhead_ns;
    const gap = await gapSensitivity(source, { profile: opts.profile, best: best.strategy.name, current, nominalGap, force: opts.force, ...pcid });
    if (gap) out.gap = gap;
  }
  const pairs: [string, string][] = [];
  if (opts.compare) pairs.push([opts.compare.a, opts.compare.b]);
  if (current !== null && best !== null && best.strategy.name !== current && source.info.events <= DEFAULT_PAIR_MAX_EVENTS
    && !pairs.some(([a, b]) => (a === best.strategy.name && b === current) || (b === best.strategy.name && a === current))) {
    pairs.push([best.strategy.name, current]);
  }
  if (pairs.length) {
    out.divergences = [];
    for (const [a, b] of pairs) out.divergences.push(await firstDivergences(source, { a, b, profile: opts.profile, ...pcid }));
  }
  if (opts.compare) out.compare = opts.compare;
  return out;
}

function divergenceOf(inp: AnalysisInput, a: string, b: string) {
  return inp.divergences?.find((d) => d.a === a && d.b === b);
}

/** `replay --compare a,b` as text, for every input. */
export function compareText(inputs: readonly AnalysisInput[], pair: { a: string; b: string }): string {
  return inputs.map((inp) => comparisonText(compareRuns(inp, pair.a, pair.b, divergenceOf(inp, pair.a, pair.b)), divergeText)).join('\n\n');
}

/** What `replay --compare --json` adds: per input the comparison, and the gap sentence and
 *  its parts. Without --compare, --json stays cli.md's `{ runs }`. */
export function whyJson(inputs: readonly AnalysisInput[], pair: { a: string; b: string } | null): Record<string, unknown> {
  if (!pair) return {};
  const why = inputs.map((inp) => whyGap(inp, inp.gap)).filter((w) => w !== null);
  return {
    compare: inputs.map((inp) => compareRuns(inp, pair.a, pair.b, divergenceOf(inp, pair.a, pair.b))),
    ...(why.length ? { why } : {}),
  };
}
