/**
 * The generic API server in process for unit tests: over a SQLite-backed store in a temp dir, on a
 * loopback HTTP port, with a `widgets.example.com` CRD and a `demo` namespace; torn down after the test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeBackedStorage } from '../../local/kube/storage.js';
import { openStore } from '../../local/store/index.js';
import { ResourceRegistry, type CrdObject } from '../registry/index.js';
import { createKubeApi } from './server.js';

export type Send = (method: string, path: string, body?: unknown, contentType?: string) => Promise<Answer>;

const WIDGETS = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [{
      name: 'v1', served: true, storage: true,
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } },
    }],
  },
} as unknown as CrdObject;

export interface Answer {
  status: number;
  body: any;
}

export async function testKubeApi(t: { after(fn: () => void | Promise<void>): void }): Promise<Send & { port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-kube-resources-'));
  const store = openStore(dir, { compactEvery: 0, synchronous: 'NORMAL' });
  const storage = storeBackedStorage(store);
  const registry = new ResourceRegistry();
  registry.putCrd(WIDGETS);
  const api = createKubeApi({
    registry, storage, now: () => new Date(), serverAddress: '127.0.0.1:0',
    admission: { admit: async () => undefined },
    version: { major: '1', minor: '33', gitVersion: 'v1.33.0', gitCommit: '', gitTreeState: 'clean', buildDate: '', goVersion: '', compiler: '', platform: '' },
    authenticate: () => ({ username: 'admin', groups: ['system:masters'] }),
  });
  const http = createServer((req, res) => void api.handle(req, res));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  t.after(async () => {
    api.close();
    await new Promise((r) => http.close(r));
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const { port } = http.address() as AddressInfo;
  const send = (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = { accept: 'application/json' };
      if (text !== undefined) Object.assign(headers, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)) });
      const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
      });
      req.on('error', reject);
      req.end(text);
    });
  const created = await send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
  if (created.status !== 201) throw new Error(`creating namespace demo: HTTP ${created.status}`);
  return Object.assign(send, { port });
}

