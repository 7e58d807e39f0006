import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KINDS } from '../api/kinds.js';
import { chartFiles, controllerReadRules, defaultValues, injectorServingNames, renderInstall, resolveValues, setValue, templatize } from './index.js';

// dist*/src/install/ → the repository
const CHART = fileURLToPath(new URL('../../../charts/tessera/', import.meta.url));

test('the committed chart is what src/install renders (node scripts/render-chart.mjs)', () => {
  const files = chartFiles();
  const onDisk = existsSync(CHART)
    ? readdirSync(CHART, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(CHART, join(e.parentPath, e.name)))
    : [];
  assert.deepEqual([...onDisk].sort(), [...files.keys()].sort(), 'the same files');
  for (const [path, text] of files) assert.equal(readFileSync(join(CHART, path), 'utf8'), text, `${path} is up to date`);
});

test('one CRD per mesh kind, with the registry\'s versions, scope and names', () => {
  const crds = renderInstall().filter((m) => m.kind === 'CustomResourceDefinition');
  const mesh = KINDS.filter((k) => !['', 'apps'].includes(k.apiVersion.includes('/') ? k.apiVersion.split('/')[0]! : ''));
  assert.equal(crds.length, mesh.length);
  const pc = crds.find((c) => c.metadata.name === 'pluginchains.plugin.flomesh.io')!;
  const spec = pc.spec as { scope: string; names: { shortNames: string[]; categories: string[] }; versions: { name: string; storage: boolean; subresources?: object }[] };
  assert.equal(spec.scope, 'Namespaced');
  assert.deepEqual(spec.names.shortNames, ['pichn']);
  assert.deepEqual(spec.names.categories, ['fsm']);
  assert.deepEqual(spec.versions.map((v) => [v.name, v.storage]), [['v1alpha1', true]]);
  const mc = crds.find((c) => c.metadata.name === 'meshconfigs.config.flomesh.io')!;
  const versions = (mc.spec as { versions: { name: string; storage: boolean }[] }).versions;
  assert.deepEqual(versions.filter((v) => v.storage).map((v) => v.name), ['v1alpha3']);
  assert.ok(versions.some((v) => v.name === 'v1alpha1'));
  const plugin = crds.find((c) => c.metadata.name === 'plugins.plugin.flomesh.io')!;
  assert.equal((plugin.spec as { scope: string }).scope, 'Cluster');
});

test('--set takes FSM\'s names, typed; unknown keys and unsupported settings are refused', () => {
  let v = setValue(defaultValues(), 'fsm.meshName=blue');
  v = setValue(v, 'fsm.enablePermissiveTrafficPolicy=false');
  v = setValue(v, 'fsm.fsmController.replicaCount=3');
  const r = resolveValues(v);
  assert.equal(r.namespace, 'blue-system');
  assert.equal(r.caBundleSecretName, 'blue-ca-bundle');
  assert.equal(r.permissive, false);
  assert.equal(r.controllerReplicas, 3);
  assert.throws(() => setValue(v, 'fsm.nope=1'), /unknown value/);
  assert.throws(() => setValue(v, 'fsm.enableEgress=maybe'), /true or false/);
  assert.throws(() => resolveValues(setValue(v, 'fsm.certificateProvider.kind=vault')), /only "tresor"/);
  const objs = renderInstall(v);
  const mc = objs.find((o) => o.kind === 'MeshConfig')!;
  assert.equal((mc.spec as { traffic: { enablePermissiveTrafficPolicyMode: boolean } }).traffic.enablePermissiveTrafficPolicyMode, false);
  const dep = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'blue-controller')!;
  assert.equal((dep.spec as { replicas: number }).replicas, 3);
});

test('the controller reads every kind it watches; the order puts the namespace first and the webhook last', () => {
  const rules = controllerReadRules();
  for (const k of KINDS) {
    const group = k.apiVersion.includes('/') ? k.apiVersion.split('/')[0]! : '';
    assert.ok(rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(k.plural)), `${k.plural} readable`);
  }
  const kinds = renderInstall().map((o) => o.kind);
  assert.equal(kinds[0], 'Namespace');
  assert.equal(kinds.at(-1), 'MutatingWebhookConfiguration');
  assert.ok(kinds.indexOf('ServiceAccount') < kinds.indexOf('Secret'), 'ServiceAccounts before their token Secrets');
});

test('templatize keeps whole scalars typed and splices markers inside strings', () => {
  assert.equal(templatize('  replicas: __TESSERA_controllerReplicas__\n'), '  replicas: {{ int (.Values.fsm.fsmController.replicaCount) }}\n');
  assert.equal(templatize('  name: __TESSERA_mesh__\n'), '  name: {{ .Values.fsm.meshName | quote }}\n');
  assert.equal(templatize('  image: __TESSERA_registry__/x:__TESSERA_tag__\n'), '  image: {{ .Values.fsm.image.registry }}/x:{{ .Values.fsm.image.tag }}\n');
  assert.equal(templatize("    - '__TESSERA_namespace__'\n"), '    - {{ include "tessera.namespace" . | quote }}\n');
});

test('fsm.injector.webhookURL: the webhook calls that URL instead of the Service; https only; the serving names include its host', () => {
  const url = 'https://127.0.0.1:8443/mutate-pod-creation';
  const v = setValue(defaultValues(), `fsm.injector.webhookURL=${url}`);
  const hook = renderInstall(v).find((o) => o.kind === 'MutatingWebhookConfiguration')!;
  const cc = (hook.webhooks as { clientConfig: { url?: string; service?: unknown } }[])[0]!.clientConfig;
  assert.equal(cc.url, url);
  assert.equal(cc.service, undefined);
  const byDefault = renderInstall().find((o) => o.kind === 'MutatingWebhookConfiguration')!;
  assert.ok((byDefault.webhooks as { clientConfig: { service?: unknown } }[])[0]!.clientConfig.service, 'the Service by default');
  assert.throws(() => resolveValues(setValue(defaultValues(), 'fsm.injector.webhookURL=http://127.0.0.1:1/x')), /https only/);
  assert.deepEqual(injectorServingNames(resolveValues(v)).ips, ['127.0.0.1']);
  const named = injectorServingNames(resolveValues(setValue(defaultValues(), 'fsm.injector.webhookURL=https://injector.example:9443/m')));
  assert.ok(named.dns.includes('injector.example') && named.dns.includes('tessera-injector.tessera-system.svc'));
  const template = chartFiles().get('templates/tessera.yaml')!;
  assert.match(template, /\{\{- if \.Values\.fsm\.injector\.webhookURL \}\}\n\s+url: \{\{ \.Values\.fsm\.injector\.webhookURL \| quote \}\}\n\s+\{\{- else \}\}\n\s+service:/);
  // the injector's Deployment can read namespaces in Kubernetes mode (ServiceAccount token file)
  const dep = renderInstall().find((o) => o.kind === 'Deployment' && o.metadata.name === 'tessera-injector')!;
  const env = (dep.spec as { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } }).template.spec.containers[0]!.env;
  assert.equal(env.find((e) => e.name === 'TESSERA_INJECTOR_API_TOKEN_FILE')?.value, '/var/run/secrets/kubernetes.io/serviceaccount/token');
});
