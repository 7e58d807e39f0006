/**
 * The HTTP/1.1 server side of the sidecar: llhttp parses requests straight off the socket, each
 * request runs its mount point's chain, and the response is written with the framing it needs —
 * keep-alive, pipelining (answered in order), chunked and streaming bodies with backpressure both
 * ways, Expect: 100-continue, Upgrade/WebSocket tunnels and CONNECT. The chain sees only Tessera's
 * own types.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { MountPoint } from '../../api/types.js';
import { BufferBody, EMPTY_BODY } from '../http/body.js';
import { PushBody } from '../http/push-body.js';
import type { Body, HeaderMap } from '../http/types.js';
import { RequestContext, makeResponse } from '../chain/context.js';
import { rescue } from '../chain/rescue.js';
import type { Direction, HttpContext, HttpResponse } from '../chain/types.js';
import { kTunnel, type Tunnelable } from '../modules/index.js';
import type { SidecarLog } from '../observability/log.js';
import type { UpstreamClient } from '../upstream/client.js';
import { HTTPParser, MAX_HEADER_SIZE, type LlhttpParser, type OnHeadersComplete } from './llhttp.js';
import { acceptInbound, type InboundSecurity } from './mtls.js';
import { METHOD_NAMES, SocketBodySink, appendHeaderLines, headerMapFromRaw, statusHasNoBody, statusLine, type Framing } from './wire.js';

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
  /** idle timeout of a client connection */
  timeoutMs: number;
  /** inbound listeners: mTLS termination and the plaintext policy */
  security?: InboundSecurity;
}

export function createHttpEngine(opts: HttpEngineOptions): Server {
  return createServer({ noDelay: true }, (socket) => {
    acceptInbound(socket, opts.security, opts.log, (s, identity) => {
      new ServerConnection(s, opts, identity);
    });
  });
}

/** Pipelined requests queued on one connection beyond which reading pauses. */
const MAX_PIPELINED = 16;

interface Exchange {
  ctx: RequestContext;
  body: Body;
  keepAlive: boolean;
  /** the request message has been read completely */
  complete: boolean;
  /** the response has been written completely */
  responded: boolean;
  expectContinue: boolean;
}

class ServerConnection {
  private readonly parser: LlhttpParser;
  private readonly queue: Exchange[] = [];
  /** the exchange whose request bytes are being parsed */
  private parsing: Exchange | undefined;
  private partialHeaders: string[] = [];
  private partialUrl = '';
  private upgrade: { ex: Exchange; connect: boolean } | undefined;
  private closing = false;
  private closed = false;
  private paused = false;

  constructor(
    private readonly socket: Socket,
    private readonly opts: HttpEngineOptions,
    /** the peer's identity from its verified certificate, if it presented one */
    private readonly peerIdentity: string | undefined,
  ) {
    const p = new HTTPParser();
    p.initialize(HTTPParser.REQUEST, {}, MAX_HEADER_SIZE, 0);
    p[HTTPParser.kOnHeaders] = (headers: string[], url: string) => {
      for (const h of headers) this.partialHeaders.push(h);
      this.partialUrl += url;
    };
    p[HTTPParser.kOnHeadersComplete] = this.onHead as OnHeadersComplete;
    p[HTTPParser.kOnBody] = (b: Buffer) => {
      const body = this.parsing?.body;
      if (body instanceof PushBody) body.push(b);
    };
    p[HTTPParser.kOnMessageComplete] = this.onMessageComplete;
    this.parser = p;
    socket.on('data', this.onData);
    socket.on('error', () => undefined);
    socket.on('close', this.onClose);
    socket.setTimeout(opts.timeoutMs, () => socket.destroy());
  }

  private readonly onData = (chunk: Buffer): void => {
    const ret = this.parser.execute(chunk);
    if (typeof ret !== 'number') {
      this.protocolError(ret.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400, ret.reason ?? ret.message);
      return;
    }
    if (this.upgrade) {
      const { ex, connect } = this.upgrade;
      this.upgrade = undefined;
      this.detach();
      const rest = chunk.subarray(ret);
      if (connect) this.onConnectRequest(ex, rest);
      else void this.runUpgrade(ex, rest);
    }
  };

  private readonly onHead: OnHeadersComplete = (major, minor, headers, method, url, _s, _m, upgrade, shouldKeepAlive) => {
    const raw = headers ?? this.partialHeaders;
    const target = url ?? this.partialUrl;
    this.partialHeaders = [];
    this.partialUrl = '';
    const methodName = METHOD_NAMES[method ?? -1] ?? 'GET';
    const map = headerMapFromRaw(raw);
    const httpVersion = `${major}.${minor}`;
    const host = map['host'];
    if (Array.isArray(host) || (httpVersion === '1.1' && host === undefined && !(this.opts.proxy && methodName === 'CONNECT'))) {
      // RFC 9112 §3.2: exactly one Host in an HTTP/1.1 request
      this.protocolError(400, 'missing or repeated Host header');
      return 0;
    }
    const { path, authority } = this.splitTarget(methodName, target, host);
    const te = map['transfer-encoding'];
    const cl = map['content-length'];
    let body: Body = EMPTY_BODY;
    if (!upgrade) {
      if (te !== undefined) body = new PushBody(undefined, this.flow);
      else if (cl !== undefined && cl !== '0') body = new PushBody(Number(cl), this.flow);
    }
    const s = this.socket;
    const ctx = new RequestContext(
      this.opts.direction,
      this.opts.mountPoint,
      { method: methodName, path, authority, headers: map, httpVersion, rawHeaders: raw, body },
      { address: s.remoteAddress ?? '', port: s.remotePort ?? 0, identity: this.peerIdentity },
      { address: s.localAddress ?? '', port: s.localPort ?? 0 },
      upgrade,
    );
    const ex: Exchange = {
      ctx,
      body,
      keepAlive: shouldKeepAlive,
      complete: body === EMPTY_BODY,
      responded: false,
      expectContinue: httpVersion === '1.1' && typeof map['expect'] === 'string' && map['expect'].toLowerCase() === '100-continue',
    };
    if (upgrade) {
      if (this.queue.length > 0) {
        this.protocolError(400, 'Upgrade after pipelined requests');
        return 0;
      }
      this.upgrade = { ex, connect: methodName === 'CONNECT' };
      return 0;
    }
    this.parsing = ex;
    this.queue.push(ex);
    if (this.queue.length === 1) void this.run(ex);
    else if (this.queue.length > MAX_PIPELINED) this.pauseReading();
    return 0;
  };

  private readonly onMessageComplete = (): void => {
    const ex = this.parsing;
    if (!ex) return;
    this.parsing = undefined;
    ex.complete = true;
    if (ex.body instanceof PushBody) ex.body.end();
    if (ex.responded) this.next(ex);
  };

  private readonly flow = {
    pause: (): void => this.pauseReading(),
    resume: (): void => this.resumeReading(),
  };

  private pauseReading(): void {
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private resumeReading(): void {
    if (this.paused && this.queue.length <= MAX_PIPELINED) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Origin-form path and authority; an explicit proxy also receives absolute-form targets. */
  private splitTarget(method: string, url: string, host: string | string[] | undefined): { path: string; authority: string } {
    const h = typeof host === 'string' ? host : '';
    if (method === 'CONNECT') return { path: url, authority: url };
    if (this.opts.proxy && !url.startsWith('/')) {
      const m = /^http:\/\/([^/?#]*)([^#]*)/i.exec(url);
      if (m) {
        const path = m[2] || '/';
        return { authority: m[1]!, path: path.startsWith('/') ? path : `/${path}` };
      }
    }
    return { path: url, authority: h };
  }

  private async run(ex: Exchange): Promise<void> {
    if (ex.expectContinue && !this.closed) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    const ctx = ex.ctx;
    const chain = this.opts.chain();
    try {
      if (!chain) ctx.respond(503, 'sidecar has no configuration yet\n');
      else await chain(ctx);
    } catch (err) {
      this.opts.log.error('chain failed', { mountPoint: this.opts.mountPoint, error: (err as Error).stack ?? String(err) });
      rescue(ctx, err);
    }
    if (this.closed) return;
    this.writeResponse(ex, ctx.response ?? makeResponse(500, 'no response produced\n'));
  }

  private writeResponse(ex: Exchange, res: HttpResponse): void {
    const method = ex.ctx.request.method;
    let keepAlive = ex.keepAlive && !this.closing;
    const body = res.body;
    let head = statusLine(res.status);
    let framing: Framing | 'none' = 'none';
    let fixed: Buffer | undefined;
    if (method === 'HEAD' || statusHasNoBody(res.status)) {
      // a HEAD or 304 answer keeps the length the full response would have had
      const cl = res.headers['content-length'];
      if (typeof cl === 'string' && method === 'HEAD' && !statusHasNoBody(res.status)) head += `content-length: ${cl}\r\n`;
    } else if (body instanceof BufferBody) {
      fixed = body.buf;
      head += `content-length: ${fixed.length}\r\n`;
    } else if (body.empty) head += 'content-length: 0\r\n';
    else if (body.length !== undefined) {
      framing = 'length';
      head += `content-length: ${body.length}\r\n`;
    } else if (ex.ctx.request.httpVersion === '1.1') {
      framing = 'chunked';
      head += 'transfer-encoding: chunked\r\n';
    } else {
      framing = 'close';
      keepAlive = false;
    }
    try {
      head = appendHeaderLines(head, res.headers);
    } catch (err) {
      this.opts.log.error('invalid response head', { error: (err as Error).message });
      this.writeResponse(ex, makeResponse(502, 'invalid response head from upstream\n'));
      return;
    }
    head += keepAlive ? 'connection: keep-alive\r\n\r\n' : 'connection: close\r\n\r\n';
    ex.keepAlive = keepAlive;
    const s = this.socket;
    if (framing === 'none') {
      if (fixed && fixed.length > 0) {
        s.cork();
        s.write(head, 'latin1');
        s.write(fixed);
        s.uncork();
      } else s.write(head, 'latin1');
      if (!(body instanceof BufferBody) && !body.empty && body instanceof PushBody) body.discard();
      this.responded(ex);
      return;
    }
    // corked: the head and whatever body bytes are already here leave in one writev
    s.cork();
    s.write(head, 'latin1');
    const sink = new SocketBodySink(s, framing, (err) => {
      if (err) {
        // the response is half written: the only honest signal left is to close
        s.destroy();
        return;
      }
      this.responded(ex);
    });
    sink.setResume(body.pipeTo(sink));
    s.uncork();
  }

  private responded(ex: Exchange): void {
    ex.responded = true;
    if (!ex.keepAlive) {
      this.closing = true;
      this.socket.end();
      return;
    }
    if (!ex.complete) {
      // answered before the request body finished (e.g. a 401): read and drop the rest
      if (ex.body instanceof PushBody) ex.body.discard();
      return;
    }
    this.next(ex);
  }

  private next(ex: Exchange): void {
    if (this.queue[0] !== ex) return;
    this.queue.shift();
    const following = this.queue[0];
    if (following) void this.run(following);
    this.resumeReading();
  }

  private protocolError(status: number, reason: string): void {
    this.closing = true;
    this.opts.log.warn('bad request', { status, reason, source: this.socket.remoteAddress });
    if (this.queue.length > 0) {
      // let the requests already accepted finish, then close
      this.socket.removeListener('data', this.onData);
      return;
    }
    this.socket.end(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    this.socket.removeListener('data', this.onData);
  }

  /** Hands the socket over (Upgrade, CONNECT): no more HTTP parsing on it. */
  private detach(): void {
    this.socket.removeListener('data', this.onData);
    this.socket.removeListener('close', this.onClose);
    this.socket.setTimeout(0);
    this.parser.remove?.();
  }

  private onConnectRequest(ex: Exchange, rest: Buffer): void {
    const s = this.socket;
    if (!this.opts.onConnect) {
      s.end('HTTP/1.1 405 Method Not Allowed\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.opts.onConnect(ex.ctx.request.path, s, rest, { address: s.remoteAddress ?? '', port: s.remotePort ?? 0 });
  }

  private async runUpgrade(ex: Exchange, rest: Buffer): Promise<void> {
    const s = this.socket;
    const ctx = ex.ctx;
    (ctx as RequestContext & Tunnelable)[kTunnel] = async (endpoint, identities) => {
      const upstream = await this.opts.upstream.openTunnel(endpoint, ctx.request, identities);
      if (rest.length > 0) upstream.write(rest);
      s.on('error', () => upstream.destroy());
      upstream.on('error', () => s.destroy());
      s.pipe(upstream).pipe(s);
    };
    const chain = this.opts.chain();
    try {
      if (!chain) ctx.respond(503, 'sidecar has no configuration yet\n');
      else await chain(ctx);
    } catch (err) {
      rescue(ctx, err);
    }
    if (ctx.upstream && !ctx.response) return; // tunnelled
    const r = ctx.response ?? makeResponse(502, 'upgrade failed\n');
    const buf = r.body instanceof BufferBody ? r.body.buf : Buffer.alloc(0);
    let head = statusLine(r.status);
    try {
      head = appendHeaderLines(head, r.headers as HeaderMap);
    } catch {
      head = statusLine(502);
    }
    s.end(Buffer.concat([Buffer.from(`${head}content-length: ${buf.length}\r\nconnection: close\r\n\r\n`, 'latin1'), buf]));
  }

  private readonly onClose = (): void => {
    this.closed = true;
    const aborted = new Error('client connection closed');
    for (const ex of this.queue) if (ex.body instanceof PushBody && !ex.complete) ex.body.fail(aborted);
    this.queue.length = 0;
    this.parser.free?.();
  };
}
