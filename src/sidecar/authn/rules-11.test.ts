/**
 * security-rules.md §11 rules 3, 5 and 7 in the sidecar's RequestAuthentication step (authenticate +
 * compileAuthn), the cases authenticate.test.ts leaves out: claim headers are stripped like the
 * payload header (no token, failed token, and across rules), they are written only by the rule that
 * verified the token, a rule whose keys cannot be set up or whose JWKS is empty fails closed, and a
 * stream of unknown kids from clients costs at most one JWKS fetch per cooldown.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { makeToken, publicJwk, rsaPair } from '../../authn/jwt/test-support.js';
import type { InboundJwtRule } from '../../snapshot/types.js';
import type { HeaderMap } from '../http/types.js';
import type { RoutingTables } from '../routing/tables.js';
import type { UpstreamClient } from '../upstream/client.js';
import { authenticate } from './authenticate.js';
import { compileAuthn } from './jwt-rules.js';

const A = 'https://a.rules-11.example';
const B = 'https://b.rules-11.example';
const keyA = rsaPair();
const keyB = rsaPair();
const jwks = (k: ReturnType<typeof rsaPair>, kid: string) => JSON.stringify({ keys: [publicJwk(k, { kid, alg: 'RS256', use: 'sig' })] });
const now = Date.now();
const nowS = Math.floor(now / 1000);
/** a fresh target per use: RemoteJwks instances are shared per sidecar (its upstream client object) */
const target = () => ({ tables: { dns: new Map(), serviceIPs: new Map(), namespace: 'default', clusters: new Map() } as unknown as RoutingTables, upstream: {} as UpstreamClient });

const ruleA: InboundJwtRule = {
  Policy: 'default/a',
  Rule: { issuer: A, jwks: jwks(keyA, 'a1'), outputPayloadToHeader: 'X-A-Payload', outputClaimToHeaders: [{ header: 'X-A-Sub', claim: 'sub' }, { header: 'X-A-Team', claim: 'org.team' }] },
};
const ruleB: InboundJwtRule = {
  Policy: 'default/b',
  Rule: { issuer: B, jwks: jwks(keyB, 'b1'), outputPayloadToHeader: 'X-B-Payload', outputClaimToHeaders: [{ header: 'X-B-Sub', claim: 'sub' }] },
};
const tokenA = (claims: Record<string, unknown> = {}) => makeToken({ alg: 'RS256', kid: 'a1' }, { iss: A, sub: 'alice', org: { team: 'core' }, exp: nowS + 300, ...claims }, keyA.privateKey);
const tokenB = (claims: Record<string, unknown> = {}) => makeToken({ alg: 'RS256', kid: 'b1' }, { iss: B, sub: 'bob', exp: nowS + 300, ...claims }, keyB.privateKey);

const FORGED: HeaderMap = { 'x-a-payload': 'forged', 'x-a-sub': 'admin', 'x-a-team': 'root', 'x-b-payload': 'forged', 'x-b-sub': 'admin' };
async function run(rules: InboundJwtRule[], headers: HeaderMap, path = '/') {
  const req = { path, headers: { ...headers } };
  const r = await authenticate(compileAuthn(rules, target()), req, now);
  return { r, headers: req.headers };
}

describe('rule 5: output headers are always stripped, and set only after success by the rule that verified', () => {
  it('no token: every payload and claim header of every rule is removed', async () => {
    const { r, headers } = await run([ruleA, ruleB], { ...FORGED, 'x-other': 'kept' });
    assert.deepEqual(r, { ok: true });
    assert.deepEqual(headers, { 'x-other': 'kept' });
  });

  it('an invalid token: 401, and none of them is left', async () => {
    for (const bad of [tokenA({ exp: nowS - 3600 }), tokenA({ iss: B }), makeToken({ alg: 'RS256', kid: 'a1' }, { iss: A, sub: 'alice', exp: nowS + 300 }, keyB.privateKey)]) {
      const { r, headers } = await run([ruleA, ruleB], { ...FORGED, authorization: `Bearer ${bad}` });
      assert.equal(r.ok, false);
      for (const h of Object.keys(FORGED)) assert.equal(headers[h], undefined, h);
    }
  });

  it("a token verified by rule A: A's headers hold the token's values; B's client copies are gone and not set", async () => {
    const t = tokenA();
    const { r, headers } = await run([ruleA, ruleB], { ...FORGED, authorization: `Bearer ${t}` });
    assert.ok(r.ok && r.principal === `${A}/alice`);
    assert.equal(headers['x-a-payload'], t.split('.')[1]);
    assert.equal(headers['x-a-sub'], 'alice');
    assert.equal(headers['x-a-team'], 'core');
    assert.equal(headers['x-b-payload'], undefined);
    assert.equal(headers['x-b-sub'], undefined);
    assert.equal(headers['authorization'], undefined, 'forwardOriginalToken false: the token is stripped');
  });

  it('a claim the token lacks leaves its header absent, never the client value', async () => {
    const t = tokenA({ org: undefined });
    const { headers } = await run([ruleA], { ...FORGED, authorization: `Bearer ${t}` });
    assert.equal(headers['x-a-team'], undefined);
    assert.equal(headers['x-a-sub'], 'alice');
  });

  it('forwardOriginalToken: true keeps the token header, and still strips and sets output headers', async () => {
    const keep: InboundJwtRule = { ...ruleA, Rule: { ...ruleA.Rule, forwardOriginalToken: true } };
    const t = tokenA();
    const { headers } = await run([keep], { ...FORGED, authorization: `Bearer ${t}` });
    assert.equal(headers['authorization'], `Bearer ${t}`);
    assert.equal(headers['x-a-sub'], 'alice');
  });

  it('two tokens, each valid for one rule, are refused: the principal would be nondeterministic', async () => {
    const both: InboundJwtRule[] = [
      { ...ruleA, Rule: { ...ruleA.Rule, fromHeaders: [{ name: 'Authorization', prefix: 'Bearer ' }] } },
      { ...ruleB, Rule: { ...ruleB.Rule, fromHeaders: [{ name: 'X-Token' }] } },
    ];
    const { r, headers } = await run(both, { ...FORGED, authorization: `Bearer ${tokenA()}`, 'x-token': tokenB() });
    assert.deepEqual(r, { ok: false, reason: 'more than one token in the request' });
    for (const h of Object.keys(FORGED)) assert.equal(headers[h], undefined, h);
  });
});

describe('rule 3: a rule that cannot verify fails closed', () => {
  it('inline keys that cannot be compiled: a token gets 401, no token still passes without identity', async () => {
    const broken: InboundJwtRule = { Policy: 'default/broken', Rule: { issuer: A, jwks: '{"keys":[{"kty":"RSA","n":"AQAB"}]}' } };
    const { r } = await run([broken], { authorization: `Bearer ${tokenA()}` });
    assert.ok(!r.ok && /JWT_KEYS_UNAVAILABLE/.test(r.reason), JSON.stringify(r));
    assert.deepEqual((await run([broken], {})).r, { ok: true });
  });
});

describe('rule 7 in the sidecar: JWKS fetched through jwksUri', () => {
  let url = '';
  let hits = 0;
  let body = '';
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('an empty key set verifies nothing (401), it is never "no keys, so anything goes"', async () => {
    body = '{"keys":[]}';
    hits = 0;
    const rule: InboundJwtRule = { Policy: 'default/empty', Rule: { issuer: A, jwksUri: `${url}?empty` } };
    const authn = compileAuthn([rule], target());
    const r = await authenticate(authn, { path: '/', headers: { authorization: `Bearer ${tokenA()}` } }, Date.now());
    assert.ok(!r.ok && /JWT_KEYS_UNAVAILABLE/.test(r.reason), JSON.stringify(r));
  });

  it('fifty requests with unknown kids cost at most one fetch beyond the first load (30 s cooldown)', async () => {
    body = jwks(keyA, 'a1');
    hits = 0;
    const rule: InboundJwtRule = { Policy: 'default/remote', Rule: { issuer: A, jwksUri: `${url}?storm` } };
    const authn = compileAuthn([rule], target());
    const good = await authenticate(authn, { path: '/', headers: { authorization: `Bearer ${tokenA()}` } }, Date.now());
    assert.equal(good.ok, true);
    const firstLoad = hits;
    assert.equal(firstLoad, 1);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        authenticate(authn, { path: '/', headers: { authorization: `Bearer ${makeToken({ alg: 'RS256', kid: `unknown-${i}` }, { iss: A, sub: 'x', exp: nowS + 60 }, keyA.privateKey)}` } }, Date.now()),
      ),
    );
    assert.ok(results.every((r) => !r.ok && /JWT_KEY_NOT_FOUND/.test(r.reason)));
    assert.ok(hits - firstLoad <= 1, `${hits - firstLoad} fetches for 50 unknown kids`);
  });
});
