/**
 * The bootstrap as a real process against a real API server: ready once its watch synced, it
 * creates a missing preset MeshConfig, leaves a changed one alone, and re-creates a deleted one.
 */
import { freePort, stopChildren } from '../lib/test-processes.js';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MeshConfig } from '../api/types.js';
import { isMeshError } from '../lib/errors.js';
import { doc, ns, startTestMesh } from '../local/apiserver/api-fixtures.js';
import { BOOTSTRAP_ENV, stateFiles } from '../local/layout.js';
import { httpOk } from '../local/runtime/index.js';
import { presetMeshConfig } from './preset-mesh-config.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const children: ChildProcess[] = [];

after(() => stopChildren(children));


async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('keeps the preset MeshConfig in place', async (t) => {
  const mesh = await startTestMesh(t, { controllers: false });
  await mesh.api.apply([ns('tessera-system')], {});
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      [BOOTSTRAP_ENV.apiUrl]: mesh.url, [BOOTSTRAP_ENV.apiToken]: mesh.token, [BOOTSTRAP_ENV.apiCa]: stateFiles.apiCa(mesh.stateDir),
      [BOOTSTRAP_ENV.meshName]: 'tessera', [BOOTSTRAP_ENV.listen]: `127.0.0.1:${port}`,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  // Stop the process before the API server closes (t.after runs before the file's after).
  t.after(async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });

  await until('bootstrap ready (watch synced)', () => httpOk(`http://127.0.0.1:${port}/healthz`));
  const get = () => mesh.api.get('MeshConfig', 'tessera-mesh-config', 'tessera-system').then((r) => r as MeshConfig, (e: unknown) => {
    if (isMeshError(e) && e.code === 'MESH_ERR_NOT_FOUND') return undefined;
    throw e;
  });
  const created = await until('the missing MeshConfig is created', get);
  assert.deepEqual(created.spec, presetMeshConfig('tessera').spec);

  // A user's change is theirs: bootstrap only restores what is missing.
  await mesh.api.patch('MeshConfig', 'tessera-mesh-config', 'tessera-system', { spec: { featureFlags: { enablePluginPolicy: true } } });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await get())?.spec?.featureFlags?.enablePluginPolicy, true);

  await mesh.api.delete('MeshConfig', 'tessera-mesh-config', 'tessera-system');
  const restored = await until('the deleted MeshConfig is re-created', get);
  assert.deepEqual(restored.spec, presetMeshConfig('tessera').spec);
  assert.notEqual(restored.metadata.uid, created.metadata.uid);

  // Other MeshConfigs are not its business.
  await mesh.api.apply([doc({ ...presetMeshConfig('other'), metadata: { name: 'other-mesh-config', namespace: 'tessera-system' } })], {});
  await mesh.api.delete('MeshConfig', 'other-mesh-config', 'tessera-system');
  await new Promise((r) => setTimeout(r, 300));
  await assert.rejects(mesh.api.get('MeshConfig', 'other-mesh-config', 'tessera-system'), /not found/i);
});
