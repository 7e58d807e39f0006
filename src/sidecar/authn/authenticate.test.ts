/** RequestAuthentication step tests: each failure class gives a reason (401), output headers, forged headers stripped, token forwarding, remote JWKS cache (security-rules.md §2, §6, §11 rule 5). */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { b64u, makeToken, rsaPair, publicJwk } from '../../authn/jwt/test-support.js';
import type { InboundJwtRule } from '../../snapshot/types.js';
import type { RoutingTables } from '../routing/tables.js';
import type { UpstreamClient } from '../upstream/client.js';
import { authenticate } from './authenticate.js';
import { compileAuthn } from './jwt-rules.js';
import type { HeaderMap } from '../http/types.js';

const ISS = 'https://example.fusionauth.io';
const key = rsaPair();
const other = rsaPair();
const JWKS = JSON.stringify({ keys: [publicJwk(key, { kid: 'k1', alg: 'RS256', use: 'sig' })] });
const now = Date.now();
const nowS = Math.floor(now / 1000);
const target = { tables: { dns: new Map(), serviceIPs: new Map(), namespace: 'default' } as unknown as RoutingTables, upstream: {} as UpstreamClient };

const rule = (extra: Partial<InboundJwtRule['Rule']> = {}): InboundJwtRule => ({
  Policy: 'development/jwt-auth',
  Rule: { issuer: ISS, jwks: JWKS, outputPayloadToHeader: 'X-payload', fromHeaders: [{ name: 'Authorization', prefix: 'Bearer ' }], ...extra },
});
const token = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = { alg: 'RS256', kid: 'k1', typ: 'JWT' }, k = key.privateKey as never) =>
  makeToken(header, { iss: ISS, sub: 'alice', roles: ['admin'], exp: nowS + 300, ...claims }, k);
const run = async (rules: InboundJwtRule[], headers: HeaderMap, path = '/headers') => {
  const req = { path, headers };
  const r = await authenticate(compileAuthn(rules, target), req, now);
  return { r, headers: req.headers };
};

describe('authenticate', () => {
  it('no token: passes without identity, and forged output headers are removed', async () => {
    const { r, headers } = await run([rule()], { 'x-payload': 'forged', 'x-other': '1' });
    assert.deepEqual(r, { ok: true });
    assert.deepEqual(headers, { 'x-other': '1' });
  });

  it('a valid token: principal iss/sub, claims, X-payload is the payload segment, token removed by default', async () => {
    const t = token();
    const { r, headers } = await run([rule()], { authorization: `Bearer ${t}`, 'x-payload': 'forged' });
    assert.equal(r.ok, true);
    assert.ok(r.ok);
    assert.equal(r.principal, `${ISS}/alice`);
    assert.deepEqual(r.claims?.['roles'], ['admin']);
    assert.equal(headers['x-payload'], t.split('.')[1]);
    assert.equal(headers['authorization'], undefined, 'forwardOriginalToken defaults to false');
  });

  it('forwardOriginalToken keeps the token; outputClaimToHeaders sets scalar and nested claims only', async () => {
    const t = token({ org: { team: 'core' }, n: 7, evil: 'a\r\nx-injected: 1' });
    const claimsOut = [{ header: 'X-Sub', claim: 'sub' }, { header: 'X-Team', claim: 'org.team' }, { header: 'X-N', claim: 'n' }, { header: 'X-Roles', claim: 'roles' }, { header: 'X-Evil', claim: 'evil' }];
    const { headers } = await run([rule({ forwardOriginalToken: true, outputClaimToHeaders: claimsOut })], { authorization: `Bearer ${t}`, 'x-sub': 'mallory', 'x-roles': 'admin' });
    assert.equal(headers['authorization'], `Bearer ${t}`);
    assert.equal(headers['x-sub'], 'alice');
    assert.equal(headers['x-team'], 'core');
    assert.equal(headers['x-n'], '7');
    assert.equal(headers['x-roles'], undefined, 'lists are not written, and the forged copy is gone');
    assert.equal(headers['x-evil'], undefined, 'control characters are never written into a header');
  });

  const failures: [string, () => HeaderMap, RegExp][] = [
    ['expired', () => ({ authorization: `Bearer ${token({ exp: nowS - 3600 })}` }), /JWT_EXPIRED/],
    ['not yet valid', () => ({ authorization: `Bearer ${token({ nbf: nowS + 3600 })}` }), /JWT_NOT_YET_VALID/],
    ['wrong issuer', () => ({ authorization: `Bearer ${token({ iss: 'https://evil.example' })}` }), /JWT_ISSUER_MISMATCH/],
    ['bad signature', () => ({ authorization: `Bearer ${token({}, { alg: 'RS256', kid: 'k1' }, other.privateKey as never)}` }), /JWT_BAD_SIGNATURE/],
    ['alg none', () => ({ authorization: `Bearer ${b64u({ alg: 'none' })}.${b64u({ iss: ISS, sub: 'alice', exp: nowS + 60 })}.` }), /JWT_ALG_NOT_ALLOWED|JWT_BAD_HEADER|JWT_BAD_BASE64/],
    ['alg none with a signature', () => ({ authorization: `Bearer ${b64u({ alg: 'none' })}.${b64u({ iss: ISS, sub: 'alice', exp: nowS + 60 })}.${b64u('sig')}` }), /JWT_ALG_NOT_ALLOWED|JWT_BAD_HEADER/],
    ['HS256 with the RSA public key', () => {
      const pem = key.publicKey.export({ type: 'spki', format: 'pem' });
      return { authorization: `Bearer ${makeToken({ alg: 'HS256', kid: 'k1' }, { iss: ISS, sub: 'alice', exp: nowS + 60 }, Buffer.from(pem))}` };
    }, /JWT_ALG_NOT_ALLOWED/],
    ['unknown kid', () => ({ authorization: `Bearer ${token({}, { alg: 'RS256', kid: 'nope' })}` }), /JWT_KEY_NOT_FOUND/],
    ['garbage', () => ({ authorization: 'Bearer not-a-jwt' }), /JWT_MALFORMED/],
    ['missing prefix', () => ({ authorization: token() }), /does not start with the configured prefix/],
    ['two authorization headers', () => ({ authorization: [`Bearer ${token()}`, `Bearer ${token()}`] }), /more than one authorization header/],
  ];
  for (const [name, headers, reason] of failures) {
    it(`401 class: ${name} (forged X-payload still removed, token never in the reason)`, async () => {
      const h: HeaderMap = { ...headers(), 'x-payload': 'forged' };
      const tok = String(h['authorization']);
      const { r, headers: out } = await run([rule()], h);
      assert.equal(r.ok, false);
      assert.ok(!r.ok);
      assert.match(r.reason, reason);
      assert.ok(!r.reason.includes(tok.slice(7, 40)), 'the reason never carries token bytes');
      assert.equal(out['x-payload'], undefined);
    });
  }

  it('default locations: Authorization Bearer and access_token; two different tokens are refused', async () => {
    const def = rule({ fromHeaders: undefined });
    const a = await run([def], {}, `/x?access_token=${token()}`);
    assert.equal(a.r.ok && a.r.principal, `${ISS}/alice`);
    const b = await run([def], { authorization: `Bearer ${token({ sub: 'bob' })}` }, `/x?access_token=${token()}`);
    assert.deepEqual(b.r, { ok: false, reason: 'more than one token in the request' });
    const c = await run([rule({ fromHeaders: undefined, fromParams: ['t'] })], {}, `/x?t=${token()}&t=${token()}`);
    assert.equal(c.r.ok, false);
  });

  it('several rules: the one whose issuer and keys match verifies; the failure reason names the relevant rule', async () => {
    const second: InboundJwtRule = { Policy: 'istio-system/other', Rule: { issuer: 'https://other.example', jwks: JSON.stringify({ keys: [publicJwk(other, { kid: 'o1', alg: 'RS256' })] }) } };
    const ok = await run([second, rule()], { authorization: `Bearer ${token()}` });
    assert.equal(ok.r.ok, true);
    const bad = await run([second, rule()], { authorization: `Bearer ${token({ exp: nowS - 3600 })}` });
    assert.ok(!bad.r.ok);
    assert.match(bad.r.reason, /development\/jwt-auth .*JWT_EXPIRED/);
  });
});

describe('jwksUri', () => {
  let url = '';
  let fetches = 0;
  let fail = false;
  const server = createServer((_req, res) => {
    fetches++;
    if (fail) return void res.writeHead(500).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JWKS);
  });
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  after(() => server.close());

  it('fetches once and keeps the key set across snapshot recompiles', async () => {
    const r = (): InboundJwtRule => ({ Policy: 'd/j', Rule: { issuer: ISS, jwksUri: url } });
    const upstream = {} as UpstreamClient;
    const t = { ...target, upstream };
    const first = await authenticate(compileAuthn([r()], t), { path: '/', headers: { authorization: `Bearer ${token()}` } }, Date.now());
    assert.equal(first.ok, true);
    const again = await authenticate(compileAuthn([r()], t), { path: '/', headers: { authorization: `Bearer ${token()}` } }, Date.now());
    assert.equal(again.ok, true);
    assert.equal(fetches, 1);
  });

  it('fails closed when the JWKS cannot be fetched', async () => {
    fail = true;
    const r: InboundJwtRule = { Policy: 'd/j', Rule: { issuer: ISS, jwksUri: url.replace('jwks.json', 'other.json') } };
    const res = await authenticate(compileAuthn([r], { ...target, upstream: {} as UpstreamClient }), { path: '/', headers: { authorization: `Bearer ${token()}` } }, Date.now());
    assert.ok(!res.ok);
    assert.match(res.reason, /JWT_KEYS_UNAVAILABLE/);
  });
});

describe('authenticate: Istio spaceDelimitedClaims and the Tessera extensions requiredClaims, maxTokenBytes', () => {
  it('hands the authorization step the verifying rule\'s space-delimited claims (scope and permission always)', async () => {
    const { r } = await run([rule({ spaceDelimitedClaims: ['scp', 'roles'] })], { authorization: `Bearer ${token()}` });
    assert.ok(r.ok);
    assert.deepEqual([...(r.spaceDelimitedClaims ?? [])].sort(), ['permission', 'roles', 'scope', 'scp']);
    const plain = await run([rule()], { authorization: `Bearer ${token()}` });
    assert.ok(plain.r.ok);
    assert.deepEqual([...(plain.r.spaceDelimitedClaims ?? [])].sort(), ['permission', 'scope']);
  });

  it('requiredClaims: a token without exp is refused with the reason, one with it passes', async () => {
    const noExp = await run([rule({ requiredClaims: ['exp'] })], { authorization: `Bearer ${token({ exp: undefined })}` });
    assert.ok(!noExp.r.ok);
    assert.match(noExp.r.reason, /JWT_MISSING_EXP/);
    const withExp = await run([rule({ requiredClaims: ['exp'] })], { authorization: `Bearer ${token()}` });
    assert.equal(withExp.r.ok, true);
  });

  it('maxTokenBytes: a 12 KiB token fails the default rule and passes one raised to 16 KiB, also with several rules', async () => {
    const big = token({ groups: Array.from({ length: 800 }, (_, i) => `group-${i}`) });
    assert.ok(big.length > 12_000 && big.length < 16_384, `${big.length}`);
    const byDefault = await run([rule()], { authorization: `Bearer ${big}` });
    assert.ok(!byDefault.r.ok);
    assert.match(byDefault.r.reason, /JWT_TOO_LARGE/);
    const raised = await run([rule({ maxTokenBytes: 16_384 })], { authorization: `Bearer ${big}` });
    assert.equal(raised.r.ok, true);
    // with two rules the issuer is read (unverified) to order them: the raised cap applies there too
    const otherRule: InboundJwtRule = { Policy: 'development/other', Rule: { issuer: 'https://other.example', jwks: JWKS } };
    const two = await run([otherRule, rule({ maxTokenBytes: 16_384 })], { authorization: `Bearer ${big}` });
    assert.equal(two.r.ok, true, JSON.stringify(two.r));
  });
});
