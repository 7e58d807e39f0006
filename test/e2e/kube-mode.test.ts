/**
 * Kubernetes mode against the reference control plane (issue #14 item 3, issue #21 part 4): the
 * injector as the MutatingWebhook the real kube-apiserver calls over TLS (AdmissionReview v1, caBundle
 * = the mesh CA, failurePolicy Fail), pods made by the real controller-manager from a Deployment; the
 * controller and the bootstrap as processes on the host with their ServiceAccounts' tokens, their
 * informers fed by the real API server, RBAC refusals in their logs, the controller's AccessControl
 * status through the status subresource.
 *
 * The reference cluster has no node, so the components run here, as processes beside the API server:
 * the webhook's clientConfig is `url: https://127.0.0.1:PORT/mutate-pod-creation`
 * (`--set fsm.injector.webhookURL=…`) instead of the injector's Service.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { X509Certificate } from 'node:crypto';
import type { Secret } from '../../src/api/types.js';
import { freePort } from '../../src/lib/test-processes.js';
import { BOOTSTRAP_ENV } from '../../src/local/layout.js';
import {
  BOOTSTRAP_MAIN, CONTROLLER_MAIN, controllerEnv as controllerEnvOf, HostProcesses, INJECTOR_MAIN, injectorEnv, kubectlJson, kubectlOn, ok,
  secretText, serviceAccountKubeconfig as serviceAccountKubeconfigOf, stopHostProcess as stop, tesseraOn, waitFor, type HostProcess,
} from '../support/kube-mode.js';
import { referenceBinaries, startReferenceCluster, type ReferenceCluster } from '../support/kube-reference.js';
import { SAMPLES, type RunResult } from '../support/mesh.js';

const bins = referenceBinaries();
const skip = 'skip' in bins ? bins.skip : false;
const MESH = 'tessera';
const NS = `${MESH}-system`;
const WAIT_MS = 60_000;

describe('Kubernetes mode on the reference cluster', { skip }, () => {
  let cluster: ReferenceCluster;
  const children = new HostProcesses();
  let injectorPort = 0;
  let webhookURL = '';
  let tlsDir = '';
  let injectorKubeconfig = '';
  let injector: HostProcess | undefined;

  const kubectl = (args: string[], input?: string): Promise<RunResult> => kubectlOn(cluster, args, input);
  const tessera = (args: string[]): Promise<RunResult> => tesseraOn(cluster, args);
  const json = <T>(args: string[]): Promise<T> => kubectlJson<T>(cluster, args);
  const spawnChild = (main: string, env: NodeJS.ProcessEnv): HostProcess => children.start(main, [main], { env });
  const serviceAccountKubeconfig = (sa: string): Promise<{ path: string; token: string }> =>
    serviceAccountKubeconfigOf(cluster, { namespace: NS, serviceAccount: sa });

  const startInjector = (): HostProcess =>
    spawnChild(INJECTOR_MAIN, injectorEnv({
      mesh: MESH, port: injectorPort, cert: join(tlsDir, 'injector.crt'), key: join(tlsDir, 'injector.key'), kubeconfig: injectorKubeconfig,
    }));

  before(async () => {
    cluster = await startReferenceCluster({ withControllers: true });
    tlsDir = cluster.dir;
    injectorPort = await freePort();
    webhookURL = `https://127.0.0.1:${injectorPort}/mutate-pod-creation`;
  });
  after(async () => {
    await children.stopAll();
    await cluster?.stop();
  });

  test('tessera install with the webhook pointing at a URL; the injector serves the install\'s CA chain', async () => {
    const out = ok(await tessera(['install', '--timeout', '2m', '--set', `fsm.injector.webhookURL=${webhookURL}`]), 'tessera install');
    assert.match(out, /CustomResourceDefinitions established/);
    const hook = await json<{ webhooks: { clientConfig: { url?: string; service?: unknown; caBundle: string }; failurePolicy: string }[] }>(
      ['get', 'mutatingwebhookconfiguration', `tessera-webhook-${MESH}`],
    );
    assert.equal(hook.webhooks[0]!.clientConfig.url, webhookURL);
    assert.equal(hook.webhooks[0]!.clientConfig.service, undefined);
    assert.equal(hook.webhooks[0]!.failurePolicy, 'Fail');

    // The serving certificate install issued names the webhook URL's host (127.0.0.1), signed by the
    // mesh CA the webhook's caBundle carries.
    const caSecret = await json<Secret>(['get', 'secret', '-n', NS, `${MESH}-ca-bundle`]);
    assert.equal(hook.webhooks[0]!.clientConfig.caBundle, caSecret.data!['ca.crt'], 'caBundle = the mesh CA');
    const installed = await json<Secret>(['get', 'secret', '-n', NS, `${MESH}-injector-tls`]);
    const certPem = Buffer.from(installed.data!['tls.crt']!, 'base64').toString('utf8');
    const keyPem = Buffer.from(installed.data!['tls.key']!, 'base64').toString('utf8');
    assert.ok(new X509Certificate(certPem).checkIP('127.0.0.1'), 'the installed serving certificate names the webhook URL host');
    writeFileSync(join(tlsDir, 'injector.crt'), certPem);
    writeFileSync(join(tlsDir, 'injector.key'), keyPem, { mode: 0o600 });

    injectorKubeconfig = (await serviceAccountKubeconfig(`${MESH}-injector`)).path;
    injector = startInjector();
    const caPem = Buffer.from(caSecret.data!['ca.crt']!, 'base64').toString('utf8');
    // verified as the API server verifies it: the mesh CA only, the name 127.0.0.1
    const healthz = (): Promise<number> => new Promise((resolve) => {
      const req = httpsGet(`https://127.0.0.1:${injectorPort}/healthz`, { ca: caPem, timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.on('timeout', () => req.destroy());
    });
    await waitFor('the injector to answer /healthz over TLS with the mesh CA', async () => (await healthz()) === 200, 20_000, () => injector!.output());
    assert.match(injector.output(), /Kubernetes mode/);
  });

  test('the API server calls the webhook: a Deployment\'s pod in a monitored namespace gets the sidecar', async () => {
    assert.ok(injector, 'the injector runs');
    ok(await kubectl(['create', 'namespace', 'demo']), 'create ns demo');
    ok(await kubectl(['label', 'namespace', 'demo', `flomesh.io/monitored-by=${MESH}`]), 'label ns');
    ok(await kubectl(['annotate', 'namespace', 'demo', 'flomesh.io/sidecar-injection=enabled']), 'annotate ns');
    ok(await kubectl(['create', 'deployment', 'web', '-n', 'demo', '--image=registry.invalid/web:1']), 'create deployment');
    type PodList = { items: { metadata: { name: string; labels?: Record<string, string> }; spec: { containers: { name: string; image: string }[] } }[] };
    const pods = await waitFor('the ReplicaSet\'s pod in demo', async () => {
      const list = await json<PodList>(['get', 'pods', '-n', 'demo', '-l', 'app=web']);
      return list.items.length > 0 ? list.items : undefined;
    }, WAIT_MS, () => `${cluster.log('kube-controller-manager', 20)}\n${injector!.output()}`);
    const pod = pods[0]!;
    assert.deepEqual(pod.spec.containers.map((c) => c.name), ['web', 'sidecar'], 'the sidecar container injected');
    assert.ok(pod.metadata.labels?.['fsm-proxy-uuid'], 'FSM\'s proxy UUID label');
    assert.equal(pod.metadata.labels?.app, 'web', 'the pod\'s own labels kept');
    assert.match(injector!.output(), /injected sidecar/);

    // a namespace not monitored: no sidecar (the API server does not even call the webhook)
    ok(await kubectl(['create', 'namespace', 'plain']), 'create ns plain');
    ok(await kubectl(['create', 'deployment', 'web', '-n', 'plain', '--image=registry.invalid/web:1']), 'create deployment in plain');
    const plain = await waitFor('the pod in plain', async () => {
      const list = await json<PodList>(['get', 'pods', '-n', 'plain', '-l', 'app=web']);
      return list.items[0];
    });
    assert.deepEqual(plain.spec.containers.map((c) => c.name), ['web']);

    // annotated off on the pod: admitted unpatched
    ok(await kubectl(['run', 'off', '-n', 'demo', '--image=registry.invalid/web:1', '--annotations=flomesh.io/sidecar-injection=disabled']), 'kubectl run off');
    const off = await json<PodList['items'][number]>(['get', 'pod', 'off', '-n', 'demo']);
    assert.deepEqual(off.spec.containers.map((c) => c.name), ['off']);

    // what cannot be injected is refused, with the webhook's message
    const bad = await kubectl(['run', 'bad', '-n', 'demo', '--image=registry.invalid/web:1', '--annotations=flomesh.io/sidecar-injection=maybe']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /admission webhook "fsm-inject\.k8s\.io" denied the request: invalid annotation value .*maybe/);
  });

  test('with the injector stopped, failurePolicy Fail refuses pods in monitored namespaces only', async () => {
    assert.ok(injector, 'the injector runs');
    await stop(injector);
    const refused = await kubectl(['run', 'refused', '-n', 'demo', '--image=registry.invalid/web:1']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /failed calling webhook "fsm-inject\.k8s\.io"/);
    ok(await kubectl(['run', 'fine', '-n', 'plain', '--image=registry.invalid/web:1']), 'a pod outside the selector is created');

    // the ReplicaSet cannot create its second pod: FailedCreate
    ok(await kubectl(['scale', 'deployment', 'web', '-n', 'demo', '--replicas=2']), 'scale');
    type RsList = { items: { status: { conditions?: { type: string; reason?: string; message?: string }[] } }[] };
    const failure = await waitFor('the ReplicaSet\'s ReplicaFailure condition', async () => {
      const list = await json<RsList>(['get', 'replicasets', '-n', 'demo', '-l', 'app=web']);
      return list.items.flatMap((rs) => rs.status.conditions ?? []).find((c) => c.type === 'ReplicaFailure');
    });
    assert.equal(failure.reason, 'FailedCreate');
    assert.match(failure.message ?? '', /fsm-inject\.k8s\.io/);

    // and back: the injector restarted, the ReplicaSet's retry succeeds with a sidecar
    injector = startInjector();
    await waitFor('the injector to listen again', async () => /injector listening/.test(injector!.output()), 20_000, () => injector!.output());
    // an update makes the ReplicaSet controller sync now, not after its failure backoff
    ok(await kubectl(['annotate', 'replicasets', '-n', 'demo', '-l', 'app=web', 'tessera.test/nudge=1', '--overwrite']), 'nudge the ReplicaSet');
    type PodList = { items: { spec: { containers: { name: string }[] } }[] };
    const both = await waitFor('the second pod, once the injector is back', async () => {
      const list = await json<PodList>(['get', 'pods', '-n', 'demo', '-l', 'app=web']);
      return list.items.length === 2 ? list.items : undefined;
    }, 90_000, () => injector!.output());
    for (const p of both) assert.deepEqual(p.spec.containers.map((c) => c.name), ['web', 'sidecar']);
  });

  test('the controller against the real API server: informers see mesh resources; RBAC refusals are logged', async () => {
    const { token } = await serviceAccountKubeconfig(`${MESH}-controller`);
    const meshKey = await secretText(cluster, NS, `${MESH}-mesh-key`, 'mesh-key');
    const controllerEnv = controllerEnvOf(cluster, {
      mesh: MESH, token, port: await freePort(), meshKey, stateDir: join(cluster.dir, 'controller-state'),
    });
    const controller = spawnChild(CONTROLLER_MAIN, controllerEnv);
    await waitFor('the controller to sync its informers and load the CA', async () => /resources synced/.test(controller.output()) && /the mesh root CA/.test(controller.output()), WAIT_MS, () => controller.output());
    assert.match(controller.output(), /loaded the mesh root CA/, 'it loaded the CA the install stored (no second CA)');
    assert.doesNotMatch(controller.output(), /watch interrupted/);

    // Plugin (cluster-scoped), PluginChain and a MeshConfig, applied with kubectl
    ok(await kubectl(['apply', '-f', join(SAMPLES, 'plugins-cors.yaml')]), 'apply Plugin sample');
    ok(await kubectl(['apply', '-f', '-'], `apiVersion: plugin.flomesh.io/v1alpha1
kind: PluginChain
metadata: { name: cors-chain, namespace: demo }
spec:
  chains:
    - name: inbound-http
      plugins: [cors-policy]
  selectors:
    podSelector: { matchLabels: { app: web } }
    namespaceSelector: { matchExpressions: [{ key: flomesh.io/monitored-by, operator: In, values: [${MESH}] }] }
`), 'apply PluginChain');
    ok(await kubectl(['patch', 'meshconfig', `${MESH}-mesh-config`, '-n', NS, '--type=merge', '-p', '{"spec":{"featureFlags":{"enablePluginPolicy":true}}}']), 'patch MeshConfig');
    // The controller's informers list them: a restarted controller syncs two objects more.
    const before = Number(/"resources synced","count":(\d+)/.exec(controller.output())?.[1]);
    await stop(controller);
    const again = spawnChild(CONTROLLER_MAIN, controllerEnv);
    await waitFor('the controller to re-sync', async () => /resources synced/.test(again.output()), WAIT_MS, () => again.output());
    const afterCount = Number(/"resources synced","count":(\d+)/.exec(again.output())?.[1]);
    assert.ok(afterCount >= before + 2, `the informers list the Plugin and the PluginChain (${before} → ${afterCount})`);
    await stop(again);

    // RBAC: the controller's ClusterRole without `watch` — the real API server refuses, its log says so
    const fetched = await json<{ metadata: { resourceVersion?: string }; rules: { verbs: string[] }[] }>(['get', 'clusterrole', `${MESH}-controller`]);
    const role = { ...fetched, metadata: { ...fetched.metadata, resourceVersion: undefined } };
    const noWatch = { ...role, rules: role.rules.map((r) => ({ ...r, verbs: r.verbs.filter((v) => v !== 'watch') })) };
    ok(await kubectl(['replace', '-f', '-'], JSON.stringify(noWatch)), 'replace the ClusterRole without watch');
    const refused = spawnChild(CONTROLLER_MAIN, controllerEnv);
    const line = await waitFor('the controller to log the refused watch', async () => /watch interrupted.*(403|forbidden)/i.exec(refused.output())?.[0], WAIT_MS, () => refused.output());
    assert.match(line, /watch/);
    await stop(refused);
    ok(await kubectl(['replace', '-f', '-'], JSON.stringify(role)), 'put the ClusterRole back');
  });

  test('the controller writes AccessControl status through the status subresource; kubectl shows it', async () => {
    // its ClusterRole: update on accesscontrols/status, nothing on the object itself
    const can = async (args: string[]): Promise<string> => (await kubectl(['auth', 'can-i', `--as=system:serviceaccount:${NS}:${MESH}-controller`, ...args, '-n', 'demo'])).stdout.trim();
    assert.equal(await can(['update', 'accesscontrols.policy.flomesh.io', '--subresource=status']), 'yes');
    assert.equal(await can(['patch', 'accesscontrols.policy.flomesh.io', '--subresource=status']), 'no');
    assert.equal(await can(['update', 'accesscontrols.policy.flomesh.io']), 'no');
    assert.equal(await can(['update', 'plugins.plugin.flomesh.io', '--subresource=status']), 'no');

    ok(await kubectl(['apply', '-f', '-'], `apiVersion: policy.flomesh.io/v1alpha1
kind: AccessControl
metadata: { name: open, namespace: demo }
spec:
  sources: [{ kind: IPRange, name: 10.0.0.0/8 }]
---
apiVersion: policy.flomesh.io/v1alpha1
kind: AccessControl
metadata: { name: broken, namespace: demo }
spec:
  sources: [{ kind: IPRange, name: 10.0.0.0/8 }]
  backends: [{ name: nosuch, port: { number: 80, protocol: http } }]
`), 'apply two AccessControls');
    // The CRD declares the status subresource: a write of the object itself drops .status.
    ok(await kubectl(['patch', 'accesscontrol', 'open', '-n', 'demo', '--type=merge', '-p', '{"status":{"currentStatus":"forged","reason":"by the main resource"}}']), 'patch the object with a status');
    assert.equal(ok(await kubectl(['get', 'accesscontrol', 'open', '-n', 'demo', '-o', 'jsonpath={.status}']), 'get status'), '', 'no status stored through the main resource');

    const { token } = await serviceAccountKubeconfig(`${MESH}-controller`);
    const meshKey = await secretText(cluster, NS, `${MESH}-mesh-key`, 'mesh-key');
    const controller = spawnChild(CONTROLLER_MAIN, controllerEnvOf(cluster, {
      mesh: MESH, token, port: await freePort(), meshKey, stateDir: join(cluster.dir, 'controller-status-state'),
    }));
    const statusOf = async (name: string): Promise<{ currentStatus?: string; reason?: string }> =>
      JSON.parse(ok(await kubectl(['get', 'accesscontrol', name, '-n', 'demo', '-o', 'jsonpath={.status}']), `status of ${name}`) || '{}') as { currentStatus?: string; reason?: string };
    const until = (name: string, want: { currentStatus: string; reason: string | RegExp }) =>
      waitFor(`AccessControl demo/${name} status ${want.currentStatus}`, async () => {
        const s = await statusOf(name);
        return s.currentStatus === want.currentStatus && (typeof want.reason === 'string' ? s.reason === want.reason : want.reason.test(s.reason ?? '')) ? s : undefined;
      }, WAIT_MS, () => controller.output());
    await until('open', { currentStatus: 'committed', reason: 'successfully committed by the system' });
    await until('broken', { currentStatus: 'error', reason: 'backend service demo/nosuch not found' });
    assert.match(controller.output(), /wrote AccessControl status/);

    // a change of its inputs (the MeshConfig's feature flag) rewrites both, through /status again
    ok(await kubectl(['patch', 'meshconfig', `${MESH}-mesh-config`, '-n', NS, '--type=merge', '-p', '{"spec":{"featureFlags":{"enableAccessControlPolicy":false}}}']), 'turn access control off');
    await until('open', { currentStatus: 'error', reason: /access control policy is disabled/ });
    await until('broken', { currentStatus: 'error', reason: /access control policy is disabled/ });
    ok(await kubectl(['patch', 'meshconfig', `${MESH}-mesh-config`, '-n', NS, '--type=merge', '-p', '{"spec":{"featureFlags":{"enableAccessControlPolicy":true}}}']), 'turn access control on');
    await until('open', { currentStatus: 'committed', reason: 'successfully committed by the system' });
    assert.doesNotMatch(controller.output(), /cannot write AccessControl status/, 'no write refused');
    await stop(controller);
  });

  test('the bootstrap with its least-privilege Role: watches MeshConfigs of its namespace, restores the preset', async () => {
    const { token } = await serviceAccountKubeconfig(`${MESH}-bootstrap`);
    const port = await freePort();
    const bootstrap = spawnChild(BOOTSTRAP_MAIN, {
      [BOOTSTRAP_ENV.apiUrl]: cluster.server,
      [BOOTSTRAP_ENV.apiCa]: join(cluster.dir, 'ca.crt'),
      [BOOTSTRAP_ENV.apiToken]: token,
      [BOOTSTRAP_ENV.meshName]: MESH,
      [BOOTSTRAP_ENV.listen]: `127.0.0.1:${port}`,
    });
    await waitFor('the bootstrap to be ready (its watch synced)', async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;
      } catch {
        return false;
      }
    }, WAIT_MS, () => bootstrap.output());
    assert.doesNotMatch(bootstrap.output(), /watch interrupted/, 'no list or watch refused by its Role');
    ok(await kubectl(['delete', 'meshconfig', `${MESH}-mesh-config`, '-n', NS]), 'delete the preset MeshConfig');
    await waitFor('the preset MeshConfig to come back', async () => (await kubectl(['get', 'meshconfig', `${MESH}-mesh-config`, '-n', NS])).code === 0, WAIT_MS, () => bootstrap.output());
    assert.match(bootstrap.output(), /restored the preset MeshConfig/);
    await stop(bootstrap);
  });
});
