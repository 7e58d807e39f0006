/**
 * Loopback plumbing for sidecar tests: a private 127.X.0.0/16 block per test process, polling with
 * deadlines, a tracker that closes every server and socket it saw, and a raw HTTP/1.1 client that
 * can keep a connection open, pipeline, and send chunked bodies.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leaseMeshBlock, releaseMeshBlock } from '../../local/mesh-file.js';

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function until<T>(check: () => T | Promise<T>, message: string, timeoutMs = 5000, intervalMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/**
 * Leases a private 127.X.0.0/16 block the way local meshes do (lease files under the temp dir, held
 * by this process), so test files running in parallel and local meshes never share one; blocks whose
 * sidecar ports are bound anyway are skipped. `release` gives the lease back.
 */
export async function allocateBlock(): Promise<{ block: number; release: () => void }> {
  const held: string[] = [];
  const releaseAll = (dirs: string[]): void => {
    for (const d of dirs) {
      releaseMeshBlock(d);
      rmSync(d, { recursive: true, force: true });
    }
  };
  try {
    for (let i = 0; i < 20; i++) {
      // the lease probes upwards from a hash of the state dir; the pid in its name spreads test files apart
      const dir = mkdtempSync(join(tmpdir(), `tessera-sidecar-test-${process.pid}-`));
      held.push(dir);
      const x = leaseMeshBlock(dir);
      if ((await canBind(`127.${x}.1.1`, 15000)) && (await canBind(`127.${x}.65.1`, 15001)) && (await canBind(`127.${x}.65.2`, 8080))) {
        held.pop();
        return { block: x, release: () => releaseAll([dir]) };
      }
    }
  } finally {
    releaseAll(held);
  }
  throw new Error('no free 127.X.0.0/16 block for the sidecar tests');
}

/** Remembers servers and their connections so `closeAll` leaves nothing open. */
export class Tracker {
  private readonly servers = new Set<Server | HttpServer>();
  private readonly sockets = new Set<Socket>();
  private readonly cleanups: (() => Promise<void> | void)[] = [];

  server<S extends Server | HttpServer>(s: S): S {
    this.servers.add(s);
    s.on('connection', (sock: Socket) => this.socket(sock));
    return s;
  }

  socket<S extends Socket>(s: S): S {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
    return s;
  }

  onClose(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  async closeAll(): Promise<void> {
    const errors: unknown[] = [];
    for (const fn of this.cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    }
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await Promise.all(
      [...this.servers].map(
        (s) =>
          new Promise<void>((resolve) => {
            if (!s.listening) return resolve();
            s.close(() => resolve());
          }),
      ),
    );
    this.servers.clear();
    if (errors.length > 0) throw errors[0];
  }
}

export function listen<S extends Server | HttpServer>(s: S, host: string, port: number): Promise<S> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen({ host, port, exclusive: true }, () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

export interface SimpleResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/**
 * One request through an explicit proxy (absolute-form target) or straight to a server (origin
 * form), on a fresh connection.
 */
export function send(
  to: { host: string; port: number },
  method: string,
  target: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    let host = opts.headers?.['host'];
    if (!host && /^http:\/\//.test(target)) host = new URL(target).host;
    const req = httpRequest({
      host: to.host,
      port: to.port,
      method,
      path: target,
      agent: false,
      headers: { ...(host ? { host } : {}), ...(opts.headers ?? {}) },
    });
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`${method} ${target} timed out`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) });
      });
    });
    req.end(opts.body);
  });
}

export interface RawResponse {
  status: number;
  reason: string;
  headers: Record<string, string>;
  body: Buffer;
  chunked: boolean;
  /** sizes of the chunks as framed on the wire */
  chunkSizes: number[];
}

/** A raw client connection: write bytes, read HTTP/1.1 responses one by one. */
export class RawConnection {
  private buf = Buffer.alloc(0);
  private closed = false;
  private waiters: (() => void)[] = [];
  readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(host: string, port: number, tracker?: Tracker): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      tracker?.socket(s);
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RawConnection(s));
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  private async more(deadline: number, what: string): Promise<void> {
    if (this.closed) throw new Error(`connection closed while waiting for ${what}; got ${JSON.stringify(this.buf.toString('latin1').slice(0, 300))}`);
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.buf.toString('latin1').slice(0, 300))}`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, left);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Reads exactly `n` bytes. */
  async readBytes(n: number, timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length < n) await this.more(deadline, `${n} bytes`);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return Buffer.from(out);
  }

  /** Reads a response head only (status line and headers). */
  async readHead(timeoutMs = 5000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    let end: number;
    while ((end = this.buf.indexOf('\r\n\r\n')) < 0) await this.more(deadline, 'a response head');
    const headText = this.buf.subarray(0, end).toString('latin1');
    this.buf = this.buf.subarray(end + 4);
    const [statusLine, ...lines] = headText.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine ?? '');
    if (!m) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const i = line.indexOf(':');
      const k = line.slice(0, i).trim().toLowerCase();
      const v = line.slice(i + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    return { status: Number(m[1]), reason: m[2] ?? '', headers, body: Buffer.alloc(0), chunked: /chunked/i.test(headers['transfer-encoding'] ?? ''), chunkSizes: [] };
  }

  /** Reads one chunk of a chunked body; null for the last (empty) chunk, after its trailers. */
  async readChunk(timeoutMs = 5000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    let eol: number;
    while ((eol = this.buf.indexOf('\r\n')) < 0) await this.more(deadline, 'a chunk size');
    const size = parseInt(this.buf.subarray(0, eol).toString('latin1').split(';')[0]!, 16);
    this.buf = this.buf.subarray(eol + 2);
    if (size === 0) {
      for (;;) {
        let t: number;
        while ((t = this.buf.indexOf('\r\n')) < 0) await this.more(deadline, 'trailers');
        this.buf = this.buf.subarray(t + 2);
        if (t === 0) return null;
      }
    }
    while (this.buf.length < size + 2) await this.more(deadline, 'chunk data');
    const out = Buffer.from(this.buf.subarray(0, size));
    this.buf = this.buf.subarray(size + 2);
    return out;
  }

  /** Reads one response; `head` for a response to HEAD (no body). */
  async readResponse(opts: { head?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
    const deadline = Date.now() + (opts.timeoutMs ?? 5000);
    const res = await this.readHead(opts.timeoutMs ?? 5000);
    const { status, headers } = res;
    if (opts.head || status === 204 || status === 304 || (status >= 100 && status < 200)) return res;
    if (res.chunked) {
      const parts: Buffer[] = [];
      for (;;) {
        const c = await this.readChunk(Math.max(1, deadline - Date.now()));
        if (c === null) break;
        parts.push(c);
        res.chunkSizes.push(c.length);
      }
      res.body = Buffer.concat(parts);
      return res;
    }
    if (headers['content-length'] !== undefined) {
      res.body = await this.readBytes(Number(headers['content-length']), Math.max(1, deadline - Date.now()));
      return res;
    }
    while (!this.closed) await this.more(deadline, 'the body until close').catch((e: Error) => {
      if (!this.closed) throw e;
    });
    res.body = this.buf;
    this.buf = Buffer.alloc(0);
    return res;
  }
}
