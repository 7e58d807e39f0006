/**
 * Pods on the local API, admitted as kube-apiserver admits them: the deployment controller creates
 * its pods through the API's whole chain as the replicaset controller (a stored mutating webhook
 * with failurePolicy Fail keeps them from being created while it is down, and the Deployment says
 * why; a ValidatingAdmissionPolicy refuses them), and a pod written through the API meets the same
 * webhooks and the local mesh's injector, as its writer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deployment, Pod } from '../../api/types.js';
import { freePort } from '../../lib/test-processes.js';
import { patchOf, startTestWebhook, type TestWebhook } from '../../kube/admission-webhooks/test-webhook.js';
import { startTestMesh, type TestMesh } from '../apiserver/api-fixtures.js';
import { deployment, waitFor } from '../controllers/controller-fixtures.js';
import { APP_ADDRESS_ANNOTATION, httpInjectorClient, type LocalDeploymentStatus } from '../controllers/index.js';
import { localIPFor } from '../layout.js';

const MONITORED = 'flomesh.io/monitored-by';

async function kube(mesh: TestMesh, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await mesh.transport.fetch(`${mesh.url}${path}`, {
    method, headers: { authorization: `Bearer ${mesh.token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, body: await r.json() };
}

async function must(mesh: TestMesh, method: string, path: string, body?: unknown): Promise<any> {
  const r = await kube(mesh, method, path, body);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const ns = (name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, annotations } });

function mutatingConfig(name: string, url: string, caBundle: string, mesh: string): Record<string, unknown> {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name },
    webhooks: [{
      name: `${name}.test.tessera.dev`, clientConfig: { url, caBundle }, sideEffects: 'None', admissionReviewVersions: ['v1'], failurePolicy: 'Fail',
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
      namespaceSelector: { matchLabels: { [MONITORED]: mesh } },
    }],
  };
}

const replicaFailure = (d: Deployment | undefined): string | undefined => {
  const c = (d?.status as LocalDeploymentStatus | undefined)?.conditions?.find((x) => x.type === 'ReplicaFailure');
  return c?.status === 'True' ? `${c.reason}: ${c.message}` : undefined;
};

test('the deployment controller creates pods through the API\'s admission chain, as the replicaset controller', async (t) => {
  const mesh = await startTestMesh(t);
  const hook: TestWebhook = await startTestWebhook();
  t.after(() => hook.close());
  await must(mesh, 'POST', '/api/v1/namespaces', ns('apps', { [MONITORED]: 'fsm' }));
  // failurePolicy Fail, nobody listening: no pod, and the Deployment says why
  const down = await freePort();
  await must(mesh, 'POST', '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', mutatingConfig('fsm-inject', `https://127.0.0.1:${down}/mutate`, hook.caBundle, 'fsm'));
  await must(mesh, 'POST', '/apis/apps/v1/namespaces/apps/deployments', deployment('web', 'apps', 1));
  const web = () => mesh.store.get({ group: 'apps', kind: 'Deployment', namespace: 'apps', name: 'web' }) as Deployment | undefined;
  await waitFor('the refusal on the Deployment', () => replicaFailure(web()) !== undefined);
  assert.match(replicaFailure(web())!, new RegExp(`^FailedCreate: Internal error occurred: failed calling webhook "fsm-inject\\.test\\.tessera\\.dev": failed to call webhook: Post "https://127\\.0\\.0\\.1:${down}/mutate\\?timeout=10s": .*connection refused`));
  assert.equal(mesh.store.list('Pod', 'apps').length, 0, 'failurePolicy Fail: no pod');
  const events = () => mesh.store.list('Event', 'apps') as unknown as { reason: string; type: string; message: string; count: number; involvedObject: { kind: string; name: string } }[];
  await waitFor('a retry counted on the FailedCreate Event', () => (events().find((e) => e.reason === 'FailedCreate')?.count ?? 0) >= 2);
  const event = events().find((e) => e.reason === 'FailedCreate')!;
  assert.equal(event.type, 'Warning');
  assert.deepEqual([event.involvedObject.kind, event.involvedObject.name], ['Deployment', 'web']);
  assert.match(event.message, /^Error creating: Internal error occurred: failed calling webhook "fsm-inject\.test\.tessera\.dev"/);
  assert.equal(events().filter((e) => e.reason === 'FailedCreate').length, 1, 'repeats counted on one Event');

  // the webhook answers (the controller retries with backoff): the pod is created as it patched it
  hook.respond = (r) => ({ uid: r.request.uid, allowed: true, ...patchOf([{ op: 'add', path: '/metadata/labels/injected', value: 'yes' }]) });
  const config = await must(mesh, 'GET', '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/fsm-inject');
  config.webhooks[0].clientConfig.url = hook.url('/mutate');
  await must(mesh, 'PUT', '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/fsm-inject', config);
  await waitFor('the pod', () => mesh.store.list('Pod', 'apps').length === 1);
  const pod = mesh.store.list('Pod', 'apps')[0] as Pod;
  assert.equal(pod.metadata.labels?.injected, 'yes', 'stored as the webhook patched it');
  assert.equal(pod.metadata.ownerReferences?.[0]?.name, 'web');
  assert.match(pod.status?.podIP ?? '', new RegExp(`^127\\.${mesh.block}\\.`), 'an address of the block, given as it was stored');
  const review = hook.reviews.find((r) => r.request.operation === 'CREATE' && r.request.namespace === 'apps')!;
  assert.equal(review.request.userInfo.username, 'system:serviceaccount:kube-system:replicaset-controller');
  assert.equal(review.request.object.status.podIP, undefined, 'webhooks never see an address');
  assert.equal(review.request.object.spec.serviceAccountName, 'default', 'the ServiceAccount admission ran first');
  await waitFor('the failure is cleared', () => replicaFailure(web()) === undefined);

  // a ValidatingAdmissionPolicy applies to the controller's requests too
  await must(mesh, 'POST', '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies', {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name: 'no-big' },
    spec: {
      matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] },
      validations: [{ expression: '!has(object.metadata.labels.size) || object.metadata.labels.size != "big"', message: 'no big pods' }],
    },
  });
  await must(mesh, 'POST', '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings', {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: 'no-big' }, spec: { policyName: 'no-big', validationActions: ['Deny'] },
  });
  const big = deployment('big', 'apps', 1);
  big.spec!.template.metadata!.labels = { app: 'big', size: 'big' };
  big.spec!.selector = { matchLabels: { app: 'big' } };
  await must(mesh, 'POST', '/apis/apps/v1/namespaces/apps/deployments', big);
  const bigD = () => mesh.store.get({ group: 'apps', kind: 'Deployment', namespace: 'apps', name: 'big' }) as Deployment | undefined;
  await waitFor('the policy\'s refusal on the Deployment', () => replicaFailure(bigD()) !== undefined);
  assert.match(replicaFailure(bigD())!, /ValidatingAdmissionPolicy 'no-big' with binding 'no-big' denied request: no big pods/);
  assert.equal(mesh.store.list('Pod', 'apps').filter((p) => p.metadata.labels?.app === 'big').length, 0);
});

test('a pod written through the API meets the same webhooks as its writer, and the local mesh\'s injector', async (t) => {
  const mesh = await startTestMesh(t);
  const hook: TestWebhook = await startTestWebhook();
  t.after(() => hook.close());
  await must(mesh, 'POST', '/api/v1/namespaces', ns('apps', { [MONITORED]: 'fsm' }));
  await must(mesh, 'POST', '/api/v1/namespaces', ns('meshed', { [MONITORED]: 'tessera' }, { 'flomesh.io/sidecar-injection': 'enabled' }));
  await must(mesh, 'POST', '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', mutatingConfig('fsm-inject', hook.url('/mutate'), hook.caBundle, 'fsm'));
  const pod = (name: string, namespace: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { containers: [{ name: 'app', image: 'kennethreitz/httpbin' }] } });

  // the stored webhook refuses: nothing stored, kube-apiserver's words
  hook.respond = (r) => ({ uid: r.request.uid, allowed: false, status: { code: 403, message: 'not today' } });
  const refused = await kube(mesh, 'POST', '/api/v1/namespaces/apps/pods', pod('a', 'apps'));
  assert.equal(refused.status, 403);
  assert.equal(refused.body.message, 'admission webhook "fsm-inject.test.tessera.dev" denied the request: not today');
  assert.equal(mesh.store.get({ kind: 'Pod', namespace: 'apps', name: 'a' }), undefined);
  hook.respond = (r) => ({ uid: r.request.uid, allowed: true });
  const created = await must(mesh, 'POST', '/api/v1/namespaces/apps/pods', pod('a', 'apps'));
  assert.match(created.status.podIP, new RegExp(`^127\\.${mesh.block}\\.`));
  assert.equal(hook.reviews.at(-1)!.request.userInfo.username, 'system:tessera:control-plane', 'the writer, not the controller');

  // the local mesh's own namespace: its injector adds the sidecar; the app moves to the private twin
  const meshed = await must(mesh, 'POST', '/api/v1/namespaces/meshed/pods', pod('b', 'meshed'));
  assert.ok((meshed.spec.containers as { name: string }[]).some((c) => c.name === 'sidecar'), 'injected by the local mesh');
  assert.equal(meshed.metadata.annotations[APP_ADDRESS_ANNOTATION], localIPFor(meshed.status.podIP));
  assert.equal(hook.reviews.filter((r) => r.request.namespace === 'meshed').length, 0, 'fsm\'s webhook does not cover it');

  // a dry run is admitted but neither stored nor given an address
  const dry = await must(mesh, 'POST', '/api/v1/namespaces/apps/pods?dryRun=All', pod('c', 'apps'));
  assert.equal(dry.status.podIP, undefined);
  assert.equal(mesh.store.get({ kind: 'Pod', namespace: 'apps', name: 'c' }), undefined);
  // deleting it removes it from the store (the runtime stops its processes on that event)
  await must(mesh, 'DELETE', '/api/v1/namespaces/apps/pods/a');
  assert.equal(mesh.store.get({ kind: 'Pod', namespace: 'apps', name: 'a' }), undefined);
});

test('the local mesh\'s injector is called in the chain, with failurePolicy Fail: while it is down its namespaces get no pods, others do', async (t) => {
  const port = await freePort();
  const injector = httpInjectorClient({ baseUrl: `http://127.0.0.1:${port}`, token: 'unused' });
  t.after(() => injector.close());
  const mesh = await startTestMesh(t, { injector });
  await must(mesh, 'POST', '/api/v1/namespaces', ns('meshed', { [MONITORED]: 'tessera' }, { 'flomesh.io/sidecar-injection': 'enabled' }));
  await must(mesh, 'POST', '/api/v1/namespaces', ns('plain'));
  await must(mesh, 'POST', '/apis/apps/v1/namespaces/meshed/deployments', deployment('web', 'meshed', 1));
  await must(mesh, 'POST', '/apis/apps/v1/namespaces/plain/deployments', deployment('app', 'plain', 1));
  const web = () => mesh.store.get({ group: 'apps', kind: 'Deployment', namespace: 'meshed', name: 'web' }) as Deployment | undefined;
  await waitFor('the refusal on the Deployment', () => replicaFailure(web()) !== undefined);
  assert.match(replicaFailure(web())!, new RegExp(`^FailedCreate: Internal error occurred: failed calling webhook "tessera-injector\\.tessera-system": Post "http://127\\.0\\.0\\.1:${port}/mutate-pod-creation": .*ECONNREFUSED`));
  await waitFor('the unmeshed pod', () => mesh.store.list('Pod', 'plain').length === 1);
  assert.equal(mesh.store.list('Pod', 'meshed').length, 0, 'no meshed pod without its injector');
  // a pod written through the API meets the same refusal
  const r = await kube(mesh, 'POST', '/api/v1/namespaces/meshed/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'kennethreitz/httpbin' }] } });
  assert.equal(r.status, 500);
  assert.match(r.body.message, /^Internal error occurred: failed calling webhook "tessera-injector\.tessera-system"/);
});
