// `tlbsim strategies [--json]`: the registered TLB-flush strategies, oldest kernel first.
import type { Command } from 'commander';
import { bold, red } from './style.ts';
import { builtCatalogues } from './built-catalogues.ts';

export interface StrategyListing { name: string; title: string; kernel: string; description: string; safe: boolean }

/** What `--json` prints (docs/design/cli.md): exactly these five keys, in registry order. */
export async function strategiesListing(): Promise<StrategyListing[]> {
  const { STRATEGIES } = await import('../strategies/index.ts');
  return STRATEGIES.map((s) => ({ name: s.name, title: s.title, kernel: s.kernel, description: s.description, safe: s.safe }));
}

/** Strategy name -> when it is unsafe, for the strategies that say. */
export async function strategiesUnsafeWhen(): Promise<Record<string, string>> {
  const { STRATEGIES } = await import('../strategies/index.ts');
  return Object.fromEntries(STRATEGIES.filter((s) => s.unsafeWhen).map((s) => [s.name, s.unsafeWhen!]));
}

export function strategiesText(list: readonly StrategyListing[], unsafeWhen: ReadonlyMap<string, string>): string {
  const width = Math.max(...list.map((s) => s.name.length));
  const lines: string[] = [];
  for (const s of list) {
    lines.push(`${bold(s.name.padEnd(width))}  ${s.safe ? 'safe  ' : red('UNSAFE')}  ${s.title}`);
    const indent = ' '.repeat(width + 10);
    lines.push(`${indent}${s.description}`);
    lines.push(`${indent}kernel: ${s.kernel}`);
    const when = unsafeWhen.get(s.name);
    if (!s.safe && when) lines.push(`${indent}unsafe when: ${when}`);
  }
  lines.push('');
  lines.push('Choose with `tlbsim replay -s NAME[,NAME...]`; ratios are taken against linux-4.13.');
  return lines.join('\n') + '\n';
}

export function register(program: Command): void {
  program
    .command('strategies')
    .description('list the TLB-flush strategies: name, kernel version or patch series, one line, safe or not')
    .option('--json', 'print [{ name, title, kernel, description, safe }] as JSON')
    .addHelpText('after', '\nExamples:\n  tlbsim strategies\n  tlbsim strategies --json | jq -r \'.[] | select(.safe) | .name\'')
    .action(async (opts: { json?: boolean }) => {
      const built = builtCatalogues();
      const list = built?.strategies ?? await strategiesListing();
      if (opts.json) { process.stdout.write(JSON.stringify(list, null, 2) + '\n'); return; }
      const unsafeWhen = built?.unsafeWhen ?? await strategiesUnsafeWhen();
      process.stdout.write(strategiesText(list, new Map(Object.entries(unsafeWhen))));
    });
}
