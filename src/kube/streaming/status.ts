/**
 * The metav1.Status documents of the remote-command protocol: the HTTP refusal body and the
 * error-channel document (v4/v5) that carries the exit code.
 */
import type { StreamingError } from './errors.js';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface Status {
  kind?: 'Status';
  apiVersion?: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes?: StatusCause[] };
  code?: number;
}

/** How a command ended, as `ExecSession.finish` takes it. */
export type ExecResult = { exitCode: number } | { error: string };

export const NON_ZERO_EXIT_CODE = 'NonZeroExitCode';
export const EXIT_CODE_CAUSE = 'ExitCode';

export function httpErrorStatus(err: StreamingError): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: err.message,
    reason: err.reason,
    code: err.httpStatus,
  };
}

/**
 * The error-channel Status for a result. kubectl parses the exit code with an 8-bit unsigned
 * parse, so a code outside 0..255 is folded the way a POSIX wait status would be.
 */
export function resultStatus(result: ExecResult): Status {
  if ('error' in result) return { metadata: {}, status: 'Failure', message: result.error, reason: 'InternalError', code: 500 };
  const code = ((result.exitCode % 256) + 256) % 256;
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: exit status ${code}`,
    reason: NON_ZERO_EXIT_CODE,
    details: { causes: [{ reason: EXIT_CODE_CAUSE, message: String(code) }] },
  };
}

/** Reads an error-channel document the way client-go's v4 decoder does (an empty one is success, as in v2/v3). */
export function decodeResultStatus(raw: string): { exitCode: number } | { error: string } {
  if (raw.length === 0) return { exitCode: 0 };
  let s: Partial<Status>;
  try {
    s = JSON.parse(raw) as Partial<Status>;
  } catch {
    return { error: `error stream protocol error: not JSON: ${JSON.stringify(raw.slice(0, 200))}` };
  }
  if (s.status === 'Success') return { exitCode: 0 };
  if (s.status !== 'Failure') return { error: 'error stream protocol error: unknown error' };
  if (s.reason === NON_ZERO_EXIT_CODE) {
    const cause = s.details?.causes?.find((c) => c.reason === EXIT_CODE_CAUSE);
    const n = Number(cause?.message);
    if (cause && Number.isInteger(n) && n >= 0 && n <= 255) return { exitCode: n };
    return { error: `error stream protocol error: no valid ${EXIT_CODE_CAUSE} cause given` };
  }
  return { error: s.message ?? 'command failed' };
}
