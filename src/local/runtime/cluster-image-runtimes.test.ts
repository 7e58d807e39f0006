/**
 * The install's images as local pods: the entrypoint is the one images/Dockerfile names for the
 * target, the container's env is the pod spec's (a Secret key included) with the cluster's addresses
 * mapped to local ones, the probe is the pod's own.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Container, Resource } from '../../api/types.js';
import { CLUSTER_IMAGE_ENTRYPOINTS, CLUSTER_IMAGE_RUNTIMES, clusterEnv, clusterImageRepository, probeReadiness } from './cluster-image-runtimes.js';
import { runtimeFor } from './images.js';
import type { ContainerContext } from './types.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const runtime = CLUSTER_IMAGE_RUNTIMES[0]!;

test('each image runs the ENTRYPOINT of its images/Dockerfile target, which the build output has', () => {
  const dockerfile = readFileSync(join(ROOT, 'images', 'Dockerfile'), 'utf8');
  for (const [repository, entrypoint] of Object.entries(CLUSTER_IMAGE_ENTRYPOINTS)) {
    const target = repository.replace(/^tessera-/, '');
    const stage = new RegExp(`^FROM \\S+ AS ${target}\\n(?:.*\\n)*?ENTRYPOINT (\\[.*\\])`, 'm').exec(dockerfile);
    assert.ok(stage, `target ${target}`);
    assert.deepEqual(JSON.parse(stage[1]!), ['node', entrypoint], target);
    assert.ok(existsSync(join(ROOT, entrypoint)), entrypoint);
  }
});

test('matched by repository name under any registry, tag or digest; a command replacing the entrypoint is not', () => {
  for (const image of ['tessera/tessera-controller:0.1.0', 'registry.example:5000/team/tessera-injector', 'ghcr.io/x/tessera-bootstrap@sha256:abc']) {
    assert.ok(clusterImageRepository(image), image);
    const c: Container = { name: 'c', image };
    assert.equal(runtimeFor(c, { metadata: {}, spec: { containers: [c] } })?.name, 'cluster-image', image);
  }
  for (const image of ['tessera/controller', 'tessera/tessera-sidecar:0.1.0', 'tessera-controllerx', 'evil/tessera-controller-x']) assert.equal(clusterImageRepository(image), undefined, image);
  const overridden: Container = { name: 'c', image: 'tessera/tessera-controller:0.1.0', command: ['sh'] };
  assert.equal(runtime.matches(overridden.image!, overridden, {}), false);
});

test('the in-cluster API URL becomes the embedded API; wildcard listen addresses the pod\'s own; other values stay', () => {
  const env = clusterEnv({
    A: 'https://kubernetes.default.svc', B: 'https://kubernetes.default.svc.cluster.local:443/api', C: 'https://kubernetes',
    L1: '0.0.0.0:9090', L2: ':6060', L3: '[::]:9091', L4: '127.0.0.1:9090',
    X: 'https://kubernetes.default.svc.example.com', Y: 'http://kubernetes.default.svc', Z: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
  }, { apiUrl: 'https://127.9.0.1:15080', podAddress: '127.9.1.4' });
  assert.deepEqual(env, {
    A: 'https://127.9.0.1:15080', B: 'https://127.9.0.1:15080/api', C: 'https://127.9.0.1:15080',
    L1: '127.9.1.4:9090', L2: '127.9.1.4:6060', L3: '127.9.1.4:9091', L4: '127.0.0.1:9090',
    X: 'https://kubernetes.default.svc.example.com', Y: 'http://kubernetes.default.svc', Z: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
  });
});

test('the pod\'s readinessProbe at its address; HTTPS as the kubelet probes it (unverified)', () => {
  const c = (probe: Container['readinessProbe']): Container => ({ name: 'c', image: 'tessera/tessera-injector', ports: [{ name: 'webhook', containerPort: 9090 }], ...(probe ? { readinessProbe: probe } : {}) });
  assert.deepEqual(probeReadiness(c({ httpGet: { path: '/healthz', port: 9090, scheme: 'HTTPS' } }), '127.9.1.4'), { kind: 'https-unverified', url: 'https://127.9.1.4:9090/healthz' });
  assert.deepEqual(probeReadiness(c({ httpGet: { path: 'healthz', port: 'webhook' } }), '127.9.1.4'), { kind: 'http', url: 'http://127.9.1.4:9090/healthz' });
  assert.deepEqual(probeReadiness(c({ tcpSocket: { port: 9090 } }), '127.9.1.4'), { kind: 'tcp', host: '127.9.1.4', ports: [9090] });
  assert.deepEqual(probeReadiness(c(undefined), '127.9.1.4'), { kind: 'started' });
});

test('the command: node, the entrypoint, the container\'s args; env from the pod spec with Secret keys resolved; a missing Secret waits', () => {
  const secrets: Record<string, Resource> = {
    'fsm-system/fsm-controller-token': { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'fsm-controller-token', namespace: 'fsm-system' }, data: { token: Buffer.from('jwt').toString('base64') } } as Resource,
  };
  const container: Container = {
    name: 'controller', image: 'tessera/tessera-controller:0.1.0', args: ['--verbose'],
    env: [
      { name: 'TESSERA_API_URL', value: 'https://kubernetes.default.svc' },
      { name: 'TESSERA_API_TOKEN', valueFrom: { secretKeyRef: { name: 'fsm-controller-token', key: 'token' } } },
      { name: 'TESSERA_CONTROLLER_LISTEN', value: '0.0.0.0:6060' },
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'OPTIONAL', valueFrom: { configMapKeyRef: { name: 'absent', key: 'k', optional: true } } },
    ],
    readinessProbe: { httpGet: { path: '/healthz', port: 6060 } },
  };
  const ctx: ContainerContext = {
    pod: { metadata: { name: 'fsm-controller-abc', namespace: 'fsm-system' }, spec: { containers: [container] } },
    container, meshName: 'tessera', block: 9, meshKey: new Uint8Array(32), stateDir: '/nonexistent/state', workdir: '/nonexistent',
    podIP: '127.9.1.5', appAddress: '127.9.1.5', hasSidecar: false,
    objects: (kind, namespace, name) => (kind === 'Secret' ? secrets[`${namespace}/${name}`] : undefined),
  };
  const cmd = runtime.command(ctx);
  assert.equal(cmd.command, process.execPath);
  assert.deepEqual(cmd.args, [join(ROOT, 'dist/src/control-plane/main.js'), '--verbose']);
  assert.equal(cmd.env['TESSERA_API_URL'], 'https://127.9.0.1:15080', 'no mesh.json: the block\'s API address');
  assert.equal(runtime.command({ ...ctx, apiUrl: 'https://10.0.0.1:6443/' }).env['TESSERA_API_URL'], 'https://10.0.0.1:6443', 'on a node: its API server');
  assert.equal(cmd.env['TESSERA_API_TOKEN'], 'jwt');
  assert.equal(cmd.env['TESSERA_CONTROLLER_LISTEN'], '127.9.1.5:6060');
  assert.equal(cmd.env['POD'], 'fsm-controller-abc');
  assert.equal(cmd.env['HOSTNAME'], 'fsm-controller-abc');
  assert.equal(cmd.env['NODE_ENV'], 'production');
  assert.equal('OPTIONAL' in cmd.env, false);
  assert.deepEqual(cmd.readiness, { kind: 'http', url: 'http://127.9.1.5:6060/healthz' });

  delete secrets['fsm-system/fsm-controller-token'];
  assert.throws(() => runtime.command(ctx), (e: Error & { code?: string }) => e.code === 'MESH_ERR_NOT_FOUND' && /secret "fsm-controller-token" not found/.test(e.message));
  secrets['fsm-system/fsm-controller-token'] = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'fsm-controller-token', namespace: 'fsm-system' }, data: {} } as Resource;
  assert.throws(() => runtime.command(ctx), /couldn't find key token in Secret fsm-system\/fsm-controller-token/);
});
