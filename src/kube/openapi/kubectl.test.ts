/**
 * Real kubectl against the documents: a tiny HTTPS server on 127.0.0.1 serves minimal discovery,
 * /openapi/v2 (protobuf, as kubectl asks for it) and /openapi/v3; kubectl 1.20 validates a manifest
 * client-side and explains a field, kubectl ≥1.27 explains from v3. Skipped when the binaries are
 * missing: Debian's kubectl 1.20 is looked for in $TESSERA_KUBECTL_120, /usr/lib/kubectl-1.20/kubectl
 * and /tmp/k120/root/usr/bin/kubectl (`apt-get download kubernetes-client && dpkg-deb -x … /tmp/k120/root`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { x509 } from '../../identity/x509-runtime.js';
import type { ResourceType } from '../registry/types.js';
import { encodeOpenApiV2Protobuf, openApiV2, openApiV3GroupVersion, openApiV3Root, OPENAPI_V2_PROTOBUF_TYPE } from './index.js';
import { TYPES } from './test-fixtures.js';

const KUBECTL_120 = [process.env.TESSERA_KUBECTL_120, '/usr/lib/kubectl-1.20/kubectl', '/tmp/k120/root/usr/bin/kubectl'].find((p): p is string => !!p && existsSync(p));
const KUBECTL_NEW = existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : undefined;

async function selfSigned(): Promise<{ cert: string; key: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=127.0.0.1', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3600_000),
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'], signingAlgorithm: alg,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return { cert: cert.toString('pem'), key: `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n` };
}

function discovery(types: readonly ResourceType[], path: string): unknown {
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:443' }] };
  const groups = [...new Set(types.filter((t) => t.group !== '').map((t) => t.group))];
  if (path === '/apis') {
    return {
      kind: 'APIGroupList', apiVersion: 'v1',
      groups: groups.map((g) => {
        const versions = types.find((t) => t.group === g)!.versions.map((v) => ({ groupVersion: `${g}/${v.name}`, version: v.name }));
        return { name: g, versions, preferredVersion: versions[0] };
      }),
    };
  }
  const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  if (!m) return undefined;
  const [group, version] = m[1] ? ['', m[1]] : [m[2]!, m[3]!];
  const members = types.filter((t) => t.group === group && t.versions.some((v) => v.name === version));
  if (members.length === 0) return undefined;
  return {
    kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? version : `${group}/${version}`,
    resources: members.map((t) => ({ name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: t.verbs, shortNames: t.shortNames, categories: t.categories })),
  };
}

describe('kubectl reads the documents', { skip: !KUBECTL_120 && !KUBECTL_NEW ? 'no kubectl binary' : false }, () => {
  let server: Server;
  let dir: string;
  const seen: string[] = [];

  before(async () => {
    const { cert, key } = await selfSigned();
    const v2 = openApiV2(TYPES, { gitVersion: 'v1.33.0' });
    const v2pb = Buffer.from(encodeOpenApiV2Protobuf(v2));
    server = createServer({ cert, key }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://x');
      seen.push(`${req.method} ${url.pathname} ${req.headers.accept ?? ''}`);
      const json = (code: number, body: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'POST') {
        // echo the object back: enough for `apply --dry-run=server` to report success
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => json(201, JSON.parse(Buffer.concat(chunks).toString() || '{}')));
        seen.push(`POST ${url.pathname}?${url.searchParams.toString()}`);
        return;
      }
      if (url.pathname === '/version') return json(200, { major: '1', minor: '33', gitVersion: 'v1.33.0' });
      if (url.pathname === '/openapi/v2') {
        if ((req.headers.accept ?? '').includes('protobuf')) {
          res.writeHead(200, { 'content-type': OPENAPI_V2_PROTOBUF_TYPE });
          return res.end(v2pb);
        }
        return json(200, v2);
      }
      if (url.pathname === '/openapi/v3') return json(200, openApiV3Root(TYPES));
      const v3 = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(url.pathname);
      if (v3) {
        const doc = v3[1] ? openApiV3GroupVersion(TYPES, '', v3[1]) : openApiV3GroupVersion(TYPES, v3[2]!, v3[3]!);
        if (doc) return json(200, doc);
      }
      const d = discovery(TYPES, url.pathname);
      if (d) return json(200, d);
      return json(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `${url.pathname} not found`, reason: 'NotFound', code: 404 });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    dir = mkdtempSync(join(tmpdir(), 'tessera-kubectl-'));
    writeFileSync(join(dir, 'kubeconfig'), JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 't',
      clusters: [{ name: 't', cluster: { server: `https://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 't', user: { token: 'x' } }],
      contexts: [{ name: 't', context: { cluster: 't', user: 't', namespace: 'default' } }],
    }));
    writeFileSync(join(dir, 'pod.yaml'), [
      'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: p1', '  labels: {app: web}', 'spec:', '  serviceAccountName: web',
      '  containers:', '  - name: web', '    image: nginx', '    ports: [{containerPort: 80, name: http}]',
      '    env: [{name: A, value: "1"}, {name: B, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]',
      '    resources: {limits: {cpu: 500m, memory: 128Mi}}',
      '    readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 5}',
      '    securityContext: {runAsNonRoot: true, capabilities: {drop: [ALL]}}',
      '    volumeMounts: [{name: cfg, mountPath: /etc/cfg}]',
      '  volumes: [{name: cfg, configMap: {name: cfg}}, {name: data, nfs: {server: x, path: /}}]', '',
    ].join('\n'));
    writeFileSync(join(dir, 'bad-pod.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: p2}\nspec:\n  containers:\n  - name: web\n    imagee: nginx\n');
    writeFileSync(join(dir, 'deploy.yaml'), [
      'apiVersion: apps/v1', 'kind: Deployment', 'metadata: {name: d1}', 'spec:', '  replicas: 2', '  selector: {matchLabels: {app: web}}',
      '  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}}',
      '  template:', '    metadata: {labels: {app: web}, annotations: {a: b}}', '    spec:', '      containers: [{name: web, image: nginx}]', '',
    ].join('\n'));
    writeFileSync(join(dir, 'widget.yaml'), 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3, port: http, note: null}\n');
    writeFileSync(join(dir, 'bad-widget.yaml'), 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {size: "three", colour: red}\n');
  });

  after(() => {
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const kubectl = (bin: string, ...args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(bin, ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, `cache-${bin.length}`), ...args], { timeout: 60_000, env: { ...process.env, HOME: dir } }, (e, out, err) => {
        resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err });
      });
    });

  it('kubectl 1.20 accepts valid manifests with client-side validation', { skip: !KUBECTL_120 && 'kubectl 1.20 not found' }, async () => {
    for (const f of ['pod.yaml', 'deploy.yaml', 'widget.yaml']) {
      const r = await kubectl(KUBECTL_120!, 'apply', '--dry-run=client', '--validate=true', '-f', join(dir, f));
      assert.equal(r.code, 0, `${f}: ${r.err}`);
      assert.match(r.out, /created \(dry run\)/);
    }
    assert.ok(seen.some((s) => s.startsWith('GET /openapi/v2') && s.includes('protobuf')), 'kubectl 1.20 fetched the protobuf document');
  });

  it('kubectl 1.20 refuses unknown fields and wrong types', { skip: !KUBECTL_120 && 'kubectl 1.20 not found' }, async () => {
    const pod = await kubectl(KUBECTL_120!, 'apply', '--dry-run=client', '--validate=true', '-f', join(dir, 'bad-pod.yaml'));
    assert.notEqual(pod.code, 0);
    assert.match(pod.err, /error validating data: .*unknown field "imagee"/);
    const cr = await kubectl(KUBECTL_120!, 'apply', '--dry-run=client', '--validate=true', '-f', join(dir, 'bad-widget.yaml'));
    assert.notEqual(cr.code, 0);
    assert.match(cr.err, /size.*invalid type|invalid type.*size|expected "integer"/i);
  });

  it('kubectl 1.20 explains pods.spec.containers from the v2 document', { skip: !KUBECTL_120 && 'kubectl 1.20 not found' }, async () => {
    const r = await kubectl(KUBECTL_120!, 'explain', 'pods.spec.containers');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /KIND:\s+Pod/);
    assert.match(r.out, /RESOURCE:\s+containers <\[\]Object>/);
    assert.match(r.out, /image\s+<string>/);
    assert.match(r.out, /readinessProbe\s+<Object>/);
    const cr = await kubectl(KUBECTL_120!, 'explain', 'widgets.spec');
    assert.equal(cr.code, 0, cr.err);
    assert.match(cr.out, /size\s+<integer>/);
  });

  it('newer kubectl explains from /openapi/v3', { skip: !KUBECTL_NEW && 'kubectl not found' }, async () => {
    const r = await kubectl(KUBECTL_NEW!, 'explain', 'pods.spec.containers');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /KIND:\s+Pod/);
    assert.match(r.out, /image\s+<string>/);
    assert.ok(seen.some((s) => s.startsWith('GET /openapi/v3/api/v1')), 'the v1 document was read');
    const w = await kubectl(KUBECTL_NEW!, 'explain', 'widgets.spec.port');
    assert.equal(w.code, 0, w.err);
    assert.match(w.out, /Port number or name/);
    const d = await kubectl(KUBECTL_NEW!, 'explain', 'deployments.spec.strategy.rollingUpdate');
    assert.equal(d.code, 0, d.err);
    assert.match(d.out, /maxSurge/);
  });

  it('newer kubectl detects server-side field validation and leaves it to the server', { skip: !KUBECTL_NEW && 'kubectl not found' }, async () => {
    // kubectl validates client-side (and refuses `imagee`) unless the PATCH operation of the kind (or of
    // Namespace, for CRs) lists fieldValidation; the bad manifests reaching the server prove the detection
    for (const [f, path] of [['bad-pod.yaml', '/api/v1/namespaces/default/pods'], ['bad-widget.yaml', '/apis/example.com/v1/namespaces/default/widgets']] as const) {
      const r = await kubectl(KUBECTL_NEW!, 'apply', '--dry-run=server', '-f', join(dir, f));
      assert.equal(r.code, 0, `${f}: ${r.err}`);
      const post = seen.find((s) => s.startsWith(`POST ${path}?`));
      assert.ok(post, `${f} was sent: ${seen.filter((s) => s.startsWith('POST')).join(', ')}`);
      assert.match(post!, /fieldValidation=Strict/);
    }
  });
});
