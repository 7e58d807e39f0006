/**
 * Forwards requests to endpoints (`ip:port`) over keep-alive connection pools (one per endpoint,
 * see engine/client.ts), opens Upgrade tunnels and raw TCP connections. Outgoing loopback
 * connections leave from the pod's own address, so the far side can tell which pod called.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { MeshError } from '../../lib/errors.js';
import type { Body, RequestHead } from '../http/types.js';
import type { HttpResponse } from '../chain/types.js';
import { Pool } from '../engine/client.js';

export interface UpstreamOptions {
  /** bind outgoing loopback connections to this address, so the far side sees our pod IP */
  localAddress?: string;
  /** connect, headers and idle timeout */
  timeoutMs: number;
  /** idle keep-alive connections kept per endpoint */
  maxIdle?: number;
}

export class UpstreamClient {
  private readonly pools = new Map<string, Pool>();
  constructor(private readonly opts: UpstreamOptions) {}

  private pool(endpoint: string): Pool {
    let p = this.pools.get(endpoint);
    if (!p) {
      const [host, port] = splitEndpoint(endpoint);
      const loopback = host.startsWith('127.');
      p = new Pool({
        host,
        port,
        timeoutMs: this.opts.timeoutMs,
        // below the 5 s keep-alive timeout of common servers (node:http's default), so an idle
        // connection is dropped here before the server drops it
        idleMs: 4_000,
        maxIdle: this.opts.maxIdle ?? 256,
        ...(loopback && this.opts.localAddress ? { localAddress: this.opts.localAddress } : {}),
      });
      this.pools.set(endpoint, p);
    }
    return p;
  }

  /** Sends one request; resolves once the response head has arrived (the body streams after). */
  request(endpoint: string, head: RequestHead, body: Body | Buffer | null): Promise<HttpResponse> {
    return this.pool(endpoint).request(head, body);
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
        p.close();
      }
    }
  }

  async close(): Promise<void> {
    for (const p of this.pools.values()) p.close();
    this.pools.clear();
  }
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
