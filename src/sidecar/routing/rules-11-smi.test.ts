/**
 * security-rules.md §11 rule 10 (SMI semantics) in the sidecar's own routing code: snapshots from the
 * real compiler, turned into RoutingTables by buildTables and looked up with findRoute exactly as the
 * inbound routing module does, on request-targets normalized by the engine's normalizer (rule 1).
 * (The compiler tests in src/snapshot/smi*.test.ts check the snapshot shape with a test model of
 * the matcher; these check the matcher the sidecar runs.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HttpMatch, TrafficTargetRule } from '../../api/smi-types.js';
import type { Resource } from '../../api/types.js';
import { buildCatalog, compileProxySnapshot, type ProxySnapshot } from '../../snapshot/index.js';
import { input, meshedNamespace, pod, service } from '../../snapshot/testdata/builders.js';
import { PERMISSIVE_OFF } from '../../snapshot/testdata/smi-seed.js';
import { normalizeTarget } from '../engine/normalize.js';
import type { HeaderMap } from '../http/types.js';
import { buildTables, findRoute, findServiceRule, parseAuthority } from './index.js';

const sa = (name: string, namespace = 'app') => ({ kind: 'ServiceAccount' as const, name, namespace });
function trafficTarget(name: string, sources: { name: string; namespace: string }[], rules: TrafficTargetRule[]): Resource {
  return { apiVersion: 'access.smi-spec.io/v1alpha3', kind: 'TrafficTarget', metadata: { name, namespace: 'app' }, spec: { destination: sa('web'), sources: sources.map((s) => sa(s.name, s.namespace)), rules } };
}
const routeGroup = (name: string, matches: HttpMatch[]): Resource => ({ apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', metadata: { name, namespace: 'app' }, spec: { matches } });
const tcpRoute = (name: string, ports?: number[]): Resource => ({ apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'TCPRoute', metadata: { name, namespace: 'app' }, spec: ports ? { matches: { ports } } : {} });

/**
 * web-1 (sa web) serves http on 80 and 9090 and tcp on 5432 and 5433; clients a-1 (sa a) and b-1
 * (sa b) in namespace app, and c-1 in namespace other whose service account is also named `a`.
 */
function world(...policies: Resource[]): Resource[] {
  return [
    PERMISSIVE_OFF,
    meshedNamespace('app'),
    meshedNamespace('other'),
    pod('app', 'web-1', { labels: { app: 'web' }, serviceAccount: 'web', ip: '10.0.0.10' }),
    pod('app', 'a-1', { labels: { app: 'a' }, serviceAccount: 'a', ip: '10.0.0.1' }),
    pod('app', 'b-1', { labels: { app: 'b' }, serviceAccount: 'b', ip: '10.0.0.2' }),
    pod('other', 'c-1', { labels: { app: 'c' }, serviceAccount: 'a', ip: '10.0.1.1' }),
    service('app', 'web', [{ name: 'http', port: 80 }, { name: 'http-admin', port: 9090 }], { app: 'web' }, '10.96.0.10'),
    service('app', 'db', [{ name: 'tcp-db', port: 5432 }, { name: 'tcp-replica', port: 5433 }], { app: 'web' }, '10.96.0.11'),
    ...policies,
  ];
}

function snapshot(resources: Resource[]): ProxySnapshot {
  const s = compileProxySnapshot(buildCatalog(input(resources)), { namespace: 'app', name: 'web-1' });
  assert.ok(s);
  return s;
}

/**
 * The inbound decision for an HTTP request on `port`, as modules/http-routing.ts makes it: the raw
 * target normalized by the engine, the service by Host, then the first route allowing `identity`
 * (`sa.ns` from the peer certificate; undefined for a plaintext peer).
 */
function allowed(s: ProxySnapshot, identity: string | undefined, method: string, rawTarget: string, headers: HeaderMap = {}, port = 80): boolean {
  const path = normalizeTarget(rawTarget);
  assert.equal(typeof path, 'string', `${rawTarget} should normalize`);
  const t = buildTables(s).inbound.get(port);
  if (!t) return false;
  const rule = findServiceRule(t, parseAuthority(`web.app:${port}`), port) ?? t.only;
  if (!rule) return false;
  const r = findRoute(rule, method, path as string, headers, identity);
  return r !== undefined && r !== 'denied';
}

const GROUP = routeGroup('g', [
  { name: 'api', pathRegex: '/api', methods: ['GET'] },
  { name: 'items', pathRegex: '/items/[0-9]+', methods: ['*'] },
  { name: 'canary', pathRegex: '/canary', headers: { 'X-Canary': 'true', 'User-Agent': '.*Firefox.*' } },
]);
const http = (name: string, matches?: string[]): TrafficTargetRule => ({ kind: 'HTTPRouteGroup', name, ...(matches ? { matches } : {}) });
const L7 = [GROUP, trafficTarget('a-all', [{ name: 'a', namespace: 'app' }], [http('g')]), trafficTarget('b-items', [{ name: 'b', namespace: 'app' }], [http('g', ['items'])])];

describe('rule 10: HTTPRouteGroup pathRegex is a full match on the normalized path', () => {
  const s = snapshot(world(...L7));
  it('the whole path must match: no prefix, suffix or substring', () => {
    assert.equal(allowed(s, 'a.app', 'GET', '/api'), true);
    for (const t of ['/api/x', '/apix', '/xapi', '/v1/api', '/api/', '/API']) assert.equal(allowed(s, 'a.app', 'GET', t), false, t);
    assert.equal(allowed(s, 'a.app', 'DELETE', '/items/42'), true);
    for (const t of ['/items/42/x', '/items/', '/items/4a', '/x/items/42']) assert.equal(allowed(s, 'a.app', 'DELETE', t), false, t);
  });
  it('the query and fragment are not part of the matched path', () => {
    for (const t of ['/api?x=1', '/api?x=/admin', '/api#frag', '/api?']) assert.equal(allowed(s, 'a.app', 'GET', t), true, t);
  });
  it('the match runs on the normalized path: other spellings of /api match, spellings of other paths do not', () => {
    for (const t of ['//api', '/%61pi', '/x/../api', '/./api', '/%2Fapi', '/\\api']) assert.equal(allowed(s, 'a.app', 'GET', t), true, t);
    for (const t of ['/api/../admin', '/api%2F..%2Fadmin', '/api/..;/admin']) assert.equal(allowed(s, 'a.app', 'GET', t), false, t);
  });
});

describe('rule 10: methods are exact or "*"; headers are ANDed full-match regexes', () => {
  const s = snapshot(world(...L7));
  it('methods: exact and case-sensitive; "*" is any method', () => {
    assert.equal(allowed(s, 'a.app', 'GET', '/api'), true);
    for (const m of ['POST', 'HEAD', 'get', 'GETX']) assert.equal(allowed(s, 'a.app', m, '/api'), false, m);
    for (const m of ['GET', 'POST', 'DELETE', 'PATCH']) assert.equal(allowed(s, 'a.app', m, '/items/1'), true, m);
  });
  it('headers: every header must be present and fully match its regex', () => {
    const ok = { 'x-canary': 'true', 'user-agent': 'Mozilla/5.0 Firefox/130' };
    assert.equal(allowed(s, 'a.app', 'GET', '/canary', ok), true);
    assert.equal(allowed(s, 'a.app', 'GET', '/canary', { 'x-canary': 'true' }), false, 'one header missing');
    assert.equal(allowed(s, 'a.app', 'GET', '/canary', { 'user-agent': ok['user-agent'] }), false, 'the other missing');
    assert.equal(allowed(s, 'a.app', 'GET', '/canary', { ...ok, 'x-canary': 'true-ish' }), false, 'full match, not a prefix');
    assert.equal(allowed(s, 'a.app', 'GET', '/canary', { ...ok, 'x-canary': 'not-true' }), false, 'full match, not a suffix');
    assert.equal(allowed(s, 'a.app', 'GET', '/canary', {}), false);
  });
});

describe('rule 10: permissive mode off means default deny; TrafficTargets only add', () => {
  it('no TrafficTarget: nobody reaches anything', () => {
    const s = snapshot(world(GROUP));
    for (const id of ['a.app', 'b.app', undefined]) for (const t of ['/api', '/items/1', '/']) assert.equal(allowed(s, id, 'GET', t), false, `${id} ${t}`);
  });
  it('each TrafficTarget adds its own grants: b gets only the matches it names, a everything in the group', () => {
    const s = snapshot(world(...L7));
    assert.equal(allowed(s, 'b.app', 'GET', '/items/1'), true);
    assert.equal(allowed(s, 'b.app', 'GET', '/api'), false);
    assert.equal(allowed(s, 'a.app', 'GET', '/items/1'), true);
    assert.equal(allowed(s, 'a.app', 'GET', '/api'), true);
  });
  it('a route that does not list the caller never hides a later one that does', () => {
    const s = snapshot(world(routeGroup('g', [{ name: 'one', pathRegex: '/x' }]), routeGroup('h', [{ name: 'two', pathRegex: '/x', methods: ['GET'] }]), trafficTarget('b-one', [{ name: 'b', namespace: 'app' }], [http('g')]), trafficTarget('a-two', [{ name: 'a', namespace: 'app' }], [http('h')])));
    assert.equal(allowed(s, 'a.app', 'GET', '/x'), true);
    assert.equal(allowed(s, 'b.app', 'POST', '/x'), true);
    assert.equal(allowed(s, 'a.app', 'POST', '/x'), false);
  });
  it('deleting a TrafficTarget revokes what it granted and nothing else', () => {
    const without = snapshot(world(GROUP, trafficTarget('a-all', [{ name: 'a', namespace: 'app' }], [http('g')])));
    assert.equal(allowed(without, 'b.app', 'GET', '/items/1'), false);
    assert.equal(allowed(without, 'a.app', 'GET', '/items/1'), true);
  });
});

describe('rule 10: the source is a ServiceAccount and its namespace, proven by mTLS', () => {
  const s = snapshot(world(...L7));
  it('the same service account name in another namespace gets nothing', () => {
    for (const t of ['/api', '/items/1']) assert.equal(allowed(s, 'a.other', 'GET', t), false, t);
  });
  it('a plaintext peer (no certificate identity) gets nothing', () => {
    for (const t of ['/api', '/items/1']) assert.equal(allowed(s, undefined, 'GET', t), false, t);
  });
  it('a client header claiming an identity is not an identity', () => {
    assert.equal(allowed(s, undefined, 'GET', '/api', { serviceidentity: 'a.app', 'x-forwarded-client-cert': 'URI=spiffe://cluster.local/ns/app/sa/a' }), false);
  });
});

describe('rule 10: TCPRoute ports: [] means all ports', () => {
  const tcpOnly = (ports?: number[]) => snapshot(world(tcpRoute('p', ports), trafficTarget('t', [{ name: 'a', namespace: 'app' }], [{ kind: 'TCPRoute', name: 'p' }])));
  it('every HTTP port of the destination lets the source in, on any path and method', () => {
    for (const ports of [[], undefined]) {
      const s = tcpOnly(ports);
      for (const port of [80, 9090]) {
        assert.equal(allowed(s, 'a.app', 'POST', '/anything/at/all', {}, port), true, `${JSON.stringify(ports)} ${port}`);
        assert.equal(allowed(s, 'b.app', 'GET', '/', {}, port), false, `${JSON.stringify(ports)} ${port}: b is no source`);
      }
    }
  });
  it('every TCP port of the destination lists the source', () => {
    for (const ports of [[], undefined]) {
      const tables = buildTables(tcpOnly(ports));
      for (const port of [5432, 5433]) {
        const rules = [...(tables.inbound.get(port)?.tcp.values() ?? [])];
        assert.equal(rules.length, 1, `${port}`);
        assert.deepEqual(rules[0]!.allowed, ['a.app'], `${JSON.stringify(ports)} ${port}`);
      }
    }
  });
  it('a listed port is only that port', () => {
    const s = tcpOnly([5432]);
    const tables = buildTables(s);
    assert.deepEqual([...tables.inbound.get(5432)!.tcp.values()][0]!.allowed, ['a.app']);
    assert.deepEqual([...tables.inbound.get(5433)!.tcp.values()][0]!.allowed, []);
    assert.equal(allowed(s, 'a.app', 'GET', '/', {}, 80), false);
  });
});
