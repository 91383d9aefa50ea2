// The strategy registry: the one list everything else derives from (the CLI's catalogue,
// replay's default set, src/index.ts, which re-exports this module whole, the tests, and
// the engine copies of replay/isolate.ts, which load a strategy's file named here alone).
// A new strategy is one file in this directory: its definition imported and given an
// entry in REGISTRY below, and its class re-exported at the bottom for scripts.
import type { StrategyDefinition } from '../machine/strategy.ts';
import { unknownNameMessage } from '../names.ts';
import { linux413 } from './linux-4.13.ts';
import { pcidV4Posted } from './pcid-v4-posted.ts';
import { linux414 } from './linux-4.14.ts';
import { linux414NoPcid } from './linux-4.14-nopcid.ts';
import { linux420 } from './linux-4.20.ts';
import { linux513 } from './linux-5.13.ts';
import { asyncRfc2019 } from './async-rfc-2019.ts';
import { lazyShootdown } from './lazy-shootdown.ts';
import { ptsyncTargeted } from './ptsync-targeted.ts';
import { linux615Invlpgb } from './linux-6.15-invlpgb.ts';
import { linux618 } from './linux-6.18.ts';
import { linux61 } from './linux-6.1.ts';
import { linux612 } from './linux-6.12.ts';
import { linux73 } from './linux-7.3.ts';

/** One entry a registered strategy, in catalogue order: the file of this directory that
 *  defines it (src/strategies/<file>.ts, what an engine copy loads) and its definition. */
export interface RegistryEntry {
  readonly file: string;
  readonly definition: StrategyDefinition;
}

export const REGISTRY: readonly RegistryEntry[] = [
  { file: 'linux-4.13', definition: linux413 },
  { file: 'pcid-v4-posted', definition: pcidV4Posted },
  { file: 'linux-4.14', definition: linux414 },
  { file: 'linux-4.14-nopcid', definition: linux414NoPcid },
  { file: 'linux-4.20', definition: linux420 },
  { file: 'linux-5.13', definition: linux513 },
  { file: 'async-rfc-2019', definition: asyncRfc2019 },
  { file: 'lazy-shootdown', definition: lazyShootdown },
  { file: 'ptsync-targeted', definition: ptsyncTargeted },
  { file: 'linux-6.15-invlpgb', definition: linux615Invlpgb },
  { file: 'linux-6.18', definition: linux618 },
  { file: 'linux-6.1', definition: linux61 },
  { file: 'linux-6.12', definition: linux612 },
  { file: 'linux-7.3', definition: linux73 },
];

export const STRATEGIES: readonly StrategyDefinition[] = REGISTRY.map((e) => e.definition);

/** The strategy ratios are taken against (the pre-PCID kernel). */
export const BASELINE_STRATEGY = 'linux-4.13';
/** The strategy that models the kernel the real traces were recorded on. */
export const CURRENT_STRATEGY = 'linux-7.3';

export const STRATEGY_NAMES: readonly string[] = STRATEGIES.map((s) => s.name);

/** Which strategy models a released kernel, by the first version of each span (the
 *  strategies' own headers say what each span changed). */
const KERNEL_SPANS: readonly [major: number, minor: number, strategy: string][] = [
  [0, 0, 'linux-4.13'],
  [4, 14, 'linux-4.14'],
  [4, 20, 'linux-4.20'],
  [5, 13, 'linux-5.13'],
  [6, 0, 'linux-6.1'], // 6.0 brought the tlb_gen early-out that linux-6.1 models
  [6, 12, 'linux-6.12'],
  [6, 14, 'linux-6.18'], // 6.14: lazy mm_cpumask, reason 5, trimming
  [7, 3, 'linux-7.3'],
];

/** Which of `replayed` (strategy names) to check against a recording: the model of the
 *  recorded kernel when the trace names it, else the current kernel, else the newest
 *  kernel version among them; null when none models a released kernel. */
export function validationStrategy(machine: { kernel?: string; invlpgb?: boolean } | undefined, replayed: readonly string[]): string | null {
  const own = machine?.kernel !== undefined ? strategyForKernel(machine.kernel, machine.invlpgb) : null;
  if (own !== null && replayed.includes(own)) return own;
  if (replayed.includes(CURRENT_STRATEGY)) return CURRENT_STRATEGY;
  for (let i = KERNEL_SPANS.length - 1; i >= 0; i--) if (replayed.includes(KERNEL_SPANS[i][2])) return KERNEL_SPANS[i][2];
  return null;
}

/** The strategy that models kernel `release` (`uname -r`, e.g. "6.12.57+deb12-cloud-amd64"),
 *  on a CPU with INVLPGB when `invlpgb`; null when the release is not a version. */
export function strategyForKernel(release: string, invlpgb = false): string | null {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (m === null) return null;
  const major = Number(m[1]), minor = Number(m[2]);
  let name = KERNEL_SPANS[0][2];
  for (const [a, b, s] of KERNEL_SPANS) if (major > a || (major === a && minor >= b)) name = s;
  // 6.15 turned on broadcast flushes where the CPU has them; linux-7.3 is modelled without.
  if (invlpgb && name === 'linux-6.18' && (major > 6 || minor >= 15)) name = 'linux-6.15-invlpgb';
  return name;
}

export class UnknownStrategyError extends Error {}

export function getStrategy(name: string): StrategyDefinition {
  const s = STRATEGIES.find((d) => d.name === name);
  if (!s) throw new UnknownStrategyError(unknownNameMessage('strategy', name, STRATEGY_NAMES));
  return s;
}

/** The file of this directory (without extension) that defines registered strategy `name`. */
export function strategyFile(name: string): string {
  const e = REGISTRY.find((x) => x.definition.name === name);
  if (!e) throw new UnknownStrategyError(`unknown strategy "${name}" (known: ${STRATEGY_NAMES.join(', ')})`);
  return e.file;
}

export function resolveStrategy(s: string | StrategyDefinition): StrategyDefinition {
  return typeof s === 'string' ? getStrategy(s) : s;
}

/** Define a strategy in a script: metadata plus a factory (usually `new SomeClass(m)`). */
export function defineStrategy(def: StrategyDefinition): StrategyDefinition {
  for (const k of ['name', 'title', 'kernel', 'description'] as const) {
    if (typeof def[k] !== 'string' || def[k].length === 0) throw new TypeError(`defineStrategy: "${k}" is required`);
  }
  if (typeof def.create !== 'function') throw new TypeError('defineStrategy: "create(machine)" is required');
  return { ...def };
}

export { Linux413 } from './linux-4.13.ts';
export { PcidV4Posted } from './pcid-v4-posted.ts';
export { Linux414 } from './linux-4.14.ts';
export { Linux414NoPcid } from './linux-4.14-nopcid.ts';
export { Linux420 } from './linux-4.20.ts';
export { Linux513 } from './linux-5.13.ts';
export { AsyncRfc2019 } from './async-rfc-2019.ts';
export { LazyShootdown } from './lazy-shootdown.ts';
export { PtsyncTargeted } from './ptsync-targeted.ts';
export { Linux615Invlpgb } from './linux-6.15-invlpgb.ts';
export { Linux618 } from './linux-6.18.ts';
export { Linux61 } from './linux-6.1.ts';
export { Linux612 } from './linux-6.12.ts';
export { Linux73 } from './linux-7.3.ts';
export { KernelStrategy, chooseNewAsid, applyCeilingPre420, applyCeilingStride, FLUSH_CEILING } from './common.ts';
