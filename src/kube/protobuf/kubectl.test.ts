/**
 * Real kubectl against a tiny HTTPS server on 127.0.0.1: its typed-client calls send protobuf
 * bodies, which the server captures and decodes. The kubeconfig trusts a CA made for the test
 * (no insecure-skip-tls-verify). Skipped when /usr/bin/kubectl is missing.
 */
import 'reflect-metadata'; // @peculiar/x509's tsyringe needs it loaded first
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { decodeKubeProtobuf, isKubeProtobuf } from './index.js';

const KUBECTL = existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : undefined;
const TOKEN = 'test-bearer-token';

const toPem = (label: string, der: ArrayBuffer): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;

type KeyPair = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];

/** A CA and a 127.0.0.1 server certificate it signed. */
async function pki(): Promise<{ ca: string; cert: string; key: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 3600_000);
  const caKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as unknown as KeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=tessera-test-ca', notBefore, notAfter, keys: caKeys, signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as unknown as KeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '02', subject: 'CN=127.0.0.1', issuer: ca.subject, notBefore, notAfter,
    publicKey: keys.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: alg,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  return { ca: ca.toString('pem'), cert: cert.toString('pem'), key: toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
}

const CORE_RESOURCES = [
  { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['create', 'get', 'list'] },
  { name: 'configmaps', singularName: 'configmap', namespaced: true, kind: 'ConfigMap', verbs: ['create', 'get', 'list'] },
  { name: 'secrets', singularName: 'secret', namespaced: true, kind: 'Secret', verbs: ['create', 'get', 'list'] },
  { name: 'services', singularName: 'service', namespaced: true, kind: 'Service', verbs: ['create', 'get', 'list'] },
  { name: 'serviceaccounts', singularName: 'serviceaccount', namespaced: true, kind: 'ServiceAccount', verbs: ['create', 'get', 'list'] },
  { name: 'serviceaccounts/token', singularName: '', namespaced: true, kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] },
];

interface Captured {
  path: string;
  contentType: string;
  body: Buffer;
}

describe('kubectl sends protobuf bodies that decode to the JSON objects', { skip: !KUBECTL && 'no kubectl binary' }, () => {
  let server: Server;
  let dir: string;
  const captured: Captured[] = [];

  before(async () => {
    const { ca, cert, key } = await pki();
    server = createServer({ cert, key }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://x');
      const json = (code: number, body: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(401, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 });
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const p = url.pathname;
        if (req.method === 'GET') {
          if (p === '/version') return json(200, { major: '1', minor: '33', gitVersion: 'v1.33.0' });
          if (p === '/api') return json(200, { kind: 'APIVersions', versions: ['v1'] });
          if (p === '/apis') {
            return json(200, {
              kind: 'APIGroupList', apiVersion: 'v1',
              groups: [{ name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } }],
            });
          }
          if (p === '/api/v1') return json(200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'v1', resources: CORE_RESOURCES });
          if (p === '/apis/apps/v1') {
            return json(200, {
              kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'apps/v1',
              resources: [{ name: 'deployments', singularName: 'deployment', namespaced: true, kind: 'Deployment', verbs: ['create', 'get', 'list'] }],
            });
          }
          return json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
        }
        const body = Buffer.concat(chunks);
        captured.push({ path: p, contentType: String(req.headers['content-type'] ?? ''), body });
        let obj: Record<string, unknown>;
        try {
          obj = isKubeProtobuf(req.headers['content-type']) ? decodeKubeProtobuf(body).object : (JSON.parse(body.toString()) as Record<string, unknown>);
        } catch (e) {
          return json(400, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: String(e), reason: 'BadRequest', code: 400 });
        }
        const meta = (obj.metadata ?? {}) as Record<string, unknown>;
        const answer = { ...obj, metadata: { ...meta, uid: '00000000-0000-0000-0000-000000000001', resourceVersion: '1', creationTimestamp: '2026-01-02T03:04:05Z' } };
        if (obj.kind === 'TokenRequest') Object.assign(answer, { status: { token: 'issued-token', expirationTimestamp: '2026-01-02T04:04:05Z' } });
        return json(201, answer);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    dir = mkdtempSync(join(tmpdir(), 'tessera-protobuf-'));
    writeFileSync(join(dir, 'kubeconfig'), JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 't',
      clusters: [{ name: 't', cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': Buffer.from(ca).toString('base64') } }],
      users: [{ name: 't', user: { token: TOKEN } }],
      contexts: [{ name: 't', context: { cluster: 't', user: 't', namespace: 'default' } }],
    }));
  });

  after(() => {
    server?.closeAllConnections();
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const kubectl = (...args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(KUBECTL!, ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), '--request-timeout', '20s', ...args],
        { timeout: 60_000, killSignal: 'SIGKILL', env: { ...process.env, HOME: dir, KUBECONFIG: '' } }, (e, out, err) => {
          resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err });
        });
    });

  /** Runs kubectl and returns the one body it posted to `path`, asserting it was protobuf. */
  async function posted(path: string, ...args: string[]): Promise<Record<string, unknown>> {
    const before = captured.length;
    const r = await kubectl(...args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.err}`);
    const mine = captured.slice(before).filter((c) => c.path === path);
    assert.equal(mine.length, 1, `one POST to ${path}; saw ${captured.slice(before).map((c) => c.path).join(', ')}`);
    assert.ok(isKubeProtobuf(mine[0]!.contentType), `protobuf content type, got ${mine[0]!.contentType}`);
    return decodeKubeProtobuf(mine[0]!.body).object;
  }

  it('create namespace', async () => {
    const obj = await posted('/api/v1/namespaces', 'create', 'namespace', 'demo', '--dry-run=server', '-o', 'json');
    assert.deepEqual(obj, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
  });

  it('create configmap --from-literal', async () => {
    const obj = await posted('/api/v1/namespaces/default/configmaps', 'create', 'configmap', 'c', '--from-literal=a=b', '--dry-run=server', '-o', 'json');
    assert.deepEqual(obj, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } });
  });

  it('create secret generic --from-literal (bytes map as base64)', async () => {
    const obj = await posted('/api/v1/namespaces/default/secrets', 'create', 'secret', 'generic', 's', '--from-literal=k=v', '--dry-run=server', '-o', 'json');
    assert.deepEqual(obj, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { k: Buffer.from('v').toString('base64') } });
  });

  it('create serviceaccount', async () => {
    const obj = await posted('/api/v1/namespaces/default/serviceaccounts', 'create', 'serviceaccount', 'sa', '--dry-run=server', '-o', 'json');
    assert.deepEqual(obj, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa' } });
  });

  it('create service clusterip (ServicePort with an IntOrString targetPort)', async () => {
    const obj = await posted('/api/v1/namespaces/default/services', 'create', 'service', 'clusterip', 'web', '--tcp=80:8080', '--tcp=443:https', '--dry-run=server', '-o', 'json');
    assert.deepEqual(obj, {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }, { name: '443-https', protocol: 'TCP', port: 443, targetPort: 'https' }],
        selector: { app: 'web' },
        type: 'ClusterIP',
      },
    });
  });

  it('create deployment (apps/v1, pod template, pointer replicas)', async () => {
    const obj = await posted('/apis/apps/v1/namespaces/default/deployments', 'create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=0', '--port=8080', '--dry-run=server', '-o', 'json');
    assert.deepEqual(obj, {
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 8080 }] }] },
        },
      },
    });
  });

  it('create token (authentication.k8s.io/v1 TokenRequest)', async () => {
    const before = captured.length;
    const r = await kubectl('create', 'token', 'sa', '--audience=mesh', '--duration=10m');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), 'issued-token');
    const c = captured.slice(before).find((x) => x.path === '/api/v1/namespaces/default/serviceaccounts/sa/token');
    assert.ok(c, 'the TokenRequest was posted');
    assert.ok(isKubeProtobuf(c.contentType));
    const obj = decodeKubeProtobuf(c.body).object;
    assert.equal(obj.apiVersion, 'authentication.k8s.io/v1');
    assert.equal(obj.kind, 'TokenRequest');
    assert.deepEqual(obj.spec, { audiences: ['mesh'], expirationSeconds: 600 });
  });
});
