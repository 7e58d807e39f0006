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
  assert.ok(patch.some((o) => o.op === 'add' && o.path === '/spec/containers/-'), 'the sidecar is appended, not the array replaced');
  assert.ok(patch.some((o) => o.op === 'add' && o.path === '/metadata/labels/fsm-proxy-uuid'), 'label key escaped as a pointer segment');
  const patched = applyJsonPatch(p, patch);
  assert.deepEqual(patched.spec!.containers.map((c) => c.name), ['web', 'sidecar']);
  assert.equal(patched.metadata.labels!['app.kubernetes.io/name'], 'web');
  assert.equal(patched.metadata.name, undefined, 'a generateName pod keeps no name of ours');
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
});

test('local mode: an AdmissionReview is refused (no token: 401; with it: 400, no API access)', async () => {
  const url = await serve({ meshName: MESH, token: 'local-token' });
  assert.equal((await post(url, reviewOf(pod()))).status, 401);
  const withToken = await post(url, reviewOf(pod()), 'local-token');
  assert.equal(withToken.status, 400);
  assert.match(((await withToken.json()) as { error: { message: string } }).error.message, /only in Kubernetes mode/);
});
