/** External authorizer client tests: the check request's shape, 2xx allows, anything else / timeout / no endpoints denies (security-rules.md §1 CUSTOM). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InboundExtAuthz } from '../../snapshot/types.js';
import type { RequestHead } from '../http/types.js';
import type { RoutingTables } from '../routing/tables.js';
import type { UpstreamClient } from '../upstream/client.js';
import { askExtAuthz, checkHeaders } from './ext-authz.js';

const provider = (over: Partial<InboundExtAuthz> = {}): InboundExtAuthz => ({ Name: 'ext', Service: 'ext-authz', Port: 9000, TimeoutMs: 2000, PathPrefix: '', HeadersToUpstreamOnAllow: [], ...over });
const request = (headers: RequestHead['headers'] = {}): RequestHead => ({ method: 'POST', path: '/todos/1?x=1', authority: 'todos.default:14001', headers, httpVersion: '1.1' });

/** Tables that resolve `ext-authz` (in namespace default) on 9000 to one endpoint; no cluster, so no mTLS. */
const tables = { namespace: 'default', dns: new Map([['ext-authz.default.svc.cluster.local', new Map([[9000, ['10.0.0.7:9000']]])]]), serviceIPs: new Map(), clusters: new Map() } as unknown as RoutingTables;

function target(answer: (endpoint: string, head: RequestHead) => Promise<{ status: number; headers?: Record<string, string> }>) {
  const seen: { endpoint: string; head: RequestHead }[] = [];
  const upstream = {
    request: async (endpoint: string, head: RequestHead) => {
      seen.push({ endpoint, head });
      const r = await answer(endpoint, head);
      return { status: r.status, headers: r.headers ?? {}, body: { bytes: async () => Buffer.alloc(0) } };
    },
  } as unknown as UpstreamClient;
  return { seen, target: { tables, upstream, mtls: true } };
}

describe('checkHeaders', () => {
  it('default: authorization, cookie and x-* with every value; x-forwarded-for is the socket peer', () => {
    const h = checkHeaders(provider(), request({ authorization: 'Bearer t', cookie: 'a=b', 'x-ext-token': ['ok', 'two'], 'x-forwarded-for': '6.6.6.6', accept: '*/*', 'content-length': '5', 'transfer-encoding': 'chunked' }), '10.0.0.5');
    assert.deepEqual(h, { authorization: 'Bearer t', cookie: 'a=b', 'x-ext-token': ['ok', 'two'], 'x-forwarded-for': '10.0.0.5', host: 'ext-authz:9000', 'content-length': '0' });
  });
  it('includeRequestHeadersInCheck replaces the default set', () => {
    const h = checkHeaders(provider({ IncludeRequestHeaders: ['accept'] }), request({ authorization: 'Bearer t', accept: '*/*' }), '10.0.0.5');
    assert.deepEqual(Object.keys(h).sort(), ['accept', 'content-length', 'host', 'x-forwarded-for']);
  });
});

describe('askExtAuthz', () => {
  it('2xx allows and returns only the listed headers; the request keeps its method and gets the path prefix', async () => {
    const t = target(async () => ({ status: 200, headers: { 'X-User': 'alice', 'x-other': 'no' } }));
    const v = await askExtAuthz(provider({ PathPrefix: '/check', HeadersToUpstreamOnAllow: ['x-user'] }), request({ 'x-ext-token': 'ok' }), '10.0.0.5', t.target);
    assert.deepEqual(v, { allow: true, headers: { 'x-user': 'alice' } });
    assert.equal(t.seen[0]!.endpoint, '10.0.0.7:9000');
    assert.deepEqual([t.seen[0]!.head.method, t.seen[0]!.head.path], ['POST', '/check/todos/1?x=1']);
  });
  it('any other status denies', async () => {
    for (const status of [401, 403, 500, 302]) {
      const v = await askExtAuthz(provider(), request(), '10.0.0.5', target(async () => ({ status })).target);
      assert.deepEqual(v, { allow: false, reason: `provider ext answered ${status}` });
    }
  });
  it('a timeout, an error or no endpoints deny', async () => {
    const slow = await askExtAuthz(provider({ TimeoutMs: 30 }), request(), '10.0.0.5', target(() => new Promise(() => undefined)).target);
    assert.deepEqual(slow, { allow: false, reason: 'provider ext at ext-authz:9000: timed out after 30 ms' });
    const broken = await askExtAuthz(provider(), request(), '10.0.0.5', target(async () => { throw new Error('connect ECONNREFUSED'); }).target);
    assert.deepEqual(broken, { allow: false, reason: 'provider ext at ext-authz:9000: connect ECONNREFUSED' });
    const gone = await askExtAuthz(provider({ Service: 'missing' }), request(), '10.0.0.5', target(async () => ({ status: 200 })).target);
    assert.deepEqual(gone, { allow: false, reason: 'provider ext: missing:9000 has no endpoints' });
  });
});
