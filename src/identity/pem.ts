/** PEM armour (RFC 7468): encode DER, split bundles, and base64 for Secret data. */
import { MeshError } from '../lib/errors.js';

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1-----/g;

export function toPem(label: string, der: ArrayBuffer | Uint8Array): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Every block with `label` in `text`, as normalised PEM strings (one per certificate for a bundle). */
export function splitPem(text: string, label = 'CERTIFICATE'): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(BLOCK)) {
    if (m[1] === label) out.push(toPem(label, Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64')));
  }
  return out;
}

/** The DER of the single block with `label`; refuses text with none. */
export function pemToDer(text: string, label: string): Uint8Array {
  for (const m of text.matchAll(BLOCK)) {
    if (m[1] === label) return new Uint8Array(Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64'));
  }
  throw new MeshError('MESH_ERR_CERT_INVALID', `no PEM block "${label}" found`);
}

export function toBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export function fromBase64(b64: string, what: string): string {
  // Kubernetes Secret data is standard base64 (RFC 4648 §4); refuse anything else rather than guess.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new MeshError('MESH_ERR_CERT_INVALID', `${what} is not valid base64`);
  return Buffer.from(b64, 'base64').toString('utf8');
}
