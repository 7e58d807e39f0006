/** `npm start`'s walkthrough: every step gives the answer the seed's IAM demo shows. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runQuickstart } from '../../src/quickstart/index.js';
import { down } from '../../src/local/index.js';
import { REPO_ROOT } from '../support/mesh.js';

const stateDir = mkdtempSync(join(tmpdir(), 'tessera-quickstart-'));
after(async () => {
  await down(stateDir, () => undefined).catch(() => undefined);
  rmSync(stateDir, { recursive: true, force: true });
});

test('the IAM quickstart gives 200 / 401 / 200 / 200 and prints each step', async () => {
  const lines: string[] = [];
  const results = await runQuickstart({ stateDir, meshName: 'tessera', dir: join(REPO_ROOT, 'examples', 'iam'), out: (l) => lines.push(l), wait: false });
  assert.deepEqual(
    results.map((r) => [r.step, r.status]),
    [
      ['baseline, no plugins', 200],
      ['protected path without a token', 401],
      ['unprotected path', 200],
      ['protected path with the injected token', 200],
    ],
  );
  const text = lines.join('\n');
  assert.match(text, /HTTP\/1\.1 401 Unauthorized/);
  assert.match(text, /deployment\.apps\/httpbin created/);
  assert.match(text, /All steps gave the expected answers\./);
});
