/**
 * Issue #14 part 5: real pods injected by the real webhook on `tessera up`'s embedded API, the local
 * runtime playing the kubelet. The local mesh is `tessera`; `fsm` is installed into it (the rendered
 * manifests but the CRDs and the component Deployments, applied with the real kubectl), its injector
 * and controller run as host processes with the install's certificates and ServiceAccount tokens, and
 * its controller Service is selectorless with an EndpointSlice at the host controller (as a cluster
 * reaches a control plane outside it).
 *
 * A Pod written with `kubectl create` into a namespace `fsm` monitors goes through the embedded API's
 * admission chain: the install's MutatingWebhookConfiguration calls the injector, which adds the
 * sidecar and `fsm-init`; the API stores it with an address of the mesh's block; the local runtime
 * runs it as a kubelet would (the sidecar bootstrapped with its projected ServiceAccount token, its
 * controller found through the Service) and writes its status back until it is Ready; deleting it
 * stops its processes. A Deployment's pods take the same way, as the replicaset controller.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { CONTROLLER_ENV } from '../../src/local/layout.js';
import { decidePodNetwork } from '../../src/local/runtime/pod-network.js';
import { freePort } from '../../src/lib/test-processes.js';
import { CONTROLLER_MAIN, HostProcesses, INJECTOR_MAIN, injectorEnv, ok, waitFor, type HostProcess } from '../support/kube-mode.js';
import { embeddedServiceAccountKubeconfig, manifestsOf, newestKubectl, yamlOf, type Kubectl, type Manifest } from '../support/kube-mode-embedded.js';
import { kubectlBinaries, startKubectlMesh } from '../support/kubectl.js';
import { REPO_ROOT, SAMPLES, type TestMesh } from '../support/mesh.js';

const skip = kubectlBinaries().length === 0 ? 'pods on the embedded API: no kubectl on this machine (scripts/install-kubectl-debian.sh)' : false;
const MESH = 'fsm';
const NS = `${MESH}-system`;
const WAIT_MS = 90_000;
const CA_ROOT = `${MESH}-ca-root-cert`;

interface PodJson {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: { name: string; image: string }[]; initContainers?: { name: string }[]; serviceAccountName?: string };
  status: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { name: string; ready: boolean }[];
    initContainerStatuses?: { name: string; state?: { terminated?: { reason?: string } } }[];
  };
}

const pod = (name: string, ns: string) => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${ns}, labels: { app: ${name} } }
spec:
  containers:
  - { name: app, image: curlimages/curl, command: [sleep, infinity] }
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const ready = (p: PodJson | undefined): boolean => p?.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

const namespaceMode = await decidePodNetwork('namespace').then(() => true, () => false);

/**
 * Both pod networks: `loopback` (pods as host processes on the block's addresses) and `namespace`
 * (sandboxes on the mesh bridge, the injected fsm-init's rules loaded in each; the sidecar reaches
 * the host controller through the gateway's relay for its Service) run the pods to Ready.
 */
for (const podNetwork of ['loopback', 'namespace'] as const) {
describe(`pods injected by the installed mesh's webhook, run by tessera up's runtime (${podNetwork} pod network)`, {
  skip: skip || (podNetwork === 'namespace' && !namespaceMode ? 'namespace mode is not possible here' : false),
}, () => {
  let mesh: TestMesh;
  let kubectl: Kubectl;
  const children = new HostProcesses();
  let injector: HostProcess;
  let controller: HostProcess;
  const detail = (): string => children.all.map((c) => `--- ${c.name} ---\n${c.output().split('\n').slice(-30).join('\n')}`).join('\n');
  const sidecarLog = (ns: string, name: string): string => {
    try {
      return readFileSync(join(mesh.stateDir, 'pods', ns, name, 'sidecar.log'), 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '(no sidecar log)';
    }
  };
  const daemonLog = (): string => {
    try {
      return readFileSync(join(mesh.stateDir, 'daemon.log'), 'utf8').split('\n').slice(-25).join('\n');
    } catch {
      return '(no daemon log)';
    }
  };
  const getPod = async (ns: string, name: string): Promise<PodJson | undefined> => {
    const r = await kubectl(['get', 'pod', name, '-n', ns, '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as PodJson) : undefined;
  };

  before(async () => {
    mesh = await startKubectlMesh('tessera', ['--pod-network', podNetwork]);
    // (on the host's loopback in both modes: in namespace mode sandboxed sidecars reach it through
    // the gateway's relay for the installed controller's Service, controller-relays.ts)
    const controllerHost = '127.0.0.1';
    kubectl = newestKubectl(mesh)!.run;
    const injectorPort = await freePort();
    const controllerPort = await freePort();
    const rendered = manifestsOf(ok(await mesh.tessera(['install', '--mesh-name', MESH, '--dry-run', '--set', `fsm.injector.webhookURL=https://127.0.0.1:${injectorPort}/mutate-pod-creation`, '--controller-address', '127.0.0.1']), 'tessera install --dry-run'));
    // the controller runs on the host: its Service has no selector, and an EndpointSlice says where it is
    const served = rendered.filter((m) => m.kind !== 'CustomResourceDefinition' && m.kind !== 'Deployment').map((m) => {
      if (m.kind !== 'Service' || m.metadata.name !== `${MESH}-controller`) return m;
      const { selector: _selector, ...spec } = m.spec as Record<string, unknown>;
      return { ...m, spec } as Manifest;
    });
    ok(await kubectl(['apply', '--validate=strict', '-f', '-'], yamlOf(served)), 'apply the install');
    const servicePort = ((served.find((m) => m.kind === 'Service' && m.metadata.name === `${MESH}-controller`)!.spec as { ports: { name: string; port: number }[] }).ports[0]!);
    ok(await kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${MESH}-controller-host`, namespace: NS, labels: { 'kubernetes.io/service-name': `${MESH}-controller` } },
      addressType: 'IPv4', ports: [{ name: servicePort.name, port: controllerPort, protocol: 'TCP' }], endpoints: [{ addresses: [controllerHost], conditions: { ready: true } }],
    })), 'the controller\'s EndpointSlice');

    const secret = async (name: string, key: string): Promise<string> => {
      const s = JSON.parse(ok(await kubectl(['get', 'secret', '-n', NS, name, '-o', 'json']), `get secret ${name}`)) as { data: Record<string, string> };
      return Buffer.from(s.data[key]!, 'base64').toString('utf8');
    };
    const file = (name: string, text: string, mode = 0o644): string => {
      const path = join(mesh.stateDir, name);
      writeFileSync(path, text, { mode });
      return path;
    };
    const apiCa = (parseYaml(readFileSync(join(mesh.stateDir, 'kubeconfig'), 'utf8')) as { clusters: { cluster: Record<string, string> }[] }).clusters[0]!.cluster;
    injector = children.start('injector', [INJECTOR_MAIN], {
      cwd: REPO_ROOT,
      env: injectorEnv({
        mesh: MESH, port: injectorPort, cert: file('injector.crt', await secret(`${MESH}-injector-tls`, 'tls.crt')), key: file('injector.key', await secret(`${MESH}-injector-tls`, 'tls.key'), 0o600),
        kubeconfig: (await embeddedServiceAccountKubeconfig(mesh, kubectl, NS, `${MESH}-injector`)).path,
      }),
    });
    controller = children.start('controller', [CONTROLLER_MAIN], {
      cwd: REPO_ROOT,
      env: {
        [CONTROLLER_ENV.apiUrl]: apiCa.server!,
        [CONTROLLER_ENV.apiCa]: file('api-ca.crt', Buffer.from(apiCa['certificate-authority-data']!, 'base64').toString('utf8')),
        [CONTROLLER_ENV.apiToken]: (await embeddedServiceAccountKubeconfig(mesh, kubectl, NS, `${MESH}-controller`)).token,
        [CONTROLLER_ENV.meshName]: MESH,
        [CONTROLLER_ENV.listen]: `${controllerHost}:${controllerPort}`,
        [CONTROLLER_ENV.meshKey]: await secret(`${MESH}-mesh-key`, 'mesh-key'),
        [CONTROLLER_ENV.stateDir]: join(mesh.stateDir, 'fsm-controller-state'),
        [CONTROLLER_ENV.tlsCert]: file('controller.crt', await secret(`${MESH}-controller-tls`, 'tls.crt')),
        [CONTROLLER_ENV.tlsKey]: file('controller.key', await secret(`${MESH}-controller-tls`, 'tls.key'), 0o600),
      },
    });
    await waitFor('the injector to listen', async () => /injector listening/.test(injector.output()), 30_000, detail);
    await waitFor('the controller to listen with TLS', async () => /control plane listening.*"tls":true/.test(controller.output()), WAIT_MS, detail);
    ok(await kubectl(['create', 'namespace', 'app']), 'create namespace app');
    ok(await mesh.tessera(['namespace', 'add', 'app', '--mesh-name', MESH, '--kubeconfig', join(mesh.stateDir, 'kubeconfig')]), 'join app to fsm');
    // A cluster's serviceaccount controller creates `default` in every namespace; the embedded API
    // has none yet, and the sidecar's projected token is the pod's ServiceAccount's.
    ok(await kubectl(['create', 'serviceaccount', 'default', '-n', 'app']), 'the default ServiceAccount');
    // The controller keeps the mesh CA ConfigMap of each monitored namespace with server-side apply;
    // until the embedded API takes it, the test writes the ConfigMap the controller would.
    if ((await kubectl(['get', 'configmap', CA_ROOT, '-n', 'app'])).code !== 0) {
      ok(await kubectl(['create', 'configmap', CA_ROOT, '-n', 'app', `--from-literal=ca.crt=${await secret(`${MESH}-ca-bundle`, 'ca.crt')}`]), 'the mesh CA ConfigMap');
    }
  });

  after(async () => {
    await children.stopAll();
    if (process.env.TESSERA_NODE_DEBUG) process.stderr.write(`${detail()}\n`);
    await mesh?.stop();
  });

  test(`kubectl create: the pod is stored injected (sidecar, fsm-init), ${podNetwork === 'loopback' ? 'with an address of the block' : 'its fsm-init run in its sandbox'}, runs and becomes Ready; delete stops it`, async () => {
    ok(await kubectl(['create', '-f', '-'], pod('curl', 'app')), 'kubectl create pod');
    const stored = (await getPod('app', 'curl'))!;
    assert.deepEqual(stored.spec.containers.map((c) => c.name), ['app', 'sidecar'], 'the injector\'s sidecar');
    assert.deepEqual((stored.spec.initContainers ?? []).map((c) => c.name), ['fsm-init'], 'FSM\'s init container');
    assert.ok(stored.metadata.labels?.['fsm-proxy-uuid'], 'the proxy UUID label');
    const block = (JSON.parse(readFileSync(join(mesh.stateDir, 'mesh.json'), 'utf8')) as { block: number }).block;
    // (in namespace mode the sandbox's address replaces it once the runtime reports the pod)
    if (podNetwork === 'loopback') assert.match(stored.status.podIP ?? '', new RegExp(`^127\\.${block}\\.\\d+\\.\\d+$`), 'an address of the mesh\'s block');
    assert.equal(stored.spec.serviceAccountName, 'default');

    let last: PodJson | undefined;
    if (podNetwork === 'namespace') {
      // the installed mesh's fsm-init rules are loaded in the pod's sandbox, which gives it its address
      const initialized = await waitFor('fsm-init run in the pod\'s sandbox', async () => {
        last = await getPod('app', 'curl');
        return last?.status.initContainerStatuses?.find((c) => c.name === 'fsm-init')?.state?.terminated?.reason === 'Completed' ? last : undefined;
      }, WAIT_MS, () => `${detail()}\n--- status ---\n${JSON.stringify(last?.status)}\n--- daemon ---\n${daemonLog()}`);
      assert.ok(initialized.status.podIP && !initialized.status.podIP.startsWith(`127.${block}.`), `the sandbox's address: ${initialized.status.podIP}`);
    }
    const running = await waitFor('the pod Running and Ready', async () => {
      last = await getPod('app', 'curl');
      return last?.status.phase === 'Running' && ready(last) ? last : undefined;
    }, WAIT_MS, () => `${detail()}\n--- sidecar ---\n${sidecarLog('app', 'curl')}\n--- status ---\n${JSON.stringify(last?.status)}\n--- daemon ---\n${daemonLog()}`);
    assert.deepEqual(running.status.containerStatuses?.map((c) => [c.name, c.ready]).sort(), [['app', true], ['sidecar', true]]);
    // the sidecar bootstrapped as in a cluster: its projected ServiceAccount token, accepted by fsm's controller
    assert.match(controller.output(), /"msg":"proxy connected","proxy":"app\/curl","auth":"serviceaccount"/, detail());
    // (the curl image runs no process: `tessera exec` runs curl itself)
    const pids = ['sidecar'].map((c) => Number(readFileSync(join(mesh.stateDir, 'pods', 'app', 'curl', `${c}.pid`), 'utf8').trim()));
    process.stdout.write(`# pod app/curl: ${running.status.podIP}, containers ${running.spec.containers.map((c) => c.name).join(', ')}, init ${(running.spec.initContainers ?? []).map((c) => c.name).join(', ')}\n`);

    ok(await kubectl(['delete', 'pod', 'curl', '-n', 'app', '--wait=true']), 'delete the pod');
    assert.equal(await getPod('app', 'curl'), undefined);
    await waitFor('the pod\'s processes to stop', async () => pids.every((pid) => !alive(pid)), 30_000, detail);
  });

  test('a Deployment\'s pod: created through the same webhook by the replicaset controller, injected, Ready', async () => {
    ok(await kubectl(['create', 'deployment', 'web', '-n', 'app', '--image=curlimages/curl', '--', 'sleep', 'infinity']), 'kubectl create deployment');
    let last: PodJson | undefined;
    const p = await waitFor('the Deployment\'s pod Running and Ready', async () => {
      const r = await kubectl(['get', 'pods', '-n', 'app', '-l', 'app=web', '-o', 'json']);
      last = r.code === 0 ? (JSON.parse(r.stdout) as { items: PodJson[] }).items[0] : undefined;
      return ready(last) ? last : undefined;
    }, WAIT_MS, () => `${detail()}\n--- status ---\n${JSON.stringify(last?.status)}\n--- daemon ---\n${daemonLog()}`);
    assert.deepEqual(p.spec.containers.map((c) => c.name), ['curl', 'sidecar']);
    assert.deepEqual((p.spec.initContainers ?? []).map((c) => c.name), ['fsm-init']);
    assert.match(injector.output(), new RegExp(`"msg":"injected sidecar","pod":"app/${p.metadata.name}"`));
    const available = ok(await kubectl(['rollout', 'status', 'deployment/web', '-n', 'app', '--timeout=60s']), 'rollout status');
    assert.match(available, /successfully rolled out/);
  });

  test('FSM\'s curl and httpbin samples, both injected: curl → httpbin through both sidecars, the client identity from its certificate', async () => {
    for (const sample of ['curl', 'httpbin']) ok(await kubectl(['apply', '-n', 'app', '-f', join(SAMPLES, `${sample}.yaml`)]), `apply ${sample}.yaml`);
    const readyPod = (app: string): Promise<PodJson> => {
      let last: PodJson | undefined;
      return waitFor(`the ${app} pod Ready`, async () => {
        const r = await kubectl(['get', 'pods', '-n', 'app', '-l', `app=${app}`, '-o', 'json']);
        last = r.code === 0 ? (JSON.parse(r.stdout) as { items: PodJson[] }).items[0] : undefined;
        return ready(last) ? last : undefined;
      }, WAIT_MS, () => `${detail()}\n--- status ---\n${JSON.stringify(last?.status)}\n--- daemon ---\n${daemonLog()}`);
    };
    const [curl, httpbin] = [await readyPod('curl'), await readyPod('httpbin')];
    for (const p of [curl, httpbin]) assert.ok(p.spec.containers.some((c) => c.name === 'sidecar'), `${p.metadata.name} injected`);
    let last = '';
    const out = await waitFor('curl → httpbin 200', async () => {
      const r = await kubectl(['exec', '-n', 'app', curl.metadata.name, '--', 'curl', '-s', '-m', '10', '-w', '\n%{http_code}', 'http://httpbin.app:14001/get']);
      last = `${r.stdout}${r.stderr}`;
      return r.stdout.trim().endsWith('200') ? r.stdout : undefined;
    }, WAIT_MS, () => `${detail()}\n--- exec ---\n${last}\n--- httpbin sidecar ---\n${sidecarLog('app', httpbin.metadata.name)}`);
    assert.match(out, /"Host": "httpbin\.app:14001"/);
    // the server sidecar's access log: the request came in through it, from curl's ServiceAccount (mTLS)
    const line = await waitFor('the access log line', async () => {
      let text = '';
      try {
        text = readFileSync(join(mesh.stateDir, 'pods', 'app', httpbin.metadata.name, 'sidecar.log'), 'utf8');
      } catch {
        return undefined;
      }
      return text.split('\n').reverse().find((l) => l.includes('/get') && l.includes('inbound'));
    }, 10_000, () => sidecarLog('app', httpbin.metadata.name));
    assert.match(line, /curl\.app/, 'the client identity (sa.ns) from its certificate');
    if (podNetwork === 'namespace') assert.ok(line.includes(curl.status.podIP!), `the source is the curl pod's IP: ${line}`);
    for (const sample of ['curl', 'httpbin']) ok(await kubectl(['delete', '-n', 'app', '-f', join(SAMPLES, `${sample}.yaml`), '--wait=true']), `delete ${sample}.yaml`);
  });

  test('kubectl run in a namespace no mesh monitors: not injected, run by the runtime, Ready; delete stops it', async () => {
    ok(await kubectl(['create', 'namespace', 'plain']), 'create namespace plain');
    ok(await kubectl(['run', 'web', '-n', 'plain', '--image=kennethreitz/httpbin', '--port=80']), 'kubectl run');
    let last: PodJson | undefined;
    const p = await waitFor('the pod Ready', async () => {
      last = await getPod('plain', 'web');
      return ready(last) ? last : undefined;
    }, WAIT_MS, () => `${detail()}\n--- status ---\n${JSON.stringify(last?.status)}\n--- daemon ---\n${daemonLog()}`);
    assert.deepEqual(p.spec.containers.map((c) => c.name), ['web'], 'no sidecar');
    assert.equal(p.spec.initContainers, undefined);
    const pid = Number(readFileSync(join(mesh.stateDir, 'pods', 'plain', 'web', 'web.pid'), 'utf8').trim());
    assert.ok(alive(pid));
    ok(await kubectl(['delete', 'pod', 'web', '-n', 'plain', '--wait=true']), 'delete the pod');
    await waitFor('the pod\'s process to stop', async () => !alive(pid), 30_000, detail);
  });
});
}
