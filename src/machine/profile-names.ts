// The cost profiles' names without their numbers, for what runs before any profile is
// needed: the option help of `replay --profile`, which every `tlbsim` start-up registers.
// profiles.ts builds PROFILES from the same list and the same file, and refuses to load
// if its table of hand-written profiles and SOURCED_PROFILE_NAMES ever disagree.
import { readFileSync } from 'node:fs';

export const DEFAULT_PROFILE = 'skylake-laptop';

/** The hand-written profiles of profiles.ts, in the order PROFILES lists them. */
export const SOURCED_PROFILE_NAMES: readonly string[] = ['skylake-laptop', 'haswell-server', 'zen3-server', 'kvm-guest'];

/** fitted-profiles.json (written by `tlbsim calibrate --fit`, committed), or null in a
 *  checkout from before the first fit. */
export function readFittedProfiles(): { profiles?: Record<string, unknown> } | null {
  let text: string;
  try {
    text = readFileSync(new URL('./fitted-profiles.json', import.meta.url), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return JSON.parse(text) as { profiles?: Record<string, unknown> };
}

/** Every profile name, as Object.keys(PROFILES) lists them. */
export function profileNames(): string[] {
  return [...new Set([...SOURCED_PROFILE_NAMES, ...Object.keys(readFittedProfiles()?.profiles ?? {})])];
}
