/** tessera-sts unit tests on 127.0.0.1: discovery, JWKS, client credentials, token exchange with act, key rotation. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createSign, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compileJwks, compileJwtPolicy, compileJwtRule, verifyJwt, verifyJwtAsync } from '../authn/index.js';
import { KeyRing } from './keys.js';
import { EMPTY_POLICY, parseStsPolicy } from './policy.js';
import { createStsServer } from './server.js';

const listen = (s: Server): Promise<number> => new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
const decode = (t: string, i: number): Record<string, unknown> => JSON.parse(Buffer.from(t.split('.')[i]!, 'base64url').toString()) as Record<string, unknown>;

/** An outside issuer whose tokens may be exchanged, serving its JWKS. */
const idp = generateKeyPairSync('rsa', { modulusLength: 2048 });
const IDP = 'http://idp.test';
function idpToken(claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'RS256', kid: 'idp' })}.${b64({ iss: IDP, sub: 'alice', iat: now, exp: now + 300, ...claims })}`;
  return `${input}.${createSign('sha256').update(input).sign(idp.privateKey).toString('base64url')}`;
}

describe('tessera-sts', () => {
  let sts: Server;
  let idpServer: Server;
  let base: string;
  let keys: KeyRing;
  let now = Date.now();
  const logged: Record<string, unknown>[] = [];

  before(async () => {
    idpServer = createServer((_q, s) => s.end(JSON.stringify({ keys: [{ ...(idp.publicKey.export({ format: 'jwk' }) as object), kid: 'idp', alg: 'RS256' }] })));
    const idpPort = await listen(idpServer);
    keys = new KeyRing({ alg: 'ES256', rotateEveryMs: 3_600_000, maxTokenLifetimeMs: 300_000, clock: () => now });
    const opts = {
      issuer: '',
      lifetimeSeconds: 300,
      keys,
      trustedIssuers: { [IDP]: `http://127.0.0.1:${idpPort}/jwks` },
      clients: new Map([['billing', { secretSha256: createHash('sha256').update('billing-secret-0123').digest(), audiences: ['ledger'] }]]),
      policy: parseStsPolicy({
        issue: [{ callers: ['cluster.local/ns/default/sa/reminder'], audiences: ['todos'] }],
        exchange: [
          { actors: ['cluster.local/ns/default/sa/reminder'], subjects: ['alice'], audiences: ['todos'] },
          { actors: ['cluster.local/ns/default/sa/todos'], subjects: ['alice'], audiences: ['share'] },
          { actors: ['cluster.local/ns/shop/*'], subjects: ['alice'], audiences: ['cart'] },
        ],
      }),
      sidecarAddresses: new Set(['127.0.0.1']),
      log: (msg: string, fields?: Record<string, unknown>) => void logged.push({ msg, ...fields }),
    };
    const probe = createServer();
    const port = await listen(probe);
    await new Promise((r) => probe.close(r));
    base = `http://127.0.0.1:${port}`;
    opts.issuer = base;
    sts = createStsServer(opts);
    await new Promise<void>((r) => sts.listen(port, '127.0.0.1', () => r()));
  });
  after(() => {
    sts?.close();
    idpServer?.close();
  });

  const token = async (form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString() });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const asWorkload = { serviceidentity: 'reminder.default' };

  test('discovery and JWKS', async () => {
    const d = (await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(d['issuer'], base);
    assert.equal(d['jwks_uri'], `${base}/jwks.json`);
    assert.equal(d['token_endpoint'], `${base}/token`);
    const jwks = (await (await fetch(`${base}/jwks.json`)).json()) as { keys: Record<string, unknown>[] };
    assert.equal(jwks.keys.length, 2, 'current and next');
    assert.ok(jwks.keys.every((k) => k['d'] === undefined && k['alg'] === 'ES256' && typeof k['kid'] === 'string'));
  });

  test('client credentials for a workload: sub is its Istio principal; the token verifies through discovery', async () => {
    const r = await token({ grant_type: 'client_credentials', audience: 'todos' }, asWorkload);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const t = r.body['access_token'] as string;
    assert.equal(r.body['token_type'], 'Bearer');
    const p = decode(t, 1);
    assert.equal(p['sub'], 'cluster.local/ns/default/sa/reminder');
    assert.equal(p['aud'], 'todos');
    assert.equal(p['iss'], base);
    // RequestAuthentication without jwksUri: discovery on the issuer, then the JWKS.
    const policy = compileJwtRule({ issuer: base, audiences: ['todos'] });
    const v = await verifyJwtAsync(t, policy, Date.now());
    assert.equal(v.ok, true, v.ok ? '' : v.code);
  });

  test('callers must authenticate: no identity, a wrong secret, or an untrusted audience are refused', async () => {
    assert.equal((await token({ grant_type: 'client_credentials', audience: 'todos' })).status, 401);
    assert.equal((await token({ grant_type: 'client_credentials', audience: 'ledger', client_id: 'billing', client_secret: 'wrong-secret-000000' })).status, 401);
    const basic = { authorization: `Basic ${Buffer.from('billing:billing-secret-0123').toString('base64')}` };
    const ok = await token({ grant_type: 'client_credentials', audience: 'ledger' }, basic);
    assert.equal(ok.status, 200);
    assert.equal(decode(ok.body['access_token'] as string, 1)['sub'], 'billing');
    // Malformed percent-encoding inside Basic is a bad client (401), not a server error.
    const malformed = { authorization: `Basic ${Buffer.from('billing:%E0%A4%A').toString('base64')}` };
    assert.deepEqual(await token({ grant_type: 'client_credentials', audience: 'ledger' }, malformed).then((r) => [r.status, r.body['error']]), [401, 'invalid_client']);
    const denied = await token({ grant_type: 'client_credentials', audience: 'todos' }, basic);
    assert.deepEqual([denied.status, denied.body['error']], [400, 'invalid_target']);
    assert.equal((await token({ grant_type: 'password', audience: 'todos' }, asWorkload)).body['error'], 'unsupported_grant_type');
  });

  test('a serviceidentity header from anywhere but the sidecar is not believed', async () => {
    const other = createStsServer({ issuer: base, lifetimeSeconds: 60, keys, clients: new Map(), policy: EMPTY_POLICY, sidecarAddresses: new Set(['127.9.9.9']) });
    const port = await listen(other);
    const res = await fetch(`http://127.0.0.1:${port}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...asWorkload }, body: 'grant_type=client_credentials&audience=todos' });
    assert.equal(res.status, 401);
    other.close();
  });

  test('token exchange: the caller acts for the subject (act), chains nest, may_act is honoured', async () => {
    const subject = idpToken({ roles: ['admin'], email: 'alice@example.com' });
    const xform = (t: string, aud: string): Record<string, string> => ({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: t, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', audience: aud });
    const r = await token(xform(subject, 'todos'), asWorkload);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body['issued_token_type'], 'urn:ietf:params:oauth:token-type:access_token');
    const p = decode(r.body['access_token'] as string, 1);
    assert.equal(p['sub'], 'alice');
    assert.equal(p['aud'], 'todos');
    assert.deepEqual(p['roles'], ['admin']);
    assert.deepEqual(p['act'], { sub: 'cluster.local/ns/default/sa/reminder' });
    // The todos workload passes it on: the new actor outside, the earlier one nested.
    const r2 = await token(xform(r.body['access_token'] as string, 'share'), { serviceidentity: 'todos.default' });
    assert.deepEqual(decode(r2.body['access_token'] as string, 1)['act'], { sub: 'cluster.local/ns/default/sa/todos', act: { sub: 'cluster.local/ns/default/sa/reminder' } });
    // may_act names another actor: refused.
    const bound = await token(xform(idpToken({ may_act: { sub: 'cluster.local/ns/default/sa/share' } }), 'todos'), asWorkload);
    assert.deepEqual([bound.status, bound.body['error']], [400, 'invalid_grant']);
    // An untrusted issuer, or a tampered subject token: invalid_grant.
    assert.equal((await token(xform(subject.replace(/.{4}$/, 'AAAA'), 'todos'), asWorkload)).body['error'], 'invalid_grant');
    const foreign = subject.split('.');
    foreign[1] = Buffer.from(JSON.stringify({ ...decode(subject, 1), iss: 'http://evil.test' })).toString('base64url');
    assert.equal((await token(xform(foreign.join('.'), 'todos'), asWorkload)).body['error'], 'invalid_grant');
  });

  test('the policy decides what is issued: nothing without a grant, invalid_target and unauthorized_client as RFC 8693 names them', async () => {
    const xform = (t: string, aud: string): Record<string, string> => ({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: t, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', audience: aud });
    const refused = async (form: Record<string, string>, headers: Record<string, string>): Promise<[number, unknown]> => {
      const r = await token(form, headers);
      return [r.status, r.body['error']];
    };
    // client credentials: only the granted audience; another workload gets nothing
    assert.deepEqual(await refused({ grant_type: 'client_credentials', audience: 'payments' }, asWorkload), [400, 'invalid_target']);
    assert.deepEqual(await refused({ grant_type: 'client_credentials', audience: 'todos' }, { serviceidentity: 'curl.curl' }), [400, 'invalid_target']);
    // exchange: an actor no grant names for the subject; a granted pair but another audience
    assert.deepEqual(await refused(xform(idpToken({}), 'todos'), { serviceidentity: 'curl.curl' }), [400, 'unauthorized_client']);
    assert.deepEqual(await refused(xform(idpToken({ sub: 'bob' }), 'todos'), asWorkload), [400, 'unauthorized_client']);
    assert.deepEqual(await refused(xform(idpToken({}), 'payments'), asWorkload), [400, 'invalid_target']);
    // a prefix pattern names every ServiceAccount of a namespace, and only those
    assert.equal((await token(xform(idpToken({}), 'cart'), { serviceidentity: 'checkout.shop' })).status, 200);
    assert.deepEqual(await refused(xform(idpToken({}), 'cart'), { serviceidentity: 'checkout.shopping' }), [400, 'unauthorized_client']);
    // every answer logged with caller, subject, actor and audience; never the token
    const line = logged.find((l) => l['msg'] === 'token request refused' && l['error'] === 'invalid_target' && l['audience'] === 'payments' && l['grant'] !== 'client_credentials');
    assert.deepEqual([line?.['caller'], line?.['actor'], line?.['subject']], ['cluster.local/ns/default/sa/reminder', 'cluster.local/ns/default/sa/reminder', 'alice']);
    const issued = logged.find((l) => l['msg'] === 'token issued' && l['audience'] === 'cart');
    assert.deepEqual([issued?.['caller'], issued?.['actor'], issued?.['subject']], ['cluster.local/ns/shop/sa/checkout', 'cluster.local/ns/shop/sa/checkout', 'alice']);
    assert.ok(!JSON.stringify(logged).includes('eyJ'), 'no token in the log');
    // and counted by grant and result
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^tessera_sts_token_requests_total\{grant="token-exchange",result="unauthorized_client"\} [3-9]$/m);
    assert.match(metrics, /^tessera_sts_token_requests_total\{grant="client_credentials",result="invalid_target"\} [2-9]$/m);
    assert.match(metrics, /^tessera_sts_token_requests_total\{grant="client_credentials",result="issued"\} \d+$/m);
  });

  test('with no policy nothing is issued to a workload; a client keeps the audiences it was configured with', async () => {
    const bare = createStsServer({ issuer: base, lifetimeSeconds: 60, keys, policy: EMPTY_POLICY, sidecarAddresses: new Set(['127.0.0.1']),
      clients: new Map([['billing', { secretSha256: createHash('sha256').update('billing-secret-0123').digest(), audiences: ['ledger'] }]]) });
    const port = await listen(bare);
    const post = async (body: string, headers: Record<string, string>): Promise<[number, unknown]> => {
      const res = await fetch(`http://127.0.0.1:${port}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
      return [res.status, ((await res.json()) as Record<string, unknown>)['error']];
    };
    try {
      assert.deepEqual(await post('grant_type=client_credentials&audience=todos', asWorkload), [400, 'invalid_target']);
      const basic = { authorization: `Basic ${Buffer.from('billing:billing-secret-0123').toString('base64')}` };
      assert.deepEqual(await post('grant_type=client_credentials&audience=ledger', basic), [200, undefined]);
      assert.deepEqual(await post('grant_type=client_credentials&audience=todos', basic), [400, 'invalid_target']);
    } finally {
      bare.close();
    }
  });

  test('rotation: tokens of the previous key keep verifying until they expire, then its key leaves the JWKS', async () => {
    const before = (await token({ grant_type: 'client_credentials', audience: 'todos' }, asWorkload)).body['access_token'] as string;
    const oldKid = decode(before, 0)['kid'];
    const published = keys.jwks().keys.map((k) => k['kid']);
    keys.rotate();
    const after = (await token({ grant_type: 'client_credentials', audience: 'todos' }, asWorkload)).body['access_token'] as string;
    const newKid = decode(after, 0)['kid'];
    assert.notEqual(newKid, oldKid);
    assert.ok(published.includes(newKid), 'the new key was published before it signed anything');
    const policyAt = (): ReturnType<typeof compileJwtPolicy> => compileJwtPolicy({ issuer: base, keys: compileJwks(keys.jwks()), cache: false });
    assert.equal(verifyJwt(before, policyAt(), Date.now()).ok, true, 'old token still verifies after rotation');
    assert.equal(verifyJwt(after, policyAt(), Date.now()).ok, true);
    now += 300_000 + 60_000 + 1;
    assert.ok(!keys.jwks().keys.some((k) => k['kid'] === oldKid), 'retired key dropped once its tokens expired');
  });
});
