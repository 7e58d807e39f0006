/**
 * ValidatingAdmissionPolicy on the generic API server (in process, over the SQLite-backed store):
 * served and defaulted as kube-apiserver does, validated with its field paths (CEL compiled and
 * type-checked at creation, params and authorizer refused), and enforced on create, update and
 * delete — the install's own `<mesh>-controller-secrets` policy included — with matchConstraints,
 * binding matchResources, matchConditions, variables, messages, reasons, failurePolicy and the
 * Deny / Warn / Audit actions.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { renderInstall } from '../../install/index.js';
import { testKubeApi, type Send } from '../apiserver/test-server.js';
import { compile, toCel } from './cel.js';

const VAP = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';
const VAPB = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings';
const CM = '/api/v1/namespaces/demo/configmaps';
const SECRETS = '/api/v1/namespaces/demo/secrets';

const policy = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name }, spec });
const binding = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name }, spec });
const cmRules = { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], operations: ['CREATE', 'UPDATE', 'DELETE'] }] };
const cm = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(labels ? { labels } : {}) }, data });

function raw(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, method, path, headers: { accept: 'application/json', ...(text ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

async function ok(send: Send, method: string, path: string, body: unknown, status = 201): Promise<any> {
  const r = await send(method, path, body);
  assert.equal(r.status, status, JSON.stringify(r.body));
  return r.body;
}

test('served: discovery, OpenAPI, and the stored policy and binding with kube-apiserver\'s defaults', async (t) => {
  const send = await testKubeApi(t);
  const list = (await send('GET', '/apis/admissionregistration.k8s.io/v1')).body;
  const names = list.resources.map((r: { name: string; namespaced: boolean; kind: string }) => `${r.name}:${r.namespaced}:${r.kind}`);
  assert.ok(names.includes('validatingadmissionpolicies:false:ValidatingAdmissionPolicy'), names.join());
  assert.ok(names.includes('validatingadmissionpolicies/status:false:ValidatingAdmissionPolicy'), names.join());
  assert.ok(names.includes('validatingadmissionpolicybindings:false:ValidatingAdmissionPolicyBinding'), names.join());
  const p = await ok(send, 'POST', VAP, policy('p', { matchConstraints: cmRules, validations: [{ expression: 'true' }] }));
  assert.equal(p.spec.failurePolicy, 'Fail');
  assert.equal(p.spec.matchConstraints.matchPolicy, 'Equivalent');
  assert.deepEqual(p.spec.matchConstraints.namespaceSelector, {});
  assert.deepEqual(p.spec.matchConstraints.objectSelector, {});
  assert.equal(p.spec.matchConstraints.resourceRules[0].scope, '*');
  const b = await ok(send, 'POST', VAPB, binding('b', { policyName: 'p', validationActions: ['Deny'], matchResources: { resourceRules: cmRules.resourceRules } }));
  assert.equal(b.spec.matchResources.matchPolicy, 'Equivalent');
  const doc = (await send('GET', '/openapi/v3/apis/admissionregistration.k8s.io/v1')).body;
  const schema = doc.components.schemas['io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy'];
  assert.ok(schema?.properties?.spec?.properties?.validations?.items?.properties?.messageExpression, Object.keys(doc.components.schemas).join());
});

test('validation: field paths and kube-apiserver\'s words; CEL compiled and type-checked; params and authorizer refused', async (t) => {
  const send = await testKubeApi(t);
  const bad = await send('POST', VAP, policy('bad', {
    paramKind: { apiVersion: 'v1', kind: 'ConfigMap' },
    failurePolicy: 'Sometimes',
    matchConstraints: { resourceRules: [{ apiGroups: [], apiVersions: ['v1'], resources: ['configmaps'], operations: ['CREATE', 'PATCH'], scope: 'Galaxy' }] },
    variables: [{ name: 'not-an-identifier', expression: '1' }, { name: 'ok', expression: 'object.metadata.name' }],
    matchConditions: [{ name: 'mc', expression: 'request.userInfo.username ==' }],
    validations: [
      { expression: 'object.x ==' },
      { expression: "authorizer.group('').resource('pods').check('get').allowed()" },
      { expression: 'params.limit > 1' },
      { expression: '1 + "a" == 2', reason: 'Teapot', message: 'two\nlines' },
      { expression: 'variables.nope' },
    ],
  }));
  assert.equal(bad.status, 422, JSON.stringify(bad.body));
  assert.equal(bad.body.reason, 'Invalid');
  assert.match(bad.body.message, /^ValidatingAdmissionPolicy\.admissionregistration\.k8s\.io "bad" is invalid: \[/);
  const causes = new Map<string, string[]>();
  for (const c of bad.body.details.causes) causes.set(c.field, [...(causes.get(c.field) ?? []), c.message]);
  const has = (field: string, re: RegExp) => assert.ok((causes.get(field) ?? []).some((m) => re.test(m)), `${field}: ${JSON.stringify([...causes])}`);
  has('spec.paramKind', /^Forbidden: params \(paramKind\) are not supported by this API server$/);
  has('spec.failurePolicy', /^Unsupported value: "Sometimes": supported values: "Fail", "Ignore"$/);
  has('spec.matchConstraints.resourceRules[0].apiGroups', /^Required value$/);
  has('spec.matchConstraints.resourceRules[0].operations[1]', /^Unsupported value: "PATCH"/);
  has('spec.matchConstraints.resourceRules[0].scope', /^Unsupported value: "Galaxy"/);
  has('spec.variables[0].name', /name is not a valid CEL identifier/);
  has('spec.matchConditions[0].expression', /^Invalid value: "request\.userInfo\.username ==": compilation failed: ERROR: <input>:1:\d+: Syntax error: /);
  has('spec.validations[0].expression', /^Invalid value: "object\.x ==": compilation failed: ERROR: <input>:1:11: Syntax error: Unexpected token: EOF$/);
  has('spec.validations[1].expression', /authorizer is not supported by this API server$/);
  has('spec.validations[2].expression', /params is not supported by this API server$/);
  has('spec.validations[3].expression', /compilation failed: .*no such overload: int \+ string/);
  has('spec.validations[3].reason', /^Unsupported value: "Teapot": supported values: "Forbidden", "Invalid", "RequestEntityTooLarge", "Unauthorized"$/);
  has('spec.validations[3].message', /message must not contain line breaks/);
  has('spec.validations[4].expression', /undefined field 'nope'/);
  assert.equal((await send('GET', `${VAP}/bad`)).status, 404);
  // neither validations nor matchConstraints
  const empty = await send('POST', VAP, policy('empty', {}));
  assert.equal(empty.status, 422);
  assert.ok(empty.body.details.causes.some((c: { field: string; message: string }) => c.field === 'spec.matchConstraints' && c.message === 'Required value'));
  assert.ok(empty.body.details.causes.some((c: { field: string; message: string }) => c.field === 'spec.validations' && /validations or auditAnnotations must contain at least one item/.test(c.message)));
  const b = await send('POST', VAPB, binding('b', { paramRef: { name: 'x' }, validationActions: ['Deny', 'Warn', 'Deny', 'Shout'] }));
  assert.equal(b.status, 422, JSON.stringify(b.body));
  const bc = b.body.details.causes.map((c: { field: string; message: string }) => `${c.field}: ${c.message}`).join('\n');
  assert.match(bc, /spec\.policyName: Required value/);
  assert.match(bc, /spec\.paramRef: Forbidden: params \(paramRef\) are not supported by this API server/);
  assert.match(bc, /spec\.validationActions\[2\]: Duplicate value: "Deny"/);
  assert.match(bc, /spec\.validationActions\[3\]: Unsupported value: "Shout": supported values: "Audit", "Deny", "Warn"/);
  assert.match(bc, /spec\.validationActions: Invalid value: .*must not contain both Deny and Warn/);
  const none = await send('POST', VAPB, binding('none', { policyName: 'p' }));
  assert.match(JSON.stringify(none.body.details.causes), /at least one validation action is required/);
});

test('the install\'s controller-secrets policy, enforced: the controller writes only the Secrets it issues', async (t) => {
  const send = await testKubeApi(t);
  const objs = renderInstall().filter((o) => o.kind.startsWith('ValidatingAdmissionPolicy')) as any[];
  assert.equal(objs.length, 2);
  // the test server's user is "admin": let the policy judge it as it judges the controller's ServiceAccount
  const p = structuredClone(objs[0]);
  p.spec.matchConditions[0].expression = "request.userInfo.username == 'admin'";
  await ok(send, 'POST', SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'preexisting' }, data: {} });
  await ok(send, 'POST', VAP, p);
  await ok(send, 'POST', VAPB, objs[1]);
  const name = p.metadata.name as string;
  const foreign = await send('POST', SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'users' }, stringData: { a: 'b' } });
  assert.equal(foreign.status, 403, JSON.stringify(foreign.body));
  assert.equal(foreign.body.reason, 'Forbidden');
  assert.equal(foreign.body.message, `secrets "users" is forbidden: ValidatingAdmissionPolicy '${name}' with binding '${name}' denied request: the mesh controller may write only the Secrets it issues (AccessCert Secrets, the CA bundle), not this one`);
  assert.deepEqual(foreign.body.details.kind, 'secrets');
  const own = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cert', annotations: { 'policy.flomesh.io/access-cert': 'demo/ac' } }, data: {} };
  const created = await ok(send, 'POST', SECRETS, own);
  // taking the annotation away makes it not its own: refused; keeping it: allowed
  const stripped = await send('PUT', `${SECRETS}/cert`, { ...created, metadata: { ...created.metadata, annotations: {} } });
  assert.equal(stripped.status, 403);
  await ok(send, 'PUT', `${SECRETS}/cert`, { ...created, data: { x: 'eQ==' } }, 200);
  // adding the annotation to a Secret that is not its own takes nothing over
  const pre = (await send('GET', `${SECRETS}/preexisting`)).body;
  assert.equal((await send('PUT', `${SECRETS}/preexisting`, { ...pre, metadata: { ...pre.metadata, annotations: { 'policy.flomesh.io/access-cert': 'x/y' } } })).status, 403);
  assert.equal((await send('DELETE', `${SECRETS}/preexisting`)).status, 403);
  assert.equal((await send('DELETE', `${SECRETS}/cert`)).status, 200);
  // other kinds and other users are not judged
  await ok(send, 'POST', CM, cm('free'));
  const other = structuredClone(p);
  other.spec.matchConditions[0].expression = "request.userInfo.username == 'someone-else'";
  const current = (await send('GET', `${VAP}/${name}`)).body;
  await ok(send, 'PUT', `${VAP}/${name}`, { ...other, metadata: current.metadata }, 200);
  await ok(send, 'POST', SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'users' }, data: {} });
});

test('matching: resourceRules, resourceNames, excludeResourceRules, namespaceSelector, objectSelector and the binding\'s matchResources', async (t) => {
  const send = await testKubeApi(t);
  await ok(send, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod', labels: { env: 'prod' } } });
  await ok(send, 'POST', VAP, policy('no-x', {
    matchConstraints: {
      resourceRules: [{ apiGroups: [''], apiVersions: ['*'], resources: ['configmaps'], operations: ['CREATE'] }],
      excludeResourceRules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], operations: ['*'], resourceNames: ['exempt'] }],
      objectSelector: { matchExpressions: [{ key: 'skip', operator: 'DoesNotExist' }] },
    },
    validations: [{ expression: "!has(object.data) || !('x' in object.data)", message: 'no x' }],
  }));
  await ok(send, 'POST', VAPB, binding('no-x-prod', { policyName: 'no-x', validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { env: 'prod' } } } }));
  const prod = '/api/v1/namespaces/prod/configmaps';
  assert.equal((await send('POST', prod, cm('a', { x: '1' }))).status, 422);
  await ok(send, 'POST', CM, cm('a', { x: '1' })); // namespace demo is not selected by the binding
  await ok(send, 'POST', prod, cm('exempt', { x: '1' }));
  await ok(send, 'POST', prod, cm('skipped', { x: '1' }, { skip: 'yes' }));
  await ok(send, 'POST', prod, cm('fine', { y: '1' }));
  // UPDATE is not among the policy's operations
  const fine = (await send('GET', `${prod}/fine`)).body;
  await ok(send, 'PUT', `${prod}/fine`, { ...fine, data: { x: '1' } }, 200);
  // a binding of a policy that does not exist binds nothing
  await ok(send, 'POST', VAPB, binding('dangling', { policyName: 'missing', validationActions: ['Deny'] }));
  await ok(send, 'POST', CM, cm('b'));
});

test('variables, messageExpression, reason, namespaceObject, request, the CEL functions; Warn and Audit; failurePolicy', async (t) => {
  const send = await testKubeApi(t);
  await ok(send, 'POST', VAP, policy('rules', {
    matchConstraints: cmRules,
    variables: [
      { name: 'data', expression: 'object != null && has(object.data) ? object.data : {}' },
      { name: 'keys', expression: 'variables.data.map(k, k)' },
    ],
    validations: [
      { expression: "variables.keys.all(k, k.matches('^[a-z]+$') && !k.startsWith('tmp') && !k.endsWith('bak') && !k.contains('secret'))", messageExpression: "'bad key in ' + object.metadata.name + ': ' + string(size(variables.keys)) + ' keys'", reason: 'Forbidden' },
      { expression: "!variables.keys.exists(k, k == 'big') || size(variables.data['big']) < 5", message: 'too big', reason: 'RequestEntityTooLarge' },
      { expression: "namespaceObject.metadata.name == 'demo' && request.namespace == 'demo' && request.kind.kind == 'ConfigMap' && request.resource.resource == 'configmaps' && request.userInfo.username == 'admin' && 'system:masters' in request.userInfo.groups" },
      { expression: "request.operation != 'UPDATE' || oldObject.metadata.name == object.metadata.name" },
      { expression: "object == null || object.metadata.name.replace('-', '').size() > 0 && [3, 1].sum() == 4 && !['a', 'b'].isSorted() == false" },
    ],
  }));
  await ok(send, 'POST', VAPB, binding('rules', { policyName: 'rules', validationActions: ['Deny'] }));
  await ok(send, 'POST', CM, cm('good', { abc: 'x', big: '1234' }));
  const badKey = await send('POST', CM, cm('badkey', { tmpfile: 'x', other: 'y' }));
  assert.equal(badKey.status, 403, JSON.stringify(badKey.body));
  assert.match(badKey.body.message, /denied request: bad key in badkey: 2 keys$/);
  const big = await send('POST', CM, cm('big', { big: '123456' }));
  assert.equal(big.status, 413);
  assert.equal(big.body.reason, 'RequestEntityTooLarge');
  const good = (await send('GET', `${CM}/good`)).body;
  await ok(send, 'PUT', `${CM}/good`, { ...good, data: { abc: 'y' } }, 200);
  // a failing expression without a message: "failed expression: …", reason Invalid (422)
  const createOnly = { resourceRules: [{ ...cmRules.resourceRules[0], operations: ['CREATE'] }] };
  await ok(send, 'POST', VAP, policy('named', { matchConstraints: createOnly, validations: [{ expression: "object.metadata.name != 'forbidden-name'" }] }));
  await ok(send, 'POST', VAPB, binding('named', { policyName: 'named', validationActions: ['Deny'] }));
  const named = await send('POST', CM, cm('forbidden-name'));
  assert.equal(named.status, 422);
  assert.match(named.body.message, /denied request: failed expression: object\.metadata\.name != 'forbidden-name'$/);

  // Warn: a Warning header, the write goes through; Audit: logged only
  await ok(send, 'POST', VAP, policy('soft', { matchConstraints: createOnly, validations: [{ expression: "!object.metadata.name.startsWith('soft')", message: 'soft names are discouraged' }] }));
  await ok(send, 'POST', VAPB, binding('soft', { policyName: 'soft', validationActions: ['Warn', 'Audit'] }));
  const warned = await raw(send.port, 'POST', CM, cm('soft-one'));
  assert.equal(warned.status, 201, JSON.stringify(warned.body));
  assert.equal(warned.headers.warning, `299 - "Validation failed for ValidatingAdmissionPolicy 'soft' with binding 'soft': soft names are discouraged"`);

  // failurePolicy: an expression that fails to evaluate refuses (Fail) or is skipped (Ignore)
  await ok(send, 'POST', VAP, policy('broken', { matchConstraints: cmRules, validations: [{ expression: "object.data.missing == 'x'" }] }));
  await ok(send, 'POST', VAPB, binding('broken', { policyName: 'broken', validationActions: ['Deny'] }));
  const failed = await send('POST', CM, cm('any', { a: 'b' }));
  assert.equal(failed.status, 422);
  assert.match(failed.body.message, /denied request: expression 'object\.data\.missing == 'x'' resulted in error: No such key: missing$/);
  const broken = (await send('GET', `${VAP}/broken`)).body;
  await ok(send, 'PUT', `${VAP}/broken`, { ...broken, spec: { ...broken.spec, failurePolicy: 'Ignore' } }, 200);
  await ok(send, 'POST', CM, cm('any', { a: 'b' }));
  // DELETE: object is null, oldObject the stored one
  await ok(send, 'POST', VAP, policy('keep', { matchConstraints: cmRules, validations: [{ expression: "request.operation != 'DELETE' || (object == null && !has(oldObject.metadata.labels))", message: 'labelled config maps are kept' }] }));
  await ok(send, 'POST', VAPB, binding('keep', { policyName: 'keep', validationActions: ['Deny'] }));
  await ok(send, 'POST', CM, cm('kept', {}, { keep: 'yes' }));
  assert.equal((await send('DELETE', `${CM}/kept`)).status, 422);
  assert.equal((await send('DELETE', `${CM}/good`)).status, 200);
  // dry run is judged too
  assert.equal((await send('POST', `${CM}?dryRun=All`, cm('forbidden-name'))).status, 422);
});

test('CEL: Kubernetes\' macros and functions compile and evaluate over JSON objects (integers are int)', () => {
  const run = (expr: string, object: unknown): unknown => {
    const c = compile(expr);
    assert.ok('compiled' in c, JSON.stringify(c));
    return c.compiled.evaluate({ object: toCel(object), oldObject: null, request: {}, variables: {}, namespaceObject: null });
  };
  const o = { spec: { replicas: 3, ratio: 0.5, ports: [80, 443], name: 'web-1' } };
  assert.equal(run('object.spec.replicas + 1 == 4', o), true);
  assert.equal(run('object.spec.ratio < 1.0', o), true);
  assert.equal(run('object.spec.ports.exists(p, p == 443) && object.spec.ports.all(p, p > 0) && object.spec.ports.exists_one(p, p == 80)', o), true);
  assert.deepEqual(run('object.spec.ports.filter(p, p > 100).map(p, p * 2)', o), [886n]);
  assert.equal(run("object.spec.name.matches('^web-[0-9]+$') && object.spec.name.find('[0-9]+') == '1'", o), true);
  assert.equal(run("has(object.spec.missing) || !has(object.spec.name) ? false : 80 in object.spec.ports", o), true);
  assert.equal(run('object.spec.ports.max() == 443 && object.spec.ports.min() == 80 && object.spec.ports.indexOf(443) == 1', o), true);
  assert.equal(run("object.spec.?missing.orValue('d') == 'd'", o), true);
  assert.equal(run("'a,b'.split(',').size() == 2 && ' x '.trim() == 'x' && 'AbC'.lowerAscii() == 'abc'", o), true);
});
