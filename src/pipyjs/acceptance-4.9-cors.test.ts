/** Reference §4.9: cors-policy (FSM sample) on pipy-ok's inbound-http chain at 165. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SEED_002, samplePluginScript, seedPluginConfig } from './test-support/scripts.js';
import { recordingApp, send, startWorld, type RecordingApp, type World } from './test-support/sidecar-harness.js';

describe('4.9 cors-policy', () => {
  let world: World;
  let app: RecordingApp;
  const sample = samplePluginScript('plugins-cors.yaml');
  const plugin = () => ({ ...sample, chain: 'inbound-http' as const, apps: ['pipy-ok'] });
  const inbound = (method: string, origin?: string) => ({ method, path: '/', authority: 'pipy-ok.pipy:8080', headers: (origin ? { Origin: origin } : {}) as Record<string, string>, local: { address: world.pods.v1.podIP, port: 8080 } });
  const runtimeWith = async (config: unknown) => world.runtime('v1', world.resources([plugin()], [{ plugin: 'cors-policy', service: 'pipy/pipy-ok', config }]));
  const CORS = ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-expose-headers', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age'];

  before(async () => {
    world = await startWorld();
    app = await recordingApp(world.tracker, 'pipy-ok-v1', world.pods.v1.app, 8080, () => ({ status: 200, body: 'Hi, I am PIPY-OK v1!' }));
  });
  after(() => world?.close());

  test('4.9.1 GET with Origin http://www.bbb.com: the upstream response plus the origin headers', async () => {
    const { rt } = await runtimeWith(seedPluginConfig(SEED_002, 'cors-policy-config'));
    const r = await send(rt, 'inbound', inbound('GET', 'http://www.bbb.com'));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'Hi, I am PIPY-OK v1!');
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.equal(r.headers['access-control-expose-headers'], 'Content-Encoding,Kuma-Revision');
    assert.equal(r.headers['access-control-allow-origin'], 'http://www.bbb.com');
    assert.equal(r.headers['access-control-allow-methods'], undefined);
  });

  test('4.9.2 OPTIONS: answered locally, 200, content-length 0, all six headers', async () => {
    const { rt } = await runtimeWith(seedPluginConfig(SEED_002, 'cors-policy-config'));
    const before = app.requests.length;
    const r = await send(rt, 'inbound', inbound('OPTIONS', 'http://www.bbb.com'));
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], '0');
    assert.deepEqual(
      Object.fromEntries(CORS.map((h) => [h, r.headers[h]])),
      {
        'access-control-allow-origin': 'http://www.bbb.com',
        'access-control-allow-credentials': 'true',
        'access-control-expose-headers': 'Content-Encoding,Kuma-Revision',
        'access-control-allow-methods': 'POST,GET,PATCH,DELETE',
        'access-control-allow-headers': 'X-Foo-Bar-1',
        'access-control-max-age': '86400',
      },
    );
    assert.equal(app.requests.length, before);
  });

  test('4.9.3 Origin https://www.test.cn matches the unanchored regex', async () => {
    const { rt } = await runtimeWith(seedPluginConfig(SEED_002, 'cors-policy-config'));
    assert.equal((await send(rt, 'inbound', inbound('GET', 'https://www.test.cn'))).headers['access-control-allow-origin'], 'https://www.test.cn');
  });

  test('4.9.4 Origin http://evil.com or none: untouched, OPTIONS forwarded upstream', async () => {
    const { rt } = await runtimeWith(seedPluginConfig(SEED_002, 'cors-policy-config'));
    for (const origin of ['http://evil.com', undefined]) {
      for (const method of ['GET', 'OPTIONS']) {
        const before = app.requests.length;
        const r = await send(rt, 'inbound', inbound(method, origin));
        assert.equal(r.body, 'Hi, I am PIPY-OK v1!');
        for (const h of CORS) assert.equal(r.headers[h], undefined, `${h} on ${method} from ${origin}`);
        assert.equal(app.requests.length, before + 1);
      }
    }
  });

  test('4.9.5 a malformed allowOrigins entry: TypeError at request time → aborted (empty reply), logged with the plugin name; other requests carry on', async () => {
    const { rt, lines } = await runtimeWith({ allowOrigins: [{}], allowCredentials: true });
    const r = await send(rt, 'inbound', inbound('GET', 'http://www.bbb.com'));
    assert.equal(r.aborted, true);
    const err = lines.find((l) => l.level === 'error' && l['plugin'] === 'cors-policy');
    assert.ok(err, `an error line names the plugin: ${JSON.stringify(lines)}`);
    assert.match(String(err.msg), /not a function/);
    // no Origin: the failing matcher never runs
    const ok = await send(rt, 'inbound', inbound('GET'));
    assert.equal(ok.status, 200);
    assert.equal(ok.body, 'Hi, I am PIPY-OK v1!');
  });
});
