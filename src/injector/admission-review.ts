/**
 * The injector as a Kubernetes mutating webhook: an `admission.k8s.io/v1` AdmissionReview request in,
 * the AdmissionReview response out, with the sidecar injection as an RFC 6902 JSON patch (base64, as
 * the API server wants it) computed from `mutatePod` (mutation.ts). Pure functions: the server reads
 * the body and looks the namespace up (the API server sends only the pod and the namespace's name).
 *
 * What it answers (FSM's webhook answers the same way):
 *  * a Pod CREATE in a namespace the webhook covers, injected: `allowed: true`, `patchType: JSONPatch`
 *    (a copy of an injected pod: a patch of its proxy UUID label only);
 *  * a pod not injected (namespace not selected, annotated off, host network), any other kind or
 *    operation: `allowed: true`, no patch;
 *  * a pod that cannot be injected (an injection annotation neither yes nor no, a bad interception
 *    annotation, a container, init container or volume named like the injected ones, an app port the
 *    sidecar listens on, a probe on a port its container does not declare, in this mode also a volume
 *    named like the CA or token volume or a mount clashing with the sidecar's): `allowed: false`, code
 *    400, with a Status naming the pod and the field; a namespace that cannot be read: code 500.
 */
import type { Pod } from '../api/types.js';
import { isMeshError } from '../lib/errors.js';
import { InvalidInjectionAnnotation, mutatePod } from './mutation.js';
import { clusterBootstrap } from './sidecar-spec.js';
import type { NamespaceInfo } from './protocol.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  resource?: { group?: string; version?: string; resource?: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation?: string;
  object?: unknown;
  dryRun?: boolean;
}

export interface AdmissionStatus {
  status: 'Failure';
  code: number;
  reason: string;
  message: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  /** base64 of the JSON patch document */
  patch?: string;
  status?: AdmissionStatus;
  warnings?: string[];
}

export interface AdmissionReview {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** One RFC 6902 operation (only the three a diff needs). */
export type JsonPatchOp =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** A body that is not an AdmissionReview v1 with a request and its uid. */
export class BadAdmissionReview extends Error {
  override name = 'BadAdmissionReview';
}

/** Whether a body is meant as an AdmissionReview (as opposed to the local daemon's `{pod, namespace, meshName}`). */
export function isAdmissionReview(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as { kind?: unknown }).kind === 'AdmissionReview';
}

/** The request of an AdmissionReview v1; throws BadAdmissionReview on anything else. */
export function parseAdmissionReview(body: unknown): AdmissionRequest {
  if (!isAdmissionReview(body)) throw new BadAdmissionReview('body is not an AdmissionReview');
  const review = body as { apiVersion?: unknown; request?: Partial<AdmissionRequest> };
  if (review.apiVersion !== ADMISSION_API_VERSION) {
    throw new BadAdmissionReview(`AdmissionReview ${String(review.apiVersion)} is not supported: the webhook speaks ${ADMISSION_API_VERSION} (admissionReviewVersions: [v1])`);
  }
  const req = review.request;
  if (!req || typeof req !== 'object') throw new BadAdmissionReview('AdmissionReview has no request');
  if (typeof req.uid !== 'string' || req.uid === '') throw new BadAdmissionReview('AdmissionReview request has no uid');
  return req as AdmissionRequest;
}

/** The pod a review asks about, or undefined when the review is not a Pod CREATE (it is then allowed as is). */
export function podOfRequest(req: AdmissionRequest): Pod | undefined {
  const isPod = (req.kind?.kind === 'Pod' && (req.kind.group ?? '') === '') || (req.resource?.resource === 'pods' && (req.resource.group ?? '') === '');
  if (!isPod || (req.subResource ?? '') !== '' || req.operation !== 'CREATE') return undefined;
  return req.object as Pod | undefined;
}

/** The namespace a review's pod goes to (the request names it; a pod's own metadata may not). */
export function namespaceOfRequest(req: AdmissionRequest): string | undefined {
  const pod = req.object as Partial<Pod> | undefined;
  return req.namespace || pod?.metadata?.namespace || undefined;
}

const review = (response: AdmissionResponse): AdmissionReview => ({ apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response });

/** `allowed: true`, with the patch when there is one. */
export function allowed(uid: string, patch: JsonPatchOp[] = []): AdmissionReview {
  if (patch.length === 0) return review({ uid, allowed: true });
  return review({ uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
}

/** `allowed: false` with a Status; the API server shows `message` to the client that created the pod. */
export function denied(uid: string, message: string, code = 400, reason = 'BadRequest'): AdmissionReview {
  return review({ uid, allowed: false, status: { status: 'Failure', code, reason, message } });
}

/**
 * The answer to one review, given the pod's namespace (looked up by the caller; undefined when the
 * review is not about a pod). Never throws for a well-formed request: what cannot be injected is a
 * denial.
 */
export function admit(req: AdmissionRequest, namespace: NamespaceInfo | undefined, meshName: string): { review: AdmissionReview; injected: boolean } {
  const pod = podOfRequest(req);
  if (!pod) return { review: allowed(req.uid), injected: false };
  if (typeof pod !== 'object' || pod === null || typeof pod.metadata !== 'object' || !Array.isArray(pod.spec?.containers)) {
    return { review: denied(req.uid, 'the AdmissionReview\'s object is not a Pod with metadata and spec.containers'), injected: false };
  }
  if (!namespace) return { review: denied(req.uid, `cannot decide sidecar injection: the namespace of the pod is unknown`, 500, 'InternalError'), injected: false };
  try {
    // A pod of a ReplicaSet has only generateName at admission time; the messages want some name.
    const named: Pod = pod.metadata.name ? pod : { ...pod, metadata: { ...pod.metadata, name: pod.metadata.generateName ?? '' } };
    // Kubernetes: nothing of Tessera's starts the sidecar, so it gets the controller's URL, the mesh
    // CA's ConfigMap and a projected ServiceAccount token for the controller (sidecar-spec.ts).
    const result = mutatePod(named, namespace, meshName, { bootstrap: clusterBootstrap(meshName) });
    if (!result.injected) return { review: allowed(req.uid), injected: false };
    return { review: allowed(req.uid, jsonPatch(pod, withName(result.pod, pod.metadata.name))), injected: true };
  } catch (e) {
    if (e instanceof InvalidInjectionAnnotation) return { review: denied(req.uid, e.message), injected: false };
    // a bad interception annotation, a name or port the injection needs, a probe it cannot rewrite
    if (isMeshError(e) && e.code === 'MESH_ERR_MANIFEST_INVALID') return { review: denied(req.uid, e.message), injected: false };
    return { review: denied(req.uid, `sidecar injection failed: ${(e as Error).message}`, 500, 'InternalError'), injected: false };
  }
}

/** Puts back the pod's own (possibly absent) name after the mutation ran on a named copy. */
function withName(pod: Pod, name: string | undefined): Pod {
  if (name) return pod;
  const { name: _drop, ...metadata } = pod.metadata;
  return { ...pod, metadata: metadata as Pod['metadata'] };
}

/** RFC 6901: `~` → `~0`, `/` → `~1` (label keys such as `app.kubernetes.io/name` contain slashes). */
export const pointerSegment = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => k in b && equal(a[k], b[k]));
  }
  return false;
}

/**
 * An RFC 6902 patch that turns `from` into `to`: objects key by key; an array that kept or grew its
 * length is diffed element by element (a rewritten probe is one `replace` of its port, not the
 * containers array) and its new elements are appended with `add …/-` (so a container the API
 * server's other mutations added before us is not overwritten); an array that shrank is replaced.
 */
export function jsonPatch(from: unknown, to: unknown, path = ''): JsonPatchOp[] {
  if (equal(from, to)) return [];
  if (isObject(from) && isObject(to)) {
    const ops: JsonPatchOp[] = [];
    for (const key of Object.keys(from)) {
      if (from[key] !== undefined && to[key] === undefined) ops.push({ op: 'remove', path: `${path}/${pointerSegment(key)}` });
    }
    for (const [key, value] of Object.entries(to)) {
      if (value === undefined) continue;
      const p = `${path}/${pointerSegment(key)}`;
      if (from[key] === undefined) ops.push({ op: 'add', path: p, value });
      else ops.push(...jsonPatch(from[key], value, p));
    }
    return ops;
  }
  if (Array.isArray(from) && Array.isArray(to) && to.length >= from.length) {
    // index paths first, appends after: no operation shifts an index another one uses
    const ops = from.flatMap((x, i) => jsonPatch(x, to[i], `${path}/${i}`));
    return [...ops, ...to.slice(from.length).map((value) => ({ op: 'add' as const, path: `${path}/-`, value }))];
  }
  // The root cannot be replaced by a patch an API server accepts for a pod; a diff never gets here with ''.
  return [{ op: 'replace', path, value: to }];
}

/** Applies a patch made by `jsonPatch` (add/replace/remove), for tests and for checking a patch before it is sent. */
export function applyJsonPatch<T>(doc: T, patch: JsonPatchOp[]): T {
  let root: unknown = structuredClone(doc);
  for (const op of patch) {
    const segments = op.path.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (segments.length === 0) {
      if (op.op === 'remove') throw new Error('cannot remove the root');
      root = structuredClone(op.value);
      continue;
    }
    let parent = root as Record<string, unknown> | unknown[];
    for (const s of segments.slice(0, -1)) {
      const next = Array.isArray(parent) ? parent[Number(s)] : parent[s];
      if (typeof next !== 'object' || next === null) throw new Error(`${op.path}: no parent at ${s}`);
      parent = next as Record<string, unknown> | unknown[];
    }
    const last = segments[segments.length - 1]!;
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (op.op === 'add') parent.splice(index, 0, structuredClone(op.value));
      else if (op.op === 'replace') parent[index] = structuredClone(op.value);
      else parent.splice(index, 1);
    } else if (op.op === 'remove') {
      if (!(last in parent)) throw new Error(`${op.path}: nothing to remove`);
      delete parent[last];
    } else {
      if (op.op === 'replace' && !(last in parent)) throw new Error(`${op.path}: nothing to replace`);
      parent[last] = structuredClone(op.value);
    }
  }
  return root as T;
}
