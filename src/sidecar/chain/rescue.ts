/**
 * The one place errors become responses. Modules throw or pass typed errors here; clients get a
 * status that says what class of failure it was and a short text that never carries secrets.
 */
import { isMeshError } from '../../lib/errors.js';
import { makeResponse } from './context.js';
import type { HttpContext } from './types.js';

export function statusFor(err: unknown): number {
  if (isMeshError(err)) {
    switch (err.code) {
      case 'MESH_ERR_UPSTREAM':
        return 502;
      case 'MESH_ERR_TIMEOUT':
        return 504;
      case 'MESH_ERR_NO_ROUTE':
        return 404;
      case 'MESH_ERR_FORBIDDEN':
        return 403;
      default:
        return 500;
    }
  }
  const code = (err as { code?: string } | null)?.code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 504;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EHOSTUNREACH') return 502;
  return 500;
}

const REASON: Record<number, string> = {
  403: 'Access denied',
  404: 'Not found',
  500: 'Internal error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};

/** Sets an error response on ctx for `err`; returns the status chosen. */
export function rescue(ctx: HttpContext, err: unknown, detail?: string): number {
  const status = statusFor(err);
  const text = detail ?? REASON[status] ?? 'Error';
  ctx.response = makeResponse(status, `${text}\n`, { 'x-tessera-error': String(status) });
  return status;
}
