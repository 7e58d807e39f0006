/** The built-in root CA: creation (self-signed, 10 years) and loading from PEM with key/certificate checks. */
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { MeshError } from '../lib/errors.js';
import { exportPrivateKeyPem, generateKeyPair, importPrivateKeyPem, publicKeySpki, signingAlgorithmFor, type KeyAlgorithm } from './keys.js';
import { PrivateKeyPem } from './redacted.js';
import { randomSerialHex } from './serial.js';
import { DEFAULT_TRUST_DOMAIN, type TrustDomain } from './service-identity.js';
import { NOT_BEFORE_BACKDATE_MS, ROOT_CA_VALIDITY_YEARS } from './validity.js';
import { x509, type WebCryptoKey } from './x509-runtime.js';

export const CA_ORGANIZATION = 'Tessera Service Mesh';

/** A CA that can sign: its certificate and private key. The key PEM is wrapped so it never prints. */
export interface CertificateAuthority {
  readonly certificatePem: string;
  readonly certificate: x509.X509Certificate;
  readonly signingKey: WebCryptoKey;
  readonly privateKeyPem: PrivateKeyPem;
}

export interface CreateRootCaOptions {
  meshName: string;
  trustDomain?: TrustDomain;
  /**
   * RSA-2048 by default, for FSM parity: tools and providers that read `<mesh>-ca-bundle` expect
   * what FSM's Tresor writes, and only one CA signature is made per issued certificate, which
   * WebCrypto does natively in about a millisecond. ECDSA-P256 is available.
   */
  keyAlgorithm?: KeyAlgorithm;
  now?: Date;
}

/** `<mesh>-ca.<trustDomain>`, after FSM's `fsm-ca.flomesh.io` (fsm-design §3.7, §6.7). */
export function rootCaCommonName(meshName: string, trustDomain: TrustDomain = DEFAULT_TRUST_DOMAIN): string {
  return `${meshName}-ca.${trustDomain}`;
}

export async function createRootCa(options: CreateRootCaOptions): Promise<CertificateAuthority> {
  const now = options.now ?? new Date();
  const keys = await generateKeyPair(options.keyAlgorithm ?? 'RSA-2048');
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + ROOT_CA_VALIDITY_YEARS);
  // Most-significant RDN first, as Go's pkix.Name (and so FSM) orders it: O, then CN.
  const name: x509.JsonName = [{ O: [CA_ORGANIZATION] }, { CN: [rootCaCommonName(options.meshName, options.trustDomain)] }];
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialHex(),
    name,
    notBefore: new Date(now.getTime() - NOT_BEFORE_BACKDATE_MS),
    notAfter,
    keys,
    signingAlgorithm: signingAlgorithmFor(keys.privateKey),
    extensions: [
      // RFC 5280 §4.2.1.9: basicConstraints MUST be critical in CA certificates. No pathLen, so a
      // later provider may put an intermediate under this root without reissuing it.
      new x509.BasicConstraintsExtension(true, undefined, true),
      // RFC 5280 §4.2.1.3: a CA key signs certificates (and CRLs); nothing else.
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      // RFC 5280 §4.2.1.2: lets verifiers tell an old and a new root with the same name apart
      // during a rotation, through the leaves' authorityKeyIdentifier.
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certificatePem: certificate.toString('pem') + '\n',
    certificate,
    signingKey: keys.privateKey,
    privateKeyPem: new PrivateKeyPem(await exportPrivateKeyPem(keys.privateKey)),
  };
}

/** Loads a CA from PEM, refusing a certificate that is not a CA or whose public key is not the key's. */
export async function loadCertificateAuthority(certificatePem: string, privateKeyPem: string): Promise<CertificateAuthority> {
  let nodeCert: NodeX509Certificate;
  let certificate: x509.X509Certificate;
  try {
    nodeCert = new NodeX509Certificate(certificatePem);
    certificate = new x509.X509Certificate(nodeCert.raw);
  } catch (cause) {
    throw new MeshError('MESH_ERR_CERT_INVALID', 'CA certificate is not a PEM X.509 certificate', { cause });
  }
  if (!nodeCert.ca) throw new MeshError('MESH_ERR_CERT_INVALID', `certificate "${nodeCert.subject}" is not a CA (basicConstraints CA:FALSE)`);
  const { key, keyObject } = await importPrivateKeyPem(privateKeyPem);
  const certSpki = nodeCert.publicKey.export({ type: 'spki', format: 'der' });
  if (!certSpki.equals(publicKeySpki(keyObject))) {
    throw new MeshError('MESH_ERR_CERT_INVALID', `CA private key does not belong to certificate "${nodeCert.subject}"`);
  }
  return { certificatePem: certificate.toString('pem') + '\n', certificate, signingKey: key, privateKeyPem: new PrivateKeyPem(privateKeyPem) };
}
