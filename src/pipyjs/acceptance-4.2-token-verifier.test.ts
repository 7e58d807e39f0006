/**
 * Reference §4.2: token-verifier (seed 000) on httpbin's inbound-http chain at 115, with the seed's
 * ext-auth script running standalone as the verifier. Tessera pins the wait policy: the wait is
 * re-checked after the fork's callback sets _authSuccess (Pipy 1.5.14 would hang here, §4.2.7).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runStandalone, type Standalone } from './index.js';
import { SEED_000, deploymentPipyScript, seedPluginConfig, seedPluginScript } from './test-support/scripts.js';
import { recordingApp, send, startWorld, type RecordingApp, type World } from './test-support/sidecar-harness.js';

const TOKEN = '2f1acc6c3a606b082e5eef5e54414ffb';

describe('4.2 token-verifier (seed 000)', () => {
  let world: World;
  let app: RecordingApp;
  let extAuth: Standalone;
  let recorder: RecordingApp;
  const verified: string[] = [];
  const plugin = () => ({ name: 'token-verifier', priority: 115, script: seedPluginScript(SEED_000, 'token-verifier'), chain: 'inbound-http' as const, apps: ['httpbin'] });
  const inbound = (path: string, headers: Record<string, string> = {}, method = 'GET', body?: string) =>
    ({ method, path, authority: 'httpbin.httpbin:14001', headers, local: { address: world.pods.httpbin.podIP, port: 14001 }, ...(body ? { body } : {}) });
  const runtimeWith = async (config: unknown) =>
    (await world.runtime('httpbin', world.resources([plugin()], config === undefined ? [] : [{ plugin: 'token-verifier', service: 'httpbin/httpbin', config }]))).rt;

  before(async () => {
    world = await startWorld();
    app = await recordingApp(world.tracker, 'httpbin', world.pods.httpbin.app, 14001);
    extAuth = await runStandalone(deploymentPipyScript({ seed: SEED_000 }, 'ext-auth'), {
      file: 'ext-auth.js',
      bindHost: world.pods.extAuth.podIP,
      access: (line) => void verified.push(line),
      log: () => undefined,
    });
    // a verifier that records the clone it receives and says no
    recorder = await recordingApp(world.tracker, 'verifier', world.pods.extAuth.podIP, 8078, () => ({ status: 401 }));
  });
  after(async () => {
    await extAuth?.close();
    await world?.close();
  });

  test('the seed config, as the seed writes it', () => {
    assert.deepEqual(seedPluginConfig(SEED_000, 'token-verifier-config'), { Verifier: 'ext-auth.auth:8079', Paths: ['/get'] });
  });

  test('4.2.1 /headers is forwarded and the verifier is not contacted', async () => {
    const rt = await runtimeWith(seedPluginConfig(SEED_000, 'token-verifier-config'));
    const before = verified.length;
    const r = await send(rt, 'inbound', inbound('/headers'));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'app httpbin');
    assert.equal(verified.length, before);
  });

  test('4.2.2 /get without a token: 401 Unauthorized!, content-length 13 (verifier ext-auth.auth:8079 resolved like cluster DNS)', async () => {
    const rt = await runtimeWith(seedPluginConfig(SEED_000, 'token-verifier-config'));
    const before = verified.length;
    const r = await send(rt, 'inbound', inbound('/get'));
    assert.equal(r.status, 401);
    assert.equal(r.body, 'Unauthorized!');
    assert.equal(r.headers['content-length'], '13');
    assert.equal(verified.length, before + 1);
    assert.match(verified.at(-1)!, /"GET \/get HTTP\/1.1" 401 0/);
  });

  test('4.2.2 the verifier receives a clone of the request: method, path, headers and body', async () => {
    const rt = await runtimeWith({ Verifier: `${world.pods.extAuth.podIP}:8078`, Paths: ['/get'] });
    const r = await send(rt, 'inbound', inbound('/get?q=1', { 'x-custom': 'yes' }, 'POST', 'the-body'));
    assert.equal(r.status, 401);
    const clone = recorder.requests.at(-1)!;
    assert.equal(clone.method, 'POST');
    assert.equal(clone.path, '/get?q=1');
    assert.equal(clone.headers['x-custom'], 'yes');
    assert.equal(clone.headers['host'], 'httpbin.httpbin:14001');
    assert.equal(clone.body, 'the-body');
  });

  test('4.2.3 /get with the valid token: the upstream answers 200', async () => {
    const rt = await runtimeWith(seedPluginConfig(SEED_000, 'token-verifier-config'));
    const r = await send(rt, 'inbound', inbound('/get', { 'x-iam-token': TOKEN }));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'app httpbin');
    assert.equal(app.requests.at(-1)!.headers['x-iam-token'], TOKEN);
  });

  test('4.2.4 URLRouter matching: /get?x=1 authenticated, /get/ not', async () => {
    const rt = await runtimeWith(seedPluginConfig(SEED_000, 'token-verifier-config'));
    assert.equal((await send(rt, 'inbound', inbound('/get?x=1'))).status, 401);
    assert.equal((await send(rt, 'inbound', inbound('/get/'))).status, 200);
  });

  test('4.2.4 Paths [/api/*]: /api and /api/v1/x authenticated, /apix not', async () => {
    const rt = await runtimeWith({ Verifier: 'ext-auth.auth:8079', Paths: ['/api/*'] });
    assert.equal((await send(rt, 'inbound', inbound('/api'))).status, 401);
    assert.equal((await send(rt, 'inbound', inbound('/api/v1/x'))).status, 401);
    assert.equal((await send(rt, 'inbound', inbound('/apix'))).status, 200);
  });

  test('4.2.5 verifier unreachable: synthetic 502 in the fork, so 401 even with a valid token', async () => {
    const rt = await runtimeWith({ Verifier: `${world.pods.extAuth.podIP}:8077`, Paths: ['/get'] });
    const r = await send(rt, 'inbound', inbound('/get', { 'x-iam-token': TOKEN }));
    assert.equal(r.status, 401);
    assert.equal(r.body, 'Unauthorized!');
  });

  test('4.2.6 no PluginConfig, or no Verifier: pass-through for every path', async () => {
    for (const config of [undefined, { Paths: ['/get'] }]) {
      const rt = await runtimeWith(config);
      assert.equal((await send(rt, 'inbound', inbound('/get'))).status, 200);
      assert.equal((await send(rt, 'inbound', inbound('/headers'))).status, 200);
    }
  });

  test('4.2.7 wait policy (Tessera decision): re-checked on async completion, so /get answers at once, not after the idle timeout', async () => {
    const rt = await runtimeWith(seedPluginConfig(SEED_000, 'token-verifier-config'));
    const t0 = Date.now();
    const r = await send(rt, 'inbound', inbound('/get', { 'x-iam-token': TOKEN }));
    assert.equal(r.status, 200);
    assert.ok(Date.now() - t0 < 2000, 'answered without waiting for an idle timeout');
  });
});
