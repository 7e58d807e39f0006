/**
 * fortio's gRPC port, reduced to what clients probe: `grpc.health.v1.Health/Check` (SERVING) and
 * fortio's `fgrpc.PingServer/Ping` (the message back with the server's time, after its requested
 * delay, capped at the max echo delay). Cleartext HTTP/2 (h2c) only. The mesh does not carry HTTP/2
 * yet, so this answers direct (unmeshed or port-forwarded) callers.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { listen, type RunningServer } from './echo-server.js';

// Each unary request holds one small message; a bound keeps a stream from growing without end.
const MAX_MESSAGE = 1024 * 1024;

export interface PingMessage {
  seq: bigint;
  ts: bigint;
  payload: string;
  delayNanos: bigint;
}

function readVarint(buf: Buffer, at: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (let i = at; i < buf.length && shift < 70n; i++) {
    const b = buf[i]!;
    value |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [value, i + 1];
    shift += 7n;
  }
  throw new Error('truncated varint');
}

function writeVarint(value: bigint): Buffer {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return Buffer.from(out);
}

/** Fields 1 seq, 2 ts, 3 payload, 4 delayNanos of fortio's PingMessage; others are skipped. */
export function decodePing(buf: Buffer): PingMessage {
  const msg: PingMessage = { seq: 0n, ts: 0n, payload: '', delayNanos: 0n };
  let at = 0;
  while (at < buf.length) {
    const [key, next] = readVarint(buf, at);
    at = next;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [v, after] = readVarint(buf, at);
      at = after;
      if (field === 1) msg.seq = BigInt.asIntN(64, v);
      else if (field === 2) msg.ts = BigInt.asIntN(64, v);
      else if (field === 4) msg.delayNanos = BigInt.asIntN(64, v);
    } else if (wire === 2) {
      const [len, after] = readVarint(buf, at);
      const end = after + Number(len);
      if (end > buf.length) throw new Error('truncated field');
      if (field === 3) msg.payload = buf.subarray(after, end).toString('utf8');
      at = end;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return msg;
}

export function encodePing(msg: PingMessage): Buffer {
  const parts: Buffer[] = [];
  const int = (field: number, v: bigint): void => {
    if (v !== 0n) parts.push(writeVarint(BigInt(field << 3)), writeVarint(v));
  };
  int(1, msg.seq);
  int(2, msg.ts);
  if (msg.payload !== '') {
    const bytes = Buffer.from(msg.payload, 'utf8');
    parts.push(writeVarint(BigInt((3 << 3) | 2)), writeVarint(BigInt(bytes.length)), bytes);
  }
  int(4, msg.delayNanos);
  return Buffer.concat(parts);
}

/** gRPC's length-prefixed framing: no compression flag, 4-byte big-endian length. */
export function frame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** The first message of a request body, or undefined when the body is not one whole uncompressed frame. */
export function unframe(body: Buffer): Buffer | undefined {
  if (body.length < 5 || body[0] !== 0) return undefined;
  const len = body.readUInt32BE(1);
  return body.length >= 5 + len ? body.subarray(5, 5 + len) : undefined;
}

const HEALTH_SERVING = Buffer.from([0x08, 0x01]);

export async function startGrpcPing(host: string, port: number, maxDelayNs: number): Promise<RunningServer> {
  const server = http2.createServer();
  const timers = new Set<NodeJS.Timeout>();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    const path = String(headers[':path'] ?? '');
    const fail = (code: number, message: string): void => {
      if (!stream.destroyed) stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': message }, { endStream: true });
    };
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_MESSAGE + 5) chunks.push(c);
    });
    stream.on('error', () => stream.destroy());
    stream.on('end', () => {
      const message = size <= MAX_MESSAGE + 5 ? unframe(Buffer.concat(chunks)) : undefined;
      if (message === undefined) return fail(13, 'expected one uncompressed message');
      const answer = (reply: Buffer): void => {
        if (stream.destroyed) return;
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(frame(reply));
      };
      if (path === '/grpc.health.v1.Health/Check') return answer(HEALTH_SERVING);
      if (path !== '/fgrpc.PingServer/Ping') return fail(12, `unknown method ${path}`);
      let ping: PingMessage;
      try {
        ping = decodePing(message);
      } catch (err) {
        return fail(3, `bad PingMessage: ${(err as Error).message}`);
      }
      const delayMs = Math.min(Number(ping.delayNanos), maxDelayNs) / 1e6;
      const reply = (): void => answer(encodePing({ ...ping, ts: BigInt(Date.now()) * 1_000_000n }));
      if (delayMs <= 0) return reply();
      const t = setTimeout(() => {
        timers.delete(t);
        reply();
      }, delayMs);
      timers.add(t);
    });
  });
  await listen(server, host, port);
  return {
    address: { host, port: (server.address() as AddressInfo).port },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.close(() => resolve());
        // open sessions would otherwise hold close() until they end
        for (const s of sessions) s.destroy();
      }),
  };
}
