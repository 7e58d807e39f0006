/**
 * Typed errors of the streaming endpoints. Each carries the HTTP status and the Kubernetes
 * `reason` a server answers with, so one helper (`refuseUpgrade`) can turn any of them into the
 * Status body kubectl prints.
 */

export type StreamingErrorReason = 'BadRequest' | 'Unauthorized' | 'Forbidden' | 'InternalError' | 'Timeout';

const CODES: Record<StreamingErrorReason, number> = { BadRequest: 400, Unauthorized: 401, Forbidden: 403, InternalError: 500, Timeout: 504 };

export class StreamingError extends Error {
  readonly reason: StreamingErrorReason;
  readonly httpStatus: number;
  constructor(reason: StreamingErrorReason, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StreamingError';
    this.reason = reason;
    this.httpStatus = CODES[reason];
  }
}

/** What `execClient` throws when the remote end refused or broke the session (not for a non-zero exit). */
export class ExecClientError extends Error {
  /** The HTTP status of a refused upgrade, when there was one. */
  readonly httpStatus: number | undefined;
  constructor(message: string, options: { httpStatus?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ExecClientError';
    this.httpStatus = options.httpStatus;
  }
}
