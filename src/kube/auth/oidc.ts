/**
 * OpenID Connect id tokens as kube-apiserver's `--oidc-*` flags authenticate them
 * (k8s.io/apiserver/plugin/pkg/authenticator/token/oidc and pkg/kubeapiserver/options): the issuer's
 * keys found by discovery (`<issuer>/.well-known/openid-configuration` → `jwks_uri`), fetched only
 * over HTTPS trusted by `--oidc-ca-file` (or the system's roots); the token verified by the strict JWT
 * verifier (src/authn/jwt): `iss` exactly the issuer, `aud` containing the client id, `exp` required,
 * an algorithm of `--oidc-signing-algs` (default RS256). Then the mapping:
 *
 * - username from `--oidc-username-claim` (default `sub`), a string; prefixed by
 *   `--oidc-username-prefix`, which defaults to `<issuer>#` unless the claim is `email`; `-` means no prefix;
 * - with the `email` claim, a present `email_verified` must be `true` ("oidc: email not verified");
 * - groups from `--oidc-groups-claim` (a string or a list of strings), each prefixed by `--oidc-groups-prefix`;
 * - every `--oidc-required-claim key=value` must be present as that exact string.
 */
import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import { compileJwtPolicy, RemoteJwks, unverifiedIssuer, verifyJwtAsync, type CompiledJwtPolicy, type JwtAlgorithm } from '../../authn/index.js';
import type { AuthUser } from './types.js';
import { OidcConfigError, validateOidcOptions, type OidcOptions } from './oidc-options.js';

export { OidcConfigError, validateOidcOptions, type OidcOptions };

/** A fetch that only speaks HTTPS, trusting `ca` when given. */
function httpsOnlyFetch(ca: string | undefined): typeof fetch {
  const dispatcher = ca === undefined ? undefined : new Agent({ connect: { ca } });
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith('https://')) throw new TypeError(`refusing to fetch ${url}: the OIDC issuer's documents are only fetched over HTTPS`);
    return undiciFetch(url, { ...(init as object), ...(dispatcher ? { dispatcher } : {}) } as Parameters<typeof undiciFetch>[1]);
  }) as unknown as typeof fetch;
}

export class OidcAuthenticator {
  readonly issuer: string;
  private readonly policy: CompiledJwtPolicy;
  private readonly usernameClaim: string;
  private readonly usernamePrefix: string;
  private readonly groupsClaim: string | undefined;
  private readonly groupsPrefix: string;
  private readonly required: [string, string][];
  readonly keys: RemoteJwks;

  constructor(o: OidcOptions, private readonly now: () => number = Date.now, fetchImpl?: typeof fetch) {
    const problems = validateOidcOptions(o);
    if (problems.length > 0) throw new OidcConfigError(problems.join('; '));
    this.issuer = o.issuerUrl;
    this.usernameClaim = o.usernameClaim || 'sub';
    let prefix = o.usernamePrefix;
    if (prefix === undefined || prefix === '') prefix = this.usernameClaim === 'email' ? '' : `${this.issuer}#`;
    if (prefix === '-') prefix = '';
    this.usernamePrefix = prefix;
    this.groupsClaim = o.groupsClaim || undefined;
    this.groupsPrefix = o.groupsPrefix ?? '';
    this.required = Object.entries(o.requiredClaims ?? {});
    const ca = o.caFile ? readFileSync(o.caFile, 'utf8') : undefined;
    this.keys = new RemoteJwks({ issuer: this.issuer, fetch: fetchImpl ?? httpsOnlyFetch(ca) });
    const algs = (o.signingAlgs && o.signingAlgs.length > 0 ? o.signingAlgs : ['RS256']) as JwtAlgorithm[];
    // kube-apiserver's OIDC verifier allows no leeway on `exp`: an expired id token is refused at once.
    this.policy = compileJwtPolicy({ issuer: this.issuer, audiences: [o.clientId], keys: this.keys, algorithms: algs, requireExpiration: true, clockSkewSeconds: 0, maxTokenBytes: 16384 });
  }

  /** Fetches the issuer's keys now (at start, so the first request need not wait); failures are retried on use. */
  async warmUp(): Promise<void> {
    await this.keys.refresh();
  }

  /** True when the token claims this issuer (the only tokens this authenticator may judge). */
  handles(token: string): boolean {
    return unverifiedIssuer(token) === this.issuer;
  }

  /** The user an id token names, or why it is refused. */
  async authenticate(token: string): Promise<{ user: AuthUser } | { error: string }> {
    const r = await verifyJwtAsync(token, this.policy, this.now());
    if (!r.ok) return { error: `oidc: verify token: ${r.message}` };
    const c = r.claims as Record<string, unknown>;
    const name = c[this.usernameClaim];
    if (name === undefined) return { error: `oidc: parse username claims "${this.usernameClaim}": claim not present` };
    if (typeof name !== 'string') return { error: `oidc: parse username claims "${this.usernameClaim}": claim is not a string` };
    if (this.usernameClaim === 'email' && c['email_verified'] !== undefined) {
      if (typeof c['email_verified'] !== 'boolean') return { error: "oidc: parse 'email_verified' claim: not a boolean" };
      if (!c['email_verified']) return { error: 'oidc: email not verified' };
    }
    const groups: string[] = [];
    if (this.groupsClaim !== undefined && c[this.groupsClaim] !== undefined) {
      const g = c[this.groupsClaim];
      if (typeof g === 'string') groups.push(g);
      else if (Array.isArray(g) && g.every((x) => typeof x === 'string')) groups.push(...(g as string[]));
      else return { error: `oidc: parse groups claim "${this.groupsClaim}": not a string or a list of strings` };
    }
    for (const [k, want] of this.required) {
      const got = c[k];
      if (got === undefined) return { error: `oidc: required claim ${k} not present in ID token` };
      if (got !== want) return { error: `oidc: required claim ${k} value does not match. Got = ${String(got)}, want = ${want}` };
    }
    return { user: { username: `${this.usernamePrefix}${name}`, groups: [...groups.map((x) => `${this.groupsPrefix}${x}`), 'system:authenticated'] } };
  }
}

