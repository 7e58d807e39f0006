/** Signs a leaf certificate with the CA: the shared part of workload and AccessCert issuance. */
import { createPublicKey } from 'node:crypto';
import { signingAlgorithmFor } from './keys.js';
import type { CertificateAuthority } from './certificate-authority.js';
import type { IssuedCertificate } from './issued-certificate.js';
import { randomSerialHex } from './serial.js';
import { NOT_BEFORE_BACKDATE_MS } from './validity.js';
import { x509 } from './x509-runtime.js';

export interface LeafSpec {
  commonName: string;
  sans: x509.JsonGeneralNames;
  extendedKeyUsages: x509.ExtendedKeyUsage[];
  publicKey: x509.PublicKey;
  ttlMs: number;
  now: Date;
}

export async function signLeaf(ca: CertificateAuthority, spec: LeafSpec): Promise<IssuedCertificate> {
  const notBefore = new Date(spec.now.getTime() - NOT_BEFORE_BACKDATE_MS);
  // A leaf never outlives its issuer: past the root's notAfter it could not be verified anyway.
  const notAfter = new Date(Math.min(spec.now.getTime() + spec.ttlMs, ca.certificate.notAfter.getTime()));
  const isRsa = createPublicKey({ key: Buffer.from(spec.publicKey.rawData), format: 'der', type: 'spki' }).asymmetricKeyType === 'rsa';
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: [{ CN: [spec.commonName] }],
    issuer: ca.certificate.subjectName,
    notBefore,
    notAfter,
    publicKey: spec.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: signingAlgorithmFor(ca.signingKey),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      // RFC 5280 §4.2.1.3 / SPIFFE X.509-SVID §4.3: leaf keys sign handshakes; RSA keys may also
      // encipher (TLS 1.2 RSA key exchange), ECDSA keys cannot.
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | (isRsa ? x509.KeyUsageFlags.keyEncipherment : 0), true),
      new x509.ExtendedKeyUsageExtension(spec.extendedKeyUsages, false),
      // RFC 5280 §4.2.1.6: non-critical because the subject is not empty.
      new x509.SubjectAlternativeNameExtension(spec.sans, false),
      await x509.SubjectKeyIdentifierExtension.create(spec.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
    ],
  });
  const certificatePem = cert.toString('pem') + '\n';
  return {
    certificatePem,
    chainPem: certificatePem,
    issuingCaPem: ca.certificatePem,
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}
