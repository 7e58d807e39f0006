/** serialized(): one pass at a time, and exactly one more for calls made during a pass. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serialized } from './serialized.js';

test('calls during a pass collapse into one more pass', async () => {
  let passes = 0;
  let active = 0;
  let release: (() => void) | undefined;
  const run = serialized(async () => {
    active++;
    assert.equal(active, 1, 'never two passes at once');
    passes++;
    if (passes === 1) await new Promise<void>((r) => (release = r));
    active--;
  });
  const first = run();
  void run();
  void run();
  release!();
  await first;
  assert.equal(passes, 2);
});
