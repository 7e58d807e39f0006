/**
 * A node's sandboxes (interception by the init container): the injected fsm-init's rules loaded in
 * a real pod network namespace, the services chain after them, anything else refused. Root only
 * (the rootless variant of the namespaces is covered by the sandbox tests).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Container, Pod, Resource } from '../../api/types.js';
import { freePort } from '../../lib/test-processes.js';
import { initContainer, sandboxSupport } from '../sandbox/index.js';
import { run } from '../sandbox/commands.js';
import type { StoreKey } from '../store/types.js';
import { SandboxHost, SERVICES_CHAIN, type ServiceSource } from './sandbox-host.js';

const support = await sandboxSupport();
const skip = support.root ? false : 'needs root (network namespaces and iptables as root)';

/** Services and Endpoints as the node's mirror holds them (plain objects: the mirror itself is exercised by the seed on the reference cluster). */
function services(objects: Resource[]): ServiceSource {
  return {
    list: (kind: string) => objects.filter((o) => o.kind === kind),
    get: (k: StoreKey) => objects.find((o) => o.kind === k.kind && o.metadata.namespace === k.namespace && o.metadata.name === k.name),
    watch: () => () => {},
  };
}

const pod = (name: string, initContainers: Container[]): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'demo', uid: `uid-${name}`, annotations: { 'flomesh.io/outbound-port-exclusion-list': '6379' } },
  spec: { containers: [{ name: 'app', image: 'x' }, { name: 'sidecar', image: 'tessera/sidecar' }], initContainers },
});

describe('a node\'s sandboxes: interception by the injected init container', { skip }, () => {
  let dir = '';
  let host: SandboxHost;

  /** the cluster's Services and Endpoints, as the node's mirror would hold them */
  const cluster: Resource[] = [];
  let endpointIP = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-sandbox-init-'));
    host = await SandboxHost.start({
      store: services(cluster), stateDir: dir, meshName: 'initstep', block: 201, log: () => {},
      interception: 'init-container', networkName: 'initstep-test', relays: [{ name: 'controller', port: await freePort(), host: '127.0.0.1' }],
    });
    // an endpoint in the node's pod network (the services chain names only those)
    endpointIP = host.net.gateway.replace(/\.\d+$/, '.200');
    cluster.push(
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'demo' }, spec: { clusterIP: '10.96.0.20', ports: [{ port: 5432 }] } } as Resource,
      { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'db', namespace: 'demo' }, subsets: [{ addresses: [{ ip: endpointIP }], ports: [{ port: 5432 }] }] } as Resource,
    );
  });

  after(async () => {
    await host?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const natTable = async (p: import('../sandbox/index.js').PodSandbox): Promise<string[]> =>
    (await run([...p.net.enter, 'nsenter', `--net=${p.netnsPath}`, 'iptables-save', '-t', 'nat'])).stdout.split('\n');

  test('fsm-init\'s rules land in the pod\'s namespace, the services chain after them in OUTPUT', async () => {
    const p = pod('web', [initContainer('tessera/sidecar', { 'flomesh.io/outbound-port-exclusion-list': '6379' })]);
    const sandbox = await host.createPod(p, join(dir, 'pods', 'demo', 'web'), true);
    try {
      assert.deepEqual((await natTable(sandbox)).filter((l) => l.startsWith('-A')), [], 'nothing before the init step: the runtime installs no interception itself');
      await host.runInitStep(sandbox, p);
      const rules = await natTable(sandbox);
      const output = rules.filter((l) => l.startsWith('-A OUTPUT'));
      assert.deepEqual(output, ['-A OUTPUT -p tcp -j PROXY_OUTPUT', `-A OUTPUT -j ${SERVICES_CHAIN}`], 'the pod\'s own rules first, kube-proxy\'s after');
      assert.ok(rules.includes('-A PROXY_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15003'));
      assert.ok(rules.includes('-A PROXY_REDIRECT -p tcp -j REDIRECT --to-ports 15001'));
      assert.ok(rules.some((l) => /^-A PROXY_OUTPUT -p tcp -m multiport --dports 6379 -j RETURN$/.test(l)), 'the pod\'s exclusion annotation');
      assert.ok(rules.includes(`-A ${SERVICES_CHAIN} -d 10.96.0.20/32 -p tcp -m tcp --dport 5432 -j DNAT --to-destination ${endpointIP}:5432`), rules.join('\n'));
    } finally {
      await host.destroyPod('demo', 'web');
    }
  });

  test('any other init container, or an edited fsm-init, is refused and loads nothing', async () => {
    const edited = initContainer('tessera/sidecar', undefined);
    edited.args = ['-c', `touch /tmp/owned\n${edited.args![1]!}`];
    const cases: [string, Container[], RegExp][] = [
      ['other', [{ name: 'migrate', image: 'busybox', command: ['sh', '-c', 'id'] }], /init container migrate \(image busybox\): the local runtime runs only the injected fsm-init step/],
      ['edited', [edited], /fsm-init: line 1: expected/],
    ];
    for (const [name, inits, message] of cases) {
      const p = pod(name, inits);
      const sandbox = await host.createPod(p, join(dir, 'pods', 'demo', name), true);
      try {
        await assert.rejects(host.runInitStep(sandbox, p), message);
        assert.deepEqual((await natTable(sandbox)).filter((l) => l.startsWith('-A')), [], 'nothing loaded');
      } finally {
        await host.destroyPod('demo', name);
      }
    }
  });
});

describe('local mode\'s sandboxes: the injected init step plus local mode\'s two rules', { skip }, () => {
  let dir = '';
  let host: SandboxHost;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-sandbox-local-init-'));
    host = await SandboxHost.start({
      store: services([]), stateDir: dir, meshName: 'localinit', block: 202, log: () => {},
      networkName: 'localinit-test', relays: [{ name: 'controller', port: await freePort(), host: '127.0.0.1' }],
    });
  });

  after(async () => {
    await host?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const natTable = async (p: import('../sandbox/index.js').PodSandbox): Promise<string[]> =>
    (await run([...p.net.enter, 'nsenter', `--net=${p.netnsPath}`, 'iptables-save', '-t', 'nat'])).stdout.split('\n').filter((l) => l.startsWith('-A'));

  test('a pod with fsm-init ends with exactly the rules the runtime writes for a sidecar pod without one', async () => {
    const annotations = { 'flomesh.io/outbound-ip-range-exclusion-list': '10.9.0.0/16' };
    const withInit: Pod = { ...pod('with-init', [initContainer('tessera/sidecar', annotations)]) };
    withInit.metadata.annotations = annotations;
    const bare: Pod = { ...pod('bare', []) };
    bare.metadata.annotations = annotations;
    const a = await host.createPod(withInit, join(dir, 'pods', 'demo', 'with-init'), true);
    const b = await host.createPod(bare, join(dir, 'pods', 'demo', 'bare'), true);
    try {
      await host.runInitStep(a, withInit);
      await host.runInitStep(b, bare); // nothing: its rules went in at creation
      const snat = (ip: string) => (l: string) => l.replace(ip, 'POD_IP');
      assert.deepEqual((await natTable(a)).map(snat(a.ip)), (await natTable(b)).map(snat(b.ip)));
      assert.ok((await natTable(a)).includes('-A PROXY_OUTPUT -d 127.202.128.0/17 -p tcp -j PROXY_REDIRECT'), 'cluster IPs on 127/8 go to the sidecar');
    } finally {
      await host.destroyPod('demo', 'with-init');
      await host.destroyPod('demo', 'bare');
    }
  });
});
