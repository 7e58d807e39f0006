/**
 * AccessControl and AccessCert on a local mesh with permissive mode off (SMI: default deny): a client
 * outside the mesh (a curl process, or a raw TCP socket, on this machine bound to its own loopback
 * address) cannot reach httpbin's pod address; an IPRange source lets exactly that address in
 * plaintext to the HTTP and the TCP backend although no TrafficTarget names it, while a meshed
 * client without a TrafficTarget is still refused by SMI; an AuthenticatedPrincipal with an
 * AccessCert lets exactly that certificate in over mTLS. Each AccessControl shows its status.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitReady } from '../support/deploy.js';
import { eventually, podOf, startMesh, type TestMesh } from '../support/mesh.js';
import { received } from '../support/tcp.js';

/** Loopback addresses no pod uses (pods get 127.7.x.x): the client and its neighbour. */
const CLIENT = '127.0.0.51';
const NEIGHBOUR = '127.0.0.52';
const TCP_PORT = 8300;

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

const DB_WORKLOAD = `apiVersion: apps/v1
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
        local.tessera.dev/command: node dist/test/support/smi-app.js l4 ${TCP_PORT}
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

describe('AccessControl: clients outside the mesh, permissive mode off', () => {
  let mesh: TestMesh;
  let url: string;
  let dbIP: string;
  let curlPod: string;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-acl-'));
    // Clients outside the mesh are processes on this machine dialing pod addresses: loopback mode's
    // mechanics (in namespace mode the host has no route to pods; see docs/architecture.md, Pod sandboxes).
    mesh = await startMesh('fsm', ['--pod-network=loopback']);
    const r = await mesh.sh(`
      tessera patch meshconfig fsm-mesh-config -n fsm-system --type=merge -p '{"spec":{"traffic":{"enablePermissiveTrafficPolicyMode":false}}}'
      tessera create namespace httpbin
      tessera namespace add httpbin
      tessera create namespace curl
      tessera namespace add curl
      tessera create namespace legacy
      tessera apply -n httpbin -f "$SAMPLES/httpbin.yaml"
      tessera apply -n curl -f "$SAMPLES/curl.yaml"
      tessera apply -f - <<'YAML'
${DB_WORKLOAD}
YAML
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

  /** A request from the meshed curl pod through its sidecar: SMI decides (no TrafficTarget names curl). */
  const meshedCurl = async (): Promise<string> =>
    (await mesh.sh(`tessera exec ${curlPod} -n curl -c curl -- curl -s -m 5 -o /dev/null -w '%{http_code}' http://httpbin.httpbin:14001/get || true`)).stdout.trim();

  /** The AccessControl's status as `tessera get accesscontrol NAME -o yaml` prints it. */
  const statusYaml = async (name: string): Promise<string> => {
    const r = await mesh.tessera(['get', 'accesscontrol', name, '-n', 'httpbin', '-o', 'yaml']);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.slice(r.stdout.search(/^status:/m));
  };

  test("without a policy a direct connection to the pod's address does not reach the app, HTTP or TCP", async () => {
    assert.match(await curlFrom(CLIENT, url), /^curl exit/);
    assert.equal(await tcpFrom(CLIENT, dbIP, TCP_PORT), '');
  });

  test('SMI refuses the meshed curl: no TrafficTarget names it', async () => {
    await eventually(async () => (await meshedCurl()) === '403', 20_000, 'curl to be refused with 403');
  });

  test('an IPRange source lets exactly that address in, in plaintext, to the HTTP and the TCP backend, although SMI grants it nothing', async () => {
    const r = await mesh.tessera(['apply', '-f', '-'], {
      input: aclYaml(`  backends:
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
    name: ${CLIENT}/32
`),
    });
    assert.equal(r.code, 0, r.stderr);
    await eventually(async () => (await curlFrom(CLIENT, url)) === '200', 20_000, 'the client to be let in');
    await eventually(async () => (await tcpFrom(CLIENT, dbIP, TCP_PORT)).startsWith(`tcp ${TCP_PORT} db-`), 20_000, 'the TCP client to be let in');
    // Never from a header: the neighbour claiming the client's address is still refused.
    assert.match(await curlFrom(NEIGHBOUR, url, ['-H', `X-Forwarded-For: ${CLIENT}`]), /^curl exit/);
    assert.equal(await tcpFrom(NEIGHBOUR, dbIP, TCP_PORT), '');
    // Everyone in the mesh stays under SMI.
    assert.equal(await meshedCurl(), '403');
  });

  test('the AccessControl shows FSM\'s committed status', async () => {
    await eventually(async () => /currentStatus: committed/.test(await statusYaml('httpbin')), 10_000, 'the committed status');
    assert.match(await statusYaml('httpbin'), /reason: successfully committed by the system/);
  });

  test('an AccessControl naming a missing backend Service and a source without endpoints shows an error status', async () => {
    const r = await mesh.tessera(['apply', '-f', '-'], {
      input: aclYaml(`  backends:
  - name: nosuch
    port:
      number: 80
      protocol: http
  sources:
  - kind: Service
    name: nosuch
    namespace: legacy
`, 'broken'),
    });
    assert.equal(r.code, 0, r.stderr);
    await eventually(async () => /currentStatus: error/.test(await statusYaml('broken')), 10_000, 'the error status');
    assert.match(await statusYaml('broken'), /backend service httpbin\/nosuch not found; endpoints not found for service legacy\/nosuch/);
    const d = await mesh.tessera(['delete', 'accesscontrol', 'broken', '-n', 'httpbin']);
    assert.equal(d.code, 0, d.stderr);
  });

  test('with permissive mode back on the same client is still let in and the neighbour still refused', async () => {
    const on = await mesh.tessera(['patch', 'meshconfig', 'fsm-mesh-config', '-n', 'fsm-system', '--type=merge', '-p', '{"spec":{"traffic":{"enablePermissiveTrafficPolicyMode":true}}}']);
    assert.equal(on.code, 0, on.stderr);
    await eventually(async () => (await meshedCurl()) === '200', 20_000, 'permissive mode to reach the sidecars');
    assert.equal(await curlFrom(CLIENT, url), '200');
    assert.match(await curlFrom(NEIGHBOUR, url), /^curl exit/);
    const off = await mesh.tessera(['patch', 'meshconfig', 'fsm-mesh-config', '-n', 'fsm-system', '--type=merge', '-p', '{"spec":{"traffic":{"enablePermissiveTrafficPolicyMode":false}}}']);
    assert.equal(off.code, 0, off.stderr);
    await eventually(async () => (await meshedCurl()) === '403', 20_000, 'SMI to be back');
  });

  test('AccessCert is refused while enableAccessCertPolicy is off (FSM default)', async () => {
    const r = await mesh.tessera(['apply', '-f', '-'], { input: accessCertYaml('curl-mtls', 'curl.legacy.cluster.local') });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /MESH_ERR_POLICY_DISABLED|access cert policy is disabled/);
  });

  test('an AuthenticatedPrincipal with an AccessCert lets exactly that certificate in over mTLS', async () => {
    const enable = await mesh.tessera(['patch', 'meshconfig', 'fsm-mesh-config', '-n', 'fsm-system', '--type=merge', '-p', '{"spec":{"featureFlags":{"enableAccessCertPolicy":true}}}']);
    assert.equal(enable.code, 0, enable.stderr);
    const certs = await mesh.tessera(['apply', '-f', '-'], {
      input: accessCertYaml('curl-mtls', 'curl.legacy.cluster.local') + '---' + accessCertYaml('other-mtls', 'other.legacy.cluster.local'),
    });
    assert.equal(certs.code, 0, certs.stderr);
    const acl = await mesh.tessera(['apply', '-f', '-'], {
      input: aclYaml(`  backends:
  - name: httpbin
    port:
      number: 14001
      protocol: http
    tls:
      skipClientCertValidation: false
  sources:
  - kind: AuthenticatedPrincipal
    name: curl.legacy.cluster.local
`),
    });
    assert.equal(acl.code, 0, acl.stderr);
    // The control plane writes each Secret (kubernetes.io/tls: ca.crt, tls.crt, tls.key); read them as a client would.
    const files: Record<string, string[]> = {};
    for (const name of ['curl-mtls', 'other-mtls']) {
      await eventually(async () => (await mesh.tessera(['get', 'secret', name, '-n', 'legacy'])).code === 0, 20_000, `Secret ${name}`);
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
    assert.equal(await meshedCurl(), '403', 'the meshed curl is still under SMI');
  });
});
