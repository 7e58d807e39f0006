/** Mesh identity and certificates: the only way into src/identity. */
export {
  DEFAULT_TRUST_DOMAIN,
  identityCommonName,
  identityParts,
  istioPrincipal,
  parseServiceIdentity,
  parseSpiffeId,
  serviceIdentity,
  spiffeId,
  trustDomain,
  type ServiceIdentity,
  type TrustDomain,
} from './service-identity.js';
export { certificateNames, type AnyCertificate, type CertificateNames } from './peer-certificate.js';
export { peerIdentity, verifiedPeerIdentity } from './peer-identity.js';
export { meshServerIdentityCheck } from './server-identity-check.js';
export { rsaKeyAlgorithm, type KeyAlgorithm } from './keys.js';
export { PrivateKeyPem } from './redacted.js';
export { createRootCa, loadCertificateAuthority, rootCaCommonName, CA_ORGANIZATION, type CertificateAuthority, type CreateRootCaOptions } from './certificate-authority.js';
export {
  CA_SECRET_KEYS,
  caBundleSecretName,
  caFromSecret,
  caToSecret,
  loadOrCreateCa,
  meshSystemNamespace,
  type CaSecretLocation,
  type SecretStore,
} from './ca-secret.js';
export type { IssuedCertificate } from './issued-certificate.js';
export { createWorkloadKeyAndCsr, type WorkloadCsrOptions, type WorkloadKeyAndCsr } from './workload-csr.js';
export { signWorkloadCsr, type SignWorkloadOptions } from './sign-workload.js';
export { issueAccessCertSecret, type AccessCertRequest } from './access-cert.js';
export { renewAt, renewDelayMs, RENEW_FRACTION, RENEW_JITTER_FRACTION } from './renewal.js';
export { DEFAULT_SERVICE_CERT_VALIDITY_MS, serviceCertValidityMs } from './validity.js';
export { TrustBundle, type TrustedRoot } from './trust-bundle.js';
export { reconcileTrustBundle, trustBundleConfigMapName, trustBundleFromConfigMap, trustBundleToConfigMap, TRUST_BUNDLE_KEY } from './trust-bundle-store.js';
export {
  meshClientTlsOptions,
  meshPermissiveServerTlsOptions,
  meshSecureContext,
  meshSecureContextOptions,
  meshServerTlsOptions,
  type MeshClientTlsOptions,
  type MeshTlsMaterial,
} from './tls-options.js';
export type { CertificateProvider, CertificateProviderKind, WorkloadCertificateRequest } from './certificate-provider.js';
export { BuiltinCertificateProvider, type BuiltinProviderOptions } from './builtin-provider.js';
