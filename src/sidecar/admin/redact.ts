/**
 * What `config_dump` must never show: symmetric key material. An inline `jwks` of a
 * RequestAuthentication may carry an HMAC secret (`oct` JWK, as the re-issue pattern's receiving
 * side uses); its `k` is replaced. Private keys never reach the snapshot in the first place.
 */
import type { ProxySnapshot } from '../../snapshot/types.js';

const REDACTED = '[redacted]';

export function redactSnapshot(s: ProxySnapshot): ProxySnapshot {
  const rules = s.Inbound.Authn?.JwtRules;
  if (!rules?.some((r) => typeof r.Rule.jwks === 'string' && r.Rule.jwks.includes('"k"'))) return s;
  return {
    ...s,
    Inbound: {
      ...s.Inbound,
      Authn: {
        JwtRules: rules.map((r) => (typeof r.Rule.jwks === 'string' ? { ...r, Rule: { ...r.Rule, jwks: redactJwks(r.Rule.jwks) } } : r)),
      },
    },
  };
}

function redactJwks(text: string): string {
  try {
    const set = JSON.parse(text) as { keys?: Record<string, unknown>[] };
    for (const k of set.keys ?? []) if ('k' in k) k['k'] = REDACTED;
    return JSON.stringify(set);
  } catch {
    // not JSON the sidecar could use either; show nothing of it
    return REDACTED;
  }
}
