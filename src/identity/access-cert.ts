/** AccessCert: a client certificate for an out-of-mesh workload, delivered as a `kubernetes.io/tls` Secret. */
import { isIP } from 'node:net';
import type { Secret } from '../api/types.js';
import { MeshError } from '../lib/errors.js';
import type { CertificateAuthority } from './certificate-authority.js';
import type { IssuedCertificate } from './issued-certificate.js';
import { exportPrivateKeyPem, generateKeyPair, type KeyAlgorithm } from './keys.js';
import { toBase64 } from './pem.js';
import { signLeaf } from './sign-certificate.js';
import type { TrustBundle } from './trust-bundle.js';
import { subtle, x509 } from './x509-runtime.js';

export interface AccessCertRequest {
  /** `spec.subjectAltNames`; the first is also the CN (fsm-design §1.4, "full-CN semantics") */
  subjectAltNames: readonly string[];
  /** `spec.secret` */
  secret: { name: string; namespace: string };
  ttlMs: number;
  now?: Date;
  keyAlgorithm?: KeyAlgorithm;
  /** roots for `ca.crt`; during a rotation pass old + new so the client verifies either generation */
  trustBundle?: TrustBundle;
}

/** Each SAN goes in as its own type (RFC 5280 §4.2.1.6): URIs, IP addresses, or DNS names. */
function generalName(value: string): x509.JsonGeneralName {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return { type: 'url', value };
  if (isIP(value)) return { type: 'ip', value };
  return { type: 'dns', value };
}

/**
 * Issues the certificate and returns the Secret (`ca.crt`, `tls.crt`, `tls.key`). Unlike a workload
 * certificate the key is made here: the Secret is how it reaches a pod outside the mesh. Client
 * authentication only: the holder is a caller, never a mesh server.
 */
export async function issueAccessCertSecret(
  ca: CertificateAuthority,
  request: AccessCertRequest,
): Promise<{ secret: Secret; certificate: IssuedCertificate }> {
  const sans = request.subjectAltNames.map((s) => s.trim()).filter((s) => s !== '');
  if (sans.length === 0) throw new MeshError('MESH_ERR_MANIFEST_INVALID', 'AccessCert spec.subjectAltNames must name at least one subject');
  // A SPIFFE URI would make the holder a mesh workload to every sidecar (peer-identity.ts): refuse it.
  const spiffe = sans.find((s) => s.toLowerCase().startsWith('spiffe:'));
  if (spiffe) throw new MeshError('MESH_ERR_MANIFEST_INVALID', `AccessCert spec.subjectAltNames must not hold a SPIFFE ID (${spiffe}): mesh identities are issued to sidecars only`);
  if (!(request.ttlMs > 0)) throw new MeshError('MESH_ERR_CERT_INVALID', `certificate lifetime ${request.ttlMs} ms is not positive`);
  const keys = await generateKeyPair(request.keyAlgorithm ?? 'ECDSA-P256');
  const certificate = await signLeaf(ca, {
    commonName: sans[0]!,
    sans: sans.map(generalName),
    extendedKeyUsages: [x509.ExtendedKeyUsage.clientAuth],
    publicKey: new x509.PublicKey(await subtle.exportKey('spki', keys.publicKey)),
    ttlMs: request.ttlMs,
    now: request.now ?? new Date(),
  });
  const secret: Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name: request.secret.name, namespace: request.secret.namespace },
    data: {
      'ca.crt': toBase64(request.trustBundle?.toPem() ?? certificate.issuingCaPem),
      'tls.crt': toBase64(certificate.chainPem),
      'tls.key': toBase64(await exportPrivateKeyPem(keys.privateKey)),
    },
  };
  return { secret, certificate };
}
