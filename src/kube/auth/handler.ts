/**
 * What the generic API server calls for authorization, in one place: `authorizeRequest` (every
 * request, after authentication: the attributes kube-apiserver builds, a 403 worded as it words it),
 * then `serveAuthRequest` for the requests answered here rather than stored: SelfSubjectAccessReview
 * (`kubectl auth can-i`), SelfSubjectRulesReview (`can-i --list`), SelfSubjectReview (`auth
 * whoami`), SubjectAccessReview and LocalSubjectAccessReview (someone else's access), TokenReview
 * and TokenRequest (`serviceaccounts/<name>/token`, `kubectl create token`).
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
  /** ServiceAccount token issuing (TokenRequest), and their audience-specific checks (TokenReview) */
  tokens?: ServiceAccountTokens;
  /** TokenReview: who a bearer token names, through the server's whole authenticator chain */
  authenticateToken?(token: string): Promise<UserInfo | undefined> | UserInfo | undefined;
}

/**
 * The services with `authenticateToken` filled in from a request authenticator, when missing: the
 * token is presented as a request would present it (`Authorization: Bearer`, no client certificate).
 */
export function withTokenReview(services: AuthServices | undefined, authenticate: (req: IncomingMessage) => UserInfo | undefined | Promise<UserInfo | undefined>): AuthServices {
  if (services?.authenticateToken) return services;
  return {
    ...services,
    authenticateToken: (token) => authenticate({ headers: { authorization: `Bearer ${token}` }, socket: {} } as unknown as IncomingMessage),
  };
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

const REVIEWS: Record<string, Record<string, string>> = {
  'authorization.k8s.io': {
    selfsubjectaccessreviews: 'SelfSubjectAccessReview', selfsubjectrulesreviews: 'SelfSubjectRulesReview',
    subjectaccessreviews: 'SubjectAccessReview', localsubjectaccessreviews: 'LocalSubjectAccessReview',
  },
  'authentication.k8s.io': { selfsubjectreviews: 'SelfSubjectReview', tokenreviews: 'TokenReview' },
};
/** The namespaced one; every other review is cluster-scoped. */
const NAMESPACED_REVIEW = 'LocalSubjectAccessReview';

function reviewKind(info: ResourceRequest): string | undefined {
  if (info.verb !== 'create' || info.name !== undefined || info.subresource !== undefined) return undefined;
  if (info.version !== 'v1') return undefined;
  const kind = REVIEWS[info.group]?.[info.resource];
  if (!kind || (kind === NAMESPACED_REVIEW) !== (info.namespace !== undefined)) return undefined;
  return kind;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** `spec.extra` of a SubjectAccessReview: string lists only. */
function extraOf(v: unknown): Record<string, string[]> | undefined {
  if (!isObj(v)) return undefined;
  const out: Record<string, string[]> = {};
  for (const [k, list] of Object.entries(v)) out[k] = strings(list);
  return Object.keys(out).length > 0 ? out : undefined;
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
  const metadata: Record<string, unknown> = { creationTimestamp: null, ...(isObj(review['metadata']) ? review['metadata'] : {}) };
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
  if (kind === 'TokenReview') {
    await tokenReview(services, spec, res, { kind, apiVersion, metadata });
    return true;
  }
  const ra = isObj(spec['resourceAttributes']) ? spec['resourceAttributes'] : undefined;
  const na = isObj(spec['nonResourceAttributes']) ? spec['nonResourceAttributes'] : undefined;
  const problems: { field: string; message: string }[] = [];
  if ((ra === undefined) === (na === undefined)) {
    problems.push({ field: 'spec.resourceAttributes', message: `Invalid value: ${ra ? '"resourceAttributes"' : '"null"'}: exactly one of nonResourceAttributes or resourceAttributes must be specified` });
  }
  // Whose access: the requester's (self), or the spec's user, groups, uid and extra.
  let subject: UserInfo = ctx.user;
  if (kind === 'SubjectAccessReview' || kind === 'LocalSubjectAccessReview') {
    const username = str(spec['user']);
    const groups = strings(spec['groups']);
    if (!username && groups.length === 0) problems.push({ field: 'spec.user', message: 'Invalid value: "": at least one of user or group must be specified' });
    const extra = extraOf(spec['extra']);
    subject = { username, groups, ...(str(spec['uid']) ? { uid: str(spec['uid']) } : {}), ...(extra ? { extra } : {}) };
  }
  if (kind === 'LocalSubjectAccessReview') {
    const namespace = info.namespace!;
    const declared = str(metadata['namespace']);
    if (declared && declared !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    metadata['namespace'] = namespace;
    if (na) problems.push({ field: 'spec.nonResourceAttributes', message: `Invalid value: ${JSON.stringify(na)}: disallowed on this kind of request` });
    if (ra && str(ra['namespace']) !== namespace) {
      problems.push({ field: 'spec.resourceAttributes.namespace', message: `Invalid value: ${JSON.stringify(str(ra['namespace']))}: must match metadata.namespace` });
    }
  }
  if (problems.length > 0) throw invalid('authorization.k8s.io', kind, str(metadata['name']), problems.map((p) => ({ reason: 'FieldValueInvalid', ...p })));
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
      decision = await authorize(subject, attrs);
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

/**
 * `POST /apis/authentication.k8s.io/v1/tokenreviews`: whether a token authenticates, and as whom.
 * With `spec.audiences` the token must be meant for one of them (ServiceAccount tokens are checked
 * against those audiences; other tokens are good for the API's audiences only); the answer's
 * `status.audiences` lists those it is good for.
 */
async function tokenReview(services: AuthServices | undefined, spec: Record<string, unknown>, res: ServerResponse, head: { kind: string; apiVersion: string; metadata: Record<string, unknown> }): Promise<void> {
  const token = str(spec['token']);
  const requested = strings(spec['audiences']);
  const apiAudiences = services?.tokens?.apiAudiences ?? [];
  const status: Record<string, unknown> = { user: {} };
  let user: UserInfo | undefined;
  let audiences: string[] = [];
  if (!token) {
    status['error'] = 'token is required';
  } else {
    const forApi = requested.length === 0 ? apiAudiences : requested.filter((a) => apiAudiences.includes(a));
    if (requested.length > 0 && services?.tokens && forApi.length < requested.length) {
      // A ServiceAccount token meant for another audience: checked against those audiences.
      const other = requested.filter((a) => !apiAudiences.includes(a));
      const sa = services.tokens.authenticate(token, other);
      if (sa) {
        user = sa;
        audiences = other.filter((a) => services.tokens!.authenticate(token, [a]) !== undefined);
      }
    }
    if (!user && (requested.length === 0 || forApi.length > 0)) {
      try {
        user = await services?.authenticateToken?.(token);
      } catch {
        user = undefined;
      }
      if (user) audiences = requested.length === 0 ? [...apiAudiences] : forApi;
    }
    if (!user) status['error'] = requested.length > 0 ? '[invalid bearer token, token audiences is invalid for the target audiences]' : '[invalid bearer token]';
  }
  if (user) {
    status['authenticated'] = true;
    const info: Record<string, unknown> = { username: user.username };
    if (user.uid) info['uid'] = user.uid;
    info['groups'] = user.groups;
    if (user.extra && Object.keys(user.extra).length > 0) info['extra'] = user.extra;
    status['user'] = info;
    if (audiences.length > 0) status['audiences'] = audiences;
  }
  sendJson(res, 201, { ...head, spec, status });
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
