// The names docs/design/cli.md makes a contract: metric names and strategy names. Every metric is
// declared once with a unit and a meaning; every strategy names the kernel version or
// series it models, and an unsafe one says when it is unsafe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KEY_METRICS, METRICS, METRIC_NAMES } from '../../src/machine/metrics.ts';
import { STRATEGIES, STRATEGY_NAMES } from '../../src/strategies/index.ts';
import { CLI_MD_STRATEGIES } from '../contract-names.ts';

test('the metric names of docs/design/cli.md are declared once, with a unit and a meaning', () => {
  const required = ['context_switches', 'cr3_writes', 'cr3_flushes', 'full_flushes', 'page_flushes', 'flush_requests',
    'ipis_sent', 'ipis_to_lazy', 'ipis_to_stale', 'tlb_misses', 'atomic_ops', 'initiator_wait_ns', 'overhead_ns',
    'coherence_violations', 'iteration_ns'];
  for (const n of required) assert.ok(METRIC_NAMES.includes(n as never), n);
  assert.equal(new Set(METRIC_NAMES).size, METRIC_NAMES.length, 'no metric declared twice');
  for (const m of METRICS) {
    assert.match(m.name, /^[a-z][a-z0-9_]*$/, m.name);
    assert.ok(['count', 'ns', 'pages'].includes(m.unit), m.name);
    assert.ok(m.meaning.length > 20, m.name);
    if (m.name.endsWith('_ns')) assert.equal(m.unit, 'ns', m.name);
  }
  assert.ok(KEY_METRICS.length > 0);
});

test('the strategy names of docs/design/cli.md, each naming its kernel version or series', () => {
  // docs/design/cli.md's names stay (renaming none); a new strategy is added by its registry entry alone.
  for (const n of CLI_MD_STRATEGIES) assert.ok(STRATEGY_NAMES.includes(n), n);
  assert.equal(new Set(STRATEGY_NAMES).size, STRATEGY_NAMES.length, 'no strategy registered twice');
  for (const s of STRATEGIES) {
    // A version (v4.13, 4.20, 6.3 ...) or a dated series.
    assert.match(s.kernel, /(v?\d\.\d+|20\d\d)/, s.name);
    assert.ok(s.title.length > 0 && s.description.length > 0, s.name);
    if (!s.safe) assert.ok(s.unsafeWhen && s.unsafeWhen.length > 20, `${s.name} says when it is unsafe`);
  }
  // The two known-unsafe designs are marked so.
  assert.deepEqual(STRATEGIES.filter((s) => !s.safe).map((s) => s.name).sort(), ['async-rfc-2019', 'pcid-v4-posted']);
});
