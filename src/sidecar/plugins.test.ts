/**
 * Native plugins (compiled with compilePluginScript, mounted by PluginChains, configured per
 * destination by PluginConfigs) running in real sidecars: the client's outbound-http chain has
 * tagger, boomer and enricher; the servers' inbound-http chain has gatekeeper.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EchoReply } from './test-support/apps.js';
import { startMesh, type Mesh } from './test-support/mesh.js';
import { send, until } from './test-support/net.js';

let mesh: Mesh;

const viaClient = (url: string, headers?: Record<string, string>) => send(mesh.client.outbound, 'GET', url, headers ? { headers } : {});
const appSaw = (path: string) => [...mesh.apps.echoA.seen, ...mesh.apps.echoB.seen].filter((r) => r.url.startsWith(path));

describe('native plugins in the sidecar', () => {
  before(async () => {
    mesh = await startMesh({ plugins: true });
  });
  after(async () => {
    await mesh?.close();
  });

  it('mounts plugins in the chains by priority', async () => {
    const dump = (await send(mesh.client.admin, 'GET', '/config_dump')).json<{ Chains: Record<string, string[]>; PluginScripts: Record<string, { Kind: string }> }>();
    const out = dump.Chains['outbound-http']!;
    const at = (e: string): number => out.indexOf(e);
    assert.ok(at('plugins/tagger.js') > at('modules/outbound-circuit-breaker.js'), out.join(', '));
    assert.ok(at('plugins/tagger.js') < at('plugins/boomer.js') && at('plugins/boomer.js') < at('plugins/enricher.js'), out.join(', '));
    assert.ok(at('plugins/enricher.js') < at('modules/outbound-http-load-balancing.js'), out.join(', '));
    assert.equal(dump.PluginScripts['tagger']?.Kind, 'native');
    const server = (await send(mesh.echoA.admin, 'GET', '/config_dump')).json<{ Chains: Record<string, string[]> }>();
    assert.ok(server.Chains['inbound-http']!.includes('plugins/gatekeeper.js'));
    assert.ok(!server.Chains['outbound-http']!.includes('plugins/tagger.js'), 'client chains stay on the client');
  });

  it('adds headers on the request and the response', async () => {
    const r = await viaClient('http://echo.demo/tag');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-tagged-response'], 'tagger');
    const reply = r.json<EchoReply>();
    assert.equal(reply.headers['x-tagged'], 'yes');
    assert.equal(reply.headers['x-plugin-service'], 'echo.demo');
  });

  it('gives each destination service its own PluginConfig', async () => {
    assert.equal((await viaClient('http://echo.demo/cfg')).json<EchoReply>().headers['x-plugin-config'], 'config-for-echo');
    assert.equal((await viaClient('http://other.demo/cfg')).json<EchoReply>().headers['x-plugin-config'], 'config-for-other');
  });

  it('lets a plugin answer 401 without reaching the app', async () => {
    const r = await viaClient('http://echo.demo/private/data');
    assert.equal(r.status, 401, r.text);
    assert.equal(r.headers['www-authenticate'], 'Bearer');
    assert.deepEqual(r.json(), { error: 'no token', plugin: 'gatekeeper', direction: 'inbound' });
    assert.equal(appSaw('/private').length, 0);
    // the client-side plugins still ran on the way back
    assert.equal(r.headers['x-tagged-response'], 'tagger');
  });

  it('fails only the request a plugin throws on, logs the plugin, and keeps serving', async () => {
    const r = await viaClient('http://echo.demo/boom');
    assert.equal(r.status, 500, r.text);
    assert.match(r.text, /boomer/);
    assert.equal(appSaw('/boom').length, 0);
    const line = await until(() => mesh.client.lines.find((l) => l.level === 'error' && l['plugin'] === 'boomer'), 'the log line naming the plugin');
    assert.match(String(line['error']), /kaboom/);
    const ok = await viaClient('http://echo.demo/after-boom');
    assert.equal(ok.status, 200);
    assert.equal(ok.json<EchoReply>().url, '/after-boom');
  });

  it('lets a plugin call a service outside the mesh by its svc.ns:port name', async () => {
    const r = await viaClient('http://echo.demo/enrich');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json<EchoReply>().headers['x-enriched'], 'ext-0 200 /info?from=plugin');
    assert.ok(mesh.apps.ext.seen.some((s) => s.url === '/info?from=plugin'));
  });

  it('reaches a plugin-free path unchanged by the plugins that do not apply', async () => {
    const r = await viaClient('http://echo.demo/plain');
    assert.equal(r.status, 200);
    assert.equal(r.json<EchoReply>().headers['x-enriched'], undefined);
  });
});
