// What one isolated copy of the replay engine exports (see isolate.ts): the simulator and
// the strategy registry it takes its strategy from. Nothing else may be imported through
// an isolated copy: its classes are not the main copy's.
export { Simulator } from '../machine/sim.ts';
export { getStrategy } from '../strategies/index.ts';
