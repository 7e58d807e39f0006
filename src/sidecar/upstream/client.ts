/**
 * Forwards requests to endpoints (`ip:port`) over keep-alive connection pools, one undici Pool per
 * endpoint. Bodies stream both ways; nothing is buffered unless a module asked for the whole body.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import { MeshError } from '../../lib/errors.js';
import { EMPTY_BODY, StreamBody } from '../http/body.js';
import { forwardableHeaders } from '../http/headers.js';
import type { HeaderMap, RequestHead } from '../http/types.js';
import type { HttpResponse } from '../chain/types.js';

export interface UpstreamOptions {
  /** bind outgoing loopback connections to this address, so the far side sees our pod IP */
  localAddress?: string;
  /** connect, headers and idle timeout */
  timeoutMs: number;
  /** connections per endpoint */
  connections?: number;
}

export class UpstreamClient {
  private readonly pools = new Map<string, Pool>();
  constructor(private readonly opts: UpstreamOptions) {}

  private pool(endpoint: string): Pool {
    let p = this.pools.get(endpoint);
    if (!p) {
      const loopback = endpoint.startsWith('127.');
      p = new Pool(`http://${endpoint}`, {
        connections: this.opts.connections ?? 128,
        pipelining: 1,
        keepAliveTimeout: 60_000,
        keepAliveMaxTimeout: 600_000,
        headersTimeout: this.opts.timeoutMs,
        bodyTimeout: this.opts.timeoutMs,
        connect: { timeout: Math.min(this.opts.timeoutMs, 10_000) },
        ...(loopback && this.opts.localAddress ? { localAddress: this.opts.localAddress } : {}),
      });
      this.pools.set(endpoint, p);
    }
    return p;
  }

  /** Sends one request; resolves once the response head has arrived. */
  async request(endpoint: string, head: RequestHead, body: Readable | Buffer | null): Promise<HttpResponse> {
    const headers = requestHeaders(head);
    try {
      const res = await this.pool(endpoint).request({
        path: head.path,
        method: head.method as 'GET',
        headers: headers as Record<string, string>,
        body,
      });
      const h = res.headers as HeaderMap;
      const lengthHeader = h['content-length'];
      const length = typeof lengthHeader === 'string' ? Number(lengthHeader) : undefined;
      const noBody = head.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304 || length === 0;
      if (noBody) res.body.resume();
      return {
        status: res.statusCode,
        headers: forwardableHeaders(h),
        body: noBody ? emptyWithLength(h) : new StreamBody(res.body, length),
      };
    } catch (err) {
      throw upstreamError(endpoint, err);
    }
  }

  /**
   * Opens a raw connection to `endpoint` and writes `head` as an HTTP/1.1 request head: used for
   * Upgrade (WebSocket) requests, whose bytes are then piped both ways.
   */
  openTunnel(endpoint: string, head: RequestHead): Promise<Socket> {
    const [host, port] = splitEndpoint(endpoint);
    return new Promise((resolve, reject) => {
      const loopback = host.startsWith('127.');
      const s = netConnect({
        host,
        port,
        ...(loopback && this.opts.localAddress ? { localAddress: this.opts.localAddress } : {}),
      });
      const onError = (err: Error): void => reject(upstreamError(endpoint, err));
      s.once('error', onError);
      s.setTimeout(Math.min(this.opts.timeoutMs, 10_000), () => s.destroy(new MeshError('MESH_ERR_TIMEOUT', `connect to ${endpoint} timed out`)));
      s.once('connect', () => {
        s.setTimeout(0);
        s.off('error', onError);
        let text = `${head.method} ${head.path} HTTP/1.1\r\n`;
        for (const [k, v] of Object.entries(head.headers)) {
          if (v === undefined) continue;
          for (const one of Array.isArray(v) ? v : [v]) text += `${k}: ${one}\r\n`;
        }
        s.write(`${text}\r\n`);
        resolve(s);
      });
    });
  }

  /** Opens a plain TCP connection to `endpoint`. */
  connectTcp(endpoint: string): Promise<Socket> {
    const [host, port] = splitEndpoint(endpoint);
    return new Promise((resolve, reject) => {
      const loopback = host.startsWith('127.');
      const s = netConnect({ host, port, ...(loopback && this.opts.localAddress ? { localAddress: this.opts.localAddress } : {}) });
      const onError = (err: Error): void => reject(upstreamError(endpoint, err));
      s.once('error', onError);
      s.setTimeout(Math.min(this.opts.timeoutMs, 10_000), () => s.destroy(new MeshError('MESH_ERR_TIMEOUT', `connect to ${endpoint} timed out`)));
      s.once('connect', () => {
        s.setTimeout(0);
        s.off('error', onError);
        resolve(s);
      });
    });
  }

  /** Closes pools for endpoints not in `keep` (after a snapshot change). */
  retain(keep: ReadonlySet<string>): void {
    for (const [ep, p] of this.pools) {
      if (!keep.has(ep)) {
        this.pools.delete(ep);
        void p.close().catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map((p) => p.destroy()));
  }
}

function emptyWithLength(h: HeaderMap): typeof EMPTY_BODY {
  void h;
  return EMPTY_BODY;
}

/** Request headers as undici accepts them: no hop-by-hop, no Expect (the server side already answered 100-continue). */
function requestHeaders(head: RequestHead): HeaderMap {
  const h = forwardableHeaders(head.headers);
  delete h['expect'];
  if (head.authority) h['host'] = head.authority;
  return h;
}

export function splitEndpoint(endpoint: string): [string, number] {
  const i = endpoint.lastIndexOf(':');
  return [endpoint.slice(0, i), Number(endpoint.slice(i + 1))];
}

function upstreamError(endpoint: string, err: unknown): MeshError {
  if (err instanceof MeshError) return err;
  const code = (err as { code?: string }).code ?? '';
  const message = (err as Error).message ?? String(err);
  if (code.includes('TIMEOUT')) return new MeshError('MESH_ERR_TIMEOUT', `upstream ${endpoint} timed out (${code})`, { cause: err });
  return new MeshError('MESH_ERR_UPSTREAM', `upstream ${endpoint} failed: ${code || message}`, { cause: err });
}
