// `tlbsim workloads [--json]`: the synthetic workload generators and their parameters.
import type { Command } from 'commander';
import type { ParamSpec } from '../workloads/types.ts';
import { builtCatalogues } from './built-catalogues.ts';

/** One workload as `--json` lists it (describeWorkload in src/workloads/index.ts). */
export interface WorkloadListing { name: string; description: string; iteration: string; params: ParamSpec[] }

/** Every workload, in registry order, as `--json` lists it. */
export async function workloadListings(): Promise<WorkloadListing[]> {
  const { listWorkloads, describeWorkload } = await import('../workloads/index.ts');
  return listWorkloads().map(describeWorkload);
}

/** The listing as printed: JSON ([{ name, description, iteration, params }], docs/design/cli.md) or text. */
export async function workloadsListing(json: boolean): Promise<string> {
  const list = builtCatalogues()?.workloads ?? await workloadListings();
  if (json) return JSON.stringify(list, null, 2) + '\n';
  const lines: string[] = [];
  for (const w of list) {
    lines.push(`${w.name}`);
    lines.push(`  ${w.description}`);
    lines.push(`  iteration: ${w.iteration}`);
    const width = Math.max(...w.params.map((p) => `${p.name}=${String(p.default)}`.length));
    for (const p of w.params) {
      const choices = p.type === 'enum' ? ` (${(p.values ?? []).join('|')})` : '';
      lines.push(`    ${`${p.name}=${String(p.default)}`.padEnd(width)}  ${p.description}${choices}`);
    }
    lines.push('');
  }
  lines.push('Use as an input: workload:NAME[:key=value,...], e.g. workload:ping-pong:pages=512');
  return lines.join('\n') + '\n';
}

export function register(program: Command): void {
  program
    .command('workloads')
    .description('list the synthetic workload generators and their parameters')
    .option('--json', 'print [{ name, description, iteration, params }] as JSON')
    .addHelpText('after', [
      '',
      'Examples:',
      '  tlbsim workloads',
      '  tlbsim workloads --json | jq -r \'.[] | "\\(.name): \\([.params[].name] | join(", "))"\'',
      '  tlbsim generate ping-pong --set pages=512 -o pingpong.txt',
    ].join('\n'))
    .action(async (opts: { json?: boolean }) => {
      process.stdout.write(await workloadsListing(opts.json === true));
    });
}
