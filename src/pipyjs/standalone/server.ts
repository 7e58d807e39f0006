/**
 * listen(port) for standalone scripts: an HTTP server per listen() whose pipeline is onStart…
 * then demuxHTTP().to(layout) (a cloned context per request) or serveHTTP(handler). The first
 * message out is the response; a StreamEnd closes the connection (the client sees an empty
 * reply); nothing out leaves the request hanging, as in Pipy. One access line per request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Codebase } from '../codebase.js';
import type { ListenSpec } from '../configuration.js';
import { Context, WaitGroup, invoke } from '../context.js';
import { Data } from '../data.js';
import { PipyLoadError } from '../errors.js';
import { encodeResponseHead, requestHead } from '../http-head.js';
import { runLayout, fail } from '../layout.js';
import { Message, StreamEnd, isThenable, type Output } from '../message.js';
import type { PipyModule } from '../module.js';
import type { Run } from '../runtime-types.js';

export interface ServeOptions {
  /** where a wildcard or bare-port listen() binds (the pod's app address) */
  bindHost: string;
  /** one line per request, in the style of an access log */
  access(line: string): void;
}

export async function serveListen(codebase: Codebase, m: PipyModule, spec: ListenSpec, opts: ServeOptions): Promise<Server> {
  const layout = codebase.listenLayout(m, spec.layout);
  const server = spec.layout.filters.find((f) => f.kind === 'demuxHTTP' || f.kind === 'serveHTTP');
  if (!server || layout.filters.length > 0) {
    throw new PipyLoadError(`${m.filename}: listen(${spec.port}) supports onStart() then demuxHTTP().to(...) or serveHTTP(...)`);
  }
  const host = codebase.host;
  const handle: (msg: Message, run: Run) => Output | Promise<Output> =
    server.kind === 'demuxHTTP'
      ? (() => {
          const sub = codebase.listenLayout(m, toSpec(server.to, m));
          return (msg, run) => runLayout(sub, msg, { ...run, ctx: run.ctx.clone(new WaitGroup()) });
        })()
      : serveHandler(server.args[0]);
  const contexts = new WeakMap<Socket, Context>();
  const http = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    res.sendDate = false;
    let ctx = contexts.get(req.socket);
    if (!ctx) {
      ctx = new Context(new WaitGroup(), [], inboundOf(req.socket));
      contexts.set(req.socket, ctx);
      for (const s of layout.starts) if (typeof s === 'function') invoke(ctx, s as () => unknown);
    }
    const run: Run = { ctx, rest: null, module: m, host };
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const msg = new Message(requestHead(req.method ?? 'GET', req.url ?? '/', req.httpVersion, req.rawHeaders), new Data(Buffer.concat(chunks)));
      let out: Output | Promise<Output>;
      try {
        out = handle(msg, run);
      } catch (err) {
        out = fail(run, err, 'request');
      }
      if (isThenable(out)) (out as Promise<Output>).then((o) => respond(req, res, o, opts), (err) => respond(req, res, fail(run, err, 'request'), opts));
      else respond(req, res, out, opts);
    });
  });
  const bindHost = spec.host === undefined || ['0.0.0.0', '::', ''].includes(spec.host) ? opts.bindHost : spec.host;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(spec.port, bindHost, () => {
      http.off('error', reject);
      resolve();
    });
  });
  return http;
}

function toSpec(ref: unknown, m: PipyModule): import('../configuration.js').LayoutSpec {
  if (typeof ref === 'string') {
    const s = m.config?.named.get(ref);
    if (!s) throw new PipyLoadError(`${m.filename}: demuxHTTP: no pipeline named '${ref}'`);
    return s;
  }
  if (!ref) throw new PipyLoadError(`${m.filename}: demuxHTTP() has no sub-pipeline (missing .to())`);
  return ref as import('../configuration.js').LayoutSpec;
}

/** serveHTTP(handler): a static Message (the same object every time) or req => Message | Promise. */
function serveHandler(handler: unknown): (msg: Message, run: Run) => Output | Promise<Output> {
  if (typeof handler !== 'function') {
    const fixed = handler instanceof Message || handler instanceof StreamEnd ? handler : new Message(handler);
    return () => fixed;
  }
  const fn = handler as (msg: Message) => unknown;
  return (msg, run) => {
    const r = invoke(run.ctx, fn, msg);
    const norm = (v: unknown): Output => (v instanceof Message || v instanceof StreamEnd ? v : v === undefined || v === null ? null : new Message(v));
    return isThenable(r) ? Promise.resolve(r).then(norm) : norm(r);
  };
}

function respond(req: IncomingMessage, res: ServerResponse, out: Output, opts: ServeOptions): void {
  if (out === null) return; // nothing came out: the client is left waiting, as in Pipy
  if (out instanceof StreamEnd) {
    req.socket.destroy();
    opts.access(accessLine(req, 0, 0));
    return;
  }
  const body = out.pending ? Buffer.alloc(0) : out.body?.toBuffer() ?? Buffer.alloc(0);
  const head = encodeResponseHead(out.head, body.length);
  res.writeHead(head.status, head.statusText, head.headers.flat() as unknown as Record<string, string>);
  res.end(req.method === 'HEAD' ? undefined : body);
  opts.access(accessLine(req, head.status, body.length));
}

function inboundOf(socket: Socket): Record<string, unknown> {
  return {
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
    localAddress: socket.localAddress,
    localPort: socket.localPort,
    destinationAddress: socket.localAddress,
    destinationPort: socket.localPort,
  };
}

/** `addr - - [date] "METHOD path HTTP/1.1" status size "-" "user-agent"` */
function accessLine(req: IncomingMessage, status: number, size: number): string {
  const ua = req.headers['user-agent'] ?? '-';
  return `${req.socket.remoteAddress ?? '-'} - - [${new Date().toISOString()}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${status} ${size} "-" "${ua}"`;
}
