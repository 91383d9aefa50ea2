// Mutated ftrace files (with and without the TGID column): see mutate.ts.
import { mutationTests } from './mutate.ts';

mutationTests(['ftrace', 'ftrace-tgid']);
