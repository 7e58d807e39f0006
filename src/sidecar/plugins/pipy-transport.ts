/**
 * muxHTTP + connect() inside the sidecar: `host:port` resolves the way cluster DNS would (through
 * the snapshot's Dns view; IP addresses go straight), the request goes out through the sidecar's
 * upstream pools, and the response comes back whole (verifier answers are small, and a body no
 * one reads must not pin a pooled connection). Failures become Pipy's synthesised 502/504.
 */
import { isIP } from 'node:net';
import { isMeshError } from '../../lib/errors.js';
import { Data, Message, synthesised, type HttpTransport } from '../../pipyjs/index.js';
import type { ModuleEnv } from '../modules/env.js';
import { resolveService } from '../routing/index.js';
import { headerMap, type SidecarBodySource } from './pipy-bridge.js';
import { STATUS_CODES } from 'node:http';

export class SidecarTransport implements HttpTransport {
  readonly #cursor = new Map<string, number>();
  constructor(private readonly env: ModuleEnv) {}

  async request(target: string, msg: Message): Promise<Message> {
    const colon = target.lastIndexOf(':');
    const host = (colon < 0 ? target : target.slice(0, colon)).replace(/^\[|\]$/g, '');
    const port = colon < 0 ? 80 : Number(target.slice(colon + 1));
    let endpoints: readonly string[];
    if (isIP(host)) endpoints = [isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`];
    else {
      const resolved = resolveService(this.env.tables, host, port);
      if (!resolved || resolved.endpoints.length === 0) return new Message({ status: 502, statusText: 'Cannot Resolve' }, `cannot resolve ${target}`);
      endpoints = resolved.endpoints;
    }
    const i = this.#cursor.get(target) ?? 0;
    this.#cursor.set(target, (i + 1) % endpoints.length);
    const endpoint = endpoints[i % endpoints.length]!;
    const head = (msg.head ?? {}) as { method?: string; path?: string; headers?: unknown };
    const headers = headerMap(head.headers);
    const authority = typeof headers['host'] === 'string' ? headers['host'] : target;
    try {
      const body = msg.pending ? await (msg.source as SidecarBodySource).bytes() : msg.body?.toBuffer() ?? null;
      if (body && body.length > 0) headers['content-length'] = String(body.length);
      else delete headers['content-length'];
      delete headers['transfer-encoding'];
      const res = await this.env.upstream.request(endpoint, { method: head.method ?? 'GET', path: head.path ?? '/', authority, headers, httpVersion: '1.1' }, body && body.length > 0 ? body : null);
      const bytes = await res.body.bytes();
      return new Message({ status: res.status, statusText: STATUS_CODES[res.status] ?? '', protocol: 'HTTP/1.1', headers: res.headers, headerNames: {} }, new Data(bytes));
    } catch (err) {
      if (isMeshError(err) && err.code === 'MESH_ERR_TIMEOUT') return synthesised(Object.assign(new Error(err.message), { code: 'ETIMEDOUT' }));
      const cause = (err as { cause?: { code?: string } }).cause;
      return synthesised(Object.assign(new Error((err as Error).message), { code: cause?.code ?? 'ECONNREFUSED' }));
    }
  }
}
