/** The bench pair: both variants inject the same header through a real sidecar runtime. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pipyBenchmarkPlugin } from './index.js';
import { recordingApp, send, startWorld, type RecordingApp, type World } from './test-support/sidecar-harness.js';

let world: World;
let upstream: RecordingApp;
before(async () => {
  world = await startWorld();
  upstream = await recordingApp(world.tracker, 'httpbin', world.pods.httpbin.podIP, 14001);
});
after(() => world?.close());

test('pipyBenchmarkPlugin: the PipyJS and the native variant give the upstream the same x-iam-token', async () => {
  const pair = pipyBenchmarkPlugin();
  for (const variant of [pair.pipy, pair.native]) {
    const resources = world.resources([], [{ plugin: pair.name, service: 'httpbin/httpbin', config: pair.config }]);
    resources.push(variant);
    const base = world.resources([{ name: pair.name, priority: pair.priority, script: 'x', chain: 'outbound-http', apps: ['curl'] }], []);
    resources.push(...base.filter((r) => r.kind === 'PluginChain'));
    const { rt } = await world.runtime('curl', resources);
    await send(rt, 'outbound', { path: '/headers', authority: 'httpbin.httpbin:14001' });
    assert.equal(upstream.requests.at(-1)!.headers['x-iam-token'], pair.config.AccessToken);
  }
});
