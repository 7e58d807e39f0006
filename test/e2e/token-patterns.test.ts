/**
 * The auth book's token patterns (seed 004) as built-in plugins on a real mesh: the curl pod's
 * outbound chain re-issues the user's RS256 token as a 5 s HS256 token for `todos` (whose own
 * RequestAuthentication accepts it, and rejects it 6 s later), and extracts claims plus an API key
 * into headers for `reminder`. Keys live in Secrets and never appear in config_dump. The token
 * service (tessera-sts, meshed) knows a calling workload by the mTLS identity its own sidecar
 * verified and hands over in `serviceidentity`; no other pod can get a token as someone else.
 *
 * The first suite runs in the default pod network (namespace mode wherever it is possible, CI
 * included; `auto` falls back to loopback elsewhere), every call made from inside the pods with no
 * proxy variables. Its intruder test needs namespace mode (in loopback mode any local process can
 * bind a pod's address, docs/security.md) and is skipped in loopback mode. The second suite pins
 * loopback mode, the documented fallback: a workload's identity through its sidecar, and a process on
 * this machine as a caller outside the mesh (AccessControl 127.0.0.1/32 and a client secret), which
 * only exists there (in namespace mode the machine has no route into pods).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { deploySample, waitReady } from '../support/deploy.js';
import { deployment, httpbinApp, service, serviceAccount } from '../support/manifests.js';
import { eventually, podOf, startMesh, type TestMesh } from '../support/mesh.js';
import { decidePodNetwork } from '../../src/local/runtime/pod-network.js';

/** the pod network `up` picks by default here: namespace mode wherever it is possible */
const DEFAULT_POD_NETWORK = (await decidePodNetwork('auto')).mode;

const ISS = 'https://idp.example';
const GATEWAY_ISS = 'https://gateway.tessera';
const idp = generateKeyPairSync('rsa', { modulusLength: 2048 });
const IDP_JWKS = JSON.stringify({ keys: [{ ...(idp.publicKey.export({ format: 'jwk' }) as object), kid: 'idp-1', alg: 'RS256' }] });
/** HMAC secret as printable text (48 bytes), so a Secret and an inline oct JWK can carry it alike. */
const HS_KEY = randomBytes(36).toString('base64url');
const API_KEY = randomBytes(24).toString('hex');
const OCT_JWKS = JSON.stringify({ keys: [{ kty: 'oct', k: Buffer.from(HS_KEY).toString('base64url'), kid: 'k1', alg: 'HS256' }] });

const b64u = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
function userToken(claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64u({ alg: 'RS256', typ: 'JWT', kid: 'idp-1' })}.${b64u({ iss: ISS, sub: 'alice', aud: 'gateway', roles: ['admin', 'viewer'], email: 'alice@example.com', iat: now, exp: now + 600, ...claims })}`;
  return `${input}.${createSign('sha256').update(input).sign(idp.privateKey).toString('base64url')}`;
}
const decode = (seg: string): Record<string, unknown> => JSON.parse(Buffer.from(seg, 'base64url').toString()) as Record<string, unknown>;


const STS = 'http://tessera-sts.auth:8080';
/** What the token service may issue here (nothing is granted without it): the tokens these tests ask for. */
const STS_POLICY = {
  issue: [
    { callers: ['cluster.local/ns/default/sa/reminder', 'cluster.local/ns/curl/sa/curl'], audiences: ['todos'] },
    { callers: ['client:web'], audiences: ['todos', 'token-service', 'gateway'] },
  ],
  exchange: [{ actors: ['cluster.local/ns/default/sa/reminder'], subjects: ['web'], audiences: ['todos'] }],
};
/** The token service as a user deploys it (image tessera/sts), meshed so workloads authenticate by mTLS. */
const STS_APP = `
${serviceAccount('tessera-sts', 'auth')}
---
${service('tessera-sts', 'auth', 8080)}
---
${deployment(
  'tessera-sts',
  `{ name: sts, image: tessera/sts, ports: [{ containerPort: 8080 }], env: [{ name: STS_TOKEN_LIFETIME, value: "60" }, { name: STS_ROTATE_EVERY, value: "10" }, { name: STS_CLIENTS, value: '{"web": {"secret": "web-client-secret-0123"}}' }, { name: STS_POLICY, value: '${JSON.stringify(STS_POLICY)}' }] }`,
  { ns: 'auth' },
)}
`;

/** A pod in a namespace outside the mesh (no sidecar): a process in another pod trying to pass for a workload. */
const INTRUDER = deployment('intruder', '{ name: intruder, image: curlimages/curl, command: ["sleep", "365d"] }', { ns: 'outside', account: false });
/** An AccessControl letting plaintext from `cidr` reach tessera-sts past its sidecar's mTLS requirement. */
const admitToSts = (name: string, cidr: string): string => `
apiVersion: policy.flomesh.io/v1alpha1
kind: AccessControl
metadata: { name: ${name}, namespace: auth }
spec:
  backends:
  - name: tessera-sts
    port: { number: 8080, protocol: http }
  sources:
  - { kind: IPRange, name: ${cidr} }
`;
const subOf = (r: Record<string, unknown>): unknown => (typeof r['access_token'] === 'string' ? decode(r['access_token'].split('.')[1]!)['sub'] : JSON.stringify(r));

const verify = `{ issuer: "${ISS}", audiences: [gateway], jwks: '${IDP_JWKS}' }`;
const POLICY = `
apiVersion: v1
kind: Secret
metadata: { name: reissue-key, namespace: curl }
type: Opaque
data: { k1: ${Buffer.from(HS_KEY).toString('base64')} }
---
apiVersion: v1
kind: Secret
metadata: { name: api-key, namespace: curl }
type: Opaque
data: { api-key: ${Buffer.from(API_KEY).toString('base64')} }
---
kind: PluginChain
apiVersion: plugin.flomesh.io/v1alpha1
metadata: { name: token-patterns, namespace: curl }
spec:
  chains:
  - name: outbound-http
    plugins: [jwt-reissue, claims-to-headers]
  selectors:
    podSelector: { matchLabels: { app: curl } }
---
kind: PluginConfig
apiVersion: plugin.flomesh.io/v1alpha1
metadata: { name: reissue-for-todos, namespace: curl }
spec:
  plugin: jwt-reissue
  destinationRefs: [{ kind: Service, name: todos, namespace: default }]
  config:
    verify: ${verify}
    issuer: ${GATEWAY_ISS}
    audience: todos
    algorithm: HS256
    lifetimeSeconds: 5
    claims: [sub, roles]
    signingKey: { secretName: reissue-key, kid: k1 }
---
kind: PluginConfig
apiVersion: plugin.flomesh.io/v1alpha1
metadata: { name: extract-for-reminder, namespace: curl }
spec:
  plugin: claims-to-headers
  destinationRefs: [{ kind: Service, name: reminder, namespace: default }]
  config:
    verify: ${verify}
    claimHeaders:
    - { claim: sub, header: X-User-Id }
    - { claim: roles, header: X-Roles }
    apiKey: { header: X-API-Key, secretName: api-key, key: api-key }
---
apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata: { name: todos-gateway-tokens, namespace: default }
spec:
  selector: { matchLabels: { app: todos } }
  jwtRules:
  - issuer: ${GATEWAY_ISS}
    audiences: [todos]
    jwks: '${OCT_JWKS}'
    clockSkew: 0s
    forwardOriginalToken: true
  - issuer: ${STS}
    audiences: [todos]
    jwksUri: ${STS}/jwks.json
    clockSkew: 0s
    forwardOriginalToken: true
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: { name: todos-needs-gateway-token, namespace: default }
spec:
  selector: { matchLabels: { app: todos } }
  action: ALLOW
  rules:
  - from: [{ source: { requestPrincipals: ["${GATEWAY_ISS}/*", "${STS}/*"] } }]
`;

describe('token patterns at the context boundary (seed 004): re-issue and full extraction', () => {
  let mesh: TestMesh;
  const pods: Record<string, string> = {};
  let sts = { name: '', ip: '' };
  const TODOS = 'http://todos.default:14001';
  const REMINDER = 'http://reminder.default:14001';

  async function exec(pod: string, ns: string, script: string): Promise<string> {
    const r = await mesh.tessera(['exec', pod, '-n', ns, '--', 'sh', '-c', script], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  }
  /** `/headers` as the app saw it, and the status. */
  async function headersSeen(extra: string): Promise<{ status: string; headers: Record<string, string> }> {
    const out = await exec(pods['curl']!, 'curl', `curl -s -m 10 -w '\\n%{http_code}' ${extra}`);
    const i = out.lastIndexOf('\n');
    const status = out.slice(i + 1).trim();
    const body = out.slice(0, i);
    return { status, headers: status === '200' ? (JSON.parse(body) as { headers: Record<string, string> }).headers : {} };
  }

  /** The curl sidecar's last log lines, for failure messages. */
  async function sidecarLog(): Promise<string> {
    const r = await mesh.tessera(['logs', pods['curl']!, '-n', 'curl', '-c', 'sidecar', '--tail', '5']);
    return r.stdout.slice(-1500);
  }

  before(async () => {
    // The default pod network: namespace mode where possible. The STS pod's sidecar verifies the
    // caller's certificate and hands its identity to the STS in `serviceidentity` over the pod's own
    // loopback, from the pod IP: the one source the STS believes it from (sts-runtime.ts).
    mesh = await startMesh('fsm');
    const r = await mesh.sh(
      `
      tessera patch meshconfig fsm-mesh-config -n fsm-system -p '{"spec":{"featureFlags":{"enablePluginPolicy":true},"sidecar":{"logLevel":"warn"}}}' --type=merge
      tessera namespace add default
${deploySample('curl')}
      tessera create namespace auth
      tessera namespace add auth
      tessera create namespace outside
      tessera apply -f - <<'EOF_APPS'
${httpbinApp('todos')}
---
${httpbinApp('reminder')}
---
${STS_APP}
---
${INTRUDER}
EOF_APPS
${waitReady([['default', 'todos'], ['default', 'reminder'], ['curl', 'curl'], ['auth', 'tessera-sts'], ['outside', 'intruder']])}
      `,
      { timeoutMs: 180_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const [ns, a] of [['curl', 'curl'], ['default', 'todos'], ['default', 'reminder']] as const) pods[a] = (await podOf(mesh, ns, a)).name;
    sts = await podOf(mesh, 'auth', 'tessera-sts');
    assert.equal(sts.ip.startsWith('127.') ? 'loopback' : 'namespace', DEFAULT_POD_NETWORK, `the STS pod's IP ${sts.ip} in the default pod network`);
    const applied = await mesh.tessera(['apply', '-f', '-'], { input: POLICY });
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
  });
  after(async () => {
    await mesh?.stop();
  });

  test('re-issue: todos gets an HS256 token with aud todos, the chosen claims and a 5 s lifetime; its RequestAuthentication accepts it and rejects it 6 s later', async () => {
    const seen = await eventually(async () => {
      const s = await headersSeen(`-H 'Authorization: Bearer ${userToken()}' ${TODOS}/headers`);
      if (s.status === '200' && s.headers['Authorization']?.startsWith('Bearer ')) return s;
      throw new Error(`HTTP ${s.status}; ${await sidecarLog()}`);
    }, 60_000, 'the re-issued token reaching todos');
    const token = seen.headers['Authorization']!.slice('Bearer '.length);
    const [h, p] = token.split('.').slice(0, 2).map(decode);
    assert.deepEqual(h, { alg: 'HS256', typ: 'JWT', kid: 'k1' });
    assert.equal(p!['iss'], GATEWAY_ISS);
    assert.equal(p!['aud'], 'todos');
    assert.equal(p!['sub'], 'alice');
    assert.deepEqual(p!['roles'], ['admin', 'viewer']);
    assert.equal(p!['email'], undefined, 'claims outside the subset are dropped');
    assert.equal((p!['exp'] as number) - (p!['iat'] as number), 5);

    // Replay it from a pod without the plugin: accepted while young, 401 once 6 s old.
    const out = await exec(
      pods['reminder']!,
      'default',
      `echo "now=$(date +%s) code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 -H 'Authorization: Bearer ${token}' ${TODOS}/get)"
       while [ $(date +%s) -lt ${(p!['iat'] as number) + 6} ]; do sleep 0.2; done
       echo "now=$(date +%s) code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 -H 'Authorization: Bearer ${token}' ${TODOS}/get)"`,
    );
    const lines = out.trim().split('\n').map((l) => /now=(\d+) code=(\d+)/.exec(l)!);
    const [first, second] = lines;
    if (Number(first![1]) < (p!['exp'] as number)) assert.equal(first![2], '200', 'a young token is accepted');
    assert.equal(second![2], '401', 'rejected 6 s after issue');

    // No token, a bad user token, or a token forged with another key: never reaches todos.
    assert.equal((await headersSeen(`${TODOS}/headers`)).status, '401');
    assert.equal((await headersSeen(`-H 'Authorization: Bearer ${userToken({ iss: 'https://evil.example' })}' ${TODOS}/headers`)).status, '401');
  });

  test('full extraction: reminder gets X-User-Id, X-Roles and the API key; forged copies never reach it', async () => {
    const s = await eventually(async () => {
      const r = await headersSeen(`-H 'Authorization: Bearer ${userToken()}' -H 'X-User-Id: mallory' -H 'X-API-Key: forged' -H 'X-Roles: root' ${REMINDER}/headers`);
      if (r.status === '200' && r.headers['X-Api-Key']) return r;
      throw new Error(`HTTP ${r.status} ${JSON.stringify(r.headers)}; ${await sidecarLog()}`);
    }, 60_000, 'claims extracted for reminder');
    assert.equal(s.headers['X-User-Id'], 'alice');
    assert.equal(s.headers['X-Roles'], 'admin,viewer');
    assert.equal(s.headers['X-Api-Key'], API_KEY);
    assert.equal(s.headers['Authorization'], undefined, 'the token is dropped');
    const noToken = await headersSeen(`-H 'X-User-Id: mallory' -H 'X-API-Key: forged' ${REMINDER}/headers`);
    assert.equal(noToken.status, '401');
    // The refusal's access line says which plugin refused and why, as policy refusals do.
    const log = (await mesh.tessera(['logs', pods['curl']!, '-n', 'curl', '-c', 'sidecar', '--tail', '50'])).stdout;
    assert.match(log, /"status":401,[^\n]*"denied":"claims-to-headers: no token"/, log.slice(-1500));
  });

  test('the keys are in no config_dump', async () => {
    for (const [ns, pod] of [['curl', pods['curl']!], ['default', pods['reminder']!]] as const) {
      const d = await mesh.sh(`tessera proxy get config_dump -n ${ns} ${pod}`);
      assert.equal(d.code, 0, d.stderr);
      assert.ok(!d.stdout.includes(HS_KEY) && !d.stdout.includes(Buffer.from(HS_KEY).toString('base64')), 'no signing key');
      assert.ok(!d.stdout.includes(API_KEY), 'no API key');
    }
    const d = await mesh.sh(`tessera proxy get config_dump -n curl ${pods['curl']}`);
    assert.match(d.stdout, /"plugins\/jwt-reissue\.js"/);
    assert.match(d.stdout, /"Kind": ?"builtin"/);
  });
  /** POSTs a form to the token service from a pod; the JSON answer. */
  async function stsToken(ns: string, pod: string, form: string, extra = ''): Promise<Record<string, unknown>> {
    const out = await exec(pod, ns, `curl -s -m 10 -X POST ${extra} -H 'content-type: application/x-www-form-urlencoded' --data '${form}' ${STS}/token`);
    return JSON.parse(out) as Record<string, unknown>;
  }
  async function todosStatus(token: string): Promise<string> {
    return (await exec(pods['reminder']!, 'default', `curl -s -o /dev/null -w '%{http_code}' -m 10 -H 'Authorization: Bearer ${token}' ${TODOS}/get`)).trim();
  }

  test('token service: discovery and JWKS; client credentials for a workload by its mTLS identity; the token passes todos', async () => {
    const d = JSON.parse(await exec(pods['reminder']!, 'default', `curl -s -m 10 ${STS}/.well-known/openid-configuration`)) as Record<string, unknown>;
    assert.deepEqual([d['issuer'], d['jwks_uri'], d['token_endpoint']], [STS, `${STS}/jwks.json`, `${STS}/token`]);
    const jwks = JSON.parse(await exec(pods['reminder']!, 'default', `curl -s -m 10 ${STS}/jwks.json`)) as { keys: { kid: string }[] };
    assert.ok(jwks.keys.length >= 2);
    const r = await stsToken('default', pods['reminder']!, 'grant_type=client_credentials&audience=todos');
    const token = r['access_token'] as string;
    assert.ok(token, JSON.stringify(r));
    assert.equal(decode(token.split('.')[1]!)['sub'], 'cluster.local/ns/default/sa/reminder');
    assert.equal(await eventually(async () => ((await todosStatus(token)) === '200' ? '200' : undefined), 30_000, 'todos accepting an STS token'), '200');
    // A client-forged serviceidentity header is replaced by the sidecar: the caller is still reminder.
    const forged = await stsToken('default', pods['reminder']!, 'grant_type=client_credentials&audience=todos', `-H 'serviceidentity: admin.kube-system'`);
    assert.equal(decode((forged['access_token'] as string).split('.')[1]!)['sub'], 'cluster.local/ns/default/sa/reminder');
  });

  test('token service: no other pod gets a token as someone else — a meshed pod forging serviceidentity, a pod without a sidecar (namespace mode)', async (t) => {
    if (sts.ip.startsWith('127.')) {
      t.skip('loopback mode: any local process can bind a pod address and claim any identity there (docs/security.md)');
      return;
    }
    // Every call here is made from inside the pods, through interception: no proxy variables.
    assert.equal((await exec(pods['curl']!, 'curl', 'env | grep -ci _proxy || true')).trim(), '0');
    // The STS believes the header only from its own pod IP, where its sidecar dials it from.
    const stsLog = (await mesh.tessera(['logs', sts.name, '-n', 'auth', '-c', 'sts'])).stdout;
    assert.match(stsLog, new RegExp(`"trustedSourceAddresses":\\["${sts.ip.replaceAll('.', '\\.')}"\\]`), stsLog.slice(0, 1500));
    // A meshed pod forging the header for another workload: the caller is still itself.
    const forged = await stsToken('curl', pods['curl']!, 'grant_type=client_credentials&audience=todos', `-H 'serviceidentity: reminder.default'`);
    assert.equal(subOf(forged), 'cluster.local/ns/curl/sa/curl');

    // A pod without a sidecar, in a namespace outside the mesh, trying every way in with a forged header.
    const appAddress = (await mesh.sh(`tessera get pod ${sts.name} -n auth -o jsonpath='{.metadata.annotations.local\\.tessera\\.dev/app-address}'`)).stdout.trim();
    assert.match(appAddress, /^127\./);
    const intruder = await podOf(mesh, 'outside', 'intruder');
    const FORM = `-H 'serviceidentity: reminder.default' -d grant_type=client_credentials -d audience=todos`;
    const attempt = (name: string, args: string): string => `printf '%s ' ${name}; curl -s -m 5 -o /dev/null -w '%{http_code} ' ${FORM} ${args}; echo $?`;
    const out = await exec(intruder.name, 'outside', [
      attempt('service', `${STS}/token`),
      attempt('podIP', `http://${sts.ip}:8080/token`),
      // the app's address is on the STS pod's own lo: from here it is this pod's loopback
      attempt('app', `http://${appAddress}:8080/token`),
      // the one source the STS believes the header from: not an address this pod can use
      attempt('spoofed', `--interface ${sts.ip} ${STS}/token`),
    ].join('\n'));
    const got = Object.fromEntries(out.trim().split('\n').map((l) => { const [n, code, exit] = l.split(' '); return [n!, { code: code!, exit: Number(exit) }]; }));
    // No AccessControl admits it: the STS's sidecar closes plaintext connections without an answer.
    for (const n of ['service', 'podIP']) assert.ok(got[n]!.code === '000' && [52, 56].includes(got[n]!.exit), `${n}: ${out}`);
    assert.deepEqual(got['app'], { code: '000', exit: 7 }, out);
    assert.deepEqual(got['spoofed'], { code: '000', exit: 45 }, out);

    // Admitted in plaintext by an AccessControl, it has no mesh identity: the sidecar drops the header.
    const applied = await mesh.tessera(['apply', '-f', '-'], { input: admitToSts('intruder', `${intruder.ip}/32`) });
    assert.equal(applied.code, 0, applied.stderr);
    try {
      const refused = await eventually(async () => {
        const r = await stsToken('outside', intruder.name, 'grant_type=client_credentials&audience=todos', `-H 'serviceidentity: reminder.default'`).catch(() => undefined);
        return r?.['error'] !== undefined ? r : undefined;
      }, 30_000, 'the AccessControl admitting the intruder');
      assert.equal(refused['error'], 'invalid_client');
      // With a client secret it gets that client's token, still not the workload's.
      const web = await stsToken('outside', intruder.name, 'grant_type=client_credentials&audience=todos&client_id=web&client_secret=web-client-secret-0123', `-H 'serviceidentity: reminder.default'`);
      assert.equal(subOf(web), 'web');
    } finally {
      await mesh.tessera(['delete', 'accesscontrol', 'intruder', '-n', 'auth']);
    }
  });

  test('token service: token exchange puts the workload in act', async () => {
    const web = await stsToken('curl', pods['curl']!, 'grant_type=client_credentials&audience=token-service&client_id=web&client_secret=web-client-secret-0123');
    const subject = web['access_token'] as string;
    assert.ok(subject, JSON.stringify(web));
    const x = await stsToken('default', pods['reminder']!, `grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=${subject}&subject_token_type=urn:ietf:params:oauth:token-type:jwt&audience=todos`);
    const t = x['access_token'] as string;
    assert.ok(t, JSON.stringify(x));
    const p = decode(t.split('.')[1]!);
    assert.equal(p['sub'], 'web');
    assert.deepEqual(p['act'], { sub: 'cluster.local/ns/default/sa/reminder' });
    // what STS_POLICY does not grant: curl acting for web; reminder exchanging web's token for another audience
    const xchg = (aud: string): string => `grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=${subject}&subject_token_type=urn:ietf:params:oauth:token-type:jwt&audience=${aud}`;
    assert.equal((await stsToken('curl', pods['curl']!, xchg('todos')))['error'], 'unauthorized_client');
    assert.equal((await stsToken('default', pods['reminder']!, xchg('token-service')))['error'], 'invalid_target');
    assert.equal((await stsToken('curl', pods['curl']!, 'grant_type=client_credentials&audience=token-service'))['error'], 'invalid_target');
    // signed with the STS's current key: if it rotated a moment ago, todos's sidecar learns the new
    // kid at its next JWKS fetch (at most every 30 s, security-rules.md §6)
    let last = '';
    await eventually(async () => (last = await todosStatus(t)) === '200', 45_000, 'todos to accept the exchanged token').catch((e: Error) => {
      throw new Error(`${e.message}: the last status was ${last}`);
    });
  });

  test('token service: after a key rotation tokens of the previous key pass until they expire', async () => {
    const first = (await stsToken('default', pods['reminder']!, 'grant_type=client_credentials&audience=todos'))['access_token'] as string;
    const kid = decode(first.split('.')[0]!)['kid'];
    const second = await eventually(async () => {
      const t = (await stsToken('default', pods['reminder']!, 'grant_type=client_credentials&audience=todos'))['access_token'] as string;
      return decode(t.split('.')[0]!)['kid'] !== kid ? t : undefined;
    }, 40_000, 'a rotated signing key');
    // A kid the sidecar has not seen yet is fetched at most every 30 s (security-rules.md §6): poll.
    const ok = async (t: string): Promise<string | undefined> => ((await todosStatus(t)) === '200' ? '200' : undefined);
    assert.equal(await eventually(() => ok(second), 45_000, 'the new key accepted'), '200');
    const exp = decode(first.split('.')[1]!)['exp'] as number;
    assert.ok(Date.now() / 1000 < exp - 2, 'the first token is still unexpired');
    assert.equal(await todosStatus(first), '200', 'the previous key still verifies its unexpired token');
    await eventually(async () => Date.now() / 1000 > exp + 1, 70_000, 'the first token to expire');
    assert.equal(await todosStatus(first), '401', 'expired');
  });
});

describe('tessera-sts in loopback mode (the documented fallback): a workload by its mTLS identity, a process on this machine only with an AccessControl and a client secret', () => {
  let mesh: TestMesh;
  let reminder = '';
  let stsIP = '';

  async function stsToken(form: string, extra = ''): Promise<Record<string, unknown>> {
    const r = await mesh.tessera(['exec', reminder, '-n', 'default', '--', 'sh', '-c', `curl -s -m 10 -X POST ${extra} -H 'content-type: application/x-www-form-urlencoded' --data '${form}' ${STS}/token`], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }
  /** POST /token from this process (source 127.0.0.1) straight to the STS pod's address. */
  async function fromHost(form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`http://${stsIP}:8080/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(5000),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  before(async () => {
    // Loopback mode: pods are processes on this machine's 127/8, so a process here can call a pod's
    // address directly, which namespace mode has no route for.
    mesh = await startMesh('fsm', ['--pod-network=loopback']);
    const r = await mesh.sh(
      `
      tessera namespace add default
      tessera create namespace auth
      tessera namespace add auth
      tessera apply -f - <<'EOF_APPS'
${httpbinApp('reminder')}
---
${STS_APP}
EOF_APPS
${waitReady([['default', 'reminder'], ['auth', 'tessera-sts']])}
      `,
      { timeoutMs: 180_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    reminder = (await podOf(mesh, 'default', 'reminder')).name;
    stsIP = (await podOf(mesh, 'auth', 'tessera-sts')).ip;
  });
  after(async () => {
    await mesh?.stop();
  });

  test('client credentials for reminder by its mTLS identity, a forged header replaced; from this machine nothing without an AccessControl, then 401 without a secret and a client token with one', async () => {
    assert.match(stsIP, /^127\./);
    assert.equal(subOf(await stsToken('grant_type=client_credentials&audience=todos')), 'cluster.local/ns/default/sa/reminder');
    assert.equal(subOf(await stsToken('grant_type=client_credentials&audience=todos', `-H 'serviceidentity: admin.kube-system'`)), 'cluster.local/ns/default/sa/reminder');

    const form = { grant_type: 'client_credentials', audience: 'gateway' };
    await assert.rejects(fromHost(form, { serviceidentity: 'reminder.default' }), 'closed without an AccessControl');
    const applied = await mesh.tessera(['apply', '-f', '-'], { input: admitToSts('tessera-sts', '127.0.0.1/32') });
    assert.equal(applied.code, 0, applied.stderr);
    const refused = await eventually(() => fromHost(form, { serviceidentity: 'reminder.default' }).catch(() => undefined), 30_000, 'the AccessControl admitting 127.0.0.1');
    assert.deepEqual([refused.status, refused.body['error']], [401, 'invalid_client'], 'no identity from outside the mesh: the header is dropped');
    const basic = await fromHost(form, { authorization: `Basic ${Buffer.from('web:web-client-secret-0123').toString('base64')}` });
    assert.equal(basic.status, 200, JSON.stringify(basic.body));
    assert.equal(subOf(basic.body), 'web');
  });
});
