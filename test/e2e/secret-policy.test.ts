/**
 * The controller's "only its own Secrets" rule on the reference cluster: `tessera install` renders it
 * as a ValidatingAdmissionPolicy + binding (RBAC must let the controller write Secrets everywhere; the
 * API server's CEL decides which). As the controller's ServiceAccount (a TokenRequest token), the real
 * kube-apiserver refuses a foreign Secret with the policy's message and lets its own through; the
 * controller process itself still issues and deletes an AccessCert Secret in a user namespace.
 * Skips with one line without the reference binaries.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CONTROLLER_SECRET_POLICY_MESSAGE } from '../../src/install/index.js';
import { freePort } from '../../src/lib/test-processes.js';
import {
  CONTROLLER_MAIN, controllerEnv, HostProcesses, kubectlJson, kubectlOn, ok, secretText, serviceAccountKubeconfig, stopHostProcess, tesseraOn, waitFor,
} from '../support/kube-mode.js';
import { referenceBinaries, startReferenceCluster, type ReferenceCluster } from '../support/kube-reference.js';
import type { RunResult } from '../support/mesh.js';

const bins = referenceBinaries();
const skip = 'skip' in bins ? bins.skip : false;
const MESH = 'tessera';
const NS = `${MESH}-system`;
const POLICY = `${MESH}-controller-secrets`;
const OWNER = 'policy.flomesh.io/access-cert';

const secret = (name: string, namespace: string, data: string, annotations?: Record<string, string>): string => JSON.stringify({
  apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
  metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
  stringData: { value: data },
});

describe('the controller\'s Secret policy on the reference cluster', { skip }, () => {
  let cluster: ReferenceCluster;
  let asController: (args: string[], input?: string) => Promise<RunResult>;
  const children = new HostProcesses();
  const kubectl = (args: string[], input?: string): Promise<RunResult> => kubectlOn(cluster, args, input);
  /** refused by the policy (not by RBAC): the API server names the policy and passes its message */
  const refusedByPolicy = (r: RunResult, what: string): void => {
    assert.notEqual(r.code, 0, `${what} should be refused:\n${r.stdout}`);
    assert.match(r.stderr, new RegExp(`ValidatingAdmissionPolicy '${POLICY}' with binding '${POLICY}' denied request`), `${what}: ${r.stderr}`);
    assert.ok(r.stderr.includes(CONTROLLER_SECRET_POLICY_MESSAGE), `${what}: the policy's message in ${r.stderr}`);
  };

  before(async () => {
    // the namespace controller, for uninstall
    cluster = await startReferenceCluster({ withControllers: true });
    ok(await tesseraOn(cluster, ['install', '--timeout', '2m']), 'tessera install');
    const { path } = await serviceAccountKubeconfig(cluster, { namespace: NS, serviceAccount: `${MESH}-controller` });
    // the later --kubeconfig wins over the admin one cluster.kubectl passes first
    asController = (args, input) => kubectlOn(cluster, ['--kubeconfig', path, ...args], input);
    ok(await kubectl(['create', 'namespace', 'apps']), 'create namespace apps');
  });
  after(async () => {
    await children.stopAll();
    await cluster?.stop();
  });

  test('the reference API server runs the ValidatingAdmissionPolicy plugin; the install created the policy and its binding', async () => {
    const policy = await kubectlJson<{ spec: { matchConditions: { expression: string }[] }; status?: { typeChecking?: { expressionWarnings?: unknown[] } } }>(
      cluster, ['get', 'validatingadmissionpolicy', POLICY],
    );
    assert.match(policy.spec.matchConditions[0]!.expression, new RegExp(`system:serviceaccount:${NS}:${MESH}-controller`));
    const binding = await kubectlJson<{ spec: { policyName: string; validationActions: string[] } }>(cluster, ['get', 'validatingadmissionpolicybinding', POLICY]);
    assert.deepEqual(binding.spec, { policyName: POLICY, validationActions: ['Deny'] });
    // the API server type-checks the CEL against Secret's schema: no warnings
    const checked = await waitFor('the policy to be type-checked', async () => {
      const p = await kubectlJson<{ status?: { observedGeneration?: number; typeChecking?: { expressionWarnings?: unknown[] } } }>(cluster, ['get', 'validatingadmissionpolicy', POLICY]);
      return p.status?.observedGeneration ? p.status : undefined;
    }, 30_000);
    assert.deepEqual(checked.typeChecking?.expressionWarnings ?? [], []);
    // RBAC alone would allow what the policy refuses
    assert.equal((await kubectl(['auth', 'can-i', `--as=system:serviceaccount:${NS}:${MESH}-controller`, 'create', 'secrets', '-n', 'apps'])).stdout.trim(), 'yes');
  });

  test('as the controller: a foreign Secret is refused; its own (AccessCert-annotated) is created, updated, deleted', async () => {
    // The policy takes effect once the API server has loaded it: poll the first refusal.
    const foreign = await waitFor('the policy to refuse a foreign Secret', async () => {
      const r = await asController(['create', '-f', '-'], secret('foreign', 'apps', 'x'));
      if (r.code === 0) await kubectl(['delete', 'secret', 'foreign', '-n', 'apps', '--ignore-not-found']);
      return r.code !== 0 ? r : undefined;
    }, 30_000);
    refusedByPolicy(foreign, 'creating a foreign Secret');
    assert.notEqual((await kubectl(['get', 'secret', 'foreign', '-n', 'apps'])).code, 0, 'not stored');

    // its own: the AccessCert owner annotation
    ok(await asController(['create', '-f', '-'], secret('issued', 'apps', 'v1', { [OWNER]: 'apps/client' })), 'create an AccessCert Secret');
    ok(await asController(['replace', '-f', '-'], secret('issued', 'apps', 'v2', { [OWNER]: 'apps/client' })), 'update it (PUT)');
    assert.equal(await secretText(cluster, 'apps', 'issued', 'value'), 'v2');
    // an update that drops the annotation would make it a Secret the controller does not own: refused
    refusedByPolicy(await asController(['replace', '-f', '-'], secret('issued', 'apps', 'v3')), 'dropping the owner annotation');

    // a user's Secret: adding the annotation takes nothing over, and the controller cannot delete it
    ok(await kubectl(['create', 'secret', 'generic', 'users', '-n', 'apps', '--from-literal=value=mine']), 'the admin creates a Secret');
    refusedByPolicy(await asController(['replace', '-f', '-'], secret('users', 'apps', 'stolen', { [OWNER]: 'apps/client' })), 'taking over a user\'s Secret');
    refusedByPolicy(await asController(['delete', 'secret', 'users', '-n', 'apps']), 'deleting a user\'s Secret');
    assert.equal(await secretText(cluster, 'apps', 'users', 'value'), 'mine', 'the user\'s Secret is untouched');

    ok(await asController(['delete', 'secret', 'issued', '-n', 'apps']), 'delete its own Secret');

    // the CA bundle: its own in the mesh's namespace only
    const ca = await kubectlJson<{ data: Record<string, string>; metadata: Record<string, unknown> }>(cluster, ['get', 'secret', `${MESH}-ca-bundle`, '-n', NS]);
    ok(await asController(['replace', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: `${MESH}-ca-bundle`, namespace: NS }, data: ca.data })), 'update the CA bundle');
    refusedByPolicy(await asController(['create', '-f', '-'], secret(`${MESH}-ca-bundle`, 'apps', 'x')), 'a CA bundle name in another namespace');
    refusedByPolicy(await asController(['create', '-f', '-'], secret('other', NS, 'x')), 'another Secret in the mesh namespace');

    // other users are not affected
    ok(await kubectl(['create', 'secret', 'generic', 'admins', '-n', 'apps', '--from-literal=value=a']), 'the admin is not bound by the policy');
  });

  test('the controller process issues and deletes an AccessCert Secret in a user namespace under the policy', async () => {
    const { token } = await serviceAccountKubeconfig(cluster, { namespace: NS, serviceAccount: `${MESH}-controller` });
    const meshKey = await secretText(cluster, NS, `${MESH}-mesh-key`, 'mesh-key');
    ok(await kubectl(['patch', 'meshconfig', `${MESH}-mesh-config`, '-n', NS, '--type=merge', '-p', '{"spec":{"featureFlags":{"enableAccessCertPolicy":true}}}']), 'enable AccessCert');
    const controller = children.start(CONTROLLER_MAIN, [CONTROLLER_MAIN], {
      env: controllerEnv(cluster, { mesh: MESH, token, port: await freePort(), meshKey, stateDir: join(cluster.dir, 'controller-state') }),
    });
    ok(await kubectl(['apply', '-f', '-'], `apiVersion: policy.flomesh.io/v1alpha1
kind: AccessCert
metadata: { name: client, namespace: apps }
spec:
  subjectAltNames: [client.apps.cluster.local]
  secret: { name: client-cert, namespace: apps }
`), 'apply an AccessCert');
    const issued = await waitFor('the controller to issue the AccessCert Secret', async () => {
      const r = await kubectl(['get', 'secret', 'client-cert', '-n', 'apps', '-o', 'json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as { metadata: { annotations?: Record<string, string> }; data: Record<string, string> }) : undefined;
    }, 60_000, () => controller.output());
    assert.equal(issued.metadata.annotations?.[OWNER], 'apps/client');
    assert.ok(issued.data['tls.crt'], 'a certificate');
    assert.doesNotMatch(controller.output(), /cannot issue an AccessCert/);

    ok(await kubectl(['delete', 'accesscert', 'client', '-n', 'apps']), 'delete the AccessCert');
    await waitFor('the controller to delete the AccessCert Secret', async () => (await kubectl(['get', 'secret', 'client-cert', '-n', 'apps'])).code !== 0, 60_000, () => controller.output());
    await stopHostProcess(controller);
  });

  test('tessera uninstall removes the policy and its binding', async () => {
    ok(await tesseraOn(cluster, ['uninstall', '--timeout', '2m']), 'tessera uninstall');
    assert.notEqual((await kubectl(['get', 'validatingadmissionpolicy', POLICY])).code, 0, 'the policy is gone');
    assert.notEqual((await kubectl(['get', 'validatingadmissionpolicybinding', POLICY])).code, 0, 'the binding is gone');
  });
});
