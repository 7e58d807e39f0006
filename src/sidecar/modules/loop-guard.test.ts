/** The loop guard: own marker or own listener → 508; other markers and pod addresses pass; inbound strips. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestContext } from '../chain/context.js';
import { EMPTY_BODY } from '../http/body.js';
import type { HeaderMap } from '../http/types.js';
import { HOP_HEADER, MAX_HOPS, markHop, newHopMarker, refuseReturningRequest, refuseSelfDestination, stripHops, type SidecarSelf } from './loop-guard.js';

const self: SidecarSelf = { hopMarker: newHopMarker(), outboundListeners: new Set(['127.0.0.1:15001']) };

function ctx(authority: string, headers: HeaderMap = {}): RequestContext {
  return new RequestContext('outbound', 'outbound-http', { method: 'GET', path: '/', authority, headers: { host: authority, ...headers }, httpVersion: '1.1', body: EMPTY_BODY }, { address: '127.0.0.1', port: 40000, identity: undefined }, { address: '127.0.0.1', port: 15001 }, false);
}

test('markers are random per process', () => {
  assert.match(self.hopMarker, /^[0-9a-f]{32}$/);
  assert.notEqual(newHopMarker(), self.hopMarker);
});

test('a request carrying this sidecar’s marker is refused with 508 and a reason', () => {
  const c = ctx('127.0.0.1:15001', { [HOP_HEADER]: `aaaa, ${self.hopMarker}` });
  c.cluster = { name: 'egress|127.0.0.1:15001', endpoints: ['127.0.0.1:15001'], egress: true };
  assert.equal(refuseReturningRequest(c, self), true);
  assert.equal(c.cluster, undefined, 'nothing left to forward to');
  assert.equal(c.denial?.response.status, 508);
  assert.match(String(c.denial?.response.headers['x-tessera-reason']), /^loop detected: the request to 127\.0\.0\.1:15001 came back/);
});

test('other sidecars’ markers (and a client’s made-up one) pass, and this one is appended', () => {
  const c = ctx('httpbin.httpbin:14001', { [HOP_HEADER]: 'not-a-marker' });
  assert.equal(refuseReturningRequest(c, self), false);
  markHop(c.request.headers, self);
  assert.equal(c.request.headers[HOP_HEADER], `not-a-marker, ${self.hopMarker}`);
  const tooMany = ctx('x:80', { [HOP_HEADER]: Array.from({ length: MAX_HOPS }, (_, i) => `m${i}`).join(',') });
  assert.equal(refuseReturningRequest(tooMany, self), true);
  assert.equal(tooMany.denial?.response.status, 508);
});

test('the destination: only an egress endpoint that is an outbound listener is a loop', () => {
  const loop = ctx('127.0.0.1:15001');
  assert.equal(refuseSelfDestination(loop, { name: 'egress|127.0.0.1:15001', endpoints: ['127.0.0.1:15001'], egress: true }, self), true);
  assert.match(String(loop.denial?.reason), /own outbound listener \(127\.0\.0\.1:15001\)/);
  // the pod's own address (transparent mode delivers it as the original destination): its inbound, not a loop
  const ownPod = ctx('10.244.0.5:14001');
  assert.equal(refuseSelfDestination(ownPod, { name: 'egress|10.244.0.5:14001', endpoints: ['10.244.0.5:14001'], egress: true }, self), false);
  const mesh = ctx('httpbin.httpbin:14001');
  assert.equal(refuseSelfDestination(mesh, { name: 'httpbin/httpbin|14001', endpoints: ['127.0.0.1:15001'], egress: false }, self), false);
  assert.equal(ownPod.denial, undefined);
});

test('inbound strips markers before the app', () => {
  const h: HeaderMap = { [HOP_HEADER]: self.hopMarker, accept: '*/*' };
  stripHops(h);
  assert.deepEqual(h, { accept: '*/*' });
});
