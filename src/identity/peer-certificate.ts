/**
 * Reads names from a peer certificate's DER, by SAN type (never by matching the printed SAN string),
 * with asn1js (der-names.ts) rather than @peculiar/x509, which a sidecar would load only for this.
 */
import type { X509Certificate as NodeX509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { MeshError } from '../lib/errors.js';
import type { x509 } from './x509-runtime.js';
import { derNames, type DerNames } from './der-names.js';

export type AnyCertificate = NodeX509Certificate | PeerCertificate | x509.X509Certificate;

/** Names in a certificate, each list holding one SAN type only (CVE-2022-21656 mixed them up). */
export interface CertificateNames {
  commonName: string | undefined;
  dnsNames: string[];
  uris: string[];
  ipAddresses: string[];
  isCa: boolean;
}

/** The certificate's DER, whichever library's object holds it. */
function derOf(cert: AnyCertificate): Uint8Array {
  // @peculiar/x509 objects carry rawData; Node's (crypto and tls) carry raw. Tested by shape so
  // that reading a Node certificate never loads @peculiar/x509.
  const raw = 'rawData' in cert ? new Uint8Array(cert.rawData) : (cert as { raw?: Buffer }).raw;
  if (!raw || raw.length === 0) throw new MeshError('MESH_ERR_PEER_IDENTITY_REJECTED', 'peer presented no certificate');
  return raw;
}

export function certificateNames(cert: AnyCertificate): CertificateNames {
  const der = derOf(cert);
  let names: DerNames;
  try {
    names = derNames(der);
  } catch (cause) {
    throw new MeshError('MESH_ERR_CERT_INVALID', 'peer certificate is not valid DER X.509 or its names cannot be read', { cause });
  }
  return {
    commonName: names.commonNames.length === 1 ? names.commonNames[0] : undefined,
    dnsNames: names.dnsNames, uris: names.uris, ipAddresses: names.ipAddresses, isCa: names.isCa,
  };
}
