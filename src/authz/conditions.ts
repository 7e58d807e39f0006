/** Compiles one `when` condition into a predicate over request facts (security-rules.md §1 "when keys"). */
import type { AuthzCondition } from '../api/istio-types.js';
import { ipBlockProblem, isIpKey, parseConditionKey, portStringProblem, type ConditionKey } from '../api/istio-keys.js';
import type { RequestFacts } from './facts.js';
import { compileIpMatch } from './ip-match.js';
import { compileStringMatch } from './string-match.js';

type Predicate = (f: RequestFacts) => boolean;

/**
 * Claims Istio always reads as space-delimited lists (OAuth 2.0 `scope`, RFC 8693 §4.2; Auth0's
 * `permission`); a RequestAuthentication rule's `spaceDelimitedClaims` adds others (`scp`, `roles`).
 */
export const DEFAULT_SPACE_DELIMITED_CLAIMS: ReadonlySet<string> = new Set(['scope', 'permission']);

/** Only string and list-of-string claims take part; a list matches when any element does (§1). */
function stringsOf(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/**
 * `request.auth.claims[a][b]`: walk nested objects (own properties only); anything else along the way
 * means absent. Also the sidecar's `outputClaimToHeaders` walk.
 */
export function claimAt(claims: Readonly<Record<string, unknown>> | undefined, path: readonly string[]): unknown {
  let cur: unknown = claims;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.prototype.hasOwnProperty.call(cur, p)) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** The attribute a key names, as the list of strings it offers (empty: absent). */
function valuesOf(key: ConditionKey, f: RequestFacts): string[] {
  switch (key.kind) {
    case 'header': {
      // Duplicate headers are one value joined with `,` (§1, rule 9).
      const h = f.headers[key.name];
      return h === undefined ? [] : [typeof h === 'string' ? h : h.join(',')];
    }
    case 'claims': {
      const v = claimAt(f.claims, key.path);
      // Istio splits a string on spaces, empty items dropped; a list is taken as it is.
      if (typeof v === 'string' && (f.spaceDelimitedClaims ?? DEFAULT_SPACE_DELIMITED_CLAIMS).has(key.path.join('.'))) return v.split(' ').filter((s) => s !== '');
      return stringsOf(v);
    }
    case 'request.auth.principal':
      return f.requestPrincipal === undefined ? [] : [f.requestPrincipal];
    case 'request.auth.audiences':
      return stringsOf(f.claims?.['aud']);
    case 'request.auth.presenter':
      return stringsOf(f.claims?.['azp']);
    case 'source.principal':
      return f.sourcePrincipal === undefined ? [] : [f.sourcePrincipal];
    case 'source.namespace':
      return f.sourceNamespace === undefined ? [] : [f.sourceNamespace];
    case 'source.ip':
    case 'remote.ip':
      // No trusted proxies are configured, so the remote address is the socket peer (§1 remoteIpBlocks).
      return [f.sourceIp];
    case 'destination.ip':
      return f.destinationIp === undefined ? [] : [f.destinationIp];
    case 'destination.port':
      return [String(f.port)];
    case 'connection.sni':
      return f.sni === undefined ? [] : [f.sni];
  }
}

function matcherFor(key: ConditionKey, patterns: readonly string[]): (v: string) => boolean {
  if (isIpKey(key)) {
    for (const p of patterns) if (ipBlockProblem(p)) throw new Error(ipBlockProblem(p));
    return compileIpMatch(patterns);
  }
  if (key.kind === 'destination.port') {
    for (const p of patterns) if (portStringProblem(p)) throw new Error(portStringProblem(p));
    const set = new Set(patterns);
    return (v) => set.has(v);
  }
  return compileStringMatch(patterns);
}

/** Throws on an unknown key or a condition without values (the caller fails closed). */
export function compileCondition(c: AuthzCondition): Predicate {
  const key = parseConditionKey(c.key);
  if (typeof key === 'string') throw new Error(key);
  if (c.values === undefined && c.notValues === undefined) throw new Error(`condition ${c.key} needs values or notValues`);
  const pos = c.values === undefined ? undefined : matcherFor(key, c.values);
  const neg = c.notValues === undefined ? undefined : matcherFor(key, c.notValues);
  return (f) => {
    const vs = valuesOf(key, f);
    // notValues: none may match, so an absent attribute satisfies it (§1 "Source fields", negative fields).
    if (pos && !vs.some(pos)) return false;
    if (neg && vs.some(neg)) return false;
    return true;
  };
}
