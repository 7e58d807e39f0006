/** Tests for the validator set: exact messages the CLI contract fixes, normalisation, and each kind's rules. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeshError, type MeshErrorCode } from '../../lib/errors.js';
import { parseManifests } from '../../manifest/index.js';
import { KINDS } from '../kinds.js';
import type { Resource } from '../types.js';
import { parseGoDuration, registeredKinds, validateDocuments, validateResource } from './index.js';

const ctx = { source: '-', index: 1 };
const PLUGIN_API = 'plugin.flomesh.io/v1alpha1';

function rejection(fn: () => unknown): MeshError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof MeshError, `expected a MeshError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected validation to fail');
}

/** Every problem line of the error, as the CLI prints them. */
function lines(fn: () => unknown, code: MeshErrorCode = 'MESH_ERR_MANIFEST_INVALID'): string[] {
  const err = rejection(fn);
  assert.equal(err.code, code, err.message);
  return err.message.split('\n');
}

function validateYaml(text: string, namespace?: string): Resource[] {
  return validateDocuments(parseManifests(text, '-'), namespace);
}

const chain = (chainName: string) => ({
  apiVersion: PLUGIN_API,
  kind: 'PluginChain',
  metadata: { name: 'token-injector-chain' },
  spec: { chains: [{ name: chainName, plugins: ['token-injector'] }], selectors: { podSelector: { matchLabels: { app: 'curl' } } } },
});

const plugin = (spec: Record<string, unknown>) => ({ apiVersion: PLUGIN_API, kind: 'Plugin', metadata: { name: 'token-injector' }, spec });

const deployment = (spec: Record<string, unknown>) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec });
const podTemplate = (labels: Record<string, string>) => ({ metadata: { labels }, spec: { containers: [{ name: 'app', image: 'img' }] } });

describe('messages fixed by the CLI contract', () => {
  it('a misspelt chain name names resource, field and the allowed values', () => {
    assert.deepEqual(lines(() => validateResource(chain('outbound-htp'), { ...ctx, namespace: 'curl' })), [
      'PluginChain curl/token-injector-chain: spec.chains[0].name: "outbound-htp" is not one of inbound-http, inbound-tcp, outbound-http, outbound-tcp',
    ]);
  });

  it('an out-of-range priority', () => {
    assert.deepEqual(lines(() => validateResource(plugin({ priority: 70000, pipyscript: 'x' }), ctx)), [
      'Plugin token-injector: spec.priority: 70000 is out of range 0-65535',
    ]);
  });

  it('a missing required field, and a missing name labels the document', () => {
    const config = { apiVersion: PLUGIN_API, kind: 'PluginConfig', metadata: { name: 'c' }, spec: { destinationRefs: [{ kind: 'Service', name: 'httpbin' }], config: {} } };
    assert.deepEqual(lines(() => validateResource(config, { ...ctx, namespace: 'curl' })), ['PluginConfig curl/c: spec.plugin: required field is missing']);
    const unnamed = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: {} };
    assert.deepEqual(lines(() => validateResource(unnamed, { source: 'sa.yaml', index: 3 })), ['document 3 of sa.yaml: metadata.name: required field is missing']);
  });

  it('a type error shows the value', () => {
    const err = rejection(() => validateResource(deployment({ replicas: 'x', selector: { matchLabels: { app: 'a' } }, template: podTemplate({ app: 'a' }) }), ctx));
    assert.deepEqual(err.problems, [{ resource: 'Deployment default/web', field: 'spec.replicas', message: 'expected integer, got string "x"' }]);
  });

  it('an unknown field in a mesh kind spec', () => {
    assert.deepEqual(lines(() => validateResource(plugin({ prioriy: 115, pipyscript: 'x' }), ctx)), ['Plugin token-injector: spec.prioriy: unknown field "prioriy"']);
  });

  it('an unknown kind or apiVersion', () => {
    assert.deepEqual(lines(() => validateResource({ apiVersion: 'x/v1', kind: 'Foo', metadata: { name: 'f' } }, ctx), 'MESH_ERR_KIND_UNKNOWN'), [
      'Foo f: no matches for kind "Foo" in version "x/v1"',
    ]);
    const err = rejection(() => validateResource({ apiVersion: 'extensions/v1beta1', kind: 'Deployment', metadata: { name: 'd' } }, ctx));
    assert.equal(err.code, 'MESH_ERR_KIND_UNKNOWN');
    assert.match(err.message, /no matches for kind "Deployment" in version "extensions\/v1beta1"$/);
  });

  it('a namespace mismatch uses kubectl wording', () => {
    const sa = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'curl', namespace: 'a' } };
    const err = rejection(() => validateResource(sa, { ...ctx, namespace: 'b' }));
    assert.equal(err.code, 'MESH_ERR_NAMESPACE_MISMATCH');
    assert.equal(
      err.problems[0]?.message,
      `the namespace from the provided object "a" does not match the namespace "b". You must pass '--namespace=a' to perform this operation.`,
    );
    assert.equal(err.message, `ServiceAccount a/curl: metadata.namespace: ${err.problems[0]?.message}`);
    // a cluster-scoped kind ignores both namespaces
    assert.equal(validateResource({ ...plugin({ pipyscript: 'x' }), metadata: { name: 'p', namespace: 'a' } }, { ...ctx, namespace: 'b' }).metadata.namespace, undefined);
  });

  it('missing apiVersion and kind are both reported', () => {
    assert.deepEqual(lines(() => validateResource({ metadata: { name: 'x' } }, ctx)), [
      'document 1 of -: kind: required field is missing',
      'document 1 of -: apiVersion: required field is missing',
    ]);
  });
});

describe('validateDocuments', () => {
  it('throws one error listing every problem of every bad document, and passes nothing', () => {
    const text = [
      'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: good}',
      `apiVersion: ${PLUGIN_API}\nkind: PluginChain\nmetadata: {name: bad-chain}\nspec:\n  chains: [{name: outbound-htp, plugins: [p]}]\n  selectors: {}`,
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: also-good}\ndata: {a: b}',
      `apiVersion: ${PLUGIN_API}\nkind: Plugin\nmetadata: {name: p}\nspec: {priority: -1}`,
    ].join('\n---\n');
    const err = rejection(() => validateYaml(text, 'curl'));
    assert.equal(err.code, 'MESH_ERR_MANIFEST_INVALID');
    assert.deepEqual(err.message.split('\n'), [
      'PluginChain curl/bad-chain: spec.chains[0].name: "outbound-htp" is not one of inbound-http, inbound-tcp, outbound-http, outbound-tcp',
      'Plugin p: spec.priority: -1 is out of range 0-65535',
      'Plugin p: spec.pipyscript: required field is missing (set spec.pipyscript or spec.script)',
    ]);
  });

  it('keeps a shared error code and uses MANIFEST_INVALID for a mix', () => {
    const unknown = 'apiVersion: x/v1\nkind: Foo\nmetadata: {name: f}';
    assert.equal(rejection(() => validateYaml(`${unknown}\n---\n${unknown}`)).code, 'MESH_ERR_KIND_UNKNOWN');
    assert.equal(rejection(() => validateYaml(`${unknown}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: '!'}`)).code, 'MESH_ERR_MANIFEST_INVALID');
  });

  it('returns normalised resources in document order', () => {
    const out = validateYaml('apiVersion: v1\nkind: Namespace\nmetadata: {name: curl}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: curl}', 'curl');
    assert.deepEqual(out.map((r) => `${r.kind} ${r.metadata.namespace ?? ''}/${r.metadata.name}`), ['Namespace /curl', 'ServiceAccount curl/curl']);
  });
});

describe('normalisation', () => {
  it('fills the namespace from the object, then -n, then default; canonicalises apiVersion', () => {
    const sa = (namespace?: string) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: namespace ? { name: 's', namespace } : { name: 's' } });
    assert.equal(validateResource(sa(), ctx).metadata.namespace, 'default');
    assert.equal(validateResource(sa(), { ...ctx, namespace: 'curl' }).metadata.namespace, 'curl');
    assert.equal(validateResource(sa('own'), ctx).metadata.namespace, 'own');
    const mc = validateResource({ apiVersion: 'config.flomesh.io/v1alpha2', kind: 'MeshConfig', metadata: { name: 'm' } }, ctx);
    assert.equal(mc.apiVersion, 'config.flomesh.io/v1alpha3');
  });

  it('does not modify the caller object and drops null fields', () => {
    const input = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 's', labels: null } };
    const out = validateResource(input, ctx);
    assert.deepEqual(input, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 's', labels: null } });
    assert.deepEqual(out, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 's', namespace: 'default' } });
  });

  it('Secret: stringData merged into data as base64, type defaults to Opaque', () => {
    const out = validateResource({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { a: 'YQ==' }, stringData: { b: 'hello' } }, ctx);
    assert.deepEqual(out.data, { a: 'YQ==', b: 'aGVsbG8=' });
    assert.equal(out.stringData, undefined);
    assert.equal(out.type, 'Opaque');
    assert.deepEqual(lines(() => validateResource({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { a: 'not base64!' } }, ctx)), [
      'Secret default/s: data.a: value is not valid base64 (put plain text under stringData instead)',
    ]);
  });

  it('Service: protocol defaults to TCP and targetPort to port', () => {
    const out = validateResource({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'httpbin' }, spec: { ports: [{ name: 'http', port: 14001 }] } }, ctx);
    assert.deepEqual((out.spec as { ports: unknown[] }).ports, [{ name: 'http', port: 14001, protocol: 'TCP', targetPort: 14001 }]);
  });

  it('Deployment replicas default to 1; Plugin priority to 0; PluginConfig refs to its own namespace', () => {
    const d = validateResource(deployment({ selector: { matchLabels: { app: 'a' } }, template: podTemplate({ app: 'a' }) }), ctx);
    assert.equal((d.spec as { replicas: number }).replicas, 1);
    assert.equal((validateResource(plugin({ pipyscript: 'x' }), ctx).spec as { priority: number }).priority, 0);
    const refs = [{ kind: 'Service', name: 'httpbin' }, { kind: 'Service', name: 'x', namespace: 'other' }];
    const config = { apiVersion: PLUGIN_API, kind: 'PluginConfig', metadata: { name: 'c' }, spec: { plugin: 'p', config: { k: null }, destinationRefs: refs } };
    const out = validateResource(config, { ...ctx, namespace: 'curl' }).spec as { destinationRefs: { namespace: string }[]; config: unknown };
    assert.deepEqual(out.destinationRefs.map((r) => r.namespace), ['curl', 'other']);
    assert.deepEqual(out.config, { k: null }, 'config is passed through unchanged, nulls included');
  });

  it('keeps unknown fields of core kinds', () => {
    const out = validateResource({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 's' }, imagePullSecrets: [{ name: 'x' }] }, ctx);
    assert.deepEqual((out as unknown as { imagePullSecrets: unknown }).imagePullSecrets, [{ name: 'x' }]);
  });
});

describe('kind rules', () => {
  it('every kind in api/kinds.ts has a validator', () => {
    assert.deepEqual([...registeredKinds()].sort(), KINDS.map((k) => k.kind).sort());
  });

  it('names: DNS-1123 subdomain for most kinds, labels for Namespace and Service', () => {
    const core = (kind: string, metadata: Record<string, unknown>) => ({ apiVersion: 'v1', kind, metadata });
    const firstProblem = (obj: unknown) => lines(() => validateResource(obj, ctx))[0]!;
    assert.match(firstProblem(core('Namespace', { name: 'a.b' })), /^Namespace a\.b: metadata\.name: "a\.b" is not a valid DNS-1123 label/);
    assert.match(firstProblem(core('ConfigMap', { name: 'Web_1' })), /metadata\.name: "Web_1" is not a valid DNS-1123 subdomain/);
    assert.match(firstProblem(core('Service', { name: '1web' })), /metadata\.name: "1web" is not a valid DNS-1035 label/);
    assert.equal(validateResource(core('ConfigMap', { name: 'a.b' }), ctx).metadata.name, 'a.b');
    assert.match(firstProblem(core('ServiceAccount', { name: 's', labels: { app: 1 } })), /metadata\.labels\.app: expected string, got number 1$/);
    assert.match(firstProblem(core('ServiceAccount', { name: 's', labels: { 'a/b/c': 'x' } })), /metadata\.labels\[a\/b\/c\]: "a\/b\/c" is not a valid key/);
  });

  it('Pods are refused unless Tessera itself validates them', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i' }] } };
    assert.deepEqual(lines(() => validateResource(pod, ctx), 'MESH_ERR_FORBIDDEN'), [
      'Pod default/p: pods are created by Tessera from Deployments and cannot be applied directly; apply a Deployment instead',
    ]);
    assert.equal(validateResource(pod, { ...ctx, allowSystemOwned: true }).kind, 'Pod');
  });

  it('Service ports: range, names required with several ports, unique names and ports, named targetPort', () => {
    const svc = (ports: unknown[]) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports } });
    assert.deepEqual(lines(() => validateResource(svc([{ port: 70000 }, { port: 80, targetPort: 'Bad_Name' }, { name: 'a', port: 80 }, { name: 'a', port: 81 }]), ctx)), [
      'Service default/s: spec.ports[0].port: 70000 is out of range 1-65535',
      'Service default/s: spec.ports[1].targetPort: "Bad_Name" is not a valid port name: use at most 15 lowercase letters, digits and \'-\', with at least one letter',
    ]);
    assert.deepEqual(lines(() => validateResource(svc([{ port: 80 }, { name: 'a', port: 80 }, { name: 'a', port: 81, protocol: 'UDP' }]), ctx)), [
      'Service default/s: spec.ports[0].name: required field is missing (needed when a service has more than one port)',
      'Service default/s: spec.ports[1].port: duplicate port 80/TCP',
      'Service default/s: spec.ports[2].name: duplicate name "a"',
    ]);
    assert.equal(validateResource(svc([{ port: 80, targetPort: 'http' }]), ctx).kind, 'Service');
    assert.deepEqual(lines(() => validateResource(svc([]), ctx)), ['Service default/s: spec.ports: required field is missing (a service needs at least one port)']);
  });

  it('Deployment: selector must match template labels; containers need unique names and images', () => {
    assert.deepEqual(lines(() => validateResource(deployment({ selector: { matchLabels: { app: 'a' } }, template: podTemplate({ app: 'b' }) }), ctx)), [
      'Deployment default/web: spec.template.metadata.labels: selector does not match template labels',
    ]);
    assert.deepEqual(lines(() => validateResource(deployment({ selector: {}, template: podTemplate({ app: 'b' }) }), ctx)), [
      'Deployment default/web: spec.selector: empty selector is invalid for deployment',
    ]);
    const template = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 0 }] }, { name: 'c' }] } };
    assert.deepEqual(lines(() => validateResource(deployment({ replicas: -1, selector: { matchLabels: { app: 'a' } }, template }), ctx)), [
      'Deployment default/web: spec.replicas: -1 must be greater than or equal to 0',
      'Deployment default/web: spec.template.spec.containers[0].ports[0].containerPort: 0 is out of range 1-65535',
      'Deployment default/web: spec.template.spec.containers[1].image: required field is missing',
    ]);
    const noContainers = { metadata: { labels: { app: 'a' } }, spec: { containers: [] } };
    assert.deepEqual(lines(() => validateResource(deployment({ selector: { matchLabels: { app: 'a' } }, template: noContainers }), ctx)), [
      'Deployment default/web: spec.template.spec.containers: must not be empty',
    ]);
  });

  it('Plugin: exactly one non-empty script', () => {
    assert.equal((validateResource(plugin({ script: 'export default {}' }), ctx).spec as { script: string }).script, 'export default {}');
    assert.deepEqual(lines(() => validateResource(plugin({ pipyscript: 'a', script: 'b' }), ctx)), [
      'Plugin token-injector: spec.script: set only one of spec.pipyscript (PipyJS) and spec.script (native module)',
    ]);
    assert.deepEqual(lines(() => validateResource(plugin({ pipyscript: '  ' }), ctx)), ['Plugin token-injector: spec.pipyscript: must not be empty']);
    assert.deepEqual(lines(() => validateResource(plugin({ pipyscript: 'x', priority: '115' }), ctx)), [
      'Plugin token-injector: spec.priority: expected number, got string "115"',
    ]);
  });

  it('PluginChain: chains and selectors required; plugins non-empty; selector operators and values', () => {
    const bad = {
      ...chain('inbound-http'),
      spec: {
        chains: [{ name: 'inbound-http', plugins: [] }],
        selectors: {
          podSelector: {
            matchExpressions: [
              { key: 'app', operator: 'In' },
              { key: 'app', operator: 'Exists', values: ['x'] },
              { key: 'app', operator: 'Equals', values: ['x'] },
            ],
          },
          namespaceSelector: { matchLabelz: {} },
        },
      },
    };
    assert.deepEqual(lines(() => validateResource(bad, ctx)), [
      'PluginChain default/token-injector-chain: spec.chains[0].plugins: must not be empty',
      'PluginChain default/token-injector-chain: spec.selectors.podSelector.matchExpressions[0].values: must be non-empty when operator is In',
      'PluginChain default/token-injector-chain: spec.selectors.podSelector.matchExpressions[1].values: must not be set when operator is Exists',
      'PluginChain default/token-injector-chain: spec.selectors.podSelector.matchExpressions[2].operator: "Equals" is not one of In, NotIn, Exists, DoesNotExist',
      'PluginChain default/token-injector-chain: spec.selectors.namespaceSelector.matchLabelz: unknown field "matchLabelz"',
    ]);
    assert.deepEqual(lines(() => validateResource({ ...chain('x'), spec: { chains: [] } }, ctx)), [
      'PluginChain default/token-injector-chain: spec.chains: must not be empty',
      'PluginChain default/token-injector-chain: spec.selectors: required field is missing',
    ]);
  });

  it('PluginConfig: destinationRefs must be non-empty Services with names; config required', () => {
    const cfg = (spec: Record<string, unknown>) => ({ apiVersion: PLUGIN_API, kind: 'PluginConfig', metadata: { name: 'c' }, spec });
    assert.deepEqual(lines(() => validateResource(cfg({ plugin: 'p', destinationRefs: [{ kind: 'Deployment' }], config: null }), ctx)), [
      'PluginConfig default/c: spec.destinationRefs[0].kind: "Deployment" is not one of Service',
      'PluginConfig default/c: spec.destinationRefs[0].name: required field is missing',
      'PluginConfig default/c: spec.config: required field is missing',
    ]);
    assert.deepEqual(lines(() => validateResource(cfg({ plugin: 'p', destinationRefs: [], config: 'any' }), ctx)), [
      'PluginConfig default/c: spec.destinationRefs: must not be empty',
    ]);
  });

  it('MeshConfig: flags, durations, key size, log level, built-in chains, unknown sections', () => {
    const metadata = { name: 'tessera-mesh-config', namespace: 'tessera-system' };
    const mc = (spec: Record<string, unknown>) => ({ apiVersion: 'config.flomesh.io/v1alpha3', kind: 'MeshConfig', metadata, spec });
    const good = mc({
      featureFlags: { enablePluginPolicy: true, enableAccessControlPolicy: true, enableSidecarPrettyConfig: true },
      traffic: { enablePermissiveTrafficPolicyMode: true, enableEgress: true, interceptionMode: 'PodLevel', outboundPortExclusionList: [] },
      certificate: { serviceCertValidityDuration: '1h30m', certKeyBitSize: 2048 },
      sidecar: { logLevel: 'error', sidecarTimeout: 60, compressConfig: true, configResyncInterval: '0s' },
      pluginChains: { 'outbound-http': [{ plugin: 'http-routing', priority: 160, disable: false }, { plugin: 'http-default', priority: 100 }] },
      observability: { fsmLogLevel: 'info' },
      extensionProviders: [{ name: 'ext', envoyExtAuthzHttp: { service: 'ext.auth', port: 9000, timeout: '2s', pathPrefix: '/check', includeRequestHeadersInCheck: ['x-ext-token'], headersToUpstreamOnAllow: ['x-user'] } }],
    });
    const out = validateResource(good, ctx).spec as { pluginChains: Record<string, { disable: boolean }[]> };
    assert.equal(out.pluginChains['outbound-http']![1]!.disable, false);
    assert.deepEqual(
      lines(() =>
        validateResource(
          mc({
            featureFlags: { enablePluginPolcy: true, enableEgressPolicy: 'yes' },
            certificate: { serviceCertValidityDuration: '24 hours', certKeyBitSize: 1024 },
            sidecar: { logLevel: 'verbose' },
            pluginChains: { 'inbound-http': [{ plugin: 'http-routing', priority: 70000 }], 'outbound-htp': [] },
            tracing: {},
            extensionProviders: [
              { name: 'a', envoyExtAuthzHttp: { service: 'a', port: 0, timeout: '-1s', pathPrefix: 'check', includeRequestHeadersInCheck: ['bad header'] } },
              { name: 'a', envoyExtAuthzHttp: { service: 'a', port: 80 } },
              { name: 'grpc', envoyExtAuthzGrpc: { service: 'g', port: 9000 } },
            ],
          }),
          ctx,
        ),
      ),
      [
        'MeshConfig tessera-system/tessera-mesh-config: spec.featureFlags.enableEgressPolicy: expected boolean, got string "yes"',
        'MeshConfig tessera-system/tessera-mesh-config: spec.featureFlags.enablePluginPolcy: unknown field "enablePluginPolcy"',
        'MeshConfig tessera-system/tessera-mesh-config: spec.certificate.serviceCertValidityDuration: "24 hours" is not a valid duration (use a Go duration like 24h, 1h30m or 90s)',
        'MeshConfig tessera-system/tessera-mesh-config: spec.certificate.certKeyBitSize: 1024 is out of range 2048-4096',
        'MeshConfig tessera-system/tessera-mesh-config: spec.sidecar.logLevel: "verbose" is not one of trace, debug, info, warn, error',
        'MeshConfig tessera-system/tessera-mesh-config: spec.pluginChains.inbound-http[0].priority: 70000 is out of range 0-65535',
        'MeshConfig tessera-system/tessera-mesh-config: spec.pluginChains.outbound-htp: unknown field "outbound-htp"',
        'MeshConfig tessera-system/tessera-mesh-config: spec.extensionProviders[0].envoyExtAuthzHttp.port: 0 is out of range 1-65535',
        'MeshConfig tessera-system/tessera-mesh-config: spec.extensionProviders[0].envoyExtAuthzHttp.timeout: "-1s" must be a positive duration',
        'MeshConfig tessera-system/tessera-mesh-config: spec.extensionProviders[0].envoyExtAuthzHttp.pathPrefix: must start with "/"',
        'MeshConfig tessera-system/tessera-mesh-config: spec.extensionProviders[0].envoyExtAuthzHttp.includeRequestHeadersInCheck[0]: "bad header" is not a header name',
        'MeshConfig tessera-system/tessera-mesh-config: spec.extensionProviders[2].envoyExtAuthzHttp: required field is missing',
        'MeshConfig tessera-system/tessera-mesh-config: spec.extensionProviders[2].envoyExtAuthzGrpc: unknown field "envoyExtAuthzGrpc"',
        'MeshConfig tessera-system/tessera-mesh-config: spec.tracing: unknown field "tracing"',
      ],
    );
    // Istio's pathNormalization, Tessera's two options; a misspelt option or mode is refused by name
    validateResource(mc({ pathNormalization: { normalization: 'MERGE_SLASHES', caseInsensitive: true, stripPathParameters: true, stripTrailingSlash: true } }), ctx);
    for (const mode of ['NONE', 'BASE', 'DECODE_AND_MERGE_SLASHES', 'DEFAULT']) validateResource(mc({ pathNormalization: { normalization: mode } }), ctx);
    assert.deepEqual(lines(() => validateResource(mc({ pathNormalization: { normalization: 'MERGE', caseInsensitve: true } }), ctx)), [
      'MeshConfig tessera-system/tessera-mesh-config: spec.pathNormalization.normalization: "MERGE" is not one of NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES, DEFAULT',
      'MeshConfig tessera-system/tessera-mesh-config: spec.pathNormalization.caseInsensitve: unknown field "caseInsensitve"',
    ]);
    // Provider names must be unique: a CUSTOM policy's provider.name has to mean one authorizer.
    const dup = { name: 'a', envoyExtAuthzHttp: { service: 'a', port: 80 } };
    assert.deepEqual(lines(() => validateResource(mc({ extensionProviders: [dup, dup] }), ctx)), [
      'MeshConfig tessera-system/tessera-mesh-config: spec.extensionProviders[1].name: duplicate extension provider "a"',
    ]);
    // CONNECT tunnel destinations: host:port, *.domain:port, IP literals, any port as *
    validateResource(mc({ traffic: { outboundConnectAllowList: ['api.example.com:443', '*.example.com:*', '10.0.0.7:5432', '[::1]:80'] } }), ctx);
    assert.deepEqual(lines(() => validateResource(mc({ traffic: { outboundConnectAllowList: ['api.example.com', '*:443'] } }), ctx)), [
      'MeshConfig tessera-system/tessera-mesh-config: spec.traffic.outboundConnectAllowList[0]: "api.example.com" needs a port: host:port (or host:*)',
      'MeshConfig tessera-system/tessera-mesh-config: spec.traffic.outboundConnectAllowList[1]: "*:443": not a DNS name, *.domain, IPv4 or [IPv6] literal',
    ]);
  });
});

describe('parseGoDuration', () => {
  it('accepts Go syntax and rejects the rest', () => {
    assert.equal(parseGoDuration('24h'), 86_400_000);
    assert.equal(parseGoDuration('1h30m'), 5_400_000);
    assert.equal(parseGoDuration('90s'), 90_000);
    assert.equal(parseGoDuration('1.5h'), 5_400_000);
    assert.equal(parseGoDuration('500ms'), 500);
    assert.equal(parseGoDuration('0'), 0);
    for (const bad of ['', '24', '1d', '24 hours', 'h', '1h 30m']) assert.equal(parseGoDuration(bad), undefined, bad);
  });
});
