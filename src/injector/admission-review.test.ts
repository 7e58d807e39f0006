/** AdmissionReview v1 answers (pure) and the server's two protocols on one path, in process. */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import type { Pod } from '../api/types.js';
import { admit, applyJsonPatch, jsonPatch, parseAdmissionReview, type AdmissionReview, type JsonPatchOp } from './admission-review.js';
import type { NamespaceInfo } from './protocol.js';
import { createInjectorServer } from './server.js';

const MESH = 'fsm';
const monitored: NamespaceInfo = { name: 'demo', labels: { 'flomesh.io/monitored-by': MESH }, annotations: { 'flomesh.io/sidecar-injection': 'enabled' } };
const pod = (annotations?: Record<string, string>): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  // as a ReplicaSet's pod reaches the webhook: generateName, no name yet
  metadata: { generateName: 'web-5d9c-', namespace: 'demo', labels: { app: 'web', 'app.kubernetes.io/name': 'web' }, ...(annotations ? { annotations } : {}) } as unknown as Pod['metadata'],
  spec: { containers: [{ name: 'web', image: 'x' }] },
});
const reviewOf = (object: unknown, over: Record<string, unknown> = {}) => ({
  apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
  request: {
    uid: 'u-1', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' },
    namespace: 'demo', operation: 'CREATE', object, ...over,
  },
});
const patchOf = (r: AdmissionReview): JsonPatchOp[] => JSON.parse(Buffer.from(r.response!.patch!, 'base64').toString('utf8')) as JsonPatchOp[];

test('an injected pod: allowed, uid echoed, a base64 JSON patch that adds the sidecar and the proxy label', () => {
  const p = pod();
  const { review, injected } = admit(parseAdmissionReview(reviewOf(p)), monitored, MESH);
  assert.equal(injected, true);
  assert.equal(review.apiVersion, 'admission.k8s.io/v1');
  assert.equal(review.kind, 'AdmissionReview');
  assert.equal(review.response!.uid, 'u-1');
  assert.equal(review.response!.allowed, true);
  assert.equal(review.response!.patchType, 'JSONPatch');
  const patch = patchOf(review);
  assert.deepEqual(patch.map((o) => `${o.op} ${o.path}`).sort(), [
    'add /metadata/labels/fsm-proxy-uuid',
    'add /spec/containers/-',
    'add /spec/initContainers',
    'add /spec/volumes',
  ], 'the sidecar appended, not the array replaced; absent arrays added whole');
  const patched = applyJsonPatch(p, patch);
  assert.deepEqual(patched.spec!.containers.map((c) => c.name), ['web', 'sidecar']);
  assert.deepEqual(patched.spec!.initContainers!.map((c) => c.name), ['fsm-init']);
  assert.deepEqual(patched.spec!.volumes, [
    { name: 'fsm-sidecar-data', emptyDir: {} },
    { name: 'fsm-ca-root', configMap: { name: 'fsm-ca-root-cert', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
    { name: 'fsm-proxy-token', projected: { sources: [{ serviceAccountToken: { audience: 'fsm-controller', expirationSeconds: 3600, path: 'token' } }] } },
  ], 'the data volume, and the cluster bootstrap: the mesh CA ConfigMap and a projected token for the controller');
  assert.equal(patched.metadata.labels!['app.kubernetes.io/name'], 'web');
  assert.equal(patched.metadata.name, undefined, 'a generateName pod keeps no name of ours');
});

test('Kubernetes mode: the sidecar gets the controller\'s Service URL, the CA file and the token file, mounted read-only', () => {
  const { review } = admit(parseAdmissionReview(reviewOf(pod())), monitored, MESH);
  const sidecar = applyJsonPatch(pod(), patchOf(review)).spec!.containers[1]!;
  const env = new Map(sidecar.env!.map((e) => [e.name, e.value]));
  assert.equal(env.get('TESSERA_CONTROLLER_URL'), 'https://fsm-controller.fsm-system.svc:6060');
  assert.equal(env.get('TESSERA_CONTROLLER_CA_FILE'), '/var/run/tessera/ca/ca.crt');
  assert.equal(env.get('TESSERA_PROXY_TOKEN_FILE'), '/var/run/secrets/tessera/token/token');
  assert.equal(env.has('TESSERA_PROXY_TOKEN'), false, 'no proxy token: nothing of Tessera\'s mints one on a cluster');
  assert.deepEqual(sidecar.volumeMounts, [
    { name: 'fsm-sidecar-data', mountPath: '/var/run/tessera/sidecar' },
    { name: 'fsm-ca-root', mountPath: '/var/run/tessera/ca', readOnly: true },
    { name: 'fsm-proxy-token', mountPath: '/var/run/secrets/tessera/token', readOnly: true },
  ]);
});

test('Kubernetes mode: volumes and mounts that clash with the bootstrap are refused, naming the field', () => {
  const p = pod();
  p.spec = {
    volumes: [{ name: 'fsm-proxy-token', emptyDir: {} }, { name: 'ok', emptyDir: {} }],
    containers: [{ name: 'web', image: 'x', volumeMounts: [
      { name: 'ok', mountPath: '/var/run/tessera' },
      { name: 'fsm-ca-root', mountPath: '/etc/ca' },
      { name: 'ok', mountPath: '/var/run/secrets/tessera/token/' },
      { name: 'ok', mountPath: '/var/run/secrets' },
      { name: 'ok', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
    ] }],
  };
  const response = admit(parseAdmissionReview(reviewOf(p)), monitored, MESH).review.response!;
  assert.equal(response.allowed, false);
  const message = response.status!.message;
  assert.match(message, /spec\.volumes\[0\]\.name: "fsm-proxy-token" is the name of a volume the sidecar injection adds/);
  assert.match(message, /spec\.containers\[0\]\.volumeMounts\[0\]\.mountPath: \/var\/run\/tessera clashes with \/var\/run\/tessera\/sidecar/);
  assert.match(message, /spec\.containers\[0\]\.volumeMounts\[1\]\.name: "fsm-ca-root" is a volume of the injected sidecar/);
  assert.match(message, /spec\.containers\[0\]\.volumeMounts\[2\]\.mountPath: \/var\/run\/secrets\/tessera\/token\/ clashes with \/var\/run\/secrets\/tessera\/token/);
  assert.doesNotMatch(message, /volumeMounts\[3\]|volumeMounts\[4\]/, '/var/run/secrets and the ServiceAccount mount are not clashes');
});

test('a pod with init containers, volumes and probes: appends, and each rewritten probe field replaced in place', () => {
  const p = pod();
  p.spec = {
    initContainers: [{ name: 'migrate', image: 'm' }],
    volumes: [{ name: 'data', emptyDir: {} }],
    // as the API server sends it: defaults filled in
    containers: [{ name: 'web', image: 'x', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
      readinessProbe: { httpGet: { port: 'http', path: '/ready', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10 },
      livenessProbe: { tcpSocket: { port: 8080 }, timeoutSeconds: 1 } }],
  };
  const { review } = admit(parseAdmissionReview(reviewOf(p)), monitored, MESH);
  const patch = patchOf(review);
  const ops = patch.map((o) => `${o.op} ${o.path}`);
  for (const expected of [
    'add /spec/initContainers/-', 'add /spec/volumes/-', 'add /spec/containers/-',
    'replace /spec/containers/0/readinessProbe/httpGet/port', 'replace /spec/containers/0/readinessProbe/httpGet/path',
    'remove /spec/containers/0/livenessProbe/tcpSocket', 'add /spec/containers/0/livenessProbe/httpGet',
  ]) assert.ok(ops.includes(expected), `${expected} in ${ops.join(', ')}`);
  assert.ok(!ops.includes('replace /spec/containers'), 'the containers array is not replaced');
  const patched = applyJsonPatch(p, patch);
  assert.deepEqual(patched.spec!.initContainers!.map((c) => c.name), ['migrate', 'fsm-init']);
  assert.deepEqual(patched.spec!.volumes!.map((v) => v.name), ['data', 'fsm-sidecar-data', 'fsm-ca-root', 'fsm-proxy-token']);
  assert.deepEqual(patched.spec!.containers[0]!.readinessProbe, { httpGet: { port: 15902, path: '/fsm-readiness-probe', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10 });
  assert.deepEqual(patched.spec!.containers[0]!.livenessProbe!.httpGet!.httpHeaders, [{ name: 'Original-Tcp-Port', value: '8080' }]);
  assert.ok(patched.spec!.containers[1]!.env!.some((e) => e.name === 'TESSERA_HEALTH_PROBES'));
});

test('not selected, annotated off, other kinds and operations: allowed without a patch', () => {
  const notMonitored = admit(parseAdmissionReview(reviewOf(pod())), { name: 'demo' }, MESH).review.response!;
  assert.deepEqual(notMonitored, { uid: 'u-1', allowed: true });
  const off = admit(parseAdmissionReview(reviewOf(pod({ 'flomesh.io/sidecar-injection': 'disabled' }))), monitored, MESH).review.response!;
  assert.deepEqual(off, { uid: 'u-1', allowed: true });
  const update = admit(parseAdmissionReview(reviewOf(pod(), { operation: 'UPDATE' })), monitored, MESH).review.response!;
  assert.deepEqual(update, { uid: 'u-1', allowed: true });
  const svc = admit(parseAdmissionReview(reviewOf({ kind: 'Service' }, { kind: { group: '', version: 'v1', kind: 'Service' }, resource: { group: '', version: 'v1', resource: 'services' } })), undefined, MESH);
  assert.deepEqual(svc.review.response, { uid: 'u-1', allowed: true });
});

test('what cannot be injected is refused with a Status message; malformed reviews throw', () => {
  const bad = admit(parseAdmissionReview(reviewOf(pod({ 'flomesh.io/sidecar-injection': 'maybe' }))), monitored, MESH).review.response!;
  assert.equal(bad.allowed, false);
  assert.equal(bad.status!.code, 400);
  assert.match(bad.status!.message, /invalid annotation value .* maybe/);
  // a bad interception annotation (init-step.ts refuses it): 400, naming the pod and the annotation
  const ports = admit(parseAdmissionReview(reviewOf(pod({ 'flomesh.io/inbound-port-exclusion-list': '80,http' }))), monitored, MESH).review.response!;
  assert.equal(ports.allowed, false);
  assert.equal(ports.status!.code, 400);
  assert.equal(ports.status!.reason, 'BadRequest');
  assert.match(ports.status!.message, /^cannot inject the sidecar into Pod demo\/web-5d9c-: metadata.annotations\[flomesh.io\/inbound-port-exclusion-list\]: 'http' is not a port/);
  // a name the injection needs
  const clash = { ...pod(), spec: { containers: [{ name: 'web', image: 'x' }, { name: 'fsm-init', image: 'y' }] } };
  const named = admit(parseAdmissionReview(reviewOf(clash)), monitored, MESH).review.response!;
  assert.equal(named.status!.code, 400);
  assert.match(named.status!.message, /spec.containers\[1\].name: "fsm-init" is the name of the injected init container/);
  const unknownNs = admit(parseAdmissionReview(reviewOf(pod())), undefined, MESH).review.response!;
  assert.equal(unknownNs.allowed, false);
  assert.throws(() => parseAdmissionReview({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'x' } }), /v1beta1 is not supported/);
  assert.throws(() => parseAdmissionReview({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} }), /no uid/);
});

test('jsonPatch: objects by key, removals, replaced values, escaped keys; applying it gives the target', () => {
  const from = { a: 1, b: { 'x/y': 'v', gone: true }, list: [1, 2], other: [1, 2] };
  const to = { a: 2, b: { 'x/y': 'w', 'n~ew': {} }, list: [1, 2, 3], other: [2] };
  const patch = jsonPatch(from, to);
  assert.deepEqual(applyJsonPatch(from, patch), to);
  assert.ok(patch.some((o) => o.path === '/b/x~1y' && o.op === 'replace'));
  assert.ok(patch.some((o) => o.path === '/b/n~0ew' && o.op === 'add'));
  assert.ok(patch.some((o) => o.path === '/b/gone' && o.op === 'remove'));
  assert.deepEqual(jsonPatch(from, structuredClone(from)), []);
});

test('jsonPatch on arrays: elements diffed in place, growth appended, shrinking replaced; applying gives the target', () => {
  const from = { list: [{ a: 1 }, { b: [1] }], short: [1, 2, 3], front: [2] };
  const to = { list: [{ a: 2 }, { b: [1, 2] }, { c: 3 }], short: [1], front: [1, 2] };
  const patch = jsonPatch(from, to);
  assert.deepEqual(applyJsonPatch(from, patch), to);
  assert.deepEqual(patch.filter((o) => o.path.startsWith('/list')), [
    { op: 'replace', path: '/list/0/a', value: 2 },
    { op: 'add', path: '/list/1/b/-', value: 2 },
    { op: 'add', path: '/list/-', value: { c: 3 } },
  ]);
  assert.deepEqual(patch.filter((o) => o.path === '/short'), [{ op: 'replace', path: '/short', value: [1] }]);
});

// ---------------------------------------------------------------------------------------------
// the server

const servers: { close(): void }[] = [];
after(() => servers.forEach((s) => s.close()));

async function serve(opts: Parameters<typeof createInjectorServer>[0]): Promise<string> {
  const server = createInjectorServer(opts);
  servers.push({ close: () => { server.closeAllConnections(); server.close(); } });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mutate-pod-creation`;
}
const post = (url: string, body: unknown, token?: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });

test('Kubernetes mode: AdmissionReviews answered without the token, namespace read through the lookup; the daemon protocol still needs it', async () => {
  const asked: string[] = [];
  const url = await serve({
    meshName: MESH, token: 'local-token',
    namespaces: async (name) => {
      asked.push(name);
      if (name === 'forbidden') throw new Error('namespaces "forbidden" is forbidden: User "system:serviceaccount:x" cannot get resource "namespaces"');
      return name === 'demo' ? monitored : { name };
    },
  });
  const res = await post(url, reviewOf(pod()));
  assert.equal(res.status, 200);
  const answer = (await res.json()) as AdmissionReview;
  assert.equal(answer.response!.allowed, true);
  assert.equal(answer.response!.uid, 'u-1');
  assert.ok(patchOf(answer).length > 0);
  assert.deepEqual(asked, ['demo']);

  const plain = (await (await post(url, reviewOf(pod(), { namespace: 'plain' }))).json()) as AdmissionReview;
  assert.deepEqual(plain.response, { uid: 'u-1', allowed: true });

  const refused = (await (await post(url, reviewOf(pod(), { namespace: 'forbidden' }))).json()) as AdmissionReview;
  assert.equal(refused.response!.allowed, false);
  assert.match(refused.response!.status!.message, /cannot read namespace forbidden: .*forbidden/);

  assert.equal((await post(url, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' })).status, 400);

  // the local daemon's protocol: unchanged, behind the token
  const local = { pod: { ...pod(), metadata: { name: 'web-1' } }, namespace: monitored, meshName: MESH };
  assert.equal((await post(url, local)).status, 401);
  const ok = await post(url, local, 'local-token');
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as { injected: boolean }).injected, true);

  // the daemon's protocol keeps probes as written (local runtimes probe apps directly) …
  const probed = { ...local, pod: { ...local.pod, spec: { containers: [{ name: 'web', image: 'x', readinessProbe: { httpGet: { port: 8080, path: '/ready' } } }] } } };
  const kept = (await (await post(url, probed, 'local-token')).json()) as { pod: Pod };
  assert.deepEqual(kept.pod.spec!.containers[0]!.readinessProbe, { httpGet: { port: 8080, path: '/ready' } });
  assert.deepEqual(kept.pod.spec!.initContainers!.map((c) => c.name), ['fsm-init']);
  // … and refuses what cannot be injected with a 400 naming the field
  const bad = await post(url, { ...local, pod: { ...local.pod, metadata: { name: 'web-1', annotations: { 'flomesh.io/outbound-port-exclusion-list': '99999' } } } }, 'local-token');
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: { message: string } }).error.message, /Pod demo\/web-1: metadata.annotations\[flomesh.io\/outbound-port-exclusion-list\]: '99999' is not a port/);
});

test('local mode: an AdmissionReview is refused (no token: 401; with it: 400, no API access)', async () => {
  const url = await serve({ meshName: MESH, token: 'local-token' });
  assert.equal((await post(url, reviewOf(pod()))).status, 401);
  const withToken = await post(url, reviewOf(pod()), 'local-token');
  assert.equal(withToken.status, 400);
  assert.match(((await withToken.json()) as { error: { message: string } }).error.message, /only in Kubernetes mode/);
});
