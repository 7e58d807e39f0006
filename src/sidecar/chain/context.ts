/** The per-request context object the HTTP chains run on. */
import { BufferBody, EMPTY_BODY } from '../http/body.js';
import type { HeaderMap } from '../http/types.js';
import type { RouteRule } from '../../snapshot/types.js';
import type { MountPoint } from '../../api/types.js';
import type {
  Denial,
  Direction,
  HttpContext,
  HttpRequest,
  HttpResponse,
  Peer,
  RoutedCluster,
  RoutedService,
  RouteMiss,
} from './types.js';

export class RequestContext implements HttpContext {
  response: HttpResponse | undefined = undefined;
  service: RoutedService | undefined = undefined;
  route: RouteRule | undefined = undefined;
  cluster: RoutedCluster | undefined = undefined;
  routeMiss: RouteMiss | undefined = undefined;
  upstream: string | undefined = undefined;
  traceId: string | undefined = undefined;
  denial: Denial | undefined = undefined;
  readonly startedAt = process.hrtime.bigint();

  constructor(
    readonly direction: Direction,
    readonly mountPoint: MountPoint,
    readonly request: HttpRequest,
    readonly source: Peer,
    readonly local: { address: string; port: number },
    readonly upgrade: boolean,
  ) {}

  respond(status: number, body?: string | Buffer | object, headers?: HeaderMap): void {
    this.response = makeResponse(status, body, headers);
  }
}

/** Builds a response; objects become JSON, strings text/plain. */
export function makeResponse(status: number, body?: string | Buffer | object, headers?: HeaderMap): HttpResponse {
  const h: HeaderMap = {};
  if (headers) for (const k in headers) h[k.toLowerCase()] = headers[k];
  if (body === undefined || body === null) {
    h['content-length'] = '0';
    return { status, headers: h, body: EMPTY_BODY };
  }
  let buf: Buffer;
  if (Buffer.isBuffer(body)) buf = body;
  else if (body instanceof Uint8Array) buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  else if (typeof body === 'string') {
    buf = Buffer.from(body, 'utf8');
    h['content-type'] ??= 'text/plain; charset=utf-8';
  } else {
    buf = Buffer.from(JSON.stringify(body), 'utf8');
    h['content-type'] ??= 'application/json';
  }
  h['content-length'] = String(buf.length);
  return { status, headers: h, body: new BufferBody(buf) };
}
