// `tlbsim aggregate DIR`: the shard files `tlbsim sweep` wrote, read with DuckDB, as summary
// tables (CSV) and one HTML report of strategy x parameter curves.
import type { Command } from 'commander';
import { printSafe } from './util.ts';

export function register(program: Command): void {
  program.command('aggregate')
    .description('read the shard files of a sweep (DuckDB) and write its summary tables (CSV) and HTML report')
    .argument('<dir>', 'the -o directory of tlbsim sweep (shard-*-of-*.parquet)')
    .option('-o, --output <dir>', 'where to write runs.csv, strategies.csv, curves.csv, errors.csv and report.html (default: DIR)')
    .option('--partial', 'aggregate the shards that are there when some are missing')
    .addHelpText('after', `
Examples:
  tlbsim aggregate reports/out/sweep/scaling
  tlbsim aggregate results/ -o summary/ --partial`)
    .action(async (dir: string, opts: { output?: string; partial?: boolean }) => {
      const { aggregate } = await import('../sweep/aggregate.ts');
      const r = await aggregate(dir, { ...(opts.output ? { outDir: opts.output } : {}), partial: opts.partial === true });
      const { join } = await import('node:path');
      process.stderr.write(`aggregate: ${r.files.length} shard files, ${r.tasks} tasks${r.failed ? `, ${r.failed} failed` : ''}\n`);
      printSafe(join(r.outDir, 'report.html'));
    });
}
