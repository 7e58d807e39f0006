/**
 * Server side of the WebSocket remote-command protocol (kubectl ≥1.30): every message carries a
 * channel byte (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize); v5 adds `[255, channel]` to
 * half-close a channel, the only way stdin's end reaches the command; the base64 variant sends
 * text messages with an ASCII digit for the channel.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { PassThrough, Writable, type Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { StreamingError } from './errors.js';
import type { AttachOptions } from './options.js';
import { CLOSE_SIGNAL, Channel, headerList } from './protocols.js';
import { refuseUpgrade } from './refuse.js';
import { endAndFlush, once, ResizeDecoder, type ExecSession } from './session.js';
import type { AcceptSettings } from './spdy.js';
import { resultStatus, type ExecResult } from './status.js';

/** Picks, in the server's order of preference, the first of `server` the client offered; `undefined` refuses. */
export function wsProtocolFor(req: IncomingMessage, server: readonly string[]): string | undefined {
  const client = new Set(headerList(req, 'sec-websocket-protocol'));
  return server.find((p) => client.has(p));
}

/**
 * Completes the WebSocket handshake with `protocol` (already negotiated) as the subprotocol. A
 * failed handshake is answered with a Status and rejects with a `StreamingError`.
 */
export function openWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string): Promise<WebSocket> {
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, handleProtocols: () => protocol });
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(protocol)) {
    // `SPDY/3.1+portforward.k8s.io` is not an RFC 7230 token, so ws would refuse the request
    // outright; hide the offer from it and name the subprotocol in the response ourselves.
    delete req.headers['sec-websocket-protocol'];
    wss.once('headers', (headers: string[]) => headers.push(`Sec-WebSocket-Protocol: ${protocol}`));
  }
  return new Promise((resolve, reject) => {
    wss.once('wsClientError', (err: Error, sock: Duplex) => {
      const refusal = new StreamingError('BadRequest', `websocket handshake failed: ${err.message}`);
      refuseUpgrade(sock, refusal);
      reject(refusal);
    });
    wss.handleUpgrade(req, socket, head, (ws) => resolve(ws));
  });
}

/** Framing of one negotiated subprotocol. */
export interface WsCodec {
  base64: boolean;
  /** Only v5 may send or understand `[255, channel]`. */
  closeSignal: boolean;
  encode(channel: number, data: Buffer): Buffer | string;
  decode(data: RawData, isBinary: boolean): { channel: number; payload: Buffer } | undefined;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export function wsCodec(protocol: string): WsCodec {
  const base64 = protocol.includes('base64');
  return {
    base64,
    closeSignal: protocol.startsWith('v5.'),
    encode: (channel, data) =>
      base64 ? String.fromCharCode(48 + channel) + data.toString('base64') : Buffer.concat([Buffer.of(channel), data]),
    decode(data, isBinary) {
      const buf = toBuffer(data);
      if (buf.length === 0) return undefined;
      if (base64 && !isBinary) {
        const channel = buf[0]! - 48;
        return { channel, payload: Buffer.from(buf.subarray(1).toString(), 'base64') };
      }
      return { channel: buf[0]!, payload: buf.subarray(1) };
    },
  };
}

/** A Writable that sends each chunk as one message on `channel`; its callbacks wait for the socket, which is the backpressure. */
export function channelWriter(ws: WebSocket, codec: WsCodec, channel: number): Writable {
  const w = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== ws.OPEN) return cb(new Error('connection closed'));
      ws.send(codec.encode(channel, chunk), { binary: !codec.base64 }, (err) => cb(err ?? null));
    },
    final(cb) {
      if (codec.closeSignal && ws.readyState === ws.OPEN) ws.send(Buffer.of(CLOSE_SIGNAL, channel), { binary: true }, () => cb());
      else cb();
    },
  });
  w.on('error', () => {});
  return w;
}

export async function acceptWebSocketExec(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  opts: AttachOptions,
  protocols: readonly string[],
  settings: AcceptSettings = {},
): Promise<ExecSession> {
  const protocol = wsProtocolFor(req, protocols);
  if (!protocol) {
    const offered = headerList(req, 'sec-websocket-protocol');
    const err = new StreamingError(
      'BadRequest',
      `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${protocols.join(' ')}]`,
    );
    refuseUpgrade(socket, err);
    throw err;
  }
  const ws = await openWebSocket(req, socket, head, protocol);
  const codec = wsCodec(protocol);
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  ws.on('error', () => {});
  const resize = new EventEmitter();
  const resizeDecoder = new ResizeDecoder(resize);

  const stdin = opts.stdin ? new PassThrough() : undefined;
  const endStdin = (): void => {
    if (stdin && !stdin.writableEnded) stdin.end();
  };
  void closed.then(endStdin);

  // The output channels close through the error document and the close frame, which is what
  // client-go reads as EOF; it does not know the CLOSE signal on its own read side.
  const outCodec: WsCodec = { ...codec, closeSignal: false };
  const stdout = opts.stdout ? channelWriter(ws, outCodec, Channel.stdout) : undefined;
  const stderr = opts.stderr && !opts.tty ? channelWriter(ws, outCodec, Channel.stderr) : undefined;

  ws.on('message', (data, isBinary) => {
    const msg = codec.decode(data, isBinary);
    if (!msg) return;
    if (codec.closeSignal && msg.channel === CLOSE_SIGNAL) {
      if (msg.payload[0] === Channel.stdin) endStdin();
      return;
    }
    if (msg.channel === Channel.stdin && stdin && !stdin.writableEnded) {
      if (msg.payload.length > 0 && !stdin.write(msg.payload)) {
        ws.pause();
        stdin.once('drain', () => ws.resume());
      }
    } else if (msg.channel === Channel.resize) {
      resizeDecoder.push(msg.payload, true);
    }
  });

  // As the kubelet does: an empty message on the lowest output channel tells the client the session is up.
  const first = stdout ? Channel.stdout : stderr ? Channel.stderr : Channel.error;
  ws.send(codec.encode(first, Buffer.alloc(0)), { binary: !codec.base64 });

  const finish = once(async (result: ExecResult) => {
    await Promise.all([endAndFlush(stdout), endAndFlush(stderr)]);
    if (ws.readyState !== ws.OPEN) return;
    await new Promise<void>((resolve) =>
      ws.send(codec.encode(Channel.error, Buffer.from(JSON.stringify(resultStatus(result)))), { binary: !codec.base64 }, () => resolve()),
    );
    ws.close(1000);
    const grace = setTimeout(() => ws.terminate(), settings.closeGraceMs ?? 10_000);
    grace.unref();
    void closed.then(() => clearTimeout(grace));
  });

  const session: ExecSession = { resize, protocol, transport: 'websocket', tty: opts.tty, finish, closed };
  if (stdin) session.stdin = stdin;
  if (stdout) session.stdout = stdout;
  if (stderr) session.stderr = stderr;
  return session;
}
