/** The sidecar's workload identity: key, certificate, renewal, trust bundle. */
export { WorkloadIdentity } from './workload-identity.js';
export type { CertificateInfo, TrustState, WorkloadIdentityOptions } from './workload-identity.js';
