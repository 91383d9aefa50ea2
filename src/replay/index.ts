export { replay, type ReplayOptions, type ReplayProgress } from './replay.ts';
export type { RunResult, FlushClassCounts, ViolationRecord } from '../machine/result.ts';
