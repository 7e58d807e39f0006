/**
 * `metav1.Status`: how the API server reports every failure, with the `reason` and `code` clients
 * branch on (kubectl prints `Error from server (NotFound): pods "x" not found` from these fields).
 */
import { isMeshError, type MeshError, type MeshErrorCode } from '../../lib/errors.js';

export type StatusReason =
  | 'BadRequest' | 'Unauthorized' | 'Forbidden' | 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Gone' | 'Expired'
  | 'Invalid' | 'MethodNotAllowed' | 'NotAcceptable' | 'UnsupportedMediaType' | 'RequestEntityTooLarge'
  | 'Timeout' | 'TooManyRequests' | 'InternalError' | 'ServiceUnavailable';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

const CODES: Record<StatusReason, number> = {
  BadRequest: 400, Unauthorized: 401, Forbidden: 403, NotFound: 404, AlreadyExists: 409, Conflict: 409, Gone: 410,
  Expired: 410, Invalid: 422, MethodNotAllowed: 405, NotAcceptable: 406, UnsupportedMediaType: 415,
  RequestEntityTooLarge: 413, Timeout: 504, TooManyRequests: 429, InternalError: 500, ServiceUnavailable: 503,
};

/** The response header naming the mesh's own error code, for Tessera's clients (kubectl ignores it). */
export const MESH_ERROR_CODE_HEADER = 'x-tessera-error-code';

/** An error the API server turns into a Status response as it is. */
export class StatusError extends Error {
  readonly status: Status;
  /** the MeshError code behind this Status, when there was one */
  meshCode?: string;
  constructor(reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'StatusError';
    this.status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code: CODES[reason] };
    if (details) this.status.details = details;
  }
  get code(): number {
    return this.status.code;
  }
}

export function isStatusError(e: unknown): e is StatusError {
  return e instanceof StatusError;
}

export function successStatus(details?: StatusDetails): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 };
  if (details) s.details = details;
  return s;
}

/** What a resource is called in messages: `pods "x"`, `meshconfigs.config.flomesh.io "y"`. */
export function qualifiedResource(group: string, plural: string): string {
  return group === '' ? plural : `${plural}.${group}`;
}

/** `details` as kube-apiserver writes them: the core group is left out, not written as "". */
function detailsOf(group: string, kind: string, name: string): StatusDetails {
  return group === '' ? { name, kind } : { name, group, kind };
}

export function notFound(group: string, plural: string, name: string): StatusError {
  return new StatusError('NotFound', `${qualifiedResource(group, plural)} "${name}" not found`, detailsOf(group, plural, name));
}

export function alreadyExists(group: string, plural: string, name: string): StatusError {
  return new StatusError('AlreadyExists', `${qualifiedResource(group, plural)} "${name}" already exists`, detailsOf(group, plural, name));
}

export function conflict(group: string, plural: string, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): StatusError {
  return new StatusError('Conflict', `Operation cannot be fulfilled on ${qualifiedResource(group, plural)} "${name}": ${why}`, detailsOf(group, plural, name));
}

/** 422 with one cause per field, worded as kube-apiserver words it. */
export function invalid(group: string, kind: string, name: string, causes: StatusCause[]): StatusError {
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ');
  const what = `${kind}${group ? `.${group}` : ''} "${name}"`;
  return new StatusError('Invalid', `${what} is invalid: ${causes.length > 1 ? `[${list}]` : list}`, { ...detailsOf(group, kind, name), causes });
}

export function badRequest(message: string): StatusError {
  return new StatusError('BadRequest', message);
}

export function methodNotAllowed(message: string): StatusError {
  return new StatusError('MethodNotAllowed', message);
}

export function unsupportedMediaType(contentType: string, allowed: string[]): StatusError {
  return new StatusError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${allowed.join(', ')}`, {
    causes: [{ reason: 'UnsupportedMediaType', message: contentType }],
  });
}

const MESH_REASONS: Partial<Record<MeshErrorCode, StatusReason>> = {
  MESH_ERR_NOT_FOUND: 'NotFound',
  MESH_ERR_ALREADY_EXISTS: 'AlreadyExists',
  MESH_ERR_FORBIDDEN: 'Forbidden',
  MESH_ERR_PLUGIN_POLICY_DISABLED: 'Forbidden',
  MESH_ERR_POLICY_DISABLED: 'Forbidden',
  MESH_ERR_MANIFEST_INVALID: 'Invalid',
  MESH_ERR_MANIFEST_PARSE: 'BadRequest',
  MESH_ERR_KIND_UNKNOWN: 'NotFound',
  MESH_ERR_NAMESPACE_MISMATCH: 'BadRequest',
  MESH_ERR_IMAGE_UNSUPPORTED: 'Invalid',
  MESH_ERR_PLUGIN_COMPILE: 'Invalid',
  MESH_ERR_USAGE: 'BadRequest',
  MESH_ERR_TIMEOUT: 'Timeout',
};

/**
 * Any error as a Status. Mesh validation problems become field causes (`details.causes[].field`),
 * so kubectl shows which field was wrong; unknown errors are 500 without internals.
 */
export function toStatus(e: unknown, target?: { group: string; kind: string; name: string }): Status {
  if (isStatusError(e)) return e.status;
  if (isMeshError(e)) {
    const err = e as MeshError;
    const code = err.code as string;
    const reason: StatusReason = code === 'MESH_ERR_CONFLICT' ? 'Conflict' : code === 'MESH_ERR_GONE' ? 'Expired' : MESH_REASONS[err.code] ?? 'InternalError';
    if (reason === 'Invalid' && target) {
      const causes = err.problems.length > 0
        ? err.problems.map((p) => ({ reason: 'FieldValueInvalid', message: p.message, field: p.field }))
        : [{ reason: 'FieldValueInvalid', message: err.message }];
      return invalid(target.group, target.kind, target.name, causes).status;
    }
    const details: StatusDetails = target ? detailsOf(target.group, target.kind, target.name) : {};
    const causes = err.problems.map((p) => ({ reason: 'FieldValueInvalid', message: p.message, field: p.field }));
    if (causes.length > 0) details.causes = causes;
    return new StatusError(reason, err.message, Object.keys(details).length > 0 ? details : undefined).status;
  }
  return new StatusError('InternalError', `Internal error occurred: ${(e as Error)?.message ?? String(e)}`).status;
}

/** Any error as a StatusError, remembering the mesh's error code behind it (sent as a header). */
export function toStatusError(e: unknown, target?: { group: string; kind: string; name: string }): StatusError {
  if (isStatusError(e)) return e;
  const s = toStatus(e, target);
  const out = new StatusError(s.reason ?? 'InternalError', s.message ?? '', s.details);
  if (isMeshError(e)) out.meshCode = (e as MeshError).code;
  return out;
}
