/**
 * A real HTTP engine on 127.0.0.1 with a one-module chain (an `/admin` DENY policy, then forwarding
 * through the engine's Pool) in front of a recording upstream, and a raw-bytes socket client.
 */
import { connect, type Server, type Socket, type TcpNetConnectOpts } from 'node:net';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpEngine } from '../engine/server.js';
import { Pool } from '../engine/client.js';
import { SidecarLog } from '../observability/log.js';
import type { HttpContext } from '../chain/types.js';
import type { UpstreamClient } from '../upstream/client.js';

export interface Upstream {
  server: HttpServer;
  port: number;
  /** requests the upstream app received */
  seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[];
  /** bytes that arrived on any upstream connection */
  bytes: number;
}

export interface EngineUnderTest {
  port: number;
  upstream: Upstream;
  /** the path every request showed the chain (what the policy matched) */
  policySaw: string[];
  authoritySaw: string[];
  reset(): void;
  close(): Promise<void>;
}

function pathOnly(target: string): string {
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}

async function startUpstream(): Promise<Upstream> {
  const up: Upstream = { server: undefined as unknown as HttpServer, port: 0, seen: [], bytes: 0 };
  up.server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      up.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      const text = JSON.stringify({ url: req.url });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    });
  });
  up.server.on('connection', (s) => s.on('data', (d: Buffer) => (up.bytes += d.length)));
  await new Promise<void>((r) => up.server.listen(0, '127.0.0.1', r));
  up.port = (up.server.address() as AddressInfo).port;
  return up;
}

/** An engine whose chain denies `/admin` and `/admin/*` (exact string match, as Istio's paths do). */
export async function startEngine(proxy: boolean): Promise<EngineUnderTest> {
  const upstream = await startUpstream();
  const pool = new Pool({ host: '127.0.0.1', port: upstream.port, timeoutMs: 5000, idleMs: 1000, maxIdle: 4 });
  const policySaw: string[] = [];
  const authoritySaw: string[] = [];
  const chain = async (ctx: HttpContext): Promise<void> => {
    const p = pathOnly(ctx.request.path);
    policySaw.push(ctx.request.path);
    authoritySaw.push(ctx.request.authority);
    if (p === '/admin' || p.startsWith('/admin/')) {
      ctx.respond(403, 'RBAC: access denied');
      return;
    }
    const r = ctx.request;
    ctx.response = await pool.request({ method: r.method, path: r.path, authority: r.authority, headers: r.headers, httpVersion: r.httpVersion }, r.body);
  };
  const server: Server = createHttpEngine({
    direction: proxy ? 'outbound' : 'inbound',
    mountPoint: proxy ? 'outbound-http' : 'inbound-http',
    chain: () => chain,
    proxy,
    upstream: {} as UpstreamClient,
    log: new SidecarLog('error'),
    timeoutMs: 5000,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return {
    port: (server.address() as AddressInfo).port,
    upstream,
    policySaw,
    authoritySaw,
    reset() {
      upstream.seen.length = 0;
      upstream.bytes = 0;
      policySaw.length = 0;
      authoritySaw.length = 0;
    },
    async close() {
      pool.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      upstream.server.closeAllConnections();
      await new Promise<void>((r) => upstream.server.close(() => r()));
    },
  };
}

export interface RawResult {
  /** everything the engine wrote, latin1 */
  text: string;
  /** status codes of the responses, in order */
  statuses: number[];
  /** the engine closed the connection (rather than the client giving up after `waitMs`) */
  closed: boolean;
}

/**
 * Writes raw bytes on a fresh connection (to 127.0.0.1:`to`, or where `to` says) and reads until the
 * engine closes it or `waitMs` passes; `onSocket` sees the socket first (to track it, say).
 */
export function rawExchange(to: number | TcpNetConnectOpts, bytes: string | Buffer, waitMs = 1500, onSocket?: (s: Socket) => void): Promise<RawResult> {
  return new Promise((resolve) => {
    const s = connect(typeof to === 'number' ? { host: '127.0.0.1', port: to } : to);
    onSocket?.(s);
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
      resolve({ text, statuses, closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('end', () => finish(true));
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  });
}
