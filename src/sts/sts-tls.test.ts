/**
 * tessera-sts with TLS (`tls_client_auth`): a workload is its verified mesh-CA client certificate; only
 * a certificate listed in `sidecarIdentities` may speak for its caller with `serviceidentity`; a TLS
 * connection without a valid certificate gets no address trust, so a source address never stands in
 * for an identity there. Also main.ts's environment: STS_TLS_* together, and no address trust by
 * default once TLS is configured.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRootCa } from '../identity/certificate-authority.js';
import { serviceIdentity } from '../identity/service-identity.js';
import { issueWorkload } from '../identity/test-support/fixtures.js';
import { KeyRing } from './keys.js';
import { parseStsPolicy } from './policy.js';
import { createStsServer } from './server.js';

const decode = (t: string): Record<string, unknown> => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

const ca = await createRootCa({ meshName: 'fsm', keyAlgorithm: 'ECDSA-P256' });
const other = await createRootCa({ meshName: 'fsm', keyAlgorithm: 'ECDSA-P256' });
const pem = async (c: typeof ca, sa: string, ns: string): Promise<{ cert: string; key: string }> => {
  const w = await issueWorkload(c, serviceIdentity(sa, ns));
  return { cert: w.issued.chainPem, key: w.privateKeyPem.reveal() };
};
const server = await pem(ca, 'tessera-sts', 'auth');
/** the STS pod's own sidecar identity: the one that may vouch for its callers */
const sidecar = server;
const reminder = await pem(ca, 'reminder', 'default');
const foreignSidecar = await pem(other, 'tessera-sts', 'auth');

interface Reply { status: number; body: Record<string, unknown> }

describe('tessera-sts over TLS: client certificates of the mesh CA', () => {
  let sts: Server;
  let port = 0;

  before(async () => {
    sts = createStsServer({
      issuer: 'https://tessera-sts.auth:8080',
      lifetimeSeconds: 60,
      keys: new KeyRing({ alg: 'ES256', rotateEveryMs: 3_600_000, maxTokenLifetimeMs: 60_000 }),
      clients: new Map([['web', { secretSha256: createHash('sha256').update('web-client-secret-0123').digest() }]]),
      policy: parseStsPolicy({ issue: [{ callers: ['*'], audiences: ['todos'] }] }),
      // Even a trusted source address must not count on a TLS connection without a valid certificate.
      sidecarAddresses: new Set(['127.0.0.1']),
      sidecarIdentities: new Set(['tessera-sts.auth']),
      tls: { cert: server.cert, key: server.key, clientCa: ca.certificatePem },
    });
    await new Promise<void>((r) => sts.listen(0, '127.0.0.1', () => r()));
    port = (sts.address() as AddressInfo).port;
  });
  after(() => {
    sts?.closeAllConnections();
    sts?.close();
  });

  function token(form: string, opts: { client?: { cert: string; key: string }; headers?: Record<string, string> } = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/token',
          method: 'POST',
          agent: false,
          ca: ca.certificatePem,
          servername: 'tessera-sts.auth.svc.cluster.local',
          checkServerIdentity: () => undefined,
          ...(opts.client ?? {}),
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form), ...opts.headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> }));
        },
      );
      req.on('error', reject);
      req.end(form);
    });
  }
  const sub = (r: Reply): unknown => (r.status === 200 ? decode(r.body['access_token'] as string)['sub'] : `${r.status} ${String(r.body['error'])}`);
  const CC = 'grant_type=client_credentials&audience=todos';

  test('discovery names tls_client_auth', async () => {
    const r = await new Promise<Record<string, unknown>>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/.well-known/openid-configuration', agent: false, ca: ca.certificatePem, checkServerIdentity: () => undefined }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>));
      }).on('error', reject).end();
    });
    assert.ok((r['token_endpoint_auth_methods_supported'] as string[]).includes('tls_client_auth'));
  });

  test('a workload is its certificate: sub is its Istio principal, and a serviceidentity header it sends is ignored', async () => {
    assert.equal(sub(await token(CC, { client: reminder })), 'cluster.local/ns/default/sa/reminder');
    assert.equal(sub(await token(CC, { client: reminder, headers: { serviceidentity: 'admin.kube-system' } })), 'cluster.local/ns/default/sa/reminder');
  });

  test('the listed sidecar identity speaks for its caller with serviceidentity; without the header it is itself; a malformed header is refused', async () => {
    assert.equal(sub(await token(CC, { client: sidecar, headers: { serviceidentity: 'reminder.default' } })), 'cluster.local/ns/default/sa/reminder');
    assert.equal(sub(await token(CC, { client: sidecar })), 'cluster.local/ns/auth/sa/tessera-sts');
    assert.equal(sub(await token(CC, { client: sidecar, headers: { serviceidentity: 'not an identity' } })), '401 invalid_client');
  });

  test('a certificate of another CA, or none, is not a workload: no identity from the header or the (trusted) source address', async () => {
    assert.equal(sub(await token(CC, { client: foreignSidecar, headers: { serviceidentity: 'reminder.default' } })), '401 invalid_client');
    assert.equal(sub(await token(CC, { client: foreignSidecar })), '401 invalid_client');
    assert.equal(sub(await token(CC, { headers: { serviceidentity: 'reminder.default' } })), '401 invalid_client');
  });

  test('a client secret works without a certificate, and is used instead of one', async () => {
    const basic = { authorization: `Basic ${Buffer.from('web:web-client-secret-0123').toString('base64')}` };
    assert.equal(sub(await token(CC, { headers: basic })), 'web');
    assert.equal(sub(await token(CC, { client: reminder, headers: basic })), 'web');
    assert.equal(sub(await token(CC, { client: reminder, headers: { authorization: `Basic ${Buffer.from('web:wrong-secret-0123456').toString('base64')}` } })), '401 invalid_client');
  });
});

describe('tessera-sts main: TLS and address trust from the environment', () => {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'tessera-sts-env-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text, { mode: 0o600 });
    return p;
  };
  const files = { STS_TLS_CERT_FILE: file('tls.crt', server.cert), STS_TLS_KEY_FILE: file('tls.key', server.key), STS_CLIENT_CA_FILE: file('ca.crt', ca.certificatePem) };

  /** Starts main.js with `env`; its first log line (then stops it), or its exit code and stderr. */
  function run(env: Record<string, string>): Promise<{ line?: Record<string, unknown>; code?: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [main], { env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: '0', POD_NAMESPACE: 'auth', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          child.kill('SIGTERM');
          resolve({ line: JSON.parse(out.slice(0, nl)) as Record<string, unknown>, stderr });
        }
      });
      child.on('exit', (code) => resolve({ code, stderr }));
    });
  }

  test('plain: the pod IP is the one trusted source address (STS_SIDECAR_ADDRESSES overrides it)', async () => {
    const plain = await run({ POD_IP: '10.244.0.7' });
    assert.deepEqual([plain.line?.['mtls'], plain.line?.['trustedSourceAddresses']], [false, ['10.244.0.7']], plain.stderr);
    const set = await run({ POD_IP: '10.244.0.7', STS_SIDECAR_ADDRESSES: '' });
    assert.deepEqual(set.line?.['trustedSourceAddresses'], [], set.stderr);
  });

  test('TLS: no source address is trusted unless named; STS_TLS_* go together', async () => {
    const tls = await run({ POD_IP: '10.244.0.7', ...files, STS_SIDECAR_IDENTITIES: 'tessera-sts.auth' });
    assert.deepEqual([tls.line?.['mtls'], tls.line?.['trustedSourceAddresses']], [true, []], tls.stderr);
    const partial = await run({ POD_IP: '10.244.0.7', STS_TLS_CERT_FILE: files.STS_TLS_CERT_FILE });
    assert.equal(partial.code, 2);
    assert.match(partial.stderr, /STS_TLS_CERT_FILE, STS_TLS_KEY_FILE and STS_CLIENT_CA_FILE go together/);
  });
});
