// What a workload definition looks like, and the parameter plumbing all of them share.
import type { EventBatch, MmInfo, TaskInfo } from '../trace/event.ts';
import type { BaseCosts } from './costs.ts';

/** A user error in a workload spec: unknown workload or parameter, bad value. The message
 *  is one sentence meant for the command line. */
export class WorkloadError extends Error {
  override name = 'WorkloadError';
}

export type ParamValue = number | string | boolean;
export type WorkloadParams = Record<string, ParamValue>;

export interface ParamSpec {
  name: string;
  default: ParamValue;
  description: string;
  /** int: whole number; number: any finite number; enum: one of `values`; bool: true/false. */
  type: 'int' | 'number' | 'enum' | 'bool';
  min?: number;
  max?: number;
  values?: readonly string[];
}

/** Task and address-space tables of a generated run (known once it has been generated). */
export interface WorkloadTables {
  tasks: TaskInfo[];
  mms: MmInfo[];
}

/** One generated workload: its CPU count and a lazy, repeatable event stream. */
export interface GeneratedWorkload {
  cpus: number;
  /** A fresh stream of batches in time order; every call yields identical events. The
   *  generator's return value is the task and mm tables. Batches are not reused. */
  batches(batchSize?: number): Generator<EventBatch, WorkloadTables, undefined>;
}

export interface WorkloadDefinition {
  /** Name users type (a contract: see docs/design/cli.md). */
  name: string;
  description: string;
  params: readonly ParamSpec[];
  /** What one iteration is (the unit of iteration_ns), e.g. "one round trip: A→B→A". */
  iteration: string;
  /** Checks across parameters after each one is valid; returns an error sentence or null. */
  check?(p: WorkloadParams): string | null;
  generate(p: WorkloadParams, costs: BaseCosts): GeneratedWorkload;
}

/** The two parameters every workload takes. */
export function commonParams(defaultCpus: number, minCpus = 1): ParamSpec[] {
  return [
    { name: 'cpus', default: defaultCpus, type: 'int', min: minCpus, max: 4096,
      description: 'CPUs of the simulated machine' },
    { name: 'seed', default: 1, type: 'int', min: 0, max: Number.MAX_SAFE_INTEGER,
      description: 'seed of the pseudo-random generator (same seed and parameters → identical events)' },
  ];
}

export function num(p: WorkloadParams, name: string): number {
  const v = p[name];
  if (typeof v !== 'number') throw new Error(`internal: parameter ${name} is not a number`);
  return v;
}
export function str(p: WorkloadParams, name: string): string {
  const v = p[name];
  if (typeof v !== 'string') throw new Error(`internal: parameter ${name} is not a string`);
  return v;
}
export function bool(p: WorkloadParams, name: string): boolean {
  const v = p[name];
  if (typeof v !== 'boolean') throw new Error(`internal: parameter ${name} is not a boolean`);
  return v;
}
