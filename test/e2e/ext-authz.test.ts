/**
 * CUSTOM AuthorizationPolicy with a MeshConfig extension provider (the seeds' ext-auth pattern): an
 * authorizer pod answers 200 for `x-ext-token: ok`, 403 otherwise; the sidecar fails closed when it is gone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statusCodes } from '../support/curl.js';
import { deploySample, waitReady } from '../support/deploy.js';
import { httpbinApp, nodeServer } from '../support/manifests.js';
import { eventually, podOf, startMesh, type TestMesh } from '../support/mesh.js';

/** Outside the mesh, like the seed's ext-auth service; it names the user in a header the mesh copies upstream. */
const EXT_AUTHZ = nodeServer(
  'ext-authz',
  'auth',
  'require("http").createServer((q, s) => { const ok = q.headers["x-ext-token"] === "ok" && q.url.startsWith("/authz/"); s.writeHead(ok ? 200 : 403, ok ? { "x-ext-user": "alice", "x-not-listed": "1" } : {}); s.end(); }).listen(+process.env.PORT, process.env.HOST)',
);

const PROVIDERS = JSON.stringify({
  spec: { extensionProviders: [{ name: 'ext-authz', envoyExtAuthzHttp: { service: 'ext-authz.auth', port: 8080, timeout: '1s', pathPrefix: '/authz', headersToUpstreamOnAllow: ['x-ext-user'] } }] },
});

const policy = (provider: string) => `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: { name: ext-authz, namespace: default }
spec:
  selector: { matchLabels: { app: todos } }
  action: CUSTOM
  provider: { name: ${provider} }
  rules:
  - to: [{ operation: { paths: ["/headers", "/get"] } }]
`;

describe('CUSTOM AuthorizationPolicy with an external authorizer', () => {
  let mesh: TestMesh;
  let curl = '';

  const codes = (calls: [string, string][]): Promise<Record<string, string>> => statusCodes(mesh, 'curl', curl, calls, 30_000);
  const URL = 'http://todos.default:14001';
  const standard = (): [string, string][] => [['ok', `-H 'x-ext-token: ok' ${URL}/get`], ['missing', `${URL}/get`], ['wrong', `-H 'x-ext-token: no' ${URL}/get`], ['unmatched', `${URL}/ip`]];

  before(async () => {
    mesh = await startMesh('fsm');
    const r = await mesh.sh(
      `
      tessera namespace add default
${deploySample('curl')}
      tessera create namespace auth
      tessera patch meshconfig fsm-mesh-config -n fsm-system --type=merge -p '${PROVIDERS}'
      tessera apply -f - <<'EOF_APPS'
${httpbinApp('todos', { account: false })}
---
${EXT_AUTHZ}
---
${policy('ext-authz')}
EOF_APPS
${waitReady([['default', 'todos'], ['auth', 'ext-authz'], ['curl', 'curl']], '60s')}
      `,
      { timeoutMs: 90_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    curl = (await podOf(mesh, 'curl', 'curl')).name;
  });
  after(async () => {
    await mesh?.stop();
  });

  test('the authorizer decides: x-ext-token ok 200 (with its x-ext-user upstream), otherwise 403; unmatched paths are not checked', async () => {
    const got = await eventually(async () => {
      const c = await codes(standard());
      return c['ok'] === '200' && c['missing'] === '403' ? c : undefined;
    }, 20_000, 'CUSTOM policy in force');
    assert.deepEqual(got, { ok: '200', missing: '403', wrong: '403', unmatched: '200' });
    const r = await mesh.tessera(['exec', curl, '-n', 'curl', '--', 'curl', '-s', '-m', '10', '-H', 'x-ext-token: ok', `${URL}/headers`]);
    const headers = (JSON.parse(r.stdout) as { headers: Record<string, string> }).headers;
    assert.equal(headers['X-Ext-User'], 'alice', 'headersToUpstreamOnAllow copied');
    assert.equal(headers['X-Not-Listed'], undefined, 'only listed headers are copied');
    const todos = (await podOf(mesh, 'default', 'todos')).name;
    await eventually(async () => {
      const l = (await mesh.tessera(['logs', todos, '-n', 'default', '-c', 'sidecar'])).stdout;
      return /"status":403.*"denied":"custom: provider ext-authz answered 403; policy default\/ext-authz[;"].*"policy":"default\/ext-authz"/.test(l) ? l : undefined;
    }, 10_000, 'access line for the refused request');
  });

  test('an unknown provider fails closed on matching requests only', async () => {
    const applied = await mesh.tessera(['apply', '-f', '-'], { input: policy('nope') });
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const got = await eventually(async () => {
      const c = await codes(standard());
      return c['ok'] === '403' ? c : undefined;
    }, 20_000, 'unknown provider in force');
    assert.deepEqual(got, { ok: '403', missing: '403', wrong: '403', unmatched: '200' });
    const back = await mesh.tessera(['apply', '-f', '-'], { input: policy('ext-authz') });
    assert.equal(back.code, 0, back.stdout + back.stderr);
    await eventually(async () => ((await codes(standard()))['ok'] === '200' ? true : undefined), 20_000, 'provider restored');
  });

  test('the authorizer deleted: 403 (fail closed)', async () => {
    const d = await mesh.sh('tessera delete deployment ext-authz -n auth && tessera delete service ext-authz -n auth');
    assert.equal(d.code, 0, d.stdout + d.stderr);
    const got = await eventually(async () => {
      const c = await codes(standard());
      return c['ok'] === '403' ? c : undefined;
    }, 20_000, 'authorizer gone');
    assert.deepEqual(got, { ok: '403', missing: '403', wrong: '403', unmatched: '200' });
  });
});
