// Workers cannot load .ts under tsx on Node 20: this plain .mjs entry registers tsx, then
// imports the TypeScript inflating worker (as src/replay/worker-entry.mjs does for replay).
import { register } from 'tsx/esm/api';
register();
await import('./inflate-worker.ts');
