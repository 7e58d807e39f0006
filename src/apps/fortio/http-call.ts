/**
 * One fortio connection ("thread"): HTTP/1.1 calls over a single keep-alive socket, reopened when the
 * server closes it, through an http_proxy when the environment names one (a loopback-mode pod reaches
 * the mesh through its sidecar that way). Counts the sockets it opens and where they went.
 */
import http from 'node:http';
import type { Socket } from 'node:net';

export interface CallTarget {
  url: URL;
  /** http://host:port of a forward proxy; the request then carries the absolute URL */
  proxy?: URL;
  /** every request header, Host and User-Agent included (see requestHeaders) */
  headers: [string, string][];
  payload?: Buffer;
  timeoutMs: number;
}

export interface CallResult {
  /** HTTP status, or -1 when no response came (refused, reset, timed out) */
  code: number;
  statusLine: string;
  headerBytes: number;
  totalBytes: number;
  error?: string;
  /** the response as received (status line, headers, body), when the connection keeps bodies */
  raw?: Buffer;
}

/**
 * Host from the URL unless a `-H Host:…` replaces it, fortio's User-Agent unless one is given, the
 * content type of a payload, then the -H headers in order.
 */
export function requestHeaders(url: URL, extra: readonly [string, string][], contentType: string | undefined, userAgent: string): [string, string][] {
  const has = (name: string): boolean => extra.some(([n]) => n.toLowerCase() === name);
  return [
    ...(has('host') ? [] : [['Host', url.host] as [string, string]]),
    ...(has('user-agent') ? [] : [['User-Agent', userAgent] as [string, string]]),
    ...(contentType && !has('content-type') ? [['Content-Type', contentType] as [string, string]] : []),
    ...extra,
  ];
}

export class FortioConnection {
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  readonly #seen = new WeakSet<Socket>();
  sockets = 0;
  readonly peers = new Map<string, number>();

  constructor(private readonly target: CallTarget, private readonly options: { keepBody?: boolean } = {}) {}

  call(): Promise<CallResult> {
    const { url, proxy, headers, payload, timeoutMs } = this.target;
    const via = proxy ?? url;
    return new Promise<CallResult>((resolve) => {
      let done = false;
      const finish = (r: CallResult): void => {
        if (!done) {
          done = true;
          resolve(r);
        }
      };
      const req = http.request({
        agent: this.#agent,
        host: via.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: via.port || 80,
        method: payload ? 'POST' : 'GET',
        path: proxy ? url.href : `${url.pathname}${url.search}`,
        headers: headers.flat(),
        setHost: false,
      });
      req.on('socket', (socket: Socket) => {
        if (this.#seen.has(socket)) return;
        this.#seen.add(socket);
        this.sockets++;
        const record = (): void => {
          const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
          this.peers.set(peer, (this.peers.get(peer) ?? 0) + 1);
        };
        if (socket.remoteAddress) record();
        else socket.once('connect', record);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      req.on('error', (err) => finish({ code: -1, statusLine: '', headerBytes: 0, totalBytes: 0, error: err.message }));
      req.on('response', (res) => {
        const statusLine = `HTTP/${res.httpVersion} ${res.statusCode ?? 0}${res.statusMessage ? ` ${res.statusMessage}` : ''}`;
        let headerBytes = statusLine.length + 2 + 2;
        for (let i = 0; i < res.rawHeaders.length; i += 2) headerBytes += res.rawHeaders[i]!.length + 2 + res.rawHeaders[i + 1]!.length + 2;
        let bodyBytes = 0;
        const body: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          bodyBytes += chunk.length;
          if (this.options.keepBody) body.push(chunk);
        });
        res.on('end', () => {
          const result: CallResult = { code: res.statusCode ?? -1, statusLine, headerBytes, totalBytes: headerBytes + bodyBytes };
          if (this.options.keepBody) {
            const head = [statusLine];
            for (let i = 0; i < res.rawHeaders.length; i += 2) head.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
            result.raw = Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), ...body]);
          }
          finish(result);
        });
        res.on('error', (err) => finish({ code: -1, statusLine, headerBytes: 0, totalBytes: 0, error: err.message }));
      });
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
