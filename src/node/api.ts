/**
 * The node agent's Kubernetes client: plain REST calls with the current kubeconfig context's
 * credentials (client certificate or token, the cluster CA only), answers as status code and JSON,
 * and a list-then-watch of the pods bound to one node (field selector `spec.nodeName=<node>`).
 */
import type { Resource } from '../api/types.js';
import { startListWatch, type FetchLike, type WatchedType } from '../kube/client/list-watch.js';
import { ApiTransport } from '../local/api-transport.js';
import { readKubeconfig } from '../local/client/kubeconfig.js';

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
  /** the response text when it is not JSON */
  text: string;
}

export interface WatchHandlers {
  onSync: (objects: Resource[]) => void;
  onChange: (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Resource) => void;
  onError: (err: Error) => void;
}

export class NodeApiError extends Error {
  constructor(readonly status: number, readonly reason: string, message: string) {
    super(message);
    this.name = 'NodeApiError';
  }
}

export class NodeApi {
  readonly server: string;
  readonly #transport: ApiTransport;
  readonly #token: string | undefined;

  constructor(opts: { server: string; caPem: string; cert?: string; key?: string; token?: string }) {
    this.server = opts.server;
    this.#transport = new ApiTransport(opts.caPem, { ...(opts.cert ? { cert: opts.cert } : {}), ...(opts.key ? { key: opts.key } : {}) });
    this.#token = opts.token;
  }

  static fromKubeconfig(path: string): NodeApi {
    const t = readKubeconfig(path);
    return new NodeApi({ server: t.server, caPem: t.caPem, ...(t.cert ? { cert: t.cert } : {}), ...(t.key ? { key: t.key } : {}), ...(t.token ? { token: t.token } : {}) });
  }

  get caPem(): string {
    return this.#transport.caPem;
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return { accept: 'application/json', ...(this.#token ? { authorization: `Bearer ${this.#token}` } : {}), ...extra };
  }

  /** One call; never throws for an HTTP status (see `must`). */
  async call<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json', timeoutMs = 30_000): Promise<ApiAnswer<T>> {
    const res = await this.#transport.fetch(`${this.server}${path}`, {
      method,
      headers: this.#headers(body === undefined ? {} : { 'content-type': contentType }),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed as T, text };
  }

  /** A call that must succeed (2xx): anything else throws a NodeApiError with the Status's reason. */
  async must<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const a = await this.call<T>(method, path, body, contentType);
    if (a.status >= 200 && a.status < 300) return a.body;
    const st = a.body as { reason?: string; message?: string } | undefined;
    throw new NodeApiError(a.status, st?.reason ?? '', `${method} ${path}: HTTP ${a.status}: ${st?.message ?? a.text.slice(0, 300)}`);
  }

  /**
   * Lists then watches the pods bound to `nodeName` (re-listing after a failed or silent watch, as
   * an informer does). The field selector is added to every list and watch URL.
   */
  watchPods(nodeName: string, handlers: WatchHandlers): { stop(): void } {
    return this.listWatch([{ apiVersion: 'v1', plural: 'pods' }], handlers, `fieldSelector=${encodeURIComponent(`spec.nodeName=${nodeName}`)}`);
  }

  /** Lists then watches `types` cluster-wide (an informer's mirror), `query` added to every URL. */
  listWatch(types: WatchedType[], handlers: WatchHandlers, query?: string): { stop(): void } {
    const fetch: FetchLike = async (url, init) => {
      const withQuery = !query ? url : url.includes('?') ? `${url}&${query}` : `${url}?${query}`;
      const res = await this.#transport.fetch(withQuery, { headers: { ...this.#headers(), ...init.headers }, signal: init.signal });
      return res as unknown as Awaited<ReturnType<FetchLike>>;
    };
    return startListWatch({ baseUrl: this.server, fetch, types, ...handlers, watchdogMs: 90_000 });
  }

  close(): Promise<void> {
    return this.#transport.close();
  }
}

/** A MicroTime as the API server writes it (RFC 3339 with microseconds). */
export function microTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** A Time (seconds precision). */
export function kubeTime(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
