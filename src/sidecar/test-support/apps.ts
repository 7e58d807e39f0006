/** Upstream apps the sidecar tests forward to: an HTTP echo app (with Upgrade) and a TCP echo app. */
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import { createHash } from 'node:crypto';
import { listen, type Tracker } from './net.js';

export interface SeenRequest {
  app: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  remoteAddress: string;
  bodyBytes: number;
  chunked: boolean;
}

/** What the echo app answers by default: the request as it arrived. */
export interface EchoReply extends SeenRequest {
  bodySha256: string;
}

export interface EchoApp {
  name: string;
  server: HttpServer;
  seen: SeenRequest[];
}

/** How `app` saw `req` as it arrived (no body bytes counted yet). */
function seenRequest(app: string, req: IncomingMessage, chunked: boolean): SeenRequest {
  return {
    app,
    method: req.method ?? '',
    url: req.url ?? '',
    headers: req.headers,
    remoteAddress: req.socket.remoteAddress ?? '',
    bodyBytes: 0,
    chunked,
  };
}

/**
 * An HTTP app that tells what it received. Paths:
 *   /delay?ms=N   answers after N ms
 *   /chunked      a chunked response of several parts ("part-0;part-1;...")
 *   /pipe         streams the request body back as the response body (no buffering)
 *   /status?code=N
 *   anything else JSON EchoReply (content-length set, so HEAD gets it too)
 * An Upgrade request gets 101 and its bytes echoed back.
 */
export async function startEchoApp(tracker: Tracker, name: string, host: string, port: number): Promise<EchoApp> {
  const seen: SeenRequest[] = [];
  const server = createHttpServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://app');
    const record = seenRequest(name, req, /chunked/i.test(String(req.headers['transfer-encoding'] ?? '')));
    seen.push(record);
    if (url.pathname === '/pipe') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-app': name });
      req.pipe(res);
      return;
    }
    const hash = createHash('sha256');
    req.on('data', (c: Buffer) => {
      record.bodyBytes += c.length;
      hash.update(c);
    });
    req.on('end', () => {
      const reply = (): void => {
        if (url.pathname === '/chunked') {
          res.writeHead(200, { 'content-type': 'text/plain', 'x-app': name });
          let i = 0;
          const tick = (): void => {
            if (i === 4) return void res.end();
            res.write(`part-${i++};`);
            setTimeout(tick, 5);
          };
          tick();
          return;
        }
        if (url.pathname === '/status') {
          const code = Number(url.searchParams.get('code') ?? '200');
          res.writeHead(code, { 'content-length': '0', 'x-app': name }).end();
          return;
        }
        const text = JSON.stringify({ ...record, bodySha256: hash.digest('hex') } satisfies EchoReply);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-app': name });
        res.end(text);
      };
      const ms = url.pathname === '/delay' ? Number(url.searchParams.get('ms') ?? '0') : 0;
      if (ms > 0) setTimeout(reply, ms);
      else reply();
    });
  });
  server.on('upgrade', (req, socket, head) => {
    seen.push(seenRequest(name, req, false));
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${req.headers.upgrade ?? 'echo'}\r\nconnection: Upgrade\r\nx-app: ${name}\r\n\r\n`);
    if (head.length > 0) socket.write(head);
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  tracker.server(server);
  await listen(server, host, port);
  return { name, server, seen };
}

/** A TCP app that echoes every byte, prefixed once by a greeting naming it. */
export async function startTcpEchoApp(tracker: Tracker, name: string, host: string, port: number): Promise<Server> {
  const server = createTcpServer((s) => {
    s.on('error', () => undefined);
    s.write(`hello from ${name}\n`);
    s.pipe(s);
  });
  tracker.server(server);
  return listen(server, host, port);
}
