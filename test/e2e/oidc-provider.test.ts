/**
 * An external issuer: a real OpenID provider (the `oidc-provider` package) runs in this process on
 * loopback and issues JWT access tokens by the client credentials grant. httpbin's
 * RequestAuthentication names only the provider's issuer (no jwks, no jwksUri), so its sidecar finds
 * the keys by OpenID discovery and fetches the provider's JWKS; an AuthorizationPolicy requires the
 * client's request principal. Accepted: the provider's RS256 and ES256 tokens; rejected as the
 * rules say: no token (403), wrong audience, tampered, expired, another issuer, forged signatures
 * (401). Then the provider restarts with a new key set and signs with a new kid: the sidecar
 * refetches on the unknown kid (at most every 30 s) and accepts it, and still accepts unexpired
 * tokens of the previous key the provider keeps publishing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { statusCodes } from '../support/curl.js';
import { deploySample, waitReady } from '../support/deploy.js';
import { httpbinApp } from '../support/manifests.js';
import { eventually, podOf, startMesh, type TestMesh } from '../support/mesh.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
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
/** Resource indicators the provider serves: [audience, alg, access token TTL in seconds]. */
const RESOURCES: Record<string, [string, 'RS256' | 'ES256', number]> = {
  'https://httpbin.tessera.test/rs': ['httpbin', 'RS256', 300],
  'https://httpbin.tessera.test/es': ['httpbin', 'ES256', 300],
  'https://httpbin.tessera.test/short': ['httpbin', 'RS256', 2],
  'https://other.tessera.test/': ['other-api', 'RS256', 300],
};

/**
 * A real oidc-provider behind a loopback HTTP server whose handler can be swapped: `restart` builds
 * a new Provider (same issuer, new key set) as a redeployed provider would be, `down` refuses requests.
 */
class OpenIdProvider {
  private handler: Handler = (_q, s) => s.destroy();
  private readonly server: Server = createServer((q, s) => this.handler(q, s));
  issuer = '';
  /** kid per alg that the current provider signs access tokens with */
  signWith: Record<'RS256' | 'ES256', string> = { RS256: '', ES256: '' };

  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** (Re)starts the provider with `keys` published in this order, signing with the first RSA and EC key. */
  start(keys: KeyGen[]): void {
    this.signWith = { RS256: keys[0]!.rsa.kid, ES256: keys[0]!.ec.kid };
    const provider = new Provider(this.issuer, {
      clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic' }],
      jwks: { keys: keys.flatMap((k) => [k.rsa.jwk, k.ec.jwk]) },
      cookies: { keys: [randomBytes(16).toString('hex')] },
      // The resource server's accessTokenTTL decides (a plain number here would override it).
      ttl: { ClientCredentials: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) => token.resourceServer?.accessTokenTTL ?? 300 },
      features: {
        clientCredentials: { enabled: true },
        devInteractions: { enabled: false },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => 'https://httpbin.tessera.test/rs',
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, indicator) => {
            const r = RESOURCES[indicator];
            if (!r) throw new Error(`unknown resource ${indicator}`);
            const [audience, alg, accessTokenTTL] = r;
            return { scope: 'api:read', audience, accessTokenTTL, accessTokenFormat: 'jwt', jwt: { sign: { alg, kid: this.signWith[alg] } } };
          },
        },
      },
    });
    provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error', err));
    this.handler = provider.callback();
  }

  /** Connections refused mid-request, as while a provider is redeployed. */
  down(): void {
    this.handler = (_q, s) => s.destroy();
  }

  async token(resource: string): Promise<string> {
    const res = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'api:read' }).toString(),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body['token_type'], 'Bearer');
    return body['access_token'] as string;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
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
  const idp = new OpenIdProvider();
  /** a second provider: a real issuer the rule does not name */
  const stranger = new OpenIdProvider();
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
    await idp.listen();
    idp.start([gen1]);
    await stranger.listen();
    stranger.start([attacker]);
    // The provider listens on this machine's loopback, which sandboxed pods cannot reach (their
    // sidecars fetch its JWKS): loopback mode, where pods share the machine's network.
    mesh = await startMesh('fsm', ['--pod-network=loopback']);
    const r = await mesh.sh(
      `
      tessera patch meshconfig fsm-mesh-config -n fsm-system -p '{"spec":{"sidecar":{"logLevel":"warn"}}}' --type=merge
      tessera namespace add default
${deploySample('curl')}
      tessera apply -f - <<'EOF_APPS'
${httpbinApp('httpbin')}
EOF_APPS
${waitReady([['default', 'httpbin'], ['curl', 'curl']])}
      `,
      { timeoutMs: 180_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    curlPod = (await podOf(mesh, 'curl', 'curl')).name;
    httpbinPod = (await podOf(mesh, 'default', 'httpbin')).name;
    const applied = await mesh.tessera(['apply', '-f', '-'], { input: policies(idp.issuer) });
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
  });
  after(async () => {
    await Promise.allSettled([idp.close(), stranger.close(), mesh?.stop()]);
  });

  let rs1 = '';

  test('the provider publishes discovery and JWKS, and its RS256 and ES256 access tokens get 200; no token 403', async () => {
    const d = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(d['issuer'], idp.issuer);
    const jwks = (await (await fetch(d['jwks_uri'] as string)).json()) as { keys: { kid: string; d?: string }[] };
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [gen1.ec.kid, gen1.rsa.kid]);
    assert.ok(jwks.keys.every((k) => k.d === undefined), 'public keys only');

    rs1 = await idp.token('https://httpbin.tessera.test/rs');
    assert.deepEqual(part(rs1, 0), { alg: 'RS256', typ: 'at+jwt', kid: gen1.rsa.kid });
    const p = part(rs1, 1);
    assert.deepEqual([p['iss'], p['aud'], p['sub'], p['client_id']], [idp.issuer, 'httpbin', CLIENT_ID, CLIENT_ID]);
    const es1 = await idp.token('https://httpbin.tessera.test/es');
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
    const short = await idp.token('https://httpbin.tessera.test/short');
    const shortExp = part(short, 1)['exp'] as number;
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
    // A redeploy: refused connections for a moment. The last good key set stays in use meanwhile.
    idp.down();
    assert.deepEqual(await codes({ old: rs1 }), { old: '200' });
    // The new generation signs; the previous one stays published until its tokens expire.
    idp.start([gen2, gen1]);
    const rs2 = await idp.token('https://httpbin.tessera.test/rs');
    const es2 = await idp.token('https://httpbin.tessera.test/es');
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

