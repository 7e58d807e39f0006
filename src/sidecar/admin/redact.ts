/**
 * What `config_dump` must never show: secret values and key material. The applied snapshot itself
 * is untouched (the sidecar still uses it); only the dump is redacted:
 * - an inline `jwks` of a RequestAuthentication (a string) loses the private members of its keys
 *   (`k` of an HMAC `oct` key, `d`/`p`/`q`/`dp`/`dq`/`qi` of a private RSA/EC key);
 * - PluginConfig values (`Plugins` of a service rule) marked secret: the fields a config lists in
 *   `secretFields`, and every field whose name says it is one (password, secret, token, apiKey,
 *   privateKey, signingKey, credential…; a `{secretName}` reference to a Secret is a name, kept);
 * - anywhere: a JWK object's private members, and any string holding a PEM private key.
 * Private keys never reach the snapshot in the first place; this is the second line.
 */
import type { ProxySnapshot } from '../../snapshot/types.js';

export const REDACTED = '[redacted]';

/** Field names whose values are secrets wherever a PluginConfig puts them. */
const SECRET_NAME = /(secret|passw(or)?d|passphrase|token|api[-_]?key|private[-_]?key|signing[-_]?key|credential|bearer|cookie)/i;
/** Private members of a JWK (RFC 7517/7518). */
const JWK_PRIVATE = ['k', 'd', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];
const PEM_PRIVATE = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

export function redactSnapshot(s: ProxySnapshot): ProxySnapshot {
  return walk(s, false) as ProxySnapshot;
}

/** A reference to a Secret by name (`{secretName, key?}`), not a value. */
function isSecretRef(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as Record<string, unknown>)['secretName'] === 'string'
    && Object.keys(v).every((k) => k === 'secretName' || k === 'key' || k === 'namespace');
}

function walk(v: unknown, inPluginConfig: boolean, key?: string): unknown {
  if (typeof v === 'string') {
    if (PEM_PRIVATE.test(v)) return REDACTED;
    if (key === 'jwks') return redactJwks(v);
    return v;
  }
  if (Array.isArray(v)) return v.map((x) => walk(x, inPluginConfig));
  if (typeof v !== 'object' || v === null) return v;
  if (isSecretRef(v)) return { ...(v as Record<string, unknown>) };
  const o = v as Record<string, unknown>;
  const isJwk = typeof o['kty'] === 'string';
  const marked = inPluginConfig && Array.isArray(o['secretFields']) ? new Set((o['secretFields'] as unknown[]).filter((x): x is string => typeof x === 'string')) : undefined;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) {
    if (isJwk && JWK_PRIVATE.includes(k)) out[k] = REDACTED;
    else if (inPluginConfig && (marked?.has(k) || SECRET_NAME.test(k)) && !isSecretRef(x) && k !== 'secretFields') out[k] = redactValue(x);
    else if (k === 'Plugins' && typeof x === 'object' && x !== null && !Array.isArray(x)) {
      // plugin name → its PluginConfig's config
      out[k] = Object.fromEntries(Object.entries(x as Record<string, unknown>).map(([name, config]) => [name, walk(config, true)]));
    }
    else out[k] = walk(x, inPluginConfig, k);
  }
  return out;
}

/** A secret value is replaced whole; an object of secrets keeps its shape so the dump still shows what is configured. */
function redactValue(x: unknown): unknown {
  if (x === null || x === undefined || typeof x === 'boolean') return x;
  if (Array.isArray(x)) return x.map(redactValue);
  if (typeof x === 'object') return Object.fromEntries(Object.entries(x as Record<string, unknown>).map(([k, y]) => [k, redactValue(y)]));
  return REDACTED;
}

function redactJwks(text: string): string {
  try {
    const set = JSON.parse(text) as { keys?: Record<string, unknown>[] };
    for (const k of set.keys ?? []) for (const m of JWK_PRIVATE) if (m in k) k[m] = REDACTED;
    return JSON.stringify(set);
  } catch {
    // not JSON the sidecar could use either; show nothing of it
    return REDACTED;
  }
}
