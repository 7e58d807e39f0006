/**
 * fortio's HTTP echo server: every path echoes the request body (with the request's content type),
 * shaped by the query (`status`, `delay`, `size`, `header`, `close`; see echo-params.ts); `/debug`
 * answers a plain-text dump of the request instead.
 */
import http from 'node:http';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { DEFAULT_ECHO_LIMITS, planEcho, type EchoLimits } from './echo-params.js';
import { formatDuration } from './duration.js';
import type { Logger } from './log.js';
import { FORTIO_VERSION } from './version.js';
import { readBoundedBody } from '../../lib/bounded-body.js';

// fortio reads any size; a bound keeps one client from exhausting the pod's memory.
const MAX_REQUEST_BODY = 16 * 1024 * 1024;

export interface EchoServerOptions {
  host: string;
  port: number;
  limits?: EchoLimits;
  logger: Logger;
  random?: () => number;
}

export interface RunningServer {
  address: { host: string; port: number };
  close(): Promise<void>;
}

export async function startEchoServer(opts: EchoServerOptions): Promise<RunningServer> {
  const limits = opts.limits ?? DEFAULT_ECHO_LIMITS;
  const random = opts.random ?? Math.random;
  const started = Date.now();
  const pending = new Set<NodeJS.Timeout>();

  const server = http.createServer((req, res) => {
    readBoundedBody(req, MAX_REQUEST_BODY).then(
      (body) => {
        if (body === undefined) {
          res.writeHead(413, { 'content-type': 'text/plain; charset=UTF-8' }).end(`request body over ${MAX_REQUEST_BODY} bytes\n`);
          return;
        }
        const url = new URL(req.url ?? '/', 'http://echo');
        if (url.pathname === '/debug' || url.pathname.startsWith('/debug/')) {
          res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8' }).end(debugText(req, body, started));
          return;
        }
        const { plan, warnings } = planEcho(url.searchParams, limits, random);
        for (const w of warnings) opts.logger.log('Warning', w);
        if (plan.delayCapped) opts.logger.log('Warning', `requested delay capped to max echo delay ${formatDuration(limits.maxDelayNs)}`);
        const reply = (): void => {
          for (const [name, value] of plan.headers) {
            try {
              res.setHeader(name, value);
            } catch {
              opts.logger.log('Warning', `header=${name}:${value} is not a valid header, skipped`);
            }
          }
          if (plan.close) res.setHeader('connection', 'close');
          const payload = plan.size !== undefined ? generatedPayload(plan.size) : body;
          const contentType = plan.size !== undefined ? 'application/octet-stream' : req.headers['content-type'];
          if (contentType) res.setHeader('content-type', contentType);
          res.setHeader('content-length', String(payload.length));
          res.writeHead(plan.status);
          res.end(req.method === 'HEAD' ? undefined : payload);
          opts.logger.log('Info', `${req.method} ${req.url} ${req.socket.remoteAddress ?? ''} ${plan.status}`);
        };
        if (plan.delayNs <= 0) return reply();
        const timer = setTimeout(() => {
          pending.delete(timer);
          reply();
        }, plan.delayNs / 1e6);
        pending.add(timer);
        res.once('close', () => {
          clearTimeout(timer);
          pending.delete(timer);
        });
      },
      () => res.destroy(),
    );
  });

  await listen(server, opts.host, opts.port);
  const port = (server.address() as AddressInfo).port;
  return {
    address: { host: opts.host, port },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of pending) clearTimeout(t);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function listen(server: { listen: (port: number, host: string, cb: () => void) => unknown; once: (e: 'error', cb: (err: Error) => void) => unknown; off: (e: 'error', cb: (err: Error) => void) => unknown }, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Printable bytes, so a generated body shows readably in curl. */
function generatedPayload(size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = 0x21 + (i % 94);
  return out;
}

function debugText(req: http.IncomingMessage, body: Buffer, started: number): string {
  const uptime = formatDuration(Math.round((Date.now() - started) / 1000) * 1e9);
  const lines = [
    `Φορτίο version ${FORTIO_VERSION} (Tessera built-in) echo debug server up for ${uptime} on ${hostname()} - request from ${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? ''}`,
    '',
    `${req.method} ${req.url} HTTP/${req.httpVersion}`,
    '',
    'headers:',
    '',
  ];
  for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  lines.push('', 'body:', '', body.toString('utf8'), '');
  return lines.join('\n');
}
