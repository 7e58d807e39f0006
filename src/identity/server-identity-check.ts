/** Client-side check that the server holds one of the destination service's identities. */
import type { PeerCertificate } from 'node:tls';
import { isMeshError, MeshError } from '../lib/errors.js';
import { peerIdentity } from './peer-identity.js';
import { DEFAULT_TRUST_DOMAIN, type ServiceIdentity, type TrustDomain } from './service-identity.js';

/**
 * A `checkServerIdentity` for `tls.connect`: accepts only when the server certificate's SPIFFE
 * identity is one of `allowed`. Host names are deliberately ignored: inside the mesh a server is
 * named by its SPIFFE ID, not by a DNS SAN (comparing across SAN types is CVE-2022-21656).
 *
 * Node calls this only on full handshakes, not on resumed sessions, so a session cache must be keyed
 * by the allowed identity set, or the caller must also check `verifiedPeerIdentity` after connect.
 */
export function meshServerIdentityCheck(
  allowed: readonly ServiceIdentity[],
  trustDomain: TrustDomain = DEFAULT_TRUST_DOMAIN,
): (hostname: string, cert: PeerCertificate) => Error | undefined {
  const allowedSet = new Set<string>(allowed);
  return (_hostname, cert) => {
    let id: ServiceIdentity;
    try {
      id = peerIdentity(cert, trustDomain);
    } catch (e) {
      if (isMeshError(e)) return new MeshError('MESH_ERR_PEER_IDENTITY_REJECTED', `server identity refused: ${e.message}`, { cause: e });
      return e instanceof Error ? e : new Error(String(e));
    }
    if (allowedSet.has(id)) return undefined;
    const want = [...allowedSet].join(', ') || '(none)';
    return new MeshError('MESH_ERR_PEER_IDENTITY_REJECTED', `server identity ${id} is not one of the destination's identities: ${want}`);
  };
}
