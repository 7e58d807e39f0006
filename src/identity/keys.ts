/** Key pairs for the CA and workloads: generation, PKCS#8 PEM export and import, and signing parameters. */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { MeshError } from '../lib/errors.js';
import { toPem } from './pem.js';
import { subtle, type WebCryptoKey, type WebCryptoKeyPair } from './x509-runtime.js';

/**
 * ECDSA P-256 is the workload default: a TLS handshake costs the server one signature, and P-256
 * signs far faster than RSA-2048 at equal strength (NIST SP 800-57: 128-bit vs 112-bit).
 * RSA sizes follow MeshConfig `certKeyBitSize` (2048–4096, fsm-design §1.6).
 */
export type KeyAlgorithm = 'ECDSA-P256' | 'RSA-2048' | 'RSA-3072' | 'RSA-4096';

/** MeshConfig `certKeyBitSize` as an RSA algorithm; out-of-range values fall back to 2048, as in FSM. */
export function rsaKeyAlgorithm(bits: number | undefined): KeyAlgorithm {
  return bits === 3072 ? 'RSA-3072' : bits === 4096 ? 'RSA-4096' : 'RSA-2048';
}

const EC_IMPORT = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const RSA_IMPORT = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

export async function generateKeyPair(algorithm: KeyAlgorithm): Promise<WebCryptoKeyPair> {
  if (algorithm === 'ECDSA-P256') return subtle.generateKey(EC_IMPORT, true, ['sign', 'verify']);
  const modulusLength = Number(algorithm.slice(4));
  return subtle.generateKey({ ...RSA_IMPORT, modulusLength, publicExponent: new Uint8Array([1, 0, 1]) }, true, ['sign', 'verify']);
}

/** The signature algorithm a key signs with: SHA-256 always (RFC 5758 / RFC 4055). */
export function signingAlgorithmFor(key: WebCryptoKey): { name: string; hash: string } {
  return key.algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
}

export async function exportPrivateKeyPem(key: WebCryptoKey): Promise<string> {
  return toPem('PRIVATE KEY', await subtle.exportKey('pkcs8', key));
}

/**
 * Imports a private key in any PEM form Node reads (PKCS#8, PKCS#1 `RSA PRIVATE KEY`, SEC1
 * `EC PRIVATE KEY`), so a CA Secret written by FSM or by hand loads as well as our own.
 */
export async function importPrivateKeyPem(pem: string): Promise<{ key: WebCryptoKey; keyObject: KeyObject }> {
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(pem);
  } catch (cause) {
    throw new MeshError('MESH_ERR_CERT_INVALID', 'private key is not a PEM key Node can read', { cause });
  }
  const der = keyObject.export({ type: 'pkcs8', format: 'der' });
  if (keyObject.asymmetricKeyType === 'rsa') {
    return { key: await subtle.importKey('pkcs8', der, RSA_IMPORT, true, ['sign']), keyObject };
  }
  if (keyObject.asymmetricKeyType === 'ec' && keyObject.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return { key: await subtle.importKey('pkcs8', der, EC_IMPORT, true, ['sign']), keyObject };
  }
  throw new MeshError('MESH_ERR_CERT_INVALID', `private key type ${keyObject.asymmetricKeyType ?? 'unknown'} is not supported (use RSA or ECDSA P-256)`);
}

/** DER SubjectPublicKeyInfo of a private key's public half, to check that a key matches a certificate. */
export function publicKeySpki(privateKey: KeyObject): Buffer {
  return createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
}
