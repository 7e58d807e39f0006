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

/**
 * Appends `name: value` lines for every header except framing and hop-by-hop ones (and those the
 * Connection header names). Throws MeshError on a name or value that could split the message.
 */
export function appendHeaderLines(head: string, headers: HeaderMap): string {
  const connection = headers['connection'];
  const named = connection ? connectionTokens(connection) : undefined;
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined || NOT_FORWARDED.has(name) || named?.has(name)) continue;
    if (!TOKEN.test(name)) throw new MeshError('MESH_ERR_UPSTREAM', `invalid header name ${JSON.stringify(name)}`);
    if (typeof v === 'string') {
      if (BAD_VALUE.test(v)) throw new MeshError('MESH_ERR_UPSTREAM', `invalid value for header ${name}`);
      head += `${name}: ${v}\r\n`;
    } else {
      for (const one of v) {
        if (BAD_VALUE.test(one)) throw new MeshError('MESH_ERR_UPSTREAM', `invalid value for header ${name}`);
        head += `${name}: ${one}\r\n`;
      }
    }
  }
  return head;
}

function connectionTokens(v: string | string[]): Set<string> {
  const s = new Set<string>();
  for (const part of (Array.isArray(v) ? v.join(',') : v).split(',')) {
    const t = part.trim().toLowerCase();
    if (t) s.add(t);
  }
  return s;
}

export function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
}

/** Statuses whose responses never carry a body (RFC 9110 §6.4.1). */
export function statusHasNoBody(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

export type Framing = 'length' | 'chunked' | 'close';

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
