/**
 * The HTTP engine: node:http (llhttp) parses and writes HTTP/1.1; this file is the only place that
 * touches IncomingMessage and ServerResponse. It turns each request into a RequestContext, runs the
 * mount point's chain, and writes what the chain produced — streaming bodies both ways. Keep-alive,
 * pipelining and chunked framing come from node:http. Replace this file to change engines.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream';
import { EMPTY_BODY, StreamBody } from '../http/body.js';
import { forwardableHeaders } from '../http/headers.js';
import type { HeaderMap } from '../http/types.js';
import { RequestContext } from '../chain/context.js';
import { rescue } from '../chain/rescue.js';
import type { Direction, HttpContext, HttpResponse } from '../chain/types.js';
import { kTunnel, type Tunnelable } from '../modules/index.js';
import type { MountPoint } from '../../api/types.js';
import type { SidecarLog } from '../observability/log.js';
import type { UpstreamClient } from '../upstream/client.js';

export interface HttpEngineOptions {
  direction: Direction;
  mountPoint: MountPoint;
  /** the chain to run, read per request so a snapshot swap takes effect at once */
  chain: () => ((ctx: HttpContext) => Promise<void>) | undefined;
  /** outbound explicit proxy: accept absolute-form targets and CONNECT */
  proxy: boolean;
  /** CONNECT handler (outbound proxy only) */
  onConnect?: (authority: string, socket: Duplex, head: Buffer, source: { address: string; port: number }) => void;
  upstream: UpstreamClient;
  log: SidecarLog;
  timeoutMs: number;
}

export function createHttpEngine(opts: HttpEngineOptions): Server {
  const server = createServer({
    keepAliveTimeout: opts.timeoutMs,
    headersTimeout: Math.min(opts.timeoutMs, 60_000),
    requestTimeout: 0,
    maxHeaderSize: 64 * 1024,
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void handle(opts, req, res, undefined);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void handle(opts, req, undefined, { socket, head });
  });
  if (opts.onConnect) {
    const onConnect = opts.onConnect;
    server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      onConnect(req.url ?? '', socket, head, { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 });
    });
  }
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    if (!socket.writable) return;
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    socket.end(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });
  return server;
}

async function handle(
  opts: HttpEngineOptions,
  req: IncomingMessage,
  res: ServerResponse | undefined,
  upgrade: { socket: Duplex; head: Buffer } | undefined,
): Promise<void> {
  const target = splitTarget(req, opts.proxy);
  const headers = req.headers as HeaderMap;
  const hasBody = headers['content-length'] !== undefined ? headers['content-length'] !== '0' : headers['transfer-encoding'] !== undefined;
  const length = headers['content-length'] !== undefined ? Number(headers['content-length']) : undefined;
  const ctx = new RequestContext(
    opts.direction,
    opts.mountPoint,
    {
      method: req.method ?? 'GET',
      path: target.path,
      authority: target.authority,
      headers,
      httpVersion: req.httpVersion,
      body: hasBody && !upgrade ? new StreamBody(req, length) : EMPTY_BODY,
    },
    { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0, identity: undefined },
    { address: req.socket.localAddress ?? '', port: req.socket.localPort ?? 0 },
    upgrade !== undefined,
  );
  if (upgrade) {
    const { socket, head } = upgrade;
    (ctx as RequestContext & Tunnelable)[kTunnel] = async (endpoint) => {
      const upstream = await opts.upstream.openTunnel(endpoint, ctx.request);
      if (head.length > 0) upstream.write(head);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
    };
  }
  const chain = opts.chain();
  try {
    if (!chain) ctx.respond(503, 'sidecar has no configuration yet\n');
    else await chain(ctx);
  } catch (err) {
    opts.log.error('chain failed', { mountPoint: opts.mountPoint, error: (err as Error).stack ?? String(err) });
    rescue(ctx, err);
  }
  if (upgrade) {
    // the load balancer took the socket over; anything else is an error answer on the raw socket
    if (ctx.upstream && !ctx.response) return;
    writeRawResponse(upgrade.socket, ctx.response);
    return;
  }
  writeResponse(res!, ctx.response, opts.log);
}

/** Origin-form path and authority; an explicit proxy also receives absolute-form targets. */
function splitTarget(req: IncomingMessage, proxy: boolean): { path: string; authority: string } {
  const url = req.url ?? '/';
  const host = (req.headers.host ?? '') as string;
  if (proxy && !url.startsWith('/')) {
    const m = /^http:\/\/([^/?#]*)([^#]*)/i.exec(url);
    if (m) {
      const path = m[2] || '/';
      return { authority: m[1]!, path: path.startsWith('/') ? path : `/${path}` };
    }
  }
  return { path: url, authority: host };
}

function writeResponse(res: ServerResponse, r: HttpResponse | undefined, log: SidecarLog): void {
  if (!r) {
    res.writeHead(500, { 'content-type': 'text/plain', 'content-length': '22' }).end('no response produced\n');
    return;
  }
  const headers = forwardableHeaders(r.headers);
  try {
    res.writeHead(r.status, headers as Record<string, string | string[]>);
  } catch (err) {
    log.error('invalid response head', { error: (err as Error).message });
    res.writeHead(502, { 'content-type': 'text/plain', 'content-length': '21' }).end('invalid upstream head\n');
    return;
  }
  const body = r.body.take();
  if (body === null) res.end();
  else if (Buffer.isBuffer(body)) res.end(body);
  else
    pipeline(body, res, (err) => {
      if (err) res.destroy(err);
    });
}

function writeRawResponse(socket: Duplex, r: HttpResponse | undefined): void {
  const status = r?.status ?? 502;
  let text = `HTTP/1.1 ${status} ${status === 101 ? 'Switching Protocols' : 'Error'}\r\nconnection: close\r\n`;
  const body = r?.body.take();
  const buf = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  for (const [k, v] of Object.entries(r?.headers ?? {})) {
    if (v === undefined || k === 'content-length' || k === 'connection') continue;
    for (const one of Array.isArray(v) ? v : [v]) text += `${k}: ${one}\r\n`;
  }
  text += `content-length: ${buf.length}\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(text), buf]));
}
