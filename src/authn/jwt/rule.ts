/** Istio JWTRule (security.istio.io/v1beta1) key and claim fields compiled into a policy (reference §2). */

import { JwksError } from './errors.js';
import { compileJwks } from './key-set.js';
import { compileJwtPolicy, type CompiledJwtPolicy, type JwtPolicyOptions } from './policy.js';
import { RemoteJwks, type RemoteJwksOptions } from './remote-jwks.js';
import { parseStrictJsonObjectText } from './strict-json.js';

export interface JwtRuleKeys {
  issuer: string;
  audiences?: string[];
  /** inline JWKS as a JSON string, as in the Istio CRD */
  jwks?: string;
  jwksUri?: string;
  /** JWKS fetch timeout in ms (Istio's `timeout`, default 5 s) */
  timeoutMs?: number;
}

export type JwtRuleExtras = Omit<JwtPolicyOptions, 'issuer' | 'audiences' | 'keys'> & {
  remote?: Omit<RemoteJwksOptions, 'jwksUri' | 'issuer' | 'timeoutMs'>;
};

/**
 * Keys per Istio: inline `jwks` wins over `jwksUri`; with neither, OpenID discovery on the issuer.
 * Inline sets are compiled strictly (a bad key is a configuration error); remote ones start
 * fetching at once, and tokens fail closed until the first good set arrives.
 */
export function compileJwtRule(rule: JwtRuleKeys, extras: JwtRuleExtras = {}): CompiledJwtPolicy {
  const { remote, ...options } = extras;
  let keys;
  if (rule.jwks !== undefined) {
    const parsed = parseStrictJsonObjectText(rule.jwks);
    if (!parsed.ok) throw new JwksError('JWKS_INVALID', `inline jwks is not a strict JSON object (${parsed.reason})`);
    keys = compileJwks(parsed.value);
  } else {
    const r = new RemoteJwks({ ...remote, issuer: rule.issuer, ...(rule.jwksUri !== undefined ? { jwksUri: rule.jwksUri } : {}), ...(rule.timeoutMs !== undefined ? { timeoutMs: rule.timeoutMs } : {}) });
    r.refresh().catch(() => undefined);
    keys = r;
  }
  return compileJwtPolicy({ ...options, issuer: rule.issuer, audiences: rule.audiences ?? [], keys });
}
