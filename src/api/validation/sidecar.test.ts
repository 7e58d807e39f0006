/** Tests for the networking Sidecar validator: Istio's egress manifests, kubectl names, and exact messages for what is refused. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveKindName } from '../kinds.js';
import { validateResource } from './index.js';
import { refusalLines } from './test-support.js';

const ctx = { source: '-', index: 1 };
const sidecar = (spec: unknown, apiVersion = 'networking.istio.io/v1') => ({ apiVersion, kind: 'Sidecar', metadata: { name: 'default', namespace: 'prod' }, spec });
const problems = (obj: unknown): string => refusalLines(obj, ctx).join('\n');

describe('Sidecar', () => {
  it('kubectl names resolve', () => {
    for (const n of ['sidecar', 'sidecars', 'sidecars.networking.istio.io']) assert.equal(resolveKindName(n)?.kind, 'Sidecar');
  });

  it("Istio's egress examples validate under v1, v1beta1 and v1alpha3", () => {
    for (const v of ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3']) {
      validateResource(sidecar({ egress: [{ hosts: ['./*', 'istio-system/*'] }] }, v), ctx);
      validateResource(sidecar({ workloadSelector: { labels: { app: 'ratings' } }, egress: [{ hosts: ['prod-us1/*', '*/api.prod.svc.cluster.local', '*/*.example.com'] }] }, v), ctx);
      validateResource(sidecar({ egress: [{ hosts: ['~/*'] }] }, v), ctx);
      validateResource(sidecar({}, v), ctx);
    }
    assert.throws(() => validateResource(sidecar({}, 'networking.istio.io/v2'), ctx));
  });

  it('refuses a host that is not namespace/dnsName, naming the entry', () => {
    assert.match(problems(sidecar({ egress: [{ hosts: ['reviews'] }] })), /spec\.egress\[0\]\.hosts\[0\]: "reviews" must be "namespace\/dnsName"/);
    assert.match(problems(sidecar({ egress: [{ hosts: ['./'] }] })), /spec\.egress\[0\]\.hosts\[0\]: ".\/" must be "namespace\/dnsName"/);
    assert.match(problems(sidecar({ egress: [{ hosts: ['./*', 'Bad_NS/*'] }] })), /spec\.egress\[0\]\.hosts\[1\]: "Bad_NS\/\*": namespace "Bad_NS" must be "\*", "\.", "~" or a namespace name/);
    assert.match(problems(sidecar({ egress: [{ hosts: ['prod/a.*.svc'] }] })), /spec\.egress\[0\]\.hosts\[0\]: "prod\/a\.\*\.svc": "a\.\*\.svc" must be "\*", a DNS name, or a DNS name with "\*\." as its left-most label/);
    assert.match(problems(sidecar({ egress: [{ hosts: ['Prod/*'] }] })), /spec\.egress\[0\]\.hosts\[0\]: "Prod\/\*": namespace "Prod" must be/);
    assert.match(problems(sidecar({ egress: [{ hosts: [] }] })), /spec\.egress\[0\]\.hosts: must list at least one "namespace\/dnsName"/);
    assert.match(problems(sidecar({ egress: [{}] })), /spec\.egress\[0\]\.hosts/);
  });

  it('refuses what it would not honour, by name, rather than ignore it', () => {
    assert.match(problems(sidecar({ egress: [{ port: { number: 80, protocol: 'HTTP', name: 'http' }, hosts: ['./*'] }] })), /spec\.egress\[0\]\.port: is not supported: an egress listener scopes by host only/);
    assert.match(problems(sidecar({ ingress: [{ port: { number: 9080 } }] })), /spec\.ingress: is not supported/);
    assert.match(problems(sidecar({ outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } })), /spec\.outboundTrafficPolicy: is not supported: egress outside the mesh follows MeshConfig spec\.traffic\.enableEgress/);
    assert.match(problems(sidecar({ workloadSelector: { matchLabels: { app: 'x' } } })), /spec\.workloadSelector\.matchLabels/);
    assert.match(problems(sidecar({ egress: [{ hosts: ['./*'], bogus: 1 }] })), /spec\.egress\[0\]\.bogus/);
  });
});
