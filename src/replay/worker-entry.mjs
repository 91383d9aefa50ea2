// Workers cannot load .ts under tsx on Node 20, not even with execArgv ['--import', 'tsx']:
// this plain .mjs entry registers tsx, then imports the TypeScript worker.
import { register } from 'tsx/esm/api';
register();
await import('./worker.ts');
