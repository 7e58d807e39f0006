/**
 * `tessera install` / `tessera uninstall` and the Helm chart against the reference Kubernetes
 * control plane (issue #14 item 1, issue #21 part 4): real CRDs established and validating, RBAC
 * at least privilege as the real API server decides it, the webhook's CA bundle, the chart equal to
 * the install, and nothing left behind. The Deployments' pods need a node (issue #21 part 5): not here.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseYamlDocuments, renderCrds, type Manifest } from '../../src/install/index.js';
import { referenceBinaries, startReferenceCluster, type ReferenceCluster } from '../support/kube-reference.js';
import { REPO_ROOT, run, SAMPLES, type RunResult } from '../support/mesh.js';

const bins = referenceBinaries();
const skip = 'skip' in bins ? bins.skip : false;
/** this build's CLI (not dist/'s: each build runs its own copy) */
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const CHART = join(REPO_ROOT, 'charts', 'tessera');
const MESH = 'tessera';
const NS = `${MESH}-system`;
const TIMEOUT_MS = 180_000;

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Volatile material (generated keys) replaced, documents in one order, formatting gone. */
function normalise(yaml: string): Manifest[] {
  return parseYamlDocuments(yaml)
    .map((o) => {
      const c = structuredClone(o);
      if (c.kind === 'Secret' && c.data) for (const k of Object.keys(c.data as object)) (c.data as Record<string, string>)[k] = '<generated>';
      if (c.kind === 'MutatingWebhookConfiguration') for (const w of c.webhooks as { clientConfig: { caBundle?: string } }[]) w.clientConfig.caBundle = '<ca>';
      return c;
    })
    .sort((a, b) => `${a.kind}/${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.namespace ?? ''}/${b.metadata.name}`));
}

describe('tessera install on the reference cluster', { skip }, () => {
  let cluster: ReferenceCluster;
  let helm: string;
  const tessera = (args: string[], timeoutMs = TIMEOUT_MS): Promise<RunResult> =>
    run(process.execPath, [CLI, ...args, '--kubeconfig', cluster.kubeconfig], { timeoutMs, env: { ...process.env, KUBECONFIG: cluster.kubeconfig } });
  const kubectl = (args: string[], input?: string): Promise<RunResult> => cluster.kubectl(args, { timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });
  const helmRun = (args: string[]): Promise<RunResult> =>
    run(helm, args, { timeoutMs: 120_000, cwd: cluster.dir, env: { ...process.env, HOME: cluster.dir, KUBECONFIG: cluster.kubeconfig, HELM_CACHE_HOME: join(cluster.dir, 'helm-cache'), HELM_CONFIG_HOME: join(cluster.dir, 'helm-config'), HELM_DATA_HOME: join(cluster.dir, 'helm-data') } });

  before(async () => {
    // the namespace controller finalizes deleted namespaces; the token controller fills SA tokens
    cluster = await startReferenceCluster({ withControllers: true });
    helm = join(cluster.binDir, 'helm');
  });
  after(async () => {
    await cluster?.stop();
  });

  test('helm template renders what tessera install --dry-run prints; helm lint passes', async () => {
    const dry = ok(await run(process.execPath, [CLI, 'install', '--dry-run'], { timeoutMs: 60_000 }), 'tessera install --dry-run');
    const tpl = ok(await helmRun(['template', MESH, CHART, '--include-crds']), 'helm template');
    assert.deepEqual(normalise(tpl), normalise(dry));
    // with values set on both sides, too
    const sets = ['fsm.meshName=other', 'fsm.image.tag=9.9.9', 'fsm.fsmController.replicaCount=2', 'fsm.enablePermissiveTrafficPolicy=false'];
    // the controller's extra addresses: the CLI's --controller-address sets the chart's list value
    const dry2 = ok(await run(process.execPath, [CLI, 'install', '--dry-run', ...sets.flatMap((s) => ['--set', s]), '--controller-address', '127.0.0.1,controller.example'], { timeoutMs: 60_000 }), 'dry-run with --set');
    const tpl2 = ok(await helmRun(['template', 'other', CHART, '--include-crds', ...sets.flatMap((s) => ['--set', s]), '--set', 'fsm.fsmController.extraAddresses={127.0.0.1,controller.example}']), 'helm template with --set');
    assert.deepEqual(normalise(tpl2), normalise(dry2));
    // both issue <mesh>-controller-tls from the CA they render, for the Service and the extra addresses
    const { X509Certificate } = await import('node:crypto');
    for (const [what, yaml] of [['helm template', tpl2], ['--dry-run', dry2]] as const) {
      const objs = parseYamlDocuments(yaml);
      const data = (name: string) => objs.find((o) => o.kind === 'Secret' && o.metadata.name === name)!.data as Record<string, string>;
      const ca = new X509Certificate(Buffer.from(data('other-ca-bundle')['ca.crt']!, 'base64'));
      const leaf = new X509Certificate(Buffer.from(data('other-controller-tls')['tls.crt']!, 'base64'));
      assert.ok(leaf.verify(ca.publicKey), `${what}: the controller's certificate is signed by the mesh CA`);
      assert.ok(leaf.checkHost('other-controller.other-system.svc'), `${what}: names the controller Service`);
      assert.ok(leaf.checkHost('controller.example'), `${what}: names the extra DNS name`);
      assert.ok(leaf.checkIP('127.0.0.1'), `${what}: names the extra IP`);
    }
    const lint = ok(await helmRun(['lint', CHART]), 'helm lint');
    assert.match(lint, /0 chart\(s\) failed/);
  });

  test('install: CRDs established and listed, kubectl explain, samples validated by the CRD schemas', async () => {
    const out = ok(await tessera(['install', '--timeout', '2m']), 'tessera install');
    assert.match(out, /CustomResourceDefinitions established/);
    assert.match(out, /need|node/);
    const crds = renderCrds().map((c) => c.metadata.name);
    const established = ok(await kubectl(['get', 'crd', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Established")].status}{"\\n"}{end}']), 'get crd');
    for (const name of crds) assert.match(established, new RegExp(`^${name.replace(/\./g, '\\.')}=True$`, 'm'), `${name} Established`);
    const listed = ok(await kubectl(['get', 'crd']), 'kubectl get crd');
    for (const name of crds) assert.ok(listed.includes(name), `kubectl get crd lists ${name}`);
    const explain = ok(await kubectl(['explain', 'pluginchains.plugin.flomesh.io']), 'kubectl explain');
    assert.match(explain, /KIND:\s+PluginChain/);
    assert.match(explain, /spec/);
    ok(await kubectl(['get', 'meshconfig', '-n', NS, `${MESH}-mesh-config`]), 'preset MeshConfig');

    // FSM samples and an SMI TrafficTarget through the real API server (schema-validated)
    ok(await kubectl(['create', 'namespace', 'curl']), 'create ns');
    ok(await kubectl(['apply', '-f', join(SAMPLES, 'plugins-cors.yaml')]), 'apply Plugin sample');
    const chain = `apiVersion: plugin.flomesh.io/v1alpha1
kind: PluginChain
metadata: { name: cors-chain, namespace: curl }
spec:
  chains:
    - name: inbound-http
      plugins: [cors-policy]
  selectors:
    podSelector: { matchLabels: { app: curl } }
    namespaceSelector: { matchExpressions: [{ key: flomesh.io/monitored-by, operator: In, values: [${MESH}] }] }
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: { name: curl-to-httpbin, namespace: curl }
spec:
  destination: { kind: ServiceAccount, name: httpbin, namespace: curl }
  rules: [{ kind: HTTPRouteGroup, name: routes, matches: [all] }]
  sources: [{ kind: ServiceAccount, name: curl, namespace: curl }]
`;
    ok(await kubectl(['apply', '-f', '-'], chain), 'apply PluginChain and TrafficTarget');
    ok(await kubectl(['get', 'pichn', '-n', 'curl', 'cors-chain']), 'get by short name');
    // the schema types metadata: a malformed object is refused by the API server itself
    const bad = await kubectl(['apply', '-f', '-'], 'apiVersion: plugin.flomesh.io/v1alpha1\nkind: PluginChain\nmetadata: { name: bad, namespace: curl }\nspec: 7\n');
    assert.notEqual(bad.code, 0, 'a non-object spec is refused');
  });

  test('RBAC is least privilege (the API server decides)', async () => {
    const can = async (sa: string, args: string[]): Promise<boolean> => {
      const r = await kubectl(['auth', 'can-i', `--as=system:serviceaccount:${NS}:${MESH}-${sa}`, ...args]);
      return r.stdout.trim() === 'yes';
    };
    assert.equal(await can('controller', ['list', 'pluginchains.plugin.flomesh.io', '-A']), true);
    assert.equal(await can('controller', ['watch', 'traffictargets.access.smi-spec.io', '-A']), true);
    assert.equal(await can('controller', ['list', 'endpointslices.discovery.k8s.io', '-A']), true);
    assert.equal(await can('controller', ['update', 'accesscontrols.policy.flomesh.io', '--subresource=status', '-n', 'curl']), true);
    // status through the subresource only: nothing on the AccessControl itself
    assert.equal(await can('controller', ['update', 'accesscontrols.policy.flomesh.io', '-n', 'curl']), false);
    assert.equal(await can('controller', ['patch', 'accesscontrols.policy.flomesh.io', '-n', 'curl']), false);
    assert.equal(await can('controller', ['create', 'pods', '-n', 'curl']), false);
    assert.equal(await can('controller', ['delete', 'pluginchains.plugin.flomesh.io', '-n', 'curl']), false);
    assert.equal(await can('controller', ['create', 'configmaps', '-n', 'curl']), false);
    assert.equal(await can('controller', ['create', 'configmaps', '-n', NS]), true);
    // Secrets anywhere as far as RBAC goes; which ones, the ValidatingAdmissionPolicy decides (secret-policy.test.ts)
    assert.equal(await can('controller', ['create', 'secrets', '-n', 'curl']), true);
    ok(await kubectl(['get', 'validatingadmissionpolicy', `${MESH}-controller-secrets`]), 'the controller\'s Secret policy');
    ok(await kubectl(['get', 'validatingadmissionpolicybinding', `${MESH}-controller-secrets`]), 'its binding');
    assert.equal(await can('injector', ['get', 'namespaces']), true);
    assert.equal(await can('injector', ['get', 'secrets', '-n', NS]), false);
    assert.equal(await can('injector', ['list', 'pods', '-A']), false);
    assert.equal(await can('bootstrap', ['create', 'meshconfigs.config.flomesh.io', '-n', NS]), true);
    assert.equal(await can('bootstrap', ['create', 'meshconfigs.config.flomesh.io', '-n', 'curl']), false);
    assert.equal(await can('bootstrap', ['get', 'secrets', '-n', NS]), false);
  });

  test('the MutatingWebhookConfiguration carries the mesh CA and FSM\'s selector', async () => {
    const mwc = JSON.parse(ok(await kubectl(['get', 'mutatingwebhookconfiguration', `tessera-webhook-${MESH}`, '-o', 'json']), 'get mwc')) as {
      webhooks: { name: string; failurePolicy: string; sideEffects: string; admissionReviewVersions: string[]; clientConfig: { caBundle: string; service: { name: string; namespace: string; path: string } }; namespaceSelector: { matchLabels: Record<string, string> } }[];
    };
    const w = mwc.webhooks[0]!;
    const secret = JSON.parse(ok(await kubectl(['get', 'secret', '-n', NS, `${MESH}-ca-bundle`, '-o', 'json']), 'get ca secret')) as { data: Record<string, string> };
    assert.equal(w.clientConfig.caBundle, secret.data['ca.crt']);
    assert.match(Buffer.from(w.clientConfig.caBundle, 'base64').toString(), /BEGIN CERTIFICATE/);
    assert.equal(w.failurePolicy, 'Fail');
    assert.equal(w.sideEffects, 'None');
    assert.deepEqual(w.admissionReviewVersions, ['v1']);
    assert.deepEqual(w.clientConfig.service, { name: `${MESH}-injector`, namespace: NS, path: '/mutate-pod-creation', port: 9090 });
    assert.deepEqual(w.namespaceSelector.matchLabels, { 'flomesh.io/monitored-by': MESH });
    // the injector's serving certificate is issued by that CA
    const tls = JSON.parse(ok(await kubectl(['get', 'secret', '-n', NS, `${MESH}-injector-tls`, '-o', 'json']), 'get tls')) as { data: Record<string, string> };
    const { X509Certificate } = await import('node:crypto');
    const caCert = new X509Certificate(Buffer.from(secret.data['ca.crt']!, 'base64'));
    const leaf = new X509Certificate(Buffer.from(tls.data['tls.crt']!, 'base64'));
    assert.ok(leaf.verify(caCert.publicKey), 'injector certificate signed by the mesh CA');
    assert.ok(leaf.checkHost(`${MESH}-injector.${NS}.svc`));
    // and so is the controller's (sidecars verify the controller with that CA)
    const ctls = JSON.parse(ok(await kubectl(['get', 'secret', '-n', NS, `${MESH}-controller-tls`, '-o', 'json']), 'get controller tls')) as { type: string; data: Record<string, string> };
    assert.equal(ctls.type, 'kubernetes.io/tls');
    const controllerLeaf = new X509Certificate(Buffer.from(ctls.data['tls.crt']!, 'base64'));
    assert.ok(controllerLeaf.verify(caCert.publicKey), 'controller certificate signed by the mesh CA');
    assert.ok(controllerLeaf.checkHost(`${MESH}-controller.${NS}.svc`));
    // a second install keeps the CA
    ok(await tessera(['install', '--timeout', '2m']), 'tessera install again');
    const again = JSON.parse(ok(await kubectl(['get', 'secret', '-n', NS, `${MESH}-ca-bundle`, '-o', 'json']), 'get ca secret')) as { data: Record<string, string> };
    assert.equal(again.data['ca.crt'], secret.data['ca.crt']);
  });

  test('helm install of the chart into a second release namespace, beside the first mesh', async () => {
    ok(await kubectl(['create', 'namespace', 'release-two']), 'create release ns');
    ok(await helmRun(['install', 'second', CHART, '-n', 'release-two', '--set', 'fsm.meshName=second', '--wait=false', '--timeout', '2m']), 'helm install');
    ok(await kubectl(['get', 'meshconfig', '-n', 'second-system', 'second-mesh-config']), 'second MeshConfig');
    const r = await kubectl(['auth', 'can-i', '--as=system:serviceaccount:second-system:second-controller', 'list', 'pluginchains.plugin.flomesh.io', '-A']);
    assert.equal(r.stdout.trim(), 'yes');
    const mwc = ok(await kubectl(['get', 'mutatingwebhookconfiguration', 'tessera-webhook-second', '-o', 'jsonpath={.webhooks[0].clientConfig.caBundle}']), 'second mwc');
    const caCrt = ok(await kubectl(['get', 'secret', '-n', 'second-system', 'second-ca-bundle', '-o', 'jsonpath={.data.ca\\.crt}']), 'second ca');
    assert.equal(mwc, caCrt);
    // the rendered templates also pass server-side dry-run validation as a plain apply
    const tpl = ok(await helmRun(['template', 'third', CHART, '--set', 'fsm.meshName=third']), 'helm template third');
    writeFileSync(join(cluster.dir, 'third.yaml'), tpl);
    ok(await kubectl(['create', 'namespace', 'third-system']), 'create third ns');
    ok(await kubectl(['apply', '--dry-run=server', '-f', join(cluster.dir, 'third.yaml')]), 'server-side dry run');
    ok(await helmRun(['uninstall', 'second', '-n', 'release-two', '--wait', '--timeout', '2m']), 'helm uninstall');
    // CRDs from crds/ stay (Helm never deletes them); the first mesh still works
    ok(await kubectl(['get', 'crd', 'pluginchains.plugin.flomesh.io']), 'CRDs kept by helm');
  });

  test('upgrade: installing again with new values updates the mesh and keeps its CA and keys; helm upgrade too', async () => {
    const caBefore = ok(await kubectl(['get', 'secret', '-n', NS, `${MESH}-ca-bundle`, '-o', 'jsonpath={.data.ca\\.crt}']), 'CA before');
    const keyBefore = ok(await kubectl(['get', 'secret', '-n', NS, `${MESH}-mesh-key`, '-o', 'jsonpath={.data.mesh-key}']), 'mesh key before');
    ok(await tessera(['install', '--timeout', '2m', '--set', 'fsm.fsmController.replicaCount=2', '--set', 'fsm.image.tag=v9.9.9']), 'tessera install again (upgrade)');
    const deploy = JSON.parse(ok(await kubectl(['get', 'deploy', '-n', NS, `${MESH}-controller`, '-o', 'json']), 'controller deployment')) as { spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } };
    assert.equal(deploy.spec.replicas, 2, 'the new replica count is applied');
    assert.match(deploy.spec.template.spec.containers[0]!.image, /:v9\.9\.9$/, 'the new image tag is applied');
    assert.equal(ok(await kubectl(['get', 'secret', '-n', NS, `${MESH}-ca-bundle`, '-o', 'jsonpath={.data.ca\\.crt}']), 'CA after'), caBefore, 'the mesh CA is kept');
    assert.equal(ok(await kubectl(['get', 'secret', '-n', NS, `${MESH}-mesh-key`, '-o', 'jsonpath={.data.mesh-key}']), 'mesh key after'), keyBefore, 'the mesh key is kept');
    const webhookCa = ok(await kubectl(['get', 'mutatingwebhookconfiguration', `tessera-webhook-${MESH}`, '-o', 'jsonpath={.webhooks[0].clientConfig.caBundle}']), 'webhook CA');
    assert.equal(webhookCa, caBefore, 'the webhook still trusts the same CA');
    // helm: an upgrade of a chart release keeps the CA it generated (the chart looks the Secret up)
    ok(await kubectl(['create', 'namespace', 'release-four']), 'create release ns');
    ok(await helmRun(['install', 'four', CHART, '-n', 'release-four', '--set', 'fsm.meshName=four', '--wait=false', '--timeout', '2m']), 'helm install four');
    const fourCa = ok(await kubectl(['get', 'secret', '-n', 'four-system', 'four-ca-bundle', '-o', 'jsonpath={.data.ca\\.crt}']), 'four CA');
    ok(await helmRun(['upgrade', 'four', CHART, '-n', 'release-four', '--set', 'fsm.meshName=four', '--set', 'fsm.fsmController.replicaCount=3', '--wait=false', '--timeout', '2m']), 'helm upgrade four');
    assert.equal(ok(await kubectl(['get', 'deploy', '-n', 'four-system', 'four-controller', '-o', 'jsonpath={.spec.replicas}']), 'four replicas'), '3');
    assert.equal(ok(await kubectl(['get', 'secret', '-n', 'four-system', 'four-ca-bundle', '-o', 'jsonpath={.data.ca\\.crt}']), 'four CA after'), fourCa, 'helm upgrade keeps the CA');
    ok(await helmRun(['uninstall', 'four', '-n', 'release-four', '--wait', '--timeout', '2m']), 'helm uninstall four');
  });

  test('uninstall leaves nothing behind', async () => {
    // the CA ConfigMap the controller keeps in a monitored namespace (as it writes it: labelled as its
    // own; cluster-bootstrap.test.ts runs the real controller), and one of the same name that is not its
    const caRoot = (ns: string, labels: string): string =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${MESH}-ca-root-cert\n  namespace: ${ns}\n  labels: {${labels}}\ndata:\n  ca.crt: x\n`;
    ok(await kubectl(['create', 'namespace', 'meshed-app']), 'create meshed-app');
    ok(await kubectl(['create', 'namespace', 'other-app']), 'create other-app');
    ok(await kubectl(['apply', '-f', '-'], `${caRoot('meshed-app', `app.kubernetes.io/managed-by: ${MESH}-controller`)}---\n${caRoot('other-app', '')}`), 'CA ConfigMaps');
    const out = ok(await tessera(['uninstall', '--timeout', '2m']), 'tessera uninstall');
    assert.match(out, new RegExp(`configmap/${MESH}-ca-root-cert -n meshed-app deleted`));
    assert.notEqual((await kubectl(['get', 'configmap', `${MESH}-ca-root-cert`, '-n', 'meshed-app'])).code, 0, "the controller's CA ConfigMap is gone");
    ok(await kubectl(['get', 'configmap', `${MESH}-ca-root-cert`, '-n', 'other-app']), 'a ConfigMap the controller did not label stays');
    assert.match(out, /deletes every mesh resource/);
    const crds = ok(await kubectl(['get', 'crd', '-o', 'name']), 'get crd');
    for (const c of renderCrds()) assert.ok(!crds.includes(c.metadata.name), `${c.metadata.name} deleted`);
    const ns = await kubectl(['get', 'namespace', NS]);
    assert.notEqual(ns.code, 0, `${NS} is gone`);
    const roles = ok(await kubectl(['get', 'clusterroles,clusterrolebindings', '-o', 'name']), 'get cluster rbac');
    assert.doesNotMatch(roles, new RegExp(`/${MESH}-(controller|injector|bootstrap)$`, 'm'));
    const hooks = ok(await kubectl(['get', 'mutatingwebhookconfigurations', '-o', 'name']), 'get mwc');
    assert.doesNotMatch(hooks, /tessera-webhook-/);
    // the controller's Secret policy and its binding (cluster-scoped) went too
    const policies = ok(await kubectl(['get', 'validatingadmissionpolicies,validatingadmissionpolicybindings', '-o', 'name']), 'get vap');
    assert.doesNotMatch(policies, new RegExp(`/${MESH}-controller-secrets$`, 'm'));
    // the second (helm) mesh's namespace went with `helm uninstall`
    const second = await kubectl(['get', 'namespace', 'second-system']);
    if (second.code === 0) assert.match(second.stdout, /Terminating/);
  });
});
