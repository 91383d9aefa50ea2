// Checked against reality: a strategy's predictions vs what the recorded kernel printed.
export { validateRun, validationText, rowAgreement, hasObservedFlushes, hasObservedIpis, ROW } from './rows.ts';
export type { Validation, ValidationRow } from './rows.ts';
export { explainTrace, explainText } from './explain.ts';
export type { Disagreement, ExplainOptions, ExplainResult } from './explain.ts';
