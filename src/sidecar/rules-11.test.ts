/**
 * security-rules.md §11 through a real sidecar: Istio AuthorizationPolicy and RequestAuthentication
 * compiled by the real compiler, delivered by the (fake) control plane and enforced by the real
 * inbound chain of echo-a, with raw HTTP/1.1 bytes written over loopback sockets to its inbound
 * listener, from chosen source addresses. The mesh runs plaintext (test-support world), so every
 * peer here has no mTLS identity; the mTLS side of rule 4 is in test/e2e (book-istio, identity).
 *
 * Rules: 1 (one normalized path for policy and upstream), 2 (Istio's order, CUSTOM never grants),
 * 3 (fail closed), 4 (identity only from verified sources), 5 (RequestAuthentication), 8 (pipelined
 * requests, h2c), 9 (hosts, methods, headers, all values to the external authorizer).
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '../api/types.js';
import { b64u, makeToken, publicJwk, rsaPair } from '../authn/jwt/test-support.js';
import { meshConfig, service } from '../snapshot/testdata/builders.js';
import type { EchoReply } from './test-support/apps.js';
import { rawExchange } from './test-support/engine-harness.js';
import { startMesh, type Mesh } from './test-support/mesh.js';
import { listen, until } from './test-support/net.js';
import { MESH, NS, waitVersion } from './test-support/world.js';

let mesh: Mesh;

interface Exchange {
  text: string;
  statuses: number[];
  /** bodies of the responses, in order (content-length framed: every answer here has one) */
  bodies: string[];
  closed: boolean;
}

/** Writes raw bytes to echo-a's inbound listener from `from` and reads until close or `waitMs`. */
async function exchange(bytes: string, opts: { from?: string; waitMs?: number } = {}): Promise<Exchange> {
  const to = { host: mesh.a.echoA.podIP, port: 8080, ...(opts.from ? { localAddress: opts.from } : {}) };
  const { text, closed } = await rawExchange(to, bytes, opts.waitMs ?? 2000, (s) => mesh.tracker.socket(s));
  const statuses: number[] = [];
  const bodies: string[] = [];
  let rest = text;
  for (;;) {
    const m = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n/.exec(rest);
    const end = rest.indexOf('\r\n\r\n');
    if (!m || end < 0) break;
    statuses.push(Number(m[1]));
    const cl = /\r\ncontent-length: (\d+)/i.exec(rest.slice(0, end + 2));
    const n = cl ? Number(cl[1]) : 0;
    bodies.push(rest.slice(end + 4, end + 4 + n));
    rest = rest.slice(end + 4 + n);
  }
  return { text, statuses, bodies, closed };
}

const HOST = 'other.demo';
/** One request that closes the connection after its answer. */
const req = (target: string, extra = '', method = 'GET', host = HOST): string => `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`;

/** The one response of a single request. */
async function one(target: string, extra = '', opts: { from?: string; method?: string; host?: string } = {}): Promise<{ status: number; body: string }> {
  const r = await exchange(req(target, extra, opts.method, opts.host), opts.from ? { from: opts.from } : {});
  assert.equal(r.statuses.length, 1, `${target}: ${JSON.stringify(r.text.slice(0, 300))}`);
  return { status: r.statuses[0]!, body: r.bodies[0]! };
}

/** Requests echo-a's app received since `mark` (its `seen` index). */
const seenSince = (mark: number): string[] => mesh.apps.echoA.seen.slice(mark).map((s) => s.url);
const extSeenSince = (mark: number) => mesh.apps.ext.seen.slice(mark);

const API = 'security.istio.io/v1beta1';
const selector = { matchLabels: { app: 'echo' } };
function ap(name: string, spec: Record<string, unknown>): Resource {
  return { apiVersion: API, kind: 'AuthorizationPolicy', metadata: { name, namespace: NS }, spec: { selector, ...spec } } as Resource;
}
function ra(name: string, spec: Record<string, unknown>): Resource {
  return { apiVersion: API, kind: 'RequestAuthentication', metadata: { name, namespace: NS }, spec: { selector, ...spec } } as Resource;
}

/** The world with these policies (and MeshConfig extension providers), published to every sidecar. */
function withPolicies(...policies: Resource[]): Promise<void> {
  return withMeshConfig({}, ...policies);
}

/** The same, with MeshConfig `traffic` settings (SMI permissive mode). */
async function withMeshConfig(traffic: Record<string, unknown>, ...policies: Resource[]): Promise<void> {
  const base = mesh.resources.filter((r) => r.kind !== 'MeshConfig');
  const mc = meshConfig(
    {
      traffic,
      featureFlags: { enablePluginPolicy: false, enableAccessControlPolicy: true },
      sidecar: { sidecarDisabledMTLS: true },
      extensionProviders: [
        // the ext app answers 200 to any path: an authorizer that allows
        { name: 'ext', envoyExtAuthzHttp: { service: 'ext.ext', port: 7000, timeout: '2s' } },
        // /status?code=403…: an authorizer that denies
        { name: 'ext-deny', envoyExtAuthzHttp: { service: 'ext.ext', port: 7000, pathPrefix: '/status?code=403&p=' } },
        // /delay?ms=3000…: an authorizer slower than its timeout
        { name: 'ext-slow', envoyExtAuthzHttp: { service: 'ext.ext', port: 7000, timeout: '200ms', pathPrefix: '/delay?ms=3000&p=' } },
        // Service down has no ready endpoint
        { name: 'ext-down', envoyExtAuthzHttp: { service: 'down.demo', port: 80 } },
      ],
    },
    MESH,
  );
  const versions = await mesh.publish([...base, mc, ...policies]);
  // publish() may see an older ACK of the same version (a policy set published before): wait until echo-a runs it
  await waitVersion(mesh.echoA, versions.echoA);
}

const DENIED = 'RBAC: access denied';

before(async () => {
  mesh = await startMesh();
});
after(async () => {
  await mesh?.close();
});

describe('rules 1, 8, 9: the real AuthorizationPolicy sees the normalized request, exactly what the app gets', () => {
  before(() =>
    withPolicies(
      ap('deny-admin', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin', '/admin/*'] } }] }] }),
      ap('deny-host', { action: 'DENY', rules: [{ to: [{ operation: { hosts: ['echo.demo'] } }] }] }),
      ap('deny-host-any-port', { action: 'DENY', rules: [{ to: [{ operation: { hosts: ['echo.demo.svc.cluster.local', 'echo.demo.svc.cluster.local:*'] } }] }] }),
      ap('deny-patch', { action: 'DENY', rules: [{ to: [{ operation: { methods: ['PATCH'] } }] }] }),
      ap('deny-header', { action: 'DENY', rules: [{ when: [{ key: 'request.headers[X-Env]', values: ['a,b'] }] }] }),
    ),
  );

  for (const target of ['/admin', '/%61dmin', '//admin', '///admin/x', '/x/../admin', '/%2e%2e/admin', '/./admin', '/admin%2Fsecret', '/admin%5csecret', '/\\admin', '/x/..\\admin', '/v1/..;/admin', '/admin#frag', '/admin?x=1', '/admin?', '/admin/?#']) {
    it(`rule 1: DENY /admin also denies ${JSON.stringify(target)}, and nothing reaches the app`, async () => {
      const mark = mesh.apps.echoA.seen.length;
      const r = await one(target);
      assert.deepEqual([r.status, r.body], [403, DENIED]);
      assert.deepEqual(seenSince(mark), []);
    });
  }

  it('rule 1: the app receives the very string the policy matched (normalized once; query kept byte for byte)', async () => {
    const mark = mesh.apps.echoA.seen.length;
    const r = await one('/a/./b/../c//d%7e%2Fe?q=%2F..//x#frag');
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(seenSince(mark), ['/a/c/d~/e?q=%2F..//x']);
    assert.equal((JSON.parse(r.body) as EchoReply).url, '/a/c/d~/e?q=%2F..//x');
  });

  it('rule 1: case and `;` parameters are not normalized, so /ADMIN and /admin;x are not /admin (and reach the app as such)', async () => {
    const mark = mesh.apps.echoA.seen.length;
    assert.equal((await one('/ADMIN')).status, 200);
    assert.equal((await one('/admin;x')).status, 200);
    assert.deepEqual(seenSince(mark), ['/ADMIN', '/admin;x']);
  });

  for (const target of ['/%00', '/admin%00', '/a%zz']) {
    it(`rule 1: ${JSON.stringify(target)} is refused with 400 before any policy or app`, async () => {
      const mark = mesh.apps.echoA.seen.length;
      const r = await exchange(req(target));
      assert.deepEqual(r.statuses, [400], r.text);
      assert.ok(r.closed);
      assert.deepEqual(seenSince(mark), []);
    });
  }

  it('rule 8: pipelined requests on one connection are each authorized on their own', async () => {
    const mark = mesh.apps.echoA.seen.length;
    const r = await exchange(`GET /ok HTTP/1.1\r\nHost: ${HOST}\r\n\r\nGET /%61dmin HTTP/1.1\r\nHost: ${HOST}\r\n\r\nGET /ok2 HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
    assert.deepEqual(r.statuses, [200, 403, 200], r.text);
    assert.deepEqual(seenSince(mark), ['/ok', '/ok2']);
  });

  it('rule 8: Upgrade: h2c is stripped; the app (which would switch protocols) answers as HTTP/1.1 and sees no Upgrade', async () => {
    const mark = mesh.apps.echoA.seen.length;
    const r = await exchange(req('/h2c', 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n').replace('Connection: close\r\n', ''), { waitMs: 1000 });
    assert.deepEqual(r.statuses, [200], r.text);
    assert.doesNotMatch(r.text, /101 Switching/);
    const seen = mesh.apps.echoA.seen.slice(mark);
    assert.deepEqual(seen.map((s) => s.url), ['/h2c']);
    assert.equal(seen[0]!.headers['upgrade'], undefined);
    assert.equal(seen[0]!.headers['http2-settings'], undefined);
  });

  it('rule 8: duplicate Authorization and underscore-aliased header names are refused at the real listener', async () => {
    const mark = mesh.apps.echoA.seen.length;
    const dup = await exchange(req('/x', 'Authorization: Bearer a\r\nAuthorization: Bearer b\r\n'));
    assert.deepEqual(dup.statuses, [400], dup.text);
    const underscore = await exchange(req('/x', 'X_Forwarded_Client_Cert: By=spiffe://cluster.local/ns/demo/sa/echo\r\n'));
    assert.deepEqual(underscore.statuses, [400], underscore.text);
    assert.deepEqual(seenSince(mark), []);
  });

  it('rule 9: hosts compare case-insensitively; an exact host does not match host:port', async () => {
    assert.deepEqual(await one('/h', '', { host: 'echo.demo' }), { status: 403, body: DENIED });
    assert.deepEqual(await one('/h', '', { host: 'ECHO.Demo' }), { status: 403, body: DENIED });
    // the root label's dot is the same host (issue #20: routing dropped it, the policy did not)
    assert.deepEqual(await one('/h', '', { host: 'echo.demo.' }), { status: 403, body: DENIED });
    assert.deepEqual(await one('/h', '', { host: 'ECHO.demo.' }), { status: 403, body: DENIED });
    // `echo.demo` does not match `echo.demo:80` (write `h` and `h:*`, ISTIO-SECURITY-2021-008)
    assert.equal((await one('/h', '', { host: 'echo.demo:80' })).status, 200);
  });

  it('rule 9: hosts written as h and h:* match with and without the port, in any case', async () => {
    for (const host of ['echo.demo.svc.cluster.local', 'echo.demo.svc.cluster.local:80', 'Echo.Demo.Svc.Cluster.Local:80', 'echo.demo.svc.cluster.local.:80', 'Echo.Demo.Svc.Cluster.Local.']) {
      assert.deepEqual(await one('/h', '', { host }), { status: 403, body: DENIED }, host);
    }
  });

  it('rule 9: methods are exact; a method that is not upper case is refused with 400', async () => {
    assert.deepEqual(await one('/m', 'Content-Length: 0\r\n', { method: 'PATCH' }), { status: 403, body: DENIED });
    assert.equal((await one('/m', 'Content-Length: 0\r\n', { method: 'POST' })).status, 200);
    const lower = await exchange(req('/m', 'Content-Length: 0\r\n', 'patch'));
    assert.deepEqual(lower.statuses, [400], lower.text);
    const mixed = await exchange(req('/m', 'Content-Length: 0\r\n', 'Patch'));
    assert.deepEqual(mixed.statuses, [400], mixed.text);
  });

  it('rule 9: header names are case-insensitive and repeated headers are merged with "," in order', async () => {
    assert.deepEqual(await one('/e', 'X-ENV: a\r\nx-env: b\r\n'), { status: 403, body: DENIED });
    assert.deepEqual(await one('/e', 'x-env: a,b\r\n'), { status: 403, body: DENIED });
    assert.equal((await one('/e', 'x-env: b\r\nx-env: a\r\n')).status, 200, 'b,a is another value');
    assert.equal((await one('/e', 'x-env: a\r\n')).status, 200);
  });
});

describe('rules 2 and 3: CUSTOM first, and it never grants; DENY, then ALLOW; failures close', () => {
  before(() =>
    withPolicies(
      ap('custom-ext', { action: 'CUSTOM', provider: { name: 'ext' }, rules: [{ to: [{ operation: { paths: ['/c/*', '/x/*'] } }] }] }),
      ap('custom-deny', { action: 'CUSTOM', provider: { name: 'ext-deny' }, rules: [{ to: [{ operation: { paths: ['/d/*'] } }] }] }),
      ap('custom-slow', { action: 'CUSTOM', provider: { name: 'ext-slow' }, rules: [{ to: [{ operation: { paths: ['/s/*'] } }] }] }),
      ap('custom-down', { action: 'CUSTOM', provider: { name: 'ext-down' }, rules: [{ to: [{ operation: { paths: ['/g/*'] } }] }] }),
      ap('custom-unknown', { action: 'CUSTOM', provider: { name: 'nope' }, rules: [{ to: [{ operation: { paths: ['/n/*'] } }] }] }),
      ap('custom-unset-rules', { action: 'CUSTOM', provider: { name: 'ext-deny' } }),
      ap('allow', { action: 'ALLOW', rules: [{ to: [{ operation: { paths: ['/c/*', '/d/*', '/s/*', '/g/*', '/n/*', '/open'] } }] }] }),
      ap('deny', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/c/denied'] } }] }] }),
      ap('audit-all', { action: 'AUDIT', rules: [{}] }),
      ap('deny-no-rules', { action: 'DENY' }),
    ),
  );

  it('a CUSTOM allow, an ALLOW match and no DENY match: 200, and the authorizer was asked', async () => {
    const mark = mesh.apps.ext.seen.length;
    assert.equal((await one('/c/ok')).status, 200);
    assert.deepEqual(extSeenSince(mark).map((s) => s.url), ['/c/ok']);
  });

  it('a CUSTOM allow never overrides DENY', async () => {
    const mark = mesh.apps.echoA.seen.length;
    const ext = mesh.apps.ext.seen.length;
    assert.deepEqual(await one('/c/denied'), { status: 403, body: DENIED });
    assert.deepEqual(extSeenSince(ext).map((s) => s.url), ['/c/denied'], 'CUSTOM ran first and allowed');
    assert.deepEqual(seenSince(mark), []);
  });

  it('a CUSTOM allow never overrides a missing ALLOW match', async () => {
    const mark = mesh.apps.echoA.seen.length;
    const ext = mesh.apps.ext.seen.length;
    assert.deepEqual(await one('/x/y'), { status: 403, body: DENIED });
    assert.deepEqual(extSeenSince(ext).map((s) => s.url), ['/x/y']);
    assert.deepEqual(seenSince(mark), []);
  });

  it('a CUSTOM deny is final even where ALLOW matches', async () => {
    const mark = mesh.apps.echoA.seen.length;
    assert.deepEqual(await one('/d/a'), { status: 403, body: DENIED });
    assert.deepEqual(seenSince(mark), []);
  });

  it('rule 3: an authorizer slower than its timeout denies, promptly', async () => {
    const started = Date.now();
    assert.deepEqual(await one('/s/a'), { status: 403, body: DENIED });
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  });

  it('rule 3: an authorizer without endpoints denies', async () => {
    assert.deepEqual(await one('/g/a'), { status: 403, body: DENIED });
  });

  it('rule 3: a provider MeshConfig does not define denies what its policy matches, and only that', async () => {
    assert.deepEqual(await one('/n/a'), { status: 403, body: DENIED });
    assert.equal((await one('/open')).status, 200);
  });

  it('rule 2: a request no CUSTOM policy matches is not sent to any authorizer; a CUSTOM policy with unset rules never matches', async () => {
    const ext = mesh.apps.ext.seen.length;
    assert.equal((await one('/open')).status, 200);
    assert.deepEqual(extSeenSince(ext), []);
  });

  it('rule 2: AUDIT [{}] and a DENY with unset rules change nothing; no ALLOW match is a deny', async () => {
    assert.equal((await one('/open')).status, 200);
    assert.deepEqual(await one('/elsewhere'), { status: 403, body: DENIED });
  });

  it('rule 9: every value of a repeated header reaches the authorizer', async () => {
    const ext = mesh.apps.ext.seen.length;
    assert.equal((await one('/c/multi', 'X-Ext-Token: one\r\nX-Ext-Token: two\r\n')).status, 200);
    const seen = extSeenSince(ext);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.headers['x-ext-token'], 'one, two');
  });

  it('rule 4: the authorizer is told the socket peer, never a client-supplied X-Forwarded-For', async () => {
    const ext = mesh.apps.ext.seen.length;
    const from = `127.${mesh.a.block}.64.7`;
    assert.equal((await one('/c/xff', 'X-Forwarded-For: 10.9.9.9\r\n', { from })).status, 200);
    assert.equal(extSeenSince(ext)[0]!.headers['x-forwarded-for'], from);
  });
});

describe('rules 2 and 3 through the sidecar: unset rules, [{}], unreadable rules', () => {
  it('ALLOW with unset rules (spec {}) denies everything', async () => {
    await withPolicies(ap('allow-nothing', { action: 'ALLOW' }));
    assert.deepEqual(await one('/anything'), { status: 403, body: DENIED });
  });

  it('DENY [{}] denies everything; ALLOW [{}] alone allows everything', async () => {
    await withPolicies(ap('deny-all', { action: 'DENY', rules: [{}] }), ap('allow-all', { rules: [{}] }));
    assert.deepEqual(await one('/anything'), { status: 403, body: DENIED });
    await withPolicies(ap('allow-all', { rules: [{}] }));
    assert.equal((await one('/anything')).status, 200);
  });

  it('rule 3: an ALLOW rule with an unknown when key never allows; a DENY with one always denies', async () => {
    await withPolicies(ap('allow-bogus', { rules: [{ when: [{ key: 'request.bogus', values: ['x'] }] }] }));
    assert.deepEqual(await one('/anything'), { status: 403, body: DENIED });
    await withPolicies(ap('allow-all', { rules: [{}] }), ap('deny-bogus', { action: 'DENY', rules: [{ when: [{ key: 'request.bogus', values: ['x'] }] }] }));
    assert.deepEqual(await one('/anything'), { status: 403, body: DENIED });
  });
});

describe('rule 4: identity only from verified sources (plaintext peers, socket addresses)', () => {
  let good = '';
  let evil = '';
  before(async () => {
    good = `127.${mesh.a.block}.64.10`;
    evil = `127.${mesh.a.block}.64.11`;
    await withPolicies(
      ap('allow', {
        rules: [
          { from: [{ source: { ipBlocks: [`${good}/32`] } }], to: [{ operation: { paths: ['/ip/*'] } }] },
          { from: [{ source: { remoteIpBlocks: [good] } }], to: [{ operation: { paths: ['/rip/*'] } }] },
          { to: [{ operation: { paths: ['/cond/*'] } }], when: [{ key: 'source.ip', values: [`${good}/32`] }] },
          { from: [{ source: { principals: ['*'] } }], to: [{ operation: { paths: ['/p/*'] } }] },
          { from: [{ source: { principals: [`cluster.local/ns/${NS}/sa/client`] } }], to: [{ operation: { paths: ['/client/*'] } }] },
          { from: [{ source: { namespaces: [NS] } }], to: [{ operation: { paths: ['/ns/*'] } }] },
          { to: [{ operation: { paths: ['/sp/*'] } }], when: [{ key: 'source.principal', values: ['*'] }] },
          { from: [{ source: { notPrincipals: [`cluster.local/ns/${NS}/sa/evil`] } }], to: [{ operation: { paths: ['/np/*'] } }] },
          { to: [{ operation: { paths: ['/open', '/mtls-only/*', '/blocked/*'] } }] },
        ],
      }),
      ap('deny-plaintext', { action: 'DENY', rules: [{ from: [{ source: { notPrincipals: ['*'] } }], to: [{ operation: { paths: ['/mtls-only/*'] } }] }] }),
      ap('deny-evil', { action: 'DENY', rules: [{ from: [{ source: { ipBlocks: [evil] } }], to: [{ operation: { paths: ['/blocked/*'] } }] }] }),
    );
  });

  it('ipBlocks, remoteIpBlocks and source.ip take the socket peer: the address itself gets in', async () => {
    for (const p of ['/ip/a', '/rip/a', '/cond/a']) assert.equal((await one(p, '', { from: good })).status, 200, p);
  });

  it('another address claiming it in X-Forwarded-For (or X-Real-IP, Forwarded) does not', async () => {
    const spoof = `X-Forwarded-For: ${good}\r\nX-Real-IP: ${good}\r\nForwarded: for=${good}\r\n`;
    for (const p of ['/ip/a', '/rip/a', '/cond/a']) assert.deepEqual(await one(p, spoof, { from: evil }), { status: 403, body: DENIED }, p);
  });

  it('a DENY on an address holds whatever X-Forwarded-For says', async () => {
    assert.deepEqual(await one('/blocked/a', `X-Forwarded-For: ${good}\r\n`, { from: evil }), { status: 403, body: DENIED });
    assert.equal((await one('/blocked/a', `X-Forwarded-For: ${evil}\r\n`, { from: good })).status, 200);
  });

  it('plaintext has no principal or namespace, whatever identity headers the client forges', async () => {
    const forged = [
      `serviceidentity: client.${NS}`,
      `x-forwarded-client-cert: By=spiffe://cluster.local/ns/${NS}/sa/echo;URI=spiffe://cluster.local/ns/${NS}/sa/client`,
      `x-tessera-source-identity: client.${NS}`,
      `x-envoy-peer-metadata-id: sidecar~10.0.0.1~client-0.${NS}~${NS}.svc.cluster.local`,
    ].join('\r\n') + '\r\n';
    for (const p of ['/p/a', '/client/a', '/ns/a', '/sp/a']) assert.deepEqual(await one(p, forged, { from: good }), { status: 403, body: DENIED }, p);
  });

  it('notPrincipals in an ALLOW is satisfied by plaintext (why §11 says ALLOW positive, DENY negative)', async () => {
    assert.equal((await one('/np/a')).status, 200);
  });

  it('a DENY with notPrincipals ["*"] refuses plaintext, the recommended way to require mTLS', async () => {
    assert.deepEqual(await one('/mtls-only/a'), { status: 403, body: DENIED });
    assert.equal((await one('/open')).status, 200);
  });
});

describe('rule 5: RequestAuthentication in the sidecar (and rule 4: requestPrincipals only from a verified token)', () => {
  const ISS = 'https://issuer.rules-11.example';
  const key = rsaPair();
  const other = rsaPair();
  const JWKS = JSON.stringify({ keys: [publicJwk(key, { kid: 'k1', alg: 'RS256', use: 'sig' })] });
  const nowS = () => Math.floor(Date.now() / 1000);
  const token = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = { alg: 'RS256', kid: 'k1' }, k = key.privateKey) =>
    makeToken(header, { iss: ISS, sub: 'alice', exp: nowS() + 300, ...claims }, k);
  const bearer = (t: string) => `Authorization: Bearer ${t}\r\n`;

  before(() =>
    withPolicies(
      ra('jwt', {
        jwtRules: [
          {
            issuer: ISS,
            jwks: JWKS,
            outputPayloadToHeader: 'X-Payload',
            outputClaimToHeaders: [{ header: 'X-Sub', claim: 'sub' }],
            fromHeaders: [{ name: 'Authorization', prefix: 'Bearer ' }],
            fromParams: ['access_token'],
          },
        ],
      }),
      ap('allow', {
        rules: [
          { from: [{ source: { requestPrincipals: ['*'] } }], to: [{ operation: { paths: ['/jwt/*'] } }] },
          { from: [{ source: { requestPrincipals: [`${ISS}/alice`] } }], to: [{ operation: { paths: ['/alice/*'] } }] },
          { to: [{ operation: { paths: ['/open', '/open/*'] } }] },
        ],
      }),
    ),
  );

  it('no token: passes authentication without identity (200 where authz allows), forged output headers removed', async () => {
    const mark = mesh.apps.echoA.seen.length;
    const r = await one('/open', 'X-Payload: forged\r\nX-Sub: admin\r\n');
    assert.equal(r.status, 200, r.body);
    const h = mesh.apps.echoA.seen[mark]!.headers;
    assert.equal(h['x-payload'], undefined);
    assert.equal(h['x-sub'], undefined);
  });

  it('no token where authz requires a principal: 403, not 401', async () => {
    assert.deepEqual(await one('/jwt/a'), { status: 403, body: DENIED });
  });

  it('a valid token: its iss/sub is the request principal; output headers set from it; the token is not forwarded', async () => {
    const t = token();
    const mark = mesh.apps.echoA.seen.length;
    const r = await one('/alice/a', `${bearer(t)}X-Payload: forged\r\nX-Sub: admin\r\n`);
    assert.equal(r.status, 200, r.body);
    const h = mesh.apps.echoA.seen[mark]!.headers;
    assert.equal(h['x-payload'], t.split('.')[1]);
    assert.equal(h['x-sub'], 'alice');
    assert.equal(h['authorization'], undefined, 'forwardOriginalToken defaults to false');
  });

  const invalid: [string, () => string][] = [
    ['expired', () => token({ exp: nowS() - 3600 })],
    ['signed by another key', () => token({}, { alg: 'RS256', kid: 'k1' }, other.privateKey)],
    ['another issuer', () => token({ iss: 'https://evil.example' })],
    ['alg none', () => `${b64u({ alg: 'none' })}.${b64u({ iss: ISS, sub: 'alice', exp: nowS() + 60 })}.`],
    ['HS256 with the RSA public key as secret', () => makeToken({ alg: 'HS256', kid: 'k1' }, { iss: ISS, sub: 'alice', exp: nowS() + 60 }, Buffer.from(key.publicKey.export({ type: 'spki', format: 'pem' }) as string))],
    ['garbage', () => 'not.a.token'],
  ];
  for (const [name, t] of invalid) {
    it(`a present but invalid token (${name}) gets 401 even where authz would allow, and never reaches the app`, async () => {
      const mark = mesh.apps.echoA.seen.length;
      const r = await exchange(req('/open', bearer(t())));
      assert.deepEqual(r.statuses, [401], r.text);
      assert.match(r.text, /\r\nwww-authenticate: Bearer/i);
      assert.deepEqual(seenSince(mark), []);
    });
  }

  it('two different tokens (header and query parameter) are refused with 401', async () => {
    const r = await exchange(req(`/open?access_token=${token({ sub: 'bob' })}`, bearer(token())));
    assert.deepEqual(r.statuses, [401], r.text);
  });

  it('a token in the query never reaches the access log, refused or not: query values are redacted, names kept', async () => {
    const bad = `${token()}x`;
    const good = token();
    assert.deepEqual((await exchange(req(`/open?access_token=${bad}&page=2`))).statuses, [401]);
    assert.deepEqual((await exchange(req(`/open?access_token=${good}`))).statuses, [200]);
    const lines = await until(() => {
      const found = mesh.echoA.access.filter((l) => typeof l['path'] === 'string' && (l['path'] as string).startsWith('/open?access_token='));
      return found.length >= 2 ? found : undefined;
    }, 'both access lines');
    for (const l of lines) {
      const text = JSON.stringify(l);
      for (const t of [bad, good]) assert.ok(!text.includes(t.split('.')[1]!) && !text.includes(t.split('.')[2]!.slice(0, 20)), `token in ${text}`);
    }
    assert.ok(lines.some((l) => l['path'] === '/open?access_token=***&page=***' && l['status'] === 401));
  });

  it('a repeated token parameter is refused with 401; a repeated Authorization header with 400', async () => {
    const t = token();
    assert.deepEqual((await exchange(req(`/open?access_token=${t}&access_token=${t}`))).statuses, [401]);
    assert.deepEqual((await exchange(req('/open', bearer(t) + bearer(t)))).statuses, [400]);
  });

  it('a token in a place no rule reads carries no identity', async () => {
    const t = token();
    assert.deepEqual(await one('/jwt/a', `X-Token: ${t}\r\nX-Jwt-Assertion: ${t}\r\n`), { status: 403, body: DENIED });
    assert.equal((await one('/jwt/a', `Authorization: Token ${t}\r\n`)).status, 401, 'a configured header without the prefix is an invalid token');
  });

  it('§5 order: authentication reads the received headers, before hop-by-hop removal (Connection: Authorization)', async () => {
    const mark = mesh.apps.echoA.seen.length;
    const r = await exchange(req('/open', `${bearer(token({ exp: nowS() - 3600 }))}`).replace('Connection: close', 'Connection: close, Authorization'));
    assert.deepEqual(r.statuses, [401], r.text);
    assert.deepEqual(seenSince(mark), []);
  });

  it('§5 order: identity headers are added after hop-by-hop removal, so Connection cannot strip them (Connection: X-Payload)', async () => {
    const t = token();
    const mark = mesh.apps.echoA.seen.length;
    const r = await exchange(req('/alice/a', `${bearer(t)}X-Payload: forged\r\n`).replace('Connection: close', 'Connection: close, X-Payload, X-Sub'));
    assert.deepEqual(r.statuses, [200], r.text);
    const h = mesh.apps.echoA.seen[mark]!.headers;
    assert.equal(h['x-payload'], t.split('.')[1]);
    assert.equal(h['x-sub'], 'alice');
  });

  it('rule 8: a token on one pipelined request does not authorize the next one', async () => {
    const mark = mesh.apps.echoA.seen.length;
    const r = await exchange(`GET /jwt/a HTTP/1.1\r\nHost: ${HOST}\r\n${bearer(token())}\r\nGET /jwt/b HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
    assert.deepEqual(r.statuses, [200, 403], r.text);
    assert.deepEqual(seenSince(mark), ['/jwt/a']);
  });
});

describe('rule 10: with permissive mode off, a client outside the mesh gets in only through AccessControl, by its socket address', () => {
  let good = '';
  let evil = '';
  const acl = (sources: { kind: string; name: string }[]): Resource =>
    ({ apiVersion: 'policy.flomesh.io/v1alpha1', kind: 'AccessControl', metadata: { name: 'legacy', namespace: NS }, spec: { backends: [{ name: 'other', port: { number: 8080, protocol: 'http' } }], sources } }) as Resource;
  before(() => {
    good = `127.${mesh.a.block}.64.20`;
    evil = `127.${mesh.a.block}.64.21`;
  });

  it('no TrafficTarget and no AccessControl: default deny, whatever the client claims', async () => {
    await withMeshConfig({ enablePermissiveTrafficPolicyMode: false });
    const mark = mesh.apps.echoA.seen.length;
    assert.equal((await one('/x', '', { from: good })).status, 403);
    assert.equal((await one('/x', `serviceidentity: client.${NS}\r\n`, { from: good })).status, 403);
    assert.deepEqual(seenSince(mark), []);
  });

  it('an IPRange admits exactly that socket address; X-Forwarded-For naming it admits nobody else', async () => {
    await withMeshConfig({ enablePermissiveTrafficPolicyMode: false }, acl([{ kind: 'IPRange', name: `${good}/32` }]));
    const mark = mesh.apps.echoA.seen.length;
    assert.equal((await one('/acl', '', { from: good })).status, 200);
    assert.equal((await one('/acl-spoof', `X-Forwarded-For: ${good}\r\nX-Real-IP: ${good}\r\nForwarded: for=${good}\r\n`, { from: evil })).status, 403);
    assert.deepEqual(seenSince(mark), ['/acl']);
  });

  it('a CIDR admits the addresses inside it only', async () => {
    await withMeshConfig({ enablePermissiveTrafficPolicyMode: false }, acl([{ kind: 'IPRange', name: `127.${mesh.a.block}.64.16/30` }]));
    assert.equal((await one('/cidr', '', { from: `127.${mesh.a.block}.64.19` })).status, 200);
    assert.equal((await one('/cidr', '', { from: good })).status, 403);
  });

  it('deleting the AccessControl revokes it at once', async () => {
    await withMeshConfig({ enablePermissiveTrafficPolicyMode: false }, acl([{ kind: 'IPRange', name: `${good}/32` }]));
    assert.equal((await one('/acl', '', { from: good })).status, 200);
    await withMeshConfig({ enablePermissiveTrafficPolicyMode: false });
    assert.equal((await one('/acl', '', { from: good })).status, 403);
  });
});

describe('rule 8 through the sidecar: an Upgrade the app refuses must not leave an unauthorized tunnel', () => {
  // A plain node:http app (no 'upgrade' listener, like most apps that do not speak WebSocket) behind
  // echo-a on 8082, as Service plain (80 → 8082); the DENY on /admin applies to it.
  const seen: string[] = [];
  before(async () => {
    const app = createHttpServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 }).end('ok');
    });
    mesh.tracker.server(app);
    await listen(app, mesh.a.echoA.localIP, 8082);
    await withPolicies(
      service(NS, 'plain', [{ name: 'http', port: 80, targetPort: 8082 }], { member: 'a' }),
      ap('deny-admin', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin', '/admin/*'] } }] }] }),
    );
  });

  it('the DENY holds on a plain request to the app', async () => {
    const s = connect({ host: mesh.a.echoA.podIP, port: 8082 });
    mesh.tracker.socket(s);
    const got = await new Promise<string>((resolve) => {
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString('latin1')));
      s.on('close', () => resolve(text));
      s.on('error', () => resolve(text));
      s.write('GET /admin/secret HTTP/1.1\r\nHost: plain.demo\r\nConnection: close\r\n\r\n');
    });
    assert.match(got, /^HTTP\/1\.1 403 /);
    assert.ok(!seen.includes('/admin/secret'));
  });

  it('after the app answered an Upgrade with a plain 200, a request for /admin on that connection is still denied', async () => {
    const s = connect({ host: mesh.a.echoA.podIP, port: 8082 });
    mesh.tracker.socket(s);
    s.on('error', () => undefined);
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.write('GET /ws HTTP/1.1\r\nHost: plain.demo\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    for (let i = 0; i < 100 && !got.includes('\r\n\r\n'); i++) await new Promise((r) => setTimeout(r, 10));
    assert.match(got, /^HTTP\/1\.1 200 /, 'the app answered the Upgrade as a plain request');
    s.write('GET /admin/secret HTTP/1.1\r\nHost: plain.demo\r\nX-Payload: forged\r\n\r\n');
    await new Promise((r) => setTimeout(r, 300));
    s.destroy();
    assert.ok(!seen.includes('/admin/secret'), `the app served a denied path: ${JSON.stringify(seen)}`);
  });
});
