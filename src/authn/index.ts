/** Request authentication: strict JWT verification for the sidecar. The only entry point into src/authn. */

export { ALL_ALGORITHMS, type JwtAlgorithm } from './jwt/algorithms.js';
export { JwksError, type JwksErrorCode, type JwtFailureCode, type KeyProblem, type VerifyFailure } from './jwt/errors.js';
export type { KeyEntry } from './jwt/key-entry.js';
export { compileJwks, KeySet, type CompileJwksOptions, type KeySource } from './jwt/key-set.js';
export { compileJwtPolicy, DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_MAX_TOKEN_BYTES, type CompiledJwtPolicy, type JwtPolicyOptions } from './jwt/policy.js';
export { RemoteJwks, type RemoteJwksOptions, type RemoteJwksStatus } from './jwt/remote-jwks.js';
export { discoveryUrl } from './jwt/discovery.js';
export { compileJwtRule, type JwtRuleExtras, type JwtRuleKeys } from './jwt/rule.js';
export { MAX_KEYS_WITHOUT_KID, unverifiedIssuer, verifyJwt, verifyJwtAsync } from './jwt/verify.js';
export type { JwtClaims, VerifyResult, VerifySuccess } from './jwt/verify-result.js';
