/** Istio's evaluation order: CUSTOM, then DENY, then ALLOW; AUDIT never decides (security-rules.md §1, §11 rule 2). */
import type { InboundExtAuthz } from '../snapshot/types.js';
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

/** One external authorizer the caller must ask; `policy` is the first matching CUSTOM policy naming it. */
export interface CustomCheck {
  policy: string;
  provider: InboundExtAuthz;
}

/**
 * The CUSTOM step, without I/O: a denial when a matching policy has no usable provider (fail closed,
 * like a provider error with Istio's defaults failOpen false / statusOnError 403), otherwise the
 * providers to ask, each once even when several policies name it. Every one must allow; an allow
 * never grants by itself: DENY and ALLOW still run (§1 CUSTOM).
 */
export function customChecks(authz: CompiledAuthz, facts: RequestFacts): Decision | CustomCheck[] {
  const checks: CustomCheck[] = [];
  for (const p of authz.custom) {
    if (!p.matches(facts)) continue;
    if (!p.extAuthz) return { allow: false, policy: p.name, reason: `CUSTOM provider ${JSON.stringify(p.provider ?? '')} is not available (failing closed)` };
    const name = p.extAuthz.Name;
    if (!checks.some((c) => c.provider.Name === name)) checks.push({ policy: p.name, provider: p.extAuthz });
  }
  return checks;
}

const ALLOW_NO_POLICY: Decision = Object.freeze({ allow: true, reason: 'no ALLOW policy applies' });

/** DENY, then ALLOW; the caller has run the CUSTOM step (customChecks and its providers) first. */
export function evaluate(authz: CompiledAuthz, facts: RequestFacts): Decision {
  for (const p of authz.deny) if (p.matches(facts)) return { allow: false, policy: p.name, reason: 'matched a DENY policy' };
  if (authz.allow.length === 0) return ALLOW_NO_POLICY;
  for (const p of authz.allow) if (p.matches(facts)) return { allow: true, policy: p.name, reason: 'matched an ALLOW policy' };
  return { allow: false, reason: 'no ALLOW policy matched' };
}
