/** OpenID Connect Discovery 1.0: find an issuer's jwks_uri from its openid-configuration document. */

import { JwksError } from './errors.js';
import { fetchJsonObject, type FetchJsonOptions } from './fetch-json.js';

/** OIDC Discovery §4: the issuer with any trailing '/' removed, plus the well-known path. */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

export async function discoverJwksUri(issuer: string, options: FetchJsonOptions): Promise<string> {
  const url = discoveryUrl(issuer);
  const doc = await fetchJsonObject(url, 'OpenID configuration', options);
  // OIDC Discovery §4.3: the document's issuer must be identical to the one it was fetched for,
  // or a provider could hand out keys for another issuer.
  if (doc['issuer'] !== issuer) throw new JwksError('JWKS_DISCOVERY_FAILED', `OpenID configuration at ${url} names a different issuer`);
  const jwksUri = doc['jwks_uri'];
  if (typeof jwksUri !== 'string' || !isHttpUrl(jwksUri)) {
    throw new JwksError('JWKS_DISCOVERY_FAILED', `OpenID configuration at ${url} has no valid jwks_uri`);
  }
  return jwksUri;
}

export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}
