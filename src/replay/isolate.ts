// One copy of the machine's code per registered strategy, for long replays.
//
// V8 keeps type feedback per function, not per caller. When several strategies replay in
// one thread (in-process, or 5-6 per worker), every strategy hook the machine calls
// (switchMm, onFlushRequest, onFlushIpi, ...) and every base-class method the strategies
// share (flushTlbMulti, flushToGen, `this.m`) sees 6-11 receiver classes: the calls go
// through megamorphic inline caches and nothing is inlined across them (perf shows the time
// in LoadIC_Megamorphic and the generic Call builtins). Loading the engine once per
// strategy, each copy in its own tsx module namespace, gives every strategy its own
// functions and monomorphic feedback. The code is the same; the results are identical.
//
// A copy costs CPU to load (see below), and each copy warms the JIT up on its own, so copies
// pay off only on long replays (the measurements are in bench/RESULTS.md): replay() uses
// them from ISOLATE_MIN_EVENTS on. Without the tsx loader (a bundled build) there is one
// copy.
//
// Most of a copy's load time is the loader's round trip per module (resolve + load through
// tsx's hooks thread, then compiling the module), so a copy loads only the simulator and
// its own strategy's file (the registry entry's file, with the files of the kernel versions
// it extends), not every strategy of the registry.
//
// Compiled to JavaScript (dist/, what the CLI runs once built), the copies are the emitted
// .js files: tsx's namespaces apply to any module its loader resolves, so the same trick
// holds; MODULE_EXT names the files of whichever form this module itself is.
import type { TraceInfo } from '../trace/event.ts';
import type { CostProfile } from '../machine/profiles.ts';
import { Simulator, type SimOptions } from '../machine/sim.ts';
import type { StrategyDefinition } from '../machine/strategy.ts';
import type * as EngineModule from './engine.ts';
import { strategyFile } from '../strategies/index.ts';

/** One isolated copy: its simulator class and the strategy definition built from the
 *  copy's own classes. */
export interface Engine {
  Simulator: typeof EngineModule.Simulator;
  strategy: StrategyDefinition;
}

/** Events from which replay() gives each registered strategy its own engine copy. */
export const ISOLATE_MIN_EVENTS = 3_000_000;

/** '.ts' when this module runs from src/ (under tsx), '.js' when compiled into dist/. */
const MODULE_EXT = import.meta.url.endsWith('.js') ? '.js' : '.ts';

const copies = new Map<string, Promise<Engine | null>>();

/** The engine copy for strategy `name` (one per name and thread, loaded on first use), or
 *  null when this runtime cannot load isolated copies. */
export function isolatedEngine(name: string): Promise<Engine | null> {
  let p = copies.get(name);
  if (p === undefined) {
    p = load(name);
    copies.set(name, p);
  }
  return p;
}

async function load(name: string): Promise<Engine | null> {
  try {
    const { register } = await import('tsx/esm/api');
    // The namespace becomes part of every module URL of the copy: a registry name is a
    // plain [a-z0-9.-] word, but keep only safe characters all the same.
    const api = register({ namespace: `tlbsim-engine-${name.replace(/[^A-Za-z0-9.-]/g, '_')}` });
    const engine = (await api.import(`./engine${MODULE_EXT}`, import.meta.url)) as typeof EngineModule;
    return { Simulator: engine.Simulator, strategy: await copyDefinition(name, (spec) => api.import(spec, import.meta.url)) };
  } catch (e) {
    // Without tsx (a bundled build) there are no copies, as documented above. Anything else
    // is a fault worth knowing about: say it once; the replay goes on with one shared copy,
    // the same results, only slower.
    const err = e as NodeJS.ErrnoException;
    // Only tsx itself missing: a copy's module URLs carry "tsx-namespace" too, and a strategy
    // file that is not found must be reported, not taken for a build without tsx.
    const noTsx = err.code === 'ERR_MODULE_NOT_FOUND' && /package 'tsx'/.test(err.message);
    if (!noTsx && !warned) {
      warned = true;
      process.emitWarning(`the engine copy for ${name} could not be loaded (${err.message}); replaying every strategy on one shared copy`, 'TlbsimWarning');
    }
    return null;
  }
}

let warned = false;

const isDefinition = (v: unknown, name: string): v is StrategyDefinition =>
  typeof v === 'object' && v !== null && (v as StrategyDefinition).name === name && typeof (v as StrategyDefinition).create === 'function';

/** Registered strategy `name` as the copy defines it: from the file its registry entry
 *  names (test/replay/isolate.test.ts checks each exports its definition). A file that
 *  fails to load or lacks the definition is an error load() reports. */
async function copyDefinition(name: string, load: (spec: string) => Promise<unknown>): Promise<StrategyDefinition> {
  const file = `../strategies/${strategyFile(name)}${MODULE_EXT}`;
  const own = Object.values((await load(file)) as Record<string, unknown>).find((v) => isDefinition(v, name));
  if (own === undefined) throw new Error(`${file.slice(3)} exports no definition of ${name}, as its registry entry says`);
  return own;
}

/** A simulator for strategy `def`; a registered one (`name` not null) runs on its own
 *  engine copy when `isolate` is set and the runtime can load one. */
export async function createSimulator(info: TraceInfo, def: StrategyDefinition, name: string | null,
  profile: CostProfile, simOpts: SimOptions, isolate: boolean): Promise<Simulator> {
  const engine = isolate && name !== null ? await isolatedEngine(name) : null;
  if (engine === null) return new Simulator(info, def, profile, simOpts);
  return new engine.Simulator(info, engine.strategy, profile, simOpts);
}
