/** PipyJS `Data`: a byte buffer scripts see as `msg.body` (`size`, `toString()`); empty rather than null. */
export class Data {
  #chunks: Buffer[];
  #size: number;

  constructor(input?: string | Buffer | Uint8Array | Data | readonly number[] | null, encoding: BufferEncoding = 'utf8') {
    this.#chunks = [];
    this.#size = 0;
    if (input !== undefined && input !== null) this.push(input, encoding);
  }

  static from(input: string | Buffer | Uint8Array | Data, encoding: BufferEncoding = 'utf8'): Data {
    return new Data(input, encoding);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends bytes; returns this so calls chain as in PipyJS. */
  push(input: string | Buffer | Uint8Array | Data | readonly number[], encoding: BufferEncoding = 'utf8'): this {
    let buf: Buffer;
    if (input instanceof Data) {
      for (const c of input.#chunks) this.#add(c);
      return this;
    }
    if (typeof input === 'string') buf = Buffer.from(input, encoding);
    else if (Buffer.isBuffer(input)) buf = input;
    else if (input instanceof Uint8Array) buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    else buf = Buffer.from(input as number[]);
    this.#add(buf);
    return this;
  }

  /** Removes and returns the first `count` bytes as a new Data. */
  shift(count: number): Data {
    const all = this.toBuffer();
    const n = Math.max(0, Math.min(count, all.length));
    this.#chunks = n < all.length ? [all.subarray(n)] : [];
    this.#size = all.length - n;
    return new Data(all.subarray(0, n));
  }

  toString(encoding: BufferEncoding = 'utf8'): string {
    return this.toBuffer().toString(encoding);
  }

  toArray(): number[] {
    return [...this.toBuffer()];
  }

  /** The bytes as one Buffer (no copy when there is a single chunk). */
  toBuffer(): Buffer {
    if (this.#chunks.length === 1) return this.#chunks[0]!;
    if (this.#chunks.length === 0) return EMPTY;
    const joined = Buffer.concat(this.#chunks, this.#size);
    this.#chunks = [joined];
    return joined;
  }

  #add(buf: Buffer): void {
    if (buf.length === 0) return;
    this.#chunks.push(buf);
    this.#size += buf.length;
  }
}

const EMPTY = Buffer.alloc(0);
