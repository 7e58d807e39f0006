/**
 * HTTP/2 on the sidecar's listeners and towards upstreams, with node:http2. A connection is HTTP/2
 * when it starts with the prior-knowledge preface (h2c, cleartext) or negotiated `h2` by ALPN in the
 * mesh's mTLS handshake; either way each stream becomes one request on the same chain HTTP/1.1
 * requests run (the chain sees Tessera's own types, never node:http2's), so routes, policies,
 * plugins and JWT authentication apply unchanged. Bodies stream both ways with backpressure and
 * trailer fields (gRPC's `grpc-status`, `grpc-message`) are carried through.
 *
 * Loaded on first use (h2-sniff.ts decides): node:http2 costs a sidecar about 4.5 MB RSS, paid only
 * by sidecars that see HTTP/2.
 */
import { connect as netConnect, type Socket } from 'node:net';
import {
  connect as h2Connect,
  constants,
  performServerHandshake,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { MeshError } from '../../lib/errors.js';
import { EMPTY_BODY } from '../http/body.js';
import { PushBody } from '../http/push-body.js';
import type { Body, BodySink, HeaderMap, RequestHead } from '../http/types.js';
import { RequestContext, makeResponse } from '../chain/context.js';
import { rescue } from '../chain/rescue.js';
import type { HttpResponse } from '../chain/types.js';
import { verifiedServerName } from './mtls.js';
import type { HttpEngineOptions } from './server.js';
import { resolveTarget } from './target.js';
import { MAX_HEADER_SIZE } from './llhttp.js';

/** Connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2), and framing HTTP/2 does itself. */
const NOT_FORWARDED_H2 = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'expect', 'http2-settings']);

/** Streams one client connection may have open at once. */
const MAX_STREAMS = 256;

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_REFUSED_STREAM } = constants;

/** The header map the chain sees: pseudo-headers dropped, cookies joined as HTTP/1.1 carries them. */
function headerMapFromH2(h: IncomingHttpHeaders): HeaderMap {
  const out: HeaderMap = {};
  for (const name in h) {
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    const v = h[name];
    if (v === undefined) continue;
    out[name] = name === 'cookie' && Array.isArray(v) ? v.join('; ') : v;
  }
  return out;
}

function outgoingFields(h: HeaderMap, into: OutgoingHttpHeaders): OutgoingHttpHeaders {
  for (const name in h) {
    if (NOT_FORWARDED_H2.has(name) || name.charCodeAt(0) === 58) continue;
    const v = h[name];
    if (v !== undefined) into[name] = v;
  }
  return into;
}

/** Writes a body into an HTTP/2 stream; trailers are kept for the stream's `wantTrailers`. */
class StreamSink implements BodySink {
  fields: HeaderMap | undefined;
  private resume: (() => void) | undefined;
  constructor(private readonly stream: ServerHttp2Stream | ClientHttp2Stream, private readonly onError: (err: Error) => void) {
    stream.on('drain', () => this.resume?.());
  }
  setResume(r: () => void): void {
    this.resume = r;
  }
  write(chunk: Buffer): boolean {
    if (this.stream.destroyed) return true;
    return this.stream.write(chunk);
  }
  trailers(fields: HeaderMap): void {
    this.fields = fields;
  }
  end(): void {
    if (!this.stream.destroyed) this.stream.end();
  }
  error(err: Error): void {
    this.onError(err);
  }
}

function sendTrailers(stream: ServerHttp2Stream | ClientHttp2Stream, sink: StreamSink): void {
  try {
    stream.sendTrailers(sink.fields ? outgoingFields(sink.fields, {}) : {});
  } catch {
    stream.close(NGHTTP2_INTERNAL_ERROR);
  }
}

/**
 * Serves one HTTP/2 connection (the preface not yet consumed, or already buffered in `socket`).
 * `peerIdentity` comes from the verified certificate only, as for HTTP/1.1.
 */
export function serveH2(socket: Socket, opts: HttpEngineOptions, peerIdentity: string | undefined): void {
  const sni = verifiedServerName(socket);
  const source = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, identity: peerIdentity, sni };
  const local = { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
  // the session reads bytes already buffered in the socket itself, on the next tick
  const session = performServerHandshake(socket, {
    // bounds as the HTTP/1.1 engine has them: header block size (llhttp's), and streams in flight
    // per connection (HTTP/1.1 pipelining stops at 16; gRPC multiplexes, so more, but not unbounded)
    settings: { enablePush: false, maxConcurrentStreams: MAX_STREAMS, maxHeaderListSize: MAX_HEADER_SIZE },
    maxHeaderListPairs: 256,
  });
  session.on('error', () => undefined);
  session.setTimeout(opts.timeoutMs, () => session.close());
  session.on('stream', (stream, headers, flags) => {
    stream.on('error', () => undefined);
    void serveStream(stream, headers, flags, opts, source, local);
  });
}

async function serveStream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  flags: number,
  opts: HttpEngineOptions,
  source: RequestContext['source'],
  local: RequestContext['local'],
): Promise<void> {
  const method = headers[':method'] ?? '';
  const rawPath = headers[':path'];
  if (method === 'CONNECT' || rawPath === undefined) {
    // extended CONNECT (WebSocket over HTTP/2) and tunnels are not carried over HTTP/2
    stream.respond({ ':status': 405 }, { endStream: true });
    return;
  }
  const authorityField = headers[':authority'] ?? headers['host'];
  // RFC 9113 §8.3.1: a Host naming another authority than :authority makes the request malformed
  // (policy and routing must see one authority, security-rules.md §5)
  const hostField = headers['host'];
  if (headers[':authority'] !== undefined && hostField !== undefined && String(hostField).toLowerCase() !== String(headers[':authority']).toLowerCase()) {
    stream.respond({ ':status': 400 }, { endStream: true });
    return;
  }
  const resolved = resolveTarget(method, rawPath, typeof authorityField === 'string' ? authorityField : undefined, opts.proxy, opts.pathNormalization?.());
  if ('status' in resolved) {
    stream.respond({ ':status': resolved.status }, { endStream: true });
    return;
  }
  const map = headerMapFromH2(headers);
  map['host'] = resolved.authority;
  const aborts = new AbortController();
  let body: Body = EMPTY_BODY;
  if ((flags & constants.NGHTTP2_FLAG_END_STREAM) === 0 && !stream.readableEnded) {
    const cl = map['content-length'];
    const push = new PushBody(typeof cl === 'string' && /^\d+$/.test(cl) ? Number(cl) : undefined, { pause: () => stream.pause(), resume: () => stream.resume() });
    stream.on('data', (c: Buffer) => push.push(c));
    stream.on('trailers', (t: IncomingHttpHeaders) => push.setTrailers(headerMapFromH2(t)));
    stream.on('end', () => push.end());
    body = push;
  }
  let answered = false;
  stream.on('close', () => {
    if (!answered || !stream.writableFinished) aborts.abort();
    if (body instanceof PushBody && !body.complete) body.fail(new Error('client reset the stream'));
  });
  const ctx = new RequestContext(
    opts.direction,
    opts.mountPoint,
    { method, path: resolved.path, authority: resolved.authority, headers: map, httpVersion: '2.0', body, signal: aborts.signal },
    source,
    local,
    false,
  );
  const chain = opts.chain();
  try {
    if (!chain) ctx.respond(503, 'sidecar has no configuration yet\n');
    else await chain(ctx);
  } catch (err) {
    opts.log.error('chain failed', { mountPoint: opts.mountPoint, error: (err as Error).stack ?? String(err) });
    rescue(ctx, err);
  }
  answered = true;
  const res = ctx.response ?? makeResponse(500, 'no response produced\n');
  if (stream.destroyed || stream.closed) {
    if (res.body instanceof PushBody) res.body.discard();
    return;
  }
  writeResponse(stream, method, res);
}

function writeResponse(stream: ServerHttp2Stream, method: string, res: HttpResponse): void {
  const out = outgoingFields(res.headers, { ':status': res.status });
  const b = res.body;
  const noBody = method === 'HEAD' || res.status === 204 || res.status === 304;
  if (b.empty || noBody) {
    // a gRPC "trailers-only" answer (a denial) is exactly this: one HEADERS frame that ends the stream
    if (typeof out['grpc-status'] === 'string') delete out['content-length'];
    try {
      stream.respond(out, { endStream: true });
    } catch {
      stream.close(NGHTTP2_INTERNAL_ERROR);
    }
    if (b instanceof PushBody && !b.empty) b.discard();
    return;
  }
  if (b.length === undefined) delete out['content-length'];
  else out['content-length'] = String(b.length);
  try {
    stream.respond(out, { waitForTrailers: true });
  } catch {
    stream.close(NGHTTP2_INTERNAL_ERROR);
    if (b instanceof PushBody) b.discard();
    return;
  }
  const sink = new StreamSink(stream, () => stream.close(NGHTTP2_INTERNAL_ERROR));
  stream.on('wantTrailers', () => sendTrailers(stream, sink));
  sink.setResume(b.pipeTo(sink));
}

export interface H2PoolOptions {
  host: string;
  port: number;
  localAddress?: string;
  /** response-head timeout */
  timeoutMs: number;
  /** a session without streams for this long is closed */
  idleMs: number;
  /** mTLS to another sidecar (ALPN h2): fresh options per connection */
  tls?: () => ConnectionOptions | undefined;
}

/** One multiplexed HTTP/2 session per upstream endpoint (and expected identities), reopened when it ends. */
export class H2Pool {
  private session: ClientHttp2Session | undefined;
  constructor(private readonly opts: H2PoolOptions) {}

  private connect(): ClientHttp2Session {
    const live = this.session;
    if (live && !live.closed && !live.destroyed) return live;
    const { host, port, localAddress } = this.opts;
    const base = { host, port, ...(localAddress ? { localAddress } : {}) };
    let tls: ConnectionOptions | undefined;
    if (this.opts.tls) {
      tls = this.opts.tls();
      if (!tls) throw new MeshError('MESH_ERR_UPSTREAM', `no workload certificate yet for mTLS to ${host}:${port}`);
    }
    const authority = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const session = h2Connect(authority, {
      settings: { enablePush: false },
      createConnection: () => (tls ? tlsConnect({ ...base, ...tls, ALPNProtocols: ['h2'] }) : netConnect(base)),
    });
    session.on('error', () => undefined);
    session.on('close', () => {
      if (this.session === session) this.session = undefined;
    });
    session.on('goaway', () => {
      if (this.session === session) this.session = undefined;
    });
    // quiet for idleMs: close gracefully (open streams finish; the next request opens a new session)
    session.setTimeout(this.opts.idleMs, () => session.close());
    this.session = session;
    return session;
  }

  request(head: RequestHead, body: Body | Buffer | null): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      let session: ClientHttp2Session;
      try {
        session = this.connect();
      } catch (err) {
        reject(err);
        return;
      }
      const fields = outgoingFields(head.headers, { ':method': head.method, ':path': head.path, ':authority': head.authority, ':scheme': 'http' });
      // gRPC servers require it; it is the one value of TE HTTP/2 allows
      if (head.headers['te'] === 'trailers' || typeof head.headers['content-type'] === 'string' && head.headers['content-type'].startsWith('application/grpc')) fields['te'] = 'trailers';
      const b: Body | null = Buffer.isBuffer(body) ? null : body;
      const buf = Buffer.isBuffer(body) ? body : undefined;
      const empty = buf ? buf.length === 0 : !b || b.empty;
      let req: ClientHttp2Stream;
      try {
        req = session.request(fields, { endStream: empty, waitForTrailers: !empty });
      } catch (err) {
        reject(new MeshError('MESH_ERR_UPSTREAM', `upstream ${this.opts.host}:${this.opts.port} failed: ${(err as Error).message}`, { cause: err }));
        return;
      }
      let headed = false;
      let response: PushBody | undefined;
      const onAbort = (): void => req.close(NGHTTP2_CANCEL);
      head.signal?.addEventListener('abort', onAbort, { once: true });
      req.setTimeout(this.opts.timeoutMs, () => {
        if (!headed) req.close(NGHTTP2_CANCEL);
      });
      req.on('error', (err: Error & { code?: string }) => {
        const e = new MeshError('MESH_ERR_UPSTREAM', `upstream ${this.opts.host}:${this.opts.port} failed: ${err.message}`, { cause: err });
        if (!headed) reject(e);
        else response?.fail(e);
      });
      req.on('close', () => {
        head.signal?.removeEventListener('abort', onAbort);
        if (!headed) {
          const code = req.rstCode;
          reject(
            code === NGHTTP2_REFUSED_STREAM
              ? new MeshError('MESH_ERR_UPSTREAM', `upstream ${this.opts.host}:${this.opts.port} refused the stream`)
              : head.signal?.aborted
                ? new MeshError('MESH_ERR_UPSTREAM', 'client gave up before the upstream answered')
                : new MeshError('MESH_ERR_TIMEOUT', `upstream ${this.opts.host}:${this.opts.port} closed the stream before answering (code ${code})`),
          );
        } else if (response && !response.complete) response.fail(new Error('upstream reset the stream'));
      });
      req.on('response', (h: IncomingHttpHeaders, flags: number) => {
        const status = Number(h[':status']);
        if (status >= 100 && status < 200) return;
        headed = true;
        req.setTimeout(0);
        const map = headerMapFromH2(h);
        let resBody: Body = EMPTY_BODY;
        if ((flags & constants.NGHTTP2_FLAG_END_STREAM) === 0) {
          const cl = map['content-length'];
          const push = new PushBody(typeof cl === 'string' && /^\d+$/.test(cl) ? Number(cl) : undefined, { pause: () => req.pause(), resume: () => req.resume() });
          req.on('data', (c: Buffer) => push.push(c));
          req.on('trailers', (t: IncomingHttpHeaders) => push.setTrailers(headerMapFromH2(t)));
          req.on('end', () => push.end());
          response = push;
          resBody = push;
        }
        resolve({ status, headers: map, body: resBody });
      });
      if (empty) return;
      const sink = new StreamSink(req, () => req.close(NGHTTP2_CANCEL));
      req.on('wantTrailers', () => sendTrailers(req, sink));
      if (buf) {
        req.end(buf);
        return;
      }
      sink.setResume(b!.pipeTo(sink));
    });
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }
}
