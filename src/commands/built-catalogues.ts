// The catalogues (`tlbsim strategies`, `tlbsim workloads`) as bin/build.mjs wrote them
// beside the compiled program, dist/catalogues.json: asked for from dist/, they are read
// from there instead of loading the fourteen strategy implementations (and the machine
// they import) or the workload generators. The file is part of the build, so it is exactly
// as current as the JavaScript (bin/tlbsim.mjs runs dist/ only while it matches src/);
// under tsx there is none beside src/, and the commands ask the registries themselves.
// This module finds the file beside itself, so bin/start-bundle.mjs leaves it in place.
import { readFileSync } from 'node:fs';
import type { StrategyListing } from './strategies.ts';
import type { WorkloadListing } from './workloads.ts';

export interface BuiltCatalogues {
  strategies: StrategyListing[];
  /** Strategy name -> when it is unsafe, for the strategies that say. */
  unsafeWhen: Record<string, string>;
  workloads: WorkloadListing[];
}

/** The file's name beside the compiled modules' root (bin/build.mjs writes it). */
export const BUILT_CATALOGUES_FILE = 'catalogues.json';

/** The catalogues the build wrote, or null (running the TypeScript sources, or a dist/
 *  built before the file existed). */
export function builtCatalogues(): BuiltCatalogues | null {
  let text: string;
  try { text = readFileSync(new URL(`../${BUILT_CATALOGUES_FILE}`, import.meta.url), 'utf8'); } catch { return null; }
  return JSON.parse(text) as BuiltCatalogues;
}
