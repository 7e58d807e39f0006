/**
 * The HTTP/1.1 server side of the sidecar: llhttp parses requests straight off the socket, each
 * request runs its mount point's chain, and the response is written with the framing it needs —
 * keep-alive, pipelining (answered in order), chunked and streaming bodies with backpressure both
 * ways, Expect: 100-continue, Upgrade/WebSocket tunnels and CONNECT. The chain sees only Tessera's
 * own types.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { MountPoint } from '../../api/types.js';
import { BufferBody, EMPTY_BODY } from '../http/body.js';
import { PushBody } from '../http/push-body.js';
import type { Body } from '../http/types.js';
import { RequestContext, makeResponse } from '../chain/context.js';
import { rescue } from '../chain/rescue.js';
import type { Direction, HttpContext, HttpResponse, Peer } from '../chain/types.js';
import { kTunnel, type Tunnelable } from '../modules/index.js';
import type { SidecarLog } from '../observability/log.js';
import type { UpstreamClient } from '../upstream/client.js';
import { HTTPParser, MAX_HEADER_SIZE, type LlhttpParser, type OnHeadersComplete } from './llhttp.js';
import { acceptInbound, verifiedServerName, type InboundSecurity } from './mtls.js';
import { METHOD_NAMES, SMALL_BODY, SocketBodySink, appendHeaderLines, headerMapFromRaw, receiveRequestConnection, statusHasNoBody, statusLine, writeWhole, type Framing } from './wire.js';
import { checkHead, stripH2c } from './framing.js';
import { loadH2, startsWithH2Preface } from './h2-sniff.js';
import { resolveTarget } from './target.js';
import type { PathNormalization } from './normalize.js';

export interface HttpEngineOptions {
  direction: Direction;
  mountPoint: MountPoint;
  /** the chain to run, read per request so a snapshot swap takes effect at once */
  chain: () => ((ctx: HttpContext) => Promise<void>) | undefined;
  /** outbound explicit proxy: CONNECT, and `http` only in absolute-form targets */
  proxy: boolean;
  /** MeshConfig path normalization, read per request like `chain` (absent: the default) */
  pathNormalization?: () => PathNormalization;
  /** CONNECT handler (outbound proxy only) */
  onConnect?: (authority: string, socket: Socket, head: Buffer, source: { address: string; port: number }) => void;
  upstream: UpstreamClient;
  log: SidecarLog;
  /** idle timeout of a client connection */
  timeoutMs: number;
  /** inbound listeners: mTLS termination and the plaintext policy */
  security?: InboundSecurity;
}

export function createHttpEngine(opts: HttpEngineOptions): Server {
  return createServer({ noDelay: true }, (socket) => {
    acceptInbound(socket, opts.security, opts.log, (s, identity) => serveConnection(s, opts, identity), true);
  });
}

/** Hands a socket to the HTTP/2 engine, loading it on first use; the socket waits paused meanwhile. */
function serveH2(s: Socket, opts: HttpEngineOptions, identity: string | undefined): void {
  s.setTimeout(0);
  loadH2().then(
    (h2) => {
      if (!s.destroyed) h2.serveH2(s, opts, identity);
    },
    (err: Error) => {
      opts.log.error('HTTP/2 engine failed to load', { error: err.message });
      s.destroy();
    },
  );
}

/**
 * HTTP/2 beside HTTP/1.1 on one listener: over TLS the ALPN choice says which (the mesh offers `h2`
 * and `http/1.1`); in cleartext the first bytes do (the h2c prior-knowledge preface, `PRI * HTTP/2.0`).
 */
function serveConnection(s: Socket, opts: HttpEngineOptions, identity: string | undefined): void {
  if (s instanceof TLSSocket) {
    if (s.alpnProtocol === 'h2') serveH2(s, opts, identity);
    else new ServerConnection(s, opts, identity);
    return;
  }
  s.setTimeout(opts.timeoutMs, () => s.destroy());
  s.once('data', (first: Buffer) => {
    s.pause();
    s.unshift(first);
    if (startsWithH2Preface(first)) {
      // the session reads what the socket holds itself
      serveH2(s, opts, identity);
      return;
    }
    new ServerConnection(s, opts, identity);
    s.resume();
  });
}

/**
 * Serves the HTTP/1.x a client sends inside a CONNECT tunnel (docs/security.md "Tunnels") as the
 * outbound proxy serves it in the open: the same engine and chain, the client's socket as the
 * connection (so the source is the same workload). Each request must be for the tunnel's
 * destination (`authority`, canonical `host:port`): a Host naming another one is refused with 421,
 * a request without Host goes to it, and a CONNECT inside the tunnel is refused with 403.
 * What the tunnel carried before this call must have been put back with `socket.unshift`.
 */
export function serveTunnelledHttp(socket: Socket, opts: HttpEngineOptions, authority: string): void {
  new ServerConnection(socket, opts, undefined, authority);
  socket.resume();
}

/**
 * Whether a request's authority names the tunnel's destination: the same host and port, a Host
 * without a port standing for port 80 (`curl -p` sends `Host: h` through `CONNECT h:80`).
 */
export function sameDestination(authority: string, tunnel: string): boolean {
  if (authority === tunnel) return true;
  const split = (a: string): [string, string] => {
    const colon = a.lastIndexOf(':');
    return colon > a.lastIndexOf(']') ? [a.slice(0, colon), a.slice(colon + 1)] : [a, '80'];
  };
  const [h1, p1] = split(authority);
  const [h2, p2] = split(tunnel);
  return h1 === h2 && Number(p1) === Number(p2);
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
  /** its chain has been started (only after the bytes that carried its head parsed cleanly) */
  started: boolean;
}

/** Why the head being parsed was refused; reported once llhttp returns the callback error. */
interface Refusal {
  status: number;
  reason: string;
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
  private refused: Refusal | undefined;
  /** fixed by the handshake, so read once per connection rather than per request */
  private readonly serverName: string | undefined;
  /** the connection's two ends, the same for all its requests: shared by them, frozen */
  private readonly source: Peer;
  private readonly local: { readonly address: string; readonly port: number };

  constructor(
    private readonly socket: Socket,
    private readonly opts: HttpEngineOptions,
    /** the peer's identity from its verified certificate, if it presented one */
    peerIdentity: string | undefined,
    /** inside a CONNECT tunnel: its destination, the one every request here must be for */
    private readonly tunnel?: string,
  ) {
    this.serverName = verifiedServerName(socket);
    this.source = Object.freeze({ address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, identity: peerIdentity, sni: this.serverName });
    this.local = Object.freeze({ address: socket.localAddress ?? '', port: socket.localPort ?? 0 });
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
    let data = chunk;
    for (;;) {
      const ret = this.parser.execute(data);
      // llhttp ignores the head callback's -1 for Upgrade and CONNECT messages: check `refused` too
      if (this.refused) {
        this.framingError(this.refused);
        return;
      }
      if (typeof ret !== 'number') {
        this.framingError({ status: ret.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400, reason: ret.reason ?? ret.message });
        return;
      }
      if (this.upgrade) {
        const { ex, connect } = this.upgrade;
        this.upgrade = undefined;
        this.detach();
        const rest = data.subarray(ret);
        if (connect) {
          this.socket.setTimeout(0);
          this.onConnectRequest(ex, rest);
        } else void this.runUpgrade(ex, rest);
        return;
      }
      // llhttp stops after a message it saw as an Upgrade (an h2c request served as HTTP/1.1): go on
      if (ret > 0 && ret < data.length && !this.closing) data = data.subarray(ret);
      else break;
    }
    const first = this.queue[0];
    if (first && !first.started) this.start(first);
  };

  /** Refuses the head being parsed: llhttp then fails with a callback error and onData closes. */
  private refuse(status: number, reason: string): number {
    this.refused = { status, reason };
    return -1;
  }

  /**
   * security-rules.md §11 rule 8: a framing error closes the connection. The request it hit never
   * runs (llhttp reports some errors, e.g. `Transfer-Encoding: identity` or a bad chunk, after the
   * head callback), or, already streaming, has its body failed; complete requests before it are answered.
   */
  private framingError(why: Refusal): void {
    this.refused = undefined;
    this.upgrade = undefined;
    const ex = this.parsing;
    this.parsing = undefined;
    if (ex && !ex.complete) {
      if (ex.started) {
        if (ex.body instanceof PushBody) ex.body.fail(new Error('request framing error'));
      } else this.queue.splice(this.queue.indexOf(ex), 1);
    }
    this.protocolError(why.status, why.reason);
    const first = this.queue[0];
    if (first && !first.started) this.start(first);
  }

  private start(ex: Exchange): void {
    ex.started = true;
    void this.run(ex);
  }

  private readonly onHead: OnHeadersComplete = (major, minor, headers, method, url, _s, _m, upgrade, shouldKeepAlive) => {
    const raw = headers ?? this.partialHeaders;
    const target = url ?? this.partialUrl;
    this.partialHeaders = [];
    this.partialUrl = '';
    const methodName = METHOD_NAMES[method ?? -1] ?? 'GET';
    const map = headerMapFromRaw(raw);
    const httpVersion = major === 1 && minor === 1 ? '1.1' : `${major}.${minor}`;
    // a tunnel reaches one destination and opens no other tunnel (docs/security.md "Tunnels")
    if (this.tunnel !== undefined && methodName === 'CONNECT') return this.refuse(403, 'CONNECT inside a CONNECT tunnel');
    // security-rules.md §5: what llhttp lets through (Host, versions, TE codings, `_` names, …)
    const bad = checkHead(major, minor, raw, map, this.opts.proxy && methodName === 'CONNECT');
    if (bad) return this.refuse(bad.status, bad.reason);
    const host = map['host'] as string | undefined;
    // §11 rule 1: the target normalized once; this path is matched, routed and forwarded
    const resolved = resolveTarget(methodName, target, host, this.opts.proxy, this.opts.pathNormalization?.());
    if ('status' in resolved) return this.refuse(resolved.status, resolved.reason);
    const path = resolved.path;
    let authority = resolved.authority;
    if (this.tunnel !== undefined) {
      if (authority === '') authority = this.tunnel;
      else if (!sameDestination(authority, this.tunnel)) return this.refuse(421, `request for ${authority} inside a tunnel to ${this.tunnel}`);
    }
    // one spelling of the authority for every consumer (lower case; the absolute-form one wins, §5)
    // (an HTTP/1.0 absolute-form request without Host gets one: the name it was sent to; in a
    // CONNECT tunnel, the tunnel's destination)
    if (host !== undefined ? host !== authority : this.tunnel !== undefined || (authority !== '' && methodName !== 'CONNECT')) map['host'] = authority;
    const te = map['transfer-encoding'];
    const cl = map['content-length'];
    // §5: h2c is never tunnelled; the request is served as plain HTTP/1.1
    if (upgrade && methodName !== 'CONNECT' && stripH2c(map)) upgrade = false;
    else if (!upgrade) stripH2c(map);
    else if (methodName !== 'CONNECT' && (te !== undefined || (cl !== undefined && cl !== '0'))) {
      // An Upgrade with a body: served as plain HTTP/1.1 too (RFC 9110 §7.8 lets a server ignore
      // Upgrade), so its body is framed, authorized and forwarded like any other; llhttp stops after
      // the message and onData goes on parsing what follows.
      delete map['upgrade'];
      upgrade = false;
    }
    // §5: the headers Connection nominates are hop-by-hop from here on (readable, never forwarded as received)
    receiveRequestConnection(map);
    let body: Body = EMPTY_BODY;
    if (!upgrade) {
      if (te !== undefined) body = new PushBody(undefined, this.flow);
      else if (cl !== undefined && cl !== '0') body = new PushBody(Number(cl), this.flow);
    }
    const ctx = new RequestContext(
      this.opts.direction,
      this.opts.mountPoint,
      { method: methodName, path, authority, headers: map, httpVersion, rawHeaders: raw, body },
      this.source,
      this.local,
      upgrade,
    );
    const ex: Exchange = {
      ctx,
      body,
      keepAlive: shouldKeepAlive,
      complete: body === EMPTY_BODY,
      responded: false,
      expectContinue: httpVersion === '1.1' && typeof map['expect'] === 'string' && map['expect'].toLowerCase() === '100-continue',
      started: false,
    };
    if (upgrade) {
      if (this.queue.length > 0) return this.refuse(400, 'Upgrade after pipelined requests');
      this.upgrade = { ex, connect: methodName === 'CONNECT' };
      return 0;
    }
    this.parsing = ex;
    this.queue.push(ex);
    // started by onData once these bytes parsed cleanly (or by next() when its turn comes)
    if (this.queue.length > MAX_PIPELINED) this.pauseReading();
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

  private async run(ex: Exchange): Promise<void> {
    if (ex.expectContinue && !this.closed) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    const ctx = ex.ctx;
    // runChain inlined: one async frame per request fewer
    const chain = this.opts.chain();
    try {
      if (!chain) ctx.respond(503, 'sidecar has no configuration yet\n');
      else await chain(ctx);
    } catch (err) {
      this.chainFailed(ctx, err);
    }
    if (this.closed) return;
    this.writeResponse(ex, ctx.response ?? makeResponse(500, 'no response produced\n'));
  }

  /** The mount point's current chain on `ctx`; a chain that throws is logged and rescued into a response. */
  private async runChain(ctx: RequestContext): Promise<void> {
    const chain = this.opts.chain();
    try {
      if (!chain) ctx.respond(503, 'sidecar has no configuration yet\n');
      else await chain(ctx);
    } catch (err) {
      this.chainFailed(ctx, err);
    }
  }

  private chainFailed(ctx: RequestContext, err: unknown): void {
    this.opts.log.error('chain failed', { mountPoint: this.opts.mountPoint, error: (err as Error).stack ?? String(err) });
    rescue(ctx, err);
  }

  private writeResponse(ex: Exchange, res: HttpResponse): void {
    const method = ex.ctx.request.method;
    let keepAlive = ex.keepAlive && !this.lastBeforeClose(ex);
    const body = res.body;
    let head = statusLine(res.status);
    let framing: Framing | 'none' = 'none';
    let fixed: Buffer | readonly Buffer[] | undefined;
    let arrived: readonly Buffer[] | undefined;
    if (method === 'HEAD' || statusHasNoBody(res.status)) {
      // a HEAD or 304 answer keeps the length the full response would have had
      const cl = res.headers['content-length'];
      if (typeof cl === 'string' && method === 'HEAD' && !statusHasNoBody(res.status)) head += `content-length: ${cl}\r\n`;
    } else if (body instanceof BufferBody) {
      fixed = body.buf;
      head += `content-length: ${fixed.length}\r\n`;
    } else if (body.empty) head += 'content-length: 0\r\n';
    else if (body instanceof PushBody && body.length !== undefined && (arrived = body.takeArrived(SMALL_BODY)) !== undefined) {
      // the usual proxied answer: a small body that arrived with its head, sent with it in one write
      fixed = arrived;
      head += `content-length: ${body.length}\r\n`;
    } else if (body.length !== undefined) {
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
      writeWhole(s, head, fixed);
      if (body instanceof PushBody && arrived === undefined) body.discard();
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
    if (!ex.keepAlive || this.lastBeforeClose(ex)) {
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

  /** After a framing error the connection closes once the requests accepted before it are answered. */
  private lastBeforeClose(ex: Exchange): boolean {
    return this.closing && this.queue[this.queue.length - 1] === ex;
  }

  private next(ex: Exchange): void {
    if (this.queue[0] !== ex) return;
    this.queue.shift();
    const following = this.queue[0];
    if (following && !following.started) this.start(following);
    this.resumeReading();
  }

  private protocolError(status: number, reason: string): void {
    this.closing = true;
    this.opts.log.warn('bad request', { status, reason, source: this.socket.remoteAddress });
    this.socket.removeListener('data', this.onData);
    // requests already accepted finish (their last response says close), then the connection closes
    if (this.queue.some((ex) => !ex.responded)) return;
    if (this.queue.length > 0) {
      // answered already, its body cut short: nothing more to say
      this.queue.length = 0;
      this.socket.end();
      return;
    }
    this.socket.end(`${statusLine(status)}connection: close\r\ncontent-length: 0\r\n\r\n`, 'latin1');
  }

  /**
   * Hands the socket over (Upgrade, CONNECT): no more HTTP parsing on it. Reading pauses, so the
   * client's bytes after the head wait in the socket (bounded: its buffer, then TCP flow control)
   * until whoever takes the socket over pipes it, instead of being read with no listener and lost.
   */
  private detach(): void {
    this.socket.removeListener('data', this.onData);
    this.socket.removeListener('close', this.onClose);
    this.socket.pause();
    this.parser.remove?.();
  }

  private onConnectRequest(ex: Exchange, rest: Buffer): void {
    const s = this.socket;
    // The socket is paused (detach); the TCP chain pipes it once the upstream is connected (and the
    // proxy answered 200), which resumes it. When the CONNECT is refused instead (an answer, then
    // end()), nobody reads it: drain it then, or the client's FIN is never read and it never closes.
    s.once('finish', () => {
      if (s.listenerCount('data') === 0) s.resume();
    });
    if (!this.opts.onConnect) {
      s.end('HTTP/1.1 405 Method Not Allowed\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.opts.onConnect(ex.ctx.request.path, s, rest, { address: s.remoteAddress ?? '', port: s.remotePort ?? 0 });
  }

  /**
   * An Upgrade request (WebSocket): its chain runs like any request's, and the forwarder asks the
   * upstream through the tunnel hook. §11 rule 8: the connection becomes a tunnel only once the
   * upstream answered `101 Switching Protocols`. Until then the client's bytes after the head (`rest`,
   * and what the paused socket holds) go nowhere; after a 101 they follow it, in order.
   *
   * Any other answer (a 200 from an app that does not speak the protocol, a 4xx, the chain's own
   * 401/403/503) is sent to the client with `connection: close`, the held bytes are discarded and the
   * connection closes: whatever the client sends next was meant for a tunnel that does not exist,
   * and relaying it would skip authentication and authorization. (Resuming HTTP parsing on the
   * connection would be correct too; closing is the simplest behaviour that is safe.)
   */
  private async runUpgrade(ex: Exchange, rest: Buffer): Promise<void> {
    const s = this.socket;
    const ctx = ex.ctx;
    let tunnelled = false;
    (ctx as RequestContext & Tunnelable)[kTunnel] = async (endpoint, identities) => {
      const r = await this.opts.upstream.openTunnel(endpoint, ctx.request, identities);
      const upstream = r.socket;
      if (s.destroyed) {
        upstream.destroy();
        return;
      }
      s.once('close', () => upstream.destroy());
      if (!r.switched) {
        ctx.response = r.response;
        return;
      }
      tunnelled = true;
      s.setTimeout(0);
      s.write(r.head, 'latin1');
      if (r.rest.length > 0) s.write(r.rest);
      if (rest.length > 0) upstream.write(rest);
      s.on('error', () => upstream.destroy());
      upstream.on('error', () => s.destroy());
      // resumes the client socket: what it held since the Upgrade head follows `rest`
      s.pipe(upstream).pipe(s);
    };
    await this.runChain(ctx);
    if (tunnelled) return;
    const res = ctx.response ?? makeResponse(502, 'upgrade failed\n');
    if (s.destroyed) {
      if (res.body instanceof PushBody) res.body.discard();
      return;
    }
    // no tunnel: drop what the client sent after the head (flowing with no listener), answer, close
    s.resume();
    ex.keepAlive = false;
    this.writeResponse(ex, res);
  }

  private readonly onClose = (): void => {
    this.closed = true;
    const aborted = new Error('client connection closed');
    for (const ex of this.queue) if (ex.body instanceof PushBody && !ex.complete) ex.body.fail(aborted);
    this.queue.length = 0;
    this.parser.free?.();
  };
}
