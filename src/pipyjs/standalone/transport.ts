/**
 * muxHTTP's transport for standalone scripts: node:http with keep-alive, the header spelling the
 * script's head carries, and http_proxy honoured (a meshed pod's traffic goes through its sidecar).
 * Failures before a response head become synthesised 502/504 responses, as in Pipy.
 */
import { Agent, request } from 'node:http';
import { Data } from '../data.js';
import { encodeHeaders, responseHead } from '../http-head.js';
import { Message } from '../message.js';
import type { HttpTransport } from '../runtime-types.js';

export class NodeHttpTransport implements HttpTransport {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 256 });
  constructor(
    private readonly timeoutMs = 60_000,
    private readonly proxy: string | undefined = process.env['http_proxy'] ?? process.env['HTTP_PROXY'],
  ) {}

  request(target: string, msg: Message): Promise<Message> {
    const colon = target.lastIndexOf(':');
    const host = colon < 0 ? target : target.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = colon < 0 ? 80 : Number(target.slice(colon + 1));
    const head = (msg.head ?? {}) as { method?: string; path?: string; headers?: unknown; headerNames?: unknown };
    const body = msg.body?.toBuffer() ?? Buffer.alloc(0);
    const pairs = encodeHeaders(head.headers, head.headerNames);
    if (body.length > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(head.method ?? 'GET')) pairs.push(['content-length', String(body.length)]);
    const flat = pairs.flat();
    const path = head.path ?? '/';
    let via: { host: string; port: number; path: string } = { host, port, path };
    if (this.proxy) {
      const p = new URL(this.proxy);
      via = { host: p.hostname, port: Number(p.port || 80), path: `http://${target}${path}` };
    }
    return new Promise<Message>((resolve) => {
      const req = request(
        { host: via.host, port: via.port, method: head.method ?? 'GET', path: via.path, headers: flat as unknown as Record<string, string>, agent: this.#agent, setHost: !pairs.some(([k]) => k.toLowerCase() === 'host') },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(new Message(responseHead(res.statusCode ?? 502, res.statusMessage, res.httpVersion, res.rawHeaders), new Data(Buffer.concat(chunks)))));
          res.on('error', (err) => resolve(synthesised(err)));
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => resolve(synthesised(err)));
      req.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** Pipy's client decoder answers for a failed upstream: 504 on timeouts, 502 otherwise. */
export function synthesised(err: unknown): Message {
  const code = String((err as { code?: string }).code ?? '');
  if (code.includes('TIMEDOUT') || code.includes('TIMEOUT')) return new Message({ status: 504, statusText: 'Gateway Timeout' }, String((err as Error).message ?? err));
  const text = code === 'ECONNREFUSED' ? 'Connection Refused' : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'Cannot Resolve' : 'Bad Gateway';
  return new Message({ status: 502, statusText: text }, String((err as Error).message ?? err));
}
