/**
 * The world of the IAM demo (seeds/000): curl and httpbin in the mesh, ext-auth outside it, the
 * token-injector and token-verifier plugins at 115 with their PluginChains and PluginConfigs.
 * Addresses follow local mode (local/layout.ts) with mesh block 7.
 */
import type { Resource } from '../../api/types.js';
import type { CompileInput } from '../../catalog/types.js';
import {
  input,
  meshConfig,
  meshedNamespace,
  namespace,
  plugin,
  pluginChain,
  pluginConfig,
  pod,
  service,
} from './builders.js';

export const CURL_POD = { namespace: 'curl', name: 'curl-6d8b7c9f5-x2x7q' };
export const HTTPBIN_POD = { namespace: 'httpbin', name: 'httpbin-5c7b8d9f4-k9m2p' };

export interface SeedOptions {
  /** MeshConfig featureFlags.enablePluginPolicy (the demo turns it on) */
  pluginPolicy?: boolean;
  /** leave out the PluginChains, PluginConfigs and Plugins */
  withoutPlugins?: boolean;
}

export function seedResources(opts: SeedOptions = {}): Resource[] {
  const world: Resource[] = [
    namespace('fsm-system'),
    meshedNamespace('curl'),
    meshedNamespace('httpbin'),
    namespace('auth'),
    meshConfig({ featureFlags: { enablePluginPolicy: opts.pluginPolicy ?? true } }),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'curl', namespace: 'curl' } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'httpbin', namespace: 'httpbin' } },
    pod(CURL_POD.namespace, CURL_POD.name, {
      labels: { app: 'curl', 'pod-template-hash': '6d8b7c9f5' },
      serviceAccount: 'curl',
      ip: '127.7.1.1',
      annotations: { 'local.tessera.dev/app-address': '127.7.65.1' },
    }),
    pod(HTTPBIN_POD.namespace, HTTPBIN_POD.name, {
      labels: { app: 'httpbin', 'pod-template-hash': '5c7b8d9f4' },
      serviceAccount: 'httpbin',
      ip: '127.7.1.2',
      ports: [{ containerPort: 14001 }],
      annotations: { 'local.tessera.dev/app-address': '127.7.65.2' },
    }),
    pod('auth', 'ext-auth-7f6d5c4b3-q8w9e', {
      labels: { app: 'ext-auth', 'pod-template-hash': '7f6d5c4b3' },
      ip: '127.7.1.3',
      unmeshed: true,
    }),
    service('httpbin', 'httpbin', [{ name: 'http', port: 14001 }], { app: 'httpbin' }, '127.7.128.1'),
    service('auth', 'ext-auth', [{ port: 8079, protocol: 'TCP', targetPort: 8079 }], { app: 'ext-auth' }, '127.7.128.2'),
  ];
  if (opts.withoutPlugins) return world;
  const meshNamespaces = { matchExpressions: [{ key: 'flomesh.io/monitored-by', operator: 'In' as const, values: ['fsm'] }] };
  world.push(
    plugin('token-injector', 115),
    plugin('token-verifier', 115),
    pluginChain('curl', 'token-injector-chain', { 'outbound-http': ['token-injector'] }, {
      podSelector: {
        matchLabels: { app: 'curl' },
        matchExpressions: [{ key: 'app', operator: 'In', values: ['curl'] }],
      },
      namespaceSelector: meshNamespaces,
    }),
    pluginChain('httpbin', 'token-verifier-chain', { 'inbound-http': ['token-verifier'] }, {
      podSelector: { matchLabels: { app: 'httpbin' } },
      namespaceSelector: meshNamespaces,
    }),
    pluginConfig('httpbin', 'token-verifier-config', 'token-verifier', [{ name: 'httpbin', namespace: 'httpbin' }], {
      Verifier: 'ext-auth.auth:8079',
      Paths: ['/get'],
    }),
    pluginConfig('curl', 'token-injector-config', 'token-injector', [{ name: 'httpbin', namespace: 'httpbin' }], {
      AccessToken: '2f1acc6c3a606b082e5eef5e54414ffb',
    }),
  );
  return world;
}

export function seedInput(opts: SeedOptions = {}): CompileInput {
  return input(seedResources(opts));
}
