/**
 * The UpstreamTrafficSetting modules cost nothing without a setting: their factories return null,
 * so the runtime leaves them out of the chains. With one, each side gets only its own module.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from '../../api/types.js';
import { SidecarLog } from '../observability/log.js';
import { SidecarMetrics } from '../observability/metrics.js';
import { addresses, compileFor, NS, worldResources, type PodAddr } from '../test-support/world.js';
import { outboundCircuitBreaker } from './circuit-breaker.js';
import type { ModuleEnv } from './env.js';
import { inboundThrottleRoute, inboundThrottleService } from './throttle.js';

const a = addresses(250);
const setting: Resource = {
  apiVersion: 'policy.flomesh.io/v1alpha1',
  kind: 'UpstreamTrafficSetting',
  metadata: { name: 'echo', namespace: NS },
  spec: {
    host: 'echo',
    connectionSettings: { tcp: { maxConnections: 10 } },
    rateLimit: { local: { http: { requests: 10, unit: 'second' } } },
    httpRoutes: [{ path: '/x', rateLimit: { local: { requests: 1, unit: 'second' } } }],
  },
};

async function envFor(p: PodAddr, extra: Resource[]): Promise<ModuleEnv> {
  const { snapshot } = await compileFor([...worldResources(a), ...extra], p);
  return { snapshot, metrics: new SidecarMetrics({}), log: new SidecarLog('error') } as unknown as ModuleEnv;
}

describe('UpstreamTrafficSetting modules are elided without a setting', () => {
  it('no setting: all three factories return null', async () => {
    for (const p of [a.client, a.echoA]) {
      const env = await envFor(p, []);
      assert.equal(outboundCircuitBreaker(env), null);
      assert.equal(inboundThrottleService(env), null);
      assert.equal(inboundThrottleRoute(env), null);
    }
  });

  it("a setting: the client gets the breaker, the host's pods the throttles", async () => {
    const client = await envFor(a.client, [setting]);
    assert.equal(typeof outboundCircuitBreaker(client), 'function');
    assert.equal(inboundThrottleService(client), null);
    const server = await envFor(a.echoA, [setting]);
    assert.equal(typeof inboundThrottleService(server), 'function');
    assert.equal(typeof inboundThrottleRoute(server), 'function');
  });
});
