/**
 * Server side of the SPDY/3.1 remote-command protocol (kubectl ≤1.29, and the fallback of newer
 * ones): one stream per stdio channel, named by its `streamType` header, opened by the client.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { PassThrough, Writable, type Duplex } from 'node:stream';
import { StreamingError } from './errors.js';
import type { AttachOptions } from './options.js';
import { SPDY_EXEC_PROTOCOLS, STREAM_PROTOCOL_HEADER, headerList, negotiate, type StreamType } from './protocols.js';
import { refuseUpgrade } from './refuse.js';
import { endAndFlush, once, ResizeDecoder, type ExecSession } from './session.js';
import { resultStatus, type ExecResult } from './status.js';

/** The slice of spdy-transport (untyped CommonJS) used here. */
export interface SpdyStream extends Duplex {
  readonly id: number;
  readonly headers: Record<string, string | undefined>;
  respond(status: number, headers: Record<string, string>, cb?: (err?: Error) => void): void;
  abort(code?: string, cb?: () => void): void;
  _spdyState: { window: { send: WindowSide } };
}
interface WindowSide {
  current: number;
  max: number;
  limit: number;
}
type Headers = Record<string, string>;
interface SpdyParser {
  parseKVs(body: unknown, cb: (err: Error | null, headers?: Headers) => void): void;
}
export interface SpdyConnection extends EventEmitter {
  end(cb?: () => void): void;
  _spdyState: { window: { send: WindowSide }; streamWindow: { send: WindowSide }; parser: SpdyParser };
}
interface SpdyTransport {
  connection: { create(socket: Duplex, opts: { protocol: 'spdy'; isServer: boolean; windowSize?: number }): SpdyConnection };
}
const transport = createRequire(import.meta.url)('spdy-transport') as SpdyTransport;

/**
 * Go's spdystream (the client side of every kubectl) neither sends WINDOW_UPDATE nor honours
 * ours, so a sender that keeps SPDY/3.1 flow control stalls after the first 64 KiB. Opening the
 * send windows all the way is what the Go server side does implicitly.
 */
function unlimited(side: WindowSide): void {
  side.current = Number.MAX_SAFE_INTEGER;
  side.max = Number.MAX_SAFE_INTEGER;
  side.limit = Infinity;
}

/** Answers the SPDY upgrade with 101 and runs a server SPDY/3.1 session on the socket. */
export function openSpdy(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string): SpdyConnection {
  socket.on('error', () => {});
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Connection: Upgrade\r\n' +
      `Upgrade: ${req.headers.upgrade ?? 'SPDY/3.1'}\r\n` +
      `X-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
  );
  if (head.length > 0) socket.unshift(head);
  return spdyServer(socket);
}

/** A server SPDY/3.1 session over any byte stream (a socket, or a WebSocket tunnel). */
export function spdyServer(stream: Duplex): SpdyConnection {
  const conn = transport.connection.create(stream, { protocol: 'spdy', isServer: true, windowSize: 1 << 20 });
  unlimited(conn._spdyState.window.send);
  unlimited(conn._spdyState.streamWindow.send);
  // spdy-transport insists on HTTP pseudo-headers in SYN_STREAM; spdystream's streams carry only
  // `streamType` (and `port`/`requestID` for port-forward), so supply neutral ones.
  const parser = conn._spdyState.parser;
  const parseKVs = parser.parseKVs.bind(parser);
  parser.parseKVs = (body, cb) =>
    parseKVs(body, (err, headers) => {
      if (headers) {
        headers[':method'] ??= 'POST';
        headers[':path'] ??= '/';
      }
      cb(err, headers);
    });
  conn.on('error', () => {});
  return conn;
}

export function spdyProtocolFor(req: IncomingMessage, server: readonly string[]): { protocol: string } | { refusal: StreamingError; headers: Record<string, string> } {
  const client = headerList(req, STREAM_PROTOCOL_HEADER);
  const protocol = negotiate(client, server);
  if (protocol) return { protocol };
  return {
    refusal: new StreamingError(
      'Forbidden',
      `unable to upgrade: unable to negotiate protocol: client supports [${client.join(' ')}], server supports [${server.join(' ')}]`,
    ),
    headers: { 'X-Accepted-Stream-Protocol-Versions': server.join(', ') },
  };
}

export interface AcceptSettings {
  /** How long the client may take to open all its streams (kubelet: 30 s). */
  streamCreationTimeoutMs?: number;
  /** How long after `finish` the client may take to hang up before the socket is destroyed. */
  closeGraceMs?: number;
}

export function acceptSpdyExec(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  opts: AttachOptions,
  settings: AcceptSettings = {},
): Promise<ExecSession> {
  const negotiated = spdyProtocolFor(req, SPDY_EXEC_PROTOCOLS);
  if ('refusal' in negotiated) {
    refuseUpgrade(socket, negotiated.refusal, negotiated.headers);
    return Promise.reject(negotiated.refusal);
  }
  const { protocol } = negotiated;
  const version = Number(/^v(\d+)\./.exec(protocol)?.[1] ?? 2);
  const expected = new Set<StreamType>(['error']);
  if (opts.stdin) expected.add('stdin');
  if (opts.stdout) expected.add('stdout');
  if (opts.stderr && !opts.tty) expected.add('stderr');
  if (opts.tty && version >= 3) expected.add('resize');

  const conn = openSpdy(req, socket, head, protocol);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const streams = new Map<StreamType, SpdyStream>();

  return new Promise<ExecSession>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new StreamingError('Timeout', `timed out waiting for client streams (have ${[...streams.keys()].join(', ') || 'none'}, want ${[...expected].join(', ')})`));
      socket.destroy();
    }, settings.streamCreationTimeoutMs ?? 30_000);
    void closed.then(() => {
      clearTimeout(timer);
      reject(new StreamingError('BadRequest', 'the client closed the connection before opening its streams'));
    });

    conn.on('stream', (stream: SpdyStream) => {
      stream.on('error', () => {});
      const type = (stream.headers['streamtype'] ?? '').toLowerCase() as StreamType;
      if (!expected.has(type) || streams.has(type)) {
        stream.abort('PROTOCOL_ERROR');
        return;
      }
      // spdystream drops DATA on a stream it has no SYN_REPLY for, and CreateStream waits for it.
      stream.respond(200, {});
      // Go writes no flow-control updates, and the per-stream window may have been cloned before ours was opened.
      unlimited(stream._spdyState.window.send);
      streams.set(type, stream);
      if (streams.size < expected.size) return;
      clearTimeout(timer);
      resolve(spdySession(socket, streams, protocol, version, opts, closed, settings));
    });
  });
}

function spdySession(
  socket: Duplex,
  streams: Map<StreamType, SpdyStream>,
  protocol: string,
  version: number,
  opts: AttachOptions,
  closed: Promise<void>,
  settings: AcceptSettings,
): ExecSession {
  const resize = new EventEmitter();
  const errorStream = streams.get('error')!;
  errorStream.resume();

  let stdin: PassThrough | undefined;
  const remoteStdin = streams.get('stdin');
  if (remoteStdin) {
    stdin = new PassThrough();
    remoteStdin.pipe(stdin);
    // A reset (RST_STREAM) or a dropped connection ends input as surely as a FIN.
    remoteStdin.once('close', () => {
      if (!stdin!.writableEnded) stdin!.end();
    });
  }

  const writer = (s: SpdyStream | undefined): Writable | undefined => {
    if (!s) return undefined;
    s.resume(); // the client never writes on its output streams; keep their read side from filling up
    const w = new Writable({
      write(chunk: Buffer, _enc, cb) {
        s.write(chunk, (err?: Error | null) => cb(err ?? null));
      },
      final(cb) {
        s.end();
        cb();
      },
    });
    w.on('error', () => {});
    return w;
  };
  const stdout = writer(streams.get('stdout'));
  const stderr = writer(streams.get('stderr'));

  const resizeStream = streams.get('resize');
  if (resizeStream) {
    const decoder = new ResizeDecoder(resize);
    resizeStream.on('data', (c: Buffer) => decoder.push(c));
  }

  const finish = once(async (result: ExecResult) => {
    await Promise.all([endAndFlush(stdout), endAndFlush(stderr)]);
    const status = resultStatus(result);
    // v4 carries the Status document; v2/v3 only a plain message, so an exit code cannot be told and silence means success.
    const doc = version >= 4 ? JSON.stringify(status) : status.status === 'Failure' ? (status.message ?? 'command failed') : '';
    await new Promise<void>((resolve) => {
      errorStream.once('close', resolve);
      errorStream.end(doc.length > 0 ? doc : undefined, () => resolve());
    });
    // The client waits for the server to close stdin before it lets go of the session.
    remoteStdin?.end();
    // No GOAWAY: spdy-transport may schedule it ahead of queued DATA, and kubectl hangs up by
    // itself once it has read every stream to its end. The timer covers clients that do not.
    const grace = setTimeout(() => socket.destroy(), settings.closeGraceMs ?? 10_000);
    grace.unref();
    void closed.then(() => clearTimeout(grace));
  });

  const session: ExecSession = { resize, protocol, transport: 'spdy', tty: opts.tty, finish, closed };
  if (stdin) session.stdin = stdin;
  if (stdout) session.stdout = stdout;
  if (stderr) session.stderr = stderr;
  return session;
}
