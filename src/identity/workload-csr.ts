/** Runs in the sidecar: makes the workload key pair and a CSR for its identity. The key stays here. */
import { generateKeyPair, exportPrivateKeyPem, type KeyAlgorithm } from './keys.js';
import { PrivateKeyPem } from './redacted.js';
import { DEFAULT_TRUST_DOMAIN, identityCommonName, spiffeId, type ServiceIdentity, type TrustDomain } from './service-identity.js';
import { pkcs10Pem } from './csr-der.js';
import { subtle } from './x509-runtime.js';

export interface WorkloadKeyAndCsr {
  /** PKCS#10 (RFC 2986) request, PEM: safe to send to the control plane */
  csrPem: string;
  /** PKCS#8 PEM for the sidecar's own TLS contexts; prints as a placeholder */
  privateKeyPem: PrivateKeyPem;
}

export interface WorkloadCsrOptions {
  trustDomain?: TrustDomain;
  /** ECDSA-P256 by default: the handshake signature is the per-connection cost (see keys.ts) */
  keyAlgorithm?: KeyAlgorithm;
}

export async function createWorkloadKeyAndCsr(identity: ServiceIdentity, options: WorkloadCsrOptions = {}): Promise<WorkloadKeyAndCsr> {
  const domain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const keys = await generateKeyPair(options.keyAlgorithm ?? 'ECDSA-P256');
  // The requested identity, so the CA can refuse a request for someone else (PKCS#9 extensionRequest).
  const csrPem = pkcs10Pem({
    commonName: identityCommonName(identity, domain),
    uri: spiffeId(identity, domain),
    keys,
    spki: Buffer.from(await subtle.exportKey('spki', keys.publicKey)),
  });
  return { csrPem: csrPem + '\n', privateKeyPem: new PrivateKeyPem(await exportPrivateKeyPem(keys.privateKey)) };
}
