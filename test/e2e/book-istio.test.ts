/**
 * The auth book's Istio examples (seed 004) on a local mesh: RequestAuthentication with jwksUri (a JWKS
 * pod) and inline jwks, outputPayloadToHeader X-payload, the claims ALLOW/DENY pair, and the
 * principals example over mTLS identities. Tokens are minted here with node:crypto.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { statusCodes } from '../support/curl.js';
import { deploySample, waitReady } from '../support/deploy.js';
import { httpbinApp, nodeServer } from '../support/manifests.js';
import { eventually, podOf, startMesh, type TestMesh } from '../support/mesh.js';

const ISS = 'https://example.fusionauth.io';
const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const JWKS = JSON.stringify({ keys: [{ ...(key.publicKey.export({ format: 'jwk' }) as object), kid: 'book-1', alg: 'RS256', use: 'sig' }] });

const b64u = (v: string | Buffer | object): string => (Buffer.isBuffer(v) ? v : Buffer.from(typeof v === 'string' ? v : JSON.stringify(v))).toString('base64url');
function mint(claims: Record<string, unknown>, opts: { alg?: string; key?: KeyObject | Buffer; kid?: string } = {}): string {
  const alg = opts.alg ?? 'RS256';
  const now = Math.floor(Date.now() / 1000);
  const h = b64u({ alg, typ: 'JWT', kid: opts.kid ?? 'book-1' });
  const p = b64u({ iss: ISS, sub: 'alice', aud: 'todos', iat: now, exp: now + 600, ...claims });
  const input = `${h}.${p}`;
  if (alg === 'none') return `${input}.`;
  const sig = alg === 'HS256' ? createHmac('sha256', opts.key as Buffer).update(input).digest() : sign('sha256', Buffer.from(input), (opts.key as KeyObject) ?? key.privateKey);
  return `${input}.${b64u(sig)}`;
}


/** A JWKS server outside the mesh, as an issuer's endpoint would be. */
const JWKS_APP = nodeServer(
  'jwks',
  'auth',
  'require("http").createServer((q, s) => { s.writeHead(200, { "content-type": "application/json" }); s.end(process.env.JWKS_JSON); }).listen(+process.env.PORT, process.env.HOST)',
  `[{ name: JWKS_JSON, value: '${JWKS}' }]`,
);

/** The book's RequestAuthentication; namespace development → default (where its todos runs), jwksUri → the JWKS pod. */
const requestAuthentication = (keys: string) => `
apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata:
  name: "jwt-auth"
  namespace: default
spec:
  selector:
    matchLabels:
      app: todos
  jwtRules:
  - issuer: "https://example.fusionauth.io"
    ${keys}
    outputPayloadToHeader: "X-payload"
    fromHeaders:
    - name: "Authorization"
      prefix: "Bearer "
`;

/** The book's AuthorizationPolicies as written (the DENY of the principals pair renamed: the book reuses "todos-viewer-allow"). */
const POLICIES = `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: "jwt-authz"
  namespace: default
spec:
  selector:
    matchLabels:
      app: todos
  action: ALLOW
  rules:
  - when:
    - key: request.auth.claims[iss]
      values: ["https://example.fusionauth.io"]
    - key: request.auth.claims[roles]
      values: ["admin"]
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: "jwt-authz-deny"
  namespace: default
spec:
  selector:
    matchLabels:
      app: todos
  action: DENY
  rules:
  - when:
    - key: request.auth.claims[iss]
      values: ["https://example.fusionauth.io"]
    - key: request.auth.claims[roles]
      notValues: ["admin"]
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: "todos-viewer-allow"
  namespace: default
spec:
  selector:
    matchLabels:
      app: todos
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/reminder"]
    to:
    - operation:
        methods: ["GET"]
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: "reminder-deny-todos"
  namespace: default
spec:
  selector:
    matchLabels:
      app: reminder
  action: DENY
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/todos"]
`;

describe("the auth book's Istio examples (seed 004)", () => {
  let mesh: TestMesh;
  const pods: Record<string, string> = {};

  /** HTTP status codes of `curl` runs from one pod, one per [name, args] line. */
  const codes = (ns: string, pod: string, calls: [string, string][]): Promise<Record<string, string>> => statusCodes(mesh, ns, pod, calls, 60_000);
  const bearer = (t: string): string => `-H 'Authorization: Bearer ${t}'`;

  before(async () => {
    mesh = await startMesh('fsm');
    const r = await mesh.sh(
      `
      tessera namespace add default
${deploySample('curl')}
      tessera create namespace auth
      tessera apply -f - <<'EOF_APPS'
${httpbinApp('todos')}
---
${httpbinApp('reminder')}
---
${JWKS_APP}
EOF_APPS
${waitReady([['default', 'todos'], ['default', 'reminder'], ['auth', 'jwks'], ['curl', 'curl']])}
      `,
      { timeoutMs: 180_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const [ns, a] of [['curl', 'curl'], ['default', 'todos'], ['default', 'reminder']] as const) pods[a] = (await podOf(mesh, ns, a)).name;
    const applied = await mesh.tessera(['apply', '-f', '-'], { input: `${requestAuthentication('jwksUri: "http://jwks.auth:8080/jwks.json"')}---\n${POLICIES}` });
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
  });
  after(async () => {
    await mesh?.stop();
  });

  const admin = mint({ roles: ['admin'] });
  const viewer = mint({ sub: 'bob', roles: ['viewer'] });
  const TODOS = 'http://todos.default:14001';

  test('jwksUri: admin 200, viewer 403, no token 403; expired / wrong issuer / bad signature / none / HS256-with-the-RSA-public-key 401', async () => {
    await eventually(async () => (await codes('curl', pods['curl']!, [['admin', `${bearer(admin)} ${TODOS}/get`], ['none', `${TODOS}/get`]]))['none'] === '403', 30_000, 'policies in force');
    const pem = key.publicKey.export({ type: 'spki', format: 'pem' });
    const got = await eventually(async () => {
      const c = await codes('curl', pods['curl']!, [
        ['admin', `${bearer(admin)} ${TODOS}/get`],
        ['viewer', `${bearer(viewer)} ${TODOS}/get`],
        ['notoken', `${TODOS}/get`],
        ['expired', `${bearer(mint({ roles: ['admin'], iat: 1_600_000_000, exp: 1_600_000_600 }))} ${TODOS}/get`],
        ['issuer', `${bearer(mint({ roles: ['admin'], iss: 'https://evil.example' }))} ${TODOS}/get`],
        ['signature', `${bearer(mint({ roles: ['admin'] }, { key: other.privateKey }))} ${TODOS}/get`],
        ['algnone', `${bearer(mint({ roles: ['admin'] }, { alg: 'none' }))} ${TODOS}/get`],
        ['hs256', `${bearer(mint({ roles: ['admin'] }, { alg: 'HS256', key: Buffer.from(pem) }))} ${TODOS}/get`],
      ]);
      // The JWKS arrives asynchronously on the first policy build; wait until the admin passes.
      return c['admin'] === '200' ? c : undefined;
    }, 30_000, 'admin token accepted');
    assert.deepEqual(got, { admin: '200', viewer: '403', notoken: '403', expired: '401', issuer: '401', signature: '401', algnone: '401', hs256: '401' });
    // refused requests are in the access log with the reason (at any log level), never with the token
    const log = await eventually(async () => {
      const l = (await mesh.tessera(['logs', pods['todos']!, '-n', 'default', '-c', 'sidecar'])).stdout;
      return /"status":401.*"denied":"authentication/.test(l) && /"status":403.*"denied":"authorization/.test(l) ? l : undefined;
    }, 10_000, 'access lines for the refused requests');
    assert.ok(!log.includes(admin.split('.')[2]!), 'no token in the sidecar log');
  });

  test('the app sees X-payload (the token payload) and never a client-forged one; the token is not forwarded', async () => {
    const r = await mesh.tessera(['exec', pods['curl']!, '-n', 'curl', '--', 'curl', '-s', '-m', '10', '-H', `Authorization: Bearer ${admin}`, '-H', 'X-payload: forged', `${TODOS}/headers`]);
    const headers = (JSON.parse(r.stdout) as { headers: Record<string, string> }).headers;
    assert.equal(headers['X-Payload'], admin.split('.')[1]);
    assert.deepEqual(JSON.parse(Buffer.from(headers['X-Payload']!, 'base64url').toString()).roles, ['admin']);
    assert.equal(headers['Authorization'], undefined, 'forwardOriginalToken defaults to false');
  });

  test('principals over mTLS: reminder may GET todos (not POST); todos may not call reminder', async () => {
    const fromReminder = await codes('default', pods['reminder']!, [['get', `${TODOS}/get`], ['post', `-X POST ${TODOS}/post`]]);
    assert.deepEqual(fromReminder, { get: '200', post: '403' });
    const fromTodos = await codes('default', pods['todos']!, [['reminder', 'http://reminder.default:14001/get']]);
    assert.deepEqual(fromTodos, { reminder: '403' });
    const fromCurl = await codes('curl', pods['curl']!, [['reminder', 'http://reminder.default:14001/get']]);
    assert.deepEqual(fromCurl, { reminder: '200' });
  });

  test('inline jwks: the same rule with the key set inline', async () => {
    const applied = await mesh.tessera(['apply', '-f', '-'], { input: requestAuthentication(`jwks: '${JWKS}'`) });
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const dump = await eventually(async () => {
      const d = await mesh.sh(`tessera proxy get config_dump -n default ${pods['todos']}`);
      return d.stdout.includes('"Jwks"') || d.stdout.includes('"jwks"') ? d.stdout : undefined;
    }, 30_000, 'inline jwks in the snapshot');
    assert.doesNotMatch(dump, /jwksUri/);
    const c = await codes('curl', pods['curl']!, [
      ['admin', `${bearer(admin)} ${TODOS}/get`],
      ['signature', `${bearer(mint({ roles: ['admin'] }, { key: other.privateKey }))} ${TODOS}/get`],
    ]);
    assert.deepEqual(c, { admin: '200', signature: '401' });
  });
});
