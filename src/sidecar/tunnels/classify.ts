/**
 * What a CONNECT tunnel carries, told from its first bytes (docs/security.md "Tunnels"). Fail
 * closed: anything a server could take for an HTTP/1.x request is HTTP, so the outbound HTTP chain
 * sees it. A request line starts with a method token, and servers skip empty lines before it (RFC
 * 9112 §2.2), so the first byte after CR/LF being a letter is enough; the engine then refuses what
 * is not well-formed HTTP/1.1 (400 or 505), the HTTP/2 preface `PRI * HTTP/2.0` included, so
 * no prior-knowledge h2c passes either. A TLS ClientHello (0x16) and binary protocols start otherwise.
 */
export type TunnelProtocol = 'http' | 'tcp';

/** Empty lines longer than this before any other byte: taken as HTTP (the engine judges them). */
const MAX_LEADING_EMPTY_LINES = 4096;

/** The protocol of a tunnel whose first bytes are `first`, or undefined while they are only CR/LF. */
export function classifyTunnel(first: Buffer): TunnelProtocol | undefined {
  let i = 0;
  while (i < first.length && (first[i] === 0x0d || first[i] === 0x0a)) i++;
  if (i === first.length) return i > MAX_LEADING_EMPTY_LINES ? 'http' : undefined;
  const c = first[i]! | 0x20;
  return c >= 0x61 && c <= 0x7a ? 'http' : 'tcp';
}

/**
 * After the wait for the client's first bytes: a client that sent nothing is waiting for the
 * server to speak first (SMTP, MySQL, …), which HTTP never does, so it is TCP; empty lines alone
 * are HTTP's.
 */
export function classifySilent(first: Buffer): TunnelProtocol {
  return first.length === 0 ? 'tcp' : (classifyTunnel(first) ?? 'http');
}
