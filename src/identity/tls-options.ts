/** Node TLS options for mesh mTLS: the sidecar's key and chain, the trust bundle, TLS >= 1.2, client certs required. */
import { createSecureContext, type ConnectionOptions, type SecureContext, type SecureContextOptions, type TlsOptions } from 'node:tls';
import type { PrivateKeyPem } from './redacted.js';
import { meshServerIdentityCheck } from './server-identity-check.js';
import { DEFAULT_TRUST_DOMAIN, type ServiceIdentity, type TrustDomain } from './service-identity.js';
import type { TrustBundle } from './trust-bundle.js';

export interface MeshTlsMaterial {
  privateKeyPem: PrivateKeyPem;
  /** leaf (+ intermediates), e.g. `IssuedCertificate.chainPem` */
  chainPem: string;
  trustBundle: TrustBundle;
}

/**
 * TLS 1.2 is the floor (RFC 8996 deprecates 1.0 and 1.1). Only the mesh roots are trusted: Node's
 * default public CA list is replaced, not extended, by `ca`.
 */
export function meshSecureContextOptions(material: MeshTlsMaterial): SecureContextOptions {
  return {
    key: material.privateKeyPem.reveal(),
    cert: material.chainPem,
    ca: material.trustBundle.pems(),
    minVersion: 'TLSv1.2',
  };
}

/** A SecureContext to hot-swap on renewal (`server.setSecureContext`, or `secureContext` per connection). */
export function meshSecureContext(material: MeshTlsMaterial): SecureContext {
  return createSecureContext(meshSecureContextOptions(material));
}

/**
 * Inbound (server) options: the client must present a certificate that chains to a mesh root, or
 * the handshake fails. Read the client's identity afterwards with `verifiedPeerIdentity(socket)`.
 */
export function meshServerTlsOptions(material: MeshTlsMaterial): TlsOptions {
  return { ...meshSecureContextOptions(material), requestCert: true, rejectUnauthorized: true };
}

/**
 * Inbound options for a listener that also admits AccessControl clients: the certificate is
 * requested but a client without one is let through (`socket.authorized` false, no identity) so
 * that policy, not the handshake, decides. A presented certificate that fails verification still
 * leaves `authorized` false and therefore carries no identity.
 */
export function meshPermissiveServerTlsOptions(material: MeshTlsMaterial): TlsOptions {
  return { ...meshSecureContextOptions(material), requestCert: true, rejectUnauthorized: false };
}

export interface MeshClientTlsOptions {
  /** the destination service's identities; the server must hold one of them */
  allowedIdentities: readonly ServiceIdentity[];
  trustDomain?: TrustDomain;
  /** SNI; defaults to none, as the destination is checked by SPIFFE ID, not by host name */
  servername?: string;
}

/** Outbound (client) options: present our certificate, verify the chain and the server's SPIFFE identity. */
export function meshClientTlsOptions(material: MeshTlsMaterial, options: MeshClientTlsOptions): ConnectionOptions {
  return {
    ...meshSecureContextOptions(material),
    rejectUnauthorized: true,
    checkServerIdentity: meshServerIdentityCheck(options.allowedIdentities, options.trustDomain ?? DEFAULT_TRUST_DOMAIN),
    ...(options.servername !== undefined ? { servername: options.servername } : {}),
  };
}
