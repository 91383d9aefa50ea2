// Regenerates the calibration table of calibration.md from the simulator: published vs
// simulated ratios between strategies, with the default profile (or --profile NAME), as
// Markdown on stdout or into a file (-o FILE). Rerun it after changing a cost or a strategy.
//
//   node --import tsx reports/calibration.ts [--profile NAME] [-o reports/out/calibration.md]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { calibrate, calibrationMarkdown } from '../src/calibrate/index.ts';
import { getProfile } from '../src/machine/profiles.ts';

const { values } = parseArgs({
  options: {
    profile: { type: 'string' },
    o: { type: 'string', short: 'o' },
  },
});

const profile = getProfile(values.profile);
const result = await calibrate({ profile });
const passed = result.rows.filter((r) => r.pass).length;
const doc = [
  `# Calibration: published vs simulated (profile ${result.profile})`,
  '',
  'Published numbers: Andy Lutomirski, "[PATCH v4 00/10] PCID and improved laziness", 2017-06-29. '
    + 'Ratios are strategy ÷ baseline for the same benchmark; a row passes when the simulated ratio is '
    + `within ±${(result.tolerance * 100).toFixed(0)}% of the published one. One profile for all rows; nothing is fitted per row.`,
  '',
  calibrationMarkdown(result).trimEnd(),
  '',
  `${passed} of ${result.rows.length} rows within tolerance.`,
  '',
].join('\n');

if (values.o) {
  mkdirSync(dirname(values.o), { recursive: true });
  writeFileSync(values.o, doc);
  process.stderr.write(`wrote ${values.o}\n`);
} else {
  process.stdout.write(doc);
}
