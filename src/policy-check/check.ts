/**
 * `tessera policy check`'s core: the decision a pod's sidecar would take on one request, from the
 * pod's applied snapshot, with the sidecar's own code (path normalization, RequestAuthentication,
 * AuthorizationPolicy), and why. Nothing is sent: a CUSTOM provider is named, not asked.
 *
 * Keys. An inline JWKS is in the snapshot (an HMAC secret is not: config_dump redacts it, and such a
 * token cannot be verified here). Keys by `jwksUri` the sidecar fetches through the mesh; the check
 * asks the given `fetchJwks` (the CLI fetches the URI from this machine) and, when that fails, says
 * the token could not be verified instead of guessing.
 */
import { customChecks, evaluate, evaluateShadow, groupPolicies, compilePolicies, type Decision } from '../authz/index.js';
import { authenticate } from '../sidecar/authn/authenticate.js';
import { compileAuthn } from '../sidecar/authn/jwt-rules.js';
import { normalizeTarget } from '../sidecar/engine/index.js';
import type { HeaderMap } from '../sidecar/http/types.js';
import { denialFactsOf, requestFacts } from '../sidecar/modules/inbound-authn-authz.js';
import { pathNormalizationOf } from '../sidecar/runtime.js';
import type { InboundJwtRule, ProxySnapshot } from '../snapshot/types.js';

export interface CheckRequest {
  method: string;
  /** origin-form target, query allowed */
  path: string;
  /** lower-case names */
  headers: Record<string, string>;
  /** a bearer token, sent as `Authorization: Bearer` */
  token?: string | undefined;
  /** the caller's mesh identity `sa.ns` (as a verified mTLS peer) */
  sourceIdentity?: string | undefined;
  sourceIp?: string | undefined;
  /** the pod port the request arrives on; default: the pod's first inbound port */
  port?: number | undefined;
}

export interface JwtOutcome {
  /** a token was found where a rule looks for one */
  present: boolean;
  verified: boolean;
  /** `iss/sub` of a verified token */
  principal?: string | undefined;
  /** why the token failed, or why it could not be checked here (fixed text, never the token) */
  reason?: string | undefined;
  /** the token's keys were not available to the check: its verdict is unknown */
  unverifiable?: boolean;
}

export interface CheckResult {
  decision: 'allowed' | 'denied' | 'unknown';
  /** the status the sidecar answers a refusal with (401 token, 403 policy); 0 when allowed */
  status: number;
  reason: string;
  policy?: string | undefined;
  rule?: number | undefined;
  condition?: string | undefined;
  principal?: string | undefined;
  /** the path the policies saw, after the mesh's normalization */
  normalizedPath: string;
  port: number;
  jwt?: JwtOutcome | undefined;
  /** CUSTOM providers the sidecar would ask (each must allow); not asked here */
  externalAuthorizers: string[];
  /** the decision of the istio.io/dry-run policies, never enforced */
  shadow?: { decision: 'allowed' | 'denied'; policy?: string | undefined; rule?: number | undefined; condition?: string | undefined } | undefined;
  /** AuthorizationPolicies and RequestAuthentications that apply to the pod (`ns/name`), in evaluation order */
  policies: string[];
}

export type FetchJwks = (uri: string, timeoutMs: number) => Promise<string>;

/** The pod's first inbound port (TrafficMatches are keyed by it), the port a request defaults to. */
function defaultPort(s: ProxySnapshot): number {
  const ports = Object.keys(s.Inbound.TrafficMatches ?? {}).map(Number).filter((n) => Number.isInteger(n) && n > 0).sort((a, b) => a - b);
  return ports[0] ?? 80;
}

/** Rules whose keys the check can use: inline ones as they are, jwksUri fetched; `missing` names the rules it could not key. */
async function keyedRules(rules: readonly InboundJwtRule[], fetchJwks: FetchJwks | undefined): Promise<{ rules: InboundJwtRule[]; missing: Map<string, string> }> {
  const out: InboundJwtRule[] = [];
  const missing = new Map<string, string>();
  for (const r of rules) {
    if (typeof r.Rule.jwks === 'string') {
      if (r.Rule.jwks.includes('[redacted]')) missing.set(r.Rule.issuer, `the inline JWKS of ${r.Policy} holds a secret key the config dump does not show`);
      out.push(r);
      continue;
    }
    const uri = r.Rule.jwksUri;
    let jwks: string | undefined;
    let why = uri ? `keys at ${uri} could not be fetched from this machine` : `issuer ${r.Rule.issuer} has no jwksUri (OpenID discovery is not done by policy check)`;
    if (uri && fetchJwks) {
      try {
        jwks = await fetchJwks(uri, r.TimeoutMs ?? 5000);
      } catch (e) {
        why = `${why} (${(e as Error).message}); the sidecar fetches them through the mesh`;
      }
    }
    if (jwks === undefined) missing.set(r.Rule.issuer, why);
    // an empty key set: the rule cannot verify, which the check reports as unknown rather than as the sidecar's verdict
    out.push({ ...r, Rule: { ...r.Rule, jwks: jwks ?? '{"keys":[]}' } });
  }
  return { rules: out, missing };
}

/** Never called: every rule handed to compileAuthn carries its keys inline. */
const NO_MESH_FETCH = { tables: undefined, upstream: {} } as unknown as Parameters<typeof compileAuthn>[1];

export async function checkRequest(snapshot: ProxySnapshot, req: CheckRequest, opts: { now?: number; fetchJwks?: FetchJwks } = {}): Promise<CheckResult> {
  const port = req.port ?? defaultPort(snapshot);
  const jwtRules = Array.isArray(snapshot.Inbound.Authn?.JwtRules) ? snapshot.Inbound.Authn.JwtRules : [];
  const policies = Array.isArray(snapshot.Inbound.Authz?.Policies) ? snapshot.Inbound.Authz.Policies : [];
  const applied = [...new Set(jwtRules.map((r) => r.Policy))].map((p) => `RequestAuthentication ${p}`).concat(policies.map((p) => `AuthorizationPolicy ${p.Name}${p.DryRun ? ' (dry-run)' : ''}`));
  const base = { port, externalAuthorizers: [] as string[], policies: applied };

  const normalized = normalizeTarget(req.path, pathNormalizationOf(snapshot));
  if (typeof normalized !== 'string') return { ...base, decision: 'denied', status: normalized.status, reason: `request target: ${normalized.reason}`, normalizedPath: req.path };
  const headers: HeaderMap = { ...req.headers };
  if (req.token !== undefined) headers['authorization'] = `Bearer ${req.token}`;
  const authority = headers['host'] as string | undefined ?? `localhost:${port}`;

  let jwt: JwtOutcome | undefined;
  let authn: { principal?: string | undefined; claims?: Record<string, unknown> | undefined; spaceDelimitedClaims?: ReadonlySet<string> | undefined } = {};
  if (jwtRules.length > 0) {
    const { rules, missing } = await keyedRules(jwtRules, opts.fetchJwks);
    const r = await authenticate(compileAuthn(rules, NO_MESH_FETCH), { path: normalized, headers }, opts.now ?? Date.now());
    if (!r.ok) {
      const unknownKeys = [...missing].find(([issuer]) => r.reason.includes(issuer));
      if (unknownKeys) {
        jwt = { present: true, verified: false, unverifiable: true, reason: unknownKeys[1] };
        return { ...base, jwt, decision: 'unknown', status: 0, reason: `the token could not be verified here: ${unknownKeys[1]}`, normalizedPath: normalized };
      }
      jwt = { present: true, verified: false, reason: r.reason };
      return { ...base, jwt, decision: 'denied', status: 401, reason: `authentication: ${r.reason}`, normalizedPath: normalized };
    }
    jwt = r.principal !== undefined ? { present: true, verified: true, principal: r.principal } : { present: false, verified: false };
    authn = { principal: r.principal, claims: r.claims, spaceDelimitedClaims: r.spaceDelimitedClaims };
  }
  const facts = requestFacts(
    { method: req.method, path: normalized, authority, headers, localPort: port, localAddress: '127.0.0.1', sourceAddress: req.sourceIp ?? '127.0.0.1', sourceIdentity: req.sourceIdentity },
    authn,
  );
  const authz = groupPolicies(compilePolicies(policies, 'http', { caseInsensitivePaths: snapshot.Spec.PathNormalization?.LowerCase === true }));
  const out = { ...base, jwt, normalizedPath: normalized, principal: facts.sourcePrincipal ?? facts.requestPrincipal };
  const custom = customChecks(authz, facts);
  if (!Array.isArray(custom)) return { ...out, ...explained(custom, facts), status: 403 };
  out.externalAuthorizers = custom.map((c) => `${c.provider.Name} (${c.policy})`);
  const shadowDecision = evaluateShadow(authz, facts);
  const shadow = shadowDecision && {
    decision: shadowDecision.allow ? ('allowed' as const) : ('denied' as const),
    policy: shadowDecision.policy ?? shadowDecision.closest?.policy,
    rule: shadowDecision.rule ?? shadowDecision.closest?.rule,
    condition: shadowDecision.closest?.condition,
  };
  const d = evaluate(authz, facts);
  return { ...out, ...explained(d, facts), status: d.allow ? 0 : 403, ...(shadow ? { shadow } : {}) };
}

function explained(d: Decision, facts: Parameters<typeof denialFactsOf>[1]): Pick<CheckResult, 'decision' | 'reason' | 'policy' | 'rule' | 'condition'> {
  const f = denialFactsOf(d, facts);
  return { decision: d.allow ? 'allowed' : 'denied', reason: f.reason, policy: f.policy, rule: f.rule, condition: f.condition };
}
