/** `HttpMeshApi`: the CLI's MeshApi over HTTP, and `connectMesh` to find the mesh of a state directory. */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Resource } from '../../api/types.js';
import { MeshError } from '../../lib/errors.js';
import type { ApplyResult, ListQuery, ManifestDocument, MeshApi, MeshStatus, PodProcessInfo } from '../api-contract.js';
import { readMeshFile } from '../mesh-file.js';
import { ApiTransport, apiCaFile } from '../api-transport.js';
import type { Response } from 'undici';
import { ERROR_HEADER } from './http-json.js';

const DEFAULT_TIMEOUT_MS = 60_000;
const HEALTH_TIMEOUT_MS = 2_000;
/** Extra time a long poll gets on top of its own timeout, so the server's answer wins the race. */
const WAIT_MARGIN_MS = 10_000;

interface RequestOptions {
  body?: unknown;
  timeoutMs?: number;
  contentType?: string;
  /** the response is relayed from a sidecar: only our error header marks an error */
  relay?: boolean;
}

function seg(s: string): string {
  return encodeURIComponent(s);
}

export class HttpMeshApi implements MeshApi {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly transport: ApiTransport,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  private async send(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    let res: Response;
    try {
      res = await this.transport.fetch(`${this.baseUrl}${path}`, {
        method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      if ((e as Error).name === 'TimeoutError') {
        throw new MeshError('MESH_ERR_TIMEOUT', `the mesh API at ${this.baseUrl} did not answer ${method} ${path} within ${timeoutMs} ms`, { cause: e });
      }
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new MeshError('MESH_ERR_MESH_NOT_RUNNING', `the mesh API at ${this.baseUrl} is not answering (${cause}): run \`tessera up\` first`, { cause: e });
    }
    const ourError = res.headers.get(ERROR_HEADER) !== null;
    if (opts.relay && !ourError) return res;
    if (ourError || (!res.ok && (res.headers.get('content-type') ?? '').includes('json'))) {
      const body = (await res.json().catch(() => ({}))) as { error?: unknown };
      throw MeshError.fromJSON(body.error ?? { code: 'MESH_ERR_INTERNAL', message: `${method} ${path}: HTTP ${res.status}` });
    }
    if (!res.ok) throw new MeshError('MESH_ERR_INTERNAL', `${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    return res;
  }

  private async json<T>(method: string, path: string, opts?: RequestOptions): Promise<T> {
    return (await (await this.send(method, path, opts)).json()) as T;
  }

  private objectPath(kind: string, name: string, namespace: string | undefined): string {
    return `/v1/resources/${seg(kind)}/${seg(namespace || '-')}/${seg(name)}`;
  }

  apply(docs: ManifestDocument[], opts: { namespace?: string }): Promise<ApplyResult[]> {
    return this.json('POST', '/v1/apply', { body: { documents: docs, namespace: opts.namespace } });
  }

  deleteDocuments(docs: ManifestDocument[], opts: { namespace?: string; ignoreNotFound?: boolean }): Promise<ApplyResult[]> {
    return this.json('POST', '/v1/delete', { body: { documents: docs, namespace: opts.namespace, ignoreNotFound: opts.ignoreNotFound } });
  }

  delete(kind: string, name: string, namespace: string | undefined, opts: { ignoreNotFound?: boolean } = {}): Promise<ApplyResult> {
    const q = opts.ignoreNotFound ? '?ignoreNotFound=true' : '';
    return this.json('DELETE', `${this.objectPath(kind, name, namespace)}${q}`);
  }

  get(kind: string, name: string, namespace?: string): Promise<Resource> {
    return this.json('GET', this.objectPath(kind, name, namespace));
  }

  list(query: ListQuery): Promise<Resource[]> {
    const p = new URLSearchParams({ kind: query.kind });
    if (query.namespace) p.set('namespace', query.namespace);
    if (query.allNamespaces) p.set('allNamespaces', 'true');
    if (query.labelSelector) p.set('labelSelector', query.labelSelector);
    if (query.name) p.set('name', query.name);
    return this.json('GET', `/v1/resources?${p}`);
  }

  patch(kind: string, name: string, namespace: string | undefined, patch: unknown): Promise<ApplyResult> {
    return this.json('PATCH', this.objectPath(kind, name, namespace), { body: patch, contentType: 'application/merge-patch+json' });
  }

  wait(query: ListQuery, condition: string, timeoutMs: number): Promise<Resource[]> {
    return this.json('POST', '/v1/wait', { body: { query, condition, timeoutMs }, timeoutMs: timeoutMs + WAIT_MARGIN_MS });
  }

  podInfo(namespace: string, name: string): Promise<PodProcessInfo> {
    return this.json('GET', `/v1/pods/${seg(namespace)}/${seg(name)}/info`);
  }

  async logs(namespace: string, pod: string, container?: string): Promise<string> {
    const q = container ? `?container=${seg(container)}` : '';
    return (await this.send('GET', `/v1/pods/${seg(namespace)}/${seg(pod)}/logs${q}`)).text();
  }

  rolloutRestart(kind: string, name: string, namespace: string): Promise<ApplyResult> {
    return this.json('POST', '/v1/rollout-restart', { body: { kind, name, namespace } });
  }

  async proxyGet(namespace: string, pod: string, query: string): Promise<{ status: number; contentType: string; body: string }> {
    const path = `/v1/pods/${seg(namespace)}/${seg(pod)}/proxy/${query.replace(/^\/+/, '')}`;
    // Any status the sidecar answered is a result, not an error; only our own errors throw.
    const res = await this.send('GET', path, { relay: true });
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
  }

  status(): Promise<MeshStatus> {
    return this.json('GET', '/v1/status');
  }

  async shutdown(): Promise<void> {
    await this.json('POST', '/v1/shutdown', { body: {} });
  }
}

function sameDir(a: string, b: string): boolean {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  return real(a) === real(b);
}

/** The MeshApi of the mesh running in `stateDir`, or MESH_ERR_MESH_NOT_RUNNING. */
export async function connectMesh(stateDir: string): Promise<MeshApi> {
  const notRunning = (why?: string): MeshError =>
    new MeshError('MESH_ERR_MESH_NOT_RUNNING', `no mesh is running in ${stateDir}: run \`tessera up\` first${why ? ` (${why})` : ''}`);
  const mesh = readMeshFile(stateDir);
  if (!mesh) throw notRunning();
  let health: { status?: string; stateDir?: string };
  let transport: ApiTransport;
  try {
    transport = ApiTransport.fromFile(apiCaFile(stateDir));
  } catch {
    throw notRunning(`its cluster CA ${apiCaFile(stateDir)} cannot be read`);
  }
  try {
    const res = await transport.fetch(`${mesh.apiUrl}/healthz`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    health = (await res.json()) as typeof health;
  } catch {
    throw notRunning(`its API at ${mesh.apiUrl} does not answer`);
  }
  // Another mesh may have leased the same addresses since this one stopped.
  if (health.status !== 'ok' || !health.stateDir || !sameDir(health.stateDir, stateDir)) {
    throw notRunning(`${mesh.apiUrl} is serving another mesh`);
  }
  return new HttpMeshApi(mesh.apiUrl, mesh.apiToken, transport);
}
