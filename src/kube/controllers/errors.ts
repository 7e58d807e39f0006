/**
 * Typed failures of the controllers. A failed sync is retried with backoff by the work queue; the
 * codes say why it failed so a log line (and a test) can tell a transient conflict from real trouble.
 */
import { StatusError } from '../apiserver/index.js';

export type ControllerErrorCode =
  /** some objects of a terminating namespace could not be deleted (not merely held by finalizers) */
  | 'CONTENT_DELETION_FAILED'
  /** some custom resources of a terminating CRD could not be deleted */
  | 'INSTANCE_DELETION_FAILED'
  /** the initial list-then-watch could not start from a consistent revision */
  | 'RESYNC_FAILED';

export class ControllerError extends Error {
  readonly code: ControllerErrorCode;
  constructor(code: ControllerErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ControllerError';
    this.code = code;
  }
}

export function isControllerError(e: unknown): e is ControllerError {
  return e instanceof ControllerError;
}

function reasonOf(e: unknown): string | undefined {
  return e instanceof StatusError ? e.status.reason : undefined;
}

/** The object changed or went away under us: a newer event is already on its way. */
export function isStale(e: unknown): boolean {
  const reason = reasonOf(e);
  return reason === 'Conflict' || reason === 'NotFound';
}

export function isNotFound(e: unknown): boolean {
  return reasonOf(e) === 'NotFound';
}

export function isExpired(e: unknown): boolean {
  const reason = reasonOf(e);
  return reason === 'Expired' || reason === 'Gone';
}
