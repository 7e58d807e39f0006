/**
 * Issue #21 "Done when": a seed's walkthrough with real kubectl against the reference cluster with
 * Tessera installed on it. `tessera install` (the webhook at a host injector, the controller's
 * serving certificate naming 127.0.0.1), then the injector, the controller (TLS with the install's
 * `<mesh>-controller-tls`) and `tessera node` (the install's mesh key and CA) as host processes; the
 * seed 002 lines run as written in a shell with the reference kubectl and `tessera` on PATH: namespaces
 * joined with `tessera namespace add` (the current kubeconfig), FSM's samples applied, the real
 * scheduler binds the pods to the node, the real API server calls the webhook, `kubectl exec` reaches
 * curl through the node's kubelet API, and curl's request goes through both sidecars (mTLS, the
 * identities from the pods' ServiceAccounts). The sidecars bootstrap as on a cluster: the node
 * materializes the injected `fsm-ca-root` ConfigMap and `fsm-proxy-token` projected-token volumes,
 * and the controller accepts the token by TokenReview. Then the seed's IAM plugins: 200 → 401 → 200.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/lib/test-processes.js';
import { deploySample, iamWalkthrough, podVar, waitReady } from '../support/deploy.js';
import {
  CLI, CONTROLLER_MAIN, controllerEnv, HostProcesses, INJECTOR_MAIN, injectorEnv, kubectlJson, kubectlOn, nodeCsrName, ok,
  secretText as secretTextOf, serviceAccountKubeconfig, tesseraNodeArgs, waitFor as waitForEvery, type HostProcess,
} from '../support/kube-mode.js';
import { referenceBinaries, startReferenceCluster, type ReferenceCluster } from '../support/kube-reference.js';
import { REPO_ROOT, run, SAMPLES, type RunResult } from '../support/mesh.js';

const bins = referenceBinaries();
const skip = 'skip' in bins ? `seed on Kubernetes: ${bins.skip}` : false;
/** The seed's mesh: `fsm-mesh-config` in `fsm-system`, as its commands say. */
const MESH = 'fsm';
const NS = `${MESH}-system`;
const NODE = 'tessera-seed-node';
const WAIT_MS = 90_000;

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, ms = WAIT_MS, detail?: () => string): Promise<T> =>
  waitForEvery(what, fn, ms, detail, 300);

/**
 * The node's pod network: `namespace` (sandboxes, the injected fsm-init's interception) and its
 * fallback `loopback` (pods on this host's 127/8 addresses, apps sent through their sidecar as an
 * HTTP proxy; no network namespace, so the node runs no init step).
 */
for (const podNetwork of ['namespace', 'loopback'] as const) {
  const namespaces = podNetwork === 'namespace';
  describe(`a seed on a real control plane: seed 002 on the reference cluster with tessera node (${podNetwork} pod network)`, { skip }, () => {
    let cluster: ReferenceCluster;
    const children = new HostProcesses();
    let dir = '';
    let controllerPort = 0;

    const kubectl = (args: string[], input?: string): Promise<RunResult> => kubectlOn(cluster, args, input);
    const json = <T>(args: string[]): Promise<T> => kubectlJson<T>(cluster, args);
    const secretText = (name: string, key: string): Promise<string> => secretTextOf(cluster, NS, name, key);
    const tail = (c: HostProcess | undefined, n = 40): string => (c ? `--- ${c.name} ---\n${c.output().split('\n').slice(-n).join('\n')}` : '');
    /** The sidecars' logs the node keeps (`<root-dir>/pods/NS/POD/sidecar.log`), last lines. */
    const sidecarLogs = (): string => {
      const out: string[] = [];
      const pods = join(dir, 'node', 'pods');
      for (const ns of existsSync(pods) ? readdirSync(pods) : []) {
        for (const pod of readdirSync(join(pods, ns))) {
          const file = join(pods, ns, pod, 'sidecar.log');
          if (existsSync(file)) out.push(`--- sidecar of ${ns}/${pod} ---\n${readFileSync(file, 'utf8').split('\n').slice(-15).join('\n')}`);
        }
      }
      return out.join('\n');
    };
    const detail = (): string => `${children.all.map((c) => tail(c, 25)).join('\n')}\n${sidecarLogs()}`;

    const spawnChild = (name: string, args: string[], env: NodeJS.ProcessEnv = {}): HostProcess => children.start(name, args, { cwd: REPO_ROOT, env });
    /** A kubeconfig for a ServiceAccount of the mesh: a token from the TokenRequest API and the cluster CA. */
    const serviceAccount = (sa: string): Promise<{ path: string; token: string }> =>
      serviceAccountKubeconfig(cluster, { namespace: NS, serviceAccount: sa, dir });

    /** Runs a script of the seed's lines: the reference kubectl and `tessera` on PATH, the admin kubeconfig current. */
    const sh = (script: string, timeoutMs = 240_000): Promise<RunResult> =>
      run('bash', ['-euo', 'pipefail', '-c', script], {
        timeoutMs,
        env: {
          ...process.env,
          PATH: `${join(dir, 'bin')}:${cluster.binDir}:${process.env.PATH ?? ''}`,
          KUBECONFIG: cluster.kubeconfig,
          HOME: dir,
          SAMPLES,
          TESSERA_HOME: join(dir, 'no-local-mesh'),
        },
      });

    before(async () => {
      cluster = await startReferenceCluster({ withControllers: true, kubeletClient: true });
      dir = join(cluster.dir, 'seed');
      mkdirSync(join(dir, 'bin'), { recursive: true });
      const wrapper = join(dir, 'bin', 'tessera');
      writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
      chmodSync(wrapper, 0o755);

      // tessera install: the webhook calls a host injector; the controller's certificate names 127.0.0.1
      const injectorPort = await freePort();
      controllerPort = await freePort();
      const webhookURL = `https://127.0.0.1:${injectorPort}/mutate-pod-creation`;
      ok(await sh(`tessera install --mesh-name ${MESH} --timeout 2m --set fsm.injector.webhookURL=${webhookURL} --controller-address 127.0.0.1`), 'tessera install');

      const caPem = await secretText(`${MESH}-ca-bundle`, 'ca.crt');
      const files = {
        ca: join(dir, 'mesh-ca.crt'), meshKey: join(dir, 'mesh-key'),
        injectorCert: join(dir, 'injector.crt'), injectorKey: join(dir, 'injector.key'),
        controllerCert: join(dir, 'controller.crt'), controllerKey: join(dir, 'controller.key'),
      };
      writeFileSync(files.ca, caPem);
      writeFileSync(files.meshKey, await secretText(`${MESH}-mesh-key`, 'mesh-key'), { mode: 0o600 });
      writeFileSync(files.injectorCert, await secretText(`${MESH}-injector-tls`, 'tls.crt'));
      writeFileSync(files.injectorKey, await secretText(`${MESH}-injector-tls`, 'tls.key'), { mode: 0o600 });
      const controllerCert = await secretText(`${MESH}-controller-tls`, 'tls.crt');
      assert.ok(new X509Certificate(controllerCert).checkIP('127.0.0.1'), 'the controller\'s certificate names --controller-address');
      assert.ok(new X509Certificate(controllerCert).verify(new X509Certificate(caPem).publicKey), 'issued by the mesh CA');
      writeFileSync(files.controllerCert, controllerCert);
      writeFileSync(files.controllerKey, await secretText(`${MESH}-controller-tls`, 'tls.key'), { mode: 0o600 });

      const injector = spawnChild('injector', [INJECTOR_MAIN], injectorEnv({
        mesh: MESH, port: injectorPort, cert: files.injectorCert, key: files.injectorKey, kubeconfig: (await serviceAccount(`${MESH}-injector`)).path,
      }));
      const controller = spawnChild('controller', [CONTROLLER_MAIN], controllerEnv(cluster, {
        mesh: MESH, token: (await serviceAccount(`${MESH}-controller`)).token, port: controllerPort,
        meshKey: await secretText(`${MESH}-mesh-key`, 'mesh-key'), stateDir: join(dir, 'controller-state'),
        tls: { cert: files.controllerCert, key: files.controllerKey },
      }));
      // The node plays kube-proxy too (the services chain in each pod): kube-proxy's ClusterRole for its user.
      ok(await kubectl(['create', 'clusterrolebinding', 'tessera-node-proxier', '--clusterrole=system:node-proxier', `--user=system:node:${NODE}`]), 'bind system:node-proxier');
      const node = spawnChild('node', tesseraNodeArgs({
        kubeconfig: await cluster.nodeKubeconfig(NODE), name: NODE, port: await freePort(), rootDir: join(dir, 'node'),
        extraArgs: ['--mesh-name', MESH, '--mesh-key-file', files.meshKey, '--mesh-ca-file', files.ca, '--controller-url', `https://127.0.0.1:${controllerPort}`,
          '--pod-network', podNetwork],
      }));
      await waitFor('the injector to listen', async () => /injector listening/.test(injector.output()), 30_000, detail);
      await waitFor('the controller to listen with TLS and load the install\'s CA', async () =>
        /control plane listening.*"tls":true/.test(controller.output()) && /loaded the mesh root CA/.test(controller.output()), WAIT_MS, detail);
      const csr = await nodeCsrName(node, WAIT_MS, detail);
      ok(await kubectl(['certificate', 'approve', csr]), 'approve the node\'s CSR');
      await waitFor('the node to be Ready', async () => /registered and Ready/.test(node.output()), WAIT_MS, detail);
    });

    after(async () => {
      // the node first (it stops its pods' processes), then the control plane
      await children.stopAll((c) => (c.name === 'node' ? 20_000 : 5000));
      if (process.env.TESSERA_NODE_DEBUG) process.stderr.write(`${detail()}\n`);
      await cluster?.stop();
    });

    test('seed 002: curl → httpbin through both sidecars, with real kubectl', async () => {
      const waitPods = (pods: [string, string][]): string => pods.map(([ns, app]) =>
        `for i in $(seq 1 120); do [ -n "$(kubectl get pod -n ${ns} -l app=${app} -o name)" ] && break; sleep 0.5; done`).join('\n');
      const r = await sh(`
${deploySample('curl')}

${deploySample('httpbin')}

${waitPods([['curl', 'curl'], ['httpbin', 'httpbin']])}
${waitReady([['curl', 'curl'], ['httpbin', 'httpbin']], '120s')}

${podVar('curl_pod', 'curl', 'curl')}
${podVar('httpbin_pod', 'httpbin', 'httpbin')}
      echo "--- containers"
      kubectl get pod -n curl $curl_pod -o jsonpath='{.spec.containers[*].name}'; echo
      kubectl get pod -n httpbin $httpbin_pod -o jsonpath='{.spec.containers[*].name}'; echo
      echo "--- sandboxes"
      for p in "curl $curl_pod" "httpbin $httpbin_pod"; do
        set -- $p
        kubectl get pod -n $1 $2 -o jsonpath='{.status.podIP} {.spec.initContainers[*].name} {.status.initContainerStatuses[*].state.terminated.reason}'; echo
      done
      echo "--- curl env"
      kubectl exec $curl_pod -n curl -c curl -- env | grep -i '_proxy=' || echo "no proxy variables"
      echo "--- curl volumes"
      ${namespaces ? "kubectl exec $curl_pod -n curl -c curl -- sh -c 'cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; test -s /var/run/secrets/kubernetes.io/serviceaccount/token && echo token'" : ''}
      echo "--- curl"
      # the sidecars get their snapshots asynchronously: bounded retries until the answer is 200
      for i in $(seq 1 60); do
        out=$(kubectl exec $curl_pod -n curl -c curl -- curl -sI http://httpbin.httpbin:14001/get || true)
        case "$out" in "HTTP/1.1 200"*) break;; esac
        sleep 0.5
      done
      printf '%s\\n' "$out"
      echo "--- namespaces"
      tessera namespace list
`);
      assert.equal(r.code, 0, `script failed:\n${r.stdout}\n${r.stderr}\n${detail()}`);
      const section = (name: string): string => r.stdout.split(`--- ${name}\n`)[1]!.split('--- ')[0]!;
      assert.match(r.stdout, /Namespace \[curl\] successfully added to mesh \[fsm\]/);
      assert.deepEqual(section('containers').trim().split('\n'), ['curl sidecar', 'httpbin sidecar'], 'the real API server called the webhook');
      // Namespace mode with FSM's interception: pod IPs on the node's bridge, the webhook's fsm-init run
      // by the node in each pod's namespace, apps with no proxy variables (so the 200 below was
      // intercepted, not proxied).
      const sandboxes = section('sandboxes').trim().split('\n');
      assert.equal(sandboxes.length, 2);
      if (namespaces) {
        for (const line of sandboxes) assert.match(line, /^10\.\d+\.\d+\.\d+ fsm-init Completed$/, `a sandboxed pod, its init step done: ${line}`);
        assert.match(children.all.find((c) => c.name === 'node')!.output(), /init fsm-init: interception rules loaded in its namespace/);
        assert.equal(section('curl env').trim(), 'no proxy variables');
        // exec sees the container's volumes: the projected ServiceAccount volume the API server added
        assert.deepEqual(section('curl volumes').trim().split('\n'), ['curl', 'token']);
      } else {
        // loopback: addresses of this host, the init step not run (nothing to intercept in), the app's proxy variables
        for (const line of sandboxes) assert.match(line, /^127\.\d+\.\d+\.\d+ fsm-init\s*$/, `a loopback pod: ${line}`);
        assert.match(section('curl env'), /^http_proxy=http:\/\/127\.[\d.]+:15001$/m);
      }
      const curl = section('curl');
      assert.equal(curl.split('\r\n')[0], 'HTTP/1.1 200 OK', `${curl}\n${detail()}`);
      assert.match(curl, /server: gunicorn\/19\.9\.0/);
      assert.match(section('namespaces'), /curl\s+fsm\s+enabled/);
      assert.match(section('namespaces'), /httpbin\s+fsm\s+enabled/);

      // The FSM labels and annotation on the real Namespace objects.
      const ns = await json<{ metadata: { labels: Record<string, string>; annotations: Record<string, string> } }>(['get', 'namespace', 'httpbin']);
      assert.equal(ns.metadata.labels['flomesh.io/monitored-by'], MESH);
      assert.equal(ns.metadata.annotations['flomesh.io/sidecar-injection'], 'enabled');

      // Both sidecars connected to the controller over TLS with their ServiceAccounts' identities; the
      // request crossed them as mTLS (httpbin's sidecar saw curl's identity).
      const headers = ok(await sh(`${podVar('curl_pod', 'curl', 'curl')}
      kubectl exec $curl_pod -n curl -c curl -- curl -s http://httpbin.httpbin:14001/headers`), 'curl /headers');
      assert.match(headers, /"Host": "httpbin\.httpbin:14001"/);
      const httpbinSidecar = sidecarLogs().split('--- sidecar of ').find((l) => l.startsWith('httpbin/')) ?? '';
      assert.match(httpbinSidecar, /"direction":"inbound"[^\n]*"sourceService":"curl\.curl"[^\n]*"status":200/, 'httpbin\'s sidecar authenticated curl\'s identity (mTLS)');
      const curlSidecar = sidecarLogs().split('--- sidecar of ').find((l) => l.startsWith('curl/')) ?? '';
      assert.match(curlSidecar, /"direction":"outbound"[^\n]*"status":200/, 'curl\'s own sidecar carried the request out (interception)');
      const controller = children.all.find((c) => c.name === 'controller')!.output();
      assert.match(controller, /"certificate issued","proxy":"curl\/[^"]+","identity":"curl\.curl"/, 'curl\'s identity from its ServiceAccount');
      assert.match(controller, /"certificate issued","proxy":"httpbin\/[^"]+","identity":"httpbin\.httpbin"/);
      // The injector's cluster bootstrap, honoured by the node: each sidecar proved itself with its pod's
      // projected ServiceAccount token (a TokenRequest by the node, audience fsm-controller, checked by
      // the controller's TokenReview), having verified the controller with the CA of the ConfigMap
      // fsm-ca-root-cert the controller keeps in the namespace — no proxy token minted by the node.
      assert.match(controller, /"proxy connected","proxy":"curl\/[^"]+","auth":"serviceaccount","identity":"curl\.curl"/);
      assert.match(controller, /"proxy connected","proxy":"httpbin\/[^"]+","auth":"serviceaccount","identity":"httpbin\.httpbin"/);
      assert.doesNotMatch(controller, /watch interrupted.*(403|forbidden)/i, 'the controller\'s RBAC suffices');
    });

    test('seed 002: the native IAM plugins applied with kubectl to the real CRDs: 200 → 401 → 200', async () => {
      const r = await sh(`
${iamWalkthrough({ tries: 60, pause: 0.5, readyTimeout: '120s', tolerateExecErrors: true, extAuthWait: 'for i in $(seq 1 120); do [ -n "$(kubectl get pod -n auth -l app=ext-auth -o name)" ] && break; sleep 0.5; done' })}
`);
      assert.equal(r.code, 0, `script failed:\n${r.stdout}\n${r.stderr}\n${detail()}`);
      assert.match(r.stdout, /^\/get 200$/m);
      assert.match(r.stdout, /^\/get 401$/m);
      assert.match(r.stdout, /^\/headers 200$/m);
    });

    test('probes the webhook rewrote to the sidecar pass through it: HTTP on 15902, TCP on 15904 with the original port', async () => {
      const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: { name: probed, namespace: httpbin }
spec:
  replicas: 1
  selector: { matchLabels: { app: probed } }
  template:
    metadata: { labels: { app: probed } }
    spec:
      serviceAccountName: httpbin
      containers:
      - name: web
        image: flomesh/httpbin:ken
        command: ["gunicorn", "-b", "0.0.0.0:14011", "httpbin:app", "-k", "gevent"]
        ports: [{ containerPort: 14011 }]
        readinessProbe: { httpGet: { path: /status/200, port: 14011 }, periodSeconds: 1 }
      - name: raw
        image: flomesh/httpbin:ken
        command: ["gunicorn", "-b", "0.0.0.0:14012", "httpbin:app", "-k", "gevent"]
        ports: [{ containerPort: 14012 }]
        readinessProbe: { tcpSocket: { port: 14012 }, periodSeconds: 1 }
`;
      ok(await kubectl(['apply', '-f', '-'], manifest), 'apply the probed Deployment');
      const pod = await waitFor('the probed pod to be Ready', async () => {
        const list = await json<{ items: { metadata: { name: string }; spec: { containers: { name: string; readinessProbe?: { httpGet?: { port: number; path: string; httpHeaders?: { name: string; value: string }[] } } }[] };
          status: { conditions?: { type: string; status: string }[] } }[] }>(['get', 'pods', '-n', 'httpbin', '-l', 'app=probed', '-o', 'json']);
        const p = list.items[0];
        return p?.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
      }, WAIT_MS, detail);
      const probe = (name: string) => pod.spec.containers.find((c) => c.name === name)!.readinessProbe!.httpGet!;
      assert.equal(probe('web').port, 15902, 'the HTTP probe points at the sidecar\'s readiness port');
      assert.match(probe('web').path, /^\/fsm-readiness-probe/);
      assert.equal(probe('raw').port, 15904, 'the TCP probe became an HTTP probe of the sidecar');
      assert.deepEqual(probe('raw').httpHeaders, [{ name: 'Original-Tcp-Port', value: '14012' }]);
      ok(await kubectl(['delete', 'deployment', 'probed', '-n', 'httpbin', '--wait=false']), 'delete the probed Deployment');
    });
  });
}
