/** Tessera's built-in stand-in for the httpbin image: httpbin 0.9.2 behaviour as served by gunicorn 19.9.0. */

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { accessLogLine, basicAuthUser, gunicornLogLine } from './gunicorn-log.js';
import { internalErrorReply, statusLinePhrase, tooLargeReply, type Reply } from './replies.js';
import { buildRequestView, headerValue, type RequestView } from './request-view.js';
import { dispatch } from './routes.js';
import { readBoundedBody } from '../../lib/bounded-body.js';

export interface HttpbinOptions {
  host: string;
  /** 0 picks a free port; the chosen one is in the returned `address`. */
  port: number;
  /** Receives one gunicorn-format access line per request, and error lines. */
  log?: (line: string) => void;
}

export interface HttpbinServer {
  close(): Promise<void>;
  address: { host: string; port: number };
}

export const SERVER_HEADER = 'gunicorn/19.9.0';

// gunicorn has no limit; this one only keeps a runaway client from exhausting memory.
const MAX_BODY_BYTES = 64 * 1024 * 1024;
// The server sets these itself; a view (i.e. /response-headers) must not break message framing.
const SERVER_OWNED_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

export async function startHttpbin(opts: HttpbinOptions): Promise<HttpbinServer> {
  const shutdown = new AbortController();
  const log = opts.log ?? (() => {});
  let serverName = '';

  const server = http.createServer((req, res) => {
    readBoundedBody(req, MAX_BODY_BYTES)
      .then(async (body) => {
        const view = buildRequestView({
          method: req.method ?? 'GET',
          target: req.url ?? '/',
          rawHeaders: req.rawHeaders,
          remoteAddress: peerAddress(req),
          body: body ?? Buffer.alloc(0),
          serverName,
        });
        const reply = body === undefined ? tooLargeReply() : await runView(view, shutdown.signal, log);
        if (reply === undefined) return; // shutting down mid-delay; the socket is being destroyed
        sendReply(req, res, view, reply);
        log(accessLogLine(accessEntry(req, view, reply)));
      })
      .catch((err: unknown) => {
        log(gunicornLogLine(`Error handling request ${req.url ?? ''}: ${String(err)}`, 'ERROR'));
        res.destroy();
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  // werkzeug's fallback host when a request has no Host header (port 80 is left implicit).
  serverName = port === 80 ? opts.host : `${opts.host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    address: { host: opts.host, port },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        shutdown.abort();
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets would otherwise hold close() open until they time out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function runView(view: RequestView, signal: AbortSignal, log: (line: string) => void): Promise<Reply | undefined> {
  try {
    return await dispatch(view, { signal });
  } catch (err) {
    if (signal.aborted) return undefined;
    // Flask logs the exception and answers with its stock 500 page.
    log(gunicornLogLine(`Exception on ${view.path} [${view.method}]: ${String(err)}`, 'ERROR'));
    return internalErrorReply();
  }
}

/** gunicorn reports IPv4 peers plainly; Node shows them IPv4-mapped on dual-stack sockets. */
function peerAddress(req: http.IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function hasNoBody(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

/**
 * Writes headers in gunicorn's order (server, date, connection, then the app's), lowercased.
 * Setting date/connection ourselves also stops Node adding a `Keep-Alive: timeout=` header that
 * gunicorn never sends.
 */
function sendReply(req: http.IncomingMessage, res: http.ServerResponse, view: RequestView, reply: Reply): void {
  const headers = new Map<string, { name: string; values: string[] }>();
  const add = (name: string, value: string): void => {
    try {
      http.validateHeaderName(name);
      http.validateHeaderValue(name, value);
    } catch {
      return; // gunicorn would refuse such a header too; skip it rather than fail the response
    }
    const key = name.toLowerCase();
    const entry = headers.get(key);
    if (entry) entry.values.push(value);
    else headers.set(key, { name, values: [value] });
  };

  add('server', SERVER_HEADER);
  add('date', new Date().toUTCString());
  add('connection', res.shouldKeepAlive ? 'keep-alive' : 'close');
  for (const [name, value] of reply.headers) if (!SERVER_OWNED_HEADERS.has(name.toLowerCase())) add(name, value);
  if (!hasNoBody(reply.status)) add('content-length', String(reply.body.length));
  // httpbin's after_request CORS hook runs for every response.
  add('access-control-allow-origin', headerValue(view, 'Origin') ?? '*');
  add('access-control-allow-credentials', 'true');
  if (view.method === 'OPTIONS') {
    add('access-control-allow-methods', 'GET, POST, PUT, DELETE, PATCH, OPTIONS');
    add('access-control-max-age', '3600');
    const requested = headerValue(view, 'Access-Control-Request-Headers');
    if (requested !== undefined) add('access-control-allow-headers', requested);
  }

  for (const { name, values } of headers.values()) res.setHeader(name, values.length === 1 ? values[0]! : values);
  res.writeHead(reply.status, statusLinePhrase(reply.status));
  res.end(req.method === 'HEAD' || hasNoBody(reply.status) ? undefined : reply.body);
}

function accessEntry(req: http.IncomingMessage, view: RequestView, reply: Reply): Parameters<typeof accessLogLine>[0] {
  const bodySent = req.method !== 'HEAD' && !hasNoBody(reply.status);
  return {
    remoteAddress: view.remoteAddress,
    user: basicAuthUser(headerValue(view, 'Authorization')),
    method: view.method,
    target: view.rawTarget,
    httpVersion: req.httpVersion,
    status: reply.status,
    bytesSent: bodySent ? reply.body.length : 0,
    referer: headerValue(view, 'Referer'),
    userAgent: headerValue(view, 'User-Agent'),
  };
}
