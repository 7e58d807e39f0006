/**
 * "Why was my request denied?" (issue #12 items 2-4), with Istio policies applied by the real
 * kubectl and traffic sent with curl from a meshed pod over mTLS: the refusal names its policy and
 * rule (x-tessera-reason, JSON body on Accept: application/json), so do the access log and the
 * metric; an istio.io/dry-run DENY refuses nothing but is logged and counted; `tessera policy check`
 * gives the decision real traffic got, for an allowed and a denied request with a JWT; kubectl prints
 * the server's warning for a policy naming a service account that does not exist, and applies it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deploySample, waitReady } from '../support/deploy.js';
import { testIssuer } from '../support/test-issuer.js';
import { httpbinApp } from '../support/manifests.js';
import { eventually, podOf, startMesh, type TestMesh } from '../support/mesh.js';

const { iss: ISS, jwks: JWKS, mint } = testIssuer();

const POLICIES = `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: default }
spec:
  selector: { matchLabels: { app: todos } }
  jwtRules:
  - issuer: "${ISS}"
    jwks: '${JWKS}'
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: no-delete, namespace: default }
spec:
  selector: { matchLabels: { app: todos } }
  action: DENY
  rules:
  - to: [{ operation: { paths: ["/forbidden*"] } }]
  - to: [{ operation: { methods: ["DELETE"] } }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: shadow
  namespace: default
  annotations: { istio.io/dry-run: "true" }
spec:
  selector: { matchLabels: { app: todos } }
  action: DENY
  rules:
  - to: [{ operation: { paths: ["/anything/shadow"] } }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: readers, namespace: default }
spec:
  selector: { matchLabels: { app: todos } }
  action: ALLOW
  rules:
  - to: [{ operation: { paths: ["/anything/*"] } }]
    when:
    - key: request.auth.claims[scope]
      values: ["read"]
`;

describe('every denial explained (issue #12 items 2-4)', () => {
  let mesh: TestMesh;
  let curlPod = '';
  let todosPod = '';
  const TODOS = 'http://todos.default:14001';
  const reader = mint({ scope: 'read' });
  const writer = mint({ scope: 'write' });

  /** status, headers (lower-case) and body of one curl from the curl pod */
  async function call(args: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    const r = await mesh.tessera(['exec', curlPod, '-n', 'curl', '--', 'sh', '-c', `curl -s -m 10 -D /tmp/h ${args} > /tmp/b; cat /tmp/h; printf '\\n--BODY--\\n'; cat /tmp/b`]);
    assert.equal(r.code, 0, r.stderr);
    const [head, body] = r.stdout.split('\n--BODY--\n') as [string, string];
    const lines = head.trim().split(/\r?\n/);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    return { status: Number(lines[0]!.split(' ')[1]), headers, body };
  }
  const bearer = (t: string): string => `-H 'Authorization: Bearer ${t}'`;
  const sidecarLog = async (): Promise<string> => (await mesh.tessera(['logs', todosPod, '-n', 'default', '-c', 'sidecar'])).stdout;
  const accessLines = async (): Promise<Record<string, unknown>[]> =>
    (await sidecarLog()).split('\n').filter((l) => l.includes('"type":"access"')).map((l) => JSON.parse(l.slice(l.indexOf('{'))) as Record<string, unknown>);
  const metrics = async (): Promise<string> => (await mesh.tessera(['proxy', 'get', 'stats/prometheus', todosPod, '-n', 'default'])).stdout;
  const check = async (args: string[]): Promise<Record<string, any>> => {
    const r = await mesh.tessera(['policy', 'check', todosPod, '-n', 'default', '--port', '14001', '--source-identity', 'curl.curl', '-o', 'json', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, any>;
  };

  before(async () => {
    mesh = await startMesh('fsm');
    const r = await mesh.sh(
      `
      tessera namespace add default
${deploySample('curl')}
      kubectl apply -f - <<'EOF_APPS'
${httpbinApp('todos')}
EOF_APPS
${waitReady([['default', 'todos'], ['curl', 'curl']])}
      kubectl apply -f - <<'EOF_POLICIES'
${POLICIES}
EOF_POLICIES
      `,
      { timeoutMs: 180_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    curlPod = (await podOf(mesh, 'curl', 'curl')).name;
    todosPod = (await podOf(mesh, 'default', 'todos')).name;
    await eventually(async () => ((await call(`${bearer(writer)} ${TODOS}/anything/x`)).status === 403 ? true : undefined), 30_000, 'policies in force');
  });
  after(async () => {
    await mesh?.stop();
  });

  test('a DENY refusal names policy and rule in x-tessera-reason; Istio\'s text body otherwise; JSON when asked', async () => {
    const text = await call(`-X DELETE ${bearer(reader)} ${TODOS}/anything/x`);
    assert.equal(text.status, 403);
    assert.equal(text.body, 'RBAC: access denied');
    assert.match(text.headers['x-tessera-reason'] ?? '', /^authorization: matched a DENY policy; policy default\/no-delete rule 1; principal cluster\.local\/ns\/curl\/sa\/curl$/);
    const json = await call(`-X DELETE -H 'Accept: application/json' ${bearer(reader)} ${TODOS}/anything/x`);
    assert.equal(json.status, 403);
    assert.deepEqual(JSON.parse(json.body), { reason: 'authorization: matched a DENY policy', policy: 'default/no-delete', rule: 1, principal: 'cluster.local/ns/curl/sa/curl', condition: null });
  });

  test('no ALLOW match names the closest rule and the condition the request failed', async () => {
    const r = await call(`-H 'Accept: application/json' ${bearer(writer)} ${TODOS}/anything/x`);
    assert.equal(r.status, 403);
    assert.deepEqual(JSON.parse(r.body), { reason: 'authorization: no ALLOW policy matched', policy: 'default/readers', rule: 0, principal: 'cluster.local/ns/curl/sa/curl', condition: 'when[0] request.auth.claims[scope]' });
    assert.ok(!JSON.stringify(r.headers).includes(writer), 'the token is never echoed');
  });

  test('the access log and tessera_policy_decisions_total name the policy', async () => {
    const line = await eventually(async () => (await accessLines()).find((l) => l['method'] === 'DELETE' && l['policy'] === 'default/no-delete'), 20_000, 'the DELETE refusal logged');
    assert.equal(line['rule'], 1);
    assert.match(String(line['denied']), /default\/no-delete/);
    assert.match(await metrics(), /tessera_policy_decisions_total\{[^}]*policy="default\/no-delete",action="DENY",decision="denied"\} [1-9]/);
  });

  test('an istio.io/dry-run DENY refuses nothing, and is logged and counted as a shadow denial', async () => {
    const r = await call(`${bearer(reader)} ${TODOS}/anything/shadow`);
    assert.equal(r.status, 200, r.body);
    const line = await eventually(async () => (await accessLines()).find((l) => l['path'] === '/anything/shadow'), 20_000, 'the dry-run request logged');
    assert.equal(line['denied'], undefined);
    assert.deepEqual(line['shadow'], { decision: 'denied', policy: 'default/shadow', rule: 0 });
    const m = await metrics();
    assert.match(m, /tessera_policy_decisions_total\{[^}]*policy="default\/shadow",action="DENY",decision="shadow_denied"\} [1-9]/);
    assert.match(m, /tessera_policy_decisions_total\{[^}]*policy="default\/readers",action="ALLOW",decision="allowed"\} [1-9]/, 'the request the enforced policies allowed');
  });

  test('tessera policy check gives the decision real traffic got, with a JWT, allowed and denied', async () => {
    const allowedTraffic = await call(`${bearer(reader)} ${TODOS}/anything/x`);
    const allowed = await check(['--method', 'GET', '--path', '/anything/x', '--token', reader]);
    assert.equal(allowedTraffic.status, 200);
    assert.deepEqual([allowed['decision'], allowed['policy'], allowed['rule'], allowed['jwt']], ['allowed', 'default/readers', 0, { present: true, verified: true, principal: `${ISS}/alice` }]);

    const deniedTraffic = await call(`-H 'Accept: application/json' ${bearer(writer)} ${TODOS}/anything/x`);
    const denied = await check(['--method', 'GET', '--path', '/anything/x', '--token', writer]);
    const got = JSON.parse(deniedTraffic.body) as Record<string, unknown>;
    assert.deepEqual([denied['decision'], denied['status']], ['denied', deniedTraffic.status]);
    assert.deepEqual([denied['policy'], denied['rule'], denied['condition'], denied['principal']], [got['policy'], got['rule'], got['condition'], got['principal']]);

    const dryRun = await check(['--path', '/anything/shadow', '--token', reader]);
    assert.deepEqual([dryRun['decision'], dryRun['shadow']?.decision, dryRun['shadow']?.policy], ['allowed', 'denied', 'default/shadow']);

    const text = await mesh.tessera(['policy', 'check', todosPod, '-n', 'default', '--method', 'DELETE', '--path', '/anything/x', '--source-identity', 'curl.curl']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^DECISION\s+denied \(403\)$/m);
    assert.match(text.stdout, /^POLICY\s+default\/no-delete rule 1$/m);
  });

  test('kubectl apply of a policy naming a service account that does not exist: a warning, and it is applied', async () => {
    const r = await mesh.sh(`kubectl apply -f - <<'EOF'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ghost, namespace: default }
spec:
  selector: { matchLabels: { app: todos } }
  action: DENY
  rules:
  - from: [{ source: { principals: ["cluster.local/ns/default/sa/ghost"] } }]
EOF`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /authorizationpolicy\.security\.istio\.io\/ghost created/);
    assert.match(r.stderr, /Warning: AuthorizationPolicy default\/ghost: spec\.rules\[0\]\.from\[0\]\.source\.principals\[0\]: "cluster\.local\/ns\/default\/sa\/ghost" names service account "ghost", which does not exist in namespace "default"/);
    const checked = await eventually(async () => {
      const c = await check(['--path', '/anything/x', '--token', reader]);
      return (c['warnings'] as string[]).length > 0 ? c : undefined;
    }, 20_000, 'the ghost policy in the pod snapshot');
    assert.ok((checked['warnings'] as string[]).some((w) => w.startsWith('AuthorizationPolicy default/ghost:')), JSON.stringify(checked['warnings']));
    const viaTessera = await mesh.tessera(['apply', '-f', '-'], { input: `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: ghost2, namespace: default }\nspec:\n  action: DENY\n  rules:\n  - from: [{ source: { namespaces: ["nowhere"] } }]\n` });
    assert.equal(viaTessera.code, 0, viaTessera.stderr);
    assert.match(viaTessera.stderr, /^Warning: AuthorizationPolicy default\/ghost2: spec\.rules\[0\]\.from\[0\]\.source\.namespaces\[0\]: namespace "nowhere" does not exist$/m);
  });
});
