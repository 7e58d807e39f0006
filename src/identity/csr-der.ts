/**
 * A PKCS#10 request (RFC 2986) written directly in DER: subject CN, the requested SPIFFE URI as a
 * subjectAltName in a PKCS#9 extensionRequest, signed by the workload key with Node's crypto. The
 * sidecar makes one at every start, and doing it without @peculiar/x509 keeps that library out of
 * sidecars that never parse a peer certificate (no mTLS). The CA parses and checks requests with the
 * library (sign-workload.ts); identity tests check that it accepts these.
 */
import { KeyObject, sign } from 'node:crypto';
import type { WebCryptoKeyPair } from './x509-runtime.js';

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out: number[] = [a! * 40 + b!];
  for (const n of rest) {
    const groups: number[] = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v & 0x7f) | 0x80);
    out.push(...groups);
  }
  return tlv(0x06, Buffer.from(out));
}

const SEQUENCE = 0x30;
const SET = 0x31;
const OID_CN = '2.5.4.3';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const OID_RSA_SHA256 = '1.2.840.113549.1.1.11';

/** The request's DER, as PEM. */
export function pkcs10Pem(opts: { commonName: string; uri: string; keys: WebCryptoKeyPair; spki: Buffer }): string {
  const subject = tlv(SEQUENCE, tlv(SET, tlv(SEQUENCE, oid(OID_CN), tlv(0x0c, Buffer.from(opts.commonName, 'utf8')))));
  // GeneralNames with one uniformResourceIdentifier ([6] IMPLICIT IA5String)
  const sans = tlv(SEQUENCE, tlv(0x86, Buffer.from(opts.uri, 'ascii')));
  const extensions = tlv(SEQUENCE, tlv(SEQUENCE, oid(OID_SUBJECT_ALT_NAME), tlv(0x04, sans)));
  const attributes = tlv(0xa0, tlv(SEQUENCE, oid(OID_EXTENSION_REQUEST), tlv(SET, extensions)));
  const info = tlv(SEQUENCE, tlv(0x02, Buffer.from([0])), subject, opts.spki, attributes);
  const key = KeyObject.from(opts.keys.privateKey);
  const ec = key.asymmetricKeyType === 'ec';
  // ECDSA: the DER (r, s) form X.509 expects; RSA: PKCS #1 v1.5
  const signature = sign('sha256', info, key);
  const algorithm = ec ? tlv(SEQUENCE, oid(OID_ECDSA_SHA256)) : tlv(SEQUENCE, oid(OID_RSA_SHA256), Buffer.from([0x05, 0x00]));
  const der = tlv(SEQUENCE, info, algorithm, tlv(0x03, Buffer.from([0]), signature));
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64}-----END CERTIFICATE REQUEST-----`;
}
