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

/** Longest request line held while it could still become one (servers refuse longer ones: 414). */
const MAX_HELD_LINE = 8192;
const HTTP_REQUEST_LINE = /^[A-Za-z]+[ \t]+[^ \t\r\n]+[ \t]+HTTP\//i;
/** What could still grow into a request line: a method, or a method, blanks and more of the line. */
const REQUEST_LINE_PREFIX = /^(?:[A-Za-z]*|[A-Za-z]+[ \t][^\r\n]*)$/;

/**
 * A tunnel taken for TCP because its client was silent (classifySilent) may still not carry HTTP
 * past the chain: its first line, once the server spoke, is judged before any byte is relayed. A
 * request line with a version (`GET / HTTP/1.1`: the only kind that carries headers) is refused;
 * what a server-speaks-first client sends (`EHLO`, a binary handshake) passes.
 */
export function judgeAfterSilence(held: Buffer): 'hold' | 'pass' | 'refuse' {
  let i = 0;
  while (i < held.length && (held[i] === 0x0d || held[i] === 0x0a)) i++;
  const text = held.subarray(i, Math.min(held.length, i + MAX_HELD_LINE + 1)).toString('latin1');
  if (text === '') return i > MAX_HELD_LINE ? 'refuse' : 'hold';
  const lf = text.indexOf('\n');
  const line = lf < 0 ? text : text.slice(0, lf);
  if (lf >= 0) return HTTP_REQUEST_LINE.test(line) ? 'refuse' : 'pass';
  if (!REQUEST_LINE_PREFIX.test(line)) return 'pass';
  return line.length > MAX_HELD_LINE ? 'refuse' : 'hold';
}
