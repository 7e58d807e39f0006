/**
 * The token service's grants: OAuth 2.0 client credentials (RFC 6749 §4.4) for a workload or a
 * client, and token exchange (RFC 8693) where the caller acts on behalf of the subject token's
 * subject (`act` claim, §4.1; `may_act` honoured, §4.4). Subject tokens are verified strictly with
 * src/authn: our own keys, or a configured trusted issuer's JWKS. What may be issued at all is the
 * policy's decision (policy.ts): nothing unless granted.
 */
import { randomBytes } from 'node:crypto';
import { compileJwks, compileJwtPolicy, compileJwtRule, verifyJwtAsync, type CompiledJwtPolicy, type KeySet } from '../authn/index.js';
import type { KeyRing } from './keys.js';
import { exchangeDecision, mayIssue, type StsPolicy } from './policy.js';

/** Who called, as the server authenticated them (never from the request body alone). */
export type Caller = { kind: 'workload'; principal: string } | { kind: 'client'; clientId: string };

export interface GrantOptions {
  issuer: string;
  lifetimeSeconds: number;
  keys: KeyRing;
  /** other issuers whose tokens may be exchanged: issuer → jwksUri */
  trustedIssuers?: Record<string, string>;
  /** who may get which tokens; nothing is granted without it */
  policy: StsPolicy;
  clock?: () => number;
}

export type GrantResult =
  /** `subject`: whom the token is about (`sub`), for the log */
  | { ok: true; body: Record<string, unknown>; subject: string }
  /** RFC 6749 §5.2 error codes; `subject` when the subject token was valid */
  | { ok: false; status: number; error: string; description: string; subject?: string };

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** Claims a new token sets itself, or that describe the old token's delegation and binding. */
const NOT_COPIED = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'act', 'may_act', 'client_id', 'cnf', 'azp']);

const fail = (status: number, error: string, description: string, subject?: string): GrantResult => ({ ok: false, status, error, description, ...(subject !== undefined ? { subject } : {}) });

function callerSub(c: Caller): string {
  return c.kind === 'workload' ? c.principal : c.clientId;
}

/** The caller as the policy and the log name it: the workload's principal, or `client:ID`. */
export function callerName(c: Caller): string {
  return c.kind === 'workload' ? c.principal : `client:${c.clientId}`;
}

export class Grants {
  private readonly own: CompiledJwtPolicy;
  private readonly trusted = new Map<string, CompiledJwtPolicy>();
  private ownSet: { fingerprint: string; set: KeySet } | undefined;
  private readonly clock: () => number;

  constructor(private readonly opts: GrantOptions) {
    this.clock = opts.clock ?? Date.now;
    // Our own keys change on rotation; the policy reads the published set each time.
    this.own = compileJwtPolicy({ issuer: opts.issuer, keys: { current: () => this.ownKeys() }, requireExpiration: true, cache: false });
    for (const [issuer, jwksUri] of Object.entries(opts.trustedIssuers ?? {})) {
      this.trusted.set(issuer, compileJwtRule({ issuer, jwksUri }, { requireExpiration: true }));
    }
  }

  private ownKeys(): KeySet {
    const jwks = this.opts.keys.jwks();
    const fingerprint = jwks.keys.map((k) => k['kid']).join(',');
    if (this.ownSet?.fingerprint !== fingerprint) this.ownSet = { fingerprint, set: compileJwks(jwks) };
    return this.ownSet.set;
  }

  private audienceOf(form: URLSearchParams): string | GrantResult {
    const list = form.getAll('audience');
    if (list.length !== 1 || list[0] === '') return fail(400, 'invalid_target', 'exactly one audience is required');
    return list[0]!;
  }

  private mint(claims: Record<string, unknown>, lifetime: number): { token: string; expiresIn: number } {
    const now = Math.floor(this.clock() / 1000);
    const exp = Math.min(now + this.opts.lifetimeSeconds, typeof claims['exp'] === 'number' ? (claims['exp'] as number) : Infinity, now + lifetime);
    const token = this.opts.keys.sign({ ...claims, iss: this.opts.issuer, iat: now, nbf: now, exp, jti: randomBytes(12).toString('base64url') });
    return { token, expiresIn: exp - now };
  }

  clientCredentials(caller: Caller, form: URLSearchParams): GrantResult {
    const aud = this.audienceOf(form);
    if (typeof aud !== 'string') return aud;
    if (!mayIssue(this.opts.policy, callerName(caller), aud)) {
      return fail(400, 'invalid_target', `${callerName(caller)} may not get a token for audience ${aud} (no issue grant names both)`);
    }
    const sub = callerSub(caller);
    const scope = form.get('scope') ?? undefined;
    const { token, expiresIn } = this.mint({ sub, aud, client_id: sub, ...(scope ? { scope } : {}) }, this.opts.lifetimeSeconds);
    return { ok: true, subject: sub, body: { access_token: token, token_type: 'Bearer', expires_in: expiresIn, ...(scope ? { scope } : {}) } };
  }

  async exchange(caller: Caller, form: URLSearchParams): Promise<GrantResult> {
    const subjectToken = form.get('subject_token');
    const subjectType = form.get('subject_token_type');
    if (!subjectToken || !subjectType) return fail(400, 'invalid_request', 'subject_token and subject_token_type are required');
    if (subjectType !== JWT_TYPE && subjectType !== ACCESS_TOKEN_TYPE) return fail(400, 'invalid_request', 'subject_token_type must be jwt or access_token');
    if (form.has('actor_token')) return fail(400, 'invalid_request', 'actor_token is not accepted: the actor is the authenticated caller');
    const requested = form.get('requested_token_type');
    if (requested !== null && requested !== JWT_TYPE && requested !== ACCESS_TOKEN_TYPE) return fail(400, 'invalid_request', 'requested_token_type must be jwt or access_token');
    const aud = this.audienceOf(form);
    if (typeof aud !== 'string') return aud;
    const policy = this.policyFor(subjectToken);
    if (!policy) return fail(400, 'invalid_grant', 'the subject token is not from a trusted issuer');
    const v = await verifyJwtAsync(subjectToken, policy, this.clock());
    if (!v.ok) return fail(400, 'invalid_grant', `the subject token is invalid (${v.code})`);
    const subject = v.claims;
    if (typeof subject.sub !== 'string' || subject.sub === '') return fail(400, 'invalid_grant', 'the subject token has no sub');
    const actor = callerSub(caller);
    const granted = exchangeDecision(this.opts.policy, callerName(caller), subject.sub, aud);
    if (granted === 'unauthorized_client') return fail(400, 'unauthorized_client', `${callerName(caller)} may not act for ${subject.sub} (no exchange grant names both)`, subject.sub);
    if (granted === 'invalid_target') return fail(400, 'invalid_target', `${callerName(caller)} may not exchange ${subject.sub}'s token for audience ${aud}`, subject.sub);
    // §4.4: a subject token may name who may act for it; anyone else is refused.
    const mayAct = subject['may_act'];
    if (mayAct !== undefined && (typeof mayAct !== 'object' || mayAct === null || (mayAct as Record<string, unknown>)['sub'] !== actor)) {
      return fail(400, 'invalid_grant', 'the caller is not allowed to act for this subject (may_act)');
    }
    const claims: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(subject)) if (!NOT_COPIED.has(k)) claims[k] = val;
    // §4.1: the current actor on the outside, earlier ones nested (a delegation chain).
    const act = subject['act'] !== undefined ? { sub: actor, act: subject['act'] } : { sub: actor };
    const { token, expiresIn } = this.mint({ ...claims, sub: subject.sub, aud, act, client_id: actor, exp: subject.exp }, this.opts.lifetimeSeconds);
    return { ok: true, subject: subject.sub, body: { access_token: token, issued_token_type: requested ?? ACCESS_TOKEN_TYPE, token_type: 'Bearer', expires_in: expiresIn } };
  }

  /** The policy of the token's claimed issuer; the claim only picks it, the signature decides. */
  private policyFor(token: string): CompiledJwtPolicy | undefined {
    if (token.length > 8192) return this.own;
    let iss: unknown;
    try {
      iss = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown }).iss;
    } catch {
      return this.own;
    }
    if (iss === this.opts.issuer) return this.own;
    return typeof iss === 'string' ? this.trusted.get(iss) : undefined;
  }
}
