/**
 * What the generic API server calls for authorization, in one place: `authorizeRequest` (every
 * request, after authentication: the attributes kube-apiserver builds, a 403 worded as it words it),
 * then `serveAuthRequest` for the requests answered here rather than stored: SelfSubjectAccessReview
 * (`kubectl auth can-i`), SelfSubjectRulesReview (`can-i --list`), SelfSubjectReview (`auth
 * whoami`) and TokenRequest (`serviceaccounts/<name>/token`, `kubectl create token`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Resource } from '../../api/types.js';
import type { UserInfo } from '../apiserver/backend.js';
import type { RequestContext } from '../apiserver/context.js';
import { readBody, sendJson } from '../apiserver/http.js';
import type { RequestInfo, ResourceRequest } from '../apiserver/request-info.js';
import { badRequest, conflict, invalid, notFound } from '../apiserver/status.js';
import { attributesOf, forbiddenError } from './attributes.js';
import { jsonBodyForRbac, parseReviewBody } from './protobuf.js';
import { DEFAULT_TOKEN_SECONDS, MAX_TOKEN_SECONDS, MIN_TOKEN_SECONDS, type ServiceAccountTokens } from './service-account-tokens.js';
import type { AuthorizationAttributes, AuthorizationDecision, PolicyRule } from './types.js';

export type AuthorizeFn = (user: UserInfo, attributes: AuthorizationAttributes) => Promise<AuthorizationDecision> | AuthorizationDecision;

export interface SubjectRules {
  resourceRules: PolicyRule[];
  nonResourceRules: PolicyRule[];
  incomplete: boolean;
  evaluationError?: string;
}

/** The optional services behind the review and token endpoints. */
export interface AuthServices {
  /** what SelfSubjectRulesReview lists for a user in a namespace */
  rules?(user: UserInfo, namespace: string): SubjectRules;
  /** ServiceAccount token issuing (TokenRequest) */
  tokens?: ServiceAccountTokens;
}

/** Throws kube-apiserver's 403 unless every attribute set of the request is allowed. */
export async function authorizeRequest(authorize: AuthorizeFn | undefined, user: UserInfo, method: string, url: URL, info: RequestInfo): Promise<void> {
  if (!authorize) return;
  for (const attrs of attributesOf(method, url, info)) {
    let decision: AuthorizationDecision;
    try {
      decision = await authorize(user, attrs);
    } catch (e) {
      // An authorizer that fails denies, with its error as the reason (as kube-apiserver does).
      decision = { allowed: false, reason: (e as Error).message };
    }
    if (!decision.allowed) throw forbiddenError(attrs, user.username, decision.reason ?? '');
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function reviewKind(info: ResourceRequest): string | undefined {
  if (info.verb !== 'create' || info.name !== undefined) return undefined;
  if (info.group === 'authorization.k8s.io' && info.resource === 'selfsubjectaccessreviews') return 'SelfSubjectAccessReview';
  if (info.group === 'authorization.k8s.io' && info.resource === 'selfsubjectrulesreviews') return 'SelfSubjectRulesReview';
  if (info.group === 'authentication.k8s.io' && info.resource === 'selfsubjectreviews') return 'SelfSubjectReview';
  return undefined;
}

/**
 * Answers the request when it is one of the endpoints above (true), or leaves it to the server
 * (false). Runs after `authorizeRequest` allowed it.
 */
export async function serveAuthRequest(
  ctx: RequestContext, authorize: AuthorizeFn | undefined, services: AuthServices | undefined,
  info: RequestInfo, req: IncomingMessage, res: ServerResponse,
): Promise<boolean> {
  if (info.type !== 'resource') return false;
  if (info.group === 'rbac.authorization.k8s.io' && (info.verb === 'create' || info.verb === 'update')) {
    await jsonBodyForRbac(req, info.resource);
    return false;
  }
  if (info.group === '' && info.resource === 'serviceaccounts' && info.subresource === 'token' && info.verb === 'create') {
    await tokenRequest(ctx, services, info, req, res);
    return true;
  }
  const kind = reviewKind(info);
  if (!kind) return false;
  const body = parseReviewBody(await readBody(req), req.headers['content-type']);
  const review: Record<string, unknown> = isObj(body) ? body : {};
  const apiVersion = `${info.group}/${info.version}`;
  const metadata = { creationTimestamp: null as string | null, ...(isObj(review['metadata']) ? review['metadata'] : {}) };
  const spec = isObj(review['spec']) ? review['spec'] : {};
  if (kind === 'SelfSubjectReview') {
    const userInfo: Record<string, unknown> = { username: ctx.user.username, groups: ctx.user.groups };
    if (ctx.user.uid) userInfo['uid'] = ctx.user.uid;
    if (ctx.user.extra && Object.keys(ctx.user.extra).length > 0) userInfo['extra'] = ctx.user.extra;
    sendJson(res, 201, { kind, apiVersion, metadata, status: { userInfo } });
    return true;
  }
  if (kind === 'SelfSubjectRulesReview') {
    const namespace = str(spec['namespace']);
    const rules: SubjectRules = services?.rules?.(ctx.user, namespace) ?? {
      resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false,
    };
    sendJson(res, 201, { kind, apiVersion, metadata, spec: { namespace }, status: rules });
    return true;
  }
  const ra = isObj(spec['resourceAttributes']) ? spec['resourceAttributes'] : undefined;
  const na = isObj(spec['nonResourceAttributes']) ? spec['nonResourceAttributes'] : undefined;
  if ((ra === undefined) === (na === undefined)) {
    throw invalid('authorization.k8s.io', 'SelfSubjectAccessReview', '', [{
      reason: 'FieldValueInvalid', field: 'spec.resourceAttributes',
      message: `Invalid value: ${ra ? '"resourceAttributes"' : '"null"'}: exactly one of nonResourceAttributes or resourceAttributes must be specified`,
    }]);
  }
  const attrs: AuthorizationAttributes = ra
    ? {
      resourceRequest: true, verb: str(ra['verb']), apiGroup: str(ra['group']), apiVersion: str(ra['version']), resource: str(ra['resource']),
      subresource: str(ra['subresource']), namespace: str(ra['namespace']), name: str(ra['name']), path: '',
    }
    : { resourceRequest: false, verb: str(na!['verb']), apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '', path: str(na!['path']) };
  let decision: AuthorizationDecision = { allowed: true };
  const status: Record<string, unknown> = {};
  if (authorize) {
    try {
      decision = await authorize(ctx.user, attrs);
    } catch (e) {
      decision = { allowed: false };
      status['evaluationError'] = (e as Error).message;
    }
  }
  status['allowed'] = decision.allowed;
  if (decision.reason) status['reason'] = decision.reason;
  sendJson(res, 201, { kind, apiVersion, metadata, spec, status });
  return true;
}

/** `POST /api/v1/namespaces/NS/serviceaccounts/NAME/token` (authentication.k8s.io/v1 TokenRequest). */
async function tokenRequest(ctx: RequestContext, services: AuthServices | undefined, info: ResourceRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const tokens = services?.tokens;
  const name = info.name!;
  const namespace = info.namespace;
  if (!tokens || namespace === undefined) throw notFound('', 'serviceaccounts/token', name);
  const body = parseReviewBody(await readBody(req), req.headers['content-type']);
  if (!isObj(body)) throw badRequest('the request body must be a JSON object');
  if (body['kind'] !== undefined && body['kind'] !== 'TokenRequest') {
    throw badRequest(`the API version in the data (${String(body['apiVersion'])}) does not match the expected API version (authentication.k8s.io/v1) or the kind "${String(body['kind'])}" is not TokenRequest`);
  }
  const spec = isObj(body['spec']) ? { ...body['spec'] } : {};
  const problems: { field: string; message: string }[] = [];
  let audiences = Array.isArray(spec['audiences']) ? (spec['audiences'] as unknown[]).filter((a): a is string => typeof a === 'string') : [];
  if (audiences.length === 0) audiences = [...tokens.apiAudiences];
  const exp = spec['expirationSeconds'] === undefined || spec['expirationSeconds'] === null ? DEFAULT_TOKEN_SECONDS : Number(spec['expirationSeconds']);
  if (!Number.isInteger(exp)) problems.push({ field: 'spec.expirationSeconds', message: `Invalid value: ${JSON.stringify(spec['expirationSeconds'])}: must be an integer` });
  else if (exp < MIN_TOKEN_SECONDS) problems.push({ field: 'spec.expirationSeconds', message: `Invalid value: ${exp}: may not specify a duration less than 10 minutes` });
  else if (exp > MAX_TOKEN_SECONDS) problems.push({ field: 'spec.expirationSeconds', message: `Invalid value: ${exp}: may not specify a duration larger than 2^32 seconds` });
  const ref = isObj(spec['boundObjectRef']) ? spec['boundObjectRef'] : undefined;
  if (ref && str(ref['kind']) !== 'Pod') {
    problems.push({ field: 'spec.boundObjectRef.kind', message: `Unsupported value: ${JSON.stringify(str(ref['kind']))}: supported values: "Pod"` });
  }
  if (problems.length > 0) throw invalid('authentication.k8s.io', 'TokenRequest', name, problems.map((p) => ({ reason: 'FieldValueInvalid', ...p })));
  const sa = ctx.storage.get({ group: '', kind: 'ServiceAccount', namespace, name });
  if (!sa) throw notFound('', 'serviceaccounts', name);
  let pod: Resource | undefined;
  if (ref) {
    const podName = str(ref['name']);
    pod = ctx.storage.get({ group: '', kind: 'Pod', namespace, name: podName });
    if (!pod) throw notFound('', 'pods', podName);
    const uid = str(ref['uid']);
    if (uid && uid !== pod.metadata.uid) {
      throw conflict('', 'Pod', podName, `the UID in the bound object reference (${uid}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
    const podSa = str((pod.spec as { serviceAccountName?: unknown } | undefined)?.serviceAccountName) || 'default';
    if (podSa !== name) throw badRequest(`cannot bind token for serviceaccount ${JSON.stringify(name)} to pod running with different serviceaccount name.`);
    spec['boundObjectRef'] = { kind: 'Pod', apiVersion: 'v1', name: podName, uid: pod.metadata.uid };
  }
  const issued = tokens.issue({ namespace, serviceAccount: sa, audiences, expirationSeconds: exp, ...(pod ? { boundPod: pod } : {}) });
  spec['audiences'] = audiences;
  spec['expirationSeconds'] = exp;
  const meta = isObj(body['metadata']) ? body['metadata'] : {};
  sendJson(res, 201, {
    kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1',
    metadata: { ...meta, name, namespace, creationTimestamp: new Date(ctx.now()).toISOString().replace(/\.\d{3}Z$/, 'Z') },
    spec, status: issued,
  });
}
