/** Istio's evaluation order: CUSTOM, then DENY, then ALLOW; AUDIT never decides (security-rules.md §1, §11 rule 2). */
import type { CompiledPolicy } from './compile.js';
import type { Decision, RequestFacts } from './facts.js';

export interface CompiledAuthz {
  custom: readonly CompiledPolicy[];
  deny: readonly CompiledPolicy[];
  allow: readonly CompiledPolicy[];
}

export function groupPolicies(policies: readonly CompiledPolicy[]): CompiledAuthz {
  return {
    custom: policies.filter((p) => p.action === 'CUSTOM'),
    deny: policies.filter((p) => p.action === 'DENY'),
    allow: policies.filter((p) => p.action === 'ALLOW'),
  };
}

const ALLOW_NO_POLICY: Decision = Object.freeze({ allow: true, reason: 'no ALLOW policy applies' });

export function evaluate(authz: CompiledAuthz, facts: RequestFacts): Decision {
  for (const p of authz.custom) {
    // No external authorizer is wired in yet: a matching CUSTOM rule fails closed, as a provider
    // error does with Istio's defaults (failOpen false, statusOnError 403; §1 CUSTOM).
    if (p.matches(facts)) return { allow: false, policy: p.name, reason: `CUSTOM provider ${JSON.stringify(p.provider ?? '')} is not available (failing closed)` };
  }
  for (const p of authz.deny) if (p.matches(facts)) return { allow: false, policy: p.name, reason: 'matched a DENY policy' };
  if (authz.allow.length === 0) return ALLOW_NO_POLICY;
  for (const p of authz.allow) if (p.matches(facts)) return { allow: true, policy: p.name, reason: 'matched an ALLOW policy' };
  return { allow: false, reason: 'no ALLOW policy matched' };
}
