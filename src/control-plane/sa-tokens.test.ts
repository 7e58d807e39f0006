/**
 * ServiceAccount tokens at the delivery endpoint (a fake TokenReview API), the sidecar's token file,
 * and the mesh CA ConfigMap keeper (a fake API): pure rules and one TLS endpoint in process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod, Resource } from '../api/types.js';
import { MeshError } from '../lib/errors.js';
import { ensureClusterPki, issueServingCertificate } from '../local/pki/index.js';
import { proxyToken } from '../local/layout.js';
import { ControlPlaneChannel } from '../sidecar/config/control-plane-fetch.js';
import { CaRootConfigMapKeeper, caRootData } from './ca-root-configmaps.js';
import type { Controller } from './controller.js';
import { createDeliveryEndpoint } from './delivery.js';
import type { MeshIdentity } from './identity.js';
import type { ProxyRegistry } from './registry.js';
import { interpretReview, looksLikeJwt, ServiceAccountTokenReviewer, tokenPodMismatch, TOKEN_REVIEW_PATH, type ReviewApi } from './sa-tokens.js';

const KEY = 'ab'.repeat(32);
const UUID = '11111111-2222-3333-4444-555555555555';
const AUD = 'fsm-controller';

const jwt = (claims: Record<string, unknown>): string =>
  [{ alg: 'RS256' }, claims].map((o) => Buffer.from(JSON.stringify(o)).toString('base64url')).join('.') + '.c2lnbmF0dXJl';

const boundStatus = (over: Record<string, unknown> = {}) => ({
  authenticated: true,
  audiences: [AUD],
  user: {
    username: 'system:serviceaccount:demo:web',
    extra: { 'authentication.kubernetes.io/pod-name': ['web-1'], 'authentication.kubernetes.io/pod-uid': ['uid-1'] },
  },
  ...over,
});

const pod = (over: Partial<Pod['metadata']> = {}, sa = 'web'): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'demo', uid: 'uid-1', labels: { 'fsm-proxy-uuid': UUID }, ...over } as Pod['metadata'],
  spec: { serviceAccountName: sa, containers: [] },
});

test('interpretReview: authenticated, the audience, a ServiceAccount, bound to a pod; anything else refused with why', () => {
  const token = jwt({ exp: 2_000_000_000 });
  assert.deepEqual(interpretReview(boundStatus(), AUD, token), {
    authenticated: true, namespace: 'demo', serviceAccount: 'web', podName: 'web-1', podUid: 'uid-1', expiresAt: 2_000_000_000_000,
  });
  const no = (status: unknown): string => {
    const r = interpretReview(status as never, AUD, token);
    assert.equal(r.authenticated, false);
    return (r as { reason: string }).reason;
  };
  assert.match(no({ authenticated: false, error: 'token has been invalidated' }), /does not authenticate the token \(token has been invalidated\)/);
  assert.match(no(boundStatus({ audiences: ['https://kubernetes.default.svc'] })), /not for the audience fsm-controller/);
  assert.match(no(boundStatus({ user: { username: 'jane' } })), /not a ServiceAccount's/);
  assert.match(no(boundStatus({ user: { username: 'system:serviceaccount:demo:web' } })), /not bound to a pod/);
  assert.throws(() => interpretReview(undefined, AUD, token), /no status/);
  assert.equal(looksLikeJwt(token), true);
  assert.equal(looksLikeJwt(proxyToken(KEY, UUID)), false, 'a proxy token is not mistaken for a JWT');
});

test('tokenPodMismatch: the token\'s pod must be the proxy\'s, by UID, with its ServiceAccount', () => {
  const review = interpretReview(boundStatus(), AUD, jwt({})) as Parameters<typeof tokenPodMismatch>[0];
  assert.equal(tokenPodMismatch(review, UUID, pod()), undefined);
  assert.match(tokenPodMismatch(review, UUID, pod({ uid: 'uid-2' }))!, /bound to pod demo\/web-1 \(uid uid-1\), not to pod demo\/web-1 \(uid uid-2\), which carries proxy/);
  assert.match(tokenPodMismatch(review, UUID, pod({ name: 'other' }))!, /not to pod demo\/other/);
  assert.match(tokenPodMismatch(review, UUID, pod({}, 'admin'))!, /runs as ServiceAccount admin/);
});

test('the reviewer: asks with the audience, caches a success until min(exp, 60 s), a refusal 10 s, never an error', async () => {
  let now = 1_000_000;
  const calls: unknown[] = [];
  let answer: () => Promise<unknown> = async () => ({ status: boundStatus() });
  const api: ReviewApi = { request: async (method, path, o) => { calls.push([method, path, o?.body]); return answer() as never; } };
  const reviewer = new ServiceAccountTokenReviewer({ api, audience: AUD, now: () => now });
  const short = jwt({ exp: (now + 20_000) / 1000 });
  assert.equal((await reviewer.review(short)).authenticated, true);
  assert.deepEqual(calls[0], ['POST', TOKEN_REVIEW_PATH, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: short, audiences: [AUD] } }]);
  await reviewer.review(short);
  assert.equal(calls.length, 1, 'cached');
  now += 21_000;
  await reviewer.review(short);
  assert.equal(calls.length, 2, 'not past the token\'s exp');
  const long = jwt({ exp: (now + 3_600_000) / 1000 });
  await reviewer.review(long);
  now += 59_000;
  await reviewer.review(long);
  assert.equal(calls.length, 3);
  now += 2_000;
  await reviewer.review(long);
  assert.equal(calls.length, 4, 'at most 60 s');
  answer = async () => { throw new MeshError('MESH_ERR_FORBIDDEN', 'tokenreviews is forbidden'); };
  const other = jwt({ sub: 'x' });
  await assert.rejects(reviewer.review(other), /cannot review the ServiceAccount token with the API server .*tokenreviews is forbidden/);
  answer = async () => ({ status: { authenticated: false } });
  assert.equal((await reviewer.review(other)).authenticated, false, 'the error was not cached');
  await reviewer.review(other);
  assert.equal(calls.length, 6, 'the refusal is cached');
  assert.ok(!JSON.stringify(calls.slice(4)).includes('undefined'));
});

test('the delivery endpoint takes a bound ServiceAccount token for its own pod\'s proxy only; a token file is re-read on every call', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-sa-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await ensureClusterPki(dir, 'mesh', ['127.0.0.1']);
  const files = await issueServingCertificate(dir, 'controller', ['127.0.0.1']);
  const tls = { cert: readFileSync(files.certFile, 'utf8'), key: readFileSync(files.keyFile, 'utf8') };
  const ca = readFileSync(files.caFile, 'utf8');

  // the API server: knows two tokens, bound to web-1 (uid-1) and to other-1 (uid-9)
  const good = jwt({ sub: 'web', exp: Math.floor(Date.now() / 1000) + 3600 });
  const otherPods = jwt({ sub: 'other', exp: Math.floor(Date.now() / 1000) + 3600 });
  const api: ReviewApi = {
    request: async (_m, _p, o) => {
      const token = (o?.body as { spec: { token: string } }).spec.token;
      if (token === good) return { status: boundStatus() } as never;
      if (token === otherPods) {
        return { status: boundStatus({ user: { username: 'system:serviceaccount:demo:other', extra: { 'authentication.kubernetes.io/pod-name': ['other-1'], 'authentication.kubernetes.io/pod-uid': ['uid-9'] } } }) } as never;
      }
      return { status: { authenticated: false, error: 'invalid bearer token' } } as never;
    },
  };
  const warnings: string[] = [];
  const controller = { ready: true, proxyPod: () => ({ namespace: 'demo', name: 'web-1' }), proxyPodObject: () => pod(), snapshotFor: () => undefined } as unknown as Controller;
  const endpoint = createDeliveryEndpoint({
    controller, registry: {} as ProxyRegistry, meshKey: KEY, identity: () => undefined as MeshIdentity | undefined,
    serviceAccounts: new ServiceAccountTokenReviewer({ api, audience: AUD }),
    log: { info: () => undefined, warn: (msg, f) => void warnings.push(`${msg} ${JSON.stringify(f)}`) },
  }, tls);
  t.after(() => endpoint.closeAll());
  await new Promise<void>((r) => endpoint.server.listen(0, '127.0.0.1', r));
  t.after(() => endpoint.server.close());
  const url = `https://127.0.0.1:${(endpoint.server.address() as AddressInfo).port}`;

  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${good}\n`);
  const channel = new ControlPlaneChannel({ controllerUrl: url, uuid: UUID, token: '', tokenFile, caPem: ca });
  assert.equal((await channel.fetch(`/v1/proxies/${UUID}/config`)).status, 503, 'accepted: the stub has no snapshot yet');
  channel.renewToken(proxyToken(KEY, UUID));
  assert.equal(channel.currentToken(), good, 'a token file is not replaced by the controller\'s token events');
  assert.equal(channel.tokenExpired(), false);

  writeFileSync(tokenFile, otherPods);
  const foreign = await channel.fetch(`/v1/proxies/${UUID}/config`);
  assert.equal(foreign.status, 403, 'the rotated file is read: another pod\'s token cannot speak for this proxy');
  assert.match(await foreign.text(), /bound to pod demo\/other-1 \(uid uid-9\), not to pod demo\/web-1/);

  writeFileSync(tokenFile, jwt({ sub: 'forged' }));
  const forged = await channel.fetch(`/v1/proxies/${UUID}/config`);
  assert.equal(forged.status, 401);
  assert.match(await forged.text(), /invalid ServiceAccount token: the API server does not authenticate the token/);

  rmSync(tokenFile);
  await assert.rejects(channel.fetch(`/v1/proxies/${UUID}/config`), new RegExp(`cannot read the ServiceAccount token file ${tokenFile} \\(TESSERA_PROXY_TOKEN_FILE\\): ENOENT`));
  assert.ok(warnings.every((w) => !w.includes(good) && !w.includes(otherPods)), 'no token in the logs');

  // proxy tokens still work beside ServiceAccount tokens
  const proxy = new ControlPlaneChannel({ controllerUrl: url, uuid: UUID, token: proxyToken(KEY, UUID), caPem: ca });
  assert.equal((await proxy.fetch(`/v1/proxies/${UUID}/config`)).status, 503);
  assert.throws(() => new ControlPlaneChannel({ controllerUrl: url, uuid: UUID, token: '', caPem: ca }), /set TESSERA_PROXY_TOKEN or TESSERA_PROXY_TOKEN_FILE/);
});

test('the CA ConfigMap keeper: applied in monitored namespaces, rewritten on a CA change, deleted when a namespace leaves, only when leading', async () => {
  const calls: string[] = [];
  let refuse = false;
  const api = {
    request: async <T>(method: string, path: string, o?: { body?: unknown; contentType?: string; query?: Record<string, string> }): Promise<T> => {
      calls.push(`${method} ${path}${o?.contentType ? ` ${o.contentType}` : ''}${o?.query ? ` ${new URLSearchParams(o.query)}` : ''}`);
      if (method === 'PATCH' && refuse) throw new MeshError('MESH_ERR_CONFLICT', 'Apply failed with 1 conflict: conflict with "someone": .data.ca.crt');
      return (method === 'PATCH' ? o!.body : {}) as T;
    },
  };
  let roots = ['-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----'];
  const keeper = new CaRootConfigMapKeeper({ api, meshName: 'fsm', roots: () => roots, log: { info: () => undefined, warn: () => undefined } });
  const ns = (name: string, labels: Record<string, string> = {}): Resource => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  keeper.canWrite = () => false;
  keeper.sync([ns('demo', { 'flomesh.io/monitored-by': 'fsm' }), ns('plain'), ns('elsewhere', { 'flomesh.io/monitored-by': 'other' })]);
  await keeper.reconcile();
  assert.deepEqual(calls, [], 'a follower writes nothing');
  keeper.canWrite = () => true;
  await keeper.reconcile();
  assert.deepEqual(calls, ['PATCH /api/v1/namespaces/demo/configmaps/fsm-ca-root-cert application/apply-patch+yaml fieldManager=fsm-controller&force=true']);
  await keeper.reconcile();
  assert.equal(calls.length, 1, 'unchanged: nothing written');
  roots = [...roots, '-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n'];
  await keeper.reconcile();
  assert.equal(calls.length, 2, 'a new root: rewritten');
  assert.equal(caRootData(roots), '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n');
  keeper.change('MODIFIED', ns('demo'));
  await keeper.reconcile();
  assert.equal(calls.at(-1), 'DELETE /api/v1/namespaces/demo/configmaps/fsm-ca-root-cert', 'the namespace left the mesh');
  keeper.change('ADDED', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fsm-ca-root-cert', namespace: 'plain' } });
  await keeper.reconcile();
  assert.equal(calls.length, 3, 'a ConfigMap of that name the controller did not label is left alone');
  refuse = true;
  const before = calls.length;
  keeper.change('MODIFIED', ns('demo', { 'flomesh.io/monitored-by': 'fsm' }));
  await keeper.reconcile();
  await keeper.reconcile();
  const refused = (calls as string[]).slice(before);
  assert.ok(refused.length >= 2 && refused.every((c) => c.startsWith('PATCH /api/v1/namespaces/demo/')), `a refused write is tried again at the next reconcile: ${refused.join(', ')}`);
  refuse = false;
  await keeper.reconcile();
  const written = calls.length;
  assert.equal(calls.at(-1), refused[0]);
  await keeper.reconcile();
  assert.equal(calls.length, written, 'written: nothing more to do');
});
