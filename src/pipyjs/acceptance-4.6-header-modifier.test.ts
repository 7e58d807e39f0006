/** Reference §4.6: header-modifier (FSM sample) on httpbin's inbound-http chain at 165. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SEED_002, samplePluginScript, seedPluginConfig } from './test-support/scripts.js';
import { recordingApp, send, startWorld, type RecordingApp, type World } from './test-support/sidecar-harness.js';

describe('4.6 header-modifier', () => {
  let world: World;
  let app: RecordingApp;
  const sample = samplePluginScript('plugins-header-modifier.yaml');
  const plugin = () => ({ ...sample, chain: 'inbound-http' as const, apps: ['httpbin', 'curl'] });
  const inbound = (path: string, headers: Record<string, string> = {}, method = 'GET') => ({ method, path, authority: 'httpbin.httpbin:14001', headers, local: { address: world.pods.httpbin.podIP, port: 14001 } });
  const runtimeWith = async (config: unknown) => (await world.runtime('httpbin', world.resources([plugin()], [{ plugin: 'header-modifier', service: 'httpbin/httpbin', config }]))).rt;
  const rule = (match: Record<string, unknown>, req: Record<string, unknown> = { Add: [{ Name: 'x-hit', Value: '1' }] }, res?: Record<string, unknown>) => ({
    Matches: [{ ...match, Filters: [{ Type: 'RequestHeaderModifier', RequestHeaderModifier: req }, ...(res ? [{ Type: 'ResponseHeaderModifier', ResponseHeaderModifier: res }] : [])] }],
  });

  before(async () => {
    world = await startWorld();
    app = await recordingApp(world.tracker, 'httpbin', world.pods.httpbin.app, 14001);
  });
  after(() => world?.close());

  test('mounted at 165: between inbound-http-routing and inbound-metrics-http', async () => {
    const rt = await runtimeWith(seedPluginConfig(SEED_002, 'header-modifier-config'));
    const chain = rt.snapshot.Chains['inbound-http'];
    const at = chain.indexOf('plugins/header-modifier.js');
    assert.equal(chain[at - 1], 'modules/inbound-http-routing.js');
    assert.equal(chain[at + 1], 'modules/inbound-metrics-http.js');
  });

  test('4.6.1 version: v2 → no version, x-canary-tag: v2 upstream; x-canary: true on the response', async () => {
    const rt = await runtimeWith(seedPluginConfig(SEED_002, 'header-modifier-config'));
    const r = await send(rt, 'inbound', inbound('/headers', { version: 'v2' }));
    assert.equal(r.status, 200);
    const got = app.requests.at(-1)!;
    assert.equal(got.headers['version'], undefined);
    assert.equal(got.headers['x-canary-tag'], 'v2');
    assert.equal(r.headers['x-canary'], 'true');
  });

  test('4.6.2 a client X-Canary-Tag: pre becomes pre,v2 (Add appends)', async () => {
    const rt = await runtimeWith(seedPluginConfig(SEED_002, 'header-modifier-config'));
    await send(rt, 'inbound', inbound('/headers', { version: 'v2', 'X-Canary-Tag': 'pre' }));
    assert.equal(app.requests.at(-1)!.headers['x-canary-tag'], 'pre,v2');
  });

  test('4.6.3 version: v1 or no header → unchanged, no x-canary', async () => {
    const rt = await runtimeWith(seedPluginConfig(SEED_002, 'header-modifier-config'));
    for (const headers of [{ version: 'v1' }, {}] as Record<string, string>[]) {
      const r = await send(rt, 'inbound', inbound('/headers', headers));
      assert.equal(r.headers['x-canary'], undefined);
      assert.equal(app.requests.at(-1)!.headers['x-canary-tag'], undefined);
      assert.equal(app.requests.at(-1)!.headers['version'], (headers as { version?: string }).version);
    }
  });

  test('4.6.4 Path Prefix /api matches /api/x, not /apix; the query is ignored', async () => {
    const rt = await runtimeWith(rule({ Path: { Type: 'Prefix', Path: '/api' } }));
    await send(rt, 'inbound', inbound('/api/x?y=1'));
    assert.equal(app.requests.at(-1)!.headers['x-hit'], '1');
    await send(rt, 'inbound', inbound('/apix'));
    assert.equal(app.requests.at(-1)!.headers['x-hit'], undefined);
  });

  test('4.6.4 Methods [POST] excludes GET; Set overwrites', async () => {
    const rt = await runtimeWith(rule({ Methods: ['POST'] }, { Set: [{ Name: 'x-set', Value: 'new' }] }));
    await send(rt, 'inbound', inbound('/p', { 'x-set': 'old' }, 'GET'));
    assert.equal(app.requests.at(-1)!.headers['x-set'], 'old');
    await send(rt, 'inbound', inbound('/p', { 'x-set': 'old' }, 'POST'));
    assert.equal(app.requests.at(-1)!.headers['x-set'], 'new');
  });

  test('4.6.4 Remove [Version] does not remove version (names are lower-case, removal is case-sensitive)', async () => {
    const rt = await runtimeWith(rule({}, { Remove: ['Version'] }));
    await send(rt, 'inbound', inbound('/h', { version: 'v2' }));
    assert.equal(app.requests.at(-1)!.headers['version'], 'v2');
  });

  test('4.6.4 QueryParams Regex q ^a+$ matches ?q=aaa, not ?q=ab; regexes are unanchored tests', async () => {
    const rt = await runtimeWith(rule({ QueryParams: { Regex: { q: '^a+$' } }, Headers: { Regex: { 'user-agent': 'url' } } }));
    await send(rt, 'inbound', inbound('/q?q=aaa'));
    assert.equal(app.requests.at(-1)!.headers['x-hit'], '1');
    await send(rt, 'inbound', inbound('/q?q=ab'));
    assert.equal(app.requests.at(-1)!.headers['x-hit'], undefined);
  });

  test('4.6.4 a response Remove [content-type] works; the first matching entry wins', async () => {
    const config = {
      Matches: [
        { Path: { Type: 'Exact', Path: '/r' }, Filters: [{ Type: 'ResponseHeaderModifier', ResponseHeaderModifier: { Remove: ['content-type'], Add: [{ Name: 'x-first', Value: '1' }] } }] },
        { Filters: [{ Type: 'ResponseHeaderModifier', ResponseHeaderModifier: { Add: [{ Name: 'x-second', Value: '1' }] } }] },
      ],
    };
    const rt = await runtimeWith(config);
    const r = await send(rt, 'inbound', inbound('/r'));
    assert.equal(r.headers['content-type'], undefined);
    assert.equal(r.headers['x-first'], '1');
    assert.equal(r.headers['x-second'], undefined);
    assert.equal(r.body, 'app httpbin');
    const other = await send(rt, 'inbound', inbound('/other'));
    assert.equal(other.headers['x-second'], '1');
    assert.equal(other.headers['content-type'], 'text/plain');
  });
});
