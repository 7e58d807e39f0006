/**
 * The one place that loads @peculiar/x509: its Reflect polyfill first, then Node's WebCrypto as its
 * engine. Loaded on first use, not on import: the library and its ASN.1 schemas hold ~15 MiB, which a
 * sidecar without mTLS never needs (docs/benchmarks.md, "Sidecar memory"); one with mTLS loads it when
 * it makes its first CSR, before it serves any mTLS connection.
 */
import type * as X509 from '@peculiar/x509';
import { createRequire } from 'node:module';
import { webcrypto } from 'node:crypto';

let loaded: typeof X509 | undefined;

function load(): typeof X509 {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  // @peculiar/x509 resolves its ASN.1 codecs through tsyringe, which needs the Reflect metadata API
  // before the library is evaluated (see its README, "Reflect Polyfill Required").
  require('reflect-metadata');
  const lib = require('@peculiar/x509') as typeof X509;
  // Node's WebCrypto is native (OpenSSL underneath), so signing stays fast without a JS bignum library.
  lib.cryptoProvider.set(webcrypto as unknown as Parameters<typeof lib.cryptoProvider.set>[0]);
  loaded = lib;
  return lib;
}

/** The library's namespace, loaded when a member is first read. */
export const x509: typeof X509 = new Proxy({} as typeof X509, {
  get: (_target, key) => (load() as unknown as Record<string | symbol, unknown>)[key],
});

/** The library's types, under the same name as its namespace. */
export declare namespace x509 {
  type X509Certificate = X509.X509Certificate;
  type Pkcs10CertificateRequest = X509.Pkcs10CertificateRequest;
  type JsonName = X509.JsonName;
  type JsonGeneralName = X509.JsonGeneralName;
  type JsonGeneralNames = X509.JsonGeneralNames;
  type ExtendedKeyUsage = X509.ExtendedKeyUsage;
  type KeyUsageFlags = X509.KeyUsageFlags;
  type PublicKey = X509.PublicKey;
  type GeneralName = X509.GeneralName;
  type Extension = X509.Extension;
}

export const subtle = webcrypto.subtle;
export type WebCryptoKey = webcrypto.CryptoKey;
export type WebCryptoKeyPair = webcrypto.CryptoKeyPair;
