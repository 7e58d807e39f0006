/**
 * Protobuf bodies of the kinds this folder serves, as kubectl's typed clients post them: the review
 * kinds (`kubectl auth can-i`, `auth whoami`: authorization.k8s.io/v1 SelfSubjectAccessReview and
 * SelfSubjectRulesReview, authentication.k8s.io/v1 SelfSubjectReview) and the RBAC kinds (`kubectl
 * create role|clusterrole|rolebinding|clusterrolebinding`). Numbers from each group's generated.proto.
 *
 * The shared codec (src/kube/protobuf) resolves nested messages by name in its own schema map, so the
 * messages below are added to it (never replacing one it has) before decoding with it.
 */
import { compileTables, decodeMessage, isKubeProtobuf, Reader, SCHEMAS as SHARED_SCHEMAS, WireType, type MessageSchema, type MessageTable } from '../protobuf/index.js';
import { META_TABLE } from '../protobuf/tables-meta.js';
import type { IncomingMessage } from 'node:http';
import { parseBody, readBody } from '../apiserver/http.js';
import { badRequest } from '../apiserver/status.js';

const AUTH_TABLE: MessageTable = {
  SelfSubjectAccessReview: { 1: 'metadata ObjectMeta', 2: 'spec SelfSubjectAccessReviewSpec', 3: 'status SubjectAccessReviewStatus' },
  SelfSubjectAccessReviewSpec: { 1: 'resourceAttributes *ResourceAttributes', 2: 'nonResourceAttributes *NonResourceAttributes' },
  ResourceAttributes: { 1: 'namespace string', 2: 'verb string', 3: 'group string', 4: 'version string', 5: 'resource string', 6: 'subresource string', 7: 'name string' },
  NonResourceAttributes: { 1: 'path string', 2: 'verb string' },
  SubjectAccessReviewStatus: { 1: 'allowed bool', 2: 'reason string', 3: 'evaluationError string', 4: 'denied bool' },
  SelfSubjectRulesReview: { 1: 'metadata ObjectMeta', 2: 'spec SelfSubjectRulesReviewSpec' },
  SelfSubjectRulesReviewSpec: { 1: 'namespace string' },
  SelfSubjectReview: { 1: 'metadata ObjectMeta' },

  Role: { 1: 'metadata ObjectMeta', 2: 'rules []PolicyRule' },
  ClusterRole: { 1: 'metadata ObjectMeta', 2: 'rules []PolicyRule', 3: 'aggregationRule *AggregationRule' },
  AggregationRule: { 1: 'clusterRoleSelectors []LabelSelector' },
  PolicyRule: { 1: 'verbs []string', 2: 'apiGroups []string', 3: 'resources []string', 4: 'resourceNames []string', 5: 'nonResourceURLs []string' },
  RoleBinding: { 1: 'metadata ObjectMeta', 2: 'subjects []Subject', 3: 'roleRef RoleRef' },
  ClusterRoleBinding: { 1: 'metadata ObjectMeta', 2: 'subjects []Subject', 3: 'roleRef RoleRef' },
  Subject: { 1: 'kind string', 2: 'apiGroup string', 3: 'name string', 4: 'namespace string' },
  RoleRef: { 1: 'apiGroup string', 2: 'kind string', 3: 'name string' },
};

const SCHEMAS: ReadonlyMap<string, MessageSchema> = (() => {
  const compiled = compileTables(META_TABLE, AUTH_TABLE);
  const shared = SHARED_SCHEMAS as Map<string, MessageSchema>;
  for (const name of Object.keys(AUTH_TABLE)) if (!shared.has(name)) shared.set(name, compiled.get(name)!);
  return compiled;
})();
const utf8 = new TextDecoder('utf-8');

function decodeEnvelope(body: Uint8Array): { apiVersion: string; kind: string; raw: Uint8Array } {
  const out: { apiVersion: string; kind: string; raw: Uint8Array } = { apiVersion: '', kind: '', raw: new Uint8Array(0) };
  const r = new Reader(body, 4);
  while (!r.eof()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WireType.LEN) {
      const tm = new Reader(r.bytes());
      while (!tm.eof()) {
        const t = tm.tag();
        if (t.field === 1 && t.wire === WireType.LEN) out.apiVersion = utf8.decode(tm.bytes());
        else if (t.field === 2 && t.wire === WireType.LEN) out.kind = utf8.decode(tm.bytes());
        else tm.skip(t.wire, t.field);
      }
    } else if (field === 2 && wire === WireType.LEN) {
      out.raw = r.bytes();
    } else {
      r.skip(wire, field);
    }
  }
  return out;
}

/** A review's body as JSON, whether it came as JSON, YAML or protobuf. */
export function parseReviewBody(body: Buffer, contentType: string | undefined): unknown {
  if (!isKubeProtobuf(contentType ?? '')) return parseBody(body, contentType);
  let env: ReturnType<typeof decodeEnvelope>;
  try {
    env = decodeEnvelope(body);
  } catch (e) {
    throw badRequest(`the request body is not valid protobuf: ${(e as Error).message}`);
  }
  // Kinds the shared codec knows (TokenRequest) are decoded by it.
  if (!AUTH_TABLE[env.kind]) return parseBody(body, contentType);
  try {
    return { apiVersion: env.apiVersion, kind: env.kind, ...decodeMessage(SCHEMAS.get(env.kind)!, env.raw) };
  } catch (e) {
    throw badRequest(`the request body is not valid protobuf: ${(e as Error).message}`);
  }
}

const RBAC_KINDS_BY_PLURAL: Record<string, string> = { roles: 'Role', clusterroles: 'ClusterRole', rolebindings: 'RoleBinding', clusterrolebindings: 'ClusterRoleBinding' };

/**
 * A create or update of an RBAC object sent as protobuf: the body is decoded here and handed on as
 * JSON (the request's body stream and content type are replaced), so the generic handlers store it.
 */
export async function jsonBodyForRbac(req: IncomingMessage, plural: string): Promise<void> {
  if (!RBAC_KINDS_BY_PLURAL[plural] || !isKubeProtobuf(req.headers['content-type'] ?? '')) return;
  const json = Buffer.from(JSON.stringify(parseReviewBody(await readBody(req), req.headers['content-type'])));
  req.headers['content-type'] = 'application/json';
  req.headers['content-length'] = String(json.length);
  Object.defineProperty(req, Symbol.asyncIterator, {
    configurable: true,
    value: async function* body() {
      yield json;
    },
  });
}
