/** Compiles `Inbound.Authn` once per snapshot: token locations, verification policies and output headers (security-rules.md §2). */
import { compileJwtPolicy, compileJwtRule, DEFAULT_MAX_TOKEN_BYTES, RemoteJwks, type CompiledJwtPolicy } from '../../authn/index.js';
import { DEFAULT_SPACE_DELIMITED_CLAIMS } from '../../authz/index.js';
import type { InboundJwtRule } from '../../snapshot/types.js';
import { clusterFetch, type FetchTarget } from './cluster-fetch.js';

/** Where a rule looks for its token. */
export type TokenLocation = { kind: 'header'; name: string; prefix: string } | { kind: 'param'; name: string };

export interface CompiledJwtRule {
  /** `ns/name` of the RequestAuthentication, for logs */
  policy: string;
  issuer: string;
  locations: readonly TokenLocation[];
  /** undefined when the rule's keys could not be set up: its tokens fail (fail closed, §11 rule 3) */
  verify: CompiledJwtPolicy | undefined;
  setupError: string | undefined;
  payloadHeader: string | undefined;
  /** `path`: the claim name split at its dots, once per snapshot */
  claimHeaders: readonly { header: string; claim: string; path: readonly string[] }[];
  forwardOriginalToken: boolean;
  /** Istio's `scope` and `permission` plus the rule's `spaceDelimitedClaims`, for the authorization step */
  spaceDelimitedClaims: ReadonlySet<string>;
}

export interface CompiledAuthn {
  rules: readonly CompiledJwtRule[];
  /** the largest `maxTokenBytes` of any rule: a longer token fails them all, unparsed */
  maxTokenBytes: number;
  /** every header any rule writes (lower case): client copies are always removed first (§2 "Header sanitization") */
  outputHeaders: readonly string[];
}

/** Istio's default locations when a rule names none: `Authorization: Bearer`, then `access_token` (§2). */
const DEFAULT_LOCATIONS: readonly TokenLocation[] = [
  { kind: 'header', name: 'authorization', prefix: 'Bearer ' },
  { kind: 'param', name: 'access_token' },
];

interface RemoteEntry {
  jwks: RemoteJwks;
  target: FetchTarget;
}

/**
 * RemoteJwks instances outlive snapshots, keyed per sidecar (its upstream client) and by URI and
 * timeout, so a snapshot change does not refetch; each entry resolves names with the latest tables.
 */
const remotes = new WeakMap<object, Map<string, RemoteEntry>>();

function remoteJwks(rule: InboundJwtRule, target: FetchTarget): RemoteJwks {
  let bySidecar = remotes.get(target.upstream);
  if (!bySidecar) remotes.set(target.upstream, (bySidecar = new Map()));
  const key = `${rule.Rule.jwksUri ?? `discovery:${rule.Rule.issuer}`}|${rule.TimeoutMs ?? ''}`;
  let entry = bySidecar.get(key);
  if (!entry) {
    const holder: RemoteEntry = { target, jwks: undefined as unknown as RemoteJwks };
    holder.jwks = new RemoteJwks({
      ...(rule.Rule.jwksUri !== undefined ? { jwksUri: rule.Rule.jwksUri } : {}),
      issuer: rule.Rule.issuer,
      ...(rule.TimeoutMs !== undefined ? { timeoutMs: rule.TimeoutMs } : {}),
      fetch: clusterFetch(() => holder.target),
    });
    holder.jwks.refresh().catch(() => undefined);
    bySidecar.set(key, (entry = holder));
  }
  entry.target = target;
  return entry.jwks;
}

/** Inline jwks wins over jwksUri (§2 "JWTRule fields"); remote sets come from the shared cache. */
function verifierFor(rule: InboundJwtRule, target: FetchTarget): CompiledJwtPolicy {
  const { issuer, audiences = [], jwks } = rule.Rule;
  const extras = {
    ...(typeof rule.ClockSkewSeconds === 'number' ? { clockSkewSeconds: rule.ClockSkewSeconds } : {}),
    ...(rule.Rule.requiredClaims !== undefined ? { requiredClaims: rule.Rule.requiredClaims } : {}),
    ...(rule.Rule.maxTokenBytes !== undefined ? { maxTokenBytes: rule.Rule.maxTokenBytes } : {}),
  };
  if (jwks !== undefined) return compileJwtRule({ issuer, audiences, jwks }, extras);
  return compileJwtPolicy({ issuer, audiences, keys: remoteJwks(rule, target), ...extras });
}

function locationsOf(rule: InboundJwtRule['Rule']): TokenLocation[] {
  const out: TokenLocation[] = [];
  for (const h of rule.fromHeaders ?? []) out.push({ kind: 'header', name: h.name.toLowerCase(), prefix: h.prefix ?? '' });
  for (const p of rule.fromParams ?? []) out.push({ kind: 'param', name: p });
  return out.length > 0 ? out : [...DEFAULT_LOCATIONS];
}

function spaceDelimited(extra: unknown): ReadonlySet<string> {
  if (!Array.isArray(extra) || extra.length === 0) return DEFAULT_SPACE_DELIMITED_CLAIMS;
  return new Set([...DEFAULT_SPACE_DELIMITED_CLAIMS, ...extra.filter((c): c is string => typeof c === 'string')]);
}

export function compileAuthn(rules: readonly InboundJwtRule[], target: FetchTarget): CompiledAuthn {
  const outputs = new Set<string>();
  const compiled = rules.map((r): CompiledJwtRule => {
    let verify: CompiledJwtPolicy | undefined;
    let setupError: string | undefined;
    try {
      verify = verifierFor(r, target);
    } catch (e) {
      setupError = (e as Error).message;
    }
    const payloadHeader = r.Rule.outputPayloadToHeader?.toLowerCase();
    const claimHeaders = (r.Rule.outputClaimToHeaders ?? []).map((c) => ({ header: c.header.toLowerCase(), claim: c.claim, path: c.claim.split('.') }));
    if (payloadHeader) outputs.add(payloadHeader);
    for (const c of claimHeaders) outputs.add(c.header);
    return {
      policy: r.Policy,
      issuer: r.Rule.issuer,
      locations: locationsOf(r.Rule),
      verify,
      setupError,
      payloadHeader,
      claimHeaders,
      forwardOriginalToken: r.Rule.forwardOriginalToken === true,
      spaceDelimitedClaims: spaceDelimited(r.Rule.spaceDelimitedClaims),
    };
  });
  const maxTokenBytes = Math.max(DEFAULT_MAX_TOKEN_BYTES, ...compiled.map((r) => r.verify?.maxTokenBytes ?? 0));
  return { rules: compiled, maxTokenBytes, outputHeaders: [...outputs] };
}
