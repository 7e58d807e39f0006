import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KINDS } from '../api/kinds.js';
import { X509Certificate } from 'node:crypto';
import { generateSecrets } from '../cli/commands/install.js';
import {
  chartFiles, CONTROLLER_SECRET_POLICY_MESSAGE, controllerReadRules, controllerServingNames, defaultValues, injectorServingNames, rbacTable,
  renderInstall, resolveValues, setValue, templatize,
} from './index.js';

// dist*/src/install/ → the repository
const CHART = fileURLToPath(new URL('../../../charts/tessera/', import.meta.url));
const KUBERNETES_DOC = fileURLToPath(new URL('../../../docs/kubernetes.md', import.meta.url));

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
  assert.equal((plugin.spec as { scope: string }).scope, 'Cluster');  // Istio's security kinds: v1 (Istio 1.22+) and v1beta1 served, one storage version, same schema
  for (const name of ['authorizationpolicies.security.istio.io', 'requestauthentications.security.istio.io']) {
    const crd = crds.find((c) => c.metadata.name === name)!;
    const vs = (crd.spec as { versions: { name: string; served: boolean; storage: boolean; schema: unknown }[] }).versions;
    assert.deepEqual(vs.map((v) => [v.name, v.served]).sort(), [['v1', true], ['v1beta1', true]], name);
    assert.equal(vs.filter((v) => v.storage).length, 1, name);
    assert.deepEqual(vs[0]!.schema, vs[1]!.schema, name);
  }
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

test('<mesh>-controller-tls: rendered, mounted by the controller as its TLS cert/key, issued by the mesh CA for the Service and fsm.fsmController.extraAddresses', async () => {
  // the list value: Helm's {a,b} (or a,b), replacing the list; each entry an IP or a DNS name
  const v = setValue(setValue(defaultValues(), 'fsm.meshName=blue'), 'fsm.fsmController.extraAddresses={127.0.0.1, controller.example,[::1]}');
  assert.deepEqual(v.fsm.fsmController.extraAddresses, ['127.0.0.1', 'controller.example', '[::1]']);
  assert.deepEqual(setValue(v, 'fsm.fsmController.extraAddresses=10.0.0.1').fsm.fsmController.extraAddresses, ['10.0.0.1']);
  assert.throws(() => resolveValues(setValue(v, 'fsm.fsmController.extraAddresses={300.1.2.3}')), /not an IP address/);
  assert.throws(() => resolveValues(setValue(v, 'fsm.fsmController.extraAddresses={bad_name!}')), /not an IP address or DNS name/);
  const r = resolveValues(v);
  const names = controllerServingNames(r, r.controllerExtraAddresses);
  assert.deepEqual(names.ips, ['127.0.0.1', '::1']);
  assert.deepEqual(names.dns, ['blue-controller', 'blue-controller.blue-system', 'blue-controller.blue-system.svc', 'blue-controller.blue-system.svc.cluster.local', 'controller.example']);

  const objs = renderInstall(v);
  const secret = objs.find((o) => o.kind === 'Secret' && o.metadata.name === 'blue-controller-tls')!;
  assert.equal((secret as { type?: string }).type, 'kubernetes.io/tls');
  assert.equal(secret.metadata.namespace, 'blue-system');
  const dep = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'blue-controller')!;
  const pod = (dep.spec as { template: { spec: { volumes: { name: string; secret?: { secretName: string } }[]; containers: { env: { name: string; value?: string }[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[] } } }).template.spec;
  assert.deepEqual(pod.volumes.find((x) => x.name === 'tls')?.secret, { secretName: 'blue-controller-tls' });
  assert.deepEqual(pod.containers[0]!.volumeMounts.find((m) => m.name === 'tls'), { name: 'tls', mountPath: '/etc/tessera/tls', readOnly: true });
  const env = new Map(pod.containers[0]!.env.map((e) => [e.name, e.value]));
  assert.equal(env.get('TESSERA_CONTROLLER_TLS_CERT'), '/etc/tessera/tls/tls.crt');
  assert.equal(env.get('TESSERA_CONTROLLER_TLS_KEY'), '/etc/tessera/tls/tls.key');

  // what `tessera install` puts in it: a certificate of the install's CA naming the Service and the extra addresses
  const s = await generateSecrets(r);
  const ca = new X509Certificate(Buffer.from(s.caCert, 'base64'));
  const leaf = new X509Certificate(Buffer.from(s.controllerCert, 'base64'));
  assert.ok(leaf.verify(ca.publicKey), 'signed by the mesh CA');
  assert.ok(leaf.checkHost('blue-controller.blue-system.svc'));
  assert.ok(leaf.checkHost('controller.example'));
  assert.ok(leaf.checkIP('127.0.0.1'));
  assert.ok(leaf.checkIP('::1'));
  assert.match(Buffer.from(s.controllerKey, 'base64').toString(), /PRIVATE KEY/);
  const secrets = renderInstall(v, s).find((o) => o.kind === 'Secret' && o.metadata.name === 'blue-controller-tls')!;
  assert.deepEqual(secrets.data, { 'tls.crt': s.controllerCert, 'tls.key': s.controllerKey });

  // the chart generates it in its header from the same CA, for the same names
  const template = chartFiles().get('templates/tessera.yaml')!;
  assert.match(template, /range \.Values\.fsm\.fsmController\.extraAddresses/);
  assert.match(template, /\$controllerServing := genSignedCert \(printf "%s\.%s\.svc" \$csvc \$ns\) \$cips \$cnames 3650 \$ca/);
  assert.match(template, /tls\.crt: \{\{ \$tessera\.controllerCert \| quote \}\}/);
  assert.match(chartFiles().get('values.yaml')!, /fsmController:\n    replicaCount: 1\n    extraAddresses: \[\]/);
});

test('the controller writes AccessControl status through the status subresource only; nothing else of an AccessControl', () => {
  const role = renderInstall().find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'tessera-controller')!;
  const rules = role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  const acl = rules.filter((r) => r.apiGroups.includes('policy.flomesh.io') && r.resources.some((x) => x.startsWith('accesscontrols')));
  assert.deepEqual(acl.map((r) => [r.resources, r.verbs]), [[['accesscerts', 'accesscontrols', 'retries', 'upstreamtrafficsettings'], ['get', 'list', 'watch']], [['accesscontrols/status'], ['update']]]);
  for (const r of rules) {
    if (r.resources.some((x) => x.endsWith('/status'))) assert.deepEqual(r.resources, ['accesscontrols/status'], 'no other status subresource');
  }
});

test('the controller\'s Secret rule as a ValidatingAdmissionPolicy and its binding, before the Deployments; the chart needs 1.30', () => {
  const objs = renderInstall(setValue(defaultValues(), 'fsm.meshName=blue'));
  const policy = objs.find((o) => o.kind === 'ValidatingAdmissionPolicy')!;
  const binding = objs.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding')!;
  assert.equal(policy.apiVersion, 'admissionregistration.k8s.io/v1');
  assert.equal(policy.metadata.name, 'blue-controller-secrets');
  assert.deepEqual(binding.spec, { policyName: 'blue-controller-secrets', validationActions: ['Deny'] });
  const spec = policy.spec as {
    failurePolicy: string; matchConstraints: { resourceRules: { resources: string[]; operations: string[] }[] };
    matchConditions: { expression: string }[]; variables: { name: string; expression: string }[]; validations: { expression: string; message: string; reason: string }[];
  };
  assert.equal(spec.failurePolicy, 'Fail');
  assert.deepEqual(spec.matchConstraints.resourceRules.map((r) => [r.resources, r.operations]), [[['secrets'], ['CREATE', 'UPDATE', 'DELETE']]]);
  assert.equal(spec.matchConditions[0]!.expression, "request.userInfo.username == 'system:serviceaccount:blue-system:blue-controller'");
  const own = spec.variables.find((v) => v.name === 'ownNew')!.expression;
  assert.match(own, /request\.namespace == 'blue-system' && object\.metadata\.name == 'blue-ca-bundle'/);
  assert.match(own, /'policy\.flomesh\.io\/access-cert' in object\.metadata\.annotations/);
  assert.equal(spec.validations[0]!.message, CONTROLLER_SECRET_POLICY_MESSAGE);
  assert.equal(spec.validations[0]!.reason, 'Forbidden');
  const kinds = objs.map((o) => o.kind);
  assert.ok(kinds.indexOf('ValidatingAdmissionPolicyBinding') < kinds.indexOf('Deployment'), 'in force before the controller runs');
  const template = chartFiles().get('templates/tessera.yaml')!;
  assert.match(template, /kind: ValidatingAdmissionPolicyBinding\n/);
  assert.match(template, /system:serviceaccount:\{\{ include "tessera.namespace" \. \}\}:\{\{ \.Values\.fsm\.meshName \}\}-controller/);
  assert.match(chartFiles().get('Chart.yaml')!, /kubeVersion: ">=1\.30\.0-0"/);
});

test('docs/kubernetes.md lists the RBAC rules the install renders', () => {
  const doc = readFileSync(KUBERNETES_DOC, 'utf8');
  const m = /<!-- rbac:begin[^>]*-->\n([\s\S]*?)<!-- rbac:end -->/.exec(doc);
  assert.ok(m, 'docs/kubernetes.md has the <!-- rbac:begin --> … <!-- rbac:end --> block');
  assert.equal(m[1], rbacTable(), `the RBAC table in docs/kubernetes.md is stale; put this between the markers:\n${rbacTable()}`);
});
