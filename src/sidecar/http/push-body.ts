/**
 * A body fed chunk by chunk by a connection (request bodies on the server side, response bodies
 * from upstreams). It streams to one sink with backpressure — the producer's socket is paused while
 * the sink is full, and while nobody consumes yet beyond a small buffer — or buffers whole when a
 * module asks for `bytes()`.
 *
 *   producer (socket) ──push()──► PushBody ──sink.write()──► consumer (socket)
 *        ▲  pause()/resume()          │                             │
 *        └──────────── flow control ──┴──────────── drained() ◄─────┘
 */
import type { Body, BodySink, HeaderMap } from './types.js';

export interface FlowControl {
  pause(): void;
  resume(): void;
}

/** Bytes held before a consumer attaches; the producer pauses above this. */
const HIGH_WATER = 64 * 1024;

export class PushBody implements Body {
  readonly empty = false;
  private queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failure: Error | undefined;
  private sink: BodySink | undefined;
  private whole: Promise<Buffer> | undefined;
  private settleWhole: ((b: Buffer) => void) | undefined;
  private failWhole: ((e: Error) => void) | undefined;
  private paused = false;
  private discarding = false;
  /** trailer fields the producer received (HTTP/2), handed to the sink before it ends */
  private trailerFields: HeaderMap | undefined;
  private settleDone: ((t: HeaderMap | undefined) => void) | undefined;
  private done: Promise<HeaderMap | undefined> | undefined;

  constructor(
    readonly length: number | undefined,
    private readonly flow: FlowControl,
    private readonly maxBuffer = 16 * 1024 * 1024,
  ) {}

  // ---- producer side ---------------------------------------------------------------------

  push(chunk: Buffer): void {
    if (this.discarding || this.failure) return;
    if (this.sink && !this.whole) {
      if (!this.sink.write(chunk)) this.pause();
      return;
    }
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.whole) {
      if (this.queued > this.maxBuffer) this.fail(new Error(`body larger than ${this.maxBuffer} bytes cannot be buffered`));
    } else if (this.queued > HIGH_WATER) this.pause();
  }

  /** Trailer fields that arrived after the data; call before end(). */
  setTrailers(fields: HeaderMap): void {
    this.trailerFields = fields;
  }

  end(): void {
    if (this.ended || this.failure) return;
    this.ended = true;
    if (this.whole) this.settleWhole!(this.concat());
    else if (this.sink) {
      if (this.trailerFields) this.sink.trailers?.(this.trailerFields);
      this.sink.end();
    }
    this.settleDone?.(this.trailerFields);
  }

  /** The trailer fields once the producer delivered everything (undefined: none, or it failed). */
  get trailers(): HeaderMap | undefined {
    return this.trailerFields;
  }

  /**
   * Resolves once the body ended (with its trailers) or failed (undefined). Made on demand: the
   * access log waits on it only for gRPC, whose status travels in the trailers.
   */
  finished(): Promise<HeaderMap | undefined> {
    if (!this.done) {
      if (this.ended) this.done = Promise.resolve(this.trailerFields);
      else if (this.failure) this.done = Promise.resolve(undefined);
      else this.done = new Promise((resolve) => (this.settleDone = resolve));
    }
    return this.done;
  }

  fail(err: Error): void {
    if (this.ended || this.failure) return;
    this.settleDone?.(undefined);
    this.failure = err;
    this.failWhole?.(err);
    this.sink?.error(err);
    this.queue = [];
  }

  /** True once the producer delivered everything. */
  get complete(): boolean {
    return this.ended;
  }

  /** Drops whatever else arrives (the response went out without reading this body). */
  discard(): void {
    this.discarding = true;
    this.queue = [];
    this.queued = 0;
    this.resume();
  }

  // ---- consumer side ---------------------------------------------------------------------

  bytes(): Promise<Buffer> {
    if (this.sink) return Promise.reject(new Error('body was already forwarded as a stream'));
    if (this.failure) return Promise.reject(this.failure);
    if (!this.whole) {
      this.whole = new Promise<Buffer>((resolve, reject) => {
        this.settleWhole = resolve;
        this.failWhole = reject;
      });
      this.whole.catch(() => undefined);
      if (this.ended) this.settleWhole!(this.concat());
      else this.resume();
    }
    return this.whole;
  }

  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  /**
   * The whole body, consumed at once, when it has already arrived (no consumer yet, no trailers) and
   * is at most `max` bytes; else undefined and nothing changes. Lets a writer send a small message
   * with its head in one write instead of streaming it.
   */
  takeArrived(max: number): readonly Buffer[] | undefined {
    if (!this.ended || this.sink || this.whole || this.failure || this.discarding || this.trailerFields || this.queued > max) return undefined;
    const chunks = this.queue;
    this.queue = [];
    this.queued = 0;
    this.sink = CONSUMED;
    return chunks;
  }

  /** The whole body when a module buffered it, else undefined. */
  buffered(): Promise<Buffer> | undefined {
    return this.whole;
  }

  pipeTo(sink: BodySink): () => void {
    if (this.whole) {
      void this.whole.then(
        (b) => {
          if (b.length > 0) sink.write(b);
          sink.end();
        },
        (e: Error) => sink.error(e),
      );
      return noop;
    }
    if (this.sink) throw new Error('body already has a consumer');
    this.sink = sink;
    if (this.failure) {
      sink.error(this.failure);
      return noop;
    }
    const queued = this.queue;
    this.queue = [];
    this.queued = 0;
    let full = false;
    for (const c of queued) full = !sink.write(c) || full;
    if (this.ended) {
      if (this.trailerFields) sink.trailers?.(this.trailerFields);
      sink.end();
    }
    else if (full) this.pause();
    else this.resume();
    return this.drained;
  }

  /** Returned by pipeTo: the sink calls it when it can take more. */
  private readonly drained = (): void => {
    this.resume();
  };

  private concat(): Buffer {
    const b = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue, this.queued);
    this.queue = [];
    this.queued = 0;
    return b;
  }

  private pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.flow.pause();
    }
  }

  private resume(): void {
    if (this.paused) {
      this.paused = false;
      this.flow.resume();
    }
  }
}

function noop(): void {}

/** The consumer of a body taken whole by takeArrived: it received everything already. */
const CONSUMED: BodySink = { write: () => true, end: noop, error: noop };
