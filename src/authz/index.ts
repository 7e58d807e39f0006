/** Istio AuthorizationPolicy for the sidecar: compile once per snapshot, evaluate per request or per TCP connection. Pure, no I/O. */
export { compilePolicies, compilePolicy, compileRule, type CompiledPolicy, type CompiledRule, type CompileOptions, type Traffic } from './compile.js';
export { customChecks, evaluate, evaluateShadow, groupPolicies, type CompiledAuthz, type CustomCheck } from './evaluate.js';
export { claimAt, DEFAULT_SPACE_DELIMITED_CLAIMS } from './conditions.js';
export type { Decision, RequestFacts } from './facts.js';
export { httpOnlyFieldsOf } from './http-only.js';
export { compileIpMatch, plainIp } from './ip-match.js';
export { compileStringMatch } from './string-match.js';
export { authorizeConnection, compileConnectionAuthz, connectionFacts, type ConnectionFacts } from './tcp.js';
