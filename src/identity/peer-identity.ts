/** The mesh identity of a TLS peer, taken only from its verified certificate's SPIFFE URI SAN. */
import type { TLSSocket } from 'node:tls';
import { isMeshError, MeshError } from '../lib/errors.js';
import { certificateNames, type AnyCertificate } from './peer-certificate.js';
import { DEFAULT_TRUST_DOMAIN, parseSpiffeId, type ServiceIdentity, type TrustDomain } from './service-identity.js';

/**
 * The identity in `cert`. Call it only on a certificate the TLS stack has verified against the
 * mesh roots. Rules:
 * - SPIFFE X.509-SVID §2: exactly one URI SAN, and it is the SPIFFE ID;
 * - security-rules §9: namespace and service account come only from that URI, by segment, and the
 *   trust domain must be ours. There is no fall-back to the CN: the reference gives identity to the
 *   URI alone, and a CN is free text that other certificate kinds (AccessCert) also fill;
 * - SPIFFE X.509-SVID §4.1: a leaf SVID is not a CA.
 * Throws MESH_ERR_PEER_IDENTITY_REJECTED (or MESH_ERR_IDENTITY_INVALID for a malformed SPIFFE ID).
 */
export function peerIdentity(cert: AnyCertificate, trustDomain: TrustDomain = DEFAULT_TRUST_DOMAIN): ServiceIdentity {
  const names = certificateNames(cert);
  if (names.isCa) throw new MeshError('MESH_ERR_PEER_IDENTITY_REJECTED', 'peer certificate is a CA certificate, not a workload certificate');
  const spiffe = names.uris.filter((u) => u.toLowerCase().startsWith('spiffe:'));
  if (spiffe.length === 0) throw new MeshError('MESH_ERR_PEER_IDENTITY_REJECTED', 'peer certificate has no SPIFFE URI SAN');
  if (names.uris.length !== 1) throw new MeshError('MESH_ERR_PEER_IDENTITY_REJECTED', `peer certificate has ${names.uris.length} URI SANs; a SPIFFE SVID has exactly one`);
  return parseSpiffeId(spiffe[0]!, trustDomain);
}

/**
 * The identity of the peer on an established TLS socket, or undefined when it has none: the
 * handshake was not verified (`socket.authorized` false), no certificate was sent, or the verified
 * certificate carries no identity of this trust domain (an AccessCert client, say). Plaintext peers
 * and such clients have no principal (security-rules §9).
 */
export function verifiedPeerIdentity(socket: TLSSocket, trustDomain: TrustDomain = DEFAULT_TRUST_DOMAIN): ServiceIdentity | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) return undefined;
  try {
    return peerIdentity(cert, trustDomain);
  } catch (e) {
    if (isMeshError(e)) return undefined;
    throw e;
  }
}
