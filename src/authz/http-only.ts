/**
 * The parts of an AuthorizationPolicy rule that only an HTTP request has (security-rules.md §1
 * "TCP traffic"): a TCP connection has no host, method, path, JWT or headers, so a rule that reads
 * any of them cannot be evaluated as written on TCP.
 */
import type { AuthzOperation, AuthzRule, AuthzSource } from '../api/istio-types.js';

const HTTP_ONLY_SOURCE_FIELDS = ['requestPrincipals', 'notRequestPrincipals'] as const satisfies readonly (keyof AuthzSource)[];
const HTTP_ONLY_OPERATION_FIELDS = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'] as const satisfies readonly (keyof AuthzOperation)[];

/** `request.headers[…]`, `request.auth.*` (principal, audiences, presenter, claims): request attributes. */
export function isHttpOnlyConditionKey(key: string): boolean {
  return key.startsWith('request.');
}

/**
 * The HTTP-only fields and `when` keys a rule uses, in the order written; empty when the rule reads
 * the same on TCP. A field counts as used when it is present at all (even an empty list), so a
 * malformed snapshot errs towards "cannot be evaluated" (fail closed for ALLOW).
 */
export function httpOnlyFieldsOf(rule: AuthzRule): string[] {
  const used = new Set<string>();
  for (const from of rule.from ?? []) {
    for (const k of HTTP_ONLY_SOURCE_FIELDS) if (from.source?.[k] !== undefined) used.add(k);
  }
  for (const to of rule.to ?? []) {
    for (const k of HTTP_ONLY_OPERATION_FIELDS) if (to.operation?.[k] !== undefined) used.add(k);
  }
  for (const c of rule.when ?? []) if (isHttpOnlyConditionKey(c.key)) used.add(c.key);
  return [...used];
}
