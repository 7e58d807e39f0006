/** RemoteJwks against a real local HTTP server: fetch, discovery, rotation, rate limits, failures kept closed. */

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { JwksError } from './errors.js';
import { compileJwtPolicy } from './policy.js';
import { RemoteJwks } from './remote-jwks.js';
import { compileJwtRule } from './rule.js';
import { NOW, NOW_S, closeNow, fakeClock, hmacSecret, listenLocal, makeToken, octJwk, publicJwk, rsaPair } from './test-support.js';
import { verifyJwt, verifyJwtAsync } from './verify.js';

const k1 = rsaPair();
const k2 = rsaPair();

/** What the server answers; tests change it between requests. */
const state = {
  jwks: { keys: [publicJwk(k1, { kid: 'k1' })] } as unknown,
  jwksStatus: 200,
  hang: false,
  discoveryIssuer: '' as string | undefined,
  hits: { jwks: 0, discovery: 0, jku: 0 },
};
let server: Server;
let base = '';

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/jwks') {
      state.hits.jwks++;
      if (state.hang) return; // never answers: the client must time out
      res.writeHead(state.jwksStatus, { 'content-type': 'application/json' });
      res.end(typeof state.jwks === 'string' ? state.jwks : JSON.stringify(state.jwks));
    } else if (req.url === '/.well-known/openid-configuration') {
      state.hits.discovery++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: state.discoveryIssuer, jwks_uri: `${base}/jwks` }));
    } else if (req.url === '/redirect') {
      res.writeHead(302, { location: '/jwks' });
      res.end();
    } else {
      state.hits.jku++;
      res.writeHead(404);
      res.end();
    }
  });
  base = await listenLocal(server);
});
after(() => closeNow(server));
beforeEach(() => {
  state.jwks = { keys: [publicJwk(k1, { kid: 'k1' })] };
  state.jwksStatus = 200;
  state.hang = false;
  state.discoveryIssuer = base;
  state.hits = { jwks: 0, discovery: 0, jku: 0 };
});

const claims = (iss: string) => ({ iss, sub: 'u', aud: 'todos', iat: NOW_S, exp: NOW_S + 600 });
const tok = (kid: string, key = k1, iss = base) => makeToken({ alg: 'RS256', kid }, claims(iss), key.privateKey);

describe('RemoteJwks', () => {
  it('fetches the set, verifies, and fails closed before the first load', async () => {
    const clock = fakeClock();
    const remote = new RemoteJwks({ jwksUri: `${base}/jwks`, clock: clock.fn });
    const policy = compileJwtPolicy({ issuer: base, audiences: ['todos'], keys: remote });
    const before = verifyJwt(tok('k1'), policy, NOW);
    assert.ok(!before.ok && before.code === 'JWT_KEYS_UNAVAILABLE');
    const r = await verifyJwtAsync(tok('k1'), policy, NOW);
    assert.ok(r.ok);
    assert.equal(state.hits.jwks, 1);
    assert.ok(verifyJwt(tok('k1'), policy, NOW).ok, 'sync path uses the loaded set');
  });

  it('refreshes on an unknown kid at most once per 30 s', async () => {
    const clock = fakeClock();
    const remote = new RemoteJwks({ jwksUri: `${base}/jwks`, clock: clock.fn });
    await remote.refresh();
    const policy = compileJwtPolicy({ issuer: base, keys: remote });
    assert.equal(state.hits.jwks, 1);
    await verifyJwtAsync(tok('nope-0'), policy, NOW);
    assert.equal(state.hits.jwks, 1, 'the load itself starts the cooldown');
    clock.now += 30_000;
    const miss1 = await verifyJwtAsync(tok('nope-1'), policy, NOW);
    assert.ok(!miss1.ok && miss1.code === 'JWT_KEY_NOT_FOUND');
    assert.equal(state.hits.jwks, 2, 'one refresh for the unknown kid');
    clock.now += 10_000;
    await verifyJwtAsync(tok('nope-2'), policy, NOW);
    await verifyJwtAsync(tok('nope-3'), policy, NOW);
    assert.equal(state.hits.jwks, 2, 'no refetch inside the cooldown');
    clock.now += 20_000;
    await verifyJwtAsync(tok('nope-4'), policy, NOW);
    assert.equal(state.hits.jwks, 3, 'one more after 30 s');
  });

  it('a token claiming another issuer never spends the refetch cooldown', async () => {
    const clock = fakeClock();
    const remote = new RemoteJwks({ jwksUri: `${base}/jwks`, clock: clock.fn });
    await remote.refresh();
    const policy = compileJwtPolicy({ issuer: base, keys: remote });
    clock.now += 31_000;
    for (const iss of ['https://elsewhere.example', `${base}/`, base.toUpperCase()]) {
      const r = await verifyJwtAsync(tok('unknown-kid', k2, iss), policy, NOW);
      assert.ok(!r.ok && r.code === 'JWT_KEY_NOT_FOUND');
    }
    // A payload that does not even parse cannot ask for a fetch either.
    const [h, , sig] = tok('unknown-kid').split('.') as [string, string, string];
    await verifyJwtAsync(`${h}.${Buffer.from('{"iss":1,"iss":2}').toString('base64url')}.${sig}`, policy, NOW);
    assert.equal(state.hits.jwks, 1, 'no fetch for foreign or unreadable issuers');
    // The cooldown is still available for a genuine rotation of this issuer.
    state.jwks = { keys: [publicJwk(k1, { kid: 'k1' }), publicJwk(k2, { kid: 'k2' })] };
    assert.ok((await verifyJwtAsync(tok('k2', k2), policy, NOW)).ok);
    assert.equal(state.hits.jwks, 2);
  });

  it('concurrent misses share one fetch', async () => {
    const remote = new RemoteJwks({ jwksUri: `${base}/jwks`, clock: fakeClock().fn });
    const policy = compileJwtPolicy({ issuer: base, keys: remote });
    const all = await Promise.all([1, 2, 3, 4, 5].map(() => verifyJwtAsync(tok('k1'), policy, NOW)));
    assert.ok(all.every((r) => r.ok));
    assert.equal(state.hits.jwks, 1);
  });

  it('follows key rotation: a new kid triggers the refresh that finds it', async () => {
    const clock = fakeClock();
    const remote = new RemoteJwks({ jwksUri: `${base}/jwks`, clock: clock.fn });
    await remote.refresh();
    const policy = compileJwtPolicy({ issuer: base, keys: remote });
    state.jwks = { keys: [publicJwk(k1, { kid: 'k1' }), publicJwk(k2, { kid: 'k2' })] };
    clock.now += 31_000;
    assert.ok((await verifyJwtAsync(tok('k2', k2), policy, NOW)).ok);
    assert.ok(verifyJwt(tok('k1'), policy, NOW).ok, 'the previous key still verifies');
  });

  it('a failed fetch keeps the last good set', async () => {
    const clock = fakeClock();
    const remote = new RemoteJwks({ jwksUri: `${base}/jwks`, clock: clock.fn });
    await remote.refresh();
    const policy = compileJwtPolicy({ issuer: base, keys: remote });
    const version = remote.current()!.version;
    for (const breakIt of [() => (state.jwksStatus = 500), () => (state.jwks = 'not json'), () => (state.jwks = { keys: [] }), () => (state.jwks = { keys: [{ kty: 'RSA', use: 'enc' }] })]) {
      breakIt();
      await assert.rejects(remote.refresh(), JwksError);
      assert.equal(remote.current()!.version, version);
      assert.ok(verifyJwt(tok('k1'), policy, NOW).ok);
      assert.ok(remote.status().lastError !== undefined);
      state.jwksStatus = 200;
    }
  });

  it('an empty or failed first fetch leaves nothing to verify with (fail closed)', async () => {
    state.jwks = { keys: [] };
    const clock = fakeClock();
    const remote = new RemoteJwks({ jwksUri: `${base}/jwks`, clock: clock.fn });
    await assert.rejects(remote.refresh(), (e: unknown) => e instanceof JwksError && e.code === 'JWKS_EMPTY');
    const policy = compileJwtPolicy({ issuer: base, keys: remote });
    const r = await verifyJwtAsync(tok('k1'), policy, NOW);
    assert.ok(!r.ok && r.code === 'JWT_KEYS_UNAVAILABLE');
    assert.equal(state.hits.jwks, 1, 'retry waits retryWhenEmptyMs');
    state.jwks = { keys: [publicJwk(k1, { kid: 'k1' })] };
    clock.now += 1000;
    assert.ok((await verifyJwtAsync(tok('k1'), policy, NOW)).ok);
  });

  it('HMAC secrets in a fetched set are never used', async () => {
    const secret = hmacSecret();
    state.jwks = { keys: [octJwk(secret, { kid: 'h' }), publicJwk(k1, { kid: 'k1' })] };
    const remote = new RemoteJwks({ jwksUri: `${base}/jwks` });
    const set = await remote.refresh();
    assert.equal(set.keys.length, 1);
    const policy = compileJwtPolicy({ issuer: base, keys: remote });
    const r = verifyJwt(makeToken({ alg: 'HS256', kid: 'h' }, claims(base), secret), policy, NOW);
    assert.ok(!r.ok && r.code === 'JWT_KEY_NOT_FOUND');
  });

  it('times out, and refuses redirects', async () => {
    state.hang = true;
    const slow = new RemoteJwks({ jwksUri: `${base}/jwks`, timeoutMs: 150 });
    await assert.rejects(slow.refresh(), (e: unknown) => e instanceof JwksError && e.code === 'JWKS_TIMEOUT');
    state.hang = false;
    const redirected = new RemoteJwks({ jwksUri: `${base}/redirect` });
    await assert.rejects(redirected.refresh(), (e: unknown) => e instanceof JwksError && e.code === 'JWKS_FETCH_FAILED');
  });

  it('refreshes a stale set in the background and keeps serving meanwhile', async () => {
    const clock = fakeClock();
    const remote = new RemoteJwks({ jwksUri: `${base}/jwks`, clock: clock.fn, cacheMaxAgeMs: 60_000 });
    await remote.refresh();
    clock.now += 61_000;
    assert.ok(remote.current() !== undefined);
    await remote.refresh(); // joins the background fetch
    assert.equal(state.hits.jwks, 2);
  });

  it('OpenID discovery finds jwks_uri; a document naming another issuer is refused', async () => {
    const remote = new RemoteJwks({ issuer: base });
    await remote.refresh();
    assert.equal(state.hits.discovery, 1);
    const policy = compileJwtPolicy({ issuer: base, keys: remote });
    assert.ok(verifyJwt(tok('k1'), policy, NOW).ok);
    state.discoveryIssuer = 'https://evil.example';
    const bad = new RemoteJwks({ issuer: base });
    await assert.rejects(bad.refresh(), (e: unknown) => e instanceof JwksError && e.code === 'JWKS_DISCOVERY_FAILED');
  });

  it('never fetches jku/x5u from a token', async () => {
    const remote = new RemoteJwks({ jwksUri: `${base}/jwks` });
    await remote.refresh();
    const policy = compileJwtPolicy({ issuer: base, keys: remote });
    const evil = makeToken({ alg: 'RS256', kid: 'evil', jku: `${base}/evil-jwks`, x5u: `${base}/evil.pem` }, claims(base), k2.privateKey);
    const r = await verifyJwtAsync(evil, policy, NOW);
    assert.ok(!r.ok);
    assert.equal(state.hits.jku, 0);
  });
});

describe('compileJwtRule (Istio JWTRule keys)', () => {
  it('inline jwks wins over jwksUri', () => {
    const policy = compileJwtRule({ issuer: base, jwks: JSON.stringify({ keys: [publicJwk(k2, { kid: 'k2' })] }), jwksUri: `${base}/jwks` });
    assert.ok(verifyJwt(tok('k2', k2), policy, NOW).ok);
    assert.equal(state.hits.jwks, 0);
  });
  it('inline jwks must be strict JSON', () => {
    assert.throws(() => compileJwtRule({ issuer: base, jwks: '{"keys":[],"keys":[]}' }), (e: unknown) => e instanceof JwksError && e.code === 'JWKS_INVALID');
  });
  it('jwksUri starts fetching at once; discovery when neither is given', async () => {
    const viaUri = compileJwtRule({ issuer: base, audiences: ['todos'], jwksUri: `${base}/jwks` });
    assert.ok((await verifyJwtAsync(tok('k1'), viaUri, NOW)).ok);
    const viaDiscovery = compileJwtRule({ issuer: base });
    assert.ok((await verifyJwtAsync(tok('k1'), viaDiscovery, NOW)).ok);
    assert.equal(state.hits.discovery, 1);
  });
});
