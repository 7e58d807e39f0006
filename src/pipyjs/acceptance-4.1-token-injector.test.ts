/** Reference §4.1: token-injector (seed 000) on the caller's outbound-http chain at priority 115. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SEED_000, seedPluginScript } from './test-support/scripts.js';
import { rawHeader, recordingApp, send, startWorld, type RecordingApp, type World } from './test-support/sidecar-harness.js';

describe('4.1 token-injector', () => {
  let world: World;
  let upstream: RecordingApp;
  const plugin = () => ({ name: 'token-injector', priority: 115, script: seedPluginScript(SEED_000, 'token-injector'), chain: 'outbound-http' as const, apps: ['curl'] });
  before(async () => {
    world = await startWorld();
    // the caller's sidecar forwards to httpbin's pod address (its sidecar); a recorder stands there
    upstream = await recordingApp(world.tracker, 'httpbin', world.pods.httpbin.podIP, 14001);
  });
  after(() => world?.close());

  test('4.1.1 config {AccessToken: T}: the upstream receives x-iam-token: T and serviceidentity', async () => {
    const { rt } = await world.runtime('curl', world.resources([plugin()], [{ plugin: 'token-injector', service: 'httpbin/httpbin', config: { AccessToken: 'T' } }]));
    assert.deepEqual(rt.snapshot.Chains['outbound-http'].slice(4, 7), ['modules/outbound-circuit-breaker.js', 'plugins/token-injector.js', 'modules/outbound-http-load-balancing.js']);
    const r = await send(rt, 'outbound', { path: '/headers', authority: 'httpbin.httpbin:14001' });
    assert.equal(r.status, 200);
    const got = upstream.requests.at(-1)!;
    assert.equal(got.headers['x-iam-token'], 'T');
    assert.equal(got.headers['serviceidentity'], 'curl.curl');
  });

  test('4.1.2 a client X-IAM-Token is overwritten with T (one header, the value T)', async () => {
    const { rt } = await world.runtime('curl', world.resources([plugin()], [{ plugin: 'token-injector', service: 'httpbin/httpbin', config: { AccessToken: 'T' } }]));
    await send(rt, 'outbound', { path: '/headers', authority: 'httpbin.httpbin:14001', headers: { 'X-IAM-Token': 'client' } });
    const got = upstream.requests.at(-1)!;
    const sent = got.rawHeaders.filter((_, i) => i % 2 === 0 && got.rawHeaders[i]!.toLowerCase() === 'x-iam-token');
    assert.equal(sent.length, 1);
    assert.equal(rawHeader(got, 'x-iam-token')!.value, 'T');
    // The spelling the client used (X-IAM-Token) is kept by the runtime's head model (headerNames);
    // see standalone.test.ts, where the whole path keeps raw names. The sidecar engine hands the
    // chain lower-case names only, so through the sidecar the name goes out lower-case.
  });

  test('4.1.3 no PluginConfig: forwarded unchanged, no x-iam-token', async () => {
    const { rt } = await world.runtime('curl', world.resources([plugin()], []));
    const r = await send(rt, 'outbound', { path: '/headers', authority: 'httpbin.httpbin:14001' });
    assert.equal(r.status, 200);
    assert.equal(upstream.requests.at(-1)!.headers['x-iam-token'], undefined);
  });

  test('4.1.4 a host with no route: 403 Access denied from the default module', async () => {
    const { rt } = await world.runtime('curl', world.resources([plugin()], [{ plugin: 'token-injector', service: 'httpbin/httpbin', config: { AccessToken: 'T' } }]));
    const before = upstream.requests.length;
    const r = await send(rt, 'outbound', { path: '/', authority: 'example.com' });
    assert.equal(r.status, 403);
    assert.match(r.body, /^Access denied/);
    assert.equal(upstream.requests.length, before);
  });

  test('__service.Plugins[name] is the same object on every request of one snapshot (caches key on it)', async () => {
    const probe = `((seen = []) => pipy({}).import({ __service: 'outbound-http-routing' }).pipeline()
      .handleMessageStart(m => (seen.push(__service?.Plugins?.['probe']), m.head.headers['x-same'] = String(seen[0] !== undefined && seen.every(s => s === seen[0])))).chain())()`;
    const { rt } = await world.runtime('curl', world.resources([{ name: 'probe', priority: 115, script: probe, chain: 'outbound-http', apps: ['curl'] }], [{ plugin: 'probe', service: 'httpbin/httpbin', config: { k: 1 } }]));
    for (let i = 0; i < 3; i++) await send(rt, 'outbound', { path: '/headers', authority: 'httpbin.httpbin:14001' });
    assert.equal(upstream.requests.at(-1)!.headers['x-same'], 'true');
  });
});
