/** Body implementations with no producer: empty and fully buffered. */
import type { Body, BodySink } from './types.js';

function noop(): void {}

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
  pipeTo(sink: BodySink): () => void {
    sink.end();
    return noop;
  }
  buffered(): Promise<Buffer> {
    return Promise.resolve(Buffer.alloc(0));
  }
}

export const EMPTY_BODY: Body = new EmptyBody();

export class BufferBody implements Body {
  readonly empty: boolean;
  private readonly promise: Promise<Buffer>;
  constructor(readonly buf: Buffer) {
    this.empty = buf.length === 0;
    this.promise = Promise.resolve(buf);
  }
  get length(): number {
    return this.buf.length;
  }
  bytes(): Promise<Buffer> {
    return this.promise;
  }
  text(): Promise<string> {
    return Promise.resolve(this.buf.toString('utf8'));
  }
  async json(): Promise<unknown> {
    return JSON.parse(this.buf.toString('utf8'));
  }
  pipeTo(sink: BodySink): () => void {
    if (this.buf.length > 0) sink.write(this.buf);
    sink.end();
    return noop;
  }
  buffered(): Promise<Buffer> {
    return this.promise;
  }
}
