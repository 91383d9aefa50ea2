// openTrace reports how far it has read, so the CLI can show a progress bar on big traces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { openTrace } from '../../src/trace/index.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

for (const rel of ['traces/real/pingpong-0/trace.txt.gz', 'test/corpus/crlf-line-ends.txt']) {
  test(`${rel}: progress rises to the file size, in file bytes`, async () => {
    const path = join(ROOT, rel);
    const seen: [number, number][] = [];
    const t = await openTrace(path, { cache: false, onProgress: (done, total) => seen.push([done, total]) });
    t.close();
    const size = statSync(path).size;
    assert.ok(seen.length > 0);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i][0] >= seen[i - 1][0], 'never goes back');
    assert.ok(seen.every(([, total]) => total === size));
    assert.equal(seen[seen.length - 1][0], size);
  });
}
