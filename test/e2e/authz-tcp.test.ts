/**
 * Istio AuthorizationPolicy on inbound TCP (security-rules.md §1 "TCP traffic", §11 rule 3) on a local
 * mesh driven through the `tessera` CLI: a TCP server (greets "tcp PORT POD" and closes) on 9000 and
 * 9001, and two clients with their own identities whose sidecars carry the TCP through mTLS.
 * ALLOW naming the client's principal and port lets only it in; a DENY with `methods: [GET]` and a
 * port refuses everyone on that port (HTTP fields are dropped on TCP); deleting the policy restores
 * access at once; `connection.sni` is matched against the verified handshake. A refused connection
 * is closed without a byte of the app, and is in the server sidecar's access log, log and metrics.
 *
 * Two suites. The first, in loopback mode, drives each client pod's explicit proxy from this machine
 * (CONNECT to the pod's outbound listener, `curl -p -x`) and makes the SNI handshake from the host as
 * the client pod's address: loopback-specific mechanics. The second runs the same in namespace mode
 * (the default wherever it is available, CI included), everything from inside pods: the client and
 * the stranger are meshed pods whose connections their sidecars intercept (`tessera exec POD --
 * curl telnet://…`, a raw TCP reader), and the SNI handshake comes from a pod outside the mesh (no
 * sidecar, namespace not in the mesh) presenting the client's workload certificate from a Secret
 * volume.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { localIPFor } from '../../src/local/layout.js';
import { decidePodNetwork } from '../../src/local/runtime/pod-network.js';
import { sandboxSupport } from '../../src/local/sandbox/index.js';
import { sleeperClient } from '../support/manifests.js';
import { REPO_ROOT, eventually, podFile, readyPods, startMesh, type TestMesh, within } from '../support/mesh.js';
import { received, tunnel } from '../support/tcp.js';

const APP = 'node dist/test/support/smi-app.js';
const PORTS = [9000, 9001];

const WORKLOADS = `
apiVersion: v1
kind: Service
metadata: { name: server, namespace: default }
spec:
  selector: { app: server }
  ports:
  - { name: tcp-9000, port: 9000, targetPort: 9000, protocol: TCP }
  - { name: tcp-9001, port: 9001, targetPort: 9001, protocol: TCP }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: server, namespace: default }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: server, namespace: default }
spec:
  replicas: 1
  selector: { matchLabels: { app: server } }
  template:
    metadata:
      labels: { app: server }
      annotations:
        local.tessera.dev/command: ${APP} l4 ${PORTS.join(' ')}
    spec:
      serviceAccountName: server
      containers:
      - name: server
        image: example/smi-app
        ports: [{ containerPort: 9000 }, { containerPort: 9001 }]
${['client', 'stranger'].map((name) => `---${sleeperClient(name)}`).join('')}`;

const policy = (name: string, action: string, rules: string) => `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: default }
spec:
  selector: { matchLabels: { app: server } }
  action: ${action}
  rules:
${rules}`;

const ALLOW_CLIENT_9000 = policy('tcp-allow', 'ALLOW', `
  - from: [{ source: { principals: ["cluster.local/ns/default/sa/client"] } }]
    to: [{ operation: { ports: ["9000"] } }]`);
const DENY_GET_9000 = policy('deny-get', 'DENY', `
  - to: [{ operation: { methods: ["GET"], ports: ["9000"] } }]`);
const SNI = 'server.default.svc.cluster.local';
const ALLOW_SNI = policy('sni-allow', 'ALLOW', `
  - when: [{ key: connection.sni, values: ["${SNI}"] }]`);

describe('AuthorizationPolicy on inbound TCP in loopback mode: clients through their pods\' explicit proxies, driven from this machine', () => {
  let mesh: TestMesh;
  const pods: Record<string, { name: string; ip: string }> = {};
  /** what a client's sidecar delivered from server:PORT (the app's greeting, or nothing) */
  const via = (client: string, port: number) => tunnel(pods[client]!.ip, `server.default:${port}`);
  const reaches = async (client: string, port: number) => (await via(client, port)).includes(`tcp ${port} ${pods['server']!.name}`);
  const sidecarLog = async () => (await mesh.tessera(['logs', pods['server']!.name, '-n', 'default', '-c', 'sidecar'])).stdout;
  const apply = async (yaml: string) => {
    const r = await mesh.tessera(['apply', '-f', '-'], { input: yaml });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  };
  const remove = async (name: string) => {
    const r = await mesh.tessera(['delete', 'authorizationpolicy', name, '-n', 'default']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  };

  before(async () => {
    // Strangers outside the mesh dial the pod's address from this machine: loopback mode's mechanics
    // (in namespace mode the host has no route to pods at all; see docs/architecture.md, Pod sandboxes).
    mesh = await startMesh('fsm', ['--pod-network=loopback']);
    // warn: the refusal lines are part of what is under test (FSM's default sidecar level is error)
    const setup = await mesh.sh(
      `tessera patch meshconfig fsm-mesh-config -n fsm-system -p '{"spec":{"sidecar":{"logLevel":"warn"}}}' --type=merge
       tessera namespace add default`,
    );
    assert.equal(setup.code, 0, setup.stderr);
    await apply(WORKLOADS);
    Object.assign(pods, await readyPods(mesh, 'default', ['server', 'client', 'stranger']));
    for (const c of ['client', 'stranger']) for (const p of PORTS) await eventually(() => reaches(c, p), 30_000, `${c} → server:${p} without a policy`);
  });
  after(async () => {
    await mesh?.stop();
  });

  test("ALLOW naming the client's principal and port 9000: the client's exchange works, the stranger's is closed with no data", async () => {
    await apply(ALLOW_CLIENT_9000);
    await eventually(async () => !(await reaches('stranger', 9000)), 10_000, 'the policy in force');
    // through the CLI, as a user would: curl's telnet through the pod's sidecar
    const proxy = (c: string) => `http://${localIPFor(pods[c]!.ip)}:15001`;
    const r = await mesh.tessera(['exec', pods['client']!.name, '-n', 'default', '--', 'sh', '-c', `sleep 2 | curl -s -m 5 -p -x ${proxy('client')} telnet://server.default:9000`]);
    assert.match(r.stdout, new RegExp(`^tcp 9000 ${pods['server']!.name}$`, 'm'), r.stdout + r.stderr);
    const s = await mesh.tessera(['exec', pods['stranger']!.name, '-n', 'default', '--', 'sh', '-c', `sleep 2 | curl -s -m 5 -p -x ${proxy('stranger')} telnet://server.default:9000 || true`]);
    assert.doesNotMatch(s.stdout, /tcp 9000/);

    assert.equal(await reaches('client', 9000), true);
    const refused = await via('stranger', 9000);
    assert.doesNotMatch(refused, /tcp 9000/, 'no byte of the app');
    assert.equal(await reaches('client', 9001), false, 'the rule names port 9000 only');

    const log = await eventually(async () => {
      const l = await sidecarLog();
      return /"protocol":"tcp".*"sourceService":"stranger\.default".*"denied":"authorization: no ALLOW policy matched"/.test(l) && l;
    }, 10_000, 'the access line of the refused connection');
    assert.match(log, /connection denied by authorization policy.*no ALLOW policy matched|no ALLOW policy matched.*connection denied by authorization policy/, 'a warn line');
    const metrics = (await mesh.tessera(['proxy', 'get', 'stats/prometheus', pods['server']!.name, '-n', 'default'])).stdout;
    assert.match(metrics, /tessera_tcp_connections_denied_total\{[^}]*direction="inbound",source="stranger\.default",destination="server\.default"\} [1-9]/);
  });

  test('a DENY with methods [GET] and port 9000 refuses everyone on 9000 (HTTP fields are dropped on TCP), not on 9001', async () => {
    await remove('tcp-allow');
    await apply(DENY_GET_9000);
    await eventually(async () => !(await reaches('client', 9000)), 10_000, 'the DENY in force');
    assert.equal(await reaches('stranger', 9000), false);
    assert.equal(await reaches('client', 9001), true);
    assert.equal(await reaches('stranger', 9001), true);
    await eventually(async () => /"protocol":"tcp".*"denied":"authorization: default\/deny-get matched a DENY policy"/.test(await sidecarLog()), 10_000, 'the deciding policy in the access log');
  });

  test('deleting the policy restores access promptly', async () => {
    await remove('deny-get');
    const ms = await within(2000, 'access to 9000 restored', async () => (await reaches('client', 9000)) && (await reaches('stranger', 9000)));
    assert.ok(ms <= 2000, `${ms} ms`);
  });

  test('connection.sni: an ALLOW on the server name lets in a verified handshake that sends it, and nothing without it', async () => {
    await apply(ALLOW_SNI);
    // Tessera's sidecars send no SNI, so mesh clients are refused by this policy
    await eventually(async () => !(await reaches('client', 9000)), 10_000, 'the policy in force');
    // A client sidecar that does send SNI (Istio's do), stood in for by this test with the client pod's own workload certificate.
    const id = JSON.parse(readFileSync(podFile(mesh.stateDir, pods['client']!.name, 'identity.json'), 'utf8')) as { key: string; chain: string; trust: { bundle: string[] } };
    const exchange = (servername?: string): Promise<string> =>
      received(
        tlsConnect({
          socket: netConnect({ host: pods['server']!.ip, port: 9000, localAddress: pods['client']!.ip }),
          key: id.key,
          cert: id.chain,
          ca: id.trust.bundle,
          // the server proves its SPIFFE identity, not a host name; not what is under test here
          checkServerIdentity: () => undefined,
          ...(servername ? { servername } : {}),
        }),
        3000,
      );
    assert.match(await exchange(SNI), new RegExp(`^tcp 9000 ${pods['server']!.name}`));
    assert.equal(await exchange('other.default.svc.cluster.local'), '');
    assert.equal(await exchange(), '');
    await remove('sni-allow');
    await eventually(() => reaches('client', 9000), 10_000, 'access restored');
  });
});

const support = await sandboxSupport();
const namespaceMode = await decidePodNetwork('namespace').then(() => true, () => false);
const skipNamespace = namespaceMode ? false : `namespace mode is not possible here (${support.reason ?? 'uids'})`;

/**
 * A pod that only sleeps in namespace `outside`, which is not added to the mesh: no sidecar, no
 * interception. It mounts Secret `sni-client-cert` (key.pem, cert.pem, ca.pem) at /etc/sni-client.
 */
const OUTSIDE_CLIENT = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: sni-client, namespace: outside }
spec:
  replicas: 1
  selector: { matchLabels: { app: sni-client } }
  template:
    metadata: { labels: { app: sni-client } }
    spec:
      volumes:
      - { name: cert, secret: { secretName: sni-client-cert } }
      containers:
      - name: sni-client
        image: curlimages/curl
        command: ["sleep", "365d"]
        volumeMounts:
        - { name: cert, mountPath: /etc/sni-client, readOnly: true }
`;

/** Secret `sni-client-cert` in `outside`: a key, its chain and the roots, as the SNI client presents them. */
const certSecret = (key: string, chain: string, ca: string) => JSON.stringify({
  apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sni-client-cert', namespace: 'outside' }, type: 'Opaque',
  data: Object.fromEntries(Object.entries({ 'key.pem': key, 'cert.pem': chain, 'ca.pem': ca }).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});

describe('AuthorizationPolicy on inbound TCP in namespace mode: the clients are pods, their connections intercepted', { skip: skipNamespace }, () => {
  let mesh: TestMesh;
  const pods: Record<string, { name: string; ip: string }> = {};
  // inside a pod the command runs from /, so the test apps go by their absolute path
  const support = join(REPO_ROOT, 'dist', 'test', 'support');
  const inPod = (ns: string, pod: string, script: string) => mesh.tessera(['exec', pods[pod]!.name, '-n', ns, '--', 'sh', '-c', script], { timeoutMs: 60_000 });
  /** what reached a client pod from server.default:PORT through its sidecar (the app's greeting, or nothing) */
  const via = async (client: string, port: number) => (await inPod('default', client, `node ${support}/smi-app.js tcp-read server.default ${port} || true`)).stdout;
  const reaches = async (client: string, port: number) => (await via(client, port)).includes(`tcp ${port} ${pods['server']!.name}`);
  const sidecarLog = async () => (await mesh.tessera(['logs', pods['server']!.name, '-n', 'default', '-c', 'sidecar'])).stdout;
  const apply = async (yaml: string) => {
    const r = await mesh.tessera(['apply', '-f', '-'], { input: yaml });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  };
  const remove = async (name: string) => {
    const r = await mesh.tessera(['delete', 'authorizationpolicy', name, '-n', 'default']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  };
  /** a loop in a pod printing `<ms since epoch> <result>` per probe until `stop` matches (at most n probes) */
  const probeLoop = (probe: string, stop: string, n = 60) =>
    `for i in $(seq 1 ${n}); do t=$(date +%s%3N); r=$(${probe} 2>&1 | tr '\\n' ' '); echo "$t $r"; case "$r" in ${stop}) break;; esac; sleep 0.05; done`;

  before(async () => {
    mesh = await startMesh('fsm', ['--pod-network=namespace']);
    const setup = await mesh.sh(
      `tessera patch meshconfig fsm-mesh-config -n fsm-system -p '{"spec":{"sidecar":{"logLevel":"warn"}}}' --type=merge
       tessera namespace add default
       tessera create namespace outside`,
    );
    assert.equal(setup.code, 0, setup.stderr);
    await apply(WORKLOADS);
    Object.assign(pods, await readyPods(mesh, 'default', ['server', 'client', 'stranger']));
    // the SNI client (below) presents the client pod's workload certificate, handed to it as a Secret volume
    const id = JSON.parse(readFileSync(podFile(mesh.stateDir, pods['client']!.name, join('sidecar', 'identity.json')), 'utf8')) as { key: string; chain: string; trust: { bundle: string[] } };
    await apply(certSecret(id.key, id.chain, id.trust.bundle.join('\n')));
    await apply(OUTSIDE_CLIENT);
    Object.assign(pods, await readyPods(mesh, 'outside', ['sni-client']));
    for (const c of ['client', 'stranger']) for (const p of PORTS) await eventually(() => reaches(c, p), 30_000, `${c} → server:${p} without a policy`);
  });
  after(async () => {
    await mesh?.stop();
  });

  test("ALLOW naming the client's principal and port 9000: the client's exchange works, the stranger's is closed with no data", async () => {
    await apply(ALLOW_CLIENT_9000);
    await eventually(async () => !(await reaches('stranger', 9000)), 20_000, 'the policy in force');
    // as a user would: curl's telnet to the Service, intercepted by the pod's sidecar (no proxy
    // variables); curl ends at EOF on stdin, so stdin stays open while the server answers
    const telnet = (c: string) => inPod('default', c, 'sleep 2 | curl -s -m 5 telnet://server.default:9000 || true');
    const r = await telnet('client');
    assert.match(r.stdout, new RegExp(`^tcp 9000 ${pods['server']!.name}$`, 'm'), r.stdout + r.stderr);
    assert.doesNotMatch((await telnet('stranger')).stdout, /tcp 9000/);

    assert.equal(await reaches('client', 9000), true);
    assert.doesNotMatch(await via('stranger', 9000), /tcp 9000/, 'no byte of the app');
    assert.equal(await reaches('client', 9001), false, 'the rule names port 9000 only');

    const log = await eventually(async () => {
      const l = await sidecarLog();
      return /"protocol":"tcp".*"sourceService":"stranger\.default".*"denied":"authorization: no ALLOW policy matched"/.test(l) && l;
    }, 10_000, 'the access line of the refused connection');
    assert.match(log, /connection denied by authorization policy.*no ALLOW policy matched|no ALLOW policy matched.*connection denied by authorization policy/, 'a warn line');
    // the server's sidecar saw the stranger's pod IP (its sidecar's connection leaves from it)
    assert.ok(log.split('\n').some((l) => l.includes('"denied":"authorization: no ALLOW policy matched"') && l.includes(`"source":"${pods['stranger']!.ip}:`)), `the stranger's pod IP as source:\n${log.slice(-3000)}`);
    const metrics = (await mesh.tessera(['proxy', 'get', 'stats/prometheus', pods['server']!.name, '-n', 'default'])).stdout;
    assert.match(metrics, /tessera_tcp_connections_denied_total\{[^}]*direction="inbound",source="stranger\.default",destination="server\.default"\} [1-9]/);
  });

  test('a DENY with methods [GET] and port 9000 refuses everyone on 9000 (HTTP fields are dropped on TCP), not on 9001', async () => {
    await remove('tcp-allow');
    await apply(DENY_GET_9000);
    await eventually(async () => !(await reaches('client', 9000)), 20_000, 'the DENY in force');
    assert.equal(await reaches('stranger', 9000), false);
    assert.equal(await reaches('client', 9001), true);
    assert.equal(await reaches('stranger', 9001), true);
    await eventually(async () => /"protocol":"tcp".*"denied":"authorization: default\/deny-get matched a DENY policy"/.test(await sidecarLog()), 10_000, 'the deciding policy in the access log');
  });

  test('deleting the policy restores access promptly, for both pods', async () => {
    const loops = ['client', 'stranger'].map((c) => inPod('default', c, probeLoop(`node ${support}/smi-app.js tcp-read server.default 9000`, '*"tcp 9000"*')));
    await new Promise((r) => setTimeout(r, 500));
    await remove('deny-get');
    const since = Date.now();
    for (const out of await Promise.all(loops)) {
      const lines = out.stdout.trim().split('\n');
      const first = lines.find((l) => l.includes(`tcp 9000 ${pods['server']!.name}`));
      assert.ok(first, `never restored:\n${out.stdout}${out.stderr}`);
      const ms = Number(first.slice(0, first.indexOf(' '))) - since;
      assert.ok(ms <= 2000, `${ms} ms`);
    }
  });

  test('connection.sni: an ALLOW on the server name lets in a verified handshake that sends it, and nothing without it', async () => {
    await apply(ALLOW_SNI);
    // Tessera's sidecars send no SNI, so mesh clients are refused by this policy
    await eventually(async () => !(await reaches('client', 9000)), 20_000, 'the policy in force');
    // A client sidecar that does send SNI (Istio's do), stood in for by a pod outside the mesh (its
    // connections are not intercepted) presenting the client pod's workload certificate from its Secret volume.
    const exchange = async (servername = ''): Promise<string> =>
      (await inPod('outside', 'sni-client', `node ${support}/outside-client.js tls ${pods['server']!.ip} 9000 /etc/sni-client ${servername}`)).stdout;
    assert.match(await exchange(SNI), new RegExp(`^tcp 9000 ${pods['server']!.name}`));
    assert.equal(await exchange('other.default.svc.cluster.local'), '');
    assert.equal(await exchange(), '');
    // in plaintext the pod outside the mesh gets nothing: mesh ports take mTLS only
    assert.equal((await inPod('outside', 'sni-client', `node ${support}/outside-client.js tcp ${pods['server']!.ip} 9000 hello`)).stdout, '');
    await remove('sni-allow');
    await eventually(() => reaches('client', 9000), 10_000, 'access restored');
  });
});
