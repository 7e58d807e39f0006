/**
 * `tessera policy check`'s core on a snapshot shaped like the one a sidecar applies: the same
 * decisions as the sidecar (JWT, DENY, ALLOW, dry-run), explained; keys it cannot get are reported,
 * not guessed; keys by URI are fetched over a real socket.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { closeNow, listenLocal, makeToken, publicJwk, rsaPair } from '../authn/jwt/test-support.js';
import type { InboundAuthzPolicy, InboundJwtRule, ProxySnapshot } from '../snapshot/types.js';
import { checkRequest, type CheckRequest } from './index.js';

const ISS = 'https://issuer.test';
const key = rsaPair();
const JWKS = JSON.stringify({ keys: [publicJwk(key, { kid: 'k1', alg: 'RS256', use: 'sig' })] });
const nowS = () => Math.floor(Date.now() / 1000);
const token = (claims: Record<string, unknown> = {}) => makeToken({ alg: 'RS256', kid: 'k1' }, { iss: ISS, sub: 'alice', exp: nowS() + 300, ...claims }, key.privateKey);

function snapshot(rules: InboundJwtRule['Rule'][], policies: InboundAuthzPolicy[]): ProxySnapshot {
  return {
    Spec: { ServiceIdentity: 'echo.demo', SidecarDisabledMTLS: false },
    Inbound: {
      TrafficMatches: { '8080': {}, '9090': {} },
      ...(rules.length > 0 ? { Authn: { JwtRules: rules.map((Rule) => ({ Policy: 'demo/jwt', Rule })) } } : {}),
      ...(policies.length > 0 ? { Authz: { Policies: policies } } : {}),
    },
  } as unknown as ProxySnapshot;
}

const req = (over: Partial<CheckRequest> = {}): CheckRequest => ({ method: 'GET', path: '/', headers: {}, ...over });

const policies: InboundAuthzPolicy[] = [
  { Name: 'demo/deny-admin', Action: 'DENY', Rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] },
  { Name: 'demo/shadow', Action: 'DENY', DryRun: true, Rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] },
  { Name: 'demo/readers', Action: 'ALLOW', Rules: [{ from: [{ source: { principals: ['cluster.local/ns/demo/sa/curl'] } }] }, { when: [{ key: 'request.auth.claims[scope]', values: ['read'] }] }] },
];

describe('policy check decisions', () => {
  const s = snapshot([{ issuer: ISS, jwks: JWKS }], policies);
  it('an mTLS caller allowed by rule 0, on the first inbound port', async () => {
    const r = await checkRequest(s, req({ sourceIdentity: 'curl.demo' }));
    assert.deepEqual([r.decision, r.policy, r.rule, r.principal, r.port], ['allowed', 'demo/readers', 0, 'cluster.local/ns/demo/sa/curl', 8080]);
    assert.deepEqual(r.policies, ['RequestAuthentication demo/jwt', 'AuthorizationPolicy demo/deny-admin', 'AuthorizationPolicy demo/shadow (dry-run)', 'AuthorizationPolicy demo/readers']);
  });
  it('a verified token with scope "read write" allowed by rule 1 (space-delimited scope)', async () => {
    const r = await checkRequest(s, req({ token: token({ scope: 'read write' }) }));
    assert.deepEqual([r.decision, r.rule, r.jwt?.verified, r.jwt?.principal], ['allowed', 1, true, `${ISS}/alice`]);
  });
  it('the path the policies see is normalized as the sidecar does: /%61dmin is /admin', async () => {
    const r = await checkRequest(s, req({ path: '/%61dmin/x?q=1', sourceIdentity: 'curl.demo' }));
    assert.deepEqual([r.decision, r.status, r.policy, r.rule, r.normalizedPath], ['denied', 403, 'demo/deny-admin', 0, '/admin/x?q=1']);
  });
  it('no ALLOW match: the closest rule and the failed condition', async () => {
    const r = await checkRequest(s, req({ sourceIdentity: 'other.demo' }));
    assert.deepEqual([r.decision, r.status, r.reason, r.policy, r.rule, r.condition], ['denied', 403, 'authorization: no ALLOW policy matched', 'demo/readers', 0, 'from[0].source.principals']);
  });
  it('an expired token: 401 with the verifier\'s reason, never the token', async () => {
    const t = token({ exp: nowS() - 3600 });
    const r = await checkRequest(s, req({ token: t }));
    assert.deepEqual([r.decision, r.status, r.jwt?.verified], ['denied', 401, false]);
    assert.match(r.reason, /demo\/jwt/);
    assert.ok(!JSON.stringify(r).includes(t));
  });
  it('a dry-run DENY is reported, not enforced', async () => {
    const r = await checkRequest(s, req({ method: 'DELETE', sourceIdentity: 'curl.demo' }));
    assert.equal(r.decision, 'allowed');
    assert.deepEqual(r.shadow, { decision: 'denied', policy: 'demo/shadow', rule: 0, condition: undefined });
  });
  it('an invalid target is refused as the sidecar refuses it', async () => {
    const r = await checkRequest(s, req({ path: '/a%00' }));
    assert.deepEqual([r.decision, r.status], ['denied', 400]);
  });
});

describe('keys the check cannot see', () => {
  let server: ReturnType<typeof createServer>;
  let url: string;
  before(async () => {
    server = createServer((_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JWKS));
    url = await listenLocal(server);
  });
  after(() => closeNow(server));

  it('jwksUri: fetched with the given fetcher, then verified like inline keys', async () => {
    const s = snapshot([{ issuer: ISS, jwksUri: `${url}/keys` }], policies);
    const r = await checkRequest(s, req({ token: token({ scope: 'read' }) }), { fetchJwks: async (u) => (await fetch(u)).text() });
    assert.deepEqual([r.decision, r.jwt?.verified], ['allowed', true]);
  });
  it('jwksUri that cannot be fetched: decision unknown, and why', async () => {
    const s = snapshot([{ issuer: ISS, jwksUri: 'http://jwks.auth:8080/keys' }], policies);
    const r = await checkRequest(s, req({ token: token({ scope: 'read' }) }), { fetchJwks: async () => { throw new Error('getaddrinfo ENOTFOUND jwks.auth'); } });
    assert.deepEqual([r.decision, r.jwt?.unverifiable], ['unknown', true]);
    assert.match(r.reason, /keys at http:\/\/jwks\.auth:8080\/keys could not be fetched from this machine \(getaddrinfo ENOTFOUND jwks\.auth\); the sidecar fetches them through the mesh/);
  });
  it('no token: the keys are not needed', async () => {
    const s = snapshot([{ issuer: ISS, jwksUri: 'http://jwks.auth:8080/keys' }], policies);
    const r = await checkRequest(s, req({ sourceIdentity: 'curl.demo' }));
    assert.deepEqual([r.decision, r.jwt?.present], ['allowed', false]);
  });
});
