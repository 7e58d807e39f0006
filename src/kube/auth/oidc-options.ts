/**
 * The OIDC settings of kube-apiserver's `--oidc-*` flags, their validation, and their file in the
 * state directory (`<state>/oidc.json`, 0600), kept free of heavy imports so the CLI can write it.
 */
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The JWS algorithms an issuer may sign id tokens with (asymmetric only). */
const SIGNING_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface OidcOptions {
  issuerUrl: string;
  clientId: string;
  usernameClaim?: string;
  /** undefined: kube-apiserver's default (`<issuer>#` unless the claim is `email`); '-': none */
  usernamePrefix?: string;
  groupsClaim?: string;
  groupsPrefix?: string;
  requiredClaims?: Record<string, string>;
  /** PEM file of the CA(s) the issuer's certificate must chain to */
  caFile?: string;
  signingAlgs?: string[];
}

export class OidcConfigError extends Error {
  override readonly name = 'OidcConfigError';
}

/** Checks the options as kube-apiserver validates its flags; returns the problems (none: valid). */
export function validateOidcOptions(o: OidcOptions): string[] {
  const problems: string[] = [];
  let url: URL | undefined;
  try {
    url = new URL(o.issuerUrl);
  } catch {
    problems.push(`--oidc-issuer-url ${JSON.stringify(o.issuerUrl)} is not a URL`);
  }
  if (url && url.protocol !== 'https:') problems.push(`oidc-issuer-url (${o.issuerUrl}) must use https scheme`);
  if (url && (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '')) {
    problems.push(`oidc-issuer-url (${o.issuerUrl}) must not have a query, fragment or user info`);
  }
  if (!o.clientId) problems.push('oidc-client-id must be set when oidc-issuer-url is set');
  for (const alg of o.signingAlgs ?? []) {
    if (!SIGNING_ALGS.includes(alg)) problems.push(`oidc-signing-algs: unsupported signing alg: ${alg}`);
  }
  for (const [k, v] of Object.entries(o.requiredClaims ?? {})) {
    if (!k || typeof v !== 'string') problems.push(`oidc-required-claim: ${JSON.stringify(k)} needs a key=value form`);
  }
  return problems;
}

/** Where `tessera up --oidc-…` keeps the flags for the daemon. */
export function oidcOptionsPath(stateDir: string): string {
  return join(stateDir, 'oidc.json');
}

/** Reads OIDC options persisted by `writeOidcOptions` (undefined: none, OIDC is off). */
export function readOidcOptions(file: string): OidcOptions | undefined {
  if (!existsSync(file)) return undefined;
  const o = JSON.parse(readFileSync(file, 'utf8')) as OidcOptions;
  const problems = validateOidcOptions(o);
  if (problems.length > 0) throw new OidcConfigError(`${file}: ${problems.join('; ')}`);
  return o;
}

/** Persists OIDC options (0600), or removes the file when `o` is undefined. */
export function writeOidcOptions(file: string, o: OidcOptions | undefined): void {
  if (o === undefined) {
    rmSync(file, { force: true });
    return;
  }
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(o, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
