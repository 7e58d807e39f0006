/**
 * The daemon: system objects, the mesh-name guard, an embedded run with a stand-in control plane,
 * and a real `up --detach` / `down` round trip once the CLI, API server and control plane are built.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Deployment } from '../../api/types.js';
import { isMeshError } from '../../lib/errors.js';
import { CONTROLLER_PORT, controllerAddress, stateFiles, type MeshFile } from '../layout.js';
import { readMeshFile } from '../mesh-file.js';
import { alive, waiter } from '../../lib/test-processes.js';
import { httpOk, reapStale } from '../runtime/index.js';
import { openStore } from '../store/index.js';
import { connectMesh } from '../client/index.js';
import { down, startDaemon, systemObjects, up } from './index.js';
import { ensureSystemObjects, meshNamesInStore } from './system-objects.js';
import { registerStandInController, safeMesh } from './test-support.js';

const waitFor = waiter({ timeoutMs: 20_000 });

const built = (rel: string) => existsSync(fileURLToPath(new URL(rel, import.meta.url)));
const haveApiServer = built('../apiserver/index.js');
const haveDetachedStack = haveApiServer && built('../../cli/main.js') && built('../../control-plane/main.js');

const dirs: string[] = [];
function tempState(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-daemon-'));
  dirs.push(dir);
  return dir;
}

after(async () => {
  for (const dir of dirs) {
    // Whatever a failed test left running (detached daemon, pods) is ours to stop.
    if (haveApiServer) await down(dir, () => {}).catch(() => undefined);
    await reapStale(dir);
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('system objects', () => {
  it('creates the mesh namespace, MeshConfig and control plane, but never overwrites them', () => {
    const dir = tempState();
    const store = openStore(dir);
    assert.deepEqual(ensureSystemObjects(store, 'blue'), [
      'Namespace/blue-system', 'MeshConfig/blue-mesh-config',
      'ServiceAccount/blue-controller', 'Deployment/blue-controller',
      'ServiceAccount/blue-injector', 'Deployment/blue-injector',
      'ServiceAccount/blue-bootstrap', 'Deployment/blue-bootstrap',
      // each component's least-privilege RBAC, as tessera install gives it on a cluster
      'ClusterRole/blue-controller', 'ClusterRole/blue-injector', 'ClusterRoleBinding/blue-controller', 'ClusterRoleBinding/blue-injector',
      'Role/blue-bootstrap', 'Role/blue-controller', 'RoleBinding/blue-bootstrap', 'RoleBinding/blue-controller',
    ]);
    const mc = store.get({ kind: 'MeshConfig', namespace: 'blue-system', name: 'blue-mesh-config' })!;
    assert.equal(mc.apiVersion, 'config.flomesh.io/v1alpha3');
    assert.deepEqual(mc.spec, {
      featureFlags: { enablePluginPolicy: false },
      traffic: { enablePermissiveTrafficPolicyMode: true, enableEgress: true },
      sidecar: { logLevel: 'error' },
    });
    const changed = { ...mc, spec: { ...(mc.spec as object), featureFlags: { enablePluginPolicy: true } } };
    store.transact([{ op: 'put', object: changed }]);
    assert.deepEqual(ensureSystemObjects(store, 'blue'), []);
    const after = store.get({ kind: 'MeshConfig', namespace: 'blue-system', name: 'blue-mesh-config' })!;
    assert.deepEqual((after.spec as { featureFlags: unknown }).featureFlags, { enablePluginPolicy: true });
    const deployments = systemObjects('blue').filter((o) => o.kind === 'Deployment') as Deployment[];
    assert.deepEqual(deployments.map((d) => [d.metadata.name, d.metadata.labels, d.spec!.replicas, d.spec!.template.spec.containers[0]!.image]), [
      ['blue-controller', { app: 'blue-controller' }, 1, 'tessera/controller'],
      ['blue-injector', { app: 'blue-injector' }, 1, 'tessera/injector'],
      ['blue-bootstrap', { app: 'blue-bootstrap' }, 1, 'tessera/bootstrap'],
    ]);
  });

  it('adds the injector and bootstrap to a state directory created before they existed', () => {
    const dir = tempState();
    const store = openStore(dir);
    const older = systemObjects('blue').filter((o) => !/-(injector|bootstrap)$/.test(o.metadata.name));
    store.transact(older.map((object) => ({ op: 'put' as const, object })));
    assert.deepEqual(ensureSystemObjects(store, 'blue'), [
      'ServiceAccount/blue-injector', 'Deployment/blue-injector', 'ServiceAccount/blue-bootstrap', 'Deployment/blue-bootstrap',
      'ClusterRole/blue-injector', 'ClusterRoleBinding/blue-injector', 'Role/blue-bootstrap', 'RoleBinding/blue-bootstrap',
    ]);
  });
});

describe('mesh name guard', () => {
  it('refuses to run a different mesh over an existing state directory', async () => {
    const dir = tempState();
    ensureSystemObjects(openStore(dir), 'blue');
    const daemon = startDaemon({ stateDir: dir, meshName: 'green', workdir: dir, log: () => {} });
    await assert.rejects(daemon.done, (e: unknown) => {
      assert.ok(isMeshError(e));
      assert.equal(e.code, 'MESH_ERR_MESH_NAME_MISMATCH');
      assert.match(e.message, /holds mesh "blue", not "green"/);
      return true;
    });
  });

  it('a mesh installed into the API (tessera install\'s labelled MeshConfig) is not the local mesh', () => {
    const dir = tempState();
    const store = openStore(dir);
    ensureSystemObjects(store, 'blue');
    store.transact([{ op: 'put', object: {
      apiVersion: 'config.flomesh.io/v1alpha3', kind: 'MeshConfig',
      metadata: { name: 'fsm-mesh-config', namespace: 'fsm-system', labels: { 'app.kubernetes.io/part-of': 'tessera', 'app.kubernetes.io/instance': 'fsm' } },
    } as never }]);
    assert.deepEqual(meshNamesInStore(store), ['blue']);
  });

  it('refuses when mesh.json names another mesh', async () => {
    const dir = tempState();
    const mesh: Partial<MeshFile> = { meshName: 'blue', block: 9, apiUrl: 'http://127.9.0.1:15080', apiToken: 'x', workdir: dir, startedAt: '' };
    writeFileSync(stateFiles.mesh(dir), JSON.stringify(mesh));
    await assert.rejects(startDaemon({ stateDir: dir, meshName: 'green', workdir: dir, log: () => {} }).done, /holds mesh "blue"/);
  });
});

describe('embedded daemon', { skip: haveApiServer ? false : 'src/local/apiserver is not built yet' }, () => {
  before(() => {
    // A stand-in control plane, so this test does not depend on src/control-plane being built.
    registerStandInController();
  });

  it('serves the API, runs the control-plane pod, refuses a second up, and stops on shutdown', async () => {
    const dir = tempState();
    const lines: string[] = [];
    const daemon = startDaemon({ stateDir: dir, meshName: 'embedded', workdir: dir, log: (l) => lines.push(l) });
    daemon.done.catch(() => undefined);
    try {
      const mesh = await waitFor('mesh.json with our pid', () => {
        const m = safeMesh(dir);
        return m?.pid === process.pid ? m : undefined;
      });
      assert.equal(mesh.meshName, 'embedded');
      assert.equal(mesh.workdir, dir);
      assert.match(mesh.apiUrl, new RegExp(`^https://127\\.${mesh.block}\\.0\\.1:15080`));
      await waitFor('control plane healthy', async () => httpOk(`http://${controllerAddress(mesh.block)}:${CONTROLLER_PORT}/healthz`));
      const store = openStore(dir); // a second reader of the same file: only for checking what was written
      assert.ok(store.get({ kind: 'Deployment', namespace: 'embedded-system', name: 'embedded-controller' }));

      await assert.rejects(up({ stateDir: dir, meshName: 'embedded', files: [], detach: true, log: () => {} }), (e: unknown) => {
        assert.ok(isMeshError(e));
        assert.equal(e.code, 'MESH_ERR_MESH_RUNNING');
        assert.equal(e.message, `a mesh is already running in ${dir} (pid ${process.pid}); run \`tessera down\` first`);
        return true;
      });
    } finally {
      daemon.shutdown('test over');
      await daemon.done;
    }
    const stopped = readMeshFile(dir)!;
    assert.equal(stopped.pid, undefined, 'mesh.json keeps everything but the pid');
    assert.equal(stopped.meshName, 'embedded');
    assert.equal(await httpOk(`http://${controllerAddress(stopped.block)}:${CONTROLLER_PORT}/healthz`), false);
    assert.ok(lines.some((l) => l.includes('mesh "embedded" stopped')));
  });
  it('up in the foreground reports progress, says it is up, and returns after shutdown', async () => {
    const dir = tempState();
    const lines: string[] = [];
    const running = up({ stateDir: dir, meshName: 'fg', files: [], detach: false, log: (l) => lines.push(l) });
    running.catch(() => undefined);
    const upLine = await waitFor('the "is up" line', () => lines.find((l) => l.startsWith('mesh "fg" is up')));
    const mesh = readMeshFile(dir)!;
    assert.equal(upLine, `mesh "fg" is up (state ${dir}, API ${mesh.apiUrl}); press Ctrl-C to stop`);
    assert.ok(lines.includes('control plane is ready'));
    await (await connectMesh(dir)).shutdown();
    await running;
    assert.equal(readMeshFile(dir)?.pid, undefined);
  });
});

describe('detached round trip', { skip: haveDetachedStack ? false : 'the CLI, API server or control plane is not built yet' }, () => {
  it('up --detach returns once ready; down stops the daemon and every pod', async () => {
    const dir = tempState();
    const lines: string[] = [];
    await up({ stateDir: dir, meshName: 'roundtrip', files: [], detach: true, log: (l) => lines.push(l) });
    const mesh = readMeshFile(dir)!;
    assert.ok(mesh.pid && mesh.pid !== process.pid);
    assert.ok(await connectMesh(dir).then(() => true), 'the API answers with this mesh\'s certificate');
    assert.ok(existsSync(stateFiles.kubeconfig(dir)), 'up wrote the kubeconfig');
    assert.ok(lines.some((l) => l === `mesh "roundtrip" is up (state ${dir}, API ${mesh.apiUrl})`));
    const controllerPid = Number(readFileSync(join(dir, 'pods', 'roundtrip-system', podDirName(dir), 'controller.pid'), 'utf8'));

    await down(dir, (l) => lines.push(l));
    assert.equal(alive(mesh.pid), false);
    assert.equal(alive(controllerPid), false);
    assert.equal(readMeshFile(dir)?.pid, undefined);
    await down(dir, (l) => lines.push(l));
    assert.ok(lines.includes(`no mesh is running in ${dir}`));
  });
});

/** The controller pod's directory name (its name is generated; injector and bootstrap pods sit beside it). */
function podDirName(dir: string): string {
  return readdirSync(join(dir, 'pods', 'roundtrip-system')).find((p) => p.startsWith('roundtrip-controller-')) ?? '';
}
