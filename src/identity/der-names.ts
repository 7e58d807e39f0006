/**
 * The names in a certificate, read from its DER with asn1js alone: the subject's CNs, the SAN
 * entries by type, and BasicConstraints' cA flag. A sidecar reads them from every mTLS peer; doing it
 * with @peculiar/x509 cost ~15 MiB of RSS per sidecar (its schemas, tsyringe and reflect-metadata),
 * asn1js ~1.5 MiB (docs/benchmarks.md, "Sidecar memory"). The certificate has already been parsed
 * and verified by OpenSSL when a peer presents it; this reads fields, it does not validate.
 */
import { createRequire } from 'node:module';
import type * as Asn1 from 'asn1js';

let asn1: typeof Asn1 | undefined;
/** Loaded on first use: a sidecar without mTLS never reads a certificate. */
function lib(): typeof Asn1 {
  asn1 ??= createRequire(import.meta.url)('asn1js') as typeof Asn1;
  return asn1;
}

const OID_COMMON_NAME = '2.5.4.3';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
/** GeneralName's context tags (RFC 5280 §4.2.1.6). */
const SAN_DNS = 2;
const SAN_URI = 6;
const SAN_IP = 7;
const CONTEXT = 3;

export interface DerNames {
  commonNames: string[];
  dnsNames: string[];
  uris: string[];
  ipAddresses: string[];
  isCa: boolean;
}

/** Thrown for bytes that are not an X.509 certificate of the expected shape. */
export class CertificateShapeError extends Error {}

function parse(bytes: Uint8Array, what: string): Asn1.AsnType {
  const view = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const r = lib().fromBER(view);
  if (r.offset === -1 || r.offset !== view.byteLength) throw new CertificateShapeError(`${what} is not one complete DER value`);
  return r.result;
}

function children(node: Asn1.AsnType | undefined, what: string): Asn1.AsnType[] {
  const value = (node as { valueBlock?: { value?: unknown } } | undefined)?.valueBlock?.value;
  if (!Array.isArray(value)) throw new CertificateShapeError(`${what} is not a constructed value`);
  return value as Asn1.AsnType[];
}

const isContext = (n: Asn1.AsnType, tag: number): boolean => n.idBlock.tagClass === CONTEXT && n.idBlock.tagNumber === tag;

function oidOf(n: Asn1.AsnType | undefined, what: string): string {
  if (!(n instanceof lib().ObjectIdentifier)) throw new CertificateShapeError(`${what} is not an OID`);
  return n.valueBlock.toString();
}

/** The primitive content bytes of an implicitly tagged value (IA5String / OCTET STRING under a context tag). */
function primitiveBytes(n: Asn1.AsnType): Uint8Array {
  const hex = (n as { valueBlock?: { valueHexView?: Uint8Array } }).valueBlock?.valueHexView;
  if (!hex) throw new CertificateShapeError('a name is not a primitive value');
  return hex;
}

/** An attribute value of a Name as text (UTF8String, PrintableString, IA5String…). */
function stringOf(n: Asn1.AsnType | undefined): string {
  const value = (n as { valueBlock?: { value?: unknown } } | undefined)?.valueBlock?.value;
  if (typeof value !== 'string') throw new CertificateShapeError('a subject attribute is not a string');
  return value;
}

/** IPv4 dotted; IPv6 in RFC 5952's text form (lowercase, the longest run of two or more zero groups as `::`). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length !== 16) throw new CertificateShapeError(`an iPAddress name has ${bytes.length} bytes`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (bestLength < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** Reads the names from a certificate's DER. */
export function derNames(der: Uint8Array): DerNames {
  const names: DerNames = { commonNames: [], dnsNames: [], uris: [], ipAddresses: [], isCa: false };
  const [tbs] = children(parse(der, 'the certificate'), 'the certificate');
  const fields = children(tbs, 'tbsCertificate');
  // version [0] is optional: the subject is the 5th field after it (serial, signature, issuer, validity)
  const base = fields[0] && isContext(fields[0], 0) ? 1 : 0;
  for (const rdn of children(fields[base + 4], 'the subject')) {
    for (const attribute of children(rdn, 'a subject RDN')) {
      const [type, value] = children(attribute, 'a subject attribute');
      if (oidOf(type, 'an attribute type') === OID_COMMON_NAME) names.commonNames.push(stringOf(value));
    }
  }
  const extensions = fields.slice(base + 6).find((f) => isContext(f, 3));
  if (!extensions) return names;
  const [list] = children(extensions, 'the extensions');
  for (const extension of children(list, 'the extension list')) {
    const parts = children(extension, 'an extension');
    const id = oidOf(parts[0], 'an extension id');
    if (id !== OID_SUBJECT_ALT_NAME && id !== OID_BASIC_CONSTRAINTS) continue;
    const octets = parts[parts.length - 1];
    if (!(octets instanceof lib().OctetString)) throw new CertificateShapeError(`extension ${id} has no value`);
    const inner = parse(octets.valueBlock.valueHexView, `extension ${id}`);
    if (id === OID_BASIC_CONSTRAINTS) {
      const first = children(inner, 'basicConstraints')[0];
      names.isCa = first instanceof lib().Boolean && first.valueBlock.value;
      continue;
    }
    for (const name of children(inner, 'subjectAltName')) {
      if (name.idBlock.tagClass !== CONTEXT) throw new CertificateShapeError('a subjectAltName entry is not a GeneralName');
      const tag = name.idBlock.tagNumber;
      if (tag === SAN_DNS) names.dnsNames.push(Buffer.from(primitiveBytes(name)).toString('latin1'));
      else if (tag === SAN_URI) names.uris.push(Buffer.from(primitiveBytes(name)).toString('latin1'));
      else if (tag === SAN_IP) names.ipAddresses.push(formatIp(primitiveBytes(name)));
    }
  }
  return names;
}
