/** Test-only helpers: a throwaway server, a one-shot HTTP client and a raw-socket HTTP/1.1 exchanger. */

import http from 'node:http';
import net from 'node:net';
import { startHttpbin, type HttpbinServer } from './index.js';

export interface TestServer extends HttpbinServer {
  logLines: string[];
}

/** Runs `fn` against a fresh server on 127.0.0.1 with an ephemeral port, always closing it. */
export async function withServer<T>(fn: (server: TestServer) => Promise<T>): Promise<T> {
  const logLines: string[] = [];
  const server = await startHttpbin({ host: '127.0.0.1', port: 0, log: (line) => logLines.push(line) });
  try {
    return await fn({ ...server, close: () => server.close(), logLines });
  } finally {
    await server.close();
  }
}

export interface TestResponse {
  status: number;
  statusMessage: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  bodyBytes: Buffer;
}

export interface TestRequest {
  method?: string;
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

/** One request on its own connection (no agent pooling). */
export function request(port: number, req: TestRequest): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      { host: '127.0.0.1', port, method: req.method ?? 'GET', path: req.path, headers: req.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const bodyBytes = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            statusMessage: res.statusMessage ?? '',
            headers: res.headers,
            body: bodyBytes.toString('utf8'),
            bodyBytes,
          });
        });
        res.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

export interface RawResponse {
  statusLine: string;
  headers: Map<string, string>;
  body: string;
}

/**
 * A single TCP connection that writes raw request bytes and reads back one response at a time,
 * framed by Content-Length (HEAD responses are read as header-only).
 */
export class RawConnection {
  private readonly socket: net.Socket;
  private buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string): void {
    this.socket.write(data);
  }

  /** Reads the next response; `isHead` means no body follows whatever Content-Length says. */
  async readResponse(isHead = false): Promise<RawResponse> {
    for (;;) {
      const headEnd = this.buffer.indexOf('\r\n\r\n');
      if (headEnd !== -1) {
        const [statusLine = '', ...lines] = this.buffer.toString('latin1', 0, headEnd).split('\r\n');
        const headers = new Map<string, string>();
        for (const line of lines) {
          const colon = line.indexOf(':');
          headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
        }
        const length = isHead ? 0 : Number(headers.get('content-length') ?? 0);
        const total = headEnd + 4 + length;
        if (this.buffer.length >= total) {
          const body = this.buffer.toString('utf8', headEnd + 4, total);
          this.buffer = this.buffer.subarray(total);
          return { statusLine, headers, body };
        }
      }
      if (this.closed) throw new Error(`connection closed; unparsed: ${this.buffer.toString('latin1')}`);
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** Bytes received beyond the responses read so far. */
  pendingBytes(): number {
    return this.buffer.length;
  }

  /** Resolves once the server has closed the connection. */
  async waitClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => (this.waiter = resolve));
  }

  destroy(): void {
    this.socket.destroy();
  }
}
