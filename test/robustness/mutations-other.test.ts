// Mutated trace-cmd report, perf script and tlbsim CSV files, and random files: see mutate.ts.
import { csvMutationTests, mutationTests, randomFileTests } from './mutate.ts';

mutationTests(['trace-cmd', 'perf']);
csvMutationTests();
randomFileTests();
