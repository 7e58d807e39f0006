/** The built-in CA provider ("tresor"): root in `<mesh>-ca-bundle`, local signing, a multi-root trust bundle. */
import { X509Certificate } from 'node:crypto';
import type { Secret } from '../api/types.js';
import { MeshError } from '../lib/errors.js';
import { issueAccessCertSecret, type AccessCertRequest } from './access-cert.js';
import { loadOrCreateCa, type CaSecretLocation, type SecretStore } from './ca-secret.js';
import type { CertificateAuthority } from './certificate-authority.js';
import type { CertificateProvider, WorkloadCertificateRequest } from './certificate-provider.js';
import type { IssuedCertificate } from './issued-certificate.js';
import type { KeyAlgorithm } from './keys.js';
import { peerIdentity } from './peer-identity.js';
import { DEFAULT_TRUST_DOMAIN, type TrustDomain } from './service-identity.js';
import { signWorkloadCsr } from './sign-workload.js';
import { TrustBundle } from './trust-bundle.js';

export interface BuiltinProviderOptions {
  trustDomain?: TrustDomain;
  /**
   * Roots still trusted from before a rotation, e.g. the bundle the sidecars hold now. Without
   * them, deleting `<mesh>-ca-bundle` strands every workload until it restarts (the seed's warning).
   */
  previousRoots?: TrustBundle;
}

export class BuiltinCertificateProvider implements CertificateProvider {
  readonly kind = 'tresor' as const;
  readonly ca: CertificateAuthority;
  readonly trustDomain: TrustDomain;
  #trust: TrustBundle;

  constructor(ca: CertificateAuthority, options: BuiltinProviderOptions = {}) {
    this.ca = ca;
    this.trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    // The active root first: it is the one new certificates chain to.
    this.#trust = TrustBundle.fromPem(ca.certificatePem, ...(options.previousRoots?.pems() ?? []));
  }

  /** Loads `<mesh>-ca-bundle` from `store`, creating it on first start (create-if-absent). */
  static async start(
    store: SecretStore,
    options: CaSecretLocation & BuiltinProviderOptions & { keyAlgorithm?: KeyAlgorithm; now?: Date },
  ): Promise<{ provider: BuiltinCertificateProvider; created: boolean }> {
    const { ca, created } = await loadOrCreateCa(store, options);
    return { provider: new BuiltinCertificateProvider(ca, options), created };
  }

  issue(request: WorkloadCertificateRequest): Promise<IssuedCertificate> {
    return signWorkloadCsr(this.ca, request.csrPem, {
      identity: request.identity,
      ttlMs: request.ttlMs,
      trustDomain: this.trustDomain,
      ...(request.sans ? { sans: request.sans } : {}),
      ...(request.now ? { now: request.now } : {}),
    });
  }

  async renew(previous: IssuedCertificate, request: WorkloadCertificateRequest): Promise<IssuedCertificate> {
    const before = peerIdentity(new X509Certificate(previous.certificatePem), this.trustDomain);
    if (before !== request.identity) {
      throw new MeshError('MESH_ERR_CSR_IDENTITY_MISMATCH', `renewal of ${before}'s certificate asked for ${request.identity}`);
    }
    return this.issue(request);
  }

  trustBundle(): TrustBundle {
    return this.#trust;
  }

  /** Ends a rotation: stop trusting a previous root once no workload certificate chains to it. */
  retireRoot(fingerprint: string): void {
    if (this.#trust.roots[0]?.fingerprint === fingerprint) throw new MeshError('MESH_ERR_USAGE', 'the active root cannot be retired');
    this.#trust = this.#trust.without(fingerprint);
  }

  issueAccessCert(request: AccessCertRequest): Promise<{ secret: Secret; certificate: IssuedCertificate }> {
    return issueAccessCertSecret(this.ca, { trustBundle: this.#trust, ...request });
  }
}
