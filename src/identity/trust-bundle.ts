/** A set of trusted roots (old and new during a rotation), as PEM for TLS `ca` and for storage. */
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { MeshError } from '../lib/errors.js';
import { splitPem } from './pem.js';

export interface TrustedRoot {
  pem: string;
  /** SHA-256 fingerprint, `AA:BB:…`, as `openssl x509 -fingerprint -sha256` prints it */
  fingerprint: string;
  subject: string;
  notAfter: Date;
}

function readRoot(pem: string): TrustedRoot {
  let cert: NodeX509Certificate;
  try {
    cert = new NodeX509Certificate(pem);
  } catch (cause) {
    throw new MeshError('MESH_ERR_CERT_INVALID', 'trust bundle entry is not a PEM X.509 certificate', { cause });
  }
  if (!cert.ca) throw new MeshError('MESH_ERR_CERT_INVALID', `trust bundle entry "${cert.subject}" is not a CA certificate`);
  return { pem, fingerprint: cert.fingerprint256, subject: cert.subject, notAfter: new Date(cert.validTo) };
}

/**
 * Immutable. During a root rotation the bundle holds the old and the new root, so sidecars with
 * either generation of workload certificate verify each other until every certificate is reissued;
 * then the old root is removed (or ages out through `withoutExpired`).
 */
export class TrustBundle {
  readonly roots: readonly TrustedRoot[];

  private constructor(roots: readonly TrustedRoot[]) {
    this.roots = roots;
  }

  /** From any number of PEM texts, each holding one or more certificates; duplicates collapse. */
  static fromPem(...texts: string[]): TrustBundle {
    return new TrustBundle([]).with(...texts);
  }

  with(...texts: string[]): TrustBundle {
    const roots = [...this.roots];
    for (const text of texts) {
      const blocks = splitPem(text);
      if (blocks.length === 0 && text.trim() !== '') throw new MeshError('MESH_ERR_CERT_INVALID', 'trust bundle text holds no PEM certificate');
      for (const pem of blocks) {
        const root = readRoot(pem);
        if (!roots.some((r) => r.fingerprint === root.fingerprint)) roots.push(root);
      }
    }
    return new TrustBundle(roots);
  }

  /** Drops the root with this SHA-256 fingerprint (the end of a rotation). */
  without(fingerprint: string): TrustBundle {
    return new TrustBundle(this.roots.filter((r) => r.fingerprint !== fingerprint));
  }

  withoutExpired(now: Date): TrustBundle {
    return new TrustBundle(this.roots.filter((r) => r.notAfter.getTime() > now.getTime()));
  }

  has(fingerprint: string): boolean {
    return this.roots.some((r) => r.fingerprint === fingerprint);
  }

  /** One PEM per root, the form `tls.createSecureContext({ ca })` takes. */
  pems(): string[] {
    return this.roots.map((r) => r.pem);
  }

  /** All roots concatenated: a `ca-bundle.crt` file, or `openssl verify -CAfile`. */
  toPem(): string {
    return this.pems().join('');
  }
}
