// The default of `replay --uncertainty`, apart from draws.ts (which needs the cost
// profiles): the command line rewrites a bare --uncertainty with it while parsing, before
// anything is replayed.

/** Draws of `replay --uncertainty` when no count is given (the nominal one included). */
export const DEFAULT_DRAWS = 16;
