/** Validates and normalises manifest objects against the kind registry; collects every problem. */
import { MeshError, formatProblem, type FieldProblem, type MeshErrorCode } from '../../lib/errors.js';
import type { ManifestDocument } from '../../local/api-contract.js';
import { apiVersionAccepted, kindInfo, type KindInfo } from '../kinds.js';
import type { Resource } from '../types.js';
import './builtin-kinds.js';
import { describeValue, problemsFromIssues } from './problems.js';
import { registeredKind } from './registry.js';

export interface ValidationContext {
  /** file path or `-`, for messages */
  source: string;
  /** 1-based document index within the source */
  index: number;
  line?: number;
  /** the `-n` namespace, if the user gave one */
  namespace?: string;
  /** Tessera itself may validate system-owned kinds (pods) that users may not apply. */
  allowSystemOwned?: boolean;
}

const DEFAULT_NAMESPACE = 'default';

/**
 * Returns `obj` as a normalised resource: apiVersion set to the kind's canonical one, namespace filled
 * (from the object, else `ctx.namespace`, else `default`) for namespaced kinds and removed for
 * cluster-scoped ones, schema defaults applied. Throws one MeshError carrying every problem found.
 */
export function validateResource(obj: unknown, ctx: ValidationContext): Resource {
  const documentLabel = `document ${ctx.index} of ${ctx.source}`;
  if (!isPlainObject(obj)) {
    const message = `expected a mapping with apiVersion and kind, got ${describeValue(obj)}`;
    throw failure('MESH_ERR_MANIFEST_INVALID', [{ resource: documentLabel, field: '', message }]);
  }
  const input = structuredClone(obj); // never alias the caller's object: we normalise in place
  const { kind, apiVersion } = input;
  const metadata = isPlainObject(input.metadata) ? input.metadata : undefined;
  const name = typeof metadata?.name === 'string' && metadata.name !== '' ? metadata.name : undefined;
  const ownNamespace = typeof metadata?.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : undefined;

  const envelopeProblems: FieldProblem[] = [];
  if (typeof kind !== 'string' || kind === '') envelopeProblems.push(missingOrWrong(documentLabel, 'kind', kind));
  if (typeof apiVersion !== 'string' || apiVersion === '') envelopeProblems.push(missingOrWrong(documentLabel, 'apiVersion', apiVersion));
  if (envelopeProblems.length > 0) throw failure('MESH_ERR_MANIFEST_INVALID', envelopeProblems);
  const kindName = kind as string;
  const version = apiVersion as string;

  const info = kindInfo(kindName);
  if (!info || !apiVersionAccepted(info, version)) {
    // scope is unknown for an unknown kind: show whatever namespace the user gave
    const givenNamespace = ownNamespace ?? ctx.namespace;
    const label = !name ? documentLabel : givenNamespace ? `${kindName} ${givenNamespace}/${name}` : `${kindName} ${name}`;
    const message = `no matches for kind "${kindName}" in version "${version}"`;
    throw failure('MESH_ERR_KIND_UNKNOWN', [{ resource: label, field: '', message }]);
  }
  const namespace = info.namespaced ? (ownNamespace ?? ctx.namespace ?? DEFAULT_NAMESPACE) : undefined;
  const resource = resourceLabel(info, name, namespace, documentLabel);

  if (info.systemOwned && !ctx.allowSystemOwned) {
    const message = `${info.plural} are created by Tessera from Deployments and cannot be applied directly; apply a Deployment instead`;
    throw failure('MESH_ERR_FORBIDDEN', [{ resource, field: '', message }]);
  }
  if (info.namespaced && ctx.namespace && ownNamespace && ownNamespace !== ctx.namespace) {
    const message =
      `the namespace from the provided object "${ownNamespace}" does not match the namespace "${ctx.namespace}". ` +
      `You must pass '--namespace=${ownNamespace}' to perform this operation.`;
    throw failure('MESH_ERR_NAMESPACE_MISMATCH', [{ resource, field: 'metadata.namespace', message }]);
  }
  const entry = registeredKind(kindName);
  if (!entry) throw failure('MESH_ERR_INTERNAL', [{ resource, field: '', message: `no validator is registered for kind ${kindName}` }]);

  input.apiVersion = info.apiVersion;
  if (metadata) {
    if (namespace === undefined) delete metadata.namespace; // kubectl ignores a namespace on cluster-scoped kinds
    else metadata.namespace = namespace;
  }

  const parsed = entry.schema.safeParse(input);
  if (!parsed.success) throw failure('MESH_ERR_MANIFEST_INVALID', problemsFromIssues(parsed.error.issues, input, resource));

  const normalised = withoutUndefined(parsed.data) as Resource;
  const semanticProblems: FieldProblem[] = [];
  entry.semanticCheck?.(normalised, (field, message) => semanticProblems.push({ resource, field, message }));
  if (semanticProblems.length > 0) throw failure('MESH_ERR_MANIFEST_INVALID', semanticProblems);
  return normalised;
}

/**
 * Validates every document and throws ONE MeshError listing every problem of every document, so an
 * apply of several documents is all or none. The error's code is the shared code of all failures,
 * or MESH_ERR_MANIFEST_INVALID when they differ.
 */
export function validateDocuments(docs: ManifestDocument[], namespace?: string, opts: { allowSystemOwned?: boolean } = {}): Resource[] {
  const resources: Resource[] = [];
  const failures: MeshError[] = [];
  for (const doc of docs) {
    try {
      const ctx: ValidationContext = { source: doc.source, index: doc.index, line: doc.line };
      if (namespace !== undefined) ctx.namespace = namespace;
      if (opts.allowSystemOwned) ctx.allowSystemOwned = true;
      resources.push(validateResource(doc.object, ctx));
    } catch (e) {
      if (!(e instanceof MeshError)) throw e;
      failures.push(e);
    }
  }
  if (failures.length === 0) return resources;
  const codes = new Set(failures.map((f) => f.code));
  const code = codes.size === 1 ? failures[0]!.code : 'MESH_ERR_MANIFEST_INVALID';
  throw failure(code, failures.flatMap((f) => [...f.problems]));
}

function failure(code: MeshErrorCode, problems: FieldProblem[]): MeshError {
  return new MeshError(code, problems.map(formatProblem).join('\n'), { problems });
}

/** `Kind ns/name`, `Kind name` for cluster-scoped kinds, or `document N of SOURCE` without a name. */
function resourceLabel(info: KindInfo, name: string | undefined, namespace: string | undefined, documentLabel: string): string {
  if (!name) return documentLabel;
  return namespace ? `${info.kind} ${namespace}/${name}` : `${info.kind} ${name}`;
}

function missingOrWrong(resource: string, field: string, value: unknown): FieldProblem {
  const missing = value === undefined || value === null || value === '';
  return { resource, field, message: missing ? 'required field is missing' : `expected string, got ${describeValue(value)}` };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** zod keeps keys that were given as null (now undefined); stored resources should not carry them. */
function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // assigning `__proto__` would swap the copy's prototype; zod drops that key everywhere else too
    if (v !== undefined && k !== '__proto__') out[k] = withoutUndefined(v);
  }
  return out;
}
