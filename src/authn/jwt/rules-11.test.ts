/**
 * security-rules.md §11 rules 6 and 7, the parts remote-jwks.test.ts and verify.test.ts leave out:
 * the lifecycle defaults themselves (cache TTL 10 min, kid-miss cooldown 30 s to the millisecond,
 * fetch timeout 5 s, also for discovery), fetched documents bounded in size, the size cap at its
 * default boundary, and `exp` required when configured through a JWTRule.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { JwksError } from './errors.js';
import { DEFAULT_MAX_TOKEN_BYTES, compileJwtPolicy } from './policy.js';
import { RemoteJwks } from './remote-jwks.js';
import { compileJwtRule } from './rule.js';
import { ISSUER, NOW, NOW_S, closeNow, fakeClock, listenLocal, makeToken, publicJwk, rsaPair } from './test-support.js';
import { verifyJwt, verifyJwtAsync } from './verify.js';

const k1 = rsaPair();
const state = { hits: 0, body: '' };
let server: Server;
let base = '';
before(async () => {
  server = createServer((_req, res) => {
    state.hits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(state.body);
  });
  base = await listenLocal(server);
});
after(() => closeNow(server));
beforeEach(() => {
  state.hits = 0;
  state.body = JSON.stringify({ keys: [publicJwk(k1, { kid: 'k1' })] });
});

const tick = () => new Promise((r) => setTimeout(r, 30));
const tok = (kid: string, claims: Record<string, unknown> = {}) => makeToken({ alg: 'RS256', kid }, { iss: ISSUER, sub: 'u', iat: NOW_S, exp: NOW_S + 600, ...claims }, k1.privateKey);

describe('rule 7: JWKS lifecycle defaults', () => {
  it('the key set is cached for 10 minutes by default, then refreshed (in the background, serving the old set meanwhile)', async () => {
    const c = fakeClock();
    const remote = new RemoteJwks({ jwksUri: `${base}/jwks`, clock: c.fn });
    await remote.refresh();
    assert.equal(state.hits, 1);
    c.now += 10 * 60_000 - 1;
    assert.ok(remote.current());
    await tick();
    assert.equal(state.hits, 1, 'fresh until 10 min');
    c.now += 1;
    assert.ok(remote.current(), 'the stale set still serves while the refresh runs');
    await tick();
    assert.equal(state.hits, 2, 'refreshed at 10 min');
  });

  it('an unknown kid refetches at most once per 30 s: not at 29.999 s, again at 30 s', async () => {
    const c = fakeClock();
    const remote = new RemoteJwks({ jwksUri: `${base}/jwks`, clock: c.fn });
    await remote.refresh();
    const policy = compileJwtPolicy({ issuer: ISSUER, keys: remote, cache: false });
    c.now += 30_000;
    await verifyJwtAsync(tok('miss-1'), policy, NOW);
    assert.equal(state.hits, 2);
    c.now += 29_999;
    for (let i = 0; i < 20; i++) await verifyJwtAsync(tok(`miss-${i + 2}`), policy, NOW);
    assert.equal(state.hits, 2, 'a stream of unknown kids inside the cooldown fetches nothing');
    c.now += 1;
    await verifyJwtAsync(tok('miss-x'), policy, NOW);
    assert.equal(state.hits, 3);
  });

  it('a fetch is bounded by a 5 s timeout by default', async () => {
    let aborted: number | undefined;
    const started = Date.now();
    const hanging: typeof fetch = (_url, init) =>
      new Promise((_, reject) => {
        init?.signal?.addEventListener('abort', () => {
          aborted = Date.now() - started;
          reject(init.signal!.reason);
        });
      });
    const remote = new RemoteJwks({ jwksUri: `${base}/jwks`, fetch: hanging });
    await assert.rejects(remote.refresh(), (e: unknown) => e instanceof JwksError && e.code === 'JWKS_TIMEOUT');
    assert.ok(aborted !== undefined && aborted >= 4900 && aborted < 7000, `aborted after ${aborted} ms`);
    assert.equal(remote.current(), undefined, 'nothing to verify with: fail closed');
  });

  it('OpenID discovery is bounded by the same timeout', async () => {
    const hanging: typeof fetch = (_url, init) => new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
    const remote = new RemoteJwks({ issuer: base, timeoutMs: 150, fetch: hanging });
    await assert.rejects(remote.refresh(), (e: unknown) => e instanceof JwksError && e.code === 'JWKS_TIMEOUT');
  });

  it('an oversized JWKS document is refused and the last good set stays', async () => {
    const remote = new RemoteJwks({ jwksUri: `${base}/jwks`, maxBytes: 4096 });
    await remote.refresh();
    const version = remote.current()!.version;
    state.body = JSON.stringify({ keys: [publicJwk(k1, { kid: 'k1', x: 'y'.repeat(10_000) })] });
    await assert.rejects(remote.refresh(), (e: unknown) => e instanceof JwksError && e.code === 'JWKS_FETCH_FAILED' && /exceeds/.test(e.message));
    assert.equal(remote.current()!.version, version);
  });

  it('a document with duplicate member names is refused (strict JSON), and the last good set stays', async () => {
    const remote = new RemoteJwks({ jwksUri: `${base}/jwks` });
    await remote.refresh();
    state.body = `{"keys":[],"keys":${JSON.stringify([publicJwk(rsaPair(), { kid: 'k1' })])}}`;
    await assert.rejects(remote.refresh(), (e: unknown) => e instanceof JwksError && e.code === 'JWKS_INVALID');
    const policy = compileJwtPolicy({ issuer: ISSUER, keys: remote, cache: false });
    assert.ok(verifyJwt(tok('k1'), policy, NOW).ok, 'the original key still verifies');
  });
});

describe('rule 6: limits and options at their defaults', () => {
  const policy = compileJwtPolicy({ issuer: ISSUER, keys: compileJwtRule({ issuer: ISSUER, jwks: JSON.stringify({ keys: [publicJwk(k1, { kid: 'k1' })] }) }).keys, cache: false });
  it('the size cap is 8 KiB, checked before any parsing: 8192 characters pass the cap, 8193 do not', () => {
    assert.equal(DEFAULT_MAX_TOKEN_BYTES, 8192);
    const garbage = (n: number) => verifyJwt('a'.repeat(n), policy, NOW);
    const at = garbage(8192);
    assert.ok(!at.ok && at.code === 'JWT_MALFORMED', 'at the cap the token is parsed (and is no JWT)');
    const over = garbage(8193);
    assert.ok(!over.ok && over.code === 'JWT_TOO_LARGE', 'over the cap nothing is parsed');
    // a real token just under the cap verifies
    let big = tok('k1');
    for (let pad = 5000; big.length <= 8192; pad += 3) {
      const next = tok('k1', { pad: 'x'.repeat(pad) });
      if (next.length > 8192) break;
      big = next;
    }
    assert.ok(big.length > 8150, `${big.length}`);
    assert.ok(verifyJwt(big, policy, NOW).ok);
  });

  it('exp is optional by default (Istio), and required when the rule is compiled with requireExpiration', () => {
    const jwks = JSON.stringify({ keys: [publicJwk(k1, { kid: 'k1' })] });
    const noExp = tok('k1', { exp: undefined });
    assert.ok(verifyJwt(noExp, compileJwtRule({ issuer: ISSUER, jwks }), NOW).ok);
    const strict = compileJwtRule({ issuer: ISSUER, jwks }, { requireExpiration: true });
    const r = verifyJwt(noExp, strict, NOW);
    assert.ok(!r.ok && r.code === 'JWT_MISSING_EXP');
    assert.ok(verifyJwt(tok('k1'), strict, NOW).ok);
  });

  it('requiredClaims (Tessera extension) refuses a token missing any of them; exp there means requireExpiration', () => {
    const jwks = JSON.stringify({ keys: [publicJwk(k1, { kid: 'k1' })] });
    const strict = compileJwtRule({ issuer: ISSUER, jwks }, { requiredClaims: ['exp', 'tenant'] });
    assert.equal(strict.requireExpiration, true);
    assert.ok(verifyJwt(tok('k1', { tenant: 't1' }), strict, NOW).ok);
    const noExp = verifyJwt(tok('k1', { tenant: 't1', exp: undefined }), strict, NOW);
    assert.ok(!noExp.ok && noExp.code === 'JWT_MISSING_EXP');
    const noTenant = verifyJwt(tok('k1'), strict, NOW);
    assert.ok(!noTenant.ok && noTenant.code === 'JWT_MISSING_CLAIM' && noTenant.message === 'required claim "tenant" is missing', JSON.stringify(noTenant));
    const nullTenant = verifyJwt(tok('k1', { tenant: null }), strict, NOW);
    assert.ok(!nullTenant.ok && nullTenant.code === 'JWT_MISSING_CLAIM', 'null counts as missing');
    assert.throws(() => compileJwtRule({ issuer: ISSUER, jwks }, { requiredClaims: [''] }), /requiredClaims/);
  });

  it('maxTokenBytes raises (or lowers) the size cap per rule', () => {
    const jwks = JSON.stringify({ keys: [publicJwk(k1, { kid: 'k1' })] });
    const big = tok('k1', { groups: Array.from({ length: 800 }, (_, i) => `group-${i}`) });
    assert.ok(big.length > 12_000 && big.length < 16_384, `${big.length}`);
    const byDefault = verifyJwt(big, compileJwtRule({ issuer: ISSUER, jwks }), NOW);
    assert.ok(!byDefault.ok && byDefault.code === 'JWT_TOO_LARGE');
    assert.ok(verifyJwt(big, compileJwtRule({ issuer: ISSUER, jwks }, { maxTokenBytes: 16_384 }), NOW).ok);
    const small = verifyJwt(tok('k1'), compileJwtRule({ issuer: ISSUER, jwks }, { maxTokenBytes: 100 }), NOW);
    assert.ok(!small.ok && small.code === 'JWT_TOO_LARGE');
  });

  it('the clock skew is 60 s by default on exp, nbf and iat alike', () => {
    const p = compileJwtRule({ issuer: ISSUER, jwks: JSON.stringify({ keys: [publicJwk(k1, { kid: 'k1' })] }) });
    assert.equal(p.clockSkewSeconds, 60);
    assert.ok(verifyJwt(tok('k1', { exp: NOW_S - 59, nbf: NOW_S + 60, iat: NOW_S + 60 }), p, NOW).ok);
    for (const [claims, code] of [[{ exp: NOW_S - 60 }, 'JWT_EXPIRED'], [{ nbf: NOW_S + 61 }, 'JWT_NOT_YET_VALID'], [{ iat: NOW_S + 61 }, 'JWT_ISSUED_IN_FUTURE']] as const) {
      const r = verifyJwt(tok('k1', claims), p, NOW);
      assert.ok(!r.ok && r.code === code, `${JSON.stringify(claims)}: ${r.ok ? 'accepted' : r.code}`);
    }
  });
});
