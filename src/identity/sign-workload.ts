/** Runs in the CA: checks a workload CSR against the identity its sender proved, and signs it. */
import { createPublicKey } from 'node:crypto';
import { MeshError } from '../lib/errors.js';
import type { CertificateAuthority } from './certificate-authority.js';
import type { IssuedCertificate } from './issued-certificate.js';
import { pemToDer } from './pem.js';
import { DEFAULT_TRUST_DOMAIN, identityCommonName, spiffeId, type ServiceIdentity, type TrustDomain } from './service-identity.js';
import { signLeaf } from './sign-certificate.js';
import { x509 } from './x509-runtime.js';

export interface SignWorkloadOptions {
  /** the identity the control plane authenticated for the caller — never one read from the CSR */
  identity: ServiceIdentity;
  /** DNS SANs: the proxy's service host names without port (fsm-design §2.1) */
  sans?: readonly string[];
  /** lifetime, from `serviceCertValidityMs(meshConfig.spec.certificate.serviceCertValidityDuration)` */
  ttlMs: number;
  now?: Date;
  trustDomain?: TrustDomain;
}

/** id-ce-subjectAltName, RFC 5280 §4.2.1.6 */
const SUBJECT_ALT_NAME_OID = '2.5.29.17';

function mismatch(message: string): MeshError {
  return new MeshError('MESH_ERR_CSR_IDENTITY_MISMATCH', message);
}

function parseCsr(csrPem: string): x509.Pkcs10CertificateRequest {
  try {
    return new x509.Pkcs10CertificateRequest(pemToDer(csrPem, 'CERTIFICATE REQUEST'));
  } catch (cause) {
    throw new MeshError('MESH_ERR_CERT_INVALID', 'CSR is not a PEM PKCS#10 certificate request', { cause });
  }
}

/** Refuses keys weaker than the mesh's own (NIST SP 800-57: RSA >= 2048, or P-256/P-384). */
function checkPublicKey(csr: x509.Pkcs10CertificateRequest): void {
  const key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) return;
  if (key.asymmetricKeyType === 'ec' && (details.namedCurve === 'prime256v1' || details.namedCurve === 'secp384r1')) return;
  throw new MeshError('MESH_ERR_CERT_INVALID', `CSR key ${key.asymmetricKeyType ?? 'unknown'} ${details.modulusLength ?? details.namedCurve ?? ''} is not allowed (RSA >= 2048 or ECDSA P-256/P-384)`);
}

/**
 * What the CSR asks for must be the proven identity: a CN, if present, must be `sa.ns.<td>`; URI
 * SANs, if present, must be exactly its SPIFFE ID; DNS SANs must be among those the control plane
 * grants. The issued certificate is built from the options, never copied from the CSR; only the
 * public key is taken from it.
 */
function checkRequestedIdentity(csr: x509.Pkcs10CertificateRequest, expectedCn: string, expectedUri: string, sans: readonly string[]): void {
  for (const cn of csr.subjectName.getField('CN')) {
    if (cn !== expectedCn) throw mismatch(`CSR asks for CN ${JSON.stringify(cn)}, but the caller proved ${expectedCn}`);
  }
  // Every subjectAltName the CSR's extensionRequest (PKCS#9, RFC 2985 §5.4.2) carries, however many.
  const requested: x509.GeneralName[] = [];
  try {
    for (const ext of csr.extensions) {
      if (ext.type === SUBJECT_ALT_NAME_OID) requested.push(...new x509.SubjectAlternativeNameExtension(ext.rawData).names.items);
    }
  } catch (cause) {
    throw new MeshError('MESH_ERR_CERT_INVALID', 'CSR subjectAltName cannot be read', { cause });
  }
  for (const name of requested) {
    if (name.type === 'url' && name.value === expectedUri) continue;
    if (name.type === 'dns' && sans.includes(name.value)) continue;
    throw mismatch(`CSR asks for SAN ${name.type}:${name.value}, which the caller (${expectedUri}) was not granted`);
  }
}

export async function signWorkloadCsr(ca: CertificateAuthority, csrPem: string, options: SignWorkloadOptions): Promise<IssuedCertificate> {
  const domain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  if (!(options.ttlMs > 0)) throw new MeshError('MESH_ERR_CERT_INVALID', `certificate lifetime ${options.ttlMs} ms is not positive`);
  const csr = parseCsr(csrPem);
  // RFC 2986 §3: the signature proves the sender holds the private key of the requested public key.
  if (!(await csr.verify())) throw new MeshError('MESH_ERR_CERT_INVALID', 'CSR signature does not verify');
  checkPublicKey(csr);
  const commonName = identityCommonName(options.identity, domain);
  const uri = spiffeId(options.identity, domain);
  const sans = [...new Set(options.sans ?? [])].filter((s) => !s.includes(':'));
  checkRequestedIdentity(csr, commonName, uri, sans);
  return signLeaf(ca, {
    commonName,
    // SPIFFE X.509-SVID §2: exactly one URI SAN, the SPIFFE ID. DNS SANs follow FSM: no ':port' names.
    sans: [{ type: 'url', value: uri }, ...sans.map((value) => ({ type: 'dns' as const, value }))],
    extendedKeyUsages: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
    publicKey: csr.publicKey,
    ttlMs: options.ttlMs,
    now: options.now ?? new Date(),
  });
}
