/**
 * Reference §4.3: the seed 001 (osm-edge) token-verifier. It admits a request only when the
 * `accesstoken` header equals its PluginConfig's AccessToken; the seed's PluginConfig sets only
 * Verifier and Paths, so _accessToken is undefined and every request gets 403 `token verify
 * failed` (content-length 19). The seed's printed outputs (200, then 401 / 200) were copied from
 * the seed 000 variant and are wrong for this script; a faithful runtime prints 403.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SEED_001, seedPluginConfig, seedPluginScript } from './test-support/scripts.js';
import { recordingApp, send, startWorld, type RecordingApp, type World } from './test-support/sidecar-harness.js';

describe('4.3 token-verifier (seed 001)', () => {
  let world: World;
  let app: RecordingApp;
  const plugin = () => ({ name: 'token-verifier', priority: 115, script: seedPluginScript(SEED_001, 'token-verifier'), chain: 'inbound-http' as const, apps: ['httpbin'] });
  const inbound = (path: string, headers: Record<string, string> = {}, method = 'GET') => ({ method, path, authority: 'httpbin.httpbin:14001', headers, local: { address: world.pods.httpbin.podIP, port: 14001 } });
  const runtimeWith = async (config: unknown) =>
    (await world.runtime('httpbin', world.resources([plugin()], config === undefined ? [] : [{ plugin: 'token-verifier', service: 'httpbin/httpbin', config }]))).rt;

  before(async () => {
    world = await startWorld();
    app = await recordingApp(world.tracker, 'httpbin', world.pods.httpbin.app, 14001);
  });
  after(() => world?.close());

  const is403 = (r: { status: number; body: string; headers: Record<string, unknown> }): void => {
    assert.equal(r.status, 403);
    assert.equal(r.body, 'token verify failed');
    assert.equal(r.headers['content-length'], '19');
  };

  test('4.3.1 under the seed config every request is 403 token verify failed; the upstream is never contacted', async () => {
    const config = seedPluginConfig(SEED_001, 'token-verifier-config');
    assert.deepEqual(config, { Verifier: 'ext-auth.auth:8079', Paths: ['/get'] });
    const rt = await runtimeWith(config);
    const before = app.requests.length;
    for (const [path, method] of [['/get', 'GET'], ['/headers', 'GET'], ['/post', 'POST']] as const) is403(await send(rt, 'inbound', inbound(path, {}, method)));
    is403(await send(rt, 'inbound', inbound('/get', { 'x-iam-token': '2f1acc6c3a606b082e5eef5e54414ffb' })));
    assert.equal(app.requests.length, before);
  });

  test('4.3.2 in the chain with no PluginConfig at all: the same 403 (the seed prints 200 here)', async () => {
    is403(await send(await runtimeWith(undefined), 'inbound', inbound('/get')));
  });

  test('4.3.3 AccessToken s and header accesstoken: s (any case) passes; x-iam-token: s or a wrong value is 403', async () => {
    const rt = await runtimeWith({ AccessToken: 's' });
    assert.equal((await send(rt, 'inbound', inbound('/get', { AccessToken: 's' }))).status, 200);
    is403(await send(rt, 'inbound', inbound('/get', { 'x-iam-token': 's' })));
    is403(await send(rt, 'inbound', inbound('/get', { accesstoken: 'wrong' })));
  });
});
