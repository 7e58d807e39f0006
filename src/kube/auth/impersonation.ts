/**
 * User impersonation as kube-apiserver's WithImpersonation filter does it
 * (k8s.io/apiserver/pkg/endpoints/filters/impersonation.go): the `Impersonate-User`,
 * `Impersonate-Group` (repeatable), `Impersonate-Uid` and `Impersonate-Extra-<key>` headers, what
 * `kubectl --as/--as-group/--as-uid` sends. Every requested part is authorized as the `impersonate`
 * verb on `users`, `groups`, `serviceaccounts` (a `system:serviceaccount:NS:NAME` user, in NS),
 * `uids` or `userextras/<key>`; one refusal is kube-apiserver's 403 for that attribute set. The
 * request then runs as the impersonated user, who is not the original one in any way.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { UserInfo } from '../apiserver/backend.js';
import { StatusError } from '../apiserver/status.js';
import { forbiddenError } from './attributes.js';
import type { AuthorizeFn } from './handler.js';
import type { AuthorizationAttributes } from './types.js';

export const IMPERSONATE_USER_HEADER = 'impersonate-user';
export const IMPERSONATE_GROUP_HEADER = 'impersonate-group';
export const IMPERSONATE_UID_HEADER = 'impersonate-uid';
export const IMPERSONATE_EXTRA_PREFIX = 'impersonate-extra-';

interface ImpersonationRequest {
  kind: 'User' | 'ServiceAccount' | 'Group' | 'UserExtra' | 'UID';
  namespace?: string;
  name: string;
  /** the extra key (UserExtra) */
  fieldPath?: string;
}

/** `system:serviceaccount:NS:NAME` → [NS, NAME] (serviceaccount.SplitUsername). */
function splitServiceAccount(username: string): [string, string] | undefined {
  const prefix = 'system:serviceaccount:';
  if (!username.startsWith(prefix)) return undefined;
  const parts = username.slice(prefix.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return [parts[0], parts[1]];
}

/** Go's `%v` of a v1.ObjectReference, for the 500 kube-apiserver answers with. */
function goReference(r: ImpersonationRequest): string {
  return `{${r.kind} ${r.namespace ?? ''} ${r.name}    ${r.fieldPath ?? ''}}`;
}

function values(headers: IncomingHttpHeaders, distinct: Record<string, string[] | undefined> | undefined, name: string): string[] {
  const list = distinct?.[name];
  if (list) return list;
  const v = headers[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** The impersonation the headers ask for, in kube-apiserver's order (buildImpersonationRequests). */
function requestsOf(headers: IncomingHttpHeaders, distinct?: Record<string, string[] | undefined>): ImpersonationRequest[] {
  const out: ImpersonationRequest[] = [];
  const user = values(headers, distinct, IMPERSONATE_USER_HEADER)[0] ?? '';
  if (user) {
    const sa = splitServiceAccount(user);
    out.push(sa ? { kind: 'ServiceAccount', namespace: sa[0], name: sa[1] } : { kind: 'User', name: user });
  }
  let other = false;
  for (const group of values(headers, distinct, IMPERSONATE_GROUP_HEADER)) {
    other = true;
    out.push({ kind: 'Group', name: group });
  }
  for (const header of Object.keys(headers).sort()) {
    if (!header.startsWith(IMPERSONATE_EXTRA_PREFIX)) continue;
    let key = header.slice(IMPERSONATE_EXTRA_PREFIX.length);
    try {
      key = decodeURIComponent(key);
    } catch {
      // kept as sent, as url.PathUnescape's failure does
    }
    for (const value of values(headers, distinct, header)) {
      other = true;
      out.push({ kind: 'UserExtra', fieldPath: key, name: value });
    }
  }
  const uid = values(headers, distinct, IMPERSONATE_UID_HEADER)[0] ?? '';
  if (uid) {
    other = true;
    out.push({ kind: 'UID', name: uid });
  }
  if (other && !user) {
    throw new StatusError('InternalError', `Internal error occurred: requested [${out.map(goReference).join(' ')}] without impersonating a user`);
  }
  return out;
}

function attributesFor(r: ImpersonationRequest): AuthorizationAttributes {
  const base: AuthorizationAttributes = {
    resourceRequest: true, verb: 'impersonate', apiGroup: '', apiVersion: 'v1', resource: '', subresource: '', namespace: '', name: r.name, path: '',
  };
  switch (r.kind) {
    case 'ServiceAccount': return { ...base, resource: 'serviceaccounts', namespace: r.namespace ?? '' };
    case 'User': return { ...base, resource: 'users' };
    case 'Group': return { ...base, resource: 'groups' };
    case 'UserExtra': return { ...base, apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: r.fieldPath ?? '' };
    case 'UID': return { ...base, apiGroup: 'authentication.k8s.io', resource: 'uids' };
  }
}

/** True when the request carries any impersonation header. */
export function wantsImpersonation(headers: IncomingHttpHeaders): boolean {
  return Object.keys(headers).some((h) => h === IMPERSONATE_USER_HEADER || h === IMPERSONATE_GROUP_HEADER || h === IMPERSONATE_UID_HEADER || h.startsWith(IMPERSONATE_EXTRA_PREFIX));
}

/**
 * The user the request runs as: `user` itself without impersonation headers, else the impersonated
 * user once every part was allowed. Throws kube-apiserver's 403 (or its 500 for groups, extras or a
 * uid without a user). Without an authorizer (everything allowed) impersonation is allowed too.
 */
export async function impersonate(
  user: UserInfo, headers: IncomingHttpHeaders, authorize: AuthorizeFn | undefined, distinct?: Record<string, string[] | undefined>,
): Promise<UserInfo> {
  if (!wantsImpersonation(headers)) return user;
  const requests = requestsOf(headers, distinct);
  let username = '';
  let uid = '';
  const groups: string[] = [];
  const extra: Record<string, string[]> = {};
  const groupsSpecified = requests.some((r) => r.kind === 'Group');
  for (const r of requests) {
    const attrs = attributesFor(r);
    if (authorize) {
      let allowed = false;
      let reason = '';
      try {
        const d = await authorize(user, attrs);
        allowed = d.allowed;
        reason = d.reason ?? '';
      } catch (e) {
        reason = (e as Error).message;
      }
      if (!allowed) throw forbiddenError(attrs, user.username, reason);
    }
    switch (r.kind) {
      case 'ServiceAccount':
        username = `system:serviceaccount:${r.namespace}:${r.name}`;
        if (!groupsSpecified) groups.push('system:serviceaccounts', `system:serviceaccounts:${r.namespace}`);
        break;
      case 'User': username = r.name; break;
      case 'Group': groups.push(r.name); break;
      case 'UserExtra': (extra[r.fieldPath ?? ''] ??= []).push(r.name); break;
      case 'UID': uid = r.name; break;
    }
  }
  if (username !== 'system:anonymous') {
    if (!groups.some((g) => g === 'system:authenticated' || g === 'system:unauthenticated')) groups.push('system:authenticated');
  } else if (!groups.includes('system:unauthenticated')) {
    groups.push('system:unauthenticated');
  }
  return { username, groups, ...(uid ? { uid } : {}), ...(Object.keys(extra).length > 0 ? { extra } : {}) };
}
