/**
 * Typed errors with stable codes. Every error a user can see carries a `code` from
 * `MeshErrorCode` and a message that names what was wrong and where (resource, field, line).
 * The catalog of codes is documented in docs/errors.md.
 */

export type MeshErrorCode =
  | 'MESH_ERR_MANIFEST_PARSE'
  | 'MESH_ERR_MANIFEST_INVALID'
  | 'MESH_ERR_KIND_UNKNOWN'
  | 'MESH_ERR_NAMESPACE_MISMATCH'
  | 'MESH_ERR_NOT_FOUND'
  | 'MESH_ERR_ALREADY_EXISTS'
  | 'MESH_ERR_FORBIDDEN'
  | 'MESH_ERR_PLUGIN_COMPILE'
  | 'MESH_ERR_PLUGIN_POLICY_DISABLED'
  | 'MESH_ERR_POLICY_DISABLED'
  | 'MESH_ERR_IMAGE_UNSUPPORTED'
  | 'MESH_ERR_MESH_NOT_RUNNING'
  | 'MESH_ERR_MESH_RUNNING'
  | 'MESH_ERR_MESH_NAME_MISMATCH'
  | 'MESH_ERR_STORE_CORRUPT'
  | 'MESH_ERR_STORE_WRITE'
  | 'MESH_ERR_CONFLICT'
  | 'MESH_ERR_GONE'
  | 'MESH_ERR_SNAPSHOT_INVALID'
  | 'MESH_ERR_PLUGIN_RUNTIME'
  | 'MESH_ERR_UPSTREAM'
  | 'MESH_ERR_NO_ROUTE'
  | 'MESH_ERR_TIMEOUT'
  | 'MESH_ERR_USAGE'
  | 'MESH_ERR_IDENTITY_INVALID'
  | 'MESH_ERR_CERT_INVALID'
  | 'MESH_ERR_CSR_IDENTITY_MISMATCH'
  | 'MESH_ERR_PEER_IDENTITY_REJECTED'
  | 'MESH_ERR_INTERNAL';

/** One problem found in one field of one resource. */
export interface FieldProblem {
  /** e.g. `PluginChain curl/token-injector-chain` or `document 2 of -` */
  resource: string;
  /** kubectl-style field path, e.g. `spec.chains[0].name` ('' for the whole object) */
  field: string;
  message: string;
}

export class MeshError extends Error {
  readonly code: MeshErrorCode;
  readonly problems: readonly FieldProblem[];
  constructor(code: MeshErrorCode, message: string, options: { cause?: unknown; problems?: FieldProblem[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeshError';
    this.code = code;
    this.problems = options.problems ?? [];
  }

  toJSON(): { code: MeshErrorCode; message: string; problems: readonly FieldProblem[] } {
    return { code: this.code, message: this.message, problems: this.problems };
  }

  static fromJSON(json: unknown): MeshError {
    const o = (json ?? {}) as { code?: MeshErrorCode; message?: string; problems?: FieldProblem[] };
    return new MeshError(o.code ?? 'MESH_ERR_INTERNAL', o.message ?? 'unknown error', { problems: o.problems ?? [] });
  }
}

export function isMeshError(e: unknown): e is MeshError {
  return e instanceof MeshError || (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'MeshError');
}

/** Formats a field problem the way the CLI prints it: `Kind ns/name: field: message`. */
export function formatProblem(p: FieldProblem): string {
  return p.field ? `${p.resource}: ${p.field}: ${p.message}` : `${p.resource}: ${p.message}`;
}
