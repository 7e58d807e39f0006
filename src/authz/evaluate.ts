/** Istio's evaluation order: CUSTOM, then DENY, then ALLOW; AUDIT never decides (security-rules.md §1, §11 rule 2). */
import type { InboundExtAuthz } from '../snapshot/types.js';
import type { CompiledPolicy } from './compile.js';
import type { Decision, RequestFacts } from './facts.js';

export interface CompiledAuthz {
  custom: readonly CompiledPolicy[];
  deny: readonly CompiledPolicy[];
  allow: readonly CompiledPolicy[];
  /** `istio.io/dry-run` ALLOW and DENY policies: evaluated on their own by evaluateShadow, never enforced */
  shadow: readonly CompiledPolicy[];
}

export function groupPolicies(policies: readonly CompiledPolicy[]): CompiledAuthz {
  const enforced = policies.filter((p) => !p.dryRun);
  return {
    custom: enforced.filter((p) => p.action === 'CUSTOM'),
    deny: enforced.filter((p) => p.action === 'DENY'),
    allow: enforced.filter((p) => p.action === 'ALLOW'),
    shadow: policies.filter((p) => p.dryRun),
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
    if (!p.extAuthz) return { allow: false, policy: p.name, action: 'CUSTOM', rule: matchingRule(p, facts), reason: `CUSTOM provider ${JSON.stringify(p.provider ?? '')} is not available (failing closed)` };
    const name = p.extAuthz.Name;
    if (!checks.some((c) => c.provider.Name === name)) checks.push({ policy: p.name, provider: p.extAuthz });
  }
  return checks;
}

const ALLOW_NO_POLICY: Decision = Object.freeze({ allow: true, reason: 'no ALLOW policy applies' });

const matchingRule = (p: CompiledPolicy, facts: RequestFacts): number => p.rules.findIndex((r) => r.matches(facts));

/**
 * The ALLOW rule named when no ALLOW policy matched: the first rule of the first policy, with the
 * first condition the request fails. Runs only on a denial.
 */
function closestAllow(allow: readonly CompiledPolicy[], facts: RequestFacts): Decision['closest'] {
  for (const p of allow) {
    for (const [i, r] of p.rules.entries()) {
      const condition = r.failed(facts);
      if (condition !== undefined) return { policy: p.name, rule: i, condition };
    }
    if (p.rules.length === 0) return { policy: p.name, condition: 'rules (unset: the policy matches nothing)' };
  }
  return undefined;
}

/** DENY, then ALLOW; the caller has run the CUSTOM step (customChecks and its providers) first. */
export function evaluate(authz: CompiledAuthz, facts: RequestFacts): Decision {
  return evaluateEnforced(authz.deny, authz.allow, facts);
}

function evaluateEnforced(deny: readonly CompiledPolicy[], allow: readonly CompiledPolicy[], facts: RequestFacts): Decision {
  // one pass over the rules finds both whether the policy matches and which rule did
  for (const p of deny) {
    const rule = matchingRule(p, facts);
    if (rule >= 0) return { allow: false, policy: p.name, action: 'DENY', rule, reason: 'matched a DENY policy' };
  }
  if (allow.length === 0) return ALLOW_NO_POLICY;
  for (const p of allow) {
    const rule = matchingRule(p, facts);
    if (rule >= 0) return { allow: true, policy: p.name, action: 'ALLOW', rule, reason: 'matched an ALLOW policy' };
  }
  const closest = closestAllow(allow, facts);
  return { allow: false, ...(closest ? { closest } : {}), reason: 'no ALLOW policy matched' };
}

/**
 * The decision the dry-run policies alone would take (Istio's shadow rules: DENY, then ALLOW, each
 * among the dry-run policies only); undefined when there are none. Never enforced: the caller logs
 * and counts it.
 */
export function evaluateShadow(authz: CompiledAuthz, facts: RequestFacts): Decision | undefined {
  if (authz.shadow.length === 0) return undefined;
  return evaluateEnforced(authz.shadow.filter((p) => p.action === 'DENY'), authz.shadow.filter((p) => p.action === 'ALLOW'), facts);
}
