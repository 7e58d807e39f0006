/**
 * What the token service may issue, and to whom (issue #20): a token is minted only when a grant
 * names the caller and the audience; a token exchange only when a grant names the actor (the
 * authenticated caller), the subject (the subject token's `sub`) and the audience. Nothing is granted
 * by default. Names: a workload is its Istio principal `cluster.local/ns/NS/sa/SA`, an OAuth client
 * `client:ID`; a pattern is the exact name, `*` (anyone), or a prefix ending in `*`
 * (`cluster.local/ns/default/*`). Pure: parsing and decisions, no I/O.
 */

export interface IssueGrant {
  callers: string[];
  audiences: string[];
}

export interface ExchangeGrant {
  actors: string[];
  subjects: string[];
  audiences: string[];
}

export interface StsPolicy {
  issue: IssueGrant[];
  exchange: ExchangeGrant[];
}

export const EMPTY_POLICY: StsPolicy = Object.freeze({ issue: [], exchange: [] }) as StsPolicy;

/** A policy that cannot be used, naming the field (`issue[0].audiences`) and what is wrong with it. */
export class StsPolicyError extends Error {
  override name = 'StsPolicyError';
  constructor(readonly field: string, detail: string) {
    super(`${field}: ${detail}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function patterns(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new StsPolicyError(field, 'must be a non-empty list of names');
  return value.map((p, i) => {
    if (typeof p !== 'string' || p === '') throw new StsPolicyError(`${field}[${i}]`, 'must be a non-empty string');
    if (p.indexOf('*') !== -1 && p.indexOf('*') !== p.length - 1) throw new StsPolicyError(`${field}[${i}]`, `'${p}': '*' may only end a pattern`);
    return p;
  });
}

function grants<T>(value: unknown, field: string, keys: readonly (keyof T & string)[]): T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new StsPolicyError(field, 'must be a list');
  return value.map((g, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(g)) throw new StsPolicyError(at, 'must be an object');
    for (const k of Object.keys(g)) if (!(keys as readonly string[]).includes(k)) throw new StsPolicyError(`${at}.${k}`, `unknown field (expected ${keys.join(', ')})`);
    const out: Record<string, string[]> = {};
    for (const k of keys) out[k] = patterns(g[k], `${at}.${k}`);
    return out as T;
  });
}

/** The policy from its JSON value (`STS_POLICY`); throws StsPolicyError naming the field. */
export function parseStsPolicy(value: unknown): StsPolicy {
  if (value === undefined || value === null) return EMPTY_POLICY;
  if (!isObject(value)) throw new StsPolicyError('(policy)', 'must be an object with "issue" and/or "exchange"');
  for (const k of Object.keys(value)) if (k !== 'issue' && k !== 'exchange') throw new StsPolicyError(k, 'unknown field (expected issue, exchange)');
  return {
    issue: grants<IssueGrant>(value['issue'], 'issue', ['callers', 'audiences']),
    exchange: grants<ExchangeGrant>(value['exchange'], 'exchange', ['actors', 'subjects', 'audiences']),
  };
}

function matches(list: readonly string[], name: string): boolean {
  return list.some((p) => p === '*' || p === name || (p.endsWith('*') && name.startsWith(p.slice(0, -1))));
}

/** Whether `caller` may get a token for `audience` (client credentials). */
export function mayIssue(policy: StsPolicy, caller: string, audience: string): boolean {
  return policy.issue.some((g) => matches(g.callers, caller) && matches(g.audiences, audience));
}

/**
 * Whether `actor` may exchange a token of `subject` for `audience`: `unauthorized_client` when no
 * grant lets this actor act for this subject at all, `invalid_target` when one does but not for this
 * audience (RFC 8693 §2.2.2).
 */
export function exchangeDecision(policy: StsPolicy, actor: string, subject: string, audience: string): 'ok' | 'unauthorized_client' | 'invalid_target' {
  const forPair = policy.exchange.filter((g) => matches(g.actors, actor) && matches(g.subjects, subject));
  if (forPair.length === 0) return 'unauthorized_client';
  return forPair.some((g) => matches(g.audiences, audience)) ? 'ok' : 'invalid_target';
}

/** A client's `audiences` (STS_CLIENTS) as the issue grant it always was. */
export function withClientAudiences(policy: StsPolicy, clients: Iterable<[string, { audiences?: readonly string[] }]>): StsPolicy {
  const extra: IssueGrant[] = [];
  for (const [id, c] of clients) if (c.audiences && c.audiences.length > 0) extra.push({ callers: [`client:${id}`], audiences: [...c.audiences] });
  return extra.length === 0 ? policy : { issue: [...policy.issue, ...extra], exchange: policy.exchange };
}
