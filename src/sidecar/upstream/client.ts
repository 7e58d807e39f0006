/**
 * Forwards requests to endpoints (`ip:port`) over keep-alive connection pools (one per endpoint and
 * expected identity set, see engine/client.ts), opens Upgrade tunnels and raw TCP connections.
 * Connections to other sidecars are mTLS: we present our workload certificate and accept the
 * server only if it proves one of the destination service's identities. Outgoing loopback
 * connections leave from the pod's own address, so the far side can tell which pod called.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type SecureContext } from 'node:tls';
import { meshServerIdentityCheck, parseServiceIdentity } from '../../identity/index.js';
import { MeshError } from '../../lib/errors.js';
import type { Body, RequestHead } from '../http/types.js';
import type { HttpResponse } from '../chain/types.js';
import { Pool, requestUpgrade, type RequestOptions, type UpgradeResult } from '../engine/client.js';
import type { H2Pool } from '../engine/h2.js';
import { loadH2 } from '../engine/h2-sniff.js';

/** Per-request settings, and whether the exchange goes upstream as HTTP/2 (h2 over mTLS, else h2c). */
export interface ForwardOptions extends RequestOptions {
  http2?: boolean;
}

export interface UpstreamOptions {
  /** bind outgoing loopback connections to this address, so the far side sees our pod IP */
  localAddress?: string;
  /** connect, headers and idle timeout */
  timeoutMs: number;
  /** idle keep-alive connections kept per endpoint */
  maxIdle?: number;
  /** our certificate and trusted roots, for mTLS to other sidecars */
  tls?: () => SecureContext | undefined;
}

/** The identities a mesh upstream must prove; undefined means plaintext (the app, or outside the mesh). */
export type ExpectedIdentities = readonly string[] | undefined;

export class UpstreamClient {
  private readonly pools = new Map<string, Pool>();
  private readonly h2Pools = new Map<string, H2Pool>();
  constructor(private readonly opts: UpstreamOptions) {}

  private pool(endpoint: string, identities: ExpectedIdentities): Pool {
    const key = poolKey(endpoint, identities);
    let p = this.pools.get(key);
    if (!p) {
      p = new Pool({ ...this.connectionOptions(endpoint, identities), maxIdle: this.opts.maxIdle ?? 256 });
      this.pools.set(key, p);
    }
    return p;
  }

  /** What an HTTP/1 pool and an HTTP/2 pool to `endpoint` share: address, timeouts, source address, TLS. */
  private connectionOptions(endpoint: string, identities: ExpectedIdentities) {
    const [host, port] = splitEndpoint(endpoint);
    const loopback = host.startsWith('127.');
    return {
      host,
      port,
      timeoutMs: this.opts.timeoutMs,
      // below the 5 s keep-alive timeout of common servers (node:http's default), so an idle
      // connection is dropped here before the server drops it
      idleMs: 4_000,
      ...(loopback && this.opts.localAddress ? { localAddress: this.opts.localAddress } : {}),
      ...(identities ? { tls: () => this.tlsOptions(identities) } : {}),
    };
  }

  private tlsOptions(identities: readonly string[]): ConnectionOptions | undefined {
    const secureContext = this.opts.tls?.();
    if (!secureContext) return undefined;
    return {
      secureContext,
      rejectUnauthorized: true,
      checkServerIdentity: meshServerIdentityCheck(identities.map((i) => parseServiceIdentity(i))),
    };
  }

  private async h2Pool(endpoint: string, identities: ExpectedIdentities): Promise<H2Pool> {
    const key = poolKey(endpoint, identities);
    let p = this.h2Pools.get(key);
    if (!p) {
      // node:http2 is loaded by the first HTTP/2 request (engine/h2-sniff.ts)
      const { H2Pool } = await loadH2();
      p = this.h2Pools.get(key);
      if (p) return p;
      p = new H2Pool(this.connectionOptions(endpoint, identities));
      this.h2Pools.set(key, p);
    }
    return p;
  }

  /** Sends one request; resolves once the response head has arrived (the body streams after). */
  request(endpoint: string, head: RequestHead, body: Body | Buffer | null, identities?: ExpectedIdentities, opts?: ForwardOptions): Promise<HttpResponse> {
    if (opts?.http2) return this.h2Pool(endpoint, identities).then((p) => p.request(head, body));
    return this.pool(endpoint, identities).request(head, body, opts);
  }

  /**
   * Sends an Upgrade (WebSocket) request on a fresh connection to `endpoint` and resolves with the
   * upstream's answer: a 101, after which the caller pipes bytes both ways on the returned socket,
   * or any other response, which is all the connection carries (see requestUpgrade).
   */
  async openTunnel(endpoint: string, head: RequestHead, identities?: ExpectedIdentities): Promise<UpgradeResult> {
    const s = await this.connectTcp(endpoint, identities);
    return requestUpgrade(s, head, this.opts.timeoutMs, endpoint);
  }

  /** Opens a byte stream to `endpoint` (mTLS when identities are given). */
  connectTcp(endpoint: string, identities?: ExpectedIdentities, connectTimeoutMs?: number): Promise<Socket> {
    const [host, port] = splitEndpoint(endpoint);
    return new Promise((resolve, reject) => {
      const loopback = host.startsWith('127.');
      const base = { host, port, ...(loopback && this.opts.localAddress ? { localAddress: this.opts.localAddress } : {}) };
      let tls: ConnectionOptions | undefined;
      if (identities) {
        tls = this.tlsOptions(identities);
        if (!tls) {
          reject(new MeshError('MESH_ERR_UPSTREAM', `no workload certificate yet for mTLS to ${endpoint}`));
          return;
        }
      }
      const s: Socket = tls ? tlsConnect({ ...base, ...tls }) : netConnect(base);
      const onError = (err: Error): void => reject(upstreamError(endpoint, err));
      s.once('error', onError);
      s.setTimeout(connectTimeoutMs ?? Math.min(this.opts.timeoutMs, 10_000));
      s.once('timeout', () => s.destroy(new MeshError('MESH_ERR_TIMEOUT', `connect to ${endpoint} timed out`)));
      s.once(tls ? 'secureConnect' : 'connect', () => {
        s.setTimeout(0);
        s.off('error', onError);
        resolve(s);
      });
    });
  }

  /** Closes pools for endpoints not in `keep` (after a snapshot change). */
  retain(keep: ReadonlySet<string>): void {
    for (const [key, p] of this.pools) {
      if (!keep.has(key.split('#')[0]!)) {
        this.pools.delete(key);
        p.close();
      }
    }
    for (const [key, p] of this.h2Pools) {
      if (!keep.has(key.split('#')[0]!)) {
        this.h2Pools.delete(key);
        p.close();
      }
    }
  }

  async close(): Promise<void> {
    for (const p of this.pools.values()) p.close();
    this.pools.clear();
    for (const p of this.h2Pools.values()) p.close();
    this.h2Pools.clear();
  }
}

/** One pool per endpoint and expected peer identities (a TLS session is bound to the identities it checked). */
function poolKey(endpoint: string, identities: ExpectedIdentities): string {
  return identities ? `${endpoint}#${identities.join(',')}` : endpoint;
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
