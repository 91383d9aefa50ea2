import { openInput } from '/work/wt-report/src/inputs.ts';
import { replay } from '/work/wt-report/src/replay/replay.ts';
import { buildTables } from '/work/wt-report/src/analysis/tables.ts';
const s = await openInput('traces/real/pingpong-512/trace.txt.gz');
const results = await replay(s, { workers: 1 });
const t = buildTables({ inputs: [{ info: s.info, results }] });
for (const [k, v] of Object.entries(t)) console.log(k, v.numRows, JSON.stringify(v.rows().slice(0, 2)).slice(0, 400));
