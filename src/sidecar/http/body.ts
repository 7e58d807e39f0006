/** Body implementations: empty, buffered, and streamed from a Node Readable (read on demand). */
import type { Readable } from 'node:stream';
import type { Body } from './types.js';

class EmptyBody implements Body {
  readonly length = 0;
  readonly empty = true;
  bytes(): Promise<Buffer> {
    return Promise.resolve(Buffer.alloc(0));
  }
  text(): Promise<string> {
    return Promise.resolve('');
  }
  json(): Promise<unknown> {
    return Promise.reject(new SyntaxError('empty body is not JSON'));
  }
  take(): null {
    return null;
  }
}

export const EMPTY_BODY: Body = new EmptyBody();

export class BufferBody implements Body {
  readonly empty: boolean;
  constructor(private readonly buf: Buffer) {
    this.empty = buf.length === 0;
  }
  get length(): number {
    return this.buf.length;
  }
  bytes(): Promise<Buffer> {
    return Promise.resolve(this.buf);
  }
  text(): Promise<string> {
    return Promise.resolve(this.buf.toString('utf8'));
  }
  async json(): Promise<unknown> {
    return JSON.parse(this.buf.toString('utf8'));
  }
  take(): Buffer {
    return this.buf;
  }
}

/** A body that streams from `source` unless someone buffers it first. */
export class StreamBody implements Body {
  readonly empty = false;
  private buffered: Promise<Buffer> | undefined;
  private taken = false;
  constructor(
    private readonly source: Readable,
    readonly length: number | undefined,
    /** refuse to buffer more than this many bytes (protects the sidecar's memory) */
    private readonly maxBuffer = 16 * 1024 * 1024,
  ) {}

  bytes(): Promise<Buffer> {
    if (this.taken) return Promise.reject(new Error('body was already forwarded as a stream'));
    this.buffered ??= new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      this.source.on('data', (c: Buffer) => {
        size += c.length;
        if (size > this.maxBuffer) {
          this.source.destroy(new Error(`body larger than ${this.maxBuffer} bytes cannot be buffered`));
          return;
        }
        chunks.push(c);
      });
      this.source.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
      this.source.once('error', reject);
      this.source.once('aborted', () => reject(new Error('body aborted')));
    });
    return this.buffered;
  }
  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
  take(): Readable | Buffer | null {
    if (this.buffered) throw new Error('take() after bytes(): use the buffered body');
    this.taken = true;
    return this.source;
  }
  /** true when a module buffered the body; forwarders then await bytes() */
  get isBuffered(): boolean {
    return this.buffered !== undefined;
  }
}

/** Resolves a body to what a forwarder writes: a stream, a buffer, or nothing. */
export async function bodyForForwarding(body: Body): Promise<Readable | Buffer | null> {
  if (body instanceof StreamBody && body.isBuffered) return body.bytes();
  return body.take();
}
