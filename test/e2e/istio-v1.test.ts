/**
 * Istio policies as Istio 1.22+ users write them (issue #12 item 1), applied with the real kubectl
 * and checked with curl through the sidecars: `security.istio.io/v1` served beside v1beta1, the
 * space-delimited `scope` claim and `spaceDelimitedClaims`, the Tessera `requiredClaims` and
 * `maxTokenBytes` extensions, and MeshConfig `pathNormalization` reaching the sidecar.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statusCodes } from '../support/curl.js';
import { deploySample, waitReady } from '../support/deploy.js';
import { testIssuer } from '../support/test-issuer.js';
import { deployment, httpbinApp } from '../support/manifests.js';
import { eventually, podOf, startMesh, type TestMesh } from '../support/mesh.js';

const { iss: ISS, jwks: JWKS, mint } = testIssuer();

/** Written exactly as Istio's v1 docs write them, plus the Tessera extensions on the rule. */
const POLICIES = `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: jwt
  namespace: default
spec:
  selector:
    matchLabels:
      app: todos
  jwtRules:
  - issuer: "${ISS}"
    jwks: '${JWKS}'
    spaceDelimitedClaims: ["scp"]
    requiredClaims: ["exp"]
    maxTokenBytes: 16384
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: scopes
  namespace: default
spec:
  selector:
    matchLabels:
      app: todos
  action: ALLOW
  rules:
  - to:
    - operation:
        paths: ["/get"]
    when:
    - key: request.auth.claims[scope]
      values: ["read"]
  - to:
    - operation:
        paths: ["/anything/*"]
    when:
    - key: request.auth.claims[scp]
      values: ["write"]
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: no-admin
  namespace: default
spec:
  selector:
    matchLabels:
      app: todos
  action: DENY
  rules:
  - to:
    - operation:
        paths: ["/anything/admin", "/anything/admin/*"]
  - to:
    - operation:
        hosts: ["blocked.example", "blocked.example:*"]
`;

describe('Istio security.istio.io/v1 policies with Istio semantics (issue #12 item 1)', () => {
  let mesh: TestMesh;
  let curlPod = '';
  const TODOS = 'http://todos.default:14001';
  const bearer = (t: string): string => `-H 'Authorization: Bearer ${t}'`;
  const codes = (calls: [string, string][]) => statusCodes(mesh, 'curl', curlPod, calls, 60_000);
  const writer = mint({ scp: 'read write' });

  before(async () => {
    mesh = await startMesh('fsm');
    const r = await mesh.sh(
      `
      tessera namespace add default
${deploySample('curl')}
      kubectl apply -f - <<'EOF_APPS'
${httpbinApp('todos')}
EOF_APPS
      kubectl create namespace outside
      kubectl apply -f - <<'EOF_OUTSIDE'
${deployment('outsider', '{ name: outsider, image: curlimages/curl, command: ["sleep", "365d"] }', { ns: 'outside', account: false })}
EOF_OUTSIDE
${waitReady([['default', 'todos'], ['curl', 'curl'], ['outside', 'outsider']])}
      kubectl apply -f - <<'EOF_POLICIES'
${POLICIES}
EOF_POLICIES
      `,
      { timeoutMs: 180_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    curlPod = (await podOf(mesh, 'curl', 'curl')).name;
  });
  after(async () => {
    await mesh?.stop();
  });

  test('kubectl reads the policies at v1 and at v1beta1, whichever version wrote them', async () => {
    const r = await mesh.sh(`
      kubectl get authorizationpolicies.v1.security.istio.io -n default -o jsonpath='{range .items[*]}{.apiVersion} {.metadata.name}{"\\n"}{end}'
      kubectl get authorizationpolicies.v1beta1.security.istio.io -n default -o jsonpath='{range .items[*]}{.apiVersion} {.metadata.name}{"\\n"}{end}'
      kubectl get requestauthentication.v1beta1.security.istio.io jwt -n default -o jsonpath='{.apiVersion} {.spec.jwtRules[0].requiredClaims[0]}{"\\n"}'
      kubectl api-versions | grep '^security.istio.io/'
    `);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'security.istio.io/v1 no-admin',
      'security.istio.io/v1 scopes',
      'security.istio.io/v1beta1 no-admin',
      'security.istio.io/v1beta1 scopes',
      'security.istio.io/v1beta1 exp',
      'security.istio.io/v1',
      'security.istio.io/v1beta1',
    ]);
  });

  test('scope "read write" is allowed by a rule on read; scp split only because the rule lists it; exp required', async () => {
    const big = mint({ scope: 'read', groups: Array.from({ length: 800 }, (_, i) => `group-${i}`) });
    assert.ok(big.length > 12_000, `${big.length}`);
    const got = await eventually(async () => {
      const c = await codes([
        ['readwrite', `${bearer(mint({ scope: 'read write' }))} ${TODOS}/get`],
        ['writeonly', `${bearer(mint({ scope: 'write' }))} ${TODOS}/get`],
        ['whole', `${bearer(mint({ scope: 'readwrite' }))} ${TODOS}/get`],
        ['scpwrite', `${bearer(writer)} ${TODOS}/anything/x`],
        ['scpread', `${bearer(mint({ scp: 'read' }))} ${TODOS}/anything/x`],
        ['noexp', `${bearer(mint({ scope: 'read', exp: undefined }))} ${TODOS}/get`],
        ['big', `${bearer(big)} ${TODOS}/get`],
        ['notoken', `${TODOS}/get`],
      ]);
      return c['readwrite'] === '200' && c['notoken'] === '403' ? c : undefined;
    }, 30_000, 'v1 policies in force');
    assert.deepEqual(got, { readwrite: '200', writeonly: '403', whole: '403', scpwrite: '200', scpread: '403', noexp: '401', big: '200', notoken: '403' });
  });

  test('absolute-form on the inbound listener (RFC 9112 §3.2.2): the target authority, canonical, replaces Host for policy and app', async () => {
    // a client outside the mesh reaches the todos pod's inbound listener itself (no outbound sidecar
    // of its own to turn the target into origin-form)
    const outside = await podOf(mesh, 'outside', 'outsider');
    const outsider = outside.name;
    const todos = await podOf(mesh, 'default', 'todos');
    const call = async (target: string, host: string): Promise<string> => {
      const r = await mesh.tessera(['exec', outsider, '-n', 'outside', '--', 'sh', '-c',
        `curl -s -m 10 -w ' %{http_code}' ${bearer(writer)} -H 'Host: ${host}' --request-target '${target}' http://${todos.ip}:14001/`]);
      if (r.code !== 0) return `curl exit ${r.code}`;
      const status = r.stdout.slice(-3);
      return status === '200' ? `${status} ${(JSON.parse(r.stdout.slice(0, -4)) as { headers: { Host: string } }).headers.Host}` : status;
    };
    // FSM's AccessControl lets that plaintext client in (the sidecar refuses plaintext otherwise)
    const acl = await mesh.sh(`kubectl apply -f - <<'EOF'
apiVersion: policy.flomesh.io/v1alpha1
kind: AccessControl
metadata: { name: outsider, namespace: default }
spec:
  backends: [{ name: todos, port: { number: 14001, protocol: http } }]
  sources: [{ kind: IPRange, name: ${outside.ip}/32 }]
EOF`);
    assert.equal(acl.code, 0, acl.stderr);
    await eventually(async () => ((await call('/anything/h', 'todos.default:14001')).startsWith('200') ? true : undefined), 30_000, 'AccessControl in force');
    assert.equal(await call('http://Todos.Default.:14001/anything/h', 'blocked.example'), '200 todos.default:14001', 'the target names the host, not Host');
    assert.equal(await call('http://BLOCKED.example./anything/h', 'todos.default:14001'), '403', 'a hosts DENY sees the canonical target authority');
    assert.equal(await call('/anything/h', 'blocked.example'), '403', 'origin-form: Host as before');
  });

  /** What httpbin was asked for (its `url`), and the status, for one path from the curl pod. */
  const seen = async (path: string): Promise<string> => {
    const r = await mesh.tessera(['exec', curlPod, '-n', 'curl', '--', 'sh', '-c', `curl -s -m 10 -w ' %{http_code}' ${bearer(writer)} '${TODOS}${path}'`]);
    assert.equal(r.code, 0, r.stderr);
    const status = r.stdout.slice(-3);
    if (status !== '200') return status;
    // httpbin writes a `;` of the path it received as %3B in its `url`
    return `${status} ${new URL((JSON.parse(r.stdout.slice(0, -4)) as { url: string }).url).pathname.replaceAll('%3B', ';')}`;
  };
  const setNormalization = async (pn: object): Promise<void> => {
    const r = await mesh.sh(`kubectl patch meshconfig fsm-mesh-config -n fsm-system --type=merge -p '${JSON.stringify({ spec: { pathNormalization: pn } })}'`);
    assert.equal(r.code, 0, r.stderr);
  };

  test('MeshConfig pathNormalization: the default merges and decodes slashes, keeps case; BASE keeps them; caseInsensitive and stripPathParameters guard /anything/admin', async () => {
    // default (DECODE_AND_MERGE_SLASHES, case and ;parameters kept): the DENY on /anything/admin is
    // not met by /anything/ADMIN or /anything/admin;x, spellings a case-insensitive or servlet backend takes for it
    assert.deepEqual(
      [await seen('/anything/a//b'), await seen('/anything/%2Fadmin'), await seen('/anything/ADMIN'), await seen('/anything/admin;x')],
      ['200 /anything/a/b', '403', '200 /anything/ADMIN', '200 /anything/admin;x'],
    );
    await setNormalization({ normalization: 'BASE' });
    await eventually(async () => ((await seen('/anything/a//b')) === '200 /anything/a//b' ? true : undefined), 30_000, 'BASE in force');
    // BASE leaves an escaped slash to the app, so the DENY is not met (Istio's BASE, CVE-2021-31920):
    // the request reaches httpbin, which has no route for it
    assert.equal(await seen('/anything/%2fadmin'), '404');
    await setNormalization({ normalization: 'MERGE_SLASHES', caseInsensitive: true, stripPathParameters: true });
    await eventually(async () => ((await seen('/anything/ADMIN')) === '403' ? true : undefined), 30_000, 'caseInsensitive in force');
    assert.deepEqual(
      [await seen('/anything/admin;x'), await seen('/Anything//B;jsessionid=1'), await seen('/anything/x/..;/admin')],
      ['403', '200 /anything/b', '403'],
    );
  });
});
