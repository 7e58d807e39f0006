/**
 * HTTP/1.1 on the wire (RFC 9112): serialising heads with header validation, turning llhttp's raw
 * header lists into HeaderMaps, and the body framings a writer can use.
 */
import { STATUS_CODES } from 'node:http';
import { methods } from '_http_common';
import type { Socket } from 'node:net';
import { MeshError } from '../../lib/errors.js';
import type { BodySink, HeaderMap } from '../http/types.js';

/** llhttp reports methods by index into its own method table. */
export const METHOD_NAMES: readonly string[] = methods;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: no CR, LF or NUL (RFC 9110 §5.5) — the guard against header injection. */
const BAD_VALUE = /[\r\n\0]/;

/** Connection-specific headers a proxy never forwards (RFC 9110 §7.6.1), plus framing it recomputes. */
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
]);

/** Builds a HeaderMap (lower-case names; repeated headers as arrays) from llhttp's flat list. */
export function headerMapFromRaw(raw: readonly string[]): HeaderMap {
  const out: HeaderMap = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  return out;
}

/** For a request sent upstream: Host is written from the authority, and Expect is answered here. */
export const NOT_FORWARDED_REQUEST: ReadonlySet<string> = new Set([...NOT_FORWARDED, 'host', 'expect']);

/**
 * Appends `name: value` lines for every header except framing and hop-by-hop ones (`skip`, the fixed
 * set by default) and the client's own copies of the headers its Connection header nominated (see
 * receiveRequestConnection; the Connection list itself is not consulted here). Throws MeshError on
 * a name or value that could split the message.
 */
export function appendHeaderLines(head: string, headers: HeaderMap, skip: ReadonlySet<string> = NOT_FORWARDED): string {
  // undefined unless the received Connection header nominated other headers (rare)
  const received = (headers as Marked)[kReceivedHopByHop];
  for (const name in headers) {
    if (skip.has(name)) continue;
    if (received !== undefined && isReceivedCopy(headers, name, received)) continue;
    const v = headers[name];
    if (v === undefined) continue;
    head = appendHeader(head, name, v);
  }
  return head;
}

/** Appends one header (every value of a repeated one), validated like appendHeaderLines does. */
export function appendHeader(head: string, name: string, v: string | readonly string[]): string {
  if (!TOKEN.test(name)) throw new MeshError('MESH_ERR_UPSTREAM', `invalid header name ${JSON.stringify(name)}`);
  if (typeof v === 'string') {
    if (BAD_VALUE.test(v)) throw new MeshError('MESH_ERR_UPSTREAM', `invalid value for header ${name}`);
    return `${head}${name}: ${v}\r\n`;
  }
  for (const one of v) {
    if (BAD_VALUE.test(one)) throw new MeshError('MESH_ERR_UPSTREAM', `invalid value for header ${name}`);
    head += `${name}: ${one}\r\n`;
  }
  return head;
}

// ---- Connection-nominated headers (RFC 9110 §7.6.1, security-rules.md §5) ------------------------
//
// A header the received Connection header names is hop-by-hop: it is removed from the message
// before it is forwarded. §5 fixes the order: authenticate on the received headers, then remove the
// hop-by-hop ones, then add the proxy's own (verified X-Payload and claim headers, serviceidentity,
// ext-authz headers). Removing them at serialization time (after the chain) let a client strip the
// proxy's identity headers with `Connection: X-Payload`; removing them before the chain would hide
// `Connection: Authorization` from authentication. So when the message is received, each nominated
// header is turned into an accessor property that still reads the received value (authentication,
// policies and ext-authz see it as before) and turns back into a plain property as soon as the chain
// writes it; a delete removes it. The serializer skips the properties still holding the received
// value: the client's copies go, whatever the proxy set under the same name goes out.

/** Set (non-enumerable) on a received map whose Connection header nominated headers: name → the getter installed. */
const kReceivedHopByHop = Symbol('tessera.received-hop-by-hop');
type Marked = HeaderMap & { [kReceivedHopByHop]?: Map<string, () => unknown> };

/**
 * Connection values that nominate no header besides the fixed hop-by-hop set (`close`, `keep-alive`,
 * `Upgrade`, `TE`, in any case, as a list): the common case, recognised without allocating.
 */
const PLAIN_CONNECTION = /^[\t ]*(?:(?:close|keep-alive|upgrade|te)[\t ]*)?(?:,[\t ]*(?:(?:close|keep-alive|upgrade|te)[\t ]*)?)*$/i;

function isReceivedCopy(headers: HeaderMap, name: string, received: Map<string, () => unknown>): boolean {
  const get = received.get(name);
  return get !== undefined && Object.getOwnPropertyDescriptor(headers, name)?.get === get;
}

/**
 * The Connection tokens that name a header to remove (not the fixed set, which the serializer always
 * skips, and never Host), or undefined when there are none; the Connection entry is reduced to the
 * others, so a later reader of it (a Pipy plugin drops what it names) cannot reach the proxy's headers.
 */
function nominated(map: HeaderMap): string[] | undefined {
  const c = map['connection'];
  if (c === undefined || (typeof c === 'string' && PLAIN_CONNECTION.test(c))) return undefined;
  const names: string[] = [];
  const kept: string[] = [];
  for (const part of (typeof c === 'string' ? c : c.join(',')).split(',')) {
    const t = part.trim().toLowerCase();
    if (!t) continue;
    if (t === 'close' || NOT_FORWARDED.has(t)) kept.push(t);
    else if (t !== 'host' && !names.includes(t)) names.push(t);
  }
  if (kept.length > 0) map['connection'] = kept.join(', ');
  else delete map['connection'];
  return names;
}

/**
 * On a received request, before any module runs: the headers the Connection header nominates stay
 * readable with their received value but are never forwarded as received (see above). No work and
 * no allocation without such a header.
 */
export function receiveRequestConnection(map: HeaderMap): void {
  const names = nominated(map);
  if (!names) return;
  let marks: Map<string, () => unknown> | undefined;
  for (const name of names) {
    // own headers only: a token like `constructor` must not reach the prototype
    if (!Object.hasOwn(map, name)) continue;
    const value = map[name];
    if (value === undefined) continue;
    const get = (): unknown => value;
    Object.defineProperty(map, name, {
      get,
      set(this: HeaderMap, v: unknown) {
        Object.defineProperty(this, name, { value: v, writable: true, enumerable: true, configurable: true });
      },
      enumerable: true,
      configurable: true,
    });
    (marks ??= new Map()).set(name, get);
  }
  if (marks) Object.defineProperty(map, kReceivedHopByHop, { value: marks });
}

/**
 * On a response received from an upstream: the headers its Connection header nominates are removed
 * at once, before any module (or the proxy's own response headers) sees the map, so an upstream
 * cannot strip what the proxy adds to the response. No work and no allocation without such a header.
 */
export function receiveResponseConnection(map: HeaderMap): void {
  const names = nominated(map);
  if (names) for (const name of names) if (Object.hasOwn(map, name)) delete map[name];
}

export function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
}

/** Statuses whose responses never carry a body (RFC 9110 §6.4.1). */
export function statusHasNoBody(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

export type Framing = 'length' | 'chunked' | 'close';

/** Bodies up to this size leave with their head as one string write: no cork, no writev. */
export const SMALL_BODY = 8 * 1024;

/**
 * Writes a head and a body that is all here. A small body is appended to the head as latin1 text
 * (byte for byte the same on the wire), so the message costs one write call and one syscall; a
 * larger one goes out corked with the head, in one writev.
 */
export function writeWhole(socket: Socket, head: string, body: Buffer | readonly Buffer[] | undefined): void {
  if (body === undefined) {
    socket.write(head, 'latin1');
    return;
  }
  if (Buffer.isBuffer(body)) {
    if (body.length <= SMALL_BODY) socket.write(head + body.toString('latin1'), 'latin1');
    else {
      socket.cork();
      socket.write(head, 'latin1');
      socket.write(body);
      socket.uncork();
    }
    return;
  }
  let size = 0;
  for (const c of body) size += c.length;
  if (size <= SMALL_BODY) {
    let text = head;
    for (const c of body) text += c.toString('latin1');
    socket.write(text, 'latin1');
    return;
  }
  socket.cork();
  socket.write(head, 'latin1');
  for (const c of body) socket.write(c);
  socket.uncork();
}

/**
 * A sink writing a body to a socket in one framing. `onDrain` is wired to the socket's 'drain'
 * so the producer resumes; `onDone` runs when the body has been written completely (or failed).
 */
export class SocketBodySink implements BodySink {
  private resumeProducer: (() => void) | undefined;
  private waitingDrain = false;
  constructor(
    private readonly socket: Socket,
    private readonly framing: Framing,
    private readonly onDone: (err?: Error) => void,
  ) {}

  setResume(resume: () => void): void {
    this.resumeProducer = resume;
  }

  write(chunk: Buffer): boolean {
    if (chunk.length === 0) return true;
    let ok: boolean;
    if (this.framing === 'chunked') {
      this.socket.cork();
      this.socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      this.socket.write(chunk);
      ok = this.socket.write('\r\n', 'latin1');
      this.socket.uncork();
    } else ok = this.socket.write(chunk);
    if (!ok && !this.waitingDrain) {
      this.waitingDrain = true;
      this.socket.once('drain', this.drain);
    }
    return ok;
  }

  private readonly drain = (): void => {
    this.waitingDrain = false;
    this.resumeProducer?.();
  };

  end(): void {
    if (this.framing === 'chunked') this.socket.write('0\r\n\r\n', 'latin1');
    this.onDone();
  }

  error(err: Error): void {
    this.onDone(err);
  }
}
