/**
 * Issue #14 part 5, first steps: the Kubernetes-mode install against the embedded Kubernetes API of
 * `tessera up`, with the real kubectl and the real injector process. The local mesh is `tessera`;
 * what is installed is the mesh `fsm`, so the local mesh's own controller and injector (which serve
 * `tessera`) never act on it. The embedded API stores the install's MutatingWebhookConfiguration and
 * calls the injector for pods of namespaces monitored by `fsm`, over HTTPS verified with the
 * install's caBundle; a second mutating webhook of the test (ordered after it by name) sees the pod
 * as the injector patched it. failurePolicy Fail refuses pods while the injector is down.
 *
 * The install's ValidatingAdmissionPolicy `fsm-controller-secrets` and its binding are validated,
 * defaulted and stored as kube-apiserver does, and enforced: as the controller's ServiceAccount, a
 * foreign Secret is refused with the policy's message and its own (AccessCert-annotated) Secrets and
 * the CA bundle go through; everybody else is untouched. A policy using params is refused.
 *
 * The install's Deployments are accepted and run as local pods (`tessera install` into the embedded
 * API, end to end: kube-install-embedded.test.ts).
 *
 * Server-side apply is served (kubectl apply --server-side: server-side-apply.test.ts).
 *
 * A Pod written through the API goes through the same admission chain as any pod (the local deployment
 * controller's too): stored as the injector and the next webhook patched it, with an address of the
 * mesh's block, and run by the local runtime (kube-pods-embedded.test.ts runs such pods to Ready with
 * the install's controller).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CONTROLLER_SECRET_POLICY_MESSAGE } from '../../src/install/index.js';
import { freePort } from '../../src/lib/test-processes.js';
import { patchOf, startTestWebhook, type TestWebhook } from '../../src/kube/admission-webhooks/test-webhook.js';
import { HostProcesses, INJECTOR_MAIN, injectorEnv, ok, waitFor, type HostProcess } from '../support/kube-mode.js';
import { embeddedServiceAccountKubeconfig, manifestsOf, newestKubectl, yamlOf, type Kubectl, type Manifest } from '../support/kube-mode-embedded.js';
import { kubectlBinaries } from '../support/kubectl.js';
import { startKubectlMesh } from '../support/kubectl.js';
import { REPO_ROOT, type RunResult, type TestMesh } from '../support/mesh.js';

const skip = kubectlBinaries().length === 0 ? 'kube mode on the embedded API: no kubectl on this machine (scripts/install-kubectl-debian.sh)' : false;
const MESH = 'fsm';
const NS = `${MESH}-system`;
const WEBHOOK = 'fsm-inject.k8s.io';
const POLICY = `${MESH}-controller-secrets`;
const OWNER = 'policy.flomesh.io/access-cert';

const pod = (name: string, ns: string) => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${ns}, labels: { app: ${name} } }
spec:
  containers:
  - { name: app, image: curlimages/curl, command: [sleep, infinity] }
`;

describe('Kubernetes mode on the embedded API: the install\'s webhook called by tessera up\'s API server', { skip }, () => {
  let mesh: TestMesh;
  let kubectl: Kubectl;
  const children = new HostProcesses();
  let injector: HostProcess | undefined;
  let observer: TestWebhook;
  let injectorPort = 0;
  let rendered: Manifest[] = [];
  const detail = (): string => children.all.map((c) => `--- ${c.name} ---\n${c.output().split('\n').slice(-30).join('\n')}`).join('\n');

  before(async () => {
    mesh = await startKubectlMesh('tessera', ['--pod-network', 'loopback']);
    kubectl = newestKubectl(mesh)!.run;
    injectorPort = await freePort();
    const out = await mesh.tessera(['install', '--mesh-name', MESH, '--dry-run', '--set', `fsm.injector.webhookURL=https://127.0.0.1:${injectorPort}/mutate-pod-creation`, '--controller-address', '127.0.0.1']);
    rendered = manifestsOf(ok(out, 'tessera install --dry-run'));
    observer = await startTestWebhook();
  });

  after(async () => {
    await children.stopAll();
    if (process.env.TESSERA_NODE_DEBUG) process.stderr.write(`${detail()}\n`);
    await observer?.close();
    await mesh?.stop();
  });

  test('the rendered manifests against the embedded API: what it validates and stores, and what it cannot take yet', async () => {
    const file = join(mesh.stateDir, 'rendered.yaml');
    writeFileSync(file, yamlOf(rendered));
    // (`tessera install` itself, its Deployments running as local pods: kube-install-embedded.test.ts;
    // here the rendered manifests go in with kubectl)
    // server-side apply (dry run) of the whole rendering: served
    const ssa = await kubectl(['apply', '--server-side', '--validate=strict', '--dry-run=server', '-f', file]);
    assert.doesNotMatch(ssa.stderr, /UnsupportedMediaType|unknown format/);
    assert.match(ssa.stdout, /mutatingwebhookconfiguration\.admissionregistration\.k8s\.io\/tessera-webhook-fsm serverside-applied \(server dry run\)/);

    // Everything but the CRDs (built in here) and the Deployments, with the real kubectl: validated
    // strictly against the embedded API's OpenAPI and stored, the policy and its binding included.
    const served = rendered.filter((m) => m.kind !== 'CustomResourceDefinition' && m.kind !== 'Deployment');
    assert.ok(served.some((m) => m.kind === 'ValidatingAdmissionPolicy') && served.some((m) => m.kind === 'ValidatingAdmissionPolicyBinding'), 'the install renders the policy and its binding');
    const applied = await kubectl(['apply', '--validate=strict', '-f', '-'], yamlOf(served));
    assert.equal(applied.code, 0, `${applied.stdout}\n${applied.stderr}`);
    assert.match(applied.stdout, /mutatingwebhookconfiguration\.admissionregistration\.k8s\.io\/tessera-webhook-fsm created/);
    assert.match(applied.stdout, new RegExp(`validatingadmissionpolicy\\.admissionregistration\\.k8s\\.io/${POLICY} created`));
    assert.match(applied.stdout, new RegExp(`validatingadmissionpolicybinding\\.admissionregistration\\.k8s\\.io/${POLICY} created`));
    // the same again: kubectl's three-way strategic merge patch, accepted for every kind. Only the
    // policy is "configured", as on kube-apiserver v1.37.2: kubectl re-sends its atomic resourceRules,
    // where the server defaulted `scope`; the stored policy does not change (generation 1).
    const again = await kubectl(['apply', '--validate=strict', '-f', '-'], yamlOf(served));
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
    assert.deepEqual(again.stdout.split('\n').filter((l) => l && !l.endsWith(' unchanged')), [`validatingadmissionpolicy.admissionregistration.k8s.io/${POLICY} configured`]);
    assert.equal(ok(await kubectl(['get', 'validatingadmissionpolicy', POLICY, '-o', 'jsonpath={.metadata.generation}']), 'get policy'), '1');
    // a webhook configuration's webhooks merge by name
    ok(await kubectl(['patch', 'mutatingwebhookconfiguration', 'tessera-webhook-fsm', '-p', JSON.stringify({ webhooks: [{ name: WEBHOOK, timeoutSeconds: 20 }] })]), 'strategic merge patch of the webhook');
    assert.equal(ok(await kubectl(['get', 'mutatingwebhookconfiguration', 'tessera-webhook-fsm', '-o', 'jsonpath={.webhooks[*].name} {.webhooks[0].timeoutSeconds} {.webhooks[0].sideEffects}']), 'get webhook'), `${WEBHOOK} 20 None`);
    // the Deployments: their images run as local pods (kube-install-embedded.test.ts follows them)
    const deployments = await kubectl(['apply', '--validate=strict', '-f', '-'], yamlOf(rendered.filter((m) => m.kind === 'Deployment')));
    assert.equal(deployments.code, 0, deployments.stderr);
    assert.match(deployments.stdout, new RegExp(`deployment\\.apps/${MESH}-controller created`));

    const stored = JSON.parse(ok(await kubectl(['get', 'mutatingwebhookconfiguration', 'tessera-webhook-fsm', '-o', 'json']), 'get webhook')) as { webhooks: Record<string, any>[] };
    const h = stored.webhooks[0]!;
    assert.equal(h.name, WEBHOOK);
    assert.equal(h.clientConfig.url, `https://127.0.0.1:${injectorPort}/mutate-pod-creation`);
    assert.equal(h.failurePolicy, 'Fail');
    assert.equal(h.sideEffects, 'None');
    assert.deepEqual(h.objectSelector, {}, 'defaulted');
    // kubectl explain reads the served schema
    const explain = await kubectl(['explain', 'mutatingwebhookconfigurations.webhooks.sideEffects']);
    assert.equal(explain.code, 0, explain.stderr);
    assert.match(explain.stdout, /None or NoneOnDryRun/);
    // the server's validation in kube-apiserver's words
    const bad = await kubectl(['apply', '--validate=false', '-f', '-'], `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: { name: bad }
webhooks:
- name: bad
  clientConfig: { url: "http://127.0.0.1:1/x" }
  admissionReviewVersions: [v1]
  timeoutSeconds: 60
`);
    assert.notEqual(bad.code, 0);
    // (kubectl prints the 422's causes one per line)
    assert.match(bad.stderr, /ValidatingWebhookConfiguration "bad" is invalid/);
    assert.match(bad.stderr, /webhooks\[0\]\.name: Invalid value: "bad": should be a domain with at least three segments separated by dots/);
    assert.match(bad.stderr, /webhooks\[0\]\.clientConfig\.url: Invalid value: "http:\/\/127\.0\.0\.1:1\/x": 'https' is the only allowed URL scheme/);
    assert.match(bad.stderr, /webhooks\[0\]\.sideEffects: Required value: must specify one of None, NoneOnDryRun/);
    assert.match(bad.stderr, /webhooks\[0\]\.timeoutSeconds: Invalid value: 60: the timeout value must be between 1 and 30 seconds/);
  });

  test('the install\'s ValidatingAdmissionPolicy, enforced by the embedded API: the controller writes only the Secrets it issues', async () => {
    // stored with kube-apiserver's defaults
    const policy = JSON.parse(ok(await kubectl(['get', 'validatingadmissionpolicy', POLICY, '-o', 'json']), 'get policy')) as { spec: Record<string, any> };
    assert.equal(policy.spec.failurePolicy, 'Fail');
    assert.equal(policy.spec.matchConstraints.matchPolicy, 'Equivalent');
    assert.deepEqual(policy.spec.matchConstraints.namespaceSelector, {});
    assert.equal(policy.spec.matchConstraints.resourceRules[0].scope, '*');
    assert.match(policy.spec.matchConditions[0].expression, new RegExp(`system:serviceaccount:${NS}:${MESH}-controller`));
    const binding = JSON.parse(ok(await kubectl(['get', 'validatingadmissionpolicybinding', POLICY, '-o', 'json']), 'get binding')) as { spec: unknown };
    assert.deepEqual(binding.spec, { policyName: POLICY, validationActions: ['Deny'] });
    // a strategic merge patch merges a policy's matchConditions by name, the new one first as
    // kube-apiserver orders it (kubectl apply sends $setElementOrder); `$patch: delete` removes one
    const conditions = async (): Promise<string[]> =>
      (JSON.parse(ok(await kubectl(['get', 'validatingadmissionpolicy', POLICY, '-o', 'json']), 'get policy')) as { spec: { matchConditions: { name: string }[] } }).spec.matchConditions.map((c) => c.name);
    ok(await kubectl(['patch', 'validatingadmissionpolicy', POLICY, '-p', '{"spec":{"matchConditions":[{"name":"always","expression":"true"}]}}']), 'strategic merge patch');
    assert.deepEqual(await conditions(), ['always', 'mesh-controller']);
    ok(await kubectl(['patch', 'validatingadmissionpolicy', POLICY, '-p', '{"spec":{"matchConditions":[{"name":"always","$patch":"delete"}]}}']), 'strategic merge patch: delete');
    assert.deepEqual(await conditions(), ['mesh-controller']);

    const sa = await embeddedServiceAccountKubeconfig(mesh, kubectl, NS, `${MESH}-controller`);
    const asController = (args: string[], input?: string): Promise<RunResult> => kubectl(['--kubeconfig', sa.path, ...args], input);
    const secret = (name: string, namespace: string, value: string, annotations?: Record<string, string>): string => JSON.stringify({
      apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace, ...(annotations ? { annotations } : {}) }, stringData: { value },
    });
    const valueOf = async (namespace: string, name: string): Promise<string> => {
      const s = JSON.parse(ok(await kubectl(['get', 'secret', name, '-n', namespace, '-o', 'json']), `get secret ${name}`)) as { data: Record<string, string> };
      return Buffer.from(s.data.value!, 'base64').toString('utf8');
    };
    /** refused by the policy (not by RBAC): the API server names the policy and passes its message */
    const refusedByPolicy = (r: RunResult, what: string): void => {
      assert.notEqual(r.code, 0, `${what} should be refused:\n${r.stdout}`);
      assert.match(r.stderr, new RegExp(`is forbidden: ValidatingAdmissionPolicy '${POLICY}' with binding '${POLICY}' denied request: `), `${what}: ${r.stderr}`);
      assert.ok(r.stderr.includes(CONTROLLER_SECRET_POLICY_MESSAGE), `${what}: the policy's message in ${r.stderr}`);
    };

    ok(await kubectl(['create', 'namespace', 'apps']), 'create namespace apps');
    // RBAC alone would allow what the policy refuses
    assert.equal((await asController(['auth', 'can-i', 'create', 'secrets', '-n', 'apps'])).stdout.trim(), 'yes');
    const foreign = await asController(['create', '-f', '-'], secret('foreign', 'apps', 'x'));
    refusedByPolicy(foreign, 'creating a foreign Secret');
    assert.match(foreign.stderr, /secrets "foreign" is forbidden/);
    assert.notEqual((await kubectl(['get', 'secret', 'foreign', '-n', 'apps'])).code, 0, 'not stored');
    refusedByPolicy(await asController(['create', '--dry-run=server', '-f', '-'], secret('foreign', 'apps', 'x')), 'a dry run of the same');

    // its own: the AccessCert owner annotation
    ok(await asController(['create', '-f', '-'], secret('issued', 'apps', 'v1', { [OWNER]: 'apps/client' })), 'create an AccessCert Secret');
    ok(await asController(['replace', '-f', '-'], secret('issued', 'apps', 'v2', { [OWNER]: 'apps/client' })), 'update it (PUT)');
    assert.equal(await valueOf('apps', 'issued'), 'v2');
    refusedByPolicy(await asController(['replace', '-f', '-'], secret('issued', 'apps', 'v3')), 'dropping the owner annotation');
    assert.equal(await valueOf('apps', 'issued'), 'v2');

    // a user's Secret: adding the annotation takes nothing over, and the controller cannot delete it
    ok(await kubectl(['create', 'secret', 'generic', 'users', '-n', 'apps', '--from-literal=value=mine']), 'the admin creates a Secret');
    refusedByPolicy(await asController(['replace', '-f', '-'], secret('users', 'apps', 'stolen', { [OWNER]: 'apps/client' })), 'taking over a user\'s Secret');
    refusedByPolicy(await asController(['delete', 'secret', 'users', '-n', 'apps']), 'deleting a user\'s Secret');
    assert.equal(await valueOf('apps', 'users'), 'mine', 'the user\'s Secret is untouched');
    ok(await asController(['delete', 'secret', 'issued', '-n', 'apps']), 'delete its own Secret');

    // the CA bundle: its own in the mesh's namespace only
    const ca = JSON.parse(ok(await kubectl(['get', 'secret', `${MESH}-ca-bundle`, '-n', NS, '-o', 'json']), 'get the CA bundle')) as { data: Record<string, string> };
    ok(await asController(['replace', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: `${MESH}-ca-bundle`, namespace: NS }, data: ca.data })), 'update the CA bundle');
    refusedByPolicy(await asController(['create', '-f', '-'], secret(`${MESH}-ca-bundle`, 'apps', 'x')), 'a CA bundle name in another namespace');
    refusedByPolicy(await asController(['create', '-f', '-'], secret('other', NS, 'x')), 'another Secret in the mesh namespace');

    // other users are not affected
    ok(await kubectl(['create', 'secret', 'generic', 'admins', '-n', 'apps', '--from-literal=value=a']), 'the admin is not bound by the policy');

    // what this server does not implement is refused, not stored to be half-enforced
    const params = await kubectl(['create', '-f', '-'], JSON.stringify({
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name: 'with-params' },
      spec: { paramKind: { apiVersion: 'v1', kind: 'ConfigMap' }, matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], operations: ['CREATE'] }] }, validations: [{ expression: 'params != null' }] },
    }));
    assert.notEqual(params.code, 0);
    assert.match(params.stderr, /The ValidatingAdmissionPolicy "with-params" is invalid/);
    assert.match(params.stderr, /spec\.paramKind: Forbidden: params \(paramKind\) are not supported by this API server/);
    assert.match(params.stderr, /spec\.validations\[0\]\.expression: Invalid value: "params != null": params is not supported by this API server/);
    assert.notEqual((await kubectl(['get', 'validatingadmissionpolicy', 'with-params'])).code, 0, 'not stored');
  });

  test('failurePolicy Fail: with the injector down, a pod of a monitored namespace is refused by the embedded API', async () => {
    ok(await kubectl(['create', 'namespace', 'app']), 'create namespace');
    ok(await mesh.tessera(['namespace', 'add', 'app', '--mesh-name', MESH, '--kubeconfig', join(mesh.stateDir, 'kubeconfig')]).then((r) => (r.code === 0 ? r : kubectl(['label', 'namespace', 'app', `flomesh.io/monitored-by=${MESH}`]))), 'join app to fsm');
    const r = await kubectl(['create', '-f', '-'], pod('refused', 'app'));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`Internal error occurred: failed calling webhook "${WEBHOOK.replace(/\./g, '\\.')}": failed to call webhook: Post "https://127\\.0\\.0\\.1:${injectorPort}/mutate-pod-creation\\?timeout=\\d+s": .*connection refused`));
    // a namespace the selector does not cover is not sent to the webhook
    ok(await kubectl(['create', 'namespace', 'plain']), 'create namespace plain');
    const plain = await kubectl(['create', '-f', '-'], pod('plain', 'plain'));
    assert.doesNotMatch(plain.stderr, /failed calling webhook/);
    assert.equal(plain.code, 0, `a pod written through the API is admitted in local mode: ${plain.stderr}`);
  });

  test('the real injector, called by the embedded API over TLS with the install\'s caBundle, injects the pod; the next webhook sees its patch', async () => {
    const secret = async (name: string, key: string): Promise<string> => {
      const s = JSON.parse(ok(await kubectl(['get', 'secret', '-n', NS, name, '-o', 'json']), `get secret ${name}`)) as { data: Record<string, string> };
      return Buffer.from(s.data[key]!, 'base64').toString('utf8');
    };
    const cert = join(mesh.stateDir, 'injector.crt');
    const key = join(mesh.stateDir, 'injector.key');
    writeFileSync(cert, await secret(`${MESH}-injector-tls`, 'tls.crt'));
    writeFileSync(key, await secret(`${MESH}-injector-tls`, 'tls.key'), { mode: 0o600 });
    const sa = await embeddedServiceAccountKubeconfig(mesh, kubectl, NS, `${MESH}-injector`);
    injector = children.start('injector', [INJECTOR_MAIN], { cwd: REPO_ROOT, env: injectorEnv({ mesh: MESH, port: injectorPort, cert, key, kubeconfig: sa.path }) });
    await waitFor('the injector to listen', async () => /injector listening/.test(injector!.output()), 30_000, detail);

    // An observer ordered after tessera-webhook-fsm (configuration names sort): it sees the pod as
    // the injector patched it, adds a label of its own and allows it.
    observer.respond = (review) => ({ uid: review.request.uid, allowed: true, ...patchOf([{ op: 'add', path: '/metadata/labels/observed', value: 'yes' }]) });
    const observerConfig = {
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'zz-observer' },
      webhooks: [{
        name: 'observer.test.tessera.dev', clientConfig: { url: observer.url('/observe'), caBundle: observer.caBundle }, sideEffects: 'None', admissionReviewVersions: ['v1'],
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
        namespaceSelector: { matchLabels: { 'flomesh.io/monitored-by': MESH } },
      }],
    };
    ok(await kubectl(['apply', '-f', '-'], JSON.stringify(observerConfig)), 'apply the observer webhook');

    const r = await kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], pod('injected', 'app'));
    const seen = observer.reviews.find((x) => x.request.name === 'injected');
    assert.ok(seen, `the observer was not called:\n${r.stdout}\n${r.stderr}\n${detail()}`);
    const containers = (seen.request.object.spec.containers as { name: string }[]).map((c) => c.name);
    assert.ok(containers.includes('sidecar'), `the injector's patch, applied by the embedded API before the next webhook: ${containers.join()}`);
    assert.ok(seen.request.object.metadata.labels['fsm-proxy-uuid'], 'the proxy UUID label');
    const inits = ((seen.request.object.spec.initContainers ?? []) as { name: string }[]).map((c) => c.name);
    assert.ok(inits.includes('fsm-init'), `FSM's init container: ${inits.join()}`);
    assert.equal(seen.request.dryRun, true);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { spec: { containers: { name: string }[] }; metadata: { labels: Record<string, string> } };
    assert.ok(out.spec.containers.some((c) => c.name === 'sidecar'));
    assert.equal(out.metadata.labels.observed, 'yes');

    // stored for real: as both webhooks patched it, with an address of the mesh's block, and taken up
    // by the local runtime, which writes its status back as a kubelet would
    ok(await kubectl(['create', '-f', '-'], pod('injected', 'app')), 'kubectl create the pod');
    const stored = JSON.parse(ok(await kubectl(['get', 'pod', 'injected', '-n', 'app', '-o', 'json']), 'get the pod')) as {
      spec: { containers: { name: string }[]; initContainers?: { name: string }[] }; metadata: { labels: Record<string, string> }; status: { podIP?: string };
    };
    assert.deepEqual(stored.spec.containers.map((c) => c.name), ['app', 'sidecar']);
    assert.deepEqual((stored.spec.initContainers ?? []).map((c) => c.name), ['fsm-init']);
    assert.equal(stored.metadata.labels.observed, 'yes');
    assert.match(stored.status.podIP ?? '', /^127\.\d+\.\d+\.\d+$/);
    const reported = await waitFor('the runtime\'s status of the pod', async () => {
      const p = JSON.parse(ok(await kubectl(['get', 'pod', 'injected', '-n', 'app', '-o', 'json']), 'get the pod')) as { status: { containerStatuses?: { name: string }[] } };
      return (p.status.containerStatuses ?? []).length === 2 ? p.status.containerStatuses : undefined;
    }, 30_000, detail);
    assert.deepEqual(reported.map((c) => c.name).sort(), ['app', 'sidecar']);
    ok(await kubectl(['delete', 'pod', 'injected', '-n', 'app']), 'delete the pod');
    process.stdout.write(`# injected containers: ${containers.join(', ')}; init containers: ${inits.join(', ') || '(none)'}; stored at ${stored.status.podIP}\n`);

    // a pod the injector refuses (an injection annotation neither yes nor no): its message, in kube-apiserver's words
    const refused = await kubectl(['create', '--dry-run=server', '-f', '-'], pod('maybe', 'app').replace('labels: { app: maybe }', 'labels: { app: maybe }, annotations: { flomesh.io/sidecar-injection: maybe }'));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, new RegExp(`admission webhook "${WEBHOOK.replace(/\./g, '\\.')}" denied the request: `));
  });
});
