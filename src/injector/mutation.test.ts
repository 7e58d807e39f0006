/** The injector's rules, pure: FSM's namespace selector, annotation precedence and values, and the patch. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../api/types.js';
import { MeshError } from '../lib/errors.js';
import { initContainer } from '../local/sandbox/index.js';
import { HEALTH_PROBES_ENV, parseHealthProbes } from '../sidecar/health-probes/index.js';
import { InvalidInjectionAnnotation, hasSidecar, mountPathsClash, mustInject, mutatePod } from './mutation.js';
import { webhookCoversNamespace } from './namespace-selector.js';
import type { NamespaceInfo } from './protocol.js';

const MESH = 'fsm';
const monitored = { 'flomesh.io/monitored-by': MESH };
const enabled = { 'flomesh.io/sidecar-injection': 'enabled' };

function pod(annotations?: Record<string, string>, extra: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'web-abc', namespace: 'demo', labels: { app: 'web' }, annotations },
    spec: { containers: [{ name: 'web', image: 'kennethreitz/httpbin' }], ...extra },
    status: { podIP: '127.9.1.1' },
  };
}
const ns = (name: string, labels?: Record<string, string>, annotations?: Record<string, string>): NamespaceInfo => ({ name, labels, annotations });

test('the namespace selector: monitored by this mesh, not ignored, not the control plane or Kubernetes', () => {
  assert.equal(webhookCoversNamespace(ns('demo', monitored), MESH), true);
  assert.equal(webhookCoversNamespace(ns('demo'), MESH), false);
  assert.equal(webhookCoversNamespace(ns('demo', { 'flomesh.io/monitored-by': 'other' }), MESH), false);
  assert.equal(webhookCoversNamespace(ns('demo', { ...monitored, 'flomesh.io/ignore': 'true' }), MESH), false);
  assert.equal(webhookCoversNamespace(ns('demo', { ...monitored, 'control-plane': 'x' }), MESH), false);
  assert.equal(webhookCoversNamespace(ns('fsm-system', monitored), MESH), false);
  assert.equal(webhookCoversNamespace(ns('kube-system', monitored), MESH), false);
  assert.equal(webhookCoversNamespace(ns('kube-public', monitored), MESH), false);
});

test('the pod annotation decides when present, else the namespace annotation; values are case-insensitive', () => {
  const meshed = ns('demo', monitored, enabled);
  const labelOnly = ns('demo', monitored);
  assert.equal(mustInject(pod(), meshed, MESH), true);
  assert.equal(mustInject(pod(), ns('demo', monitored, { 'flomesh.io/sidecar-injection': 'Yes' }), MESH), true);
  assert.equal(mustInject(pod(), ns('demo', monitored, { 'flomesh.io/sidecar-injection': 'disabled' }), MESH), false);
  assert.equal(mustInject(pod(), labelOnly, MESH), false, 'a monitored namespace alone does not inject');
  for (const v of ['enabled', 'yes', 'TRUE']) assert.equal(mustInject(pod({ 'flomesh.io/sidecar-injection': v }), labelOnly, MESH), true, v);
  for (const v of ['disabled', 'No', 'false']) assert.equal(mustInject(pod({ 'flomesh.io/sidecar-injection': v }), meshed, MESH), false, v);
  assert.equal(mustInject(pod(enabled), ns('demo', { 'flomesh.io/monitored-by': 'other' }, enabled), MESH), false, 'outside the selector even when asked');
  assert.equal(mustInject(pod(enabled), ns('fsm-system', monitored, enabled), MESH), false);
  assert.equal(mustInject(pod(undefined, { hostNetwork: true } as never), meshed, MESH), false, 'host-network pods are skipped');
});

test('any other annotation value is an error, on the pod or on the namespace', () => {
  assert.throws(() => mustInject(pod({ 'flomesh.io/sidecar-injection': 'maybe' }), ns('demo', monitored, enabled), MESH),
    (e: unknown) => e instanceof InvalidInjectionAnnotation && /for Pod 'web-abc': maybe/.test(e.message));
  assert.throws(() => mustInject(pod(), ns('demo', monitored, { 'flomesh.io/sidecar-injection': 'on' }), MESH),
    (e: unknown) => e instanceof InvalidInjectionAnnotation && /for Namespace 'demo': on/.test(e.message));
  // The pod's valid answer wins before the namespace's value is read.
  assert.equal(mustInject(pod(enabled), ns('demo', monitored, { 'flomesh.io/sidecar-injection': 'on' }), MESH), true);
});

test('the injected pod: proxy UUID label, fsm-init appended to the init containers, the sidecar, its volume; the input untouched', () => {
  const annotations = { 'flomesh.io/outbound-port-exclusion-list': '6379' };
  const input = pod(annotations, {
    initContainers: [{ name: 'migrate', image: 'db-migrate' }],
    volumes: [{ name: 'config', configMap: { name: 'web' } }],
    serviceAccountName: 'web',
  });
  const before = structuredClone(input);
  const a = mutatePod(input, ns('demo', monitored, enabled), MESH);
  const b = mutatePod(input, ns('demo', monitored, enabled), MESH);
  assert.equal(a.injected, true);
  assert.deepEqual(input, before, 'the input is not modified');
  const labels = a.pod.metadata.labels!;
  assert.match(labels['fsm-proxy-uuid']!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(labels['fsm-proxy-uuid'], b.pod.metadata.labels!['fsm-proxy-uuid']);
  assert.equal(labels.app, 'web');

  const spec = a.pod.spec!;
  // FSM appends: the pod's own init containers run before interception exists
  assert.deepEqual(spec.initContainers!.map((c) => c.name), ['migrate', 'fsm-init']);
  assert.deepEqual(spec.initContainers![1], initContainer('tessera/sidecar', annotations), 'the init step of init-step.ts, with the pod\'s interception annotations');
  assert.match(spec.initContainers![1]!.args![1]!, /--dports 6379 -j RETURN/);
  assert.deepEqual(spec.containers.map((c) => c.name), ['web', 'sidecar']);
  assert.deepEqual(spec.containers[0], input.spec!.containers[0], 'an app without probes is not touched');
  assert.deepEqual(spec.volumes, [{ name: 'config', configMap: { name: 'web' } }, { name: 'fsm-sidecar-data', emptyDir: {} }]);

  const sidecar = spec.containers[1]!;
  assert.equal(sidecar.image, 'tessera/sidecar');
  assert.deepEqual(sidecar.securityContext, { runAsUser: 1500, runAsNonRoot: true, allowPrivilegeEscalation: false });
  assert.deepEqual(sidecar.volumeMounts, [{ name: 'fsm-sidecar-data', mountPath: '/var/run/tessera/sidecar' }]);
  assert.deepEqual(sidecar.ports, [
    { name: 'proxy-admin', containerPort: 15000, protocol: 'TCP' },
    { name: 'proxy-inbound', containerPort: 15003, protocol: 'TCP' },
  ], 'no probe ports without probes; no 15010 (nothing listens there)');
  const env = Object.fromEntries(sidecar.env!.map((e) => [e.name, e.value ?? e.valueFrom?.fieldRef?.fieldPath]));
  assert.deepEqual(env, {
    TESSERA_MESH_NAME: MESH,
    TESSERA_POD_UID: 'metadata.uid',
    TESSERA_POD_NAME: 'metadata.name',
    TESSERA_POD_NAMESPACE: 'metadata.namespace',
    TESSERA_POD_IP: 'status.podIP',
    TESSERA_SERVICE_ACCOUNT: 'spec.serviceAccountName',
    TESSERA_PROXY_UUID: "metadata.labels['fsm-proxy-uuid']",
    TESSERA_LOCAL_IP: '127.0.0.1',
    TESSERA_SIDECAR_INBOUND_PORT: '15003',
    TESSERA_SIDECAR_DIR: '/var/run/tessera/sidecar',
    NODE_OPTIONS: '--max-semi-space-size=4',
  });
  assert.equal(hasSidecar(a.pod), true);
  assert.equal(hasSidecar(input), false);

  const skipped = mutatePod(input, ns('demo', monitored), MESH);
  assert.deepEqual(skipped, { pod: input, injected: false });
});

test('an injected pod again (kubectl debug --copy-to): a new proxy UUID, nothing added twice', () => {
  const first = mutatePod(pod(), ns('demo', monitored, enabled), MESH).pod;
  const again = mutatePod(first, ns('demo', monitored, enabled), MESH);
  assert.equal(again.injected, true);
  assert.notEqual(again.pod.metadata.labels!['fsm-proxy-uuid'], first.metadata.labels!['fsm-proxy-uuid']);
  assert.deepEqual({ ...again.pod, metadata: first.metadata }, first, 'only the label changed');
});

const probePod = (): Pod => pod(undefined, {
  containers: [{
    name: 'web', image: 'kennethreitz/httpbin',
    ports: [{ name: 'http', containerPort: 8080 }],
    readinessProbe: { httpGet: { port: 'http', path: '/status/200', httpHeaders: [{ name: 'X-Probe', value: 'ready' }] }, timeoutSeconds: 2, periodSeconds: 5 },
    livenessProbe: { tcpSocket: { port: 8080 }, failureThreshold: 4 },
    startupProbe: { exec: { command: ['true'] } },
  }],
});

test('probes as FSM rewrites them: HTTP to 15901-15903, TCP to 15904 with Original-Tcp-Port, exec untouched; the originals in the sidecar env', () => {
  const out = mutatePod(probePod(), ns('demo', monitored, enabled), MESH).pod;
  const web = out.spec!.containers[0]!;
  assert.deepEqual(web.readinessProbe, {
    httpGet: { port: 15902, path: '/fsm-readiness-probe', scheme: 'HTTP', httpHeaders: [{ name: 'X-Probe', value: 'ready' }] },
    timeoutSeconds: 2, periodSeconds: 5,
  });
  assert.deepEqual(web.livenessProbe, {
    httpGet: { port: 15904, path: '/fsm-healthcheck', scheme: 'HTTP', httpHeaders: [{ name: 'Original-Tcp-Port', value: '8080' }] },
    failureThreshold: 4,
  });
  assert.deepEqual(web.startupProbe, { exec: { command: ['true'] } });

  const sidecar = out.spec!.containers[1]!;
  const probes = parseHealthProbes(sidecar.env!.find((e) => e.name === HEALTH_PROBES_ENV)!.value);
  assert.deepEqual(probes, [
    { kind: 'readiness', container: 'web', port: 15902, path: '/fsm-readiness-probe', target: { scheme: 'HTTP', port: 8080, path: '/status/200' }, timeoutSeconds: 2 },
    { kind: 'liveness', container: 'web', port: 15904, path: '/fsm-healthcheck', target: { scheme: 'TCP', port: 8080 }, timeoutSeconds: 1 },
  ]);
  assert.deepEqual(sidecar.ports!.map((p) => `${p.name ?? ''}:${p.containerPort}`), ['proxy-admin:15000', 'proxy-inbound:15003', 'readiness-port:15902', ':15904']);
});

test('probes: one path per container when two containers share a kind, HTTPS kept for the sidecar, probes with their own host left alone', () => {
  const input = pod(undefined, {
    containers: [
      { name: 'web', image: 'a', readinessProbe: { httpGet: { port: 8080, path: 'healthz' } } },
      { name: 'api', image: 'b', readinessProbe: { httpGet: { port: 8443, scheme: 'HTTPS' } }, livenessProbe: { httpGet: { port: 80, host: 'example.com' } } },
    ],
  });
  const out = mutatePod(input, ns('demo', monitored, enabled), MESH).pod;
  const [web, api, sidecar] = out.spec!.containers;
  assert.deepEqual(web!.readinessProbe!.httpGet, { port: 15902, path: '/fsm-readiness-probe/web', scheme: 'HTTP' });
  assert.deepEqual(api!.readinessProbe!.httpGet, { port: 15902, path: '/fsm-readiness-probe/api', scheme: 'HTTP' });
  assert.deepEqual(api!.livenessProbe, { httpGet: { port: 80, host: 'example.com' } }, 'not a probe of this pod');
  const probes = parseHealthProbes(sidecar!.env!.find((e) => e.name === HEALTH_PROBES_ENV)!.value);
  assert.deepEqual(probes.map((p) => [p.path, p.target]), [
    ['/fsm-readiness-probe/web', { scheme: 'HTTP', port: 8080, path: '/healthz' }],
    ['/fsm-readiness-probe/api', { scheme: 'HTTPS', port: 8443, path: '/' }],
  ]);
});

test('rewriteProbes: false (the local daemon) leaves the probes as written and tells the sidecar none', () => {
  const input = probePod();
  const out = mutatePod(input, ns('demo', monitored, enabled), MESH, { rewriteProbes: false }).pod;
  assert.deepEqual(out.spec!.containers[0], input.spec!.containers[0]);
  const sidecar = out.spec!.containers[1]!;
  assert.equal(sidecar.env!.some((e) => e.name === HEALTH_PROBES_ENV), false);
  assert.deepEqual(sidecar.ports!.map((p) => p.containerPort), [15000, 15003]);
  assert.equal(out.spec!.initContainers!.length, 1, 'the init container is still added');
});

test('what cannot be injected is refused, naming the pod and every field', () => {
  const refused = (p: Pod): MeshError => {
    try {
      mutatePod(p, ns('demo', monitored, enabled), MESH);
    } catch (e) {
      assert.ok(e instanceof MeshError, String(e));
      assert.equal(e.code, 'MESH_ERR_MANIFEST_INVALID');
      assert.match(e.message, /^cannot inject the sidecar into Pod demo\/web-abc: /);
      return e;
    }
    assert.fail('injected');
  };
  const fields = (e: MeshError) => e.problems.map((p) => p.field);

  const names = refused(pod(undefined, {
    containers: [{ name: 'web', image: 'x', ports: [{ containerPort: 15001 }, { containerPort: 15000, protocol: 'UDP' }] }, { name: 'sidecar', image: 'envoy' }],
    initContainers: [{ name: 'fsm-init', image: 'y' }],
    volumes: [{ name: 'fsm-sidecar-data', emptyDir: {} }],
  }));
  assert.deepEqual(fields(names), ['spec.containers[1].name', 'spec.initContainers[0].name', 'spec.volumes[0].name', 'spec.containers[0].ports[0].containerPort']);
  assert.ok(names.problems.every((p) => p.resource === 'Pod demo/web-abc'));
  assert.match(names.message, /spec.containers\[1\].name: "sidecar" is the name of the injected sidecar/);

  const probe = refused(pod(undefined, { containers: [{ name: 'web', image: 'x', ports: [{ name: 'http', containerPort: 80 }], livenessProbe: { httpGet: { port: 'metrics' } }, readinessProbe: { tcpSocket: { port: 'http' } } }] }));
  assert.deepEqual(probe.problems, [{ resource: 'Pod demo/web-abc', field: 'spec.containers[0].livenessProbe.httpGet.port', message: 'named port "metrics" is not declared in the ports of container web' }]);

  const annotation = refused(pod({ ...enabled, 'flomesh.io/outbound-ip-range-exclusion-list': '10.0.0.0/8,nope' }));
  assert.deepEqual(fields(annotation), ['metadata.annotations[flomesh.io/outbound-ip-range-exclusion-list]']);
  assert.match(annotation.message, /flomesh.io\/outbound-ip-range-exclusion-list.*'nope'/);
});

test('the local daemon\'s protocol (no bootstrap): no controller env, token file or bootstrap volumes; mounts are not checked', () => {
  const p = pod(undefined, { containers: [{ name: 'web', image: 'x', volumeMounts: [{ name: 'data', mountPath: '/var/run/tessera' }] }], volumes: [{ name: 'data', emptyDir: {} }] });
  const out = mutatePod(p, ns('demo', monitored, enabled), MESH, { rewriteProbes: false });
  assert.equal(out.injected, true);
  const sidecar = out.pod.spec!.containers.find((c) => c.name === 'sidecar')!;
  const names = sidecar.env!.map((e) => e.name);
  for (const name of ['TESSERA_CONTROLLER_URL', 'TESSERA_CONTROLLER_CA_FILE', 'TESSERA_PROXY_TOKEN_FILE']) assert.ok(!names.includes(name), `${name} is the runtime's to set`);
  assert.deepEqual(out.pod.spec!.volumes!.map((v) => v.name), ['data', 'fsm-sidecar-data']);
  assert.deepEqual(sidecar.volumeMounts, [{ name: 'fsm-sidecar-data', mountPath: '/var/run/tessera/sidecar' }]);
});

test('mount path clashes: the path, inside it, or a directory above it other than the shared ones', () => {
  assert.equal(mountPathsClash('/var/run/tessera/ca', '/var/run/tessera/ca'), true);
  assert.equal(mountPathsClash('/var/run/tessera/ca/', '/var/run/tessera/ca'), true);
  assert.equal(mountPathsClash('/var/run/tessera/ca/sub', '/var/run/tessera/ca'), true);
  assert.equal(mountPathsClash('/var/run/tessera', '/var/run/tessera/ca'), true);
  assert.equal(mountPathsClash('/var/run/tessera-other', '/var/run/tessera/ca'), false);
  assert.equal(mountPathsClash('/var/run', '/var/run/tessera/ca'), false);
  assert.equal(mountPathsClash('/var/run/secrets', '/var/run/secrets/tessera/token'), false);
  assert.equal(mountPathsClash('/', '/var/run/tessera/ca'), false);
  assert.equal(mountPathsClash('/data', '/var/run/tessera/ca'), false);
});
