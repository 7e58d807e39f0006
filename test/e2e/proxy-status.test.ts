/**
 * Convergence you can see: `tessera proxy status` lists every proxy SYNCED once the mesh settles;
 * a sidecar frozen with SIGSTOP (one this test's mesh started) shows STALE after a change it cannot
 * acknowledge while the others stay SYNCED, and SYNCED again once it runs; the controller's
 * /metrics times each proxy's ACK (tessera_proxy_convergence_seconds).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployDemo } from '../support/deploy.js';
import { eventually, podOf, startMesh, type TestMesh } from '../support/mesh.js';
import { CONTROLLER_PORT } from '../../src/local/layout.js';
import { STALE_AFTER_MS } from '../../src/control-plane/index.js';

interface Row {
  namespace: string;
  pod: string;
  sync: string;
  sentVersion?: string;
  appliedVersion?: string;
  ackedAt?: string;
}

const DENY_NOTHING = `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: { name: deny-nothing, namespace: httpbin }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/never-requested"] } }] }]
`;

/**
 * A plugin admission accepts (it compiles) but that throws as the sidecar loads it: the curl sidecar
 * rejects the snapshot that mounts it (a NACK) and keeps serving the one before.
 */
const THROWING_PLUGIN = `kind: Plugin
apiVersion: plugin.flomesh.io/v1alpha1
metadata: { name: throws-on-load }
spec:
  priority: 115
  script: |
    import { definePlugin } from 'tessera/plugin';
    if (Date.now() > 0) throw new Error('this plugin refuses to load');
    export default definePlugin({ onRequest() {} });
---
kind: PluginChain
apiVersion: plugin.flomesh.io/v1alpha1
metadata: { name: throws-on-load, namespace: curl }
spec:
  chains: [{ name: outbound-http, plugins: [throws-on-load] }]
  selectors: { podSelector: { matchLabels: { app: curl } } }
`;

describe('tessera proxy status', () => {
  let mesh: TestMesh;
  /** the process group of a sidecar this test stopped, resumed in `after` whatever happened */
  let stopped: number | undefined;

  const rows = async (): Promise<Row[]> => {
    const r = await mesh.tessera(['proxy', 'status', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Row[];
  };
  const metrics = async (): Promise<string> => {
    const ctl = (await mesh.sh(`tessera get pod -n fsm-system -o jsonpath='{.items[*].metadata.name}'`)).stdout.split(' ').find((n) => n.startsWith('fsm-controller'));
    assert.ok(ctl, 'the controller pod');
    const r = await mesh.sh(`kubectl get --raw /api/v1/namespaces/fsm-system/pods/${ctl}:${CONTROLLER_PORT}/proxy/metrics`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^# TYPE tessera_proxy_convergence_seconds histogram$/m);
    assert.match(r.stdout, /^tessera_proxy_nacks_total \d+$/m);
    return r.stdout;
  };
  const convergenceCount = async (): Promise<number> => Number(/^tessera_proxy_convergence_seconds_count (\d+)$/m.exec(await metrics())?.[1]);
  const nackCount = async (): Promise<number> => Number(/^tessera_proxy_nacks_total (\d+)$/m.exec(await metrics())?.[1]);

  before(async () => {
    mesh = await startMesh('fsm');
    await deployDemo(mesh);
  });
  after(async () => {
    if (stopped !== undefined) process.kill(-stopped, 'SIGCONT');
    await mesh?.stop();
  });

  test('every proxy SYNCED after start, as a table and as JSON; the controller timed their ACKs', async () => {
    const synced = await eventually(async () => {
      const got = await rows();
      return got.length >= 2 && got.every((p) => p.sync === 'SYNCED') ? got : undefined;
    }, 30_000, 'every proxy SYNCED');
    assert.deepEqual(synced.map((p) => p.namespace), ['curl', 'httpbin'], 'sorted by namespace, then pod');
    for (const p of synced) {
      assert.equal(p.appliedVersion, p.sentVersion);
      assert.ok(p.ackedAt && !Number.isNaN(Date.parse(p.ackedAt)), 'last ACK time');
    }
    const table = await mesh.tessera(['proxy', 'status']);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAMESPACE\s+POD\s+SYNC\s+SENT\s+APPLIED\s+LAST-ACK\s+ERROR$/);
    assert.equal(lines.length, 3);
    for (const [i, p] of synced.entries()) {
      assert.match(lines[i + 1]!, new RegExp(`^${p.namespace}\\s+${p.pod}\\s+SYNCED\\s+${p.sentVersion!.slice(0, 12)}\\s+${p.appliedVersion!.slice(0, 12)}\\s+\\S+ ago\\s+-$`));
    }
    assert.ok((await convergenceCount()) >= 2, 'one convergence observation per proxy at least');
  });

  test('a stopped sidecar is STALE after a change, the others stay SYNCED; it converges once resumed', async () => {
    const httpbin = await podOf(mesh, 'httpbin', 'httpbin');
    const before = await convergenceCount();
    const pid = Number(readFileSync(join(mesh.stateDir, 'pods', 'httpbin', httpbin.name, 'sidecar.pid'), 'utf8').trim());
    assert.ok(pid > 0, 'the sidecar pid this mesh wrote');
    process.kill(-pid, 'SIGSTOP');
    stopped = pid;
    const applied = await mesh.tessera(['apply', '-f', '-'], { input: DENY_NOTHING });
    assert.equal(applied.code, 0, applied.stderr);
    const stale = await eventually(async () => {
      const got = await rows();
      const h = got.find((p) => p.pod === httpbin.name);
      return h?.sync === 'STALE' ? got : undefined;
    }, STALE_AFTER_MS + 20_000, 'the stopped sidecar STALE');
    const h = stale.find((p) => p.pod === httpbin.name)!;
    assert.notEqual(h.sentVersion, h.appliedVersion, 'sent a version it has not acknowledged');
    for (const p of stale.filter((q) => q.pod !== httpbin.name)) assert.equal(p.sync, 'SYNCED', `${p.namespace}/${p.pod}`);
    const table = await mesh.tessera(['proxy', 'status']);
    assert.equal(table.code, 0, 'STALE is a state to report, not a failure of the command');
    assert.match(table.stdout, new RegExp(`^httpbin\\s+${httpbin.name}\\s+STALE\\s`, 'm'));

    process.kill(-pid, 'SIGCONT');
    stopped = undefined;
    await eventually(async () => (await rows()).every((p) => p.sync === 'SYNCED'), 30_000, 'every proxy SYNCED again');
    assert.ok((await convergenceCount()) > before, 'the resumed ACK was timed');
  });

  test('a snapshot the sidecar rejects shows NACKED with its error, and is counted', async () => {
    const patched = await mesh.tessera(['patch', 'meshconfig', 'fsm-mesh-config', '-n', 'fsm-system', '--type=merge', '-p', '{"spec":{"featureFlags":{"enablePluginPolicy":true}}}']);
    assert.equal(patched.code, 0, patched.stderr);
    const applied = await mesh.tessera(['apply', '-f', '-'], { input: THROWING_PLUGIN });
    assert.equal(applied.code, 0, applied.stderr);
    const listed = await eventually(async () => {
      const got = await rows();
      return got.find((p) => p.namespace === 'curl')?.sync === 'NACKED' ? got : undefined;
    }, 30_000, 'the curl proxy NACKED');
    const c = listed.find((p) => p.namespace === 'curl')! as Row & { lastError?: string };
    assert.match(c.lastError ?? '', /throws-on-load.*refuses to load/);
    const table = await mesh.tessera(['proxy', 'status']);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^curl\s+\S+\s+NACKED\s.*throws-on-load/m);
    assert.ok((await nackCount()) >= 1, 'tessera_proxy_nacks_total counted it');
  });
});
