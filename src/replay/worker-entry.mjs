// Workers cannot load .ts directly under tsx on Node 20 (docs/tooling.md): register tsx,
// then import the TypeScript worker.
import { register } from 'tsx/esm/api';
register();
await import('./worker.ts');
