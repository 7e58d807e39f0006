/**
 * gRPC's view of the sidecar's own refusals. A gRPC client reads the outcome of a call from
 * `grpc-status`, not from the HTTP status, so a refusal answered as a plain 403 would reach the
 * application as an opaque transport error. A refused gRPC request is answered "trailers-only"
 * instead: HTTP 200, `content-type: application/grpc`, `grpc-status` and `grpc-message` in the one
 * HEADERS frame that ends the stream (the HTTP/2 engine sends an empty response so).
 */
import { makeResponse } from '../chain/context.js';
import type { HttpResponse } from '../chain/types.js';
import type { HeaderMap } from '../http/types.js';

/** grpc/doc/statuscodes.md */
export const GRPC_PERMISSION_DENIED = 7;
export const GRPC_UNAVAILABLE = 14;
export const GRPC_UNAUTHENTICATED = 16;
export const GRPC_RESOURCE_EXHAUSTED = 8;

export function isGrpcRequest(headers: HeaderMap): boolean {
  const ct = headers['content-type'];
  return typeof ct === 'string' && ct.toLowerCase().startsWith('application/grpc');
}

/**
 * The gRPC status for a refusal the sidecar answered with HTTP `status`. A 403 whose failing
 * condition is about request principals (a policy wanted a JWT the call did not prove) is
 * UNAUTHENTICATED, as a missing or invalid token is: the caller must authenticate, not ask for more rights.
 */
export function grpcStatusFor(status: number, reason = ''): number {
  if (status === 401 || (status === 403 && /requestprincipals/i.test(reason))) return GRPC_UNAUTHENTICATED;
  if (status === 403) return GRPC_PERMISSION_DENIED;
  if (status === 429) return GRPC_RESOURCE_EXHAUSTED;
  return GRPC_UNAVAILABLE;
}

/** `grpc-message` is percent-encoded (the gRPC over HTTP/2 spec) beyond printable ASCII and `%`. */
export function grpcMessage(text: string): string {
  return text.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c));
}

/** A trailers-only gRPC answer carrying the refusal; the sidecar's explanatory headers are kept. */
export function grpcRefusal(res: HttpResponse, reason: string): HttpResponse {
  const headers: HeaderMap = {};
  for (const k in res.headers) if (k.startsWith('x-tessera-') || k === 'www-authenticate') headers[k] = res.headers[k];
  headers['content-type'] = 'application/grpc';
  const why = res.headers['x-tessera-reason'];
  headers['grpc-status'] = String(grpcStatusFor(res.status, typeof why === 'string' ? why : reason));
  headers['grpc-message'] = grpcMessage(reason);
  return makeResponse(200, undefined, headers);
}
