/**
 * The control plane's three Deployments in `<mesh>-system` under an embedded daemon, with the real
 * injector and bootstrap processes: listed by `get deploy`, replaced by `rollout restart` (the
 * seed's root-rotation commands), admitting meshed pods, and restoring a deleted MeshConfig.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Pod, Resource } from '../../api/types.js';
import type { MeshApi } from '../api-contract.js';
import { connectMesh } from '../client/index.js';
import { isPodReady } from '../controllers/index.js';
import { INJECTOR_PORT, injectorAddress, stateFiles } from '../layout.js';
import { httpsOk } from '../runtime/readiness.js';
import { waiter } from '../../lib/test-processes.js';
import { httpOk, reapStale, registerImageRuntime } from '../runtime/index.js';
import { startDaemon, type RunningDaemon } from './index.js';
import { registerStandInController, safeMesh } from './test-support.js';

const waitFor = waiter({ timeoutMs: 10_000 });

const MESH = 'sysdep';
const SYSTEM = `${MESH}-system`;
const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const haveCli = existsSync(CLI);
const run = promisify(execFile);

const dir = mkdtempSync(join(tmpdir(), 'tessera-system-deployments-'));
let daemon: RunningDaemon | undefined;
let api: MeshApi;

before(async () => {
  // Stand-ins for the controller and the sidecar, so this test does not depend on src/control-plane
  // or src/sidecar; the injector and bootstrap are the real processes.
  registerStandInController();
  registerImageRuntime({ name: 'sidecar', matches: (image) => image.startsWith('tessera/sidecar'), command: () => ({ args: [], env: {}, readiness: { kind: 'started' } }) });
  daemon = startDaemon({ stateDir: dir, meshName: MESH, workdir: dir, log: () => {} });
  daemon.done.catch(() => undefined);
  await waitFor('mesh.json with our pid', () => safeMesh(dir)?.pid === process.pid);
  api = await connectMesh(dir);
});

after(async () => {
  try {
    daemon?.shutdown('test over');
    await daemon?.done.catch(() => undefined);
  } finally {
    await reapStale(dir);
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('control-plane deployments', () => {
  it('runs controller, injector and bootstrap as Ready pods, listed by `get deploy`', async () => {
    for (const app of ['controller', 'injector', 'bootstrap']) await readyPod(`${MESH}-${app}`);
    const names = (await api.list({ kind: 'Deployment', namespace: SYSTEM })).map((d) => d.metadata.name).sort();
    assert.deepEqual(names, [`${MESH}-bootstrap`, `${MESH}-controller`, `${MESH}-injector`]);
    // TLS with a certificate of the cluster CA for its address, and nothing else
    assert.ok(await httpsOk(`https://${injectorAddress(safeMesh(dir)!.block)}:${INJECTOR_PORT}/healthz`, stateFiles.apiCa(dir)));
    assert.equal(await httpOk(`http://${injectorAddress(safeMesh(dir)!.block)}:${INJECTOR_PORT}/healthz`), false);
    if (haveCli) {
      const { stdout } = await tessera('get', 'deploy', '-n', SYSTEM);
      for (const n of names) assert.match(stdout, new RegExp(`^${n}\\s`, 'm'));
    }
  });

  it('admits meshed pods through the injector', async () => {
    await api.apply([
      doc({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo', labels: { 'flomesh.io/monitored-by': MESH }, annotations: { 'flomesh.io/sidecar-injection': 'enabled' } } }),
      doc(curlDeployment(1)),
    ], {});
    const pod = await waitFor('a meshed pod', async () => (await api.list({ kind: 'Pod', namespace: 'demo' }))[0] as Pod | undefined);
    assert.deepEqual(pod.spec!.containers.map((c) => c.name), ['curl', 'sidecar']);
  });

  for (const component of ['injector', 'bootstrap']) {
    it(`rollout restart deploy ${MESH}-${component} replaces its pod`, async () => {
      const name = `${MESH}-${component}`;
      const before = await readyPod(name);
      if (haveCli) {
        const { stdout } = await tessera('rollout', 'restart', 'deploy', name, '-n', SYSTEM);
        assert.match(stdout, new RegExp(`deployment.apps/${name} restarted`));
      } else {
        await api.rolloutRestart('Deployment', name, SYSTEM);
      }
      const replaced = await waitFor(`a new Ready ${name} pod and the old one gone`, async () => {
        const pods = await api.list({ kind: 'Pod', namespace: SYSTEM, labelSelector: `app=${name}` });
        const only = pods.length === 1 ? (pods[0] as Pod) : undefined;
        return only && only.metadata.name !== before.metadata.name && isPodReady(only) ? only : undefined;
      }, 30_000);
      assert.notEqual(replaced.metadata.uid, before.metadata.uid);
    });
  }

  it('creates meshed pods after the injector restarted', async () => {
    await api.apply([doc(curlDeployment(2))], {});
    await waitFor('two meshed pods with sidecars', async () => {
      const pods = (await api.list({ kind: 'Pod', namespace: 'demo' })) as Pod[];
      return pods.length === 2 && pods.every((p) => p.spec!.containers.some((c) => c.name === 'sidecar'));
    }, 20_000);
  });

  it('the (restarted) bootstrap re-creates a deleted MeshConfig', async () => {
    const before = await api.get('MeshConfig', `${MESH}-mesh-config`, SYSTEM);
    await api.delete('MeshConfig', `${MESH}-mesh-config`, SYSTEM);
    const back = await waitFor('the MeshConfig back', () => api.get('MeshConfig', `${MESH}-mesh-config`, SYSTEM).catch(() => undefined));
    assert.notEqual(back.metadata.uid, before.metadata.uid);
    assert.deepEqual(back.spec, before.spec);
  });
});

function curlDeployment(replicas: number): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'curl', namespace: 'demo' },
    spec: {
      replicas, selector: { matchLabels: { app: 'curl' } },
      template: { metadata: { labels: { app: 'curl' } }, spec: { containers: [{ name: 'curl', image: 'curlimages/curl', command: ['sleep', '365d'] }] } },
    },
  };
}

let docIndex = 0;
function doc(object: Record<string, unknown>) {
  return { source: 'test.yaml', index: ++docIndex, line: 1, object };
}

function tessera(...args: string[]) {
  return run(process.execPath, [CLI, ...args, '--state', dir], { timeout: 30_000 });
}

async function readyPod(app: string): Promise<Pod> {
  return waitFor(`a Ready ${app} pod`, async () => {
    const pods = (await api.list({ kind: 'Pod', namespace: SYSTEM, labelSelector: `app=${app}` })) as Resource[];
    return pods.find(isPodReady) as Pod | undefined;
  }, 20_000);
}
