/**
 * HTTP/1.1 to upstreams: a keep-alive pool of sockets per endpoint, llhttp parsing responses, and
 * request bodies streamed (or sent whole when buffered) with backpressure. A request that fails on
 * a reused connection before any response byte arrived — the server closed it while idle — is
 * retried once on a fresh connection when its body can be sent again.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { MeshError } from '../../lib/errors.js';
import { BufferBody, EMPTY_BODY } from '../http/body.js';
import { PushBody } from '../http/push-body.js';
import type { Body, HeaderMap, RequestHead } from '../http/types.js';
import type { HttpResponse } from '../chain/types.js';
import { HTTPParser, MAX_HEADER_SIZE, type LlhttpParser, type OnHeadersComplete } from './llhttp.js';
import {
  NOT_FORWARDED_REQUEST,
  SocketBodySink,
  appendHeader,
  appendHeaderLines,
  headerMapFromRaw,
  receiveResponseConnection,
  statusHasNoBody,
  statusLine,
  writeWhole,
  type Framing,
} from './wire.js';

export interface PoolOptions {
  host: string;
  port: number;
  localAddress?: string;
  /** connect and response-head timeout; also the inactivity timeout while a request is open */
  timeoutMs: number;
  /** how long an idle connection is kept (shorter than typical server keep-alive timeouts) */
  idleMs: number;
  maxIdle: number;
  /** mTLS to another sidecar: fresh options per connection (the certificate may have been renewed) */
  tls?: () => ConnectionOptions | undefined;
}

/**
 * Per-request settings from the destination cluster's UpstreamTrafficSetting (ConnectionSettings):
 * how long a new connection may take to open, and how many requests one connection carries before
 * it is closed instead of kept alive.
 */
export interface RequestOptions {
  connectTimeoutMs?: number;
  maxRequestsPerConnection?: number;
}

interface Pending {
  method: string;
  resolve: (r: HttpResponse) => void;
  reject: (e: Error) => void;
  body: PushBody | undefined;
  /** the response head arrived */
  headed: boolean;
  /** the request was written completely */
  sent: boolean;
  /** the response was read completely */
  done: boolean;
  keepAlive: boolean;
}

/**
 * Where plaintext upstream sockets read into. One buffer serves them all: a read callback runs to
 * completion before libuv reads again, and nothing keeps a view of it past the callback (llhttp copies header strings and body chunks
 * out of what it parses: engine/client.test.ts checks the body).
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

class Connection {
  readonly parser: LlhttpParser;
  pending: Pending | undefined;
  reused = false;
  /** requests sent on this connection */
  served = 0;
  /** close instead of keeping alive once `served` reaches this (the last request's setting) */
  maxRequests: number | undefined;
  private partialHeaders: string[] = [];
  dead = false;
  /** the response body's flow control, made once per connection rather than per response */
  private readonly flow = { pause: (): void => void this.socket.pause(), resume: (): void => void this.socket.resume() };

  constructor(
    readonly socket: Socket,
    private readonly pool: Pool,
    /** reads arrive through `onread` into the shared READ_BUFFER (see connect), not as 'data' events */
    ownBuffer: boolean,
  ) {
    const p = new HTTPParser();
    p.initialize(HTTPParser.RESPONSE, {}, MAX_HEADER_SIZE, 0);
    p[HTTPParser.kOnHeaders] = (headers: string[]) => {
      for (const h of headers) this.partialHeaders.push(h);
    };
    p[HTTPParser.kOnHeadersComplete] = this.onHead as OnHeadersComplete;
    // (body chunks are copies made by Node's parser binding, never views of the read buffer)
    p[HTTPParser.kOnBody] = (b: Buffer) => this.pending?.body?.push(b);
    p[HTTPParser.kOnMessageComplete] = this.onComplete;
    this.parser = p;
    if (!ownBuffer) socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    // one listener for the connection's life; what a timeout means depends on the state
    socket.on('timeout', this.onTimeout);
  }

  private readonly onTimeout = (): void => {
    if (this.pending) this.fail(new MeshError('MESH_ERR_TIMEOUT', `upstream ${this.pool.name} timed out`));
    else this.socket.destroy();
  };

  readonly onData = (chunk: Buffer): void => {
    const ret = this.parser.execute(chunk);
    if (typeof ret !== 'number') {
      this.fail(new MeshError('MESH_ERR_UPSTREAM', `invalid response from ${this.pool.name}: ${ret.reason ?? ret.message}`));
      this.socket.destroy();
    }
  };

  private readonly onHead: OnHeadersComplete = (_maj, _min, headers, _m, _u, status, _msg, _upgrade, keepAlive) => {
    const raw = headers ?? this.partialHeaders;
    this.partialHeaders = [];
    const p = this.pending;
    if (!p) return 0;
    const code = status ?? 0;
    // interim responses (100 Continue, 103): keep waiting for the final one
    if (code >= 100 && code < 200) return 0;
    const map = headerMapFromRaw(raw);
    // §5: what the upstream's Connection header nominates goes now, before the chain adds its own headers
    receiveResponseConnection(map);
    const noBody = p.method === 'HEAD' || statusHasNoBody(code);
    const cl = map['content-length'];
    const length = typeof cl === 'string' ? Number(cl) : undefined;
    let body: Body = EMPTY_BODY;
    if (!noBody && length !== 0) {
      p.body = new PushBody(length, this.flow);
      body = p.body;
    }
    delete map['transfer-encoding'];
    p.headed = true;
    p.keepAlive = keepAlive;
    // (the inactivity timeout set by send() was just refreshed by this read: nothing to re-arm)
    p.resolve({ status: code, headers: map, body });
    // llhttp: 1 = this response has no body (HEAD), so it does not wait for one
    return p.method === 'HEAD' ? 1 : 0;
  };

  private readonly onComplete = (): void => {
    const p = this.pending;
    if (!p || !p.headed) return;
    p.done = true;
    p.body?.end();
    this.maybeRelease();
  };

  /** Back to the pool once both the request and the response are finished. */
  maybeRelease(): void {
    const p = this.pending;
    if (!p || !p.done || !p.sent) return;
    this.pending = undefined;
    if (p.keepAlive && !this.dead) this.pool.release(this);
    else this.socket.destroy();
  }

  private readonly onError = (err: Error): void => {
    this.fail(new MeshError('MESH_ERR_UPSTREAM', `upstream ${this.pool.name} failed: ${(err as { code?: string }).code ?? err.message}`, { cause: err }));
  };

  private readonly onClose = (): void => {
    this.dead = true;
    this.pool.forget(this);
    this.fail(new MeshError('MESH_ERR_UPSTREAM', `upstream ${this.pool.name} closed the connection`));
    this.parser.free?.();
  };

  fail(err: Error): void {
    this.dead = true;
    const p = this.pending;
    if (!p || p.done) return;
    this.pending = undefined;
    if (!p.headed) p.reject(err);
    else p.body?.fail(err);
    this.socket.destroy();
  }
}

export class Pool {
  private readonly idle: Connection[] = [];
  /** the latest TLS session ticket, for resumption on the next new connection */
  private session: Buffer | undefined;
  private readonly all = new Set<Connection>();
  readonly name: string;

  constructor(readonly opts: PoolOptions) {
    this.name = `${opts.host}:${opts.port}`;
  }

  request(head: RequestHead, body: Body | Buffer | null, opts?: RequestOptions): Promise<HttpResponse> {
    const whole = body === null ? EMPTY_BODY : Buffer.isBuffer(body) ? new BufferBody(body) : body;
    const conn = this.idle.pop();
    if (!conn) return this.sendFresh(head, whole, opts);
    // (not an async function: the usual request on a pooled connection settles with send's promise)
    return this.send(conn, head, whole, opts).catch((err: unknown) => {
      // a keep-alive connection the server closed while idle: try once more on a fresh one
      if (!(err instanceof RetryableError) || !(whole instanceof BufferBody || whole.empty)) throw unwrap(err);
      return this.sendFresh(head, whole, opts);
    });
  }

  private async sendFresh(head: RequestHead, body: Body, opts?: RequestOptions): Promise<HttpResponse> {
    try {
      return await this.send(await this.connect(opts?.connectTimeoutMs), head, body, opts);
    } catch (err) {
      throw unwrap(err);
    }
  }

  private connect(connectTimeoutMs?: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const base = {
        host: this.opts.host,
        port: this.opts.port,
        noDelay: true,
        ...(this.opts.localAddress ? { localAddress: this.opts.localAddress } : {}),
      };
      let tls: ConnectionOptions | undefined;
      if (this.opts.tls) {
        tls = this.opts.tls();
        if (!tls) {
          reject(new MeshError('MESH_ERR_UPSTREAM', `no workload certificate yet for mTLS to ${this.name}`));
          return;
        }
      }
      // TLS session resumption: a ticket from this pool's earlier handshake (same endpoint, same
      // expected identities) skips the certificate exchange. It is only good with the server that
      // issued it, whose identity the original full handshake verified.
      // Plaintext reads skip the stream machinery (push, 'data' events, a fresh buffer per read):
      // libuv reads into READ_BUFFER and llhttp parses it in place (the body copies what it keeps).
      let conn: Connection | undefined;
      const onread = { buffer: READ_BUFFER, callback: (n: number, buf: Uint8Array): boolean => {
          conn?.onData((buf as Buffer).subarray(0, n));
          return true;
        } };
      const s: Socket = tls ? tlsConnect({ ...base, ...tls, ...(this.session ? { session: this.session } : {}) }) : netConnect({ ...base, onread });
      if (tls) s.on('session', (ticket: Buffer) => (this.session = ticket));
      const timer = setTimeout(() => {
        s.destroy();
        reject(new MeshError('MESH_ERR_TIMEOUT', `connect to ${this.name} timed out`));
      }, connectTimeoutMs ?? Math.min(this.opts.timeoutMs, 10_000));
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new MeshError('MESH_ERR_UPSTREAM', `upstream ${this.name} failed: ${(err as { code?: string }).code ?? err.message}`, { cause: err }));
      });
      s.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        const c = new Connection(s, this, !tls);
        conn = c;
        this.all.add(c);
        resolve(c);
      });
    });
  }

  private send(conn: Connection, head: RequestHead, body: Body, opts?: RequestOptions): Promise<HttpResponse> {
    conn.served++;
    conn.maxRequests = opts?.maxRequestsPerConnection;
    return new Promise<HttpResponse>((resolve, reject) => {
      const reused = conn.reused;
      const pending: Pending = {
        method: head.method,
        resolve,
        reject: (e) => reject(reused ? new RetryableError(e) : e),
        body: undefined,
        headed: false,
        sent: false,
        done: false,
        keepAlive: false,
      };
      conn.pending = pending;
      const s = conn.socket;
      s.setTimeout(this.opts.timeoutMs);
      let text = `${head.method} ${head.path} HTTP/1.1\r\nhost: ${head.authority}\r\n`;
      let framing: Framing | 'none' = 'none';
      let fixed: Buffer | undefined;
      if (body instanceof BufferBody) {
        fixed = body.buf;
        if (fixed.length > 0 || head.headers['content-length'] !== undefined) text += `content-length: ${fixed.length}\r\n`;
      } else if (body.empty) {
        if (head.headers['content-length'] !== undefined) text += 'content-length: 0\r\n';
      } else if (body.length !== undefined && body.buffered() === undefined) {
        framing = 'length';
        text += `content-length: ${body.length}\r\n`;
      } else {
        framing = 'chunked';
        text += 'transfer-encoding: chunked\r\n';
      }
      try {
        text = appendHeaderLines(text, head.headers, NOT_FORWARDED_REQUEST);
      } catch (err) {
        conn.pending = undefined;
        this.release(conn);
        reject(err);
        return;
      }
      text += '\r\n';
      if (framing === 'none') {
        writeWhole(s, text, fixed && fixed.length > 0 ? fixed : undefined);
        pending.sent = true;
        return;
      }
      s.cork();
      s.write(text, 'latin1');
      const sink = new SocketBodySink(s, framing, (err) => {
        if (err) {
          conn.fail(new MeshError('MESH_ERR_UPSTREAM', `request body failed: ${err.message}`));
          return;
        }
        pending.sent = true;
        conn.maybeRelease();
      });
      sink.setResume(body.pipeTo(sink));
      s.uncork();
    });
  }

  release(conn: Connection): void {
    if (conn.dead || this.idle.length >= this.opts.maxIdle || (conn.maxRequests !== undefined && conn.served >= conn.maxRequests)) {
      conn.socket.destroy();
      return;
    }
    conn.reused = true;
    // the last response's consumer may have paused the socket (backpressure) and gone away
    conn.socket.resume();
    conn.socket.setTimeout(this.opts.idleMs);
    this.idle.push(conn);
  }

  forget(conn: Connection): void {
    this.all.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
  }

  close(): void {
    for (const c of this.all) c.socket.destroy();
    this.all.clear();
    this.idle.length = 0;
  }
}

class RetryableError extends Error {
  constructor(readonly inner: Error) {
    super(inner.message);
  }
}

function unwrap(err: unknown): unknown {
  return err instanceof RetryableError ? err.inner : err;
}

/** What the upstream made of an Upgrade request (requestUpgrade). */
export type UpgradeResult =
  /**
   * 101: `socket` now carries the new protocol. `head` is the 101 head for the client (re-serialized),
   * `rest` what the upstream sent after it; the socket is paused, for the caller to pipe.
   */
  | { switched: true; socket: Socket; head: string; rest: Buffer }
  /** any other final answer: its body streams from `socket`, which is closed once it has been read */
  | { switched: false; socket: Socket; response: HttpResponse };

/**
 * Sends an Upgrade request head on a fresh connection (never a pooled one: it may become a tunnel)
 * and resolves with the upstream's final answer. Its framing is re-serialized like any request's; an
 * Upgrade request has no body (the server serves one with a body as plain HTTP).
 */
export function requestUpgrade(socket: Socket, head: RequestHead, timeoutMs: number, name: string): Promise<UpgradeResult> {
  return new Promise<UpgradeResult>((resolve, reject) => {
    let text = `${head.method} ${head.path} HTTP/1.1\r\nhost: ${head.authority}\r\n`;
    try {
      text = appendHeaderLines(text, head.headers, NOT_FORWARDED_REQUEST);
      const upgrade = head.headers['upgrade'];
      text += 'connection: upgrade\r\n';
      if (upgrade !== undefined) text = appendHeader(text, 'upgrade', upgrade);
    } catch (err) {
      socket.destroy();
      reject(err);
      return;
    }
    let body: PushBody | undefined;
    let settled = false;
    let switched: { map: HeaderMap; code: number } | undefined;
    let partial: string[] = [];
    const parser = new HTTPParser();
    parser.initialize(HTTPParser.RESPONSE, {}, MAX_HEADER_SIZE, 0);
    parser[HTTPParser.kOnHeaders] = (headers: string[]) => {
      for (const h of headers) partial.push(h);
    };
    parser[HTTPParser.kOnHeadersComplete] = ((_maj, _min, headers, _m, _u, status, _msg, _upgrade, _keepAlive) => {
      const raw = headers ?? partial;
      partial = [];
      const code = status ?? 0;
      // an interim answer (100, 103): the final one follows
      if (code !== 101 && code >= 100 && code < 200) return 0;
      const map = headerMapFromRaw(raw);
      receiveResponseConnection(map);
      if (code === 101) {
        // llhttp stops after this head; execute() returns where the new protocol starts
        switched = { map, code };
        return 0;
      }
      delete map['transfer-encoding'];
      const cl = map['content-length'];
      const length = typeof cl === 'string' ? Number(cl) : undefined;
      let responseBody: Body = EMPTY_BODY;
      if (!(head.method === 'HEAD' || statusHasNoBody(code)) && length !== 0) {
        body = new PushBody(length, { pause: () => socket.pause(), resume: () => socket.resume() });
        responseBody = body;
      }
      settled = true;
      socket.setTimeout(timeoutMs);
      resolve({ switched: false, socket, response: { status: code, headers: map, body: responseBody } });
      return head.method === 'HEAD' ? 1 : 0;
    }) as OnHeadersComplete;
    parser[HTTPParser.kOnBody] = (b: Buffer) => body?.push(b);
    parser[HTTPParser.kOnMessageComplete] = () => {
      if (!settled) return;
      body?.end();
      socket.destroy();
    };
    const fail = (err: Error): void => {
      socket.destroy();
      if (!settled) {
        settled = true;
        reject(err);
      } else body?.fail(err);
    };
    const onData = (chunk: Buffer): void => {
      const ret = parser.execute(chunk);
      if (typeof ret !== 'number') {
        fail(new MeshError('MESH_ERR_UPSTREAM', `invalid response from ${name}: ${ret.reason ?? ret.message}`));
        return;
      }
      if (!switched || settled) return;
      settled = true;
      // the tunnel: the socket is the caller's from here
      socket.pause();
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onClose);
      socket.removeListener('timeout', onTimeout);
      socket.removeListener('error', onError);
      socket.setTimeout(0);
      parser.free?.();
      const { map, code } = switched;
      let out = statusLine(code);
      try {
        out = appendHeaderLines(out, map);
        out += 'connection: upgrade\r\n';
        const upgrade = map['upgrade'];
        if (upgrade !== undefined) out = appendHeader(out, 'upgrade', upgrade);
      } catch (err) {
        socket.destroy();
        reject(err);
        return;
      }
      resolve({ switched: true, socket, head: `${out}\r\n`, rest: chunk.subarray(ret) });
    };
    // a body delimited by the end of the connection completes at EOF
    const onEnd = (): void => {
      const r = parser.finish();
      if (r instanceof Error) fail(new MeshError('MESH_ERR_UPSTREAM', `invalid response from ${name}: ${r.message}`));
      else if (!settled) fail(new MeshError('MESH_ERR_UPSTREAM', `upstream ${name} closed the connection`));
    };
    const onClose = (): void => {
      fail(new MeshError('MESH_ERR_UPSTREAM', `upstream ${name} closed the connection`));
      parser.free?.();
    };
    const onTimeout = (): void => fail(new MeshError('MESH_ERR_TIMEOUT', `upstream ${name} timed out`));
    const onError = (err: Error): void => fail(new MeshError('MESH_ERR_UPSTREAM', `upstream ${name} failed: ${(err as { code?: string }).code ?? err.message}`, { cause: err }));
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('error', onError);
    socket.on('timeout', onTimeout);
    socket.setTimeout(timeoutMs);
    socket.write(`${text}\r\n`, 'latin1');
  });
}
