/** The supervisor with a real store and real processes: Ready, crash restart, delete, sidecar gating. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Container, Pod } from '../../api/types.js';
import { alive, waiter } from '../../lib/test-processes.js';
import { leaseMeshBlock, releaseMeshBlock } from '../mesh-file.js';
import { localIPFor, podIPFor, stateFiles } from '../layout.js';
import { openStore, type ResourceStore } from '../store/index.js';
import { registerImageRuntime, startSupervisor, type Supervisor } from './index.js';
import { pidFile } from './processes.js';

/** A tiny app: answers with its env on $HOST:$PORT. */
const SERVER_JS = `require('http').createServer((q, s) => s.end(JSON.stringify({ proxy: process.env.http_proxy ?? null, marker: process.env.TESSERA_STATE_DIR })))
  .listen(+process.env.PORT, process.env.HOST)`;

function appContainer(name: string, port: number): Container {
  return {
    name, image: 'example/app', ports: [{ containerPort: port }],
    env: [{ name: 'NODE_BIN', value: process.execPath }, { name: 'SERVER_JS', value: SERVER_JS }],
  };
}

const COMMAND = 'exec "$NODE_BIN" -e "$SERVER_JS"';

const waitFor = waiter({ timeoutMs: 15_000, pollMs: 50 });

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject).end();
  });
}

describe('supervisor', () => {
  let stateDir: string;
  let block: number;
  let store: ResourceStore;
  let supervisor: Supervisor | undefined;
  const logs: string[] = [];

  before(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'tessera-supervisor-'));
    block = leaseMeshBlock(stateDir);
    store = openStore(stateDir);
    supervisor = startSupervisor({ store, stateDir, meshName: 'test', block, meshKey: 'aa'.repeat(32), workdir: stateDir, log: (l) => logs.push(l) });
  });

  after(async () => {
    await supervisor?.stop();
    releaseMeshBlock(stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  });

  const podOf = (name: string) => store.get({ kind: 'Pod', namespace: 'demo', name }) as Pod | undefined;
  const condition = (pod: Pod | undefined, type: string) => pod?.status?.conditions?.find((c) => c.type === type)?.status;

  function createPod(name: string, n: number, containers: Container[], extra: { annotations?: Record<string, string>; labels?: Record<string, string> } = {}): string {
    const podIP = podIPFor(block, n);
    store.transact([{
      op: 'put',
      object: {
        apiVersion: 'v1', kind: 'Pod',
        metadata: {
          name, namespace: 'demo', labels: extra.labels ?? {},
          annotations: { 'local.tessera.dev/app-address': localIPFor(podIP), ...extra.annotations },
        },
        spec: { containers },
        status: { phase: 'Pending', podIP, podIPs: [{ ip: podIP }] },
      },
    }]);
    return podIP;
  }

  it('runs a local-command container until the pod is Ready, keeping podIP', async () => {
    const podIP = createPod('web-1', 0, [appContainer('web', 8080)], { annotations: { 'local.tessera.dev/command': COMMAND } });
    const pod = await waitFor('web-1 Ready', () => condition(podOf('web-1'), 'Ready') === 'True' && podOf('web-1'));
    assert.equal(pod.status?.phase, 'Running');
    assert.equal(pod.status?.podIP, podIP);
    assert.deepEqual(pod.status?.podIPs, [{ ip: podIP }]);
    assert.ok(pod.status?.startTime);
    assert.deepEqual(pod.status?.conditions?.map((c) => c.type), ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']);
    assert.ok(pod.status?.conditions?.every((c) => c.lastTransitionTime));
    const [cs] = pod.status?.containerStatuses ?? [];
    assert.equal(cs?.name, 'web');
    assert.equal(cs?.image, 'example/app');
    assert.equal(cs?.ready, true);
    assert.equal(cs?.restartCount, 0);
    assert.ok(cs?.state?.running?.startedAt);
    const body = JSON.parse(await get(`http://${localIPFor(podIP)}:8080/`)) as { proxy: string | null; marker: string };
    assert.equal(body.proxy, null);
    assert.equal(body.marker, stateDir);
    assert.ok(existsSync(stateFiles.containerLog(stateDir, 'demo', 'web-1', 'web')));
  });

  it('restarts a crashed container and counts it', async () => {
    const pid = Number(readFileSync(pidFile(stateDir, 'demo', 'web-1', 'web'), 'utf8'));
    process.kill(-pid, 'SIGKILL');
    await waitFor('web-1 not Ready', () => condition(podOf('web-1'), 'Ready') === 'False');
    const pod = await waitFor('web-1 restarted', () => {
      const p = podOf('web-1');
      return condition(p, 'Ready') === 'True' && p?.status?.containerStatuses?.[0]?.restartCount === 1 && p;
    });
    assert.equal(pod.status?.containerStatuses?.[0]?.ready, true);
    const newPid = Number(readFileSync(pidFile(stateDir, 'demo', 'web-1', 'web'), 'utf8'));
    assert.notEqual(newPid, pid);
    assert.ok(logs.some((l) => l.includes('exited') && l.includes('restarting in 1s')));
  });

  it('stops the processes of a deleted pod', async () => {
    const pid = Number(readFileSync(pidFile(stateDir, 'demo', 'web-1', 'web'), 'utf8'));
    assert.ok(alive(pid));
    store.transact([{ op: 'delete', key: { kind: 'Pod', namespace: 'demo', name: 'web-1' } }]);
    await waitFor('process gone', () => !alive(pid));
    await waitFor('pod dir removed', () => !existsSync(stateFiles.podDir(stateDir, 'demo', 'web-1')));
  });

  it('marks a curl container running and ready without a process', async () => {
    createPod('curl-1', 1, [{ name: 'curl', image: 'curlimages/curl', command: ['sleep', '365d'] }]);
    const pod = await waitFor('curl-1 Ready', () => condition(podOf('curl-1'), 'Ready') === 'True' && podOf('curl-1'));
    assert.equal(pod.status?.containerStatuses?.[0]?.started, true);
    assert.ok(!existsSync(pidFile(stateDir, 'demo', 'curl-1', 'curl')));
  });

  it('holds app containers until the sidecar is ready, then points them at its proxy', async () => {
    // A stand-in sidecar: answers /ready on the pod IP's admin port, only after a delay.
    registerImageRuntime({
      name: 'sidecar',
      matches: (image) => image === 'tessera/sidecar',
      command: (ctx) => ({
        command: process.execPath,
        args: ['-e', `setTimeout(() => require('http').createServer((q, s) => s.end('ok')).listen(15000, '${ctx.podIP}'), 1500)`],
        env: {},
        readiness: { kind: 'http', url: `http://${ctx.podIP}:15000/ready` },
      }),
    });
    const podIP = createPod('meshed-1', 2, [appContainer('app', 9090), { name: 'sidecar', image: 'tessera/sidecar' }], {
      annotations: { 'local.tessera.dev/command-app': COMMAND },
    });
    const held = await waitFor('app held', () => {
      const statuses = podOf('meshed-1')?.status?.containerStatuses;
      return statuses?.find((c) => c.name === 'sidecar')?.started && statuses.find((c) => c.name === 'app');
    });
    assert.equal(held.state?.waiting?.reason, 'PodInitializing');
    await waitFor('meshed-1 Ready', () => condition(podOf('meshed-1'), 'Ready') === 'True');
    const body = JSON.parse(await get(`http://${localIPFor(podIP)}:9090/`)) as { proxy: string };
    assert.equal(body.proxy, `http://${localIPFor(podIP)}:15001`);
  });

  it('runs an httpbin image as the bundled httpbin on the pod address', async () => {
    const podIP = createPod('httpbin-1', 3, [{
      name: 'httpbin', image: 'flomesh/httpbin:ken', command: ['gunicorn', '-b', '0.0.0.0:14001', 'httpbin:app', '-k', 'gevent'],
      ports: [{ containerPort: 14001 }],
    }]);
    await waitFor('httpbin-1 Ready', () => condition(podOf('httpbin-1'), 'Ready') === 'True');
    const body = JSON.parse(await get(`http://${localIPFor(podIP)}:14001/get`)) as { url: string };
    assert.match(body.url, /\/get$/);
    store.transact([{ op: 'delete', key: { kind: 'Pod', namespace: 'demo', name: 'httpbin-1' } }]);
  });

  it('stops every process on stop()', async () => {
    const pids = ['app', 'sidecar'].map((c) => Number(readFileSync(pidFile(stateDir, 'demo', 'meshed-1', c), 'utf8')));
    assert.ok(pids.every(alive));
    await supervisor?.stop();
    supervisor = undefined;
    assert.ok(pids.every((p) => !alive(p)));
  });
});
