/**
 * The one error type of the patch functions. `code` is stable so the API server can choose the
 * Kubernetes Status without parsing messages:
 *  - PATCH_INVALID: the patch document itself is malformed (wrong shape, unknown op or directive,
 *    missing member, bad JSON Pointer). kube-apiserver answers these with 400 BadRequest.
 *  - PATCH_TEST_FAILED: an RFC 6902 `test` operation did not hold (422 in kube-apiserver).
 *  - PATCH_CONFLICT: a well-formed patch does not fit the target's current state (RFC 5789 §2.2
 *    "conflicting state": a path that does not exist, an index out of bounds, a list whose elements
 *    are not what the patch assumes). kube-apiserver answers these with 422 (JSON patch) or 409.
 */

export type PatchErrorCode = 'PATCH_INVALID' | 'PATCH_TEST_FAILED' | 'PATCH_CONFLICT';

export class PatchError extends Error {
  readonly code: PatchErrorCode;
  /** JSON Pointer (JSON patch) or dotted field path (merge patches) where the problem is; '' = whole document */
  readonly path: string;
  /** Index of the RFC 6902 operation at fault, when there is one. */
  readonly opIndex: number | undefined;

  constructor(code: PatchErrorCode, message: string, options: { path?: string; opIndex?: number } = {}) {
    super(message);
    this.name = 'PatchError';
    this.code = code;
    this.path = options.path ?? '';
    this.opIndex = options.opIndex;
  }
}

export function isPatchError(e: unknown): e is PatchError {
  return e instanceof PatchError;
}
