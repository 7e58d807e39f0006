/**
 * AccessControl and AccessCert on a local mesh (issue 4 item 6): a client outside the mesh (a curl
 * process on this machine bound to its own loopback address) cannot reach httpbin's pod address;
 * an IPRange source lets exactly that address in plaintext, and an AuthenticatedPrincipal with an
 * AccessCert lets exactly that certificate in over mTLS.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually, startMesh, type TestMesh } from '../support/mesh.js';

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

const aclYaml = (spec: string) => `
apiVersion: policy.flomesh.io/v1alpha1
kind: AccessControl
metadata:
  name: httpbin
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

describe('AccessControl: clients outside the mesh', () => {
  let mesh: TestMesh;
  let url: string;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-acl-'));
    mesh = await startMesh('fsm');
    const r = await mesh.sh(`
      tessera create namespace httpbin
      tessera namespace add httpbin
      tessera create namespace legacy
      tessera apply -n httpbin -f "$SAMPLES/httpbin.yaml"
      tessera wait --for=condition=ready pod -n httpbin -l app=httpbin --timeout=90s
    `, { timeoutMs: 150_000 });
    assert.equal(r.code, 0, r.stderr);
    const ip = (await mesh.sh(`tessera get pod -n httpbin -l app=httpbin -o jsonpath='{.items[0].status.podIP}'`)).stdout.trim();
    url = `http://${ip}:14001/get`;
  });
  after(async () => {
    await mesh?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("without a policy a direct connection to the pod's address does not reach the app", async () => {
    assert.match(await curlFrom(CLIENT, url), /^curl exit/);
  });

  test('an IPRange source lets exactly that address in, in plaintext', async () => {
    const r = await mesh.tessera(['apply', '-f', '-'], {
      input: aclYaml(`  backends:
  - name: httpbin
    port:
      number: 14001
      protocol: http
  sources:
  - kind: IPRange
    name: ${CLIENT}/32
`),
    });
    assert.equal(r.code, 0, r.stderr);
    await eventually(async () => (await curlFrom(CLIENT, url)) === '200', 20_000, 'the client to be let in');
    // Never from a header: the neighbour claiming the client's address is still refused.
    assert.match(await curlFrom(NEIGHBOUR, url, ['-H', `X-Forwarded-For: ${CLIENT}`]), /^curl exit/);
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
  });
});
