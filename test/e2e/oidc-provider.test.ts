/**
 * An external issuer: a real OpenID provider (the `oidc-provider` package, test/support/oidc-idp.ts)
 * runs as a pod in namespace `idp`, outside the mesh, behind its Service, as an identity provider
 * runs in a cluster; it issues JWT access tokens by the client credentials grant. httpbin's
 * RequestAuthentication names only the provider's issuer, its Service URL (no jwks, no jwksUri), so
 * its sidecar finds the keys by OpenID discovery and fetches the provider's JWKS from the pod; an
 * AuthorizationPolicy requires the client's request principal. Accepted: the provider's RS256 and
 * ES256 tokens; rejected as the rules say: no token (403), wrong audience, tampered, expired, another
 * issuer (a second real provider pod the rule does not name), forged signatures by an attacker's keys
 * (401). Then the provider is redeployed with a new key set and signs with a new kid: the sidecar
 * refetches on the unknown kid (at most every 30 s) and accepts it, and still accepts unexpired
 * tokens of the previous key the provider keeps publishing.
 *
 * It runs in the default pod network (namespace mode wherever it is possible, CI included; `auto`
 * falls back to loopback elsewhere, where the same pods work): the tokens are sent from inside the
 * curl pod (meshed, no proxy variables in namespace mode), and asked for by a client pod in `idp`,
 * outside the mesh, as the test process asked a provider on loopback before. Not from the curl pod:
 * in namespace mode a meshed pod's connection to a Service outside the mesh on a port that no mesh
 * service's traffic match names (8080 here) is reset by its sidecar's transparent listener
 * (docs/architecture.md, "Not covered yet"); the sidecars' own JWKS fetches dial the provider pod
 * directly and are not affected.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { statusCodes } from '../support/curl.js';
import { deploySample, waitReady } from '../support/deploy.js';
import { deployment, httpbinApp } from '../support/manifests.js';
import { REPO_ROOT, eventually, podOf, startMesh, type TestMesh } from '../support/mesh.js';
import { decidePodNetwork } from '../../src/local/runtime/pod-network.js';

interface KeyGen {
  rsa: { kid: string; key: KeyObject; jwk: Record<string, unknown> };
  ec: { kid: string; key: KeyObject; jwk: Record<string, unknown> };
}

/** A fresh RS256 and ES256 signing key pair as private JWKs for the provider, with kids naming the generation. */
function keyGen(gen: string): KeyGen {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = (k: KeyObject, kid: string, alg: string): Record<string, unknown> => ({ ...(k.export({ format: 'jwk' }) as object), kid, alg, use: 'sig' });
  return {
    rsa: { kid: `rsa-${gen}`, key: rsa.privateKey, jwk: jwk(rsa.privateKey, `rsa-${gen}`, 'RS256') },
    ec: { kid: `ec-${gen}`, key: ec.privateKey, jwk: jwk(ec.privateKey, `ec-${gen}`, 'ES256') },
  };
}

const CLIENT_ID = 'mesh-client';
const CLIENT_SECRET = randomBytes(24).toString('hex');
/** Resource indicators the provider serves: [audience, alg, access token TTL in seconds]; the first is the default. */
const RESOURCES: Record<string, [string, 'RS256' | 'ES256', number]> = {
  'https://httpbin.tessera.test/rs': ['httpbin', 'RS256', 300],
  'https://httpbin.tessera.test/es': ['httpbin', 'ES256', 300],
  'https://httpbin.tessera.test/short': ['httpbin', 'RS256', 2],
  'https://other.tessera.test/': ['other-api', 'RS256', 300],
};
/** The providers' namespace: not added to the mesh, so they run without sidecars, as an IdP outside the mesh would. */
const IDP_NS = 'idp';
const IDP_APP = `exec "${process.execPath}" ${join(REPO_ROOT, 'dist', 'test', 'support', 'oidc-idp.js')}`;

/**
 * A provider pod (Deployment + Service `name` in `idp`, port 8080); its issuer is the Service URL.
 * `start` (re)deploys it with a key set, as a provider is redeployed with new keys; `down` scales it
 * to zero (connections to it fail, as while a provider is redeployed). Tokens and documents are asked
 * for from a client pod outside the mesh, by the Service name; in loopback mode (the fallback where
 * namespace mode is impossible) `exec` has no cluster DNS, so by the provider pod's address there.
 */
class ProviderPod {
  readonly issuer: string;
  /** the key set of the current deployment */
  private keys: KeyGen[] = [];

  constructor(
    private readonly name: string,
    private readonly mesh: () => TestMesh,
    private readonly clientPod: () => { ns: string; name: string; byAddress: boolean },
  ) {
    this.issuer = `http://${name}.${IDP_NS}:8080`;
  }

  private manifest(keys: KeyGen[], replicas: number): string {
    const env = {
      OIDC_ISSUER: this.issuer,
      OIDC_CLIENT: JSON.stringify({ id: CLIENT_ID, secret: CLIENT_SECRET }),
      OIDC_KEYS: JSON.stringify(keys.flatMap((k) => [k.rsa.jwk, k.ec.jwk])),
      OIDC_RESOURCES: JSON.stringify(RESOURCES),
    };
    return `apiVersion: v1
kind: Service
metadata: { name: ${this.name}, namespace: ${IDP_NS} }
spec:
  ports: [{ name: http, port: 8080 }]
  selector: { app: ${this.name} }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${this.name}, namespace: ${IDP_NS} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${this.name} } }
  template:
    metadata:
      labels: { app: ${this.name} }
      annotations:
        local.tessera.dev/command: >-
          ${IDP_APP}
    spec:
      containers:
      - name: oidc
        image: example/oidc-provider
        ports: [{ containerPort: 8080 }]
        env:
${Object.entries(env).map(([k, v]) => `        - { name: ${k}, value: '${v}' }`).join('\n')}
`;
  }

  private async apply(keys: KeyGen[], replicas: number): Promise<void> {
    const r = await this.mesh().tessera(['apply', '-f', '-'], { input: this.manifest(keys, replicas) });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  }

  /** Runs `script` in the client pod; its stdout. */
  private async inClient(script: string): Promise<string> {
    const { ns, name } = this.clientPod();
    const r = await this.mesh().tessera(['exec', name, '-n', ns, '--', 'sh', '-c', script], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  }

  /** the provider pod's address, in loopback mode (see above) */
  private address = '';

  /** `path` on the provider as the client pod reaches it. */
  url(path: string): string {
    return this.clientPod().byAddress ? `http://${this.address}:8080${path}` : `${this.issuer}${path}`;
  }

  /** GET a document of the provider from the client pod. */
  async get(path: string): Promise<Record<string, unknown>> {
    return JSON.parse(await this.inClient(`curl -s -m 10 '${this.url(path)}'`)) as Record<string, unknown>;
  }

  /** Deploys the provider with `keys` published in this order (it signs with the first RSA and EC key) and waits until it serves them. */
  async start(keys: KeyGen[]): Promise<void> {
    this.keys = keys;
    await this.apply(keys, 1);
    const want = JSON.stringify(keys.flatMap((k) => [k.rsa.kid, k.ec.kid]));
    await eventually(async () => {
      if (this.clientPod().byAddress) this.address = (await podOf(this.mesh(), IDP_NS, this.name)).ip;
      const jwks = (await this.get('/jwks').catch(() => undefined)) as { keys?: { kid: string }[] } | undefined;
      return JSON.stringify(jwks?.keys?.map((k) => k.kid)) === want;
    }, 120_000, `${this.name} serving ${want}`);
  }

  /** Scaled to zero: no pod answers for the provider until the next start. */
  async down(): Promise<void> {
    await this.apply(this.keys, 0);
    await eventually(async () => {
      const r = await this.mesh().sh(`tessera get pod -n ${IDP_NS} -l app=${this.name} -o name`);
      return r.code === 0 && r.stdout.trim() === '';
    }, 60_000, `${this.name} gone`);
  }

  /** Access tokens by the client credentials grant, one per resource, asked for in one exec. */
  async tokens(...resources: string[]): Promise<string[]> {
    const basic = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64');
    const out = await this.inClient(resources.map((r) =>
      `curl -s -m 10 -H 'authorization: Basic ${basic}' -d grant_type=client_credentials --data-urlencode 'resource=${r}' -d scope=api:read ${this.url('/token')}; echo`).join('\n'));
    const bodies = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(bodies.length, resources.length, out);
    return bodies.map((body) => {
      assert.equal(body['token_type'], 'Bearer', JSON.stringify(body));
      return body['access_token'] as string;
    });
  }

  async token(resource: string): Promise<string> {
    return (await this.tokens(resource))[0]!;
  }
}

const b64u = (v: Buffer | string | object): string => (Buffer.isBuffer(v) ? v : Buffer.from(typeof v === 'string' ? v : JSON.stringify(v))).toString('base64url');
const part = (token: string, i: 0 | 1): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[i]!, 'base64url').toString()) as Record<string, unknown>;
/** header.payload signed with `alg` by `key` (an RSA/EC private key, or an HMAC secret). */
function resign(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject | Buffer | undefined): string {
  const input = `${b64u(header)}.${b64u(payload)}`;
  const alg = header['alg'];
  if (alg === 'none') return `${input}.`;
  if (alg === 'HS256') return `${input}.${b64u(createHmac('sha256', key as Buffer).update(input).digest())}`;
  return `${input}.${b64u(sign('sha256', Buffer.from(input), alg === 'ES256' ? { key: key as KeyObject, dsaEncoding: 'ieee-p1363' } : (key as KeyObject)))}`;
}

/** Discovery: issuer only. clockSkew 0s (a Tessera extension) so the 2 s token is expired 3 s later, not 63. */
const policies = (issuer: string): string => `
apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata: { name: external-issuer, namespace: default }
spec:
  selector: { matchLabels: { app: httpbin } }
  jwtRules:
  - issuer: "${issuer}"
    audiences: [httpbin]
    clockSkew: 0s
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: { name: require-client, namespace: default }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: ALLOW
  rules:
  - from: [{ source: { requestPrincipals: ["${issuer}/${CLIENT_ID}"] } }]
`;

describe('an external OpenID provider (oidc-provider) as the issuer: discovery, JWKS, key rotation, rejections', () => {
  let mesh: TestMesh | undefined;
  let curlPod = '';
  let httpbinPod = '';
  /** a pod outside the mesh that asks the providers for tokens */
  let clientPod = '';
  let loopback = false;
  const client = (): { ns: string; name: string; byAddress: boolean } => ({ ns: IDP_NS, name: clientPod, byAddress: loopback });
  const idp = new ProviderPod('oidc', () => mesh!, client);
  /** a second provider: a real issuer the rule does not name */
  const stranger = new ProviderPod('stranger', () => mesh!, client);
  const gen1 = keyGen('1');
  const gen2 = keyGen('2');
  const attacker = keyGen('x');
  const HTTPBIN = 'http://httpbin.default:14001';

  /** HTTP status per named token (undefined: no Authorization header), from the curl pod, in one exec. */
  const codes = (tokens: Record<string, string | undefined>): Promise<Record<string, string>> =>
    statusCodes(mesh!, 'curl', curlPod, Object.entries(tokens).map(([name, t]) => [name, `${t === undefined ? '' : `-H 'Authorization: Bearer ${t}'`} ${HTTPBIN}/get`]), 60_000);
  /** httpbin's sidecar log tail, for failure messages and the rejection reasons. */
  async function sidecarLog(lines = 20): Promise<string> {
    const r = await mesh!.tessera(['logs', httpbinPod, '-n', 'default', '-c', 'sidecar', '--tail', String(lines)]);
    return r.stdout;
  }

  before(async () => {
    // The default pod network. The providers are pods outside the mesh, reached by their Service
    // names from the sidecars (discovery, JWKS) and from the curl pod (tokens), as in a cluster.
    mesh = await startMesh('fsm');
    const r = await mesh.sh(
      `
      tessera patch meshconfig fsm-mesh-config -n fsm-system -p '{"spec":{"sidecar":{"logLevel":"warn"}}}' --type=merge
      tessera namespace add default
${deploySample('curl')}
      tessera create namespace ${IDP_NS}
      tessera apply -f - <<'EOF_APPS'
${httpbinApp('httpbin')}
---
${deployment('client', '{ name: client, image: curlimages/curl, command: ["sleep", "365d"] }', { ns: IDP_NS, account: false })}
EOF_APPS
${waitReady([['default', 'httpbin'], ['curl', 'curl'], [IDP_NS, 'client']])}
      `,
      { timeoutMs: 180_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const curl = await podOf(mesh, 'curl', 'curl');
    curlPod = curl.name;
    loopback = curl.ip.startsWith('127.');
    assert.equal(loopback ? 'loopback' : 'namespace', (await decidePodNetwork('auto')).mode, `the curl pod's IP ${curl.ip} in the default pod network`);
    httpbinPod = (await podOf(mesh, 'default', 'httpbin')).name;
    clientPod = (await podOf(mesh, IDP_NS, 'client')).name;
    await Promise.all([idp.start([gen1]), stranger.start([attacker])]);
    const applied = await mesh.tessera(['apply', '-f', '-'], { input: policies(idp.issuer) });
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
  });
  after(async () => {
    await mesh?.stop();
  });

  let rs1 = '';

  test('the provider publishes discovery and JWKS, and its RS256 and ES256 access tokens get 200; no token 403', async () => {
    const d = await idp.get('/.well-known/openid-configuration');
    assert.equal(d['issuer'], idp.issuer);
    assert.equal(d['jwks_uri'], `${idp.issuer}/jwks`);
    const jwks = (await idp.get('/jwks')) as unknown as { keys: { kid: string; d?: string }[] };
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [gen1.ec.kid, gen1.rsa.kid]);
    assert.ok(jwks.keys.every((k) => k.d === undefined), 'public keys only');

    let es1: string;
    [rs1, es1] = (await idp.tokens('https://httpbin.tessera.test/rs', 'https://httpbin.tessera.test/es')) as [string, string];
    assert.deepEqual(part(rs1, 0), { alg: 'RS256', typ: 'at+jwt', kid: gen1.rsa.kid });
    const p = part(rs1, 1);
    assert.deepEqual([p['iss'], p['aud'], p['sub'], p['client_id']], [idp.issuer, 'httpbin', CLIENT_ID, CLIENT_ID]);
    assert.equal(part(es1, 0)['alg'], 'ES256');

    // Policies reach the sidecar and the first token triggers discovery + JWKS: poll until it passes.
    await eventually(async () => {
      const c = await codes({ rs: rs1 });
      if (c['rs'] === '200') return true;
      throw new Error(`HTTP ${c['rs']}; ${await sidecarLog(5)}`);
    }, 45_000, 'a token of the provider accepted through discovery');
    assert.deepEqual(await codes({ rs: rs1, es: es1, none: undefined }), { rs: '200', es: '200', none: '403' });
  });

  test('rejected with 401: wrong audience, tampered, expired, another issuer, a foreign key under its kid, an embedded jwk, alg none, HS256 with its public key', async () => {
    const wrongAud = await idp.token('https://other.tessera.test/');
    assert.equal(part(wrongAud, 1)['aud'], 'other-api');
    const [h, p, s] = rs1.split('.') as [string, string, string];
    const claims = part(rs1, 1);
    // Tampered: the payload changed (another subject), the provider's signature kept.
    const tampered = `${h}.${b64u({ ...claims, sub: 'admin' })}.${s}`;
    // Tampered signature: one bit flipped in the middle of the signature.
    const sig = Buffer.from(s, 'base64url');
    sig[sig.length >> 1]! ^= 0x01;
    const badSig = `${h}.${p}.${b64u(sig)}`;
    const fromStranger = await stranger.token('https://httpbin.tessera.test/rs');
    // Our claims under our kid, signed by a key the provider never published.
    const forgedIss = resign({ alg: 'RS256', typ: 'at+jwt', kid: gen1.rsa.kid }, claims, attacker.rsa.key);
    // The attacker's public key embedded in the header (`jwk`): keys come only from the JWKS.
    const embeddedJwk = resign({ alg: 'RS256', typ: 'at+jwt', kid: attacker.rsa.kid, jwk: { ...(attacker.rsa.jwk as object), d: undefined, p: undefined, q: undefined, dp: undefined, dq: undefined, qi: undefined } }, claims, attacker.rsa.key);
    const algNone = resign({ alg: 'none', typ: 'at+jwt', kid: gen1.rsa.kid }, claims, undefined);
    const publicPem = Buffer.from(createPublicKey(gen1.rsa.key).export({ type: 'spki', format: 'pem' }) as string);
    const hs256 = resign({ alg: 'HS256', typ: 'at+jwt', kid: gen1.rsa.kid }, claims, publicPem);
    const short = await idp.token('https://httpbin.tessera.test/short');
    const shortExp = part(short, 1)['exp'] as number;

    // The 2 s token: accepted while young (when the exec comes soon enough), 401 once past exp (clockSkew 0s).
    const young = await codes({ short });
    if (Date.now() / 1000 < shortExp - 1) assert.equal(young['short'], '200', 'a young short-lived token');
    await eventually(async () => Date.now() / 1000 > shortExp + 1, 10_000, 'the short token to expire');

    const got = await codes({ wrongAud, tampered, badSig, expired: short, fromStranger, forgedIss, embeddedJwk, algNone, hs256, good: rs1 });
    assert.deepEqual(
      got,
      { wrongAud: '401', tampered: '401', badSig: '401', expired: '401', fromStranger: '401', forgedIss: '401', embeddedJwk: '401', algNone: '401', hs256: '401', good: '200' },
      await sidecarLog(),
    );
    // The sidecar says why, and never echoes a token.
    // (At FSM's default sidecar logLevel `error` these warnings are not written: the mesh config above sets `warn`.)
    const reasons = ['JWT_AUDIENCE_MISMATCH', 'JWT_BAD_SIGNATURE', 'JWT_EXPIRED', 'JWT_ALG_NOT_ALLOWED'];
    let log = '';
    await eventually(async () => {
      log = await sidecarLog(100);
      return reasons.every((code) => log.includes(code));
    }, 15_000, 'the rejection reasons in the sidecar log').catch(() => assert.fail(`expected ${reasons.join(', ')} in the sidecar log:\n${log}`));
    for (const t of [wrongAud, tampered, short, hs256]) assert.ok(!log.includes(t.split('.')[2]!) && !log.includes(t.split('.')[1]!), 'no token in the sidecar log');
  });

  test('key rotation: the provider restarts with a new key set; the new kid is fetched (rate-limited) and accepted, the previous key still verifies its unexpired tokens', async () => {
    // A redeploy: no provider pod for a moment. The last good key set stays in use meanwhile.
    await idp.down();
    const down = await mesh!.tessera(['exec', clientPod, '-n', IDP_NS, '--', 'sh', '-c', `curl -s -m 5 -o /dev/null -w '%{http_code}' ${idp.url('/jwks')}; echo " $?"`], { timeoutMs: 60_000 });
    assert.match(down.stdout, /^000 [1-9]/, `the provider is down: ${down.stdout} ${down.stderr}`);
    assert.deepEqual(await codes({ old: rs1 }), { old: '200' });
    // The new generation signs; the previous one stays published until its tokens expire.
    await idp.start([gen2, gen1]);
    const [rs2, es2] = (await idp.tokens('https://httpbin.tessera.test/rs', 'https://httpbin.tessera.test/es')) as [string, string];
    assert.equal(part(rs2, 0)['kid'], gen2.rsa.kid);
    assert.equal(part(es2, 0)['kid'], gen2.ec.kid);
    // An unknown kid refetches at most every 30 s since the last fetch: poll, bounded.
    const started = Date.now();
    await eventually(async () => (await codes({ rs2 }))['rs2'] === '200', 45_000, 'the rotated RS256 key accepted');
    const waited = Date.now() - started;
    assert.deepEqual(await codes({ rs2, es2, old: rs1, none: undefined }), { rs2: '200', es2: '200', old: '200', none: '403' });
    // A key from a generation the provider never published is still refused after the refetch.
    const claims = part(rs2, 1);
    assert.deepEqual(await codes({ foreign: resign({ alg: 'RS256', typ: 'at+jwt', kid: gen2.rsa.kid }, claims, attacker.rsa.key) }), { foreign: '401' });
    assert.ok(waited < 45_000, `rotation picked up after ${waited} ms`);
  });
});

