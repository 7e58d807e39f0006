/** The one place that loads @peculiar/x509: its Reflect polyfill first, then Node's WebCrypto as its engine. */
// @peculiar/x509 resolves its ASN.1 codecs through tsyringe, which needs the Reflect metadata API
// before the library is evaluated (see its README, "Reflect Polyfill Required"). ESM evaluates
// imports in order, so this side-effect import must stay above the library import.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

// Node's WebCrypto is native (OpenSSL underneath), so signing stays fast without a JS bignum library.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
export const subtle = webcrypto.subtle;
export type WebCryptoKey = webcrypto.CryptoKey;
export type WebCryptoKeyPair = webcrypto.CryptoKeyPair;
