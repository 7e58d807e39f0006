/** Compiler tests for UpstreamTrafficSetting: the client's outbound cluster gets the connection settings, the host's inbound the rate limits. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from '../api/types.js';
import { buildCatalog, compileProxySnapshot } from './index.js';
import type { ProxySnapshot } from './index.js';
import { input, meshedNamespace, namespace, pod, service } from './testdata/builders.js';

const uts = (ns: string, name: string, spec: Record<string, unknown>): Resource => ({ apiVersion: 'policy.flomesh.io/v1alpha1', kind: 'UpstreamTrafficSetting', metadata: { name, namespace: ns }, spec });

function snapshots(extra: Resource[]): { curl: ProxySnapshot; httpbin: ProxySnapshot } {
  const resources = [
    namespace('fsm-system'),
    meshedNamespace('default'),
    pod('default', 'curl-1', { labels: { app: 'curl' }, serviceAccount: 'curl', ip: '10.0.0.10' }),
    pod('default', 'httpbin-1', { labels: { app: 'httpbin' }, serviceAccount: 'httpbin', ip: '10.0.0.11' }),
    service('default', 'httpbin', [{ name: 'http', port: 14001, targetPort: 14001, protocol: 'TCP' }], { app: 'httpbin' }),
    service('default', 'db', [{ name: 'tcp-db', port: 5432, targetPort: 5432, protocol: 'TCP', appProtocol: 'tcp' }], { app: 'httpbin' }),
    ...extra,
  ];
  const catalog = buildCatalog(input(resources));
  const curl = compileProxySnapshot(catalog, { namespace: 'default', name: 'curl-1' });
  const httpbin = compileProxySnapshot(catalog, { namespace: 'default', name: 'httpbin-1' });
  assert.ok(curl && httpbin);
  return { curl, httpbin };
}

const cluster = (s: ProxySnapshot) => s.Outbound.ClustersConfigs['default/httpbin|14001'];

describe('UpstreamTrafficSetting in the snapshot', () => {
  it('no setting: nothing added on either side', () => {
    const { curl, httpbin } = snapshots([]);
    assert.ok(cluster(curl), Object.keys(curl.Outbound.ClustersConfigs).join(','));
    assert.equal(cluster(curl)!.ConnectionSettings, undefined);
    const rule = httpbin.Inbound.TrafficMatches['14001']!.HttpServiceRouteRules!['httpbin.default']!;
    assert.equal(rule.RateLimit, undefined);
    assert.equal(rule.RouteRateLimits, undefined);
  });

  it("connection settings go on the clients' cluster, in seconds, with FSM's config.json names", () => {
    const { curl } = snapshots([
      uts('default', 'cb', {
        host: 'httpbin.default.svc.cluster.local',
        connectionSettings: {
          tcp: { maxConnections: 1, connectTimeout: '2s' },
          http: {
            maxPendingRequests: 3,
            circuitBreaking: { statTimeWindow: '1m', minRequestAmount: 10, degradedTimeWindow: '500ms', errorRatioThreshold: 0.5, degradedStatusCode: 503 },
          },
        },
      }),
    ]);
    assert.deepEqual(cluster(curl)!.ConnectionSettings, {
      Policy: 'default/cb',
      tcp: { MaxConnections: 1, ConnectTimeout: 2 },
      http: {
        MaxPendingRequests: 3,
        CircuitBreaking: { StatTimeWindow: 60, MinRequestAmount: 10, DegradedTimeWindow: 0.5, ErrorRatioThreshold: 0.5, DegradedStatusCode: 503 },
      },
    });
  });

  it("rate limits go on the host's inbound: service, per route, per header; TCP on the port's match", () => {
    const { curl, httpbin } = snapshots([
      uts('default', 'rl', {
        host: 'httpbin',
        rateLimit: { local: { http: { requests: 3, unit: 'minute', responseStatusCode: 503, responseHeadersToAdd: [{ name: 'x-limit', value: 'yes' }] } } },
        httpRoutes: [{ path: '/headers', rateLimit: { local: { requests: 1, unit: 'hour', burst: 2 } } }],
        httpHeaders: [{ headers: [{ name: 'X-Tenant', value: 'a' }], rateLimit: { local: { requests: 5, unit: 'second' } } }],
      }),
      uts('default', 'db', { host: 'db.default', rateLimit: { local: { tcp: { connections: 2, unit: 'second', burst: 1 } } } }),
    ]);
    const rule = httpbin.Inbound.TrafficMatches['14001']!.HttpServiceRouteRules!['httpbin.default']!;
    assert.deepEqual(rule.RateLimit, { Local: { Requests: 3, StatTimeWindow: 60, ResponseStatusCode: 503, ResponseHeadersToAdd: [{ Name: 'x-limit', Value: 'yes' }] } });
    assert.deepEqual(rule.RouteRateLimits, [{ Path: '/headers', RateLimit: { Local: { Requests: 1, StatTimeWindow: 3600, Burst: 2 } } }]);
    assert.deepEqual(rule.HeaderRateLimits, [{ Headers: { 'x-tenant': 'a' }, RateLimit: { Local: { Requests: 5, StatTimeWindow: 1 } } }]);
    assert.deepEqual(httpbin.Inbound.TrafficMatches['5432']!.RateLimit, { Local: { Connections: 2, StatTimeWindow: 1, Burst: 1 } });
    // the client side is untouched by rate limits
    assert.equal(cluster(curl)!.ConnectionSettings, undefined);
    assert.equal(curl.Outbound.TrafficMatches['14001']![0]!.HttpServiceRouteRules!['httpbin.default']!.RateLimit, undefined);
  });

  it('a setting in another namespace than its host is ignored; two for one host: the first by name wins', () => {
    const { httpbin } = snapshots([
      uts('other', 'x', { host: 'httpbin.default', rateLimit: { local: { http: { requests: 1, unit: 'second' } } } }),
      uts('default', 'b', { host: 'httpbin', rateLimit: { local: { http: { requests: 2, unit: 'second' } } } }),
      uts('default', 'a', { host: 'httpbin.default', rateLimit: { local: { http: { requests: 3, unit: 'second' } } } }),
    ]);
    const rule = httpbin.Inbound.TrafficMatches['14001']!.HttpServiceRouteRules!['httpbin.default']!;
    assert.equal(rule.RateLimit?.Local.Requests, 3);
  });
});
