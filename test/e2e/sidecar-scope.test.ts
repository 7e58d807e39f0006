/**
 * Outbound scope end to end (#15 item 1): an Istio networking Sidecar applied with kubectl
 * (v1beta1 by the oldest kubectl on the machine, v1 by the newest) narrows what the curl pod's sidecar
 * is given: the listed service answers, the unlisted one is refused by the client's own sidecar with a
 * reason naming the Sidecar, and `tessera proxy get config_dump` carries only the listed destination.
 * Deleting the Sidecar gives the other service back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statusCodes } from '../support/curl.js';
import { deploySample, waitReady } from '../support/deploy.js';
import { kubectl, kubectlBinaries, startKubectlMesh } from '../support/kubectl.js';
import { httpbinApp } from '../support/manifests.js';
import { eventually, podOf, type TestMesh } from '../support/mesh.js';

const sidecar = (apiVersion: string, hosts: string[]): string => `apiVersion: ${apiVersion}
kind: Sidecar
metadata: { name: default, namespace: curl }
spec:
  egress:
  - hosts: [${hosts.map((h) => JSON.stringify(h)).join(', ')}]
`;

interface Dump {
  Outbound: { TrafficMatches: Record<string, { HttpServiceRouteRules?: Record<string, unknown> }[]>; ClustersConfigs: Record<string, unknown>; Scope?: unknown };
  Dns: Record<string, unknown>;
}

describe('outbound scope: an Istio Sidecar egress list', () => {
  let mesh: TestMesh;
  let curl = '';
  const ALPHA = 'http://alpha.default:14001/get';
  const BETA = 'http://beta.default:14001/get';
  const [oldest, newest] = [kubectlBinaries()[0], kubectlBinaries().at(-1)];

  const dump = async (): Promise<Dump> => JSON.parse((await mesh.tessera(['proxy', 'get', 'config_dump', curl, '-n', 'curl'])).stdout) as Dump;
  const services = (d: Dump): string[] => Object.values(d.Outbound.TrafficMatches).flat().flatMap((m) => Object.keys(m.HttpServiceRouteRules ?? {})).sort();
  const codes = () => statusCodes(mesh, 'curl', curl, [['alpha', ALPHA], ['beta', BETA]]);

  before(async () => {
    mesh = await startKubectlMesh('fsm');
    const r = await mesh.sh(
      `
      tessera namespace add default
${deploySample('curl')}
      tessera apply -f - <<'EOF_APPS'
${httpbinApp('alpha')}
---
${httpbinApp('beta')}
EOF_APPS
${waitReady([['default', 'alpha'], ['default', 'beta'], ['curl', 'curl']], '60s')}
      `,
      { timeoutMs: 120_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    curl = (await podOf(mesh, 'curl', 'curl')).name;
  });
  after(async () => {
    await mesh?.stop();
  });

  test('without a Sidecar the client reaches both services and carries both', async () => {
    assert.deepEqual(await codes(), { alpha: '200', beta: '200' });
    const d = await dump();
    assert.ok(services(d).includes('alpha.default') && services(d).includes('beta.default'), services(d).join(' '));
    assert.equal(d.Outbound.Scope, undefined);
  });

  test('a Sidecar (v1beta1) listing alpha: alpha answers, beta is refused with the reason, config_dump holds only alpha', async () => {
    assert.ok(oldest, 'a kubectl to apply with');
    const applied = await kubectl(mesh, ['apply', '-f', '-'], { bin: oldest, input: sidecar('networking.istio.io/v1beta1', ['default/alpha.default.svc.cluster.local', 'default/ghost.default.svc.cluster.local']) });
    assert.equal(applied.code, 0, applied.stderr);
    // stored all the same, with a warning for the host that names nothing
    assert.match(applied.stderr, /Warning: Sidecar curl\/default: spec\.egress\[0\]\.hosts\[1\]: "default\/ghost\.default\.svc\.cluster\.local" names no Service/);
    const d = await eventually(async () => {
      const got = await dump();
      return got.Outbound.Scope !== undefined ? got : undefined;
    }, 30_000, 'the scoped snapshot applied');
    assert.deepEqual(services(d), ['alpha.default']);
    assert.deepEqual(Object.keys(d.Outbound.ClustersConfigs), ['default/alpha|14001']);
    assert.deepEqual(d.Outbound.Scope, { Sidecar: 'curl/default' });
    assert.ok(!Object.keys(d.Dns).some((n) => n.startsWith('beta.')), Object.keys(d.Dns).join(' '));
    assert.deepEqual(await codes(), { alpha: '200', beta: '403' });
    const refused = await mesh.tessera(['exec', curl, '-n', 'curl', '--', 'curl', '-s', '-m', '10', '-o', '/dev/null', '-D', '-', BETA]);
    assert.match(refused.stdout, /x-tessera-reason: no mesh service answers to "beta\.default:14001" in this proxy's outbound scope \(the egress hosts of Sidecar curl\/default\)/i);
    // by cluster IP too: the address is known to be a Service's, so it is refused, not sent as egress
    const ip = (await kubectl(mesh, ['get', 'service', 'beta', '-n', 'default', '-o', 'jsonpath={.spec.clusterIP}'], { bin: oldest })).stdout.trim();
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(await statusCodes(mesh, 'curl', curl, [['byIP', `http://${ip}:14001/get`]]), { byIP: '403' });
  });

  test('a Sidecar that names a short host is refused at apply, naming the field', async () => {
    const r = await kubectl(mesh, ['apply', '-f', '-'], { bin: oldest!, input: sidecar('networking.istio.io/v1', ['beta']).replace('name: default', 'name: typo') });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.egress\[0\]\.hosts\[0\]: "beta" must be "namespace\/dnsName"/);
  });

  test('the Sidecar (v1, newest kubectl) widened to the namespace, then deleted: beta is back', async () => {
    const bin = newest ?? oldest!;
    const applied = await kubectl(mesh, ['apply', '-f', '-'], { bin, input: sidecar('networking.istio.io/v1', ['default/*']) });
    assert.equal(applied.code, 0, applied.stderr);
    await eventually(async () => services(await dump()).includes('beta.default'), 30_000, 'beta in scope');
    assert.deepEqual(await codes(), { alpha: '200', beta: '200' });
    const gone = await kubectl(mesh, ['delete', 'sidecars.networking.istio.io', 'default', '-n', 'curl'], { bin });
    assert.equal(gone.code, 0, gone.stderr);
    await eventually(async () => (await dump()).Outbound.Scope === undefined, 30_000, 'unscoped again');
  });
});
