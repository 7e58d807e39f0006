/** Istio AuthorizationPolicy `when` keys and IP block syntax, parsed once for the validator and the sidecar (security-rules.md §1). */
import { isIP } from 'node:net';

export type ConditionKey =
  | { kind: 'header'; name: string }
  | { kind: 'claims'; path: string[] }
  | {
      kind:
        | 'source.ip' | 'remote.ip' | 'source.namespace' | 'source.principal' | 'destination.ip' | 'destination.port'
        | 'connection.sni' | 'request.auth.principal' | 'request.auth.audiences' | 'request.auth.presenter';
    };

const SIMPLE_KEYS = new Set([
  'source.ip', 'remote.ip', 'source.namespace', 'source.principal', 'destination.ip', 'destination.port',
  'connection.sni', 'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter',
]);

/** RFC 9110 token: what an HTTP header name may be. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parses a `when` key, or returns why it is not supported. Unknown keys are refused rather than
 * "silently ignored" as old Istio docs say (§1 "when keys"), so a typo cannot widen a policy.
 */
export function parseConditionKey(key: string): ConditionKey | string {
  if (SIMPLE_KEYS.has(key)) return { kind: key } as ConditionKey;
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header) {
    const name = header[1]!;
    return HEADER_NAME.test(name) ? { kind: 'header', name: name.toLowerCase() } : `${JSON.stringify(name)} is not a valid header name`;
  }
  if (key.startsWith('request.auth.claims[')) {
    // `[a][b]` reads nested claim b of a (§1); claim names may not contain brackets.
    const m = /^request\.auth\.claims((?:\[[^[\]]+\])+)$/.exec(key);
    if (!m) return 'claims are written request.auth.claims[name] or request.auth.claims[outer][inner]';
    return { kind: 'claims', path: m[1]!.slice(1, -1).split('][') };
  }
  if (key.startsWith('experimental.')) return `${JSON.stringify(key)} is not supported`;
  return `unknown key ${JSON.stringify(key)}; supported: request.headers[NAME], request.auth.claims[NAME], ${[...SIMPLE_KEYS].join(', ')}`;
}

/** Keys whose values are IP addresses or CIDRs. */
export function isIpKey(k: ConditionKey): boolean {
  return k.kind === 'source.ip' || k.kind === 'remote.ip' || k.kind === 'destination.ip';
}

/** A problem with an IP or CIDR (`10.0.0.1`, `10.0.0.0/8`, `fd00::/8`), or undefined. */
export function ipBlockProblem(v: string): string | undefined {
  const slash = v.indexOf('/');
  const addr = slash < 0 ? v : v.slice(0, slash);
  const family = isIP(addr);
  if (family === 0) return `${JSON.stringify(v)} is not an IP address or CIDR`;
  if (slash >= 0) {
    const bits = v.slice(slash + 1);
    const max = family === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `${JSON.stringify(v)} has an invalid prefix length (0-${max})`;
  }
  return undefined;
}

/** A problem with a port written as a string (Istio ports are strings), or undefined. */
export function portStringProblem(v: string): string | undefined {
  return /^[1-9]\d{0,4}$/.test(v) && Number(v) <= 65535 ? undefined : `${JSON.stringify(v)} is not a port number (1-65535)`;
}

/**
 * Istio string match forms: exact, prefix `abc*`, suffix `*abc`, presence `*` (§1 "String
 * matching"). A `*` anywhere else is refused: it would be matched literally, which nobody means.
 */
export function matchValueProblem(v: string): string | undefined {
  if (v === '') return 'must not be empty';
  const inner = v.slice(1, -1);
  if (inner.includes('*') || (v.length > 1 && v.startsWith('*') && v.endsWith('*'))) {
    return `${JSON.stringify(v)}: "*" is allowed only as a whole value, a prefix match "abc*" or a suffix match "*abc"`;
  }
  return undefined;
}
