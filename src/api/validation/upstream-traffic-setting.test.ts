/** Tests for the UpstreamTrafficSetting validator: FSM's manifests pass, bad limits are refused with the field named. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveKindName } from '../kinds.js';
import { validateResource } from './index.js';
import { refusalLines } from './test-support.js';

const ctx = { source: '-', index: 1 };
const uts = (spec: unknown, ns = 'demo') => ({ apiVersion: 'policy.flomesh.io/v1alpha1', kind: 'UpstreamTrafficSetting', metadata: { name: 'u', namespace: ns }, spec });

const problems = (obj: unknown): string => refusalLines(obj, ctx).join('\n');

describe('UpstreamTrafficSetting', () => {
  it('kubectl names resolve', () => {
    for (const n of ['upstreamtrafficsetting', 'upstreamtrafficsettings', 'upstreamtrafficsettings.policy.flomesh.io']) assert.equal(resolveKindName(n)?.kind, 'UpstreamTrafficSetting');
  });

  it("FSM's demo manifests validate", () => {
    // circuit breaking demo
    validateResource(
      uts({
        host: 'fortio.demo.svc.cluster.local',
        connectionSettings: {
          tcp: { maxConnections: 100, connectTimeout: '5s' },
          http: {
            maxRequests: 100,
            maxRequestsPerConnection: 10,
            maxPendingRequests: 1024,
            maxRetries: 3,
            circuitBreaking: { statTimeWindow: '1m', minRequestAmount: 200, degradedTimeWindow: '1m', slowTimeThreshold: '5s', slowAmountThreshold: 100, slowRatioThreshold: 0.2, errorAmountThreshold: 100, errorRatioThreshold: 0.2, degradedStatusCode: 409, degradedResponseContent: 'Coming soon ...' },
          },
        },
      }),
      ctx,
    );
    // local rate limit demos
    validateResource(uts({ host: 'fortio.demo.svc.cluster.local', rateLimit: { local: { tcp: { connections: 1, unit: 'minute' } } } }), ctx);
    validateResource(uts({ host: 'fortio', rateLimit: { local: { http: { requests: 3, unit: 'minute', burst: 10, responseStatusCode: 429, responseHeadersToAdd: [{ name: 'hello', value: 'world' }] } } } }), ctx);
    validateResource(uts({ host: 'fortio.demo', httpRoutes: [{ path: '/echo', rateLimit: { local: { requests: 3, unit: 'minute' } } }] }), ctx);
    validateResource(uts({ host: 'fortio.demo', httpHeaders: [{ headers: [{ name: 'x-tenant', value: 'a' }], rateLimit: { local: { requests: 3, unit: 'minute' } } }] }), ctx);
  });

  it('refuses negative limits, unknown units, ratios over 1 and bad status codes, naming the field', () => {
    assert.match(problems(uts({ host: 'f', rateLimit: { local: { http: { requests: -1, unit: 'minute' } } } })), /spec\.rateLimit\.local\.http\.requests: -1 must not be negative/);
    assert.match(problems(uts({ host: 'f', rateLimit: { local: { tcp: { connections: 1, unit: 'day' } } } })), /spec\.rateLimit\.local\.tcp\.unit: unknown unit "day"; use "second", "minute", "hour"/);
    assert.match(problems(uts({ host: 'f', rateLimit: { local: { http: { requests: 1, unit: 'minute', responseStatusCode: 200 } } } })), /spec\.rateLimit\.local\.http\.responseStatusCode: 200 is out of range 400-599/);
    assert.match(problems(uts({ host: 'f', httpRoutes: [{ path: '/x', rateLimit: { local: { requests: 1.5, unit: 'second' } } }] })), /spec\.httpRoutes\[0\]\.rateLimit\.local\.requests/);
    assert.match(problems(uts({ host: 'f', httpRoutes: [{ path: '/x(' }] })), /spec\.httpRoutes\[0\]\.path: "\/x\(" is not a valid path regex/);
    const cb = (extra: object) => uts({ host: 'f', connectionSettings: { http: { circuitBreaking: { statTimeWindow: '1m', minRequestAmount: 1, degradedTimeWindow: '1m', ...extra } } } });
    assert.match(problems(cb({ errorRatioThreshold: 50 })), /spec\.connectionSettings\.http\.circuitBreaking\.errorRatioThreshold: 50 is over 1: the ratio is a fraction/);
    assert.match(problems(cb({ slowRatioThreshold: -0.1 })), /circuitBreaking\.slowRatioThreshold: -0\.1 must not be negative/);
    assert.match(problems(cb({ slowTimeThreshold: 'soon' })), /circuitBreaking\.slowTimeThreshold: "soon" is not a valid duration/);
    assert.match(problems(uts({ host: 'f', connectionSettings: { http: { circuitBreaking: { minRequestAmount: 1, degradedTimeWindow: '1m' } } } })), /circuitBreaking\.statTimeWindow/);
    assert.match(problems(uts({ host: 'f', connectionSettings: { tcp: { maxConnections: -5 } } })), /spec\.connectionSettings\.tcp\.maxConnections: -5 must not be negative/);
    assert.match(problems(uts({ host: 'f', connectionSettings: { http: { maxPendingReqs: 1 } } })), /spec\.connectionSettings\.http/);
  });

  it('refuses a host that is not a service of its own namespace', () => {
    assert.match(problems(uts({})), /spec\.host/);
    assert.match(problems(uts({ host: 'Fortio' })), /spec\.host: "Fortio" is not a service name/);
    assert.match(problems(uts({ host: 'fortio.other.svc.cluster.local' })), /spec\.host: .*is in namespace other; an UpstreamTrafficSetting applies to a service of its own namespace \(demo\)/);
    assert.match(problems(uts({ host: 'fortio.demo.example.com' })), /spec\.host/);
  });
});
