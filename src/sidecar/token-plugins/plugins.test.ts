/** Unit tests of the built-in token plugins on a fake PluginContext: re-issue, full extraction, pass-through, configs. */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync, randomBytes, verify as cryptoVerify } from 'node:crypto';
import { compileJwtRule, verifyJwt } from '../../authn/index.js';
import type { PluginContext } from '../../plugins/api.js';
import type { HeaderMap } from '../http/types.js';
import { HeadersView } from '../plugins/headers-view.js';
import { parseTokenPluginConfig, type ClaimsToHeadersConfig, type ReissueConfig } from './config.js';
import { claimsToHeadersHandler, passThroughHandler, reissueHandler } from './plugins.js';
import { setSecretSource } from './secrets.js';
import { compileVerifier } from './verify.js';

const ISS = 'https://idp.example';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const JWKS = JSON.stringify({ keys: [{ ...(rsa.publicKey.export({ format: 'jwk' }) as object), kid: 'idp-1', alg: 'RS256' }] });
const b64u = (v: object | Buffer): string => (Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v))).toString('base64url');

function rs256(claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64u({ alg: 'RS256', typ: 'JWT', kid: 'idp-1' })}.${b64u({ iss: ISS, sub: 'alice', aud: 'gateway', iat: now, exp: now + 600, ...claims })}`;
  return `${input}.${createSign('sha256').update(input).sign(rsa.privateKey).toString('base64url')}`;
}

interface Fake {
  ctx: PluginContext;
  headers: HeaderMap;
  responded: { status: number } | undefined;
  logs: { message: string; fields: Record<string, unknown> }[];
}

function fake(headers: HeaderMap, config: unknown = {}): Fake {
  const f: Fake = { headers, responded: undefined, logs: [], ctx: undefined as unknown as PluginContext };
  const view = new HeadersView(headers);
  f.ctx = {
    plugin: 'test-plugin',
    config,
    direction: 'outbound',
    service: { name: 'todos.default', namespace: 'default' },
    source: { address: '127.0.0.1', identity: undefined },
    request: { method: 'GET', path: '/', authority: 'todos.default', headers: view } as unknown as PluginContext['request'],
    response: undefined,
    respond: (status: number) => {
      f.responded = { status };
    },
    fetch: () => Promise.reject(new Error('no fetch')),
    log: () => undefined,
  };
  return f;
}
const reporter = (f: Fake) => ({ warn: (message: string, fields: Record<string, unknown>) => f.logs.push({ message, fields }) });

const noTarget = { tables: undefined, upstream: {} } as never;
function config<T>(plugin: 'jwt-reissue' | 'claims-to-headers' | 'jwt-pass-through', raw: unknown): T {
  const p = parseTokenPluginConfig(plugin, raw);
  assert.ok(p.ok, p.ok ? '' : p.error);
  return p.value.config as T;
}
const verifyCfg = { issuer: ISS, audiences: ['gateway'], jwks: JWKS };

const hs1 = randomBytes(32);
const hs2 = randomBytes(32);
let secretCalls = 0;
function useSecrets(data: Record<string, Buffer>): void {
  setSecretSource(async (ref) => {
    secretCalls++;
    assert.deepEqual(ref.service, { namespace: 'default', name: 'todos' });
    return new Map(Object.entries(ref.secretName === 'reissue-key' || ref.secretName === 'api-key' ? data : {}));
  });
}
afterEach(() => setSecretSource(undefined));

describe('jwt-reissue', () => {
  const raw = { verify: verifyCfg, issuer: 'https://gateway.tessera', audience: 'todos', claims: ['sub', 'roles'], signingKey: { secretName: 'reissue-key', kid: 'k1' } };

  test('verifies RS256 and replaces Authorization with an HS256 token: narrowed aud, chosen claims, 5 s lifetime, kid', async () => {
    useSecrets({ k1: hs1 });
    const cfg = config<ReissueConfig>('jwt-reissue', raw);
    const f = fake({ authorization: `Bearer ${rs256({ roles: ['admin'], email: 'a@x', aud: ['gateway', 'other'] })}` });
    await reissueHandler(cfg, compileVerifier(cfg.verify, noTarget))(f.ctx, reporter(f));
    assert.equal(f.responded, undefined);
    const token = (f.headers['authorization'] as string).slice('Bearer '.length);
    const [h, p] = token.split('.').slice(0, 2).map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()) as Record<string, unknown>);
    assert.deepEqual(h, { alg: 'HS256', typ: 'JWT', kid: 'k1' });
    assert.equal(p!['iss'], 'https://gateway.tessera');
    assert.equal(p!['aud'], 'todos');
    assert.equal(p!['sub'], 'alice');
    assert.deepEqual(p!['roles'], ['admin']);
    assert.equal(p!['email'], undefined, 'only the chosen claims are copied');
    assert.equal((p!['exp'] as number) - (p!['iat'] as number), 5);
    // The service's own RequestAuthentication (inline oct JWKS, clockSkew 0s) accepts it now, not 6 s later.
    const policy = compileJwtRule(
      { issuer: 'https://gateway.tessera', audiences: ['todos'], jwks: JSON.stringify({ keys: [{ kty: 'oct', k: hs1.toString('base64url'), kid: 'k1', alg: 'HS256' }] }) },
      { clockSkewSeconds: 0, cache: false },
    );
    assert.equal(verifyJwt(token, policy, Date.now()).ok, true);
    const later = verifyJwt(token, policy, Date.now() + 6000);
    assert.equal(later.ok, false);
    assert.equal(later.ok ? '' : later.code, 'JWT_EXPIRED');
  });

  test('RS256 and ES256 out from a PEM key in the Secret', async () => {
    for (const [alg, pair] of [
      ['RS256', generateKeyPairSync('rsa', { modulusLength: 2048 })],
      ['ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ] as const) {
      useSecrets({ k1: Buffer.from(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string) });
      const cfg = config<ReissueConfig>('jwt-reissue', { ...raw, algorithm: alg });
      const f = fake({ authorization: `Bearer ${rs256({})}` });
      await reissueHandler(cfg, compileVerifier(cfg.verify, noTarget))(f.ctx, reporter(f));
      const token = (f.headers['authorization'] as string).slice(7);
      const [h, p, s] = token.split('.');
      assert.equal(JSON.parse(Buffer.from(h!, 'base64url').toString()).alg, alg);
      const ok = cryptoVerify('sha256', Buffer.from(`${h}.${p}`), alg === 'ES256' ? { key: pair.publicKey, dsaEncoding: 'ieee-p1363' } : pair.publicKey, Buffer.from(s!, 'base64url'));
      assert.ok(ok, alg);
    }
  });

  test('rotation by kid: a new kid in the Secret and the config is fetched and used', async () => {
    useSecrets({ k1: hs1, k2: hs2 });
    const cfg = config<ReissueConfig>('jwt-reissue', { ...raw, signingKey: { secretName: 'reissue-key', kid: 'k2' } });
    const f = fake({ authorization: `Bearer ${rs256({})}` });
    await reissueHandler(cfg, compileVerifier(cfg.verify, noTarget))(f.ctx, reporter(f));
    const h = JSON.parse(Buffer.from((f.headers['authorization'] as string).slice(7).split('.')[0]!, 'base64url').toString());
    assert.equal(h.kid, 'k2');
  });

  test('missing, invalid or wrong-audience tokens get 401; no signing key gets 503 and the log never holds the token', async () => {
    useSecrets({});
    const cfg = config<ReissueConfig>('jwt-reissue', raw);
    const handler = reissueHandler(cfg, compileVerifier(cfg.verify, noTarget));
    for (const headers of [{}, { authorization: 'Bearer abc.def.ghi' }, { authorization: `Bearer ${rs256({ aud: 'elsewhere' })}` }, { authorization: rs256({}) }]) {
      const f = fake({ ...headers });
      await handler(f.ctx, reporter(f));
      assert.equal(f.responded?.status, 401, JSON.stringify(headers).slice(0, 40));
    }
    const token = rs256({});
    const f = fake({ authorization: `Bearer ${token}` });
    await handler(f.ctx, reporter(f));
    assert.equal(f.responded?.status, 503);
    assert.doesNotMatch(JSON.stringify(f.logs), new RegExp(token.split('.')[2]!.slice(0, 20)));
  });
});

describe('claims-to-headers', () => {
  const raw = {
    verify: verifyCfg,
    claimHeaders: [
      { claim: 'sub', header: 'X-User-Id' },
      { claim: 'roles', header: 'X-Roles' },
      { claim: 'org.id', header: 'X-Org' },
    ],
    apiKey: { secretName: 'api-key', key: 'api-key' },
  };

  test('sets claim headers and the API key, strips forged copies and drops the token', async () => {
    useSecrets({ 'api-key': Buffer.from('s3cret-api-key') });
    const cfg = config<ClaimsToHeadersConfig>('claims-to-headers', raw);
    const f = fake({ authorization: `Bearer ${rs256({ roles: ['admin', 'viewer'], org: { id: 7 } })}`, 'x-user-id': 'mallory', 'x-api-key': 'forged', 'x-roles': 'root' });
    await claimsToHeadersHandler(cfg, compileVerifier(cfg.verify, noTarget))(f.ctx, reporter(f));
    assert.equal(f.responded, undefined);
    assert.deepEqual(f.headers, { 'x-user-id': 'alice', 'x-roles': 'admin,viewer', 'x-org': '7', 'x-api-key': 's3cret-api-key' });
  });

  test('without a token: 401, and forged headers are gone even with allowMissing', async () => {
    useSecrets({ 'api-key': Buffer.from('k') });
    for (const allowMissing of [false, true]) {
      const cfg = config<ClaimsToHeadersConfig>('claims-to-headers', { ...raw, verify: { ...verifyCfg, allowMissing } });
      const f = fake({ 'x-user-id': 'mallory', 'x-api-key': 'forged' });
      await claimsToHeadersHandler(cfg, compileVerifier(cfg.verify, noTarget))(f.ctx, reporter(f));
      assert.equal(f.responded?.status, allowMissing ? undefined : 401);
      assert.deepEqual(f.headers, {});
    }
  });

  test('forwardToken keeps the token; a claim with control characters is not written', async () => {
    useSecrets({ 'api-key': Buffer.from('k') });
    const cfg = config<ClaimsToHeadersConfig>('claims-to-headers', { ...raw, forwardToken: true });
    const token = rs256({ sub: 'bad\r\nx-injected: 1' });
    const f = fake({ authorization: `Bearer ${token}` });
    await claimsToHeadersHandler(cfg, compileVerifier(cfg.verify, noTarget))(f.ctx, reporter(f));
    assert.equal(f.headers['authorization'], `Bearer ${token}`);
    assert.equal(f.headers['x-user-id'], undefined);
  });
});

describe('jwt-pass-through', () => {
  test('forwards a valid token unchanged; 401 otherwise', async () => {
    const cfg = config<{ verify: never }>('jwt-pass-through', { verify: verifyCfg });
    const handler = passThroughHandler(compileVerifier(cfg.verify, noTarget));
    const token = rs256({});
    const ok = fake({ authorization: `Bearer ${token}` });
    await handler(ok.ctx, reporter(ok));
    assert.equal(ok.responded, undefined);
    assert.equal(ok.headers['authorization'], `Bearer ${token}`);
    const bad = fake({ authorization: `Bearer ${token.slice(0, -4)}AAAA` });
    await handler(bad.ctx, reporter(bad));
    assert.equal(bad.responded?.status, 401);
  });
});

describe('config schemas', () => {
  test('bad configs name the field', () => {
    const cases: [Parameters<typeof parseTokenPluginConfig>[0], unknown, RegExp][] = [
      ['jwt-reissue', { verify: verifyCfg, issuer: 'x', audience: 'a' }, /signingKey/],
      ['jwt-reissue', { verify: verifyCfg, issuer: 'x', audience: 'a', signingKey: { secretName: 's', kid: 'k' }, algorithm: 'none' }, /algorithm/],
      ['jwt-reissue', { verify: verifyCfg, issuer: 'x', audience: 'a', signingKey: { secretName: 's', kid: 'k' }, claims: ['exp'] }, /claims/],
      ['jwt-reissue', { verify: verifyCfg, issuer: 'x', audience: 'a', signingKey: { secretName: 's', kid: 'k' }, lifetimeSeconds: 0 }, /lifetimeSeconds/],
      ['claims-to-headers', { verify: verifyCfg, claimHeaders: [] }, /claimHeaders/],
      ['claims-to-headers', { verify: verifyCfg, claimHeaders: [{ claim: 'sub', header: 'bad header' }] }, /header/],
      ['jwt-pass-through', { verify: { issuer: 'not-a-url' } }, /verify/],
      ['jwt-pass-through', { verify: verifyCfg, extra: 1 }, /extra|Unrecognized/],
    ];
    for (const [plugin, raw, re] of cases) {
      const r = parseTokenPluginConfig(plugin, raw);
      assert.equal(r.ok, false, JSON.stringify(raw));
      assert.match(r.ok ? '' : r.error, re);
    }
  });
  test('secret fetches are cached', () => {
    assert.ok(secretCalls > 0);
  });
});
