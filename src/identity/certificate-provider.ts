/** The contract every certificate provider meets (built-in CA now; Vault and cert-manager later). */
import type { AccessCertRequest } from './access-cert.js';
import type { Secret } from '../api/types.js';
import type { IssuedCertificate } from './issued-certificate.js';
import type { ServiceIdentity } from './service-identity.js';
import type { TrustBundle } from './trust-bundle.js';

/** FSM's `certificateProvider.kind` values (fsm-design §1.6). */
export type CertificateProviderKind = 'tresor' | 'vault' | 'cert-manager';

export interface WorkloadCertificateRequest {
  /** PKCS#10 PEM made by the sidecar; the provider never sees the private key */
  csrPem: string;
  /** the identity the control plane authenticated for the requesting proxy */
  identity: ServiceIdentity;
  /** DNS SANs (service host names without port) */
  sans?: readonly string[];
  ttlMs: number;
  now?: Date;
}

export interface CertificateProvider {
  readonly kind: CertificateProviderKind;
  /** Signs a workload CSR. Refuses a CSR that asks for an identity other than `request.identity`. */
  issue(request: WorkloadCertificateRequest): Promise<IssuedCertificate>;
  /**
   * Issues the successor of `previous` from a fresh CSR (the sidecar makes a new key on every
   * renewal, so a leaked key dies with its certificate). Refuses a change of identity.
   */
  renew(previous: IssuedCertificate, request: WorkloadCertificateRequest): Promise<IssuedCertificate>;
  /** Every root a mesh peer may chain to now (old and new during a root rotation). */
  trustBundle(): TrustBundle;
  /** AccessCert: key and certificate for an out-of-mesh client, as a `kubernetes.io/tls` Secret. */
  issueAccessCert(request: AccessCertRequest): Promise<{ secret: Secret; certificate: IssuedCertificate }>;
}
