/** Which HTTP a connection speaks, without loading node:http2 (engine/h2.ts is loaded only when needed). */

/** The client connection preface of HTTP/2 with prior knowledge (RFC 9113 §3.4) starts so. */
const PREFACE_START = Buffer.from('PRI * HTTP/2.0', 'latin1');

/** Whether the first bytes of a cleartext connection are the HTTP/2 preface (never a valid HTTP/1 request). */
export function startsWithH2Preface(first: Buffer): boolean {
  const n = Math.min(first.length, PREFACE_START.length);
  return n >= 4 && first.subarray(0, n).equals(PREFACE_START.subarray(0, n));
}

type H2Module = typeof import('./h2.js');
let loading: Promise<H2Module> | undefined;

/** engine/h2.ts, imported once on first use. */
export function loadH2(): Promise<H2Module> {
  loading ??= import('./h2.js');
  return loading;
}
