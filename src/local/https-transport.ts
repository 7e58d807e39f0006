/**
 * The CLI's way to the API server: node:https, trusting only the cluster CA it is given (as
 * ApiTransport does), with the few parts of fetch the client uses. Loading undici costs a command
 * more than the rest of its start together; node's own HTTPS client is already in the binary.
 */
import { Agent, request } from 'node:https';
import type { IncomingMessage } from 'node:http';

export interface TransportInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface TransportResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
  /** the body as it arrives (log follows never end) */
  readonly body: AsyncIterable<Uint8Array> | null;
}

/** What KubeMeshApi needs of a transport; ApiTransport (undici) and HttpsTransport both are one. */
export interface Transport {
  fetch(url: string, init?: TransportInit): Promise<TransportResponse>;
  close(): Promise<void>;
}

export class HttpsTransport implements Transport {
  readonly #agent: Agent;

  constructor(readonly caPem: string, opts: { cert?: string | undefined; key?: string | undefined } = {}) {
    // Only the cluster CA: the system's roots must not vouch for the mesh's API address.
    this.#agent = new Agent({ ca: caPem, ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}), keepAlive: true });
  }

  fetch(url: string, init: TransportInit = {}): Promise<TransportResponse> {
    const signal = init.signal;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const u = new URL(url);
      if (u.protocol !== 'https:') {
        reject(new TypeError(`fetch failed: ${u.protocol} is not https:`));
        return;
      }
      const req = request(u, { method: init.method ?? 'GET', headers: init.headers ?? {}, agent: this.#agent });
      let res: IncomingMessage | undefined;
      const onAbort = (): void => {
        const reason = signal!.reason as Error;
        // before the answer the call fails with the reason (TimeoutError); after it, the body does
        if (res) res.destroy(reason);
        else reject(reason);
        req.destroy(reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      // as undici's fetch: a transport failure is a TypeError whose cause says what happened
      req.on('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        if (!signal?.aborted) reject(new TypeError('fetch failed', { cause: err }));
      });
      req.on('response', (r) => {
        res = r;
        r.on('close', () => signal?.removeEventListener('abort', onAbort));
        resolve(responseOf(r));
      });
      req.end(init.body);
    });
  }

  close(): Promise<void> {
    this.#agent.destroy();
    return Promise.resolve();
  }
}

function responseOf(r: IncomingMessage): TransportResponse {
  return {
    status: r.statusCode ?? 0,
    headers: {
      get(name: string): string | null {
        const v = r.headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
      },
    },
    async text(): Promise<string> {
      const chunks: Buffer[] = [];
      for await (const c of r) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    body: r,
  };
}
