// Mutated trace-cmd report and perf script files: see mutate.ts.
import { mutationTests } from './mutate.ts';

mutationTests(['trace-cmd', 'perf']);
