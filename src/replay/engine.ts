// What one isolated copy of the replay engine exports (see isolate.ts): the simulator. The
// copy's strategy comes from its own file, loaded into the same namespace. Nothing else may
// be imported through an isolated copy: its classes are not the main copy's.
export { Simulator } from '../machine/sim.ts';
