/** Istio AuthorizationPolicy for the sidecar: compile once per snapshot, evaluate per request. Pure, no I/O. */
export { compilePolicies, compilePolicy, compileRule, type CompiledPolicy } from './compile.js';
export { customChecks, evaluate, groupPolicies, type CompiledAuthz, type CustomCheck } from './evaluate.js';
export type { Decision, RequestFacts } from './facts.js';
export { compileIpMatch, plainIp } from './ip-match.js';
export { compileStringMatch } from './string-match.js';
