/** Reads names from a peer certificate's DER, by SAN type (never by matching the printed SAN string). */
import type { X509Certificate as NodeX509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { MeshError } from '../lib/errors.js';
import { x509 } from './x509-runtime.js';

export type AnyCertificate = NodeX509Certificate | PeerCertificate | x509.X509Certificate;

/** Names in a certificate, each list holding one SAN type only (CVE-2022-21656 mixed them up). */
export interface CertificateNames {
  commonName: string | undefined;
  dnsNames: string[];
  uris: string[];
  ipAddresses: string[];
  isCa: boolean;
}

function toPeculiar(cert: AnyCertificate): x509.X509Certificate {
  if (cert instanceof x509.X509Certificate) return cert;
  const raw = (cert as { raw?: Buffer }).raw;
  if (!raw || raw.length === 0) throw new MeshError('MESH_ERR_PEER_IDENTITY_REJECTED', 'peer presented no certificate');
  try {
    return new x509.X509Certificate(raw);
  } catch (cause) {
    throw new MeshError('MESH_ERR_CERT_INVALID', 'peer certificate is not valid DER X.509', { cause });
  }
}

export function certificateNames(cert: AnyCertificate): CertificateNames {
  const c = toPeculiar(cert);
  try {
    return readNames(c);
  } catch (cause) {
    // e.g. a SAN of a type the parser does not support (otherName, x400Address): not one of ours.
    throw new MeshError('MESH_ERR_CERT_INVALID', 'peer certificate names cannot be read', { cause });
  }
}

function readNames(c: x509.X509Certificate): CertificateNames {
  const names: CertificateNames = { commonName: undefined, dnsNames: [], uris: [], ipAddresses: [], isCa: false };
  const cns = c.subjectName.getField('CN');
  names.commonName = cns.length === 1 ? cns[0] : undefined;
  const san = c.getExtension(x509.SubjectAlternativeNameExtension);
  if (san) {
    for (const item of san.names.items) {
      if (item.type === 'dns') names.dnsNames.push(item.value);
      else if (item.type === 'url') names.uris.push(item.value);
      else if (item.type === 'ip') names.ipAddresses.push(item.value);
    }
  }
  names.isCa = c.getExtension(x509.BasicConstraintsExtension)?.ca === true;
  return names;
}
