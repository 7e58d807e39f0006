/**
 * The dashboard's HTTP server (node:http, loopback only): the page's bundle, the state as JSON, and
 * the state and each refusal pushed as Server-Sent Events. Every answer but /login needs this run's
 * token (src/dashboard/auth); every request must name the bound address as its Host.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allowedHosts, authenticated, hostAllowed, sessionCookie, tokenMatches } from '../auth/index.js';
import type { DashboardState, Decision, EdgeSeries } from '../model.js';

/** What the server serves; the collector is one. */
export interface StateSource {
  readonly state: DashboardState;
  series(edgeId: string): EdgeSeries | undefined;
  onState(fn: (s: DashboardState) => void): () => void;
  onDecision(fn: (d: Decision) => void): () => void;
}

export interface DashboardServerOptions {
  address: string;
  /** 0: any free port */
  port: number;
  token: string;
  source: StateSource;
  /** where the page's bundle is; default dist/src/dashboard/ui-bundle beside this module */
  bundleDir?: string;
  heartbeatMs?: number;
  /** bytes an event stream may have queued before the client counts as too slow and is dropped */
  maxQueuedBytes?: number;
}

export interface DashboardServer {
  port: number;
  /** the URL to open, with the token */
  loginUrl: string;
  close(): Promise<void>;
}

export const DEFAULT_BUNDLE_DIR = fileURLToPath(new URL('../ui-bundle/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Scripts only from the bundle; styles may be set inline (the graph and chart libraries position
 * their elements with style attributes); nothing from elsewhere, no framing.
 */
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const COMMON_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...COMMON_HEADERS, 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

const error = (res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void =>
  sendJson(res, status, { error: message, code }, extra);

export async function startDashboardServer(opts: DashboardServerOptions): Promise<DashboardServer> {
  const bundleDir = resolve(opts.bundleDir ?? DEFAULT_BUNDLE_DIR);
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const maxQueued = opts.maxQueuedBytes ?? 4 * 1024 * 1024;
  const streams = new Set<ServerResponse>();
  let hosts = new Set<string>();

  const broadcast = (event: string, data: unknown): void => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of streams) {
      // a client that does not read would make us hold every state we ever sent
      if (res.writableLength > maxQueued) {
        res.destroy();
        streams.delete(res);
        continue;
      }
      res.write(frame);
    }
  };
  const offState = opts.source.onState((s) => broadcast('state', s));
  const offDecision = opts.source.onDecision((d) => broadcast('decision', d));
  const heartbeat = setInterval(() => {
    for (const res of streams) res.write(': heartbeat\n\n');
  }, heartbeatMs);
  heartbeat.unref();

  const events = (res: ServerResponse): void => {
    res.writeHead(200, { ...COMMON_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(`retry: 2000\n\nevent: state\ndata: ${JSON.stringify(opts.source.state)}\n\n`);
    streams.add(res);
    const drop = (): void => void streams.delete(res);
    res.on('close', drop);
    res.on('error', drop);
  };

  const serveFile = (req: IncomingMessage, res: ServerResponse, path: string): void => {
    const rel = path === '/' ? 'index.html' : decodeURIComponent(path.slice(1));
    const file = resolve(join(bundleDir, rel));
    if (!file.startsWith(bundleDir + sep)) return error(res, 404, 'not_found', `no such file: ${path}`);
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) return error(res, 404, 'not_found', `no such file: ${path}`);
      size = st.size;
    } catch {
      try {
        statSync(join(bundleDir, 'index.html'));
      } catch {
        return error(res, 503, 'bundle_missing', `the dashboard page is not built: ${join(bundleDir, 'index.html')} is missing (run \`npm run build\`)`);
      }
      return error(res, 404, 'not_found', `no such file: ${path}`);
    }
    res.writeHead(200, { ...COMMON_HEADERS, 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': size, 'cache-control': 'no-cache' });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (!hostAllowed(req.headers.host, hosts)) return error(res, 403, 'bad_host', 'this dashboard answers only to its loopback address (Host header refused)');
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    if (req.method !== 'GET' && req.method !== 'HEAD') return error(res, 405, 'method_not_allowed', `${req.method} is not allowed: the dashboard is read-only`, { allow: 'GET, HEAD' });
    if (url.pathname === '/login') {
      const given = url.searchParams.get('token') ?? undefined;
      if (!tokenMatches(given, opts.token)) return error(res, 401, 'unauthorized', 'the login link is not this run\'s: use the URL `tessera dashboard` printed');
      res.writeHead(303, { ...COMMON_HEADERS, location: '/', 'set-cookie': sessionCookie(opts.token), 'cache-control': 'no-store', 'content-length': 0 });
      return void res.end();
    }
    if (!authenticated(req.headers, opts.token)) {
      return error(res, 401, 'unauthorized', 'not signed in: open the login URL `tessera dashboard` printed, or send Authorization: Bearer <token>', { 'www-authenticate': 'Bearer realm="tessera-dashboard"' });
    }
    if (url.pathname === '/api/state') return sendJson(res, 200, opts.source.state);
    if (url.pathname === '/api/events') return events(res);
    const series = /^\/api\/edges\/([^/]+)\/series$/.exec(url.pathname);
    if (series) {
      let id: string;
      try {
        id = decodeURIComponent(series[1]!);
      } catch {
        return error(res, 400, 'bad_edge_id', 'the edge id is not valid URI encoding');
      }
      const s = opts.source.series(id);
      return s ? sendJson(res, 200, s) : error(res, 404, 'no_such_edge', `no traffic seen on edge ${JSON.stringify(id)} in the last 15 minutes`);
    }
    if (url.pathname.startsWith('/api/')) return error(res, 404, 'not_found', `no such API: ${url.pathname}`);
    try {
      return serveFile(req, res, url.pathname);
    } catch {
      return error(res, 400, 'bad_path', 'the path is not valid URI encoding');
    }
  };

  const server: Server = createServer(handle);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port, opts.address, () => {
      server.off('error', fail);
      ok();
    });
  });
  const port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(opts.address, port);
  const literal = opts.address.includes(':') ? `[${opts.address}]` : opts.address;
  return {
    port,
    loginUrl: `http://${literal}:${port}/login?token=${opts.token}`,
    close: async () => {
      offState();
      offDecision();
      clearInterval(heartbeat);
      for (const res of streams) res.end();
      streams.clear();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
