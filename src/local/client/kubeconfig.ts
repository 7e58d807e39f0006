/**
 * `fromKubeconfig(path)`: a `KubeMeshApi` for the current context of a kubeconfig file (as kubectl
 * reads it: certificate-authority[-data], client-certificate[-data]/client-key[-data], token or
 * tokenFile; relative paths are relative to the file). `defaultKubeconfigPath` is KUBECONFIG's first
 * entry, else ~/.kube/config.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { MeshError } from '../../lib/errors.js';
import { HttpsTransport } from '../https-transport.js';
import { KubeMeshApi } from './kube-mesh-api.js';

interface Named<T> {
  name?: string;
  [key: string]: unknown;
  value?: T;
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: (Named<unknown> & { context?: { cluster?: string; user?: string } })[];
  clusters?: (Named<unknown> & { cluster?: { server?: string; 'certificate-authority'?: string; 'certificate-authority-data'?: string } })[];
  users?: (Named<unknown> & {
    user?: { 'client-certificate'?: string; 'client-certificate-data'?: string; 'client-key'?: string; 'client-key-data'?: string; token?: string; tokenFile?: string };
  })[];
}

export function defaultKubeconfigPath(env: Record<string, string | undefined> = process.env): string {
  const first = (env.KUBECONFIG ?? '').split(delimiter).find((p) => p.trim() !== '');
  return first ?? join(env.HOME || homedir(), '.kube', 'config');
}

export interface KubeconfigTarget {
  server: string;
  context: string;
  caPem: string;
  cert?: string;
  key?: string;
  token?: string;
}

/** The current context's server and credentials. */
export function readKubeconfig(path: string): KubeconfigTarget {
  const bad = (why: string): MeshError => new MeshError('MESH_ERR_USAGE', `kubeconfig ${path}: ${why}`);
  let doc: KubeconfigFile;
  try {
    doc = (parseYaml(readFileSync(path, 'utf8')) ?? {}) as KubeconfigFile;
  } catch (e) {
    throw bad(`cannot be read (${(e as Error).message})`);
  }
  const base = dirname(resolve(path));
  const file = (p: string): string => readFileSync(isAbsolute(p) ? p : join(base, p), 'utf8');
  const b64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');
  const contextName = doc['current-context'];
  if (!contextName) throw bad('no current-context');
  const context = doc.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw bad(`context "${contextName}" is not defined`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster?.server) throw bad(`cluster "${context.cluster ?? ''}" of context "${contextName}" has no server`);
  const user = doc.users?.find((u) => u.name === context.user)?.user ?? {};
  const caPem = cluster['certificate-authority-data'] ? b64(cluster['certificate-authority-data']) : cluster['certificate-authority'] ? file(cluster['certificate-authority']) : undefined;
  // Tessera trusts only the cluster's CA, never the system's roots (see HttpsTransport).
  if (!caPem) throw bad(`cluster "${context.cluster ?? ''}" names no certificate-authority`);
  const cert = user['client-certificate-data'] ? b64(user['client-certificate-data']) : user['client-certificate'] ? file(user['client-certificate']) : undefined;
  const key = user['client-key-data'] ? b64(user['client-key-data']) : user['client-key'] ? file(user['client-key']) : undefined;
  const token = user.token ?? (user.tokenFile ? file(user.tokenFile).trim() : undefined);
  return { server: cluster.server.replace(/\/+$/, ''), context: contextName, caPem, ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(token ? { token } : {}) };
}

/** A Kubernetes client for the current context of the kubeconfig at `path`. */
export function fromKubeconfig(path: string, opts: { timeoutMs?: number } = {}): KubeMeshApi {
  const t = readKubeconfig(path);
  const transport = new HttpsTransport(t.caPem, { ...(t.cert ? { cert: t.cert } : {}), ...(t.key ? { key: t.key } : {}) });
  return new KubeMeshApi({ baseUrl: t.server, transport, ...(t.token ? { token: t.token } : {}), ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
}
