/**
 * The RequestAuthentication step for one request (security-rules.md §1 "interplay", §2, §11 rule 5):
 * strip client copies of output headers, find the token, verify it, then set the output headers.
 * No token: pass without identity. A present token that fails: 401. Never logs or echoes a token.
 */
import { unverifiedIssuer, verifyJwtAsync, type JwtClaims } from '../../authn/index.js';
import { claimAt } from '../../authz/index.js';
import type { HeaderMap } from '../http/types.js';
import type { CompiledAuthn, CompiledJwtRule } from './jwt-rules.js';

export type AuthnResult =
  | { ok: true; principal?: string; claims?: JwtClaims; spaceDelimitedClaims?: ReadonlySet<string> }
  /** `reason` is fixed text plus configuration (issuer, header names), safe to log */
  | { ok: false; reason: string };

interface Found {
  token: string;
  /** the header locations it was read from (removed unless forwardOriginalToken) */
  headers: Set<string>;
  rules: CompiledJwtRule[];
}

/** A string view of one header; a repeated header is refused (rule 5: duplicate tokens). */
function single(headers: HeaderMap, name: string): string | undefined | null {
  const v = headers[name];
  if (Array.isArray(v)) return v.length === 1 ? v[0]! : null;
  return v as string | undefined;
}

/**
 * Tokens by value, with the rules that recognise each location. Returns a reason string when a
 * location is malformed: a repeated header or parameter, or a header without any configured prefix
 * (§2 "The prefix must match exactly, otherwise the token is invalid").
 */
function findTokens(authn: CompiledAuthn, headers: HeaderMap, path: string): Map<string, Found> | string {
  const found = new Map<string, Found>();
  const add = (token: string, rule: CompiledJwtRule, header: string | undefined): void => {
    let f = found.get(token);
    if (!f) found.set(token, (f = { token, headers: new Set(), rules: [] }));
    if (header) f.headers.add(header);
    if (!f.rules.includes(rule)) f.rules.push(rule);
  };
  // the query is parsed only when a rule reads a parameter
  let query: URLSearchParams | null | undefined = null;
  /** present header locations → whether any rule's prefix matched */
  let headerMatched: Map<string, boolean> | undefined;
  for (const rule of authn.rules) {
    for (const loc of rule.locations) {
      if (loc.kind === 'param') {
        if (query === null) {
          const q = path.indexOf('?');
          query = q < 0 ? undefined : new URLSearchParams(path.slice(q + 1).split('#')[0]);
        }
        const all = query?.getAll(loc.name) ?? [];
        if (all.length > 1) return `more than one ${loc.name} query parameter`;
        if (all.length === 1) add(all[0]!, rule, undefined);
        continue;
      }
      const v = single(headers, loc.name);
      if (v === null) return `more than one ${loc.name} header`;
      if (v === undefined) continue;
      const matched = v.startsWith(loc.prefix);
      headerMatched ??= new Map();
      headerMatched.set(loc.name, matched || headerMatched.get(loc.name) === true);
      if (matched) add(v.slice(loc.prefix.length), rule, loc.name);
    }
  }
  if (headerMatched) for (const [name, matched] of headerMatched) if (!matched) return `the ${name} header does not start with the configured prefix`;
  return found;
}

/** Nested claim `a.b` (path split at config time); only scalars become header values (Envoy claim_to_headers, §3). */
function claimHeaderValue(claims: JwtClaims, path: readonly string[]): string | undefined {
  const cur = claimAt(claims, path);
  const v = typeof cur === 'string' || typeof cur === 'number' || typeof cur === 'boolean' ? String(cur) : undefined;
  // A claim is attacker-influenced text; control characters would split or break the header.
  return v === undefined || /[\u0000-\u001f\u007f]/.test(v) ? undefined : v;
}

function pickFailure(failures: { rule: CompiledJwtRule; code: string; message: string }[]): string {
  const best = failures[0]!;
  return `token rejected by ${best.rule.policy} (issuer ${JSON.stringify(best.rule.issuer)}): ${best.code}: ${best.message}`;
}

export async function authenticate(authn: CompiledAuthn, request: { path: string; headers: HeaderMap }, now: number): Promise<AuthnResult> {
  const headers = request.headers;
  // Always first, token or not: the app must never see a client-forged payload or claim header.
  for (const h of authn.outputHeaders) delete headers[h];
  const tokens = findTokens(authn, headers, request.path);
  if (typeof tokens === 'string') return { ok: false, reason: tokens };
  if (tokens.size === 0) return { ok: true };
  // Several different tokens make the principal nondeterministic in Istio; refuse them (§2, rule 5).
  if (tokens.size > 1) return { ok: false, reason: 'more than one token in the request' };
  const found = [...tokens.values()][0]!;
  const failures: { rule: CompiledJwtRule; code: string; message: string }[] = [];
  // With several rules, try the one for the issuer the token claims first (unverified, used only
  // for the order and so the failure reported is that rule's); with one rule, skip the extra parse.
  let rules = found.rules;
  if (rules.length > 1) {
    // a token over the size cap fails every rule before any parsing: no point reading its iss
    const iss = found.token.length <= authn.maxTokenBytes ? unverifiedIssuer(found.token) : undefined;
    rules = [...rules.filter((r) => r.issuer === iss), ...rules.filter((r) => r.issuer !== iss)];
  }
  for (const rule of rules) {
    if (!rule.verify) {
      failures.push({ rule, code: 'JWT_KEYS_UNAVAILABLE', message: `the rule could not be set up: ${rule.setupError ?? 'unknown error'}` });
      continue;
    }
    const r = await verifyJwtAsync(found.token, rule.verify, now);
    if (!r.ok) {
      failures.push({ rule, code: r.code, message: r.message });
      continue;
    }
    if (!rule.forwardOriginalToken) for (const h of found.headers) delete headers[h];
    if (rule.payloadHeader) headers[rule.payloadHeader] = r.payloadSegment;
    for (const c of rule.claimHeaders) {
      const v = claimHeaderValue(r.claims, c.path);
      if (v !== undefined) headers[c.header] = v;
    }
    return { ok: true, principal: `${r.claims.iss}/${r.claims.sub ?? ''}`, claims: r.claims, spaceDelimitedClaims: rule.spaceDelimitedClaims };
  }
  return { ok: false, reason: pickFailure(failures) };
}
