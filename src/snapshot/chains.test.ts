/** Table tests for chain building: seed lists, plugin policy, selector matrix, scoping, replacement, ordering. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LabelSelector, Resource } from '../api/types.js';
import { buildCatalog, compileProxySnapshot } from './index.js';
import type { ProxySnapshot } from './index.js';
import { input, meshConfig, meshedNamespace, namespace, plugin, pluginChain, pod } from './testdata/builders.js';
import { CURL_POD, HTTPBIN_POD, seedInput } from './testdata/seed-world.js';

const OUTBOUND_HTTP_BUILTINS = [
  'modules/outbound-http-routing.js',
  'modules/outbound-metrics-http.js',
  'modules/outbound-tracing-http.js',
  'modules/outbound-logging-http.js',
  'modules/outbound-circuit-breaker.js',
  'modules/outbound-http-load-balancing.js',
  'modules/outbound-http-default.js',
];
const INBOUND_HTTP_BUILTINS = [
  'modules/inbound-tls-termination.js',
  'modules/inbound-http-routing.js',
  'modules/inbound-metrics-http.js',
  'modules/inbound-tracing-http.js',
  'modules/inbound-logging-http.js',
  'modules/inbound-throttle-service.js',
  'modules/inbound-throttle-route.js',
  'modules/inbound-http-load-balancing.js',
  'modules/inbound-http-default.js',
];

function withAt(list: string[], index: number, item: string): string[] {
  return [...list.slice(0, index), item, ...list.slice(index)];
}

function snap(resources: Resource[], who = { namespace: 'app', name: 'p' }): ProxySnapshot {
  const s = compileProxySnapshot(buildCatalog(input(resources)), who);
  assert.ok(s, 'snapshot compiled');
  return s;
}

test('seed chains: without PluginChains every proxy has the FSM built-ins', () => {
  for (const policy of [true, false]) {
    const catalog = buildCatalog(seedInput({ pluginPolicy: policy, withoutPlugins: true }));
    assert.deepEqual(compileProxySnapshot(catalog, CURL_POD)!.Chains['outbound-http'], OUTBOUND_HTTP_BUILTINS);
    assert.deepEqual(compileProxySnapshot(catalog, HTTPBIN_POD)!.Chains['inbound-http'], INBOUND_HTTP_BUILTINS);
  }
});

test('seed chains: plugins at 115 land before load balancing, as the demo prints', () => {
  const catalog = buildCatalog(seedInput());
  const curl = compileProxySnapshot(catalog, CURL_POD)!;
  const httpbin = compileProxySnapshot(catalog, HTTPBIN_POD)!;
  assert.deepEqual(curl.Chains['outbound-http'], withAt(OUTBOUND_HTTP_BUILTINS, 5, 'plugins/token-injector.js'));
  assert.deepEqual(curl.Chains['inbound-http'], INBOUND_HTTP_BUILTINS);
  assert.deepEqual(httpbin.Chains['inbound-http'], withAt(INBOUND_HTTP_BUILTINS, 7, 'plugins/token-verifier.js'));
  assert.deepEqual(httpbin.Chains['outbound-http'], OUTBOUND_HTTP_BUILTINS);
  assert.deepEqual(Object.keys(curl.PluginScripts), ['token-injector']);
  assert.deepEqual(Object.keys(httpbin.PluginScripts), ['token-verifier']);
});

test('plugin policy disabled: no plugins mounted, no scripts, no plugin config on rules', () => {
  const catalog = buildCatalog(seedInput({ pluginPolicy: false }));
  const curl = compileProxySnapshot(catalog, CURL_POD)!;
  const httpbin = compileProxySnapshot(catalog, HTTPBIN_POD)!;
  assert.deepEqual(curl.Chains['outbound-http'], OUTBOUND_HTTP_BUILTINS);
  assert.deepEqual(httpbin.Chains['inbound-http'], INBOUND_HTTP_BUILTINS);
  assert.deepEqual(curl.PluginScripts, {});
  assert.equal(curl.Outbound.TrafficMatches['14001']![0]!.HttpServiceRouteRules!['httpbin.httpbin']!.Plugins, undefined);
  assert.equal(httpbin.Inbound.TrafficMatches['14001']!.HttpServiceRouteRules!['httpbin.httpbin']!.Plugins, undefined);
  assert.equal(curl.Spec.FeatureFlags.EnablePluginPolicy, false);
});

/** A world with one pod `app/p` (labels app=web, tier=front) in a namespace labelled team=blue. */
function selectorWorld(selectors: { podSelector?: LabelSelector; namespaceSelector?: LabelSelector }, chainNamespace = 'app'): Resource[] {
  return [
    meshConfig({ featureFlags: { enablePluginPolicy: true } }),
    namespace('app', { 'flomesh.io/monitored-by': 'fsm', team: 'blue' }),
    meshedNamespace('other'),
    pod('app', 'p', { labels: { app: 'web', tier: 'front' }, ip: '10.0.0.1' }),
    plugin('probe', 115),
    pluginChain(chainNamespace, 'chain', { 'outbound-http': ['probe'] }, selectors),
  ];
}

const allNamespaces: LabelSelector = {};
const selectorCases: { name: string; podSelector?: LabelSelector; namespaceSelector?: LabelSelector; mounted: boolean }[] = [
  { name: 'no selectors', mounted: true },
  { name: 'matchLabels match', podSelector: { matchLabels: { app: 'web' } }, mounted: true },
  { name: 'matchLabels mismatch', podSelector: { matchLabels: { app: 'db' } }, mounted: false },
  { name: 'In match', podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'web'] }] }, mounted: true },
  { name: 'In mismatch', podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] }, mounted: false },
  { name: 'In on missing key', podSelector: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, mounted: false },
  { name: 'NotIn match', podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }] }, mounted: true },
  { name: 'NotIn mismatch', podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, mounted: false },
  { name: 'NotIn on missing key', podSelector: { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, mounted: true },
  { name: 'Exists match', podSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, mounted: true },
  { name: 'Exists mismatch', podSelector: { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, mounted: false },
  { name: 'DoesNotExist match', podSelector: { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, mounted: true },
  { name: 'DoesNotExist mismatch', podSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, mounted: false },
  { name: 'namespaceSelector match', namespaceSelector: { matchLabels: { team: 'blue' } }, mounted: true },
  { name: 'namespaceSelector mismatch', namespaceSelector: { matchLabels: { team: 'red' } }, mounted: false },
  {
    name: 'namespaceSelector on monitored-by',
    namespaceSelector: { matchExpressions: [{ key: 'flomesh.io/monitored-by', operator: 'In', values: ['fsm'] }] },
    mounted: true,
  },
  {
    name: 'pod matches, namespace does not',
    podSelector: { matchLabels: { app: 'web' } },
    namespaceSelector: { matchLabels: { team: 'red' } },
    mounted: false,
  },
  {
    name: 'namespace matches, pod does not',
    podSelector: { matchLabels: { app: 'db' } },
    namespaceSelector: { matchLabels: { team: 'blue' } },
    mounted: false,
  },
  { name: 'empty selectors match all', podSelector: {}, namespaceSelector: allNamespaces, mounted: true },
];

for (const c of selectorCases) {
  test(`selector matrix: ${c.name}`, () => {
    const selectors = {
      ...(c.podSelector ? { podSelector: c.podSelector } : {}),
      ...(c.namespaceSelector ? { namespaceSelector: c.namespaceSelector } : {}),
    };
    const chain = snap(selectorWorld(selectors)).Chains['outbound-http'];
    assert.equal(chain.includes('plugins/probe.js'), c.mounted);
  });
}

test('a PluginChain without namespaceSelector applies only in its own namespace', () => {
  const own = snap(selectorWorld({ podSelector: { matchLabels: { app: 'web' } } }, 'app'));
  const foreign = snap(selectorWorld({ podSelector: { matchLabels: { app: 'web' } } }, 'other'));
  assert.ok(own.Chains['outbound-http'].includes('plugins/probe.js'));
  assert.ok(!foreign.Chains['outbound-http'].includes('plugins/probe.js'));
  // With a namespaceSelector the chain reaches other namespaces, as in FSM.
  const selected = snap(selectorWorld({ namespaceSelector: { matchLabels: { team: 'blue' } } }, 'other'));
  assert.ok(selected.Chains['outbound-http'].includes('plugins/probe.js'));
});

test('enablePluginChainClusterScope restores FSM: a chain without namespaceSelector applies everywhere', () => {
  const world = selectorWorld({ podSelector: { matchLabels: { app: 'web' } } }, 'other');
  world[0] = meshConfig({ featureFlags: { enablePluginPolicy: true, enablePluginChainClusterScope: true } });
  assert.ok(snap(world).Chains['outbound-http'].includes('plugins/probe.js'));
});

test('a plugin named like a built-in replaces it', () => {
  const world: Resource[] = [
    meshConfig({ featureFlags: { enablePluginPolicy: true } }),
    meshedNamespace('app'),
    pod('app', 'p', { ip: '10.0.0.1' }),
    plugin('outbound-http-routing', 160),
    plugin('tcp-default', 100),
    pluginChain('app', 'replace', { 'outbound-http': ['outbound-http-routing'], 'outbound-tcp': ['tcp-default'] }, {}),
  ];
  const s = snap(world);
  assert.deepEqual(s.Chains['outbound-http'], ['plugins/outbound-http-routing.js', ...OUTBOUND_HTTP_BUILTINS.slice(1)]);
  assert.deepEqual(s.Chains['outbound-tcp'], [
    'modules/outbound-tcp-routing.js',
    'modules/outbound-tcp-load-balancing.js',
    'plugins/tcp-default.js',
  ]);
  // Only the chain it is mounted on loses its built-in.
  assert.deepEqual(s.Chains['inbound-http'], INBOUND_HTTP_BUILTINS);
});

test('equal priorities: built-ins first, then plugins by name; missing plugins and sources are skipped', () => {
  const resources: Resource[] = [
    meshConfig({ featureFlags: { enablePluginPolicy: true } }),
    meshedNamespace('app'),
    pod('app', 'p', { ip: '10.0.0.1' }),
    plugin('zeta', 110),
    plugin('alpha', 110),
    plugin('unpriced'),
    plugin('no-source', 150),
    pluginChain('app', 'b', { 'outbound-http': ['zeta', 'does-not-exist'] }, {}),
    pluginChain('app', 'a', { 'outbound-http': ['alpha', 'unpriced', 'no-source', 'alpha'] }, {}),
  ];
  const inp = input(resources);
  const sources = new Map(inp.pluginSources);
  sources.delete('no-source');
  const s = compileProxySnapshot(buildCatalog({ ...inp, pluginSources: sources }), { namespace: 'app', name: 'p' })!;
  assert.deepEqual(s.Chains['outbound-http'], [
    ...OUTBOUND_HTTP_BUILTINS.slice(0, 6),
    'plugins/alpha.js',
    'plugins/zeta.js',
    'modules/outbound-http-default.js',
    'plugins/unpriced.js',
  ]);
  assert.deepEqual(Object.keys(s.PluginScripts).sort(), ['alpha', 'unpriced', 'zeta']);
  assert.equal(s.PluginScripts['unpriced']!.Priority, 0);
});

test('MeshConfig pluginChains: a listed mount point replaces its list, disabled entries are omitted', () => {
  const s = snap([
    meshConfig({
      pluginChains: {
        'outbound-http': [
          { plugin: 'http-routing', priority: 160, disable: false },
          { plugin: 'metrics-http', priority: 150, disable: true },
          { plugin: 'http-default', priority: 100, disable: false },
        ],
      },
    }),
    meshedNamespace('app'),
    pod('app', 'p', { ip: '10.0.0.1' }),
  ]);
  assert.deepEqual(s.Chains['outbound-http'], ['modules/outbound-http-routing.js', 'modules/outbound-http-default.js']);
  assert.deepEqual(s.Chains['inbound-http'], INBOUND_HTTP_BUILTINS);
});
