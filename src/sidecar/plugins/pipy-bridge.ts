/**
 * Converting between the sidecar's HttpContext and PipyJS Messages, both ways, without copying
 * what the script does not touch: the request head shares ctx.request.headers (so header edits
 * land directly), bodies stay streamed unless a filter needs them whole, and a response the
 * script passes through keeps its original body.
 */
import { STATUS_CODES } from 'node:http';
import { Message, decodeHeaders, type BodySource } from '../../pipyjs/index.js';
import { BufferBody, EMPTY_BODY } from '../http/body.js';
import { PushBody } from '../http/push-body.js';
import type { Body, BodySink, HeaderMap } from '../http/types.js';
import type { HttpContext, HttpResponse } from '../chain/types.js';

/** A body still in the sidecar: read whole on demand, or drained when nobody wants it. */
export class SidecarBodySource implements BodySource {
  constructor(readonly body: Body) {}
  bytes(): Promise<Buffer> {
    return this.body.bytes();
  }
  discard(): void {
    if (this.body instanceof PushBody && !this.body.buffered()) this.body.discard();
  }
}

function sourceOf(body: Body): SidecarBodySource | null {
  return body.empty ? null : new SidecarBodySource(body);
}

/** The request as PipyJS sees it (`protocol, headers, headerNames, method, scheme, authority, path`). */
export function requestMessage(ctx: HttpContext): Message {
  const req = ctx.request;
  const headers = req.headers;
  if (headers['connection'] !== undefined) dropConnection(headers);
  const head = {
    protocol: req.httpVersion === '2.0' ? 'HTTP/2' : 'HTTP/1.1',
    headers,
    headerNames: headerNamesOf(req),
    method: req.method,
    scheme: undefined,
    authority: undefined,
    path: req.path,
  };
  return Message.lazy(head, sourceOf(req.body));
}

/**
 * The peer's spellings, when the engine kept them (`rawHeaders` on the request); a sidecar engine
 * that only has lower-case names gives none, and names then go out lower-case.
 */
function headerNamesOf(req: object): Record<string, string> {
  const raw = (req as { rawHeaders?: unknown }).rawHeaders;
  return Array.isArray(raw) ? decodeHeaders(raw as string[]).headerNames : {};
}

/** Pipy keeps `connection` out of `headers`; the headers it names go with it (they are hop-by-hop). */
function dropConnection(h: HeaderMap): void {
  for (const name of String(h['connection']).split(',')) {
    const n = name.trim().toLowerCase();
    if (n && n !== 'host') delete h[n];
  }
  delete h['connection'];
}

/**
 * Writes what the script made of the request back into ctx before the rest of the chain runs.
 * `original` is the message requestMessage() made; its bytes, once read, stay in ctx's body.
 */
export function applyRequest(ctx: HttpContext, msg: Message, original: Message, originalBody: Body): void {
  const req = ctx.request;
  const head = (msg.head ?? {}) as { method?: unknown; path?: unknown; headers?: unknown };
  if (typeof head.method === 'string') req.method = head.method;
  if (typeof head.path === 'string') req.path = head.path;
  if (head.headers !== req.headers) req.headers = headerMap(head.headers);
  const host = req.headers['host'];
  if (typeof host === 'string' && host !== req.authority) req.authority = host;
  if (msg.pending) {
    const src = msg.source as SidecarBodySource;
    if (src.body !== req.body) req.body = src.body;
    return;
  }
  if (req.body === originalBody && ((originalBody.empty && (msg.body?.size ?? 0) === 0) || (!original.pending && msg.body === original.body))) return;
  const bytes = msg.body?.toBuffer() ?? Buffer.alloc(0);
  req.body = bytes.length > 0 ? new BufferBody(bytes) : EMPTY_BODY;
  delete req.headers['transfer-encoding'];
  if (bytes.length > 0) req.headers['content-length'] = String(bytes.length);
  else delete req.headers['content-length'];
}

/** The rest of the chain's response as PipyJS sees it (`status, statusText, protocol, headers, headerNames`). */
export function responseMessage(res: HttpResponse): Message {
  const head = { status: res.status, statusText: STATUS_CODES[res.status] ?? '', protocol: 'HTTP/1.1', headers: res.headers, headerNames: {} };
  return Message.lazy(head, sourceOf(res.body));
}

/** ctx.response from what the script put out: the chain's response (possibly edited) or its own. */
export function toHttpResponse(msg: Message, chainResponse: { msg: Message; res: HttpResponse } | undefined): HttpResponse {
  const head = (msg.head ?? {}) as { status?: unknown; headers?: unknown };
  if (chainResponse && msg === chainResponse.msg) {
    const res = chainResponse.res;
    if (head.status !== undefined) res.status = Number(head.status) || res.status;
    if (head.headers !== res.headers) res.headers = headerMap(head.headers);
    // An empty body the script left empty (a HEAD or 304 answer) keeps the upstream's framing: its
    // content-length describes the body a GET would have had, as Pipy passes it through.
    const untouchedEmpty = res.body.empty && (msg.body?.size ?? 0) === 0;
    if (!msg.pending && !untouchedEmpty) setBody(res, msg.body?.toBuffer() ?? Buffer.alloc(0));
    return res;
  }
  const status = Number(head.status ?? 200) || 200;
  const res: HttpResponse = { status, headers: headerMap(head.headers), body: EMPTY_BODY };
  delete res.headers['transfer-encoding'];
  if (msg.pending) {
    const body = (msg.source as SidecarBodySource).body;
    res.body = body;
    if (body.length !== undefined) res.headers['content-length'] = String(body.length);
    else delete res.headers['content-length'];
    return res;
  }
  setBody(res, msg.body?.toBuffer() ?? Buffer.alloc(0));
  return res;
}

function setBody(res: HttpResponse, bytes: Buffer): void {
  res.body = bytes.length > 0 ? new BufferBody(bytes) : EMPTY_BODY;
  delete res.headers['transfer-encoding'];
  // Pipy always sends content-length on a response, except below 200 and on 204 (and 304)
  if (res.status >= 200 && res.status !== 204 && res.status !== 304) res.headers['content-length'] = String(bytes.length);
  else delete res.headers['content-length'];
}

/** A HeaderMap (lower-case names, string values) from whatever object a script built. */
export function headerMap(headers: unknown): HeaderMap {
  const out: HeaderMap = {};
  if (!headers || typeof headers !== 'object') return out;
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    const name = k.toLowerCase();
    if (name === 'connection' || name === 'keep-alive') continue;
    out[name] = Array.isArray(v) ? v.map(String) : String(v);
  }
  return out;
}

/**
 * What a PipyJS stream abort becomes: a body that fails before its first byte, so the engine
 * closes the connection instead of completing a response (Pipy gives the client an empty reply).
 * `aborted` marks it for an engine that can close before writing the status line.
 */
export function abortedResponse(): HttpResponse {
  return { status: 502, headers: { 'x-tessera-error': 'aborted' }, body: new AbortedBody() };
}

export class AbortedBody implements Body {
  readonly aborted = true;
  readonly length = undefined;
  readonly empty = false;
  bytes(): Promise<Buffer> {
    return Promise.reject(new Error('stream aborted by a PipyJS plugin'));
  }
  text(): Promise<string> {
    return this.bytes().then(String);
  }
  json(): Promise<unknown> {
    return this.bytes();
  }
  pipeTo(sink: BodySink): () => void {
    sink.error(new Error('stream aborted by a PipyJS plugin'));
    return () => undefined;
  }
  buffered(): undefined {
    return undefined;
  }
}
