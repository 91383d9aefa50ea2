// The names docs/design/cli.md fixes as a contract (strategies, workloads, metrics), in one place for the
// tests that check the registry, the CLI and the API against them.
export const CLI_MD_STRATEGIES = ['linux-4.13', 'pcid-v4-posted', 'linux-4.14', 'linux-4.14-nopcid', 'linux-4.20', 'linux-5.13',
  'async-rfc-2019', 'lazy-shootdown', 'ptsync-targeted', 'linux-6.15-invlpgb', 'linux-6.18', 'linux-6.1', 'linux-6.12', 'linux-7.3'] as const;
