/**
 * The response a refused request gets, naming its cause: `x-tessera-reason` always, and for API
 * clients that send `Accept: application/json` a JSON body with the same facts; everyone else keeps
 * Istio's text body (`RBAC: access denied`, `Jwt verification fails`), which clients and tests match.
 * Only configuration reaches the client (policy names, rule indexes, field names) and the caller's
 * own principal, never a token, a header value or a value a policy expects.
 */
import { makeResponse } from '../chain/context.js';
import type { HttpResponse } from '../chain/types.js';
import type { HeaderMap } from '../http/types.js';

export interface DenialFacts {
  /** what refused and why, one line */
  reason: string;
  policy?: string | undefined;
  rule?: number | undefined;
  /** the caller's verified principal (mTLS `source.principal`, else the JWT's `iss/sub`) */
  principal?: string | undefined;
  /** the first condition of the rule the request fails (a field name) */
  condition?: string | undefined;
}

/** A header value: printable ASCII only, so a policy name can never split the response head. */
function headerSafe(v: string): string {
  return v.replace(/[^\x20-\x7e]/g, '?');
}

/** `authorization: no ALLOW policy matched; policy app/allow-get rule 0; condition to[0].operation.methods` */
export function reasonLine(f: DenialFacts): string {
  const parts = [f.reason];
  if (f.policy !== undefined) parts.push(`policy ${f.policy}${f.rule !== undefined && f.rule >= 0 ? ` rule ${f.rule}` : ''}`);
  if (f.condition !== undefined) parts.push(`condition ${f.condition}`);
  if (f.principal !== undefined) parts.push(`principal ${f.principal}`);
  return parts.join('; ');
}

function wantsJson(headers: HeaderMap): boolean {
  const accept = headers['accept'];
  const v = Array.isArray(accept) ? accept.join(',') : (accept ?? '');
  return /(^|[,\s])application\/json\b/i.test(String(v));
}

export function denialResponse(status: number, text: string, facts: DenialFacts, requestHeaders: HeaderMap, extra: HeaderMap = {}): HttpResponse {
  const headers: HeaderMap = { ...extra, 'x-tessera-reason': headerSafe(reasonLine(facts)) };
  if (!wantsJson(requestHeaders)) return makeResponse(status, text, { ...headers, 'content-type': 'text/plain' });
  const body = {
    reason: facts.reason,
    policy: facts.policy ?? null,
    rule: facts.rule !== undefined && facts.rule >= 0 ? facts.rule : null,
    principal: facts.principal ?? null,
    condition: facts.condition ?? null,
  };
  return makeResponse(status, `${JSON.stringify(body)}\n`, { ...headers, 'content-type': 'application/json' });
}
