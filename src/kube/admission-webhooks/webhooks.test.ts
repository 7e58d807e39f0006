/**
 * Admission webhooks on the generic API server (in process, over the SQLite-backed store) with real
 * HTTPS webhook servers on 127.0.0.1: configurations validated and defaulted as kube-apiserver does,
 * mutating webhooks called in order with their patches applied, validating webhooks, failure
 * policies, TLS verification against caBundle, selectors, dry run, deletes and warnings.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { testKubeApi, type Send } from '../apiserver/test-server.js';
import { patchOf, startTestWebhook, testCa, type TestWebhook } from './test-webhook.js';
import { webhookMatches } from './matching.js';
import type { ResourceType } from '../registry/index.js';

const MWC = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
const VWC = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const CM = '/api/v1/namespaces/demo/configmaps';

function config(kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration', name: string, hooks: object[]): object {
  return { apiVersion: 'admissionregistration.k8s.io/v1', kind, metadata: { name }, webhooks: hooks };
}

function hook(w: TestWebhook, name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name, clientConfig: { url: w.url(), caBundle: w.caBundle }, sideEffects: 'None', admissionReviewVersions: ['v1'],
    rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
    ...extra,
  };
}

async function setup(t: Parameters<typeof testKubeApi>[0]): Promise<{ send: Send & { port: number }; w: TestWebhook }> {
  const send = await testKubeApi(t);
  const w = await startTestWebhook();
  t.after(() => w.close());
  return { send, w };
}

const cm = (name: string, labels?: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(labels ? { labels } : {}) }, data: { a: '1' } });

test('served: discovery lists both kinds cluster-scoped; a configuration is stored with kube-apiserver\'s defaults', async (t) => {
  const { send, w } = await setup(t);
  const list = (await send('GET', '/apis/admissionregistration.k8s.io/v1')).body;
  const names = list.resources.map((r: { name: string; namespaced: boolean; kind: string }) => `${r.name}:${r.namespaced}:${r.kind}`);
  assert.ok(names.includes('mutatingwebhookconfigurations:false:MutatingWebhookConfiguration'), names.join());
  assert.ok(names.includes('validatingwebhookconfigurations:false:ValidatingWebhookConfiguration'), names.join());
  const created = await send('POST', MWC, config('MutatingWebhookConfiguration', 'm', [hook(w, 'a.example.com')]));
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const h = created.body.webhooks[0];
  assert.equal(h.failurePolicy, 'Fail');
  assert.equal(h.matchPolicy, 'Equivalent');
  assert.equal(h.timeoutSeconds, 10);
  assert.equal(h.reinvocationPolicy, 'Never');
  assert.deepEqual(h.namespaceSelector, {});
  assert.deepEqual(h.objectSelector, {});
  assert.equal(h.rules[0].scope, '*');
  const v = await send('POST', VWC, config('ValidatingWebhookConfiguration', 'v', [hook(w, 'b.example.com')]));
  assert.equal(v.status, 201);
  assert.equal(v.body.webhooks[0].reinvocationPolicy, undefined);
  // the OpenAPI document describes them (kubectl explain, client-side validation)
  const doc = (await send('GET', '/openapi/v3/apis/admissionregistration.k8s.io/v1')).body;
  const schema = doc.components.schemas['io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration'];
  assert.ok(schema?.properties?.webhooks?.items?.properties?.reinvocationPolicy, Object.keys(doc.components.schemas).join());
});

test('validation: field paths and kube-apiserver\'s words, 422 Invalid', async (t) => {
  const { send, w } = await setup(t);
  const bad = await send('POST', MWC, config('MutatingWebhookConfiguration', 'bad', [
    {
      name: 'short.name', clientConfig: { url: 'http://x.example.com/a?b=c' }, admissionReviewVersions: ['v2'], failurePolicy: 'Maybe', timeoutSeconds: 31,
      rules: [{ operations: ['*', 'CREATE'], apiGroups: [], apiVersions: ['v1'], resources: ['*/*', 'pods'], scope: 'Galaxy' }],
      namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'In' }, { key: 'b', operator: 'Exists', values: ['x'] }, { key: 'c', operator: 'Near' }] },
      matchPolicy: 'Fuzzy', reinvocationPolicy: 'Always', matchConditions: [{ name: 'x', expression: 'true' }],
    },
    { name: 'dup.example.com', clientConfig: { url: w.url(), service: { namespace: 'n', name: 's' } }, sideEffects: 'Some', admissionReviewVersions: ['v1'] },
    { name: 'dup.example.com', clientConfig: { caBundle: Buffer.from('not a certificate').toString('base64') }, sideEffects: 'None', admissionReviewVersions: ['v1'] },
  ]));
  assert.equal(bad.status, 422, JSON.stringify(bad.body));
  assert.equal(bad.body.reason, 'Invalid');
  assert.match(bad.body.message, /^MutatingWebhookConfiguration\.admissionregistration\.k8s\.io "bad" is invalid: \[/);
  const causes = new Map<string, string[]>();
  for (const c of bad.body.details.causes as { field: string; message: string }[]) causes.set(c.field, [...(causes.get(c.field) ?? []), c.message]);
  const has = (field: string, re: RegExp): void => assert.ok((causes.get(field) ?? []).some((m) => re.test(m)), `${field}: ${JSON.stringify(causes.get(field))}\nall: ${JSON.stringify([...causes])}`);
  has('webhooks[0].name', /^Invalid value: "short\.name": should be a domain with at least three segments separated by dots$/);
  has('webhooks[0].clientConfig.url', /'https' is the only allowed URL scheme/);
  has('webhooks[0].clientConfig.url', /query parameters are not permitted in the URL/);
  has('webhooks[0].sideEffects', /^Required value: must specify one of None, NoneOnDryRun$/);
  has('webhooks[0].admissionReviewVersions', /^Invalid value: \[\]string\{"v2"\}: must include at least one of v1, v1beta1$/);
  has('webhooks[0].failurePolicy', /^Unsupported value: "Maybe": supported values: "Fail", "Ignore"$/);
  has('webhooks[0].timeoutSeconds', /^Invalid value: 31: the timeout value must be between 1 and 30 seconds$/);
  has('webhooks[0].rules[0].operations', /if '\*' is present, must not specify other operations/);
  has('webhooks[0].rules[0].apiGroups', /^Required value$/);
  has('webhooks[0].rules[0].resources', /if '\*\/\*' is present, must not specify other resources/);
  has('webhooks[0].rules[0].scope', /^Unsupported value: "Galaxy"/);
  has('webhooks[0].namespaceSelector.matchExpressions[0].values', /^Required value: must be specified when `operator` is 'In' or 'NotIn'$/);
  has('webhooks[0].namespaceSelector.matchExpressions[1].values', /^Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'$/);
  has('webhooks[0].namespaceSelector.matchExpressions[2].operator', /^Invalid value: "Near": not a valid selector operator$/);
  has('webhooks[0].matchPolicy', /^Unsupported value: "Fuzzy"/);
  has('webhooks[0].reinvocationPolicy', /^Unsupported value: "Always": supported values: "IfNeeded", "Never"$/);
  has('webhooks[0].matchConditions', /not supported by this API server/);
  has('webhooks[1].clientConfig', /^Required value: exactly one of url or service is required$/);
  has('webhooks[1].sideEffects', /^Unsupported value: "Some": supported values: "None", "NoneOnDryRun"$/);
  has('webhooks[2].name', /^Duplicate value: "dup\.example\.com"$/);
  has('webhooks[2].clientConfig', /exactly one of url or service is required/);
  has('webhooks[2].clientConfig.caBundle', /PEM-encoded certificate/);
  assert.equal((await send('GET', `${MWC}/bad`)).status, 404);
});

test('a mutating webhook is called with an AdmissionReview v1 and its JSON patch is stored; warnings become Warning headers', async (t) => {
  const { send, w } = await setup(t);
  w.respond = (r) => ({ uid: r.request.uid, allowed: true, warnings: ['mind the gap'], ...patchOf([{ op: 'add', path: '/metadata/labels', value: { injected: 'yes' } }]) });
  assert.equal((await send('POST', MWC, config('MutatingWebhookConfiguration', 'm', [hook(w, 'label.example.com', { timeoutSeconds: 7 })]))).status, 201);
  const answer = await raw(send.port, 'POST', CM, cm('one'));
  assert.equal(answer.status, 201, answer.text);
  assert.equal(answer.headers.warning, '299 - "mind the gap"');
  assert.deepEqual((await send('GET', `${CM}/one`)).body.metadata.labels, { injected: 'yes' });
  const review = w.reviews.at(-1)!;
  assert.equal(review.apiVersion, 'admission.k8s.io/v1');
  assert.equal(review.kind, 'AdmissionReview');
  const r = review.request;
  assert.equal(r.path, '/admit?timeout=7s');
  assert.match(r.uid, /^[0-9a-f-]{36}$/);
  assert.deepEqual(r.kind, { group: '', version: 'v1', kind: 'ConfigMap' });
  assert.deepEqual(r.resource, { group: '', version: 'v1', resource: 'configmaps' });
  assert.deepEqual(r.requestKind, r.kind);
  assert.deepEqual(r.requestResource, r.resource);
  assert.equal(r.name, 'one');
  assert.equal(r.namespace, 'demo');
  assert.equal(r.operation, 'CREATE');
  assert.deepEqual(r.userInfo, { username: 'admin', groups: ['system:masters'] });
  assert.equal(r.object.metadata.name, 'one');
  assert.equal(r.oldObject, null);
  assert.equal(r.dryRun, false);
  assert.deepEqual(r.options, { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' });
  // an update is sent with the old object; a dry run says so and stores nothing
  w.respond = (x) => ({ uid: x.request.uid, allowed: true });
  assert.equal((await send('PUT', `${CM}/one`, { ...cm('one'), data: { a: '2' } })).status, 200);
  assert.equal(w.reviews.at(-1)!.request.operation, 'UPDATE');
  assert.equal(w.reviews.at(-1)!.request.oldObject.data.a, '1');
  assert.equal((await send('POST', `${CM}?dryRun=All`, cm('dry'))).status, 201);
  assert.equal(w.reviews.at(-1)!.request.dryRun, true);
  assert.deepEqual(w.reviews.at(-1)!.request.options.dryRun, ['All']);
  assert.equal((await send('GET', `${CM}/dry`)).status, 404);
});

test('mutating webhooks run in order of configuration name, each seeing the previous patch; then the validating ones see the result', async (t) => {
  const { send, w } = await setup(t);
  const v = await startTestWebhook();
  t.after(() => v.close());
  const seen: string[] = [];
  w.respond = (r) => {
    const order = r.request.object.metadata.annotations?.order ?? '';
    const name = r.request.path.includes('first') ? 'first' : 'second';
    seen.push(name);
    return { uid: r.request.uid, allowed: true, ...patchOf([{ op: 'add', path: '/metadata/annotations', value: { order: `${order}${name};` } }]) };
  };
  // created out of order: "b-…" before "a-…"
  assert.equal((await send('POST', MWC, config('MutatingWebhookConfiguration', 'b-second', [{ ...hook(w, 'second.example.com'), clientConfig: { url: w.url('/second'), caBundle: w.caBundle } }]))).status, 201);
  assert.equal((await send('POST', MWC, config('MutatingWebhookConfiguration', 'a-first', [{ ...hook(w, 'first.example.com'), clientConfig: { url: w.url('/first'), caBundle: w.caBundle } }]))).status, 201);
  v.respond = (r) => (r.request.object.metadata.annotations?.order === 'first;second;'
    ? { uid: r.request.uid, allowed: true }
    : { uid: r.request.uid, allowed: false, status: { code: 403, reason: 'Forbidden', message: `order was ${r.request.object.metadata.annotations?.order}` } });
  assert.equal((await send('POST', VWC, config('ValidatingWebhookConfiguration', 'check', [hook(v, 'order.example.com')]))).status, 201);
  const created = await send('POST', CM, cm('ordered'));
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual(seen, ['first', 'second']);
  assert.equal(created.body.metadata.annotations.order, 'first;second;');
  // a validating refusal: the webhook's code and reason, kube-apiserver's message
  v.respond = (r) => ({ uid: r.request.uid, allowed: false, status: { code: 403, reason: 'Forbidden', message: 'no more' } });
  const refused = await send('POST', CM, cm('refused'));
  assert.equal(refused.status, 403);
  assert.equal(refused.body.reason, 'Forbidden');
  assert.equal(refused.body.message, 'admission webhook "order.example.com" denied the request: no more');
  assert.equal((await send('GET', `${CM}/refused`)).status, 404);
});

test('a refusal without a status is 400 "denied the request without explanation"', async (t) => {
  const { send, w } = await setup(t);
  w.respond = (r) => ({ uid: r.request.uid, allowed: false });
  await send('POST', MWC, config('MutatingWebhookConfiguration', 'm', [hook(w, 'deny.example.com')]));
  const r = await send('POST', CM, cm('x'));
  assert.equal(r.status, 400);
  assert.equal(r.body.message, 'admission webhook "deny.example.com" denied the request without explanation');
});

test('failurePolicy: Fail refuses with "failed calling webhook", Ignore lets the write through; TLS is verified against caBundle and the URL\'s host', async (t) => {
  const { send, w } = await setup(t);
  const url = w.url();
  await w.close();
  await send('POST', MWC, config('MutatingWebhookConfiguration', 'm', [hook(w, 'down.example.com', { clientConfig: { url, caBundle: w.caBundle } })]));
  const r = await send('POST', CM, cm('x'));
  assert.equal(r.status, 500, JSON.stringify(r.body));
  assert.equal(r.body.reason, 'InternalError');
  assert.match(r.body.message, /^Internal error occurred: failed calling webhook "down\.example\.com": failed to call webhook: Post "https:\/\/127\.0\.0\.1:\d+\/admit\?timeout=10s": .*connection refused/);
  // Ignore: the write goes through
  const current = (await send('GET', `${MWC}/m`)).body;
  current.webhooks[0].failurePolicy = 'Ignore';
  assert.equal((await send('PUT', `${MWC}/m`, current)).status, 200);
  assert.equal((await send('POST', CM, cm('x'))).status, 201);

  // a webhook whose certificate another CA issued, and one whose certificate does not name the URL's host
  const other = await startTestWebhook({ ca: await testCa('other') });
  const wrongName = await startTestWebhook({ names: { dns: ['webhook.example.com'] } });
  t.after(() => other.close());
  t.after(() => wrongName.close());
  await send('DELETE', `${MWC}/m`);
  await send('POST', MWC, config('MutatingWebhookConfiguration', 'tls', [
    hook(other, 'ca.example.com', { clientConfig: { url: other.url(), caBundle: w.caBundle } }),
  ]));
  const badCa = await send('POST', CM, cm('y'));
  assert.equal(badCa.status, 500);
  assert.match(badCa.body.message, /failed calling webhook "ca\.example\.com": .*x509: certificate signed by unknown authority/);
  assert.equal(other.reviews.length, 0);
  await send('DELETE', `${MWC}/tls`);
  await send('POST', MWC, config('MutatingWebhookConfiguration', 'tls', [hook(wrongName, 'name.example.com')]));
  const badName = await send('POST', CM, cm('y'));
  assert.equal(badName.status, 500);
  assert.match(badName.body.message, /failed calling webhook "name\.example\.com": .*x509: .*127\.0\.0\.1/);
});

test('timeoutSeconds bounds the call: "context deadline exceeded"', async (t) => {
  const { send, w } = await setup(t);
  w.respond = async (r) => {
    await new Promise((res) => setTimeout(res, 1500));
    return { uid: r.request.uid, allowed: true };
  };
  await send('POST', VWC, config('ValidatingWebhookConfiguration', 'slow', [hook(w, 'slow.example.com', { timeoutSeconds: 1 })]));
  const started = Date.now();
  const r = await send('POST', CM, cm('x'));
  assert.equal(r.status, 500);
  assert.match(r.body.message, /failed calling webhook "slow\.example\.com": failed to call webhook: Post "[^"]+\?timeout=1s": context deadline exceeded/);
  assert.ok(Date.now() - started < 1450, 'answered at the timeout');
});

test('namespaceSelector, objectSelector, operations and subresource rules decide who is called; deletes too', async (t) => {
  const { send, w } = await setup(t);
  await send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'watched', labels: { team: 'a' } } });
  await send('POST', MWC, config('MutatingWebhookConfiguration', 'sel', [hook(w, 'sel.example.com', {
    namespaceSelector: { matchLabels: { team: 'a' } }, objectSelector: { matchExpressions: [{ key: 'skip', operator: 'DoesNotExist' }] },
    rules: [{ operations: ['CREATE', 'DELETE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], scope: 'Namespaced' }],
  })]));
  await send('POST', CM, cm('unwatched'));
  assert.equal(w.reviews.length, 0, 'namespace demo is not selected');
  await send('POST', '/api/v1/namespaces/watched/configmaps', cm('skipped', { skip: 'yes' }));
  assert.equal(w.reviews.length, 0, 'the object selector skips it');
  await send('POST', '/api/v1/namespaces/watched/configmaps', cm('called'));
  assert.equal(w.reviews.length, 1);
  await send('PUT', '/api/v1/namespaces/watched/configmaps/called', { ...cm('called'), data: { a: '3' } });
  assert.equal(w.reviews.length, 1, 'UPDATE is not in the rules');
  w.respond = (r) => ({ uid: r.request.uid, allowed: false, status: { message: `keep ${r.request.oldObject.metadata.name}` } });
  const del = await send('DELETE', '/api/v1/namespaces/watched/configmaps/called');
  assert.equal(del.status, 400);
  assert.equal(del.body.message, 'admission webhook "sel.example.com" denied the request: keep called');
  assert.equal(w.reviews.at(-1)!.request.operation, 'DELETE');
  assert.equal(w.reviews.at(-1)!.request.object, null);
  assert.deepEqual(w.reviews.at(-1)!.request.options, { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions' });
  // webhook configurations are never sent to webhooks: the configuration can always be removed
  assert.equal((await send('DELETE', `${MWC}/sel`)).status, 200);
  assert.equal((await send('DELETE', '/api/v1/namespaces/watched/configmaps/called')).status, 200);
});

test('rule matching: wildcards, subresources, scope, Namespaces by their own labels, matchPolicy', () => {
  const type = (plural: string, namespaced = true, versions = ['v1']): ResourceType => ({
    group: plural === 'deployments' ? 'apps' : '', kind: 'K', listKind: 'KList', plural, singular: plural, shortNames: [], categories: [], namespaced,
    verbs: [], subresources: ['status'], builtIn: true, versions: versions.map((name, i) => ({ name, storage: i === 0 })),
  });
  const w = (resources: string[], extra: object = {}) => ({
    name: 'x.y.z', clientConfig: {}, admissionReviewVersions: ['v1'], rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['v1'], resources, scope: '*' as const }], ...extra,
  });
  const pods = type('pods');
  const m = (hook: object, req: object) => webhookMatches(hook as never, { operation: 'CREATE', type: pods, version: 'v1', ...req } as never);
  assert.equal(m(w(['pods']), {}), 'v1');
  assert.equal(m(w(['pods']), { subresource: 'status' }), undefined);
  assert.equal(m(w(['pods/status']), { subresource: 'status' }), 'v1');
  assert.equal(m(w(['pods/*']), {}), undefined);
  assert.equal(m(w(['pods/*']), { subresource: 'status' }), 'v1');
  assert.equal(m(w(['*']), { subresource: 'status' }), undefined);
  assert.equal(m(w(['*/status']), { subresource: 'status' }), 'v1');
  assert.equal(m(w(['*/*']), { subresource: 'log' }), 'v1');
  const cluster = w(['*'], { rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'], scope: 'Cluster' }] });
  assert.equal(m(cluster, {}), undefined);
  // a Namespace is selected by its own labels; other cluster-scoped objects ignore namespaceSelector
  const nsType = { ...type('namespaces', false), kind: 'Namespace' };
  const selecting = w(['*'], { namespaceSelector: { matchLabels: { team: 'a' } } });
  const req = (t: ResourceType, labels: Record<string, string> | undefined) => ({ operation: 'CREATE', type: t, version: 'v1', object: { metadata: { name: 'n', labels } } });
  assert.equal(webhookMatches(selecting as never, req(nsType, { team: 'a' }) as never), 'v1');
  assert.equal(webhookMatches(selecting as never, req(nsType, { team: 'b' }) as never), undefined);
  assert.equal(webhookMatches(selecting as never, req(type('clusterroles', false), {}) as never), 'v1');
  // matchPolicy Equivalent matches the same resource at another served version; Exact does not
  const multi = type('widgets', true, ['v2', 'v1']);
  const eq = { operation: 'CREATE', type: multi, version: 'v2' };
  assert.equal(webhookMatches(w(['widgets'], { matchPolicy: 'Equivalent' }) as never, eq as never), 'v1');
  assert.equal(webhookMatches(w(['widgets'], { matchPolicy: 'Exact' }) as never, eq as never), undefined);
});

function raw(port: number, method: string, path: string, body: unknown): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(text);
  });
}
