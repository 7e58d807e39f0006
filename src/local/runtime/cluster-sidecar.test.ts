import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod, Resource } from '../../api/types.js';
import { mutatePod } from '../../injector/mutation.js';
import { clusterBootstrap } from '../../injector/sidecar-spec.js';
import { SIDECAR_ENV } from '../layout.js';
import { SIDECAR_CONTAINER } from './builtin-runtimes.js';
import { isClusterSidecar, resolveServiceUrl, sidecarForNode } from './cluster-sidecar.js';
import { runtimeFor } from './images.js';
import { specEnv } from './app-env.js';
import type { ContainerContext } from './types.js';

const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'fsm-controller', namespace: 'fsm-system' }, spec: { ports: [{ name: 'https', port: 6060 }] } } as Resource;
const slice = (ready: boolean, ip = '127.0.0.1', port = 46060): Resource => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'fsm-controller-x', namespace: 'fsm-system', labels: { 'kubernetes.io/service-name': 'fsm-controller' } },
  ports: [{ name: 'https', port }], endpoints: [{ addresses: [ip], conditions: { ready } }],
} as unknown as Resource);
const lookup = (slices: Resource[]) => ({
  get: (kind: string, ns: string, name: string) => (kind === 'Service' && ns === 'fsm-system' && name === 'fsm-controller' ? service : undefined),
  slices: () => slices,
});

test('a Service URL resolves to one of its ready endpoints, the name kept for the certificate; anything else does not', () => {
  assert.deepEqual(resolveServiceUrl('https://fsm-controller.fsm-system.svc:6060', lookup([slice(true)])), { url: 'https://127.0.0.1:46060', serverName: 'fsm-controller.fsm-system.svc' });
  assert.deepEqual(resolveServiceUrl('https://fsm-controller.fsm-system.svc.cluster.local:6060', lookup([slice(false), slice(true, '127.9.1.4', 6060)])), { url: 'https://127.9.1.4:6060', serverName: 'fsm-controller.fsm-system.svc.cluster.local' });
  assert.equal(resolveServiceUrl('https://fsm-controller.fsm-system.svc:6060', lookup([slice(false)])), undefined, 'no ready endpoint');
  assert.equal(resolveServiceUrl('https://fsm-controller.fsm-system.svc:7070', lookup([slice(true)])), undefined, 'not a port of the Service');
  assert.equal(resolveServiceUrl('https://other.fsm-system.svc:6060', lookup([slice(true)])), undefined, 'no such Service');
  assert.equal(resolveServiceUrl('https://127.0.0.1:6060', lookup([slice(true)])), undefined, 'not a Service name');
  assert.equal(resolveServiceUrl('not a url', lookup([slice(true)])), undefined);
});

test('a sidecar injected for another mesh on this runtime: its mesh and bootstrap from its spec, the resolved controller with the name to verify', () => {
  const pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', uid: 'u1' },
    spec: { serviceAccountName: 'web', containers: [{ name: 'web', image: 'kennethreitz/httpbin' }] },
  } as Pod;
  const injected = mutatePod(pod, { name: 'shop', labels: { 'flomesh.io/monitored-by': 'fsm' }, annotations: { 'flomesh.io/sidecar-injection': 'enabled' } }, 'fsm', { bootstrap: clusterBootstrap('fsm') }).pod;
  const container = injected.spec!.containers.find((c) => c.name === SIDECAR_CONTAINER)!;
  // the runtime's own mesh is `tessera`
  const ctx: ContainerContext = {
    pod: injected as ContainerContext['pod'], container, meshName: 'tessera', block: 77, meshKey: new Uint8Array(32), stateDir: '/tmp/x', workdir: '/tmp',
    podIP: '127.77.1.5', appAddress: '127.77.65.5', hasSidecar: true,
  };
  assert.ok(isClusterSidecar(specEnv(ctx)));
  const env = sidecarForNode(runtimeFor(container, injected)!, 'https://127.0.0.1:46060', undefined, 'fsm-controller.fsm-system.svc').command(ctx).env;
  assert.equal(env[SIDECAR_ENV.meshName], 'fsm', 'the injector\'s mesh, not the runtime\'s');
  assert.equal(env[SIDECAR_ENV.controllerUrl], 'https://127.0.0.1:46060');
  assert.equal(env[SIDECAR_ENV.controllerServerName], 'fsm-controller.fsm-system.svc');
  assert.equal(env[SIDECAR_ENV.proxyToken], undefined, 'no token minted with the runtime\'s mesh key');
  // a pod the local mesh injected is not one
  const local = mutatePod(pod, { name: 'shop', labels: { 'flomesh.io/monitored-by': 'tessera' }, annotations: { 'flomesh.io/sidecar-injection': 'enabled' } }, 'tessera').pod;
  assert.equal(isClusterSidecar(specEnv({ ...ctx, pod: local as ContainerContext['pod'], container: local.spec!.containers.find((c) => c.name === SIDECAR_CONTAINER)! })), false);
});
