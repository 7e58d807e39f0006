/**
 * The cluster-native sidecar bootstrap on the reference control plane (issue #14: "tessera install
 * brings up the mesh on any conformant cluster"): nothing of Tessera's starts the sidecar there, so
 * the injected container must find and prove itself to the controller with what Kubernetes gives it.
 *
 *  * `tessera install` (webhook URL on the host, the controller's certificate naming 127.0.0.1); the
 *    injector and the controller as host processes with their ServiceAccounts' tokens, as in
 *    kube-mode.test.ts;
 *  * a namespace labelled for the mesh gets the ConfigMap `<mesh>-ca-root-cert` (the mesh CA) from the
 *    controller, and loses it when it leaves the mesh;
 *  * a pod created through the real API server is injected by the real webhook with the controller's
 *    Service URL, the CA file and the token file, and the two volumes (it stays Pending: no node);
 *  * the test then does what a kubelet does: sets the pod's IP in its status, asks the TokenRequest API
 *    for a token of the pod's ServiceAccount bound to the pod with the audience `<mesh>-controller`,
 *    writes it and the ConfigMap's `ca.crt` where the volumes would be, and starts the REAL sidecar
 *    process with exactly the container's environment (downward-API fields resolved from the stored
 *    pod; the mount paths mapped to those directories; the controller's URL the host's
 *    https://127.0.0.1:PORT with TESSERA_CONTROLLER_SERVER_NAME = the Service name the certificate
 *    carries). The controller reviews the token, issues the certificate for the pod's ServiceAccount
 *    and sends the snapshot;
 *  * refused: another pod's token for this proxy, a token for another audience, a token bound to a
 *    deleted pod.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { ConfigMap, Pod } from '../../src/api/types.js';
import { freePort } from '../../src/lib/test-processes.js';
import { SIDECAR_TRANSPARENT_ENV } from '../../src/sidecar/listeners/transparent.js';
import {
  CONTROLLER_MAIN, controllerEnv, HostProcesses, INJECTOR_MAIN, injectorEnv, kubectlJson, kubectlOn, ok, secretText,
  serviceAccountKubeconfig, tesseraOn, waitFor, type HostProcess,
} from '../support/kube-mode.js';
import { referenceBinaries, startReferenceCluster, type ReferenceCluster } from '../support/kube-reference.js';

const SIDECAR_MAIN = fileURLToPath(new URL('../../src/sidecar/main.js', import.meta.url));
const bins = referenceBinaries();
const skip = 'skip' in bins ? bins.skip : false;
const MESH = 'fsm';
const SYSTEM = `${MESH}-system`;
const NS = 'boot';
const AUDIENCE = `${MESH}-controller`;
const SERVICE_HOST = `${MESH}-controller.${SYSTEM}.svc`;
const WAIT_MS = 60_000;

type InjectedPod = Pod & {
  metadata: Pod['metadata'] & { uid: string };
  spec: NonNullable<Pod['spec']> & { volumes: { name: string; configMap?: unknown; projected?: unknown; emptyDir?: unknown }[] };
};

describe('the cluster-native sidecar bootstrap on the reference cluster', { skip }, () => {
  let cluster: ReferenceCluster;
  const children = new HostProcesses();
  let work = '';
  let controllerPort = 0;
  let controller: HostProcess | undefined;
  let injector: HostProcess | undefined;
  let sidecar: HostProcess | undefined;
  let meshCa = '';
  let webUuid = '';

  const kubectl = (args: string[], input?: string) => kubectlOn(cluster, args, input);
  const json = <T>(args: string[]): Promise<T> => kubectlJson<T>(cluster, args);
  const logs = (): string => [controller, injector, sidecar].filter(Boolean).map((c) => `--- ${c!.name}\n${c!.output().slice(-4000)}`).join('\n');

  /** The TokenRequest API, as the kubelet calls it for a projected token (POST …/serviceaccounts/<sa>/token). */
  const tokenRequest = async (sa: string, audiences: string[], pod?: { name: string; uid: string }): Promise<string> => {
    const body = {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
      spec: { audiences, expirationSeconds: 3600, ...(pod ? { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid } } : {}) },
    };
    const out = ok(await kubectl(['create', '--raw', `/api/v1/namespaces/${NS}/serviceaccounts/${sa}/token`, '-f', '-'], JSON.stringify(body)), `TokenRequest for ${sa}`);
    return (JSON.parse(out) as { status: { token: string } }).status.token;
  };

  /** A proxy route of the host controller, verified as a sidecar verifies it (the mesh CA, the Service name). */
  const proxyCall = (uuid: string, token: string, route = 'config'): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: '127.0.0.1', port: controllerPort, path: `/v1/proxies/${uuid}/${route}`, method: 'GET', ca: meshCa, servername: SERVICE_HOST,
      headers: { authorization: `Bearer ${token}` }, timeout: 10_000,
    }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end();
  });

  const createPod = async (name: string, sa: string): Promise<InjectedPod> => {
    const manifest = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { app: name } },
      spec: { serviceAccountName: sa, containers: [{ name: 'app', image: 'registry.invalid/app:1', ports: [{ containerPort: 8080 }] }] },
    };
    ok(await kubectl(['apply', '-f', '-'], JSON.stringify(manifest)), `create pod ${name}`);
    return json<InjectedPod>(['get', 'pod', '-n', NS, name]);
  };

  before(async () => {
    cluster = await startReferenceCluster({ withControllers: true });
    work = mkdtempSync(join(tmpdir(), 'tessera-boot-'));
    controllerPort = await freePort();
  });
  after(async () => {
    await children.stopAll();
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('install; the injector and the controller on the host with their ServiceAccounts\' tokens', async () => {
    const injectorPort = await freePort();
    const webhookURL = `https://127.0.0.1:${injectorPort}/mutate-pod-creation`;
    ok(await tesseraOn(cluster, ['install', '--mesh-name', MESH, '--timeout', '2m', '--set', `fsm.injector.webhookURL=${webhookURL}`, '--controller-address', '127.0.0.1']), 'tessera install');
    meshCa = await secretText(cluster, SYSTEM, `${MESH}-ca-bundle`, 'ca.crt');
    const files = {
      injectorCert: join(work, 'injector.crt'), injectorKey: join(work, 'injector.key'),
      controllerCert: join(work, 'controller.crt'), controllerKey: join(work, 'controller.key'),
    };
    writeFileSync(files.injectorCert, await secretText(cluster, SYSTEM, `${MESH}-injector-tls`, 'tls.crt'));
    writeFileSync(files.injectorKey, await secretText(cluster, SYSTEM, `${MESH}-injector-tls`, 'tls.key'), { mode: 0o600 });
    writeFileSync(files.controllerCert, await secretText(cluster, SYSTEM, `${MESH}-controller-tls`, 'tls.crt'));
    writeFileSync(files.controllerKey, await secretText(cluster, SYSTEM, `${MESH}-controller-tls`, 'tls.key'), { mode: 0o600 });

    const injectorKubeconfig = (await serviceAccountKubeconfig(cluster, { namespace: SYSTEM, serviceAccount: `${MESH}-injector`, dir: work })).path;
    injector = children.start('injector', [INJECTOR_MAIN], {
      env: injectorEnv({ mesh: MESH, port: injectorPort, cert: files.injectorCert, key: files.injectorKey, kubeconfig: injectorKubeconfig }),
    });
    const controllerToken = (await serviceAccountKubeconfig(cluster, { namespace: SYSTEM, serviceAccount: `${MESH}-controller`, dir: work })).token;
    controller = children.start('controller', [CONTROLLER_MAIN], {
      env: controllerEnv(cluster, {
        mesh: MESH, token: controllerToken, port: controllerPort, meshKey: await secretText(cluster, SYSTEM, `${MESH}-mesh-key`, 'mesh-key'),
        stateDir: join(work, 'controller-state'), tls: { cert: files.controllerCert, key: files.controllerKey },
      }),
    });
    await waitFor('the controller to load the CA and sync', async () => /loaded the mesh root CA/.test(controller!.output()) && /resources synced/.test(controller!.output()), WAIT_MS, logs);
    await waitFor('the injector to listen', async () => /Kubernetes mode/.test(injector!.output()), WAIT_MS, logs);
  });

  test('the controller keeps <mesh>-ca-root-cert (the mesh CA) in a namespace labelled for the mesh', async () => {
    assert.ok(controller, 'the controller runs');
    ok(await kubectl(['create', 'namespace', NS]), 'create namespace');
    ok(await kubectl(['label', 'namespace', NS, `flomesh.io/monitored-by=${MESH}`]), 'label namespace');
    ok(await kubectl(['annotate', 'namespace', NS, 'flomesh.io/sidecar-injection=enabled']), 'annotate namespace');
    const cm = await waitFor(`ConfigMap ${NS}/${MESH}-ca-root-cert`, async () => {
      const r = await kubectl(['get', 'configmap', '-n', NS, `${MESH}-ca-root-cert`, '-o', 'json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as ConfigMap) : undefined;
    }, WAIT_MS, logs);
    assert.ok(cm.data!['ca.crt']!.startsWith(meshCa.trim()), 'ca.crt is the mesh CA (the active root first)');
    assert.equal(cm.metadata.labels?.['app.kubernetes.io/managed-by'], `${MESH}-controller`);
    // RBAC: that one name, nothing else outside its namespace
    const can = async (args: string[]): Promise<boolean> =>
      (await kubectl(['auth', 'can-i', `--as=system:serviceaccount:${SYSTEM}:${MESH}-controller`, ...args])).stdout.trim() === 'yes';
    assert.equal(await can(['create', 'configmaps', '-n', NS]), false, 'no ConfigMap of any name');
    assert.equal(await can(['patch', `configmaps/${MESH}-ca-root-cert`, '-n', NS]), true);
    assert.equal(await can(['patch', 'configmaps/other', '-n', NS]), false);
    assert.equal(await can(['create', 'tokenreviews.authentication.k8s.io']), true);
  });

  test('the real webhook injects the bootstrap; the real sidecar, started as the kubelet would, gets its certificate and snapshot', async () => {
    ok(await kubectl(['create', 'serviceaccount', 'web', '-n', NS]), 'create sa web');
    ok(await kubectl(['create', 'serviceaccount', 'other', '-n', NS]), 'create sa other');
    let pod = await createPod('web', 'web');
    const container = pod.spec.containers.find((c) => c.name === 'sidecar');
    assert.ok(container, `the sidecar injected:\n${logs()}`);
    webUuid = pod.metadata.labels!['fsm-proxy-uuid']!;
    const env = new Map((container.env ?? []).map((e) => [e.name, e]));
    assert.equal(env.get('TESSERA_CONTROLLER_URL')?.value, `https://${SERVICE_HOST}:6060`);
    assert.equal(env.get('TESSERA_CONTROLLER_CA_FILE')?.value, '/var/run/tessera/ca/ca.crt');
    assert.equal(env.get('TESSERA_PROXY_TOKEN_FILE')?.value, '/var/run/secrets/tessera/token/token');
    assert.equal(env.has('TESSERA_PROXY_TOKEN'), false);
    const volumes = new Map((pod.spec.volumes as { name: string; configMap?: unknown; projected?: unknown }[]).map((v) => [v.name, v]));
    assert.deepEqual(volumes.get('fsm-ca-root')?.configMap, { name: `${MESH}-ca-root-cert`, items: [{ key: 'ca.crt', path: 'ca.crt' }], defaultMode: 420 });
    assert.deepEqual(volumes.get('fsm-proxy-token')?.projected, {
      sources: [{ serviceAccountToken: { audience: AUDIENCE, expirationSeconds: 3600, path: 'token' } }], defaultMode: 420,
    }, 'stored as the injector wrote it (the API server adds defaultMode)');

    // The kubelet's part: an address for the pod (its status, through the API), the projected token, the ConfigMap's file.
    const podIP = `127.${100 + Math.floor(Math.random() * 100)}.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    ok(await kubectl(['patch', 'pod', 'web', '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { podIP, podIPs: [{ ip: podIP }] } })]), 'pod status');
    pod = await json<InjectedPod>(['get', 'pod', '-n', NS, 'web']);
    const cm = await json<ConfigMap>(['get', 'configmap', '-n', NS, `${MESH}-ca-root-cert`]);
    const token = await tokenRequest('web', [AUDIENCE], { name: 'web', uid: pod.metadata.uid });
    const mounts = new Map<string, string>();
    for (const m of container.volumeMounts ?? []) {
      const dir = join(work, 'pod-web', m.name);
      mkdirSync(dir, { recursive: true });
      mounts.set(m.mountPath, dir);
      if (m.name === 'fsm-ca-root') writeFileSync(join(dir, 'ca.crt'), cm.data!['ca.crt']!);
      if (m.name === 'fsm-proxy-token') writeFileSync(join(dir, 'token'), token, { mode: 0o600 });
    }
    // the injected three, and the API token the ServiceAccount admission plugin mounts in every container
    assert.deepEqual([...mounts.keys()].sort(), ['/var/run/secrets/kubernetes.io/serviceaccount', '/var/run/secrets/tessera/token', '/var/run/tessera/ca', '/var/run/tessera/sidecar']);
    const field = (path: string): string => {
      const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
      if (label) return pod.metadata.labels![label[1]!]!;
      const known: Record<string, string | undefined> = {
        'metadata.name': pod.metadata.name, 'metadata.namespace': pod.metadata.namespace, 'metadata.uid': pod.metadata.uid,
        'status.podIP': pod.status?.podIP, 'spec.serviceAccountName': pod.spec.serviceAccountName,
      };
      assert.ok(known[path] !== undefined, `downward API field ${path}`);
      return known[path]!;
    };
    const sidecarEnv: NodeJS.ProcessEnv = {};
    for (const e of container.env ?? []) {
      let value = e.valueFrom ? field((e.valueFrom as { fieldRef: { fieldPath: string } }).fieldRef.fieldPath) : e.value ?? '';
      for (const [mountPath, dir] of mounts) if (value === mountPath || value.startsWith(`${mountPath}/`)) value = dir + value.slice(mountPath.length);
      sidecarEnv[e.name] = value;
    }
    // the controller runs on the host: its address, and the name its certificate carries
    sidecarEnv.TESSERA_CONTROLLER_URL = `https://127.0.0.1:${controllerPort}`;
    sidecarEnv.TESSERA_CONTROLLER_SERVER_NAME = SERVICE_HOST;
    // its transparent listener on a free port: on this host it shares the port space with everything else
    if (sidecarEnv[SIDECAR_TRANSPARENT_ENV]) sidecarEnv[SIDECAR_TRANSPARENT_ENV] = String(await freePort());
    // only the container's environment (no proxy token, nothing of this process's)
    const clean: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: work, ...sidecarEnv };
    for (const k of Object.keys(process.env)) if (!(k in clean)) clean[k] = undefined;
    sidecar = children.start('sidecar', [SIDECAR_MAIN], { env: clean, cwd: work });

    const identity = `web.${NS}`;
    await waitFor(`certificate issued for ${identity}`, async () => controller!.output().split('\n').some((l) => l.includes('"certificate issued"') && l.includes(`"identity":"${identity}"`) && l.includes(`"proxy":"${NS}/web"`)), WAIT_MS, logs);
    assert.match(controller!.output(), new RegExp(`"proxy connected".*"auth":"serviceaccount","identity":"${identity.replace('.', '\\.')}"`));
    const admin = async (path: string): Promise<{ status: number; body: string }> => {
      try {
        const res = await fetch(`http://${podIP}:15000${path}`, { signal: AbortSignal.timeout(3000) });
        return { status: res.status, body: await res.text() };
      } catch {
        return { status: 0, body: '' };
      }
    };
    await waitFor('the sidecar\'s admin /ready', async () => (await admin('/ready')).status === 200, WAIT_MS, logs);
    const dump = JSON.parse((await admin('/config_dump')).body) as { Version?: string; Certificate?: { CommonName?: string } };
    assert.ok(dump.Version, 'a snapshot applied');
    assert.match(dump.Certificate?.CommonName ?? '', new RegExp(`^web\\.${NS}\\.`), 'the workload certificate names the pod\'s ServiceAccount');
    const all = sidecar.output() + controller!.output();
    assert.ok(!all.includes(token), 'the token is never logged');
  });

  test('refused: another pod\'s token for this proxy, a token for another audience, a token bound to a deleted pod', async () => {
    assert.ok(webUuid, 'the web pod was injected');
    const other = await createPod('other', 'other');
    const otherToken = await tokenRequest('other', [AUDIENCE], { name: 'other', uid: other.metadata.uid });
    const foreign = await proxyCall(webUuid, otherToken);
    assert.equal(foreign.status, 403, foreign.body);
    assert.match(foreign.body, new RegExp(`bound to pod ${NS}/other .* not to pod ${NS}/web`));

    const web = await json<InjectedPod>(['get', 'pod', '-n', NS, 'web']);
    const wrongAudience = await proxyCall(webUuid, await tokenRequest('web', ['someone-else'], { name: 'web', uid: web.metadata.uid }));
    assert.equal(wrongAudience.status, 401, wrongAudience.body);
    assert.match(wrongAudience.body, /invalid ServiceAccount token/);

    const unbound = await proxyCall(webUuid, await tokenRequest('web', [AUDIENCE]));
    assert.equal(unbound.status, 401, unbound.body);
    assert.match(unbound.body, /not bound to a pod/);

    const gone = await createPod('gone', 'web');
    const goneUuid = gone.metadata.labels!['fsm-proxy-uuid']!;
    const goneToken = await tokenRequest('web', [AUDIENCE], { name: 'gone', uid: gone.metadata.uid });
    ok(await kubectl(['delete', 'pod', 'gone', '-n', NS, '--grace-period=0', '--force', '--wait=true']), 'delete pod gone');
    for (const uuid of [goneUuid, webUuid]) {
      const r = await proxyCall(uuid, goneToken);
      assert.equal(r.status, 401, r.body);
      assert.match(r.body, /does not authenticate the token/);
    }
    assert.equal((await proxyCall(webUuid, 'not-a-token')).status, 401);
    assert.match(controller!.output(), /ServiceAccount token refused/);
    for (const t of [otherToken, goneToken]) assert.ok(!controller!.output().includes(t), 'no token in the controller\'s log');
  });

  test('the ConfigMap goes when the namespace leaves the mesh', async () => {
    ok(await kubectl(['label', 'namespace', NS, 'flomesh.io/monitored-by-']), 'unlabel namespace');
    await waitFor('the ConfigMap deleted', async () => (await kubectl(['get', 'configmap', '-n', NS, `${MESH}-ca-root-cert`])).code !== 0, WAIT_MS, logs);
  });
});
