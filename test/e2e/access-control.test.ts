/**
 * AccessControl and AccessCert on a local mesh with permissive mode off (SMI: default deny): a client
 * outside the mesh cannot reach httpbin; an IPRange source lets exactly that client's address in
 * plaintext to the HTTP and the TCP backend although no TrafficTarget names it, while a meshed client
 * without a TrafficTarget is still refused by SMI; an AuthenticatedPrincipal with an AccessCert lets
 * exactly that certificate in over mTLS. Each AccessControl shows its status.
 *
 * Two suites. The first, in namespace mode (the default wherever it is available, CI included), is
 * FSM's walkthrough as on a cluster: the clients outside the mesh are pods without sidecars in a
 * namespace not added to the mesh (`legacy`), calling through `tessera exec POD -- curl …` (and a raw
 * TCP client) by Service name and by pod address; the sidecar sees their pod IPs after interception,
 * and the AccessCert client mounts the AccessCert's Secret as a volume. It also holds the checks that
 * do not depend on the pod network (statuses, the AccessCert feature flag).
 *
 * The second pins loopback mode for what only exists there: the clients are processes on this
 * machine bound to their own 127/8 addresses (`curl --interface`, `localAddress`) dialing a pod's
 * address, where the sidecar's inbound listener owns the pod address itself (no interception, no
 * SO_ORIGINAL_DST) and judges the loopback source address.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decidePodNetwork } from '../../src/local/runtime/pod-network.js';
import { sandboxSupport } from '../../src/local/sandbox/index.js';
import { waitReady } from '../support/deploy.js';
import { REPO_ROOT, eventually, podOf, startMesh, type TestMesh } from '../support/mesh.js';
import { received } from '../support/tcp.js';

const TCP_PORT = 8300;
/** the test apps by absolute path: a pod's processes may run from / */
const DIST_TEST = join(REPO_ROOT, 'dist', 'test', 'support');

const dbWorkload = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: db
  namespace: httpbin
spec:
  replicas: 1
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
      annotations:
        local.tessera.dev/command: node ${join(DIST_TEST, 'smi-app.js')} l4 ${TCP_PORT}
    spec:
      containers:
      - name: db
        image: example/smi-app
        ports:
        - containerPort: ${TCP_PORT}
---
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: httpbin
spec:
  selector:
    app: db
  ports:
  - name: tcp-db
    port: ${TCP_PORT}
`;

const aclYaml = (spec: string, name = 'httpbin') => `
apiVersion: policy.flomesh.io/v1alpha1
kind: AccessControl
metadata:
  name: ${name}
  namespace: httpbin
spec:
${spec}`;

/** An AccessControl `httpbin` with an IPRange source for `cidr` on the HTTP and the TCP backend. */
const ipRangeAcl = (cidr: string) => aclYaml(`  backends:
  - name: httpbin
    port:
      number: 14001
      protocol: http
  - name: db
    port:
      number: ${TCP_PORT}
      protocol: tcp
  sources:
  - kind: IPRange
    name: ${cidr}
`);

/** An AccessControl `httpbin` requiring mTLS on the HTTP backend, admitting the principal curl.legacy.cluster.local. */
const principalAcl = aclYaml(`  backends:
  - name: httpbin
    port:
      number: 14001
      protocol: http
    tls:
      skipClientCertValidation: false
  sources:
  - kind: AuthenticatedPrincipal
    name: curl.legacy.cluster.local
`);

const BROKEN_ACL = aclYaml(`  backends:
  - name: nosuch
    port:
      number: 80
      protocol: http
  sources:
  - kind: Service
    name: nosuch
    namespace: legacy
`, 'broken');

const accessCertYaml = (name: string, san: string) => `
apiVersion: policy.flomesh.io/v1alpha1
kind: AccessCert
metadata:
  name: ${name}
  namespace: httpbin
spec:
  subjectAltNames:
  - ${san}
  secret:
    name: ${name}
    namespace: legacy
`;
const ACCESS_CERTS = accessCertYaml('curl-mtls', 'curl.legacy.cluster.local') + '---' + accessCertYaml('other-mtls', 'other.legacy.cluster.local');

const PERMISSIVE = (on: boolean) => ['patch', 'meshconfig', 'fsm-mesh-config', '-n', 'fsm-system', '--type=merge', '-p', `{"spec":{"traffic":{"enablePermissiveTrafficPolicyMode":${on}}}}`];
const ACCESS_CERT_FLAG = ['patch', 'meshconfig', 'fsm-mesh-config', '-n', 'fsm-system', '--type=merge', '-p', '{"spec":{"featureFlags":{"enableAccessCertPolicy":true}}}'];

/** What both suites deploy: httpbin and db in the mesh (namespace httpbin), the meshed curl (namespace curl), and namespace legacy outside the mesh. */
const MESH_SETUP = `
  tessera patch meshconfig fsm-mesh-config -n fsm-system --type=merge -p '{"spec":{"traffic":{"enablePermissiveTrafficPolicyMode":false}}}'
  tessera create namespace httpbin
  tessera namespace add httpbin
  tessera create namespace curl
  tessera namespace add curl
  tessera create namespace legacy
  tessera apply -n httpbin -f "$SAMPLES/httpbin.yaml"
  tessera apply -n curl -f "$SAMPLES/curl.yaml"
  tessera apply -f - <<'YAML'
${dbWorkload}
YAML
`;

/** Shared by both suites: the meshed curl (SMI decides), tessera calls that must succeed, AccessControl status. */
function meshHelpers(mesh: () => TestMesh, curlPod: () => string) {
  const ok = async (args: string[], input?: string): Promise<void> => {
    const r = await mesh().tessera(args, input === undefined ? undefined : { input });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  };
  return {
    ok,
    apply: (yaml: string) => ok(['apply', '-f', '-'], yaml),
    /** A request from the meshed curl pod through its sidecar: SMI decides (no TrafficTarget names curl). */
    meshedCurl: async (): Promise<string> =>
      (await mesh().sh(`tessera exec ${curlPod()} -n curl -c curl -- curl -s -m 5 -o /dev/null -w '%{http_code}' http://httpbin.httpbin:14001/get || true`)).stdout.trim(),
    /** The AccessControl's status as `tessera get accesscontrol NAME -o yaml` prints it. */
    statusYaml: async (name: string): Promise<string> => {
      const r = await mesh().tessera(['get', 'accesscontrol', name, '-n', 'httpbin', '-o', 'yaml']);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.slice(r.stdout.search(/^status:/m));
    },
    /** The sidecar log of httpbin's pod `app` (access lines, and warn lines where the level allows). */
    sidecarLog: async (app: string): Promise<string> => {
      const pod = (await podOf(mesh(), 'httpbin', app)).name;
      return (await mesh().tessera(['logs', pod, '-n', 'httpbin', '-c', 'sidecar'])).stdout;
    },
    /** Waits until the control plane has written the AccessCert Secrets. */
    secretsWritten: async (names: string[]): Promise<void> => {
      for (const name of names) await eventually(async () => (await mesh().tessera(['get', 'secret', name, '-n', 'legacy'])).code === 0, 20_000, `Secret ${name}`);
    },
  };
}

/** Whether a sidecar log has a refused plaintext connection from `ip` (mtls.ts's warn line names the peer it saw). */
const refusedPeer = (log: string, ip: string): boolean =>
  log.split('\n').some((l) => l.includes('plaintext connection refused') && l.includes(`"peer":"${ip}"`));

const support = await sandboxSupport();
const namespaceMode = await decidePodNetwork('namespace').then(() => true, () => false);
const skipNamespace = namespaceMode ? false : `namespace mode is not possible here (${support.reason ?? 'uids'})`;

/**
 * Deployment `name` in legacy (not in the mesh): a curl container that sleeps, with the given extra
 * pod spec and container fields; `localCommand` (a shell line) is what the local runtime runs instead.
 */
const legacyClient = (name: string, podSpec = '', container = '', localCommand?: string) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: legacy
spec:
  replicas: 1
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}${localCommand === undefined ? '' : `
      annotations:
        local.tessera.dev/command: ${localCommand}`}
    spec:${podSpec}
      containers:
      - name: ${name}
        image: curlimages/curl
        command: ["sleep", "365d"]${container}
`;

/** Where the AccessCert client mounts each AccessCert's Secret. */
const CERTS = '/etc/access-cert';

/**
 * The AccessCert client: both AccessCert Secrets mounted as volumes, as a pod on a cluster would;
 * `tessera exec` in its container sees them at their mountPath.
 */
const MTLS_CLIENT = legacyClient('curl-mtls', `
      volumes:
      - name: curl-mtls
        secret:
          secretName: curl-mtls
      - name: other-mtls
        secret:
          secretName: other-mtls`, `
        volumeMounts:
        - name: curl-mtls
          mountPath: ${CERTS}/curl-mtls
          readOnly: true
        - name: other-mtls
          mountPath: ${CERTS}/other-mtls
          readOnly: true`);

describe('AccessControl in namespace mode: the clients outside the mesh are pods in a namespace not in the mesh', { skip: skipNamespace }, () => {
  let mesh: TestMesh;
  let curlPod: string;
  /** legacy's pods, by app: curl (FSM's sample, the admitted client), neighbour, curl-mtls (the AccessCert client) */
  const outside: Record<string, { name: string; ip: string }> = {};
  const h = meshHelpers(() => mesh, () => curlPod);
  let httpbinIP: string;
  let dbIP: string;
  const SVC_URL = 'http://httpbin.httpbin:14001/get';
  const podUrl = () => `http://${httpbinIP}:14001/get`;

  const inLegacy = (app: string, script: string) => mesh.tessera(['exec', outside[app]!.name, '-n', 'legacy', '--', 'sh', '-c', script], { timeoutMs: 60_000 });
  /** `curl` in a legacy pod: the HTTP status, or `curl exit N` when the connection failed. */
  const curlIn = async (app: string, url: string, extra = ''): Promise<string> => {
    const r = await inLegacy(app, `c=$(curl -s -m 5 -o /dev/null -w '%{http_code}' ${extra} ${url}); e=$?; [ $e = 0 ] && echo "$c" || echo "curl exit $e"`);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  /** A raw TCP client in a legacy pod: what arrived before the server closed ('' when refused or reset). It speaks first (docs/access-control.md, known limit). */
  const tcpIn = async (app: string, host: string): Promise<string> => {
    const r = await inLegacy(app, `node ${join(DIST_TEST, 'outside-client.js')} tcp ${host} ${TCP_PORT} hello`);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  before(async () => {
    mesh = await startMesh('fsm', ['--pod-network=namespace']);
    const r = await mesh.sh(`${MESH_SETUP}
      # warn: the sidecars' refusals (with the peer address they saw) are part of what is under test
      tessera patch meshconfig fsm-mesh-config -n fsm-system --type=merge -p '{"spec":{"sidecar":{"logLevel":"warn"}}}'
      # legacy is not added to the mesh: its pods get no sidecar (FSM's walkthrough: curl outside the mesh)
      tessera apply -n legacy -f "$SAMPLES/curl.yaml"
      tessera apply -f - <<'YAML'
${legacyClient('neighbour')}
YAML
${waitReady([['httpbin', 'httpbin'], ['httpbin', 'db'], ['curl', 'curl'], ['legacy', 'curl'], ['legacy', 'neighbour']])}
    `, { timeoutMs: 240_000 });
    assert.equal(r.code, 0, r.stderr);
    httpbinIP = (await podOf(mesh, 'httpbin', 'httpbin')).ip;
    dbIP = (await podOf(mesh, 'httpbin', 'db')).ip;
    curlPod = (await podOf(mesh, 'curl', 'curl')).name;
    for (const app of ['curl', 'neighbour']) outside[app] = await podOf(mesh, 'legacy', app);
  });
  after(async () => {
    await mesh?.stop();
  });

  test('the outside pods have no sidecar and their own pod IPs on the mesh bridge', async () => {
    for (const app of ['curl', 'neighbour']) {
      const r = await mesh.tessera(['get', 'pod', outside[app]!.name, '-n', 'legacy', '-o', 'jsonpath={.spec.containers[*].name}']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), app, `${app}: its own container only, no sidecar`);
      assert.match(outside[app]!.ip, /^10\.2(2[4-9]|[3-5]\d)\./);
    }
    assert.notEqual(outside['curl']!.ip, outside['neighbour']!.ip);
    const env = await inLegacy('curl', 'env | grep -ci _proxy || true');
    assert.equal(env.stdout.trim(), '0', 'no proxy variables');
  });

  test('without a policy the outside pod reaches neither httpbin nor db, by Service name or by pod address', async () => {
    assert.match(await curlIn('curl', SVC_URL), /^curl exit/);
    assert.match(await curlIn('curl', podUrl()), /^curl exit/);
    assert.equal(await tcpIn('curl', 'db.httpbin'), '');
    assert.equal(await tcpIn('curl', dbIP), '');
    // httpbin's sidecar refused the plaintext connection, and the peer it saw is the pod's own IP
    await eventually(async () => refusedPeer(await h.sidecarLog('httpbin'), outside['curl']!.ip), 10_000, "httpbin's sidecar refusing the outside pod's IP");
    await eventually(async () => refusedPeer(await h.sidecarLog('db'), outside['curl']!.ip), 10_000, "db's sidecar refusing the outside pod's IP");
  });

  test('SMI refuses the meshed curl: no TrafficTarget names it', async () => {
    await eventually(async () => (await h.meshedCurl()) === '403', 20_000, 'curl to be refused with 403');
  });

  test("an IPRange source with the outside pod's IP lets exactly that pod in, in plaintext, to the HTTP and the TCP backend, although SMI grants it nothing", async () => {
    await h.apply(ipRangeAcl(`${outside['curl']!.ip}/32`));
    await eventually(async () => (await curlIn('curl', SVC_URL)) === '200', 30_000, 'the outside pod to be let in');
    assert.equal(await curlIn('curl', podUrl()), '200', 'by pod address too');
    await eventually(async () => (await tcpIn('curl', 'db.httpbin')).startsWith(`tcp ${TCP_PORT} db-`), 20_000, 'the TCP client to be let in');
    assert.match(await tcpIn('curl', dbIP), new RegExp(`^tcp ${TCP_PORT} db-`));
    // The neighbour pod (another IP) is refused, also when a header claims the admitted address.
    assert.match(await curlIn('neighbour', SVC_URL, `-H 'X-Forwarded-For: ${outside['curl']!.ip}'`), /^curl exit/);
    assert.match(await curlIn('neighbour', podUrl()), /^curl exit/);
    assert.equal(await tcpIn('neighbour', 'db.httpbin'), '');
    // The sidecars saw the pods' own IPs: the admitted requests and connections come from curl's
    // pod IP, the refused ones from the neighbour's.
    const curlSource = `"source":"${outside['curl']!.ip}:`;
    await eventually(async () => (await h.sidecarLog('httpbin')).split('\n').some((l) =>
      l.includes('"direction":"inbound"') && l.includes(curlSource) && l.includes('"path":"/get"') && l.includes('"status":200')), 10_000, "httpbin's access line with curl's pod IP");
    await eventually(async () => (await h.sidecarLog('db')).split('\n').some((l) =>
      l.includes('"protocol":"tcp"') && l.includes('"direction":"inbound"') && l.includes(curlSource)), 10_000, "db's access line with curl's pod IP");
    assert.ok(refusedPeer(await h.sidecarLog('httpbin'), outside['neighbour']!.ip), "httpbin's sidecar refused the neighbour's IP");
    assert.ok(refusedPeer(await h.sidecarLog('db'), outside['neighbour']!.ip), "db's sidecar refused the neighbour's IP");
    // Everyone in the mesh stays under SMI.
    assert.equal(await h.meshedCurl(), '403');
  });

  test("the AccessControl shows FSM's committed status", async () => {
    await eventually(async () => /currentStatus: committed/.test(await h.statusYaml('httpbin')), 10_000, 'the committed status');
    assert.match(await h.statusYaml('httpbin'), /reason: successfully committed by the system/);
  });

  test('an AccessControl naming a missing backend Service and a source without endpoints shows an error status', async () => {
    await h.apply(BROKEN_ACL);
    await eventually(async () => /currentStatus: error/.test(await h.statusYaml('broken')), 10_000, 'the error status');
    assert.match(await h.statusYaml('broken'), /backend service httpbin\/nosuch not found; endpoints not found for service legacy\/nosuch/);
    await h.ok(['delete', 'accesscontrol', 'broken', '-n', 'httpbin']);
  });

  test('with permissive mode back on the outside pod is still let in and the neighbour still refused', async () => {
    await h.ok(PERMISSIVE(true));
    await eventually(async () => (await h.meshedCurl()) === '200', 20_000, 'permissive mode to reach the sidecars');
    assert.equal(await curlIn('curl', SVC_URL), '200');
    assert.match(await curlIn('neighbour', SVC_URL), /^curl exit/);
    await h.ok(PERMISSIVE(false));
    await eventually(async () => (await h.meshedCurl()) === '403', 20_000, 'SMI to be back');
  });

  test('AccessCert is refused while enableAccessCertPolicy is off (FSM default)', async () => {
    const r = await mesh.tessera(['apply', '-f', '-'], { input: accessCertYaml('curl-mtls', 'curl.legacy.cluster.local') });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /MESH_ERR_POLICY_DISABLED|access cert policy is disabled/);
  });

  test("an AuthenticatedPrincipal with an AccessCert lets exactly that certificate in over mTLS, from a pod mounting the AccessCert's Secret", async () => {
    await h.ok(ACCESS_CERT_FLAG);
    await h.apply(ACCESS_CERTS);
    await h.apply(principalAcl);
    await h.secretsWritten(['curl-mtls', 'other-mtls']);
    // The client mounts the Secrets the control plane wrote (kubernetes.io/tls: ca.crt, tls.crt, tls.key) at their mountPath.
    await h.apply(MTLS_CLIENT);
    const wait = await mesh.sh(waitReady([['legacy', 'curl-mtls']]), { timeoutMs: 120_000 });
    assert.equal(wait.code, 0, wait.stderr);
    outside['curl-mtls'] = await podOf(mesh, 'legacy', 'curl-mtls');
    // what exec sees at the mountPath is the Secret's content (read-only, readable by the pod's uid)
    const secretKey = async (name: string, key: string) =>
      (await mesh.sh(`tessera get secret ${name} -n legacy -o jsonpath='{.data.${key.replace('.', '\\.')}}' | base64 -d`)).stdout;
    const seen = await inLegacy('curl-mtls', `cat ${CERTS}/curl-mtls/tls.crt; ls ${CERTS}/other-mtls; touch ${CERTS}/curl-mtls/x 2>/dev/null && echo WRITABLE || echo READONLY`);
    assert.equal(seen.code, 0, seen.stderr);
    const cert = await secretKey('curl-mtls', 'tls.crt');
    assert.match(cert, /BEGIN CERTIFICATE/);
    assert.ok(seen.stdout.startsWith(cert), seen.stdout);
    assert.match(seen.stdout, /ca\.crt\s+tls\.crt\s+tls\.key/);
    assert.match(seen.stdout, /^READONLY$/m);
    // kubectl exec (through the API server) names the container and sees the same
    const viaKubectl = await mesh.sh(`kubectl exec -n legacy ${outside['curl-mtls']!.name} -c curl-mtls -- cat ${CERTS}/curl-mtls/tls.crt`);
    assert.equal(viaKubectl.code, 0, viaKubectl.stderr);
    assert.equal(viaKubectl.stdout, cert);
    // -k: the sidecar's certificate names its SPIFFE identity, not the Service; the client
    // certificate is what is under test (its chain to the mesh CA and its principal).
    const tls = (name: string) => `-k --cacert ${CERTS}/${name}/ca.crt --cert ${CERTS}/${name}/tls.crt --key ${CERTS}/${name}/tls.key`;
    const httpsUrl = SVC_URL.replace('http://', 'https://');
    await eventually(async () => (await curlIn('curl-mtls', httpsUrl, tls('curl-mtls'))) === '200', 30_000, 'the AccessCert client to be let in');
    assert.equal(await curlIn('curl-mtls', `https://${httpbinIP}:14001/get`, tls('curl-mtls')), '200', 'by pod address too');
    // No IPRange names curl-mtls's IP: principal-only sources admit the certificate from any address.
    assert.match(await curlIn('curl-mtls', httpsUrl, tls('other-mtls')), /^curl exit/, 'a certificate for another principal is refused');
    assert.match(await curlIn('curl-mtls', httpsUrl, '-k'), /^curl exit/, 'TLS without a client certificate is refused');
    assert.match(await curlIn('curl-mtls', SVC_URL), /^curl exit/, 'plaintext is refused once the backend requires mTLS');
    assert.match(await curlIn('curl', SVC_URL), /^curl exit/, 'the IPRange is gone with the AccessControl it was in');
    assert.equal(await h.meshedCurl(), '403', 'the meshed curl is still under SMI');
  });
});

/** Loopback addresses no pod uses (pods get 127.7.x.x): the client and its neighbour. */
const CLIENT = '127.0.0.51';
const NEIGHBOUR = '127.0.0.52';

/** `curl` from a given source address: the HTTP status, or `curl exit N` when the connection failed. */
function curlFrom(address: string, url: string, extra: string[] = []): Promise<string> {
  return new Promise((resolve) => {
    execFile('curl', ['-s', '-m', '5', '--interface', address, '-o', '/dev/null', '-w', '%{http_code}', ...extra, url], (err, stdout) => {
      const code = (err as { code?: unknown } | null)?.code;
      resolve(err && typeof code === 'number' ? `curl exit ${code}` : stdout.trim());
    });
  });
}

/**
 * A TCP connection from `address`: what arrived before it closed ('' when refused or reset). It
 * speaks first: the sidecar tells plaintext from TLS by the first byte, so a silent client is never
 * admitted (the app greets and closes whatever it hears).
 */
function tcpFrom(address: string, host: string, port: number): Promise<string> {
  return received(connect({ host, port, localAddress: address }), 5000, 'hello\n');
}

describe('AccessControl in loopback mode: the clients outside the mesh are processes on this machine with their own loopback addresses', () => {
  let mesh: TestMesh;
  let url: string;
  let dbIP: string;
  let curlPod: string;
  let dir: string;
  const h = meshHelpers(() => mesh, () => curlPod);
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-acl-'));
    // Loopback-specific: host processes dial pod addresses, which the sidecar's listeners own
    // (in namespace mode the host has no route to pods; see docs/architecture.md, Pod sandboxes).
    mesh = await startMesh('fsm', ['--pod-network=loopback']);
    const r = await mesh.sh(`${MESH_SETUP}
${waitReady([['httpbin', 'httpbin'], ['httpbin', 'db'], ['curl', 'curl']])}
    `, { timeoutMs: 200_000 });
    assert.equal(r.code, 0, r.stderr);
    url = `http://${(await podOf(mesh, 'httpbin', 'httpbin')).ip}:14001/get`;
    dbIP = (await podOf(mesh, 'httpbin', 'db')).ip;
    curlPod = (await podOf(mesh, 'curl', 'curl')).name;
  });
  after(async () => {
    await mesh?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("without a policy a direct connection to the pod's address does not reach the app, HTTP or TCP", async () => {
    assert.match(await curlFrom(CLIENT, url), /^curl exit/);
    assert.equal(await tcpFrom(CLIENT, dbIP, TCP_PORT), '');
  });

  test('an IPRange source lets exactly that address in, in plaintext, to the HTTP and the TCP backend, although SMI grants it nothing', async () => {
    await eventually(async () => (await h.meshedCurl()) === '403', 20_000, 'curl to be refused with 403');
    await h.apply(ipRangeAcl(`${CLIENT}/32`));
    await eventually(async () => (await curlFrom(CLIENT, url)) === '200', 20_000, 'the client to be let in');
    await eventually(async () => (await tcpFrom(CLIENT, dbIP, TCP_PORT)).startsWith(`tcp ${TCP_PORT} db-`), 20_000, 'the TCP client to be let in');
    // the sidecar saw the client's own loopback address
    await eventually(async () => (await h.sidecarLog('httpbin')).split('\n').some((l) =>
      l.includes('"direction":"inbound"') && l.includes(`"source":"${CLIENT}:`) && l.includes('"status":200')), 10_000, "httpbin's access line with the client's address");
    // Never from a header: the neighbour claiming the client's address is still refused.
    assert.match(await curlFrom(NEIGHBOUR, url, ['-H', `X-Forwarded-For: ${CLIENT}`]), /^curl exit/);
    assert.equal(await tcpFrom(NEIGHBOUR, dbIP, TCP_PORT), '');
    // Everyone in the mesh stays under SMI.
    assert.equal(await h.meshedCurl(), '403');
  });

  test('with permissive mode back on the same client is still let in and the neighbour still refused', async () => {
    await h.ok(PERMISSIVE(true));
    await eventually(async () => (await h.meshedCurl()) === '200', 20_000, 'permissive mode to reach the sidecars');
    assert.equal(await curlFrom(CLIENT, url), '200');
    assert.match(await curlFrom(NEIGHBOUR, url), /^curl exit/);
    await h.ok(PERMISSIVE(false));
    await eventually(async () => (await h.meshedCurl()) === '403', 20_000, 'SMI to be back');
  });

  test('an AuthenticatedPrincipal with an AccessCert lets exactly that certificate in over mTLS', async () => {
    await h.ok(ACCESS_CERT_FLAG);
    await h.apply(ACCESS_CERTS);
    await h.apply(principalAcl);
    await h.secretsWritten(['curl-mtls', 'other-mtls']);
    // Read the Secrets as a client on this machine would.
    const files: Record<string, string[]> = {};
    for (const name of ['curl-mtls', 'other-mtls']) {
      files[name] = [];
      for (const key of ['ca.crt', 'tls.crt', 'tls.key']) {
        const r = await mesh.sh(`tessera get secret ${name} -n legacy -o jsonpath='{.data.${key.replace('.', '\\.')}}' | base64 -d`);
        assert.equal(r.code, 0, r.stderr);
        const file = join(dir, `${name}-${key}`);
        writeFileSync(file, r.stdout, { mode: 0o600 });
        files[name].push(file);
      }
    }
    const tlsArgs = (name: string) => {
      const [ca, crt, key] = files[name]!;
      // -k: the sidecar's certificate names its SPIFFE identity, not the pod's address; the client
      // certificate is what is under test (its chain to the mesh CA and its principal).
      return ['-k', '--cacert', ca!, '--cert', crt!, '--key', key!];
    };
    const httpsUrl = url.replace('http://', 'https://');
    await eventually(async () => (await curlFrom(CLIENT, httpsUrl, tlsArgs('curl-mtls'))) === '200', 20_000, 'the AccessCert client to be let in');
    assert.equal(await curlFrom(NEIGHBOUR, httpsUrl, tlsArgs('curl-mtls')), '200', 'principal-only sources admit the certificate from any address');
    assert.match(await curlFrom(CLIENT, httpsUrl, tlsArgs('other-mtls')), /^curl exit/, 'a certificate for another principal is refused');
    assert.match(await curlFrom(CLIENT, httpsUrl, ['-k']), /^curl exit/, 'TLS without a client certificate is refused');
    assert.match(await curlFrom(CLIENT, url), /^curl exit/, 'plaintext is refused once the backend requires mTLS');
    assert.equal(await h.meshedCurl(), '403', 'the meshed curl is still under SMI');
  });
});
