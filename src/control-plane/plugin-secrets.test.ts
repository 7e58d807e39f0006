/** Which Secrets a sidecar may read for a built-in token plugin. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/types.js';
import type { ProxySnapshot } from '../snapshot/types.js';
import { pluginSecretFor } from './plugin-secrets.js';

const config = { verify: { issuer: 'https://idp' }, issuer: 'gw', audience: 'todos', signingKey: { secretName: 'reissue-key', kid: 'k1' } };
const resources = [
  { kind: 'PluginConfig', metadata: { name: 'c', namespace: 'curl' }, spec: { plugin: 'jwt-reissue', destinationRefs: [{ kind: 'Service', name: 'todos', namespace: 'default' }], config } },
  { kind: 'Secret', metadata: { name: 'reissue-key', namespace: 'curl' }, data: { k1: Buffer.from('x'.repeat(32)).toString('base64') } },
  { kind: 'Secret', metadata: { name: 'other', namespace: 'curl' }, data: { k: 'eA==' } },
] as unknown as Resource[];

function snapshot(withConfig: unknown, kind = 'builtin'): ProxySnapshot {
  return {
    PluginScripts: { 'jwt-reissue': { Kind: kind } },
    Inbound: { TrafficMatches: {} },
    Outbound: { TrafficMatches: { '14001': [{ HttpServiceRouteRules: { 'todos.default': { RouteRules: [], Plugins: { 'jwt-reissue': withConfig } } } }] } },
  } as unknown as ProxySnapshot;
}
const req = { plugin: 'jwt-reissue', serviceNamespace: 'default', serviceName: 'todos', secretName: 'reissue-key' };

test('granted: the winning PluginConfig names the Secret and the proxy runs the plugin with that config', () => {
  const a = pluginSecretFor(resources, snapshot(config), req);
  assert.equal(a.status, 200);
  assert.deepEqual(Object.keys(a.status === 200 ? a.data : {}), ['k1']);
});

test('refused: another Secret, another proxy, another config, a non-builtin plugin', () => {
  assert.equal(pluginSecretFor(resources, snapshot(config), { ...req, secretName: 'other' }).status, 403);
  assert.equal(pluginSecretFor(resources, undefined, req).status, 403);
  assert.equal(pluginSecretFor(resources, snapshot({ ...config, audience: 'x' }), req).status, 403);
  assert.equal(pluginSecretFor(resources, snapshot(config, 'native'), req).status, 403);
  assert.equal(pluginSecretFor(resources, snapshot(config), { ...req, plugin: 'token-injector' }).status, 403);
  assert.equal(pluginSecretFor(resources, snapshot(config), { ...req, serviceName: 'reminder' }).status, 403);
});
