/**
 * PipyJS events in the whole-message model: `Message` (head + whole body), the `MessageStart`
 * event handed to `handleMessageStart`, and `StreamEnd`. A pipeline step yields a Message, a
 * StreamEnd, or nothing (null).
 */
import { Data } from './data.js';

/** Where a message's body still lives when it has not been read yet (the sidecar's streamed body). */
export interface BodySource {
  bytes(): Promise<Buffer>;
}

export class Message {
  #head: unknown;
  #body: Data | null;
  #tail: unknown;
  #payload: unknown;
  /** set while the body is still in its source; cleared once read into #body */
  #source: BodySource | undefined;

  constructor(head?: unknown, body?: unknown, tail?: unknown) {
    // new Message('text'): a head-less message with a body
    if (arguments.length === 1 && (typeof head === 'string' || head instanceof Data)) {
      this.#head = null;
      this.#body = typeof head === 'string' ? new Data(head) : head;
      return;
    }
    this.#head = head === undefined ? null : head;
    if (body === undefined || body === null) this.#body = null;
    else if (typeof body === 'string') this.#body = new Data(body);
    else if (body instanceof Data) this.#body = body;
    else if (Buffer.isBuffer(body) || body instanceof Uint8Array) this.#body = new Data(body);
    else {
      // anything else is kept as the payload, as Pipy does
      this.#body = null;
      this.#payload = body;
    }
    this.#tail = tail;
  }

  /** A message whose body is read from `source` only when something needs it. */
  static lazy(head: unknown, source: BodySource | null): Message {
    const m = new Message(head);
    if (source) m.#source = source;
    else m.#body = new Data();
    return m;
  }

  get head(): any {
    return this.#head;
  }
  get body(): Data | null {
    if (this.#source) throw new Error('PipyJS runtime: message body read before it was buffered');
    return this.#body;
  }
  get tail(): unknown {
    return this.#tail;
  }
  get payload(): unknown {
    return this.#payload;
  }

  /** True while the body has not been read from its source. */
  get pending(): boolean {
    return this.#source !== undefined;
  }
  /** The unread source, for forwarding it without buffering. */
  get source(): BodySource | undefined {
    return this.#source;
  }

  /** Reads the body from its source (once); resolves at once when already there. */
  materialize(): Promise<void> | undefined {
    const src = this.#source;
    if (!src) return undefined;
    return src.bytes().then((buf) => {
      if (this.#source === src) {
        this.#source = undefined;
        this.#body = new Data(buf);
      }
    });
  }

  /** A shallow clone as fork and replay feed their branches: same head object, same bytes. */
  clone(): Message {
    const m = new Message(this.#head, this.#body, this.#tail);
    m.#payload = this.#payload;
    m.#source = this.#source;
    return m;
  }
}

/** The event `handleMessageStart` callbacks receive: `.head` and `.type`, no body, no own keys. */
export class MessageStart {
  #head: unknown;
  constructor(head?: unknown) {
    this.#head = head === undefined ? null : head;
  }
  get head(): any {
    return this.#head;
  }
  get type(): string {
    return 'MessageStart';
  }
}

export const STREAM_END_ERRORS = new Set([
  'Replay', 'RuntimeError', 'ReadError', 'WriteError', 'CannotResolve', 'ConnectionAborted', 'ConnectionReset',
  'ConnectionRefused', 'ConnectionTimeout', 'ReadTimeout', 'WriteTimeout', 'IdleTimeout', 'BufferOverflow',
  'ProtocolError', 'Unauthorized',
]);

export class StreamEnd {
  #error: unknown;
  /** the value carried by a RuntimeError built from something other than a known name */
  #value: unknown;
  constructor(error?: unknown) {
    if (error === undefined || (typeof error === 'string' && STREAM_END_ERRORS.has(error))) this.#error = error;
    else {
      this.#error = 'RuntimeError';
      this.#value = error;
    }
  }
  get type(): string {
    return 'StreamEnd';
  }
  get error(): unknown {
    return this.#value !== undefined ? this.#value : this.#error;
  }
  /** the error name (RuntimeError when built from an arbitrary value) */
  get errorName(): string | undefined {
    return this.#error as string | undefined;
  }
}

/** What one pipeline step produces. */
export type Output = Message | StreamEnd | null;

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}
